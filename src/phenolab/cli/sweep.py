"""`phenolab sweep`: a grid over any config fields, times seeds, through the one door.

Fields that members of one ensemble may vary in (seed, lr, wd, frac, …) are batched into
ensembles; every combination of the others (width, model, p, op, …) is its own ensemble group.
Every run is stored: a sweep run again trains only what is missing."""

from __future__ import annotations

import argparse
import sys

from phenolab.cli import shared
from phenolab.cli.run import backend_of, config_values, train_and_summarize
from phenolab.cli.shared import EXIT_INTERRUPTED
from phenolab.config import field_specs
from phenolab.errors import ConfigError
from phenolab.store import Store
from phenolab.sweep.refine import MAX_ROUNDS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="a grid over any config fields, times seeds, trained as ensembles and stored",
        description="Train every combination of the --grid values (any config field: "
        "--grid width=32,64,128 --grid wd=0.1:1:0.3, a comma list or an inclusive "
        "start:stop:step range) times --seeds, as few ensembles as the fields allow, and "
        "print each run and each group of seeds (phases, median t_gen). Runs already in the "
        "store are found, not trained again: an interrupted sweep resumes.",
        usage=shared.command_usage("sweep", "[PRESET] --grid FIELD=VALUES [--grid ...] "),
    )
    p.set_defaults(handler=cmd_sweep)
    shared.add_preset(p, "grokking")
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="FIELD=VALUES",
        help="a config field and its values: a comma list (0.1,0.3,1) or start:stop:step "
        "(0.1:0.6:0.05, inclusive); repeatable, the sweep is their product",
    )
    p.add_argument(
        "--diagram",
        metavar="X,Y",
        help="draw the sweep's phase diagram over two of its grid fields (majority phase, "
        "median t_gen, t_gen / t_fit, final test accuracy per cell)",
    )
    p.add_argument(
        "--refine",
        type=shared.positive_int,
        metavar="ROUNDS",
        help="with --diagram: after the grid, add points near its phase boundaries (halfway "
        "between neighbouring cells of different majority phase, along either axis), for "
        f"ROUNDS rounds (at most {MAX_ROUNDS}) or until no boundary is left",
    )
    p.add_argument(
        "--log",
        action="append",
        metavar="FIELD[,FIELD]",
        help="fields on a log scale: --refine bisects them geometrically (0.1 and 1 → 0.3162)",
    )
    p.add_argument(
        "--diagram-out",
        metavar="PATH",
        help="where to write the diagram: .png, .svg or .pdf (default: next to the store)",
    )
    shared.add_config_file(p)
    shared.add_store(p)
    shared.add_json(p)
    shared.add_report(p)
    shared.add_seeds(p, 1, "seeds per grid point, from --seed on (default 1)")
    shared.add_intervention(p)
    shared.add_execution(p)
    shared.add_config_fields(p)


def grid_of(items: list[str]) -> dict[str, list[str]]:
    """{field: values} from the --grid options (`--lr` and `lr` name the same field)."""
    from phenolab.sweep.grid import grid_values

    grid: dict[str, list[str]] = {}
    for item in items:
        name, eq, values = item.partition("=")
        name = _field(name)
        if not eq or not name or not values.strip():
            raise ConfigError(f"grid: expected FIELD=VALUES, got {item!r}")
        if name in grid:
            raise ConfigError(f"grid: {name} given twice")
        grid[name] = grid_values(values)
    return grid


