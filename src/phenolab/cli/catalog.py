"""`phenolab catalog [show ID|FILE] [--readouts] [--fidelity]`, `phenolab reproduce ID|FILE` and
`phenolab prereg FILE` (the ledger: catalog/ledger.py; the fidelity table: catalog/fidelity.py)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time

from phenolab.catalog import ENTRIES, all_entries, get
from phenolab.catalog.labels import label, quick_differences
from phenolab.cli import shared
from phenolab.cli.shared import default_report_path, write_report
from phenolab.errors import ConfigError
from phenolab.store import Store


def add_parser(sub) -> None:
    """`catalog`, `prereg` and `reproduce`."""
    catalog = sub.add_parser("catalog", help="list catalog entries, or `catalog show ID|FILE`")
    catalog.set_defaults(handler=cmd_catalog)
    catalog.add_argument("action", nargs="?", help="show: one entry (or experiment file) in full")
    catalog.add_argument("entry_id", nargs="?", metavar="ID", help="the entry to show")
    catalog.add_argument(
        "--readouts", action="store_true", help="the read-outs an experiment file may name"
    )
    catalog.add_argument(
        "--fidelity",
        action="store_true",
        help="each published number beside the canonical variant's measured value in the store"
        " (reproduced / not reproduced / not run, with the command that runs it)",
    )
    catalog.add_argument(
        "--markdown",
        action="store_true",
        help="with --fidelity: the table as Markdown (the README's fidelity table)",
    )
    shared.add_json(catalog)
    shared.add_store(catalog)

    prereg = sub.add_parser(
        "prereg", help="register an experiment file in the store's ledger before its runs"
    )
    prereg.set_defaults(handler=cmd_prereg)
    prereg.add_argument("file", metavar="FILE", help="an experiment file (TOML)")
    prereg.add_argument(
        "--export",
        action="store_true",
        help="print the registration as one signed-off text (hash, time, full content)",
    )
    shared.add_json(prereg)
    shared.add_store(prereg)

    reproduce = sub.add_parser("reproduce", help="run a catalog entry and judge its expectations")
    reproduce.set_defaults(handler=cmd_reproduce)
    reproduce.add_argument(
        "entry_id",
        metavar="ID|FILE",
        help="a catalog entry (`phenolab catalog`) or a registered experiment file",
    )
    reproduce.add_argument("--quick", action="store_true", help="the CPU-sized variant")
    shared.add_seeds(reproduce, None, "default: the entry's, `phenolab catalog show ID`")
    shared.add_json(reproduce)
    shared.add_report(reproduce)
    shared.add_store(reproduce)
    shared.add_execution(reproduce, max_members=False, checkpoint_seconds=False)


def entry_of(target: str):
    """A catalog entry by id, or an experiment file by path."""
    from phenolab.catalog.experiment import is_file, load

    return load(target) if is_file(target) else get(target)


def cmd_catalog(args: argparse.Namespace) -> int:
    if args.readouts:
        return _readouts(args)
    if args.action == "show":
        if not args.entry_id:
            raise ConfigError("catalog show: which entry? (phenolab catalog lists them)")
        return _show(entry_of(args.entry_id), args)
    if args.action is not None:
        raise ConfigError(f"catalog: unknown action {args.action!r} (valid: show)")
    if args.markdown and not args.fidelity:
        raise ConfigError("catalog: --markdown goes with --fidelity")
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
                # built-in, or the installed package (plugin) it came from
                "source": ENTRIES.origin.get(e.id, "built-in"),
                "last_verdict": _summary(last[2]) if last else None,
                "last_variant": last[0] if last else None,
                # what a quick verdict's settings change from the paper's (computed)
                "quick_differences": quick_differences(e),
            }
        )
    if args.json:
        print(json.dumps(rows))
        return 0
    wid = max(len("id"), *(len(r["id"]) for r in rows))
    wph = max(len("phenomenon"), *(len(r["phenomenon"]) for r in rows))
    wsrc = max(len("source"), *(len(r["source"]) for r in rows))
    print(
        f"{'id':<{wid}} {'phenomenon':<{wph}} {'--quick':>8}  {'last verdicts':<22} "
        f"{'source':<{wsrc}} paper"
    )
    for r in rows:
        paper = r["paper"].split(".")[0][:50]
        last = f"{r['last_variant']}: {r['last_verdict']}" if r["last_verdict"] else "—"
        print(
            f"{r['id']:<{wid}} {r['phenomenon']:<{wph}} {r['quick_seconds']:>6.0f} s  "
            f"{last:<22} {r['source']:<{wsrc}} {paper}"
        )
        if r["last_variant"] == "quick" and r["quick_differences"]:  # the quick label
            print(
                textwrap.fill(
                    "quick differs from canonical: " + "; ".join(r["quick_differences"]),
                    96,
                    initial_indent=" " * (wid + 1),
                    subsequent_indent=" " * (wid + 3),
                )
            )
    return 0


def _readouts(args) -> int:
    from phenolab.catalog.vocabulary import describe

    rows = describe()
    if args.json:
        print(json.dumps([{"readout": n, "parameters": p, "summary": s} for n, p, s in rows]))
        return 0
    for name, params, summary in rows:
        print(f"{name}({params})")
        print(textwrap.fill(summary, 96, initial_indent="    ", subsequent_indent="    "))
    return 0


def cmd_prereg(args: argparse.Namespace) -> int:
    from phenolab.catalog import ledger
    from phenolab.catalog.experiment import load

    entry = load(args.file)
    same = {e.id: e for e in all_entries()}.get(entry.id)
    if same is not None and not _same_file(same.file, entry.file):
        raise ConfigError(
            f"{args.file}: id {entry.id!r} is a catalog entry's; give your experiment its own id "
            "([experiment] id = ...)"
        )
    store = Store(args.store)
    reg, new = ledger.register(store, entry, ledger.PREREG)
    if args.export:
        sys.stdout.write(ledger.export_text(reg))
        return 0
    previous = [r for r in ledger.registrations(store, entry.id) if r.hash != reg.hash]
    if args.json:
        print(json.dumps({"experiment": entry.id, "new": new, **reg.as_dict()}))
        return 0
    print(f"{'registered' if new else 'already registered'}: {entry.id}  sha256 {reg.hash}")
    print(f"  {reg.describe()}")
    if reg.existing:
        print(
            f"  not a preregistration of those {len(reg.existing)} runs: the store held them "
            f"already ({', '.join(reg.existing[:6])}{' …' if len(reg.existing) > 6 else ''})"
        )
    if new and previous:
        print(f"  changed since {previous[-1].short} ({previous[-1].when()}):")
        for line in ledger.differences(previous[-1].content, reg.content):
            print(f"    {line}")
    print(f"  run it: phenolab reproduce {args.file} --store {store.path}")
    return 0


def _same_file(a: str | None, b: str | None) -> bool:
    from pathlib import Path

    return a is not None and b is not None and Path(a).resolve() == Path(b).resolve()


def _fidelity(store: Store, args: argparse.Namespace) -> int:
    from phenolab.catalog.fidelity import fidelity_rows, markdown

    rows = fidelity_rows(store)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows]))
        return 0
    if args.markdown:
        print(markdown(rows))
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
            f" {seconds} of training (shards summed): {r.status.upper()}"
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
                    "motivation": entry.motivation,
                    "file": entry.file,
                    "source": ENTRIES.origin.get(entry.id, "built-in"),
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
                    "quick_differences": quick_differences(entry),
                }
            )
        )
        return 0
    wrap = lambda s: textwrap.fill(s, 96, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    print(f"{entry.id} — {entry.title} [{entry.phenomenon}]")
    print(wrap(entry.paper or "Motivation: " + entry.motivation))
    if entry.file:
        print(wrap(f"Experiment file: {entry.file}"))
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
    print(wrap(label(entry, True)))
    print("\nexpectations (written before the runs):")
    for x in entry.expectations:
        print(f"  {x.id}: {x.claim}  [{x.op} {x.threshold:g} {x.unit}]")
    for h in entry.history:
        print(wrap("history: " + h))
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from phenolab.catalog import ledger
    from phenolab.catalog.reproduce import reproduce
    from phenolab.cli.progress import ProgressPrinter
    from phenolab.cli.run import options_of
    from phenolab.report.html import entry_report
    from phenolab.run import resolve_device

    entry = entry_of(args.entry_id)
    device = resolve_device(args.device)
    store = Store(args.store)
    # an experiment file is judged under its registration (refused if absent or changed); a
    # built-in entry's hash is appended to the ledger each time it is reproduced
    if entry.file is not None and entry.file == args.entry_id:
        registration = ledger.registered(store, entry)
    else:
        registration, _ = ledger.register(store, entry, ledger.REPRODUCED)
    variant = "quick" if args.quick else "canonical"
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    say(f"reproducing {entry.id} ({variant}) on {device}: {entry.reproduces}")
    say(f"registration: {registration.describe()}")
    if args.quick:
        say(textwrap.fill(label(entry, True), 96, subsequent_indent="  "))
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
        registration=registration.hash,
    )
    result.registration = registration
    result.earlier = ledger.earlier(store, entry, registration)
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
                    "differences": quick_differences(entry) if args.quick else [],
                    "seeds": result.seeds,
                    "seconds": round(seconds, 2),
                    "report": report,
                    "registration": registration.as_dict(),
                    "earlier": [_earlier_dict(e) for e in result.earlier],
                    "verdicts": [v.as_dict() for v in result.verdicts],
                }
            )
        )
        return 0
    print(f"verdicts ({variant}), judged under registration {registration.short}:")
    for v in result.verdicts:
        print(
            f"{v.verdict:<13} {v.expectation}: measured {v.measured_text()} {v.op} "
            f"{v.threshold:g} "
            f"{v.unit}" + (f"  ({v.note})" if v.note else "")
        )
    for e in result.earlier:
        print(_earlier_text(e))
    print(f"time    {seconds:.1f} s")
    if report:
        print(f"report  {report}")
    return 0


def _earlier_dict(e) -> dict:
    return {
        "registration": e.registration.as_dict() if e.registration else None,
        "differences": e.differences,
        "seen": [
            {
                "variant": row["variant"],
                "created": row["created"],
                "summary": _summary(row["verdicts"]),
            }
            for row in e.seen
        ],
    }


def _earlier_text(e) -> str:
    """An earlier content of the entry: what changed since, and the verdicts seen under it."""
    from phenolab.catalog.ledger import utc

    if e.registration is None:
        head = "before any registration"
    else:
        head = f"earlier registration {e.registration.short} ({e.registration.when()})"
    lines = [f"note    {head}:"]
    lines += [f"          changed since: {d}" for d in e.differences[:12]]
    if len(e.differences) > 12:
        lines.append(f"          … and {len(e.differences) - 12} more")
    for row in e.seen:
        when, summary = utc(row["created"]), _summary(row["verdicts"])
        lines.append(f"          seen then: {row['variant']} {when}: {summary}")
    if not e.seen:
        lines.append("          no verdicts were recorded under it")
    return "\n".join(lines)
