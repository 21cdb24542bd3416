"""The `phenolab` command.

    phenolab run [PRESET] [--FIELD VALUE ...]   train (or fetch / resume) one run and report it
    phenolab runs                               list stored runs
    phenolab report RUN_ID                      write a run's HTML report

Mistakes in the input get one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from collections.abc import Sequence

from phenolab.config import field_specs, from_flat, from_json
from phenolab.errors import ConfigError, UserError
from phenolab.presets import PRESETS, preset
from phenolab.store import DEFAULT_PATH, RunRecord, Store

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("unrecognized arguments"):
            bad = message.split(":", 1)[1].split()
            option = next((a for a in bad if a.startswith("--")), bad[0])
            known = [_flag(name)[0] for name in field_specs()]
            close = difflib.get_close_matches(option.split("=")[0], known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            message = (
                f"unknown option or config field: {' '.join(bad)} "
                f"({hint}see `phenolab run --help` for the config fields)"
            )
        self.exit(EXIT_USAGE, f"phenolab: error: {message}\n")


def _flag(name: str) -> list[str]:
    dashed = "--" + name.replace("_", "-")
    return [dashed, "--" + name] if "_" in name else [dashed]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="phenolab", description="Reproduce, measure and explain grokking.", allow_abbrev=False
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run", help="train one run (or fetch/resume it) and write its report", allow_abbrev=False
    )
    presets = "; ".join(f"{k}: {v[0]}" for k, v in PRESETS.items()).replace("%", "%%")
    run.add_argument("preset_name", nargs="?", metavar="PRESET", help=f"preset ({presets})")
    run.add_argument(
        "--preset",
        dest="preset_flag",
        metavar="PRESET",
        help="same as the positional PRESET (default: grokking)",
    )
    run.add_argument("--config", metavar="FILE", help="JSON config file (nested or flat fields)")
    _store_flag(run)
    run.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    run.add_argument("--report", metavar="PATH", help="where to write the HTML report")
    run.add_argument("--no-report", action="store_true", help="do not write a report")
    run.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=30.0,
        help="checkpoint at most this often (s of wall time; default 30)",
    )
    fields = run.add_argument_group("config fields (override the preset)")
    defaults = preset("grokking").flat()
    for name, (_, f) in field_specs().items():
        default = (
            ",".join(map(str, defaults[name]))
            if isinstance(defaults[name], tuple)
            else defaults[name]
        )
        fields.add_argument(
            *_flag(name),
            dest=f"field_{name}",
            metavar="VALUE",
            help=f"{f.metadata['help']} (grokking preset: {default})",
        )

    runs = sub.add_parser("runs", help="list stored runs", allow_abbrev=False)
    _store_flag(runs)
    runs.add_argument("--json", action="store_true", help="print a JSON list")

    report = sub.add_parser("report", help="write a run's HTML report", allow_abbrev=False)
    report.add_argument("run_id", help="run id (a unique prefix is enough)")
    _store_flag(report)
    report.add_argument("--out", metavar="PATH", help="output file (default: next to the store)")
    return parser


def _store_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store", default=DEFAULT_PATH, help=f"SQLite run store (default: ./{DEFAULT_PATH})"
    )


def default_report_path(store_path: str, run_id: str) -> str:
    return os.path.join(
        os.path.dirname(os.path.abspath(store_path)), "phenolab_reports", f"{run_id}.html"
    )


def _config_from_args(args: argparse.Namespace):
    if args.preset_name and args.preset_flag and args.preset_name != args.preset_flag:
        raise ConfigError(f"two presets given: {args.preset_name!r} and {args.preset_flag!r}")
    cfg = preset(args.preset_name or args.preset_flag or "grokking")
    values = cfg.flat()
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as f:
                values.update(from_json(json.load(f)).canonical())
        except OSError as exc:
            raise ConfigError(f"config: cannot read {args.config!r} ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config: {args.config!r} is not valid JSON ({exc})") from None
    for key, value in vars(args).items():
        if key.startswith("field_") and value is not None:
            values[key.removeprefix("field_")] = value
    return from_flat(values)


def cmd_run(args: argparse.Namespace) -> int:
    from phenolab.progress import ProgressBar
    from phenolab.runner import RunInterrupted, resolve_device, run

    cfg = _config_from_args(args)
    device = resolve_device(args.device) if args.device else None
    store = Store(args.store)
    run_id = cfg.run_id()
    t, m = cfg.task, cfg.model
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(
        f"run {run_id}: {t.op} mod {t.p}, {t.frac:.0%} train, {m.model}, "
        f"{cfg.train.optimizer} lr {cfg.train.lr:g} wd {cfg.train.wd:g}, "
        f"{cfg.train.steps:,} steps, seed {cfg.train.seed}"
    )
    progress = [ProgressBar(cfg.train.steps)] if sys.stderr.isatty() else []
    try:
        result = run(
            cfg,
            store,
            device=device,
            callbacks=progress,
            checkpoint_seconds=args.checkpoint_seconds,
        )
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.cached:
        say(f"found finished run {run_id} in {args.store}: not training again")
    elif result.resumed_from is not None:
        say(f"resumed from step {result.resumed_from:,}")
    report = None if args.no_report else _write_report(store, result.record, args.report)
    ev, summary = result.events, result.record.summary or {}
    out = {
        "run_id": run_id,
        "t_fit": ev.t_fit,
        "t_gen": ev.t_gen,
        "delay": ev.delay,
        "phase": ev.phase,
        "seconds": round(result.record.seconds, 3),
        "time_to_gen": summary.get("time_to_gen"),
        "final_train_acc": ev.final_train_acc,
        "final_test_acc": ev.final_test_acc,
        "report": report,
        "cached": result.cached,
        "train_started_unix": result.started_unix,
        "device": result.record.env.get("device"),
        "config": cfg.canonical(),
    }
    if args.json:
        print(json.dumps(out))
        return 0
    gen = f"{ev.t_gen:,}" if ev.t_gen is not None else "never (test acc < 0.99 at the end)"
    ttg = out["time_to_gen"]
    print(f"t_fit   {ev.t_fit:,}" if ev.t_fit is not None else "t_fit   never")
    print(f"t_gen   {gen}" + (f"  ({ttg:.1f} s of training)" if ttg is not None else ""))
    extra = f"  (delay {ev.delay:,} steps, t_gen/t_fit = {ev.ratio:.1f})" if ev.ratio else ""
    print(f"phase   {ev.phase}{extra}")
    print(f"time    {result.record.seconds:.1f} s training on {out['device']}")
    if report:
        print(f"report  {report}")
    return 0


def _write_report(store: Store, record: RunRecord, path: str | None) -> str:
    from phenolab.report.html import write_run_report
    from phenolab.runner import events_of

    metrics = store.metrics(record.id)
    path = path or default_report_path(store.path, record.id)
    try:
        return write_run_report(record, metrics, events_of(record, metrics), path)
    except OSError as exc:
        raise UserError(f"report: cannot write {path!r} ({exc.strerror})") from None


def cmd_runs(args: argparse.Namespace) -> int:
    records = list(Store(args.store).runs())
    if args.json:
        print(json.dumps([_run_row(r) for r in records]))
        return 0
    if not records:
        print(f"no runs in {args.store}")
        return 0
    header = (
        f"{'run id':<12}  {'status':<11}  {'task':<20} {'model':<11} {'steps':>7}  "
        f"{'t_fit':>6} {'t_gen':>7}  {'phase':<13} {'seconds':>8}  created"
    )
    print(header)
    for r in records:
        row = _run_row(r)
        print(
            f"{row['run_id']:<12}  {row['status']:<11}  {row['task']:<20} {row['model']:<11} "
            f"{row['steps']:>7,}  {_opt(row['t_fit']):>6} {_opt(row['t_gen']):>7}  "
            f"{row['phase'] or '—':<13} {row['seconds']:>8.1f}  {row['created']}"
        )
    return 0


def _opt(v) -> str:
    return "—" if v is None else f"{v:,}"


def _run_row(r: RunRecord) -> dict:
    task, s = r.config["task"], r.summary or {}
    return {
        "run_id": r.id,
        "status": r.status,
        "task": f"{task['op']} mod {task['p']} {task['frac']:.0%}",
        "model": r.config["model"]["model"],
        "steps": r.config["train"]["steps"],
        "t_fit": s.get("t_fit"),
        "t_gen": s.get("t_gen"),
        "phase": s.get("phase"),
        "seconds": r.seconds,
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
    }


def cmd_report(args: argparse.Namespace) -> int:
    store = Store(args.store)
    record = store.find_run(args.run_id)
    if not store.metrics(record.id):
        raise UserError(f"run {record.id} has no recorded metrics yet")
    print(_write_report(store, record, args.out))
    return 0


COMMANDS = {"run": cmd_run, "runs": cmd_runs, "report": cmd_report}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"phenolab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "\nphenolab: interrupted; the last checkpoint is intact: run the same command "
            "to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
