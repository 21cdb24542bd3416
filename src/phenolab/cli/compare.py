"""`phenolab compare`: a baseline and intervention arms over seeds, summarised side by side."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from phenolab.cli import shared
from phenolab.cli.run import config_values, options_of
from phenolab.cli.shared import EXIT_INTERRUPTED, default_report_path, write_report
from phenolab.config import from_flat
from phenolab.errors import ConfigError
from phenolab.store import Store
from phenolab.tasks import describe


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare interventions with a baseline over seeds: medians, speed-ups with "
        "the seeds' range (< 5 seeds) or a bootstrap interval",
        description="Train the baseline and every arm over N seeds (the same splits), as few "
        "ensembles as possible, and report per arm the median of t_gen with the seeds' range "
        "(below 5 seeds) or IQR, steps to 95% test accuracy, the speed-up over the baseline "
        "with the seeds' range (below 5 seeds) or a 95% percentile-bootstrap interval, wall "
        "time and the seeds that never generalized. An arm: ID[:k=v,...] (an intervention), "
        "set:FIELD=VALUE[,...] (config changes), or parts joined by +, e.g. "
        "grokfast-ema+set:wd=0.1.",
        usage=shared.command_usage("compare", "--arm ARM [--arm ARM ...] "),
    )
    p.set_defaults(handler=cmd_compare)
    p.add_argument(
        "--baseline",
        default="grokking",
        metavar="PRESET",
        help="preset of the baseline (default grokking; the presets: `phenolab run --help`)",
    )
    p.add_argument(
        "--arm",
        action="append",
        required=True,
        metavar="ARM",
        help="ID[:k=v,...] | set:FIELD=VALUE[,...] | parts joined by + (repeatable); a run-id"
        " field set to @K takes arm K's run of the same seed (@0: the baseline)",
    )
    shared.add_seeds(p, 5, "default 5 per arm")
    p.add_argument(
        "--matched",
        action="store_true",
        help="add matched controls: an arm's config changes without its interventions, and "
        "each intervention's own (Grokfast: lr / (1 + λ))",
    )
    p.add_argument(
        "--resamples",
        type=shared.positive_int,
        default=2000,
        metavar="N",
        help="bootstrap resamples, from 5 seeds (2000)",
    )
    shared.add_config_file(p, " for the baseline")
    shared.add_intervention(p, " of the baseline, and so of every arm")
    shared.add_store(p)
    shared.add_json(p)
    shared.add_report(p)
    shared.add_execution(p)
    shared.add_config_fields(p, "the baseline")


def cmd_compare(args: argparse.Namespace) -> int:
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.compare import compare
    from phenolab.run import RunInterrupted, resolve_device

    values, grid = config_values(args, args.baseline)
    if grid:
        name = next(iter(grid))
        raise ConfigError(
            f"{name}: compare takes one value per field (vary the config with --arm set:...)"
        )
    baseline = from_flat(values)
    device = resolve_device(args.device)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    t, m, tr = baseline.task, baseline.model, baseline.train
    say(
        f"baseline {args.baseline}: {describe(t.op, t.p)}, {t.frac:.0%} train, {m.model}, "
        f"{tr.optimizer} lr {tr.lr:g} wd {tr.wd:g}, {tr.steps:,} steps"
        + (f", {', '.join(tr.interventions)}" if tr.interventions else "")
    )
    try:
        result = compare(
            baseline,
            args.arm,
            args.seeds,
            Store(args.store),
            device,
            matched=args.matched,
            baseline_name=args.baseline,
            workers=args.workers,
            max_members=args.max_members,
            options=options_of(args),
            resamples=args.resamples,
            on_progress=ProgressPrinter(say),
        )
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    report = None
    if not args.no_report:
        from phenolab.report.html import comparison_report

        ids = " ".join(r.record.id for a in result.arms for r in a.results)
        key = hashlib.sha256(ids.encode()).hexdigest()[:12]
        path = args.report or default_report_path(args.store, f"compare-{key}")
        report = write_report(comparison_report(result), path)
    if args.json:
        print(json.dumps(result.as_dict() | {"report": report}))
        return 0
    print_table(result.table())
    for line in result.notes():
        print(line)
    print(f"time    {result.seconds:.1f} s wall")
    if report:
        print(f"report  {report}")
    return 0


def print_table(cells: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
