"""`phenolab run`: one run, or an ensemble of seeds and hyperparameter grids."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
import typing

from phenolab.cli import shared
from phenolab.cli.shared import EXIT_INTERRUPTED, default_report_path, opt, write_report
from phenolab.config import RunConfig, field_specs, from_flat, from_json, used_fields
from phenolab.config.presets import preset
from phenolab.errors import ConfigError, UserError
from phenolab.store import RunRecord, Store
from phenolab.sweep.grid import expand
from phenolab.tasks import describe


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="train one run (or fetch/resume it) and write its report",
        description="Train one run, or an ensemble: a comma list in a member field (--wd "
        "0.1,1) or --seeds N makes a grid of members, trained as ensembles. A run already in "
        "the store is found, not trained again; an interrupted one resumes.",
        usage=shared.command_usage("run", "[PRESET] "),
    )
    p.set_defaults(handler=cmd_run)
    shared.add_preset(p, "grokking")
    shared.add_config_file(p)
    shared.add_store(p)
    shared.add_json(p)
    shared.add_report(p)
    shared.add_seeds(p, None, "default: one run; a comma list in --seed also makes a grid")
    shared.add_intervention(p)
    shared.add_execution(p)
    shared.add_config_fields(p)


def _configs_from_args(args: argparse.Namespace) -> list[RunConfig]:
    """The member configs asked for: preset, then config file, then options; a comma list in a
    member field, or --seeds N, makes a grid."""
    name = shared.preset_of(args, "grokking")
    values, grid = config_values(args, name)
    _announce_large(grid, args.seeds)
    configs = expand(values, grid, args.seeds)
    note = small_table_note(name, configs)
    if note:
        print(f"phenolab: note: {note}", file=sys.stderr, flush=True)
    return configs


# The grokking preset was tuned on x+y mod 97 at 30 %: 2,823 training pairs. In the README's
# grid ("The grokking preset beyond p = 97"), with its 3,000 steps, Power et al.'s easy
# operations generalized in every run at p = 97 and 113, in 2 of 8 at p = 59 (1,044 pairs) and
# in none at p = 47 (663 pairs); at frac 0.45 every run at p = 47 and 59 did (t_gen 525–900).
FEW_PAIRS = 2000  # below this many training pairs at frac < SMALL_TABLE_FRAC, say so
SMALL_TABLE_FRAC = 0.45


def _train_pairs(config: RunConfig) -> int:
    return round(config.task.frac * config.task.p**2)


def small_table_note(preset_name: str, configs: list[RunConfig]) -> str | None:
    """A line for runs of the grokking preset's MLP (full batch) on a table much smaller than
    the one it was tuned on, at a fraction below the one measured to suffice there; None when
    no run is."""
    from phenolab.tasks.arithmetic import OPERATIONS

    if preset_name != "grokking":
        return None
    small = sorted(
        (c.task.p, c.task.frac, _train_pairs(c))
        for c in configs
        if c.task.op in OPERATIONS
        and c.train.batch_size == 0
        and c.task.frac < SMALL_TABLE_FRAC
        and _train_pairs(c) < FEW_PAIRS
    )
    if not small:
        return None
    p, frac, pairs = small[0]
    tuned = preset("grokking")
    return (
        f"the grokking preset was tuned on p = {tuned.task.p} at frac {tuned.task.frac:g} "
        f"({_train_pairs(tuned):,} training pairs); p = {p} at frac {frac:g} trains on "
        f"{pairs:,}, and at p = 47 and 59 it mostly memorized within 3,000 steps, while --frac "
        f"{SMALL_TABLE_FRAC:g} grokked in every run (the README's preset grid)"
    )


LARGE_REQUEST = 1000  # members from which preparing them takes noticeable time before training


def _announce_large(grid: dict[str, list[str]], seeds: int | None) -> None:
    """Say at once what a large grid asks for: 100,000 members spend seconds to minutes on
    configs, ids and shards before the first step, and a silent wait looks like a hang."""
    sizes = [f"{len(v):,} values of {name}" for name, v in grid.items()]
    sizes += [f"{seeds:,} seeds"] if seeds else []
    members = math.prod(len(v) for v in grid.values()) * (seeds or 1)
    if members >= LARGE_REQUEST:
        print(
            f"phenolab: {members:,} members ({' × '.join(sizes)}): preparing their configs, ids "
            "and shards before the first step",
            file=sys.stderr,
            flush=True,
        )


def config_values(
    args: argparse.Namespace, preset_name: str, fixed: dict[str, typing.Any] | None = None
) -> tuple[dict[str, typing.Any], dict[str, list[str]]]:
    """(flat config values, grid): the preset, then --config FILE, then `fixed` (a sweep file's
    fields), then --FIELD options (a comma list in a field that is not a tuple goes to the
    grid) and --intervention."""
    values = preset(preset_name).flat()
    if args.config:
        values.update(from_json(_config_file(args.config)).canonical())
    if fixed:
        unknown = sorted(set(fixed) - set(values))
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown config field (see `phenolab run --help`)")
        values.update(fixed)
    grid: dict[str, list[str]] = {}
    specs = field_specs()
    for key, value in vars(args).items():
        if key.startswith("field_") and value is not None:
            name = key.removeprefix("field_")
            takes_tuple = typing.get_origin(specs[name][1].type) is tuple
            if "," in value and not takes_tuple:  # a grid; expand() rejects non-member fields
                grid[name] = [v.strip() for v in value.split(",")]
            else:
                values[name] = value
    if getattr(args, "intervention", None):  # --intervention adds to the preset's / config's
        values["interventions"] = (*from_flat(values).train.interventions, *args.intervention)
    return values, grid


def _config_file(path: str) -> dict[str, typing.Any]:
    """The JSON object in `path`: {field: value} or {section: {field: value}}."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path!r} ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: {path!r} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(
            type(data), "a number"
        )
        raise ConfigError(
            f"config: {path!r} holds {kind}; expected a JSON object of config fields, e.g. "
            '{"p": 97, "wd": 1} or {"task": {"p": 97}, "train": {"wd": 1}}'
        )
    return data