def cmd_sweep(args: argparse.Namespace) -> int:
    from phenolab.run import RunInterrupted, resolve_device
    from phenolab.sweep.grid import sweep_configs, varying_fields

    values, lists = config_values(args, shared.preset_of(args, "grokking"))
    if lists:
        name = next(iter(lists))
        raise ConfigError(f"{name}: give a sweep's lists with --grid {name}=VALUES")
    grid = grid_of(args.grid)
    axes = diagram_axes(args.diagram, grid)
    out = args.diagram_out
    if out is not None and not out.lower().endswith((".png", ".svg", ".pdf")):
        raise ConfigError(f"diagram-out: {out!r} must end in .png, .svg or .pdf")
    log_fields(args.log)  # unknown fields: refused before training
    if args.refine is not None and axes is None:
        raise ConfigError("refine: needs --diagram X,Y (the two axes to bisect along)")
    if args.refine is not None and args.refine > MAX_ROUNDS:
        raise ConfigError(f"refine: at most {MAX_ROUNDS} rounds, got {args.refine}")
    configs = sweep_configs(values, grid, args.seeds)
    device = resolve_device(args.device)
    backend_of(args)  # --ray without Ray installed: one line before the store is made
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    store = Store(args.store)
    plans: list = []
    try:
        if args.refine:
            configs = refine(configs, values, grid, axes, store, device, args, say, plans)
        varying = varying_fields(configs, among=tuple(field_specs()))
        code = train_and_summarize(configs, store, device, args, say, varying, plans)
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if axes:
        say(f"diagram {write_diagram(configs, store, axes, args.diagram_out)}")
    return code


def refine(configs, values, grid, axes, store, device, args, say, plans) -> list:
    """The grid trained, then up to `args.refine` rounds of points halfway between neighbouring
    cells of different majority phase (sweep/refine.py), each trained before the next is
    chosen; every config of the grown sweep."""
    from phenolab.cli.run import train
    from phenolab.report.figures import majority_phase
    from phenolab.sweep.grid import sweep_configs
    from phenolab.sweep.refine import boundary_points

    log = log_fields(args.log)
    train(configs, store, device, args, say, plans)
    for r in range(1, args.refine + 1):
        cells = cell_events(configs, store, axes)
        points = boundary_points(
            {k: majority_phase([e.phase for e in events]) for k, events in cells.items()},
            (axes[0] in log, axes[1] in log),
        )
        if not points:
            say(f"refine round {r}: no neighbouring cells of different phases left to bisect")
            break
        new = []
        for x, y in points:
            new += sweep_configs(values, {**grid, axes[0]: [str(x)], axes[1]: [str(y)]}, args.seeds)
        say(
            f"refine round {r} of {args.refine}: {len(points)} point(s) near phase boundaries, "
            f"{len(new)} runs"
        )
        train(new, store, device, args, say, plans)
        configs = configs + new
    return configs


def diagram_axes(text: str | None, grid: dict[str, list[str]]) -> tuple[str, str] | None:
    """The two grid fields of `--diagram X,Y`, checked to be grid fields of this sweep."""
    if text is None:
        return None
    names = [_field(n) for n in text.split(",")]
    if len(names) != 2 or names[0] == names[1]:
        raise ConfigError(f"diagram: expected two grid fields X,Y, got {text!r}")
    for name in names:
        if name not in grid:
            raise ConfigError(f"diagram: {name} is not a --grid field (grid: {', '.join(grid)})")
    return names[0], names[1]


def write_diagram(configs, store: Store, axes: tuple[str, str], path: str | None) -> str:
    """The phase diagram of the stored runs of `configs` over the fields `axes`; its path.
    Other grid fields than the two axes are pooled into each cell, as extra seeds."""
    import hashlib
    import os

    from phenolab.cli.shared import default_report_path
    from phenolab.report.figures import phase_diagram, plt

    cells = cell_events(configs, store, axes)
    xs = sorted({x for x, _ in cells}, key=_order)
    ys = sorted({y for _, y in cells}, key=_order)
    if path is None:
        key = hashlib.sha256(" ".join(sorted(c.run_id() for c in configs)).encode()).hexdigest()
        name = f"diagram-{axes[0]}-{axes[1]}-{key[:12]}"
        path = os.path.splitext(default_report_path(store.path, name))[0] + ".png"
    fig = phase_diagram(cells, xs, ys, axes[0], axes[1])
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def log_fields(items: list[str] | None) -> set[str]:
    """The fields `--log` names (repeatable, or comma lists), checked to be config fields."""
    from phenolab.config import field_specs

    names = {_field(n) for item in items or () for n in item.split(",") if n.strip()}
    for name in names:
        if name not in field_specs():
            raise ConfigError(f"log: unknown config field {name!r}")
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
