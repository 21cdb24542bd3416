"""`phenolab detect`: t_fit, t_gen, delay and phase of runs in logs phenolab did not write (CSV,
JSON lines, TensorBoard, MLflow), the double-descent peak across sizes, and the HTML report."""

from __future__ import annotations

import argparse
import hashlib
import json
import os

from phenolab.cli import shared
from phenolab.cli.shared import opt, write_report
from phenolab.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "detect",
        help="events and phases of runs in your own logs (CSV, JSON lines, TensorBoard, MLflow)",
        description="Read training logs phenolab did not write — a CSV or JSON lines file (one "
        "row per logged step), a TensorBoard folder (one run per folder of event files) or an "
        "MLflow store (a mlruns folder, an mlflow.db or a tracking URI) — and print each run's "
        "t_fit, t_gen, delay and phase; with --by, the double-descent peak across sizes.",
    )
    p.set_defaults(handler=cmd_detect)
    p.add_argument("paths", nargs="+", metavar="LOG", help="a log file, folder or MLflow store")
    p.add_argument(
        "--format",
        choices=("csv", "jsonl", "tensorboard", "mlflow"),
        help="what LOG is (default: told by its name and contents)",
    )
    columns = p.add_argument_group(
        "columns (CSV / JSON columns, TensorBoard tags, MLflow metric keys; default: the usual "
        "names, e.g. step / epoch, train_acc, val_accuracy, Accuracy/test, val_loss)"
    )
    for flag, what in (
        ("--step", "the step column (CSV / JSON lines only)"),
        ("--train-acc", "train accuracy"),
        ("--test-acc", "test (validation) accuracy"),
        ("--train-loss", "train loss"),
        ("--test-loss", "test (validation) loss"),
    ):
        columns.add_argument(flag, metavar="NAME", help=what)
    columns.add_argument(
        "--run-column",
        metavar="NAME",
        help="a column naming the run of each row, for several runs in one file (default: run, "
        "run_id or run_name when present)",
    )
    p.add_argument(
        "--run",
        action="append",
        metavar="NAME",
        help="only this run (a name, or an id prefix for MLflow; repeatable)",
    )
    p.add_argument(
        "--chance",
        type=float,
        metavar="ACC",
        help="test accuracy of guessing, e.g. 0.0103 for 97 classes (default: the first "
        "logged test accuracy)",
    )
    p.add_argument(
        "--by",
        metavar="PARAM",
        help="a size the runs differ in (a column, HParams or MLflow param, or key=value in a "
        "TensorBoard folder name): the double-descent peak of final test error against it",
    )
    shared.add_json(p)
    shared.add_report(p)


def cmd_detect(args: argparse.Namespace) -> int:
    from phenolab.io.detect import across, detect
    from phenolab.io.logs import read_logs

    if args.chance is not None and not 0 <= args.chance < 1:
        raise UserError(f"--chance: an accuracy in [0, 1), got {args.chance}")
    given = {
        "step": args.step,
        "train/acc": args.train_acc,
        "test/acc": args.test_acc,
        "train/loss": args.train_loss,
        "test/loss": args.test_loss,
    }
    logs = [
        log for path in args.paths for log in read_logs(path, given, args.format, args.run_column)
    ]
    if args.run:
        logs = [log for log in logs if any(_matches(log, r) for r in args.run)]
        if not logs:
            raise UserError(f"--run: no run named {', '.join(args.run)} in {', '.join(args.paths)}")
    detected = [detect(log, args.chance) for log in logs]
    curve = across(detected, args.by) if args.by else None
    if curve is not None:  # runs in order of size
        detected.sort(key=lambda d: float(d.log.params[args.by]))
    report = None if args.no_report else _write_report(detected, curve, args)
    if args.json:
        print(
            json.dumps(
                {
                    "runs": [d.as_dict() for d in detected],
                    "by": None if curve is None else curve.as_dict(),
                    "report": report,
                }
            )
        )
        return 0
    width = max(12, *(len(d.log.name) for d in detected))
    print(
        f"{'run':<{width}}  {'source':<11} {'t_fit':>7} {'t_gen':>8} {'delay':>8}  "
        f"{'phase':<13} chance"
    )
    for d in detected:
        ev = d.events
        print(
            f"{d.log.name:<{width}}  {d.log.source:<11} {opt(ev.t_fit):>7} {opt(ev.t_gen):>8} "
            f"{opt(ev.delay):>8}  {ev.phase:<13} {d.chance:.4g} ({d.chance_from})"
        )
        for note in d.log.notes:
            print(f"{'':<{width}}  note: {note}")
    if curve is not None:
        sizes = "  ".join(f"{x:g}: {e:.3f}" for x, e in zip(curve.sizes, curve.errors, strict=True))
        print(f"\ntest error by {curve.by} (median over runs)  {sizes}")
        peak = "fewer than 2 sizes: no peak" if curve.peak is None else curve.peak.describe()
        print(f"double descent  {peak}")
    if report:
        print(f"report  {report}")
    return 0


def _matches(log, name: str) -> bool:
    return log.name == name or log.params.get("mlflow_run_id", "").startswith(name)


def _write_report(detected, curve, args) -> str:
    from phenolab.analysis.ensemble import summarize_group
    from phenolab.io.detect import record_of
    from phenolab.report.html import ensemble_report, run_report, size_section

    sources = " ".join(os.path.abspath(p) for p in args.paths)
    key = hashlib.sha256(sources.encode()).hexdigest()[:12]
    path = args.report or os.path.join("phenolab_reports", f"detect-{key}.html")
    members = [(record_of(d), d.log.curves, d.events) for d in detected]
    if len(members) == 1 and curve is None:
        return write_report(run_report(*members[0]), path)
    label = (lambda d: f"{args.by}={d.log.params[args.by]}") if curve else (lambda d: d.log.name)
    groups: dict[str, list] = {}
    for d in detected:
        groups.setdefault(label(d), []).append(d)
    summaries = [
        summarize_group(
            {args.by: group[0].log.params[args.by]} if curve else {"run": name},
            [d.events.t_gen for d in group],
            [d.events.phase for d in group],
        )
        for name, group in groups.items()
    ]
    rows = [(r, m, ev, label(d)) for (r, m, ev), d in zip(members, detected, strict=True)]
    extra = size_section(curve) if curve else ""
    kinds = ", ".join(dict.fromkeys(d.log.source for d in detected))
    title = f"{len(detected)} runs from {', '.join(args.paths)} ({kinds})"
    if curve is not None:
        title += f" by {args.by}"
    text = ensemble_report(
        rows,
        summaries,
        [args.by] if curve else [],
        None,
        f"runs read from {sources}",
        extra=extra,
        title=title,
    )
    return write_report(text, path)