def cmd_run(args: argparse.Namespace) -> int:
    from phenolab.run import RunInterrupted, resolve_device

    configs = _configs_from_args(args)
    device = resolve_device(args.device)
    store = Store(args.store)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    try:
        if len(configs) == 1:
            return _run_single(configs[0], store, device, args, say)
        return train_and_summarize(configs, store, device, args, say)
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED


def train(configs: list[RunConfig], store: Store, device, args, say, plans=None) -> list:
    """The configs through the one door, with the terminal's progress and the command's
    options (`--workers`, `--max-members`, `--fast`, `--checkpoint-seconds`, `--threads`,
    `--ray`). `plans`: a list that gets the training plan (printed before training)."""
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.run import train_configs

    printer = ProgressPrinter(say)

    def on_progress(progress) -> None:
        if progress.plan is not None and plans is not None:
            plans.append(progress.plan)
        printer(progress)

    return train_configs(
        configs,
        store,
        device,
        workers=getattr(args, "workers", None),
        max_members=getattr(args, "max_members", None),
        options=options_of(args),
        on_progress=on_progress,
    )


def _run_single(cfg: RunConfig, store: Store, device, args, say) -> int:
    run_id = cfg.run_id()
    t, m = cfg.task, cfg.model
    if cfg.train.optimizer == "lstsq":
        say(
            f"run {run_id}: {describe(t.op, t.p)}, {t.n_train:,} training samples, "
            f"{m.feature_map} random features p = {m.width:,}, closed-form solve "
            f"(ridge λ = {cfg.train.wd:g}; 0: min-norm), seed {cfg.train.seed}"
        )
    else:
        say(
            f"run {run_id}: {describe(t.op, t.p)}, {t.frac:.0%} train, {m.model}, "
            f"{cfg.train.optimizer} lr {cfg.train.lr:g} wd {cfg.train.wd:g}, "
            f"{cfg.train.steps:,} steps, seed {cfg.train.seed}"
        )
    (result,) = train([cfg], store, device, args, say)
    report = None if args.no_report else write_run_report(store, result.record, args.report)
    out = _member_json(result) | {
        "report": report,
        "device": result.record.env.get("device"),
        "config": cfg.canonical(),
    }
    if args.json:
        print(json.dumps(out))
        return 0
    ev = result.events
    if "test_loss" in out and ev.t_fit is None:  # a closed-form solve (a regression task)
        summary = result.record.summary
        print(f"loss    train {out['train_loss']:.4g}  test {out['test_loss']:.4g} (squared error)")
        print(f"p_eff   {summary['peff/test']:.4g} on test inputs (Curth et al. 2023)")
        print(f"time    {result.record.seconds:.3f} s solving on {out['device']}")
        if report:
            print(f"report  {report}")
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


