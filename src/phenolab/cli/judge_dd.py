"""`phenolab judge --phenomenon double-descent`: candidate explanations of double descent on
the width-sweep trial (judge/doubledescent.py) — tracking the test error across model sizes and
telling where it peaks on held-out conditions — with the prime counts and other nulls beside
them."""

from __future__ import annotations

import argparse
import json
import math
import sys

from phenolab.cli import shared
from phenolab.cli.shared import EXIT_INTERRUPTED
from phenolab.errors import ConfigError
from phenolab.store import Store


def dd_candidates(args: argparse.Namespace) -> list:
    from phenolab.judge.candidates import load_user_measure
    from phenolab.judge.ddcourt import user_candidate
    from phenolab.judge.doubledescent import BUILT_IN

    candidates = list(BUILT_IN)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        known = {c.id for c in BUILT_IN}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ConfigError(
                f"only: unknown candidate {unknown[0]!r} (built in for double descent: "
                f"{', '.join(sorted(known))})"
            )
        candidates = [c for c in BUILT_IN if c.id in wanted or c.null]
    taken = {c.id for c in candidates}
    for spec in args.measure:
        user = user_candidate(load_user_measure(spec))
        if user.id in taken:
            raise ConfigError(
                f"measure: {user.id!r} is already a candidate's id; rename the function"
            )
        taken.add(user.id)
        candidates.append(user)
    return candidates


def cmd_judge_dd(args: argparse.Namespace) -> int:
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.cli.run import options_of
    from phenolab.judge.ddcourt import judge_double_descent
    from phenolab.judge.ddreport import dd_report
    from phenolab.judge.doubledescent import FULL, QUICK
    from phenolab.run import RunInterrupted, resolve_device

    trial = QUICK if args.quick else FULL
    candidates = dd_candidates(args)
    device = resolve_device(args.device)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    store = Store(args.store)
    try:
        card = judge_double_descent(
            trial,
            candidates,
            store,
            device,
            workers=args.workers,
            options=options_of(args),
            on_progress=ProgressPrinter(say),
            say=say,
        )
    except RunInterrupted as exc:
        print(f"\nphenolab: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    report = None
    if not args.no_report:
        path = args.report or shared.default_report_path(args.store, f"judge-{trial.name}")
        report = shared.write_report(dd_report(card), path)
    if args.json:
        out = card.json()
        out["report"] = report
        print(json.dumps(out, indent=2, default=_json_default))
        return 0
    print_dd_scorecard(card, say)
    if report:
        say(f"report {report}")
    return 0


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def print_dd_scorecard(card, say) -> None:
    from phenolab.judge.ddreport import HEADER, scorecard_rows

    say(f"\ntrial {card.trial.name}, hash {card.trial.hash()} — {card.trial.description}")
    rows = [HEADER] + scorecard_rows(card)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        say("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    say("\npredictions (written before the first trial run):")
    for j in card.judged:
        say(
            f"  {j.verdict:<12} {j.prediction.id} [{', '.join(j.prediction.candidates)}]: "
            f"{j.evidence}"
        )
    say(
        f"\nintervals: percentile bootstrap over conditions, {card.trial.rules.level:.0%}; "
        f"time: {', '.join(f'{k} {v:.0f} s' for k, v in card.seconds.items())}"
    )
