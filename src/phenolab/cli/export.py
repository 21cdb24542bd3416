"""`phenolab export`: stored runs to a tidy CSV / Parquet table, TensorBoard event folders or an
MLflow store."""

from __future__ import annotations

import argparse
import json

from phenolab.cli import shared
from phenolab.store import Store


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="stored runs to CSV / Parquet, TensorBoard or MLflow",
        description="Export runs of the store: csv / parquet OUT is one tidy table (run_id, "
        "config fields, step, metric, value); tensorboard OUT is one event folder per run "
        "(config and phase in the HParams plugin: `tensorboard --logdir OUT`); mlflow OUT is "
        "an MLflow store — an mlruns folder, an mlflow.db file or a tracking URI — with one "
        "run per phenolab run (params, metrics by step, phase and verdict tags, the HTML "
        "report as an artifact; runs exported before are skipped).",
    )
    p.set_defaults(handler=cmd_export)
    p.add_argument("format", choices=("csv", "parquet", "tensorboard", "mlflow"))
    p.add_argument("out", metavar="OUT", help="the file, folder or MLflow store to write")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run ids (a unique prefix is enough)")
    p.add_argument("--all", action="store_true", help="every run of the store")
    p.add_argument(
        "--entry",
        metavar="ID",
        help="the runs of a catalog entry's latest reproduction in the store (phenolab reproduce)",
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="only runs whose config field has this value (a comma list: any of them; "
        "repeatable), e.g. a sweep: --where op=x+y --where width=32,64,128",
    )
    p.add_argument(
        "--experiment", default="phenolab", help="MLflow experiment name (default: phenolab)"
    )
    shared.add_store(p)
    shared.add_json(p)


def cmd_export(args: argparse.Namespace) -> int:
    from phenolab.io import export
    from phenolab.io.tables import select

    store = Store(args.store)
    records = select(store, args.runs, args.where, args.all, args.entry)
    if args.format in ("csv", "parquet"):
        written = [export.to_table(store, records, args.out, args.format)]
    elif args.format == "tensorboard":
        done = export.to_tensorboard(store, records, args.out)
        written = [f"{path}{'' if new else ' (already there)'}" for path, new in done]
    else:
        from phenolab.cli.run import write_run_report

        def report(record, path):
            return write_run_report(store, record, path)

        done = export.to_mlflow(store, records, args.out, args.experiment, report)
        written = [
            f"{pid} → MLflow run {mid}{'' if new else ' (already there)'}" for pid, mid, new in done
        ]
    if args.json:
        print(
            json.dumps(
                {
                    "format": args.format,
                    "out": args.out,
                    "runs": [r.id for r in records],
                    "written": written,
                }
            )
        )
        return 0
    print(f"{len(records)} run(s) exported as {args.format} to {args.out}")
    if args.format in ("tensorboard", "mlflow"):
        for line in written:
            print(f"  {line}")
    if args.format == "tensorboard":
        print(f"view    tensorboard --logdir {args.out}  (HParams tab: config and phase)")
    return 0
