"""`phenolab interpolate RUN_A RUN_B`: loss and error along the straight line between two
finished runs' final weights, and the barriers on it (catalog/lmc.py)."""

from __future__ import annotations

import argparse
import json

from phenolab.analysis.connectivity import alphas
from phenolab.catalog.lmc import paths_between
from phenolab.cli import shared
from phenolab.store import Store


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interpolate",
        help="loss and error on the straight line between two finished runs, and its barrier",
    )
    p.set_defaults(handler=cmd_interpolate)
    p.add_argument("run_a", help="run id (a unique prefix is enough)")
    p.add_argument("run_b", help="run id of the same architecture and data")
    p.add_argument(
        "--split", choices=("test", "train"), default="test", help="which split (default test)"
    )
    p.add_argument("--points", type=int, default=31, metavar="N", help="values of α (default 31)")
    p.add_argument(
        "--align", action="store_true", help="weight-match B's hidden units to A's first (dense)"
    )
    shared.add_json(p)
    shared.add_store(p)


def cmd_interpolate(args: argparse.Namespace) -> int:
    store = Store(args.store)
    a, b = store.find_run(args.run_a).id, store.find_run(args.run_b).id
    result = paths_between(store, [(a, b)], args.split, alphas(args.points), align=args.align)
    summary = {
        "run_a": a,
        "run_b": b,
        "split": args.split,
        "aligned": args.align,
        "error_barrier": result.barrier("error", "mean").item(),  # Frankle et al. 2020
        "loss_barrier": result.barrier("loss", "linear").item(),  # Git Re-Basin
        "alphas": result.alphas.tolist(),
        "error": result.error[0].tolist(),
        "loss": result.loss[0].tolist(),
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{'α':>6} {args.split + ' error':>12} {args.split + ' loss':>12}")
    for alpha, error, loss in zip(
        summary["alphas"], summary["error"], summary["loss"], strict=True
    ):
        print(f"{alpha:6.3f} {error:12.4f} {loss:12.4f}")
    how = "after weight matching" if args.align else "as trained"
    print(f"{a} → {b} ({how})")
    print(f"error barrier {summary['error_barrier']:.4f} (sup error − mean of the endpoints)")
    print(
        f"loss barrier  {summary['loss_barrier']:.4f} (sup loss − the line between the endpoints)"
    )
    return 0
