"""`phenolab imp`: iterative magnitude pruning with rewinding and its controls, round by round,
a table row per round as it finishes (catalog/imp.py)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from phenolab.cli import shared
from phenolab.cli.run import config_values, options_of
from phenolab.cli.shared import EXIT_INTERRUPTED, opt
from phenolab.config import from_flat
from phenolab.config.start import ticket_fields_without_parent
from phenolab.errors import ConfigError, UserError
from phenolab.store import Store


def add_parser(sub) -> None:
    p = sub.add_parser(
        "imp",
        help="iterative magnitude pruning (lottery tickets) with rewinding and controls",
        description="Train the dense network, then `--rounds` times: prune `--rate` of the "
        "remaining weights by final magnitude, rewind the rest (to the initialisation, or to "
        "the dense run's weights after step K) and retrain; each round also trains the "
        "controls (reinit: the mask with a fresh initialisation; random: a random mask with as "
        "many weights per layer). --rewind init|K (a config field) picks the rewind point. "
        "Every run is stored: an interrupted IMP resumes.",
        usage=shared.command_usage("imp", "[PRESET] "),
    )
    p.set_defaults(handler=cmd_imp)
    shared.add_preset(p, "lenet")
    shared.add_config_file(p)
    p.add_argument("--rounds", type=int, default=5, metavar="N", help="pruning rounds (5)")
    p.add_argument(
        "--rate",
        type=float,
        default=0.2,
        help="fraction of the remaining weights pruned per round (0.2)",
    )
    p.add_argument(
        "--scope",
        dest="field_prune_scope",
        metavar="global|layer",
        help="rank |w| over all weight matrices (global, the default) or in each (layer); the "
        "same as --prune-scope",
    )
    shared.add_seeds(p, 1, "default 1")
    p.add_argument(
        "--controls",
        default="reinit,random",
        metavar="LIST",
        help="controls per round: reinit, random, both comma-separated, or none",
    )
    p.add_argument("--figure", metavar="PATH", help="save the accuracy-vs-sparsity figure (PNG)")
    shared.add_store(p)
    shared.add_json(p)
    shared.add_execution(p, max_members=False)
    shared.add_config_fields(p)


def controls_of(text: str) -> tuple[str, ...]:
    """'reinit,random' → ("reinit", "random"); 'none' or '' → ()."""
    from phenolab.catalog.imp import CONTROLS

    names = tuple(c.strip() for c in text.split(",") if c.strip())
    if names in ((), ("none",)):
        return ()
    unknown = [c for c in names if c not in CONTROLS]
    if unknown:
        raise ConfigError(f"controls: unknown {unknown} (valid: {', '.join(CONTROLS)}, or none)")
    return names


def cmd_imp(args: argparse.Namespace) -> int:
    from phenolab.catalog.imp import as_outcome, imp
    from phenolab.catalog.imp_readouts import matching_remaining
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.run import RunInterrupted, resolve_device

    values, grid = config_values(args, shared.preset_of(args, "lenet"))
    if grid:
        raise ConfigError(f"{next(iter(grid))}: imp takes one value per field (use --seeds N)")
    controls = controls_of(args.controls)
    given = from_flat(values).start  # validates --prune-scope / --scope and --rewind
    scope, rewind = given.prune_scope, given.rewind
    base = from_flat(values | {"prune_scope": "global", "rewind": "init"})
    per_round = ticket_fields_without_parent(base.start)
    if base.start.ticket_from is not None or per_round:
        name = per_round[0] if per_round else "ticket_from"
        raise ConfigError(f"{name}: imp sets the ticket fields of each round (use --rate)")
    device = resolve_device(args.device)
    first = base.train.seed
    seeds = range(first, first + args.seeds)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(
        f"IMP: {base.task.op}, {base.model.model} {base.model.widths or base.model.width}, "
        f"{base.train.steps:,} steps per round; {args.rounds} rounds pruning {args.rate:.0%} of "
        f"the remaining weights ({scope}), rewinding to {rewind}; "
        f"{len(seeds)} seed(s); controls: {', '.join(controls) or 'none'}; store {args.store}"
    )
    arms = ("ticket", *controls)
    widths = [5, 9, 9] + [8] * len(arms) + [11]
    header = ["round", "sparsity", "remaining", *arms, "ticket step"]
    if not args.json:
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))

    def row(r) -> None:
        if args.json:
            return
        pruned = statistics.median(r.sparsity)
        cells = [str(r.round), f"{pruned:.1%}", f"{1 - pruned:.2%}"]
        for arm in arms:
            accs = [a for _, a in r.early_stop(arm)] if arm in r.runs else []
            cells.append(f"{statistics.median(accs):.4f}" if accs else "—")
        cells.append(opt(statistics.median(s for s, _ in r.early_stop("ticket"))))
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)), flush=True)

    t0 = time.perf_counter()
    try:
        rounds = imp(
            base,
            Store(args.store),
            args.rounds,
            args.rate,
            scope,
            rewind,
            seeds,
            controls,
            device,
            options_of(args),
            args.workers,
            on_round=row,
            # the rounds' table is the output: progress lines only, not the plan of each round
            on_progress=ProgressPrinter(say=lambda line: None),
        )
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    seconds = time.perf_counter() - t0
    outcome = as_outcome(rounds)
    matching = {kind: matching_remaining(outcome, kind) for kind in arms}
    figure = _write_figure(outcome, arms, args.figure) if args.figure else None
    if args.json:
        print(
            json.dumps(
                {
                    "config": base.canonical(),
                    "rounds": [r.as_dict() for r in rounds],
                    "rate": args.rate,
                    "scope": scope,
                    "rewind": rewind,
                    "seeds": list(seeds),
                    "matching_remaining": {
                        k: {"value": m.value, "upper": m.upper, "note": m.note}
                        for k, m in matching.items()
                    },
                    "seconds": round(seconds, 2),
                    "figure": figure,
                }
            )
        )
        return 0
    print(
        f"accuracy: median over {len(seeds)} seed(s) of the test accuracy at the early-stopping "
        "step (minimum test loss); ticket step: its median"
    )
    for kind, m in matching.items():
        down_to = f"{m.value:.2%}" if m.value is not None else f"≤ {m.upper:.2%}"
        print(f"{kind:<7} matches dense down to {down_to} of the weights: {m.note}")
    print(f"time    {seconds:.1f} s wall")
    if figure:
        print(f"figure  {figure}")
    return 0


def _write_figure(outcome, kinds, path: str) -> str:
    from phenolab.catalog.imp_readouts import imp_figures

    (_, fig), *_ = imp_figures(outcome, kinds)
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise UserError(f"figure: cannot write {path!r} ({exc.strerror})") from None
    return path
