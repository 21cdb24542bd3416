"""`phenolab runs` and `phenolab report`: read the store."""

from __future__ import annotations

import argparse
import json
import time

from phenolab.cli import shared
from phenolab.cli.run import FIGURE_FORMATS, write_run_figures, write_run_report
from phenolab.cli.shared import opt
from phenolab.errors import UserError
from phenolab.store import RunRecord, Store
from phenolab.store.layout import describe_layout, layout_of
from phenolab.tasks import describe
from phenolab.train import closedform


def add_parser(sub) -> None:
    """`runs` and `report`."""
    runs = sub.add_parser("runs", help="list stored runs")
    runs.set_defaults(handler=cmd_runs)
    shared.add_store(runs)
    shared.add_json(runs)

    report = sub.add_parser("report", help="write a run's HTML report")
    report.set_defaults(handler=cmd_report)
    report.add_argument("run_id", help="run id (a unique prefix is enough)")
    shared.add_store(report)
    report.add_argument("--out", metavar="PATH", help="output file (default: next to the store)")
    report.add_argument(
        "--format",
        choices=("html", *FIGURE_FORMATS),
        default="html",
        help="html: the report (default); svg, pdf or png: its figures as files for a paper "
        "(PATH-curves.svg, PATH-measures.svg)",
    )


def cmd_runs(args: argparse.Namespace) -> int:
    records = list(Store(args.store).runs())
    if args.json:
        print(json.dumps([_run_row(r) for r in records]))
        return 0
    if not records:
        print(f"no runs in {args.store}")
        return 0
    header = (
        f"{'run id':<12}  {'status':<11}  {'task':<20} {'model':<11} {'steps':>7}  "
        f"{'t_fit':>6} {'t_gen':>7}  {'phase':<13} {'seconds':>8}  {'created':<16}  layout"
    )
    print(header)
    for r in records:
        row = _run_row(r)
        print(
            f"{row['run_id']:<12}  {row['status']:<11}  {row['task']:<20} {row['model']:<11} "
            f"{opt(row['steps']):>7}  {opt(row['t_fit']):>6} {opt(row['t_gen']):>7}  "
            f"{row['phase'] or '—':<13} {row['seconds']:>8.1f}  {row['created']:<16}  "
            f"{describe_layout(r.env) or '—'}"
        )
    return 0


def _run_row(r: RunRecord) -> dict:
    if r.external is not None:  # a watched loop: no phenolab task, model or step budget
        from phenolab.report.html import subject

        return _row(
            r, subject(r.config), r.external.get("model", "—"), (r.summary or {}).get("steps")
        )
    task = r.config["task"]
    solved = r.config["train"]["optimizer"] == "lstsq"  # one closed-form solve, n samples
    size = f"n={task['n_train']}" if solved else f"{task['frac']:.0%}"
    steps = closedform.STEP if solved else r.config["train"]["steps"]
    return _row(r, f"{describe(task['op'], task['p'])} {size}", r.config["model"]["model"], steps)


def _row(r: RunRecord, task: str, model: str, steps: int | None) -> dict:
    s = r.summary or {}
    return {
        "run_id": r.id,
        "status": r.status,
        "task": task,
        "model": model,
        "steps": steps,
        "t_fit": s.get("t_fit"),
        "t_gen": s.get("t_gen"),
        "phase": s.get("phase"),
        "seconds": r.seconds,
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
        "layout": layout_of(r.env),  # how it was executed: the same id may round differently
    }


def cmd_report(args: argparse.Namespace) -> int:
    store = Store(args.store)
    record = store.find_run(args.run_id)
    if not store.metrics(record.id):
        raise UserError(f"run {record.id} has no recorded metrics yet")
    if args.format == "html":
        print(write_run_report(store, record, args.out))
    else:
        print("\n".join(write_run_figures(store, record, args.format, args.out)))
    return 0