def options_of(args: argparse.Namespace):
    from phenolab.run import Options

    return Options(
        getattr(args, "checkpoint_seconds", 30.0),
        getattr(args, "fast", False),
        getattr(args, "threads", None),
        backend_of(args),
    )


def backend_of(args: argparse.Namespace):
    """`--ray [ADDRESS]`: the Ray backend (checked to be installed), or None."""
    ray = getattr(args, "ray", None)
    if ray is None:
        return None
    from phenolab.run import RayBackend

    return RayBackend(None if ray == shared.RAY_LOCAL else ray).checked()


def _member_json(result) -> dict:
    ev, summary = result.events, result.record.summary or {}
    losses = {  # a closed-form solve's summary holds its losses (train/closedform.py)
        f"{split}_loss": summary[f"{split}/loss"]
        for split in ("train", "val", "test")
        if f"{split}/loss" in summary
    }
    return losses | {
        "run_id": result.record.id,
        "t_fit": ev.t_fit,
        "t_gen": ev.t_gen,
        "delay": ev.delay,
        "phase": ev.phase,
        "seconds": round(result.record.seconds, 3),
        "time_to_gen": summary.get("time_to_gen"),
        "gen_unix": summary.get("gen_unix"),
        "final_train_acc": ev.final_train_acc,
        "final_test_acc": ev.final_test_acc,
        "cached": result.cached,
    }


def train_and_summarize(
    configs: list[RunConfig],
    store: Store,
    device,
    args,
    say,
    varying: list[str] | None = None,
    plans: list | None = None,
    diagram=None,
) -> int:
    """Train `configs` and print (or --json) each run and each group of seeds: the configs
    that differ only in their seed. `varying`: the fields that tell groups apart (default: the
    member fields that vary); `plans`: training plans of this command made before (--json
    gives the first); `diagram`: draws the phase diagram for the report (after training)."""
    from phenolab.analysis.ensemble import summarize_group
    from phenolab.run import shard_sizes
    from phenolab.sweep.grid import varying_fields

    varying = varying if varying is not None else varying_fields(configs)
    say(f"{len(configs)} runs varying {', '.join(varying) or 'nothing'} on {device}")
    steps = configs[0].train.steps
    t0 = time.perf_counter()
    plans = [] if plans is None else plans
    results = train(configs, store, device, args, say, plans)
    wall = time.perf_counter() - t0
    shards = shard_sizes(results)
    plan = f"{len(configs)} members in {len(shards)} shard(s) {shards}"

    def label(cfg: RunConfig) -> str:
        flat = cfg.flat()
        return ", ".join(f"{f}={flat[f]}" for f in varying if f != "seed") or "all"

    by_group: dict[str, list[tuple[RunConfig, object]]] = {}
    for cfg, result in zip(configs, results, strict=True):
        by_group.setdefault(label(cfg), []).append((cfg, result))
    groups = []
    for members in by_group.values():
        flat = members[0][0].flat()
        groups.append(
            summarize_group(
                {f: flat[f] for f in varying if f != "seed"},
                [r.events.t_gen for _, r in members],
                [r.events.phase for _, r in members],
            )
        )
    report = None
    if not args.no_report:
        report = _write_ensemble_report(
            store, configs, results, groups, varying, label, wall, plan, args.report, diagram
        )
    if args.json:
        members = []
        for cfg, result in zip(configs, results, strict=True):
            flat = cfg.flat()
            members.append(_member_json(result) | {f: flat[f] for f in varying})
        print(
            json.dumps(
                {
                    "members": members,
                    "groups": [g.as_dict() for g in groups],
                    "varying": varying,
                    "seconds": round(wall, 3),
                    "shards": shards,
                    "workers": max(
                        r.record.env.get("layout", {}).get("workers", 1) for r in results
                    ),
                    "device": str(device),
                    # shards, workers, memory estimate (None: everything was in the store)
                    "plan": plans[0].as_dict() if plans else None,
                    "report": report,
                }
            )
        )
        return 0
    header = f"{'run id':<12}  " + "".join(f"{f:>10}" for f in varying)
    print(header + f"  {'t_fit':>6} {'t_gen':>7}  phase")
    for cfg, result in zip(configs, results, strict=True):
        flat, ev = cfg.flat(), result.events
        print(
            f"{result.record.id:<12}  "
            + "".join(f"{flat[f]!s:>10}" for f in varying)
            + f"  {opt(ev.t_fit):>6} {opt(ev.t_gen):>7}  {ev.phase}"
        )
    print()
    kinds = {g.spread()[0] for g in groups}
    spread = " / ".join(sorted(kinds)) if kinds else "IQR"
    print(f"{'group':<24} {'generalized':>11} {'median t_gen':>13} {spread:>18}  phases")
    for g in groups:
        name = ", ".join(f"{k}={v}" for k, v in g.values.items()) or "all"
        phases = ", ".join(f"{p}×{n}" for p, n in g.phases.items())
        print(
            f"{name:<24} {g.generalized:>5}/{g.members:<5} {opt(g.median_t_gen):>13} "
            f"{g.spread()[1]:>18}  {phases}"
        )
    trained = [r for r in results if not r.cached]
    rate = f" ({len(trained) * steps / wall:,.0f} model-steps/s)" if trained else ""
    print(f"time    {wall:.1f} s wall for {len(configs)} runs, {len(trained)} trained{rate}")
    if report:
        print(f"report  {report}")
    return 0


