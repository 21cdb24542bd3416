"""`phenolab catalog [show ID]` and `phenolab reproduce ID`."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time

from phenolab.catalog import all_entries, get
from phenolab.cli import shared
from phenolab.cli.shared import default_report_path, write_report
from phenolab.errors import ConfigError
from phenolab.store import Store


def add_parser(sub) -> None:
    """`catalog` and `reproduce`."""
    catalog = sub.add_parser("catalog", help="list catalog entries, or `catalog show ID`")
    catalog.set_defaults(handler=cmd_catalog)
    catalog.add_argument("action", nargs="?", help="show: one entry in full")
    catalog.add_argument("entry_id", nargs="?", metavar="ID", help="the entry to show")
    catalog.add_argument(
        "--fidelity",
        action="store_true",
        help="each published number beside the canonical variant's measured value in the store"
        " (reproduced / not reproduced / not run, with the command that runs it)",
    )
    shared.add_json(catalog)
    shared.add_store(catalog)

    reproduce = sub.add_parser("reproduce", help="run a catalog entry and judge its expectations")
    reproduce.set_defaults(handler=cmd_reproduce)
    reproduce.add_argument("entry_id", metavar="ID", help="a catalog entry (`phenolab catalog`)")
    reproduce.add_argument("--quick", action="store_true", help="the CPU-sized variant")
    shared.add_seeds(reproduce, None, "default: the entry's, `phenolab catalog show ID`")
    shared.add_json(reproduce)
    shared.add_report(reproduce)
    shared.add_store(reproduce)
    shared.add_execution(reproduce, max_members=False, checkpoint_seconds=False)


def cmd_catalog(args: argparse.Namespace) -> int:
    if args.action == "show":
        if not args.entry_id:
            raise ConfigError("catalog show: which entry? (phenolab catalog lists them)")
        return _show(get(args.entry_id), args)
    if args.action is not None:
        raise ConfigError(f"catalog: unknown action {args.action!r} (valid: show)")
    store = Store(args.store)
    if args.fidelity:
        return _fidelity(store, args)
    rows = []
    for e in all_entries():
        last = store.last_verdicts(e.id)
        rows.append(
            {
                "id": e.id,
                "phenomenon": e.phenomenon,
                "paper": e.paper,
                "title": e.title,
                "quick_seconds": e.quick_seconds,
                "last_verdict": _summary(last[2]) if last else None,
                "last_variant": last[0] if last else None,
            }
        )
    if args.json:
        print(json.dumps(rows))
        return 0
    wid = max(len("id"), *(len(r["id"]) for r in rows))
    wph = max(len("phenomenon"), *(len(r["phenomenon"]) for r in rows))
    print(f"{'id':<{wid}} {'phenomenon':<{wph}} {'--quick':>8}  {'last verdicts':<22} paper")
    for r in rows:
        paper = r["paper"].split(".")[0][:50]
        print(
            f"{r['id']:<{wid}} {r['phenomenon']:<{wph}} {r['quick_seconds']:>6.0f} s  "
            f"{r['last_verdict'] or '—':<22} {paper}"
        )
    return 0


def _fidelity(store: Store, args: argparse.Namespace) -> int:
    from phenolab.catalog.fidelity import fidelity_rows

    rows = fidelity_rows(store)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows]))
        return 0
    for r in rows:
        p = r.published
        published = f"{p.value:.2f}" if len(p.arms) > 1 else f"{p.value:,.0f}"
        print(f"{p.entry} [{', '.join(p.arms)}] {p.quantity}")
        print(f"  published {published} ({p.source})")
        if r.status == "not run":
            print("  not run; run it with:")
            for c in r.commands:
                print(f"    {c}")
            continue
        seconds = f"{r.seconds:,.0f} s" if r.seconds is not None else "? s"
        print(
            f"  measured {r.measured_text()} over {r.seeds} seed(s), {r.variant}, on {r.device},"
            f" {seconds}: {r.status.upper()}"
        )
        if r.t_gen is not None or r.t_gen_lower is not None:
            print(f"  phenolab's t_gen (test acc ≥ 0.99 to the end), same runs: {r.t_gen_text()}")
    return 0


def _summary(verdicts: list[dict]) -> str:
    counts = {}
    for v in verdicts:
        counts[v["verdict"]] = counts.get(v["verdict"], 0) + 1
    return " ".join(f"{n} {k}" for k, n in counts.items())


def _show(entry, args) -> int:
    if args.json:
        print(
            json.dumps(
                {
                    "id": entry.id,
                    "paper": entry.paper,
                    "phenomenon": entry.phenomenon,
                    "title": entry.title,
                    "description": entry.description,
                    "reproduces": entry.reproduces,
                    "quick_seconds": entry.quick_seconds,
                    "seeds": entry.seeds,
                    "quick_seeds": entry.quick_seeds,
                    "arms": [
                        {
                            "name": a.name,
                            "canonical": a.config.canonical(),
                            "quick": a.variant(True).canonical(),
                        }
                        for a in entry.arms
                    ],
                    "expectations": [
                        {
                            "id": x.id,
                            "claim": x.claim,
                            "op": x.op,
                            "threshold": x.threshold,
                            "unit": x.unit,
                        }
                        for x in entry.expectations
                    ],
                    "history": list(entry.history),
                }
            )
        )
        return 0
    wrap = lambda s: textwrap.fill(s, 96, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    print(f"{entry.id} — {entry.title} [{entry.phenomenon}]")
    print(wrap(entry.paper))
    print(wrap("Reproduces: " + entry.reproduces))
    print(wrap(entry.description))
    print(
        f"\narms ({entry.seeds} seeds canonical, {entry.quick_seeds} with --quick, "
        f"≈{entry.quick_seconds:.0f} s on a 2-core CPU):"
    )
    for a in entry.arms:
        print(f"  {a.name}: canonical {a.config.canonical()}")
        if not a.in_quick:
            print(f"  {'':{len(a.name)}}  quick     (left out)")
        elif a.quick is not None:
            print(f"  {'':{len(a.name)}}  quick     {a.quick.canonical()}")
    print("\nexpectations (written before the runs):")
    for x in entry.expectations:
        print(f"  {x.id}: {x.claim}  [{x.op} {x.threshold:g} {x.unit}]")
    for h in entry.history:
        print(wrap("history: " + h))
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from phenolab.catalog.reproduce import reproduce
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.cli.run import options_of
    from phenolab.report.html import entry_report
    from phenolab.run import resolve_device

    entry = get(args.entry_id)
    device = resolve_device(args.device)
    store = Store(args.store)
    variant = "quick" if args.quick else "canonical"
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(f"reproducing {entry.id} ({variant}) on {device}: {entry.reproduces}")
    t0 = time.perf_counter()
    result = reproduce(
        entry,
        store,
        device,
        args.quick,
        args.seeds,
        args.workers,
        options_of(args),
        on_progress=ProgressPrinter(say),
    )
    report = None
    if not args.no_report:
        path = args.report or default_report_path(store.path, f"{entry.id}-{variant}")
        report = write_report(entry_report(result, store), path)
    seconds = time.perf_counter() - t0
    if args.json:
        print(
            json.dumps(
                {
                    "id": entry.id,
                    "variant": variant,
                    "seeds": result.seeds,
                    "seconds": round(seconds, 2),
                    "report": report,
                    "verdicts": [v.as_dict() for v in result.verdicts],
                }
            )
        )
        return 0
    for v in result.verdicts:
        print(
            f"{v.verdict:<13} {v.expectation}: measured {v.measured_text()} {v.op} "
            f"{v.threshold:g} "
            f"{v.unit}" + (f"  ({v.note})" if v.note else "")
        )
    print(f"time    {seconds:.1f} s")
    if report:
        print(f"report  {report}")
    return 0
