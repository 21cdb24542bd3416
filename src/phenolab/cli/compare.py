"""`phenolab compare`: a baseline and intervention arms over seeds, summarised side by side."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from phenolab.cli.run import config_values, options_of
from phenolab.cli.shared import EXIT_INTERRUPTED, default_report_path, write_report
from phenolab.config import from_flat
from phenolab.errors import ConfigError
from phenolab.store import Store
from phenolab.tasks import describe


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
    for name in ("max_members", "workers", "resamples"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise ConfigError(f"{name.replace('_', '-')}: must be at least 1")
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
