"""A width sweep two ways, in one process: one ensemble per width (seeds as members), one after
another, against ONE ensemble of every width × seed at the largest width with the units beyond
each member's width masked to zero (`active_width`, models/dense.py). Prints JSON with both
wall times, their ratio and the largest difference between the two ways' final test errors.

    python bench/active_width.py --widths 8,16,32,64,128 --seeds 3 --steps 500

The setting is the MNIST-1D deep-double-descent MLP (40-h-h-10, SGD 0.01 momentum 0.9, batch
100, 15 % label noise; catalog/entries/nakkiran2021.py). Steps default to a short run: the
ratio is per step, evaluation included (every `--eval-every` steps).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from phenolab.config import RunConfig
from phenolab.runner import run_ensemble
from phenolab.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="8,16,24,32,48,64,96,128")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--n-train", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    widths = [int(w) for w in args.widths.split(",")]
    base = RunConfig().replace(
        op="mnist1d",
        model="dense",
        optimizer="sgd",
        lr=0.01,
        momentum=0.9,
        wd=0.0,
        warmup=0,
        batch_size=100,
        label_noise=0.15,
        n_train=args.n_train,
        steps=args.steps,
        eval_every=args.eval_every,
    )
    top = max(widths)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "runs.db")
        run_ensemble([base.replace(widths=(8, 8))], store, args.device)  # warm up (data, threads)
        t0 = time.perf_counter()
        per_width = {}
        for h in widths:
            members = [base.replace(widths=(h, h), seed=s) for s in range(args.seeds)]
            per_width[h] = run_ensemble(members, store, args.device)
        sequential = time.perf_counter() - t0
        members = [
            base.replace(widths=(top, top), active_width=h, seed=s)
            for h in widths
            for s in range(args.seeds)
        ]
        t0 = time.perf_counter()
        masked = run_ensemble(members, store, args.device)
        one_ensemble = time.perf_counter() - t0
    solo = [r.events.final_test_acc for h in widths for r in per_width[h]]
    inside = [r.events.final_test_acc for r in masked]
    print(
        json.dumps(
            {
                "widths": widths,
                "seeds": args.seeds,
                "steps": args.steps,
                "device": args.device,
                "threads": args.threads,
                "sequential_s": round(sequential, 2),
                "one_masked_ensemble_s": round(one_ensemble, 2),
                "speedup": round(sequential / one_ensemble, 3),
                "max_final_test_acc_difference": max(
                    abs(a - b) for a, b in zip(solo, inside, strict=True)
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
