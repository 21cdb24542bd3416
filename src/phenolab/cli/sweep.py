"""`phenolab sweep`: a grid over any config fields, times seeds, through the one door.

Fields that members of one ensemble may vary in (seed, lr, wd, frac, …) are batched into
ensembles; every combination of the others (width, model, p, op, …) is its own ensemble group.
Every run is stored: a sweep run again trains only what is missing."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from phenolab.cli import shared
from phenolab.cli.run import backend_of, config_values, train_and_summarize
from phenolab.cli.shared import EXIT_INTERRUPTED, opt
from phenolab.config import field_specs
from phenolab.errors import ConfigError
from phenolab.store import Store
from phenolab.sweep.refine import MAX_ROUNDS
from phenolab.sweep.spec import SAMPLERS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="a grid over any config fields, times seeds, trained as ensembles and stored",
        description="Train every combination of the --grid values (any config field: "
        "--grid width=32,64,128 --grid wd=0.1:1:0.3, a comma list or an inclusive "
        "start:stop:step range), or of a sample of a --box, times --seeds, as few ensembles "
        "as the fields allow, and print each run and each group of seeds (phases, median "
        "t_gen). Runs already in the store are found, not trained again: an interrupted "
        "sweep resumes.",
        usage=shared.command_usage(
            "sweep",
            "[PRESET] [--file SWEEP.toml] [--grid FIELD=VALUES ...] [--sample N --box "
            "FIELD=LO:HI ...] ",
        ),
    )
    p.set_defaults(handler=cmd_sweep)
    shared.add_preset(p, "grokking")
    add_sweep_spec(p)
    p.add_argument(
        "--refine",
        type=shared.positive_int,
        metavar="ROUNDS",
        help="with --diagram: after the grid, add points near its phase boundaries (halfway "
        "between neighbouring cells of different majority phase, along either axis), for "
        f"ROUNDS rounds (at most {MAX_ROUNDS}) or until no boundary is left",
    )
    shared.add_config_file(p)
    shared.add_store(p)
    shared.add_json(p)
    shared.add_report(p)
    shared.add_seeds(p, None, "seeds per grid point, from --seed on (default 1)")
    shared.add_intervention(p)
    shared.add_execution(p)
    shared.add_config_fields(p)
    add_diagram_parser(sub)


def add_diagram_parser(sub) -> None:
    p = sub.add_parser(
        "diagram",
        help="the phase diagram of a sweep's stored runs (a sweep file or grid options)",
        description="Draw the phase diagram of the finished runs of a sweep, given as for "
        "`phenolab sweep` (--file SWEEP.toml, or --grid / --sample options): nothing is "
        "trained. Runs a --refine added near phase boundaries are found too. Writes the "
        "figure (--diagram-out) and an HTML report with its cells.",
        usage=shared.command_usage(
            "diagram", "[PRESET] [--file SWEEP.toml] [--grid FIELD=VALUES ...] [--diagram X,Y] "
        ),
    )
    p.set_defaults(handler=cmd_diagram)
    shared.add_preset(p, "grokking")
    add_sweep_spec(p)
    shared.add_config_file(p)
    shared.add_store(p)
    shared.add_json(p)
    shared.add_report(p)
    shared.add_seeds(p, None, "seeds per grid point, from --seed on (default 1)")
    shared.add_intervention(p)
    shared.add_config_fields(p)


def add_sweep_spec(p) -> None:
    """The options that say which runs a sweep is and how its diagram is drawn (shared by
    `phenolab sweep` and `phenolab diagram`)."""
    p.add_argument(
        "--file",
        metavar="SWEEP.toml",
        help="a sweep file (TOML: preset, seeds, [fields], [grid], [sample], [diagram]; see "
        "the README); options given here win over it",
    )
    p.add_argument(
        "--grid",
        action="append",
        metavar="FIELD=VALUES",
        help="a config field and its values: a comma list (0.1,0.3,1) or start:stop:step "
        "(0.1:0.6:0.05, inclusive); repeatable, the sweep is their product",
    )
    p.add_argument(
        "--sample",
        type=shared.positive_int,
        metavar="N",
        help="N points of the --box fields (times the grid's product)",
    )
    p.add_argument(
        "--box",
        action="append",
        metavar="FIELD=LO:HI",
        help="a field the sample varies, between LO and HI (integers when both are); repeatable",
    )
    p.add_argument(
        "--sampler",
        choices=SAMPLERS,
        help="lhs: a Latin hypercube, one point in each of N strata of every field (default); "
        "random: uniform",
    )
    p.add_argument(
        "--sample-seed",
        type=int,
        metavar="S",
        help="seed of the sample's points (default 0: the same sweep samples the same points)",
    )
    p.add_argument(
        "--log",
        nargs="?",
        action="append",
        const="*",
        metavar="FIELD[,FIELD]",
        help="fields on a log scale (alone: every --box field and both diagram axes): sampled "
        "uniformly in their logarithm, bisected geometrically by --refine (0.1, 1 → 0.3162)",
    )
    p.add_argument(
        "--diagram",
        metavar="X,Y",
        help="draw the sweep's phase diagram over two of its grid or box fields (majority "
        "phase, median t_gen, t_gen / t_fit, final test accuracy per cell)",
    )
    p.add_argument(
        "--diagram-out",
        metavar="PATH",
        help="where to write the diagram: .png, .svg or .pdf (default: next to the store)",
    )


def grid_of(items: list[str]) -> dict[str, list[str]]:
    """{field: values} from the --grid options (`--lr` and `lr` name the same field)."""
    from phenolab.sweep.grid import grid_values

    grid: dict[str, list[str]] = {}
    for item in items:
        name, values = _pair(item, "grid", "FIELD=VALUES")
        if name in grid:
            raise ConfigError(f"grid: {name} given twice")
        grid[name] = grid_values(values)
    return grid


def _pair(item: str, option: str, form: str) -> tuple[str, str]:
    name, eq, values = item.partition("=")
    name = _field(name)
    if not eq or not name or not values.strip():
        raise ConfigError(f"{option}: expected {form}, got {item!r}")
    return name, values.strip()


@dataclass
class Sweep:
    """Which runs a sweep is (from its file and options) and how its diagram is drawn."""

    values: dict  # flat config values every run shares (preset, file, --FIELD options)
    grid: dict[str, list[str]]
    seeds: int
    points: list[dict]  # the sample's points ({field: value}); [{}] without a sample
    axes: tuple[str, str] | None
    out: str | None
    refine: int | None
    log: set[str]

    def configs(self, grid: dict[str, list[str]] | None = None) -> list:
        """Every config: each sample point with the product of the grid (default: this sweep's
        own), times the seeds."""
        from phenolab.sweep.grid import sweep_configs

        out = []
        for point in self.points:
            base = self.values | {k: str(v) for k, v in point.items()}
            out += sweep_configs(base, self.grid | (grid or {}), self.seeds)
        return list(dict.fromkeys(out))


def sweep_of(args: argparse.Namespace) -> Sweep:
    """The sweep that `args` (and the --file they name) ask for, checked before training."""
    from phenolab.sweep.spec import SweepFile, parse_box, read_sweep_file, sample_box

    spec = read_sweep_file(args.file) if args.file else SweepFile()
    preset = shared.preset_of(args, spec.preset or "grokking")
    fixed = {_field(k): v for k, v in spec.fields.items()}
    values, lists = config_values(args, preset, fixed)
    if lists:
        name = next(iter(lists))
        raise ConfigError(f"{name}: give a sweep's lists with --grid {name}=VALUES")
    grid = {_field(k): v for k, v in spec.grid.items()} | grid_of(args.grid or [])
    box_text = {_field(k): v for k, v in spec.box.items()}
    box_text |= dict(_pair(b, "box", "FIELD=LO:HI") for b in args.box or [])
    for name in box_text:
        if name in grid:
            raise ConfigError(f"box: {name} is a --grid field too")
    n = args.sample or spec.sample
    if bool(n) != bool(box_text):
        raise ConfigError("sample: give --sample N and --box FIELD=LO:HI together")
    if not grid and not box_text:
        raise ConfigError(
            "sweep: nothing to sweep; give --grid FIELD=VALUES, --sample with --box, or a --file"
        )
    axes = diagram_axes(args.diagram, [*grid, *box_text]) if args.diagram else spec.axes
    if axes is not None and args.diagram is None:
        axes = diagram_axes(",".join(axes), [*grid, *box_text])
    out = args.diagram_out or spec.out
    if out is not None and not out.lower().endswith((".png", ".svg", ".pdf")):
        raise ConfigError(f"diagram-out: {out!r} must end in .png, .svg or .pdf")
    log = log_fields([*(args.log or []), *spec.log], [*box_text, *(axes or ())])
    refine_rounds = getattr(args, "refine", None) or spec.refine
    if refine_rounds is not None and axes is None:
        raise ConfigError("refine: needs --diagram X,Y (the two axes to bisect along)")
    if refine_rounds is not None and not 1 <= refine_rounds <= MAX_ROUNDS:
        raise ConfigError(f"refine: 1 to {MAX_ROUNDS} rounds, got {refine_rounds}")
    points = [{}]
    if n:
        _check_fields(box_text, "box")
        box = parse_box(box_text, log)
        sampler = args.sampler or spec.sampler or "lhs"
        seed = args.sample_seed if args.sample_seed is not None else (spec.sample_seed or 0)
        points = sample_box(box, n, sampler, seed, log)
    seeds = args.seeds or spec.seeds or 1
    return Sweep(values, grid, seeds, points, axes, out, refine_rounds, log)


def _check_fields(names, option: str) -> None:
    specs = field_specs()
    for name in names:
        if name not in specs:
            raise ConfigError(
                f"{option}: unknown config field {name!r} (see `phenolab run --help`)"
            )


def cmd_sweep(args: argparse.Namespace) -> int:
    from phenolab.run import RunInterrupted, resolve_device
    from phenolab.sweep.grid import varying_fields

    sweep = sweep_of(args)
    configs = sweep.configs()
    device = resolve_device(args.device)
    backend_of(args)  # --ray without Ray, or at a wrong address: one line, no store made
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    store = Store(args.store)
    plans: list = []
    try:
        if sweep.refine:
            configs = refine(configs, sweep, store, device, args, say, plans)
        varying = varying_fields(configs, among=tuple(field_specs()))
        diagram = None
        if sweep.axes:
            axes = sweep.axes

            def diagram():
                return diagram_figure(cell_events(configs, store, axes), axes)

        code = train_and_summarize(configs, store, device, args, say, varying, plans, diagram)
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if sweep.axes:
        say(f"diagram {write_diagram(configs, store, sweep.axes, sweep.out)}")
    return code


def cmd_diagram(args: argparse.Namespace) -> int:
    import json
    import os
    import statistics

    from phenolab.report.figures import majority_phase, plt

    sweep = sweep_of(args)
    swept = [*sweep.grid, *sweep.points[0]]
    axes = sweep.axes
    if axes is None:
        if len(swept) != 2:
            raise ConfigError(
                f"diagram: name the axes with --diagram X,Y (swept: {', '.join(swept)})"
            )
        axes = (swept[0], swept[1])
    if not os.path.exists(args.store):
        raise ConfigError(f"diagram: no store {args.store!r}")
    configs = sweep.configs()
    store = Store(args.store)
    found = stored_configs(configs, store, axes)
    if not found:
        raise ConfigError(
            f"diagram: none of the sweep's {len(configs)} runs is finished in {args.store}; "
            "train them with `phenolab sweep` and the same options"
        )
    missing = len({c.run_id() for c in configs} - {c.run_id() for c in found})
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(
        f"{len(found)} finished runs of the sweep in {args.store}"
        + (f" ({missing} of its {len(configs)} runs are not: not drawn)" if missing else "")
    )
    cells = cell_events(found, store, axes)
    path = write_diagram(found, store, axes, sweep.out)
    rows = []
    for (x, y), events in sorted(
        cells.items(), key=lambda kv: (_order(kv[0][0]), _order(kv[0][1]))
    ):
        phases = [e.phase for e in events]
        t_gens = [float("inf") if e.t_gen is None else e.t_gen for e in events]
        median = statistics.median(t_gens)
        rows.append(
            [
                x,
                y,
                len(events),
                majority_phase(phases),
                ", ".join(f"{p}×{phases.count(p)}" for p in dict.fromkeys(phases)),
                None if median == float("inf") else median,
            ]
        )
    header = [axes[0], axes[1], "runs", "majority phase", "phases", "median t_gen"]
    report = None
    if not args.no_report:
        from phenolab.cli.shared import write_report
        from phenolab.report.html import diagram_report

        fig = diagram_figure(cells, axes)
        title = f"phase diagram: {axes[0]} × {axes[1]}, {len(found)} runs"
        report = write_report(
            diagram_report(fig, title, header, rows),
            args.report or default_diagram_path(found, store, axes, ".html"),
        )
        plt.close(fig)
    if args.json:
        cells_json = [dict(zip(header, row, strict=True)) for row in rows]
        out = {"diagram": path, "report": report, "runs": len(found), "missing": missing}
        print(json.dumps(out | {"axes": list(axes), "cells": cells_json}))
        return 0
    print(f"{axes[0]:>10} {axes[1]:>10} {'runs':>5}  {'majority phase':<14} {'t_gen':>8}  phases")
    for x, y, n, majority, phases, median in rows:
        print(f"{x!s:>10} {y!s:>10} {n:>5}  {majority:<14} {opt(median):>8}  {phases}")
    print(f"diagram {path}")
    if report:
        print(f"report  {report}")
    return 0


def stored_configs(configs, store: Store, axes: tuple[str, str]) -> list:
    """The finished runs in `store` of the sweep `configs`: its own, and the points a --refine
    added (runs equal to one of `configs` in every field but the two axes, and on each axis
    between the sweep's smallest and largest value)."""
    import json

    from phenolab.config import from_json

    def key(cfg) -> str:
        flat = {k: v for k, v in cfg.flat().items() if k not in axes}
        return json.dumps(flat, sort_keys=True, default=str)

    keys = {key(c) for c in configs}
    values = [{c.flat()[a] for c in configs} for a in axes]

    def inside(value, among: set) -> bool:  # a sweep value, or between two numeric ones
        numbers = [v for v in among if isinstance(v, int | float)]
        if value in among:
            return True
        return (
            isinstance(value, int | float) and bool(numbers) and min(numbers) < value < max(numbers)
        )

    found = []
    for record in store.runs():
        if record.status != "finished":
            continue
        try:
            cfg = from_json(record.config)
        except ConfigError:  # a run of an older config format
            continue
        flat = cfg.flat()
        if key(cfg) in keys and all(inside(flat[a], v) for a, v in zip(axes, values, strict=True)):
            found.append(cfg)
    return found


def refine(configs, sweep: Sweep, store, device, args, say, plans) -> list:
    """The sweep trained, then up to `sweep.refine` rounds of points halfway between
    neighbouring cells of different majority phase (sweep/refine.py), each trained before the
    next is chosen; every config of the grown sweep."""
    from phenolab.cli.run import train
    from phenolab.report.figures import majority_phase
    from phenolab.sweep.refine import boundary_points

    x, y = sweep.axes
    train(configs, store, device, args, say, plans)
    for r in range(1, sweep.refine + 1):
        cells = cell_events(configs, store, sweep.axes)
        points = boundary_points(
            {k: majority_phase([e.phase for e in events]) for k, events in cells.items()},
            (x in sweep.log, y in sweep.log),
        )
        if not points:
            say(f"refine round {r}: no neighbouring cells of different phases left to bisect")
            break
        new = []
        for px, py in points:
            new += sweep.configs({x: [str(px)], y: [str(py)]})
        new = [c for c in dict.fromkeys(new) if c not in set(configs)]
        say(
            f"refine round {r} of {sweep.refine}: {len(points)} point(s) near phase "
            f"boundaries, {len(new)} runs"
        )
        train(new, store, device, args, say, plans)
        configs = configs + new
    return configs


def diagram_axes(text: str, fields: list[str]) -> tuple[str, str]:
    """The two fields of `--diagram X,Y`, checked to be among the sweep's `fields`."""
    names = [_field(n) for n in text.split(",")]
    if len(names) != 2 or names[0] == names[1]:
        raise ConfigError(f"diagram: expected two grid fields X,Y, got {text!r}")
    for name in names:
        if name not in fields:
            raise ConfigError(
                f"diagram: {name} is not a --grid field (grid: {', '.join(fields) or 'none'})"
            )
    return names[0], names[1]


def diagram_figure(cells: dict, axes: tuple[str, str]):
    """The phase diagram figure of `cells` ({(x, y): [Events]}) over the fields `axes`."""
    from phenolab.report.figures import phase_diagram

    xs = sorted({x for x, _ in cells}, key=_order)
    ys = sorted({y for _, y in cells}, key=_order)
    return phase_diagram(cells, xs, ys, axes[0], axes[1])


def write_diagram(configs, store: Store, axes: tuple[str, str], path: str | None) -> str:
    """The phase diagram of the stored runs of `configs` over the fields `axes`; its path.
    Other swept fields than the two axes are pooled into each cell, as extra seeds."""
    import os

    from phenolab.report.figures import plt

    path = path or default_diagram_path(configs, store, axes)
    fig = diagram_figure(cell_events(configs, store, axes), axes)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def default_diagram_path(configs, store: Store, axes: tuple[str, str], ext: str = ".png") -> str:
    """Next to the store, named by the axes and a hash of the runs' ids."""
    import hashlib
    import os

    from phenolab.cli.shared import default_report_path

    key = hashlib.sha256(" ".join(sorted(c.run_id() for c in configs)).encode()).hexdigest()
    name = f"diagram-{axes[0]}-{axes[1]}-{key[:12]}"
    return os.path.splitext(default_report_path(store.path, name))[0] + ext


def log_fields(items: list[str], every: list[str]) -> set[str]:
    """The fields `--log` names (repeatable, comma lists; `*`, a bare --log: `every`), checked
    to be config fields."""
    names = set()
    for item in items:
        names |= set(every) if item == "*" else {_field(n) for n in item.split(",") if n.strip()}
    _check_fields(names, "log")
    return names


def cell_events(configs, store: Store, axes: tuple[str, str]) -> dict[tuple, list]:
    """{(x, y): the stored Events of each finished run of `configs` at that point}: the cells
    of a phase diagram over the fields `axes` (other fields pooled into each cell)."""
    import dataclasses

    from phenolab.analysis.events import PHASES, Events

    names = [f.name for f in dataclasses.fields(Events)]
    cells: dict[tuple, list[Events]] = {}
    for cfg in configs:
        flat, summary = cfg.flat(), store.get_run(cfg.run_id()).summary
        cells.setdefault((flat[axes[0]], flat[axes[1]]), []).append(
            Events(**{n: summary.get(n) for n in names})
        )
    if any(e.phase not in PHASES for events in cells.values() for e in events):
        raise ConfigError("diagram: these runs have no accuracy, hence no phases (a regression)")
    return cells


def _field(text: str) -> str:
    """A config field as a user may spell it: `lr`, `--lr`, `d-embed` or `d_embed`."""
    return text.strip().lstrip("-").replace("-", "_")


def _order(value):
    return (0, value) if isinstance(value, int | float) else (1, str(value))