def _write_ensemble_report(
    store, configs, results, groups, varying, label, wall, shards, path, diagram=None
) -> str:
    from phenolab.report.html import ensemble_report

    members = [
        (r.record, store.metrics(r.record.id), r.events, label(c))
        for c, r in zip(configs, results, strict=True)
    ]
    key = hashlib.sha256(" ".join(sorted(c.run_id() for c in configs)).encode()).hexdigest()
    path = path or default_report_path(store.path, f"ensemble-{key[:12]}")
    fig = diagram() if diagram else None  # closed once drawn into the report
    shown = used_fields(configs[0])
    return write_report(
        ensemble_report(members, groups, varying, wall, shards, fig, shown=shown), path
    )


def shown_fields(record: RunRecord) -> list[str] | None:
    """The config fields a report lists for a run (config.used_fields); None (all) for a run
    phenolab did not train, or a stored config this version cannot read."""
    if record.external is not None:
        return None
    try:
        return used_fields(from_json(record.config))
    except ConfigError:
        return None


def write_run_report(store: Store, record: RunRecord, path: str | None) -> str:
    from phenolab.analysis.events import events_of
    from phenolab.report.html import embedding_circle, run_report

    metrics = store.metrics(record.id)
    path = path or default_report_path(store.path, record.id)
    circle = embedding_circle(record, store.load_checkpoint(record.id))
    text = run_report(record, metrics, events_of(record, metrics), circle, shown_fields(record))
    return write_report(text, path)


FIGURE_FORMATS = ("svg", "pdf", "png")


def write_run_figures(store: Store, record: RunRecord, fmt: str, path: str | None) -> list[str]:
    """The figures of a run's report as files (`fmt`: svg, pdf or png), for a paper:
    <path or the report's name>-curves.<fmt>, and -measures.<fmt> when it has measures."""
    from phenolab.analysis.events import events_of
    from phenolab.report.figures import curves_figure, measures_figure, save_figure
    from phenolab.report.html import run_title

    metrics = store.metrics(record.id)
    events = events_of(record, metrics)
    base = (path or default_report_path(store.path, record.id, suffix="")).removesuffix(f".{fmt}")
    figures = [("curves", curves_figure(metrics, events.t_fit, events.t_gen, run_title(record)))]
    measures = measures_figure(metrics, events.t_fit, events.t_gen, "progress measures")
    if measures is not None:
        figures.append(("measures", measures))
    written = []
    for name, fig in figures:
        out = f"{base}-{name}.{fmt}"
        try:
            written.append(save_figure(fig, out, fmt))
        except OSError as exc:
            raise UserError(f"report: cannot write {out!r} ({exc.strerror})") from None
    return written
