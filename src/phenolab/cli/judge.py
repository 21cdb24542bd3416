"""`phenolab judge`: candidate explanations of grokking on trial — tracking, telling when on
held-out conditions, forecasting, invariance and their own predictions — with the prime count
and other nulls scored beside them."""

from __future__ import annotations

import argparse
import json
import math
import sys

from phenolab.cli import shared
from phenolab.cli.run import options_of
from phenolab.cli.shared import EXIT_INTERRUPTED
from phenolab.errors import ConfigError
from phenolab.store import Store


def add_parser(sub) -> None:
    p = sub.add_parser(
        "judge",
        help="score explanations of grokking (or double descent) on a fixed trial, prime "
        "counts as nulls",
        description="Run a fixed, hashed trial (conditions × seeds, split into development and "
        "held-out) and score every candidate explanation — a label-free measure with a "
        "direction — on tracking, telling t_gen on held-out conditions, forecasting it from "
        "before the transition, invariance under function-preserving transformations and its "
        "own prediction under an intervention. Trial runs are ordinary stored runs that keep "
        "their weights: judging a new --measure re-uses them without training.",
        usage=shared.command_usage(
            "judge", "[--quick] [--phenomenon grokking|double-descent] [--measure FILE.py:FN ...] "
        ),
    )
    p.set_defaults(handler=cmd_judge)
    p.add_argument(
        "--quick",
        action="store_true",
        help="the CPU trial (3 seeds, 3,000 steps; ~15 minutes on 2 cores) instead of the full "
        "one (5 seeds, 10,000 steps, the transformer among the conditions: a GPU's work)",
    )
    p.add_argument(
        "--phenomenon",
        choices=("grokking", "double-descent"),
        default="grokking",
        help="which trial: grokking (default) or double-descent (random-features width sweeps "
        "solved in closed form under other n, label noise and ridge λ; judge/doubledescent.py)",
    )
    p.add_argument(
        "--measure",
        action="append",
        default=[],
        metavar="FILE.py:FN",
        help="add your own candidate: a function (Context) -> {key: tensor [E]} like the "
        "built-in measures; set FN.direction = 'up' or 'down' (default: chosen on the "
        "development conditions, as for the nulls); repeatable",
    )
    p.add_argument(
        "--only",
        metavar="ID,ID",
        help="judge only these candidates (ids as in the scorecard; the nulls are always kept)",
    )
    shared.add_store(p)
    shared.add_json(p)
    shared.add_report(p)
    shared.add_execution(p)


def cmd_judge(args: argparse.Namespace) -> int:
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.judge.candidates import load_user_measure
    from phenolab.run import RunInterrupted, resolve_device

    if args.phenomenon == "double-descent":
        from phenolab.judge.ddcourt import judge_double_descent as court
        from phenolab.judge.ddcourt import user_candidate as wrap
        from phenolab.judge.ddreport import HEADER, scorecard_rows
        from phenolab.judge.ddreport import dd_report as report_of
        from phenolab.judge.doubledescent import BUILT_IN, FULL, QUICK
    else:
        from phenolab.judge.candidates import BUILT_IN
        from phenolab.judge.court import judge as court
        from phenolab.judge.report import HEADER, scorecard_rows
        from phenolab.judge.report import judge_report as report_of
        from phenolab.judge.trial import FULL, QUICK

        def wrap(candidate):
            return candidate

    trial = QUICK if args.quick else FULL
    candidates = list(BUILT_IN)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        known = {c.id for c in BUILT_IN}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ConfigError(
                f"only: unknown candidate {unknown[0]!r} (built in for {args.phenomenon}: "
                f"{', '.join(sorted(known))})"
            )
        candidates = [c for c in BUILT_IN if c.id in wanted or c.null]
    taken = {c.id for c in candidates}
    for spec in args.measure:
        user = wrap(load_user_measure(spec))
        if user.id in taken:
            raise ConfigError(
                f"measure: {user.id!r} is already a candidate's id; rename the function"
            )
        taken.add(user.id)
        candidates.append(user)
    device = resolve_device(args.device)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    if trial.name == "grokking-full" and device.type == "cpu":
        say(
            "note: the full trial (5 seeds, 10,000 steps, a transformer among the conditions) "
            "is a GPU's work — hours on a CPU; `phenolab judge --quick` is the CPU trial"
        )
    store = Store(args.store)
    try:
        card = court(
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
        report = shared.write_report(report_of(card), path)
    if args.json:
        out = card.json()
        out["report"] = report
        print(json.dumps(out, indent=2, default=_json_default))
        return 0
    header, rows = HEADER, scorecard_rows(card)
    if args.phenomenon == "grokking":  # the terminal gets the tests and the summary
        header, rows = header[:6] + ["summary"], [r[:6] + [r[-1]] for r in rows]
    print_scorecard(card, header, rows, say)
    if report:
        say(f"report {report}")
    return 0


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def print_scorecard(card, header: list[str], rows: list[list[str]], say) -> None:
    say(f"\ntrial {card.trial.name}, hash {card.trial.hash()} — {card.trial.description}")
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        say("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    say("\npredictions (written before the first trial run):")
    for j in card.judged:
        say(
            f"  {j.verdict:<12} {j.prediction.id} [{', '.join(j.prediction.candidates)}]: "
            f"{j.evidence}"
        )
    forecasts = [getattr(s, "forecast", {}).get("before_transition") for s in card.scores]
    share = next((x for x in forecasts if x is not None), None)
    if share is not None:
        say(
            f"\nforecasts saw each held-out run up to 2 × t_fit: before the transition (test "
            f"accuracy below half-way) in {share:.0%} of them"
        )
    say(
        f"\nintervals: percentile bootstrap over conditions, {card.trial.rules.level:.0%}; "
        f"time: {', '.join(f'{k} {v:.0f} s' for k, v in card.seconds.items())}"
    )
