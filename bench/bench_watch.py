"""Benchmark: phenolab.watch's overhead on a user's own loop (examples/watch_grokking.py's
model and data), at the default evaluation grid with the measures that need no extra pass
beyond the evaluation itself (performance, norm).

    python bench/bench_watch.py [--steps 1000] [--every 100] [--threads 1]

Each variant trains a fresh copy of the same model for the same steps in this process,
alternating plain and watched runs `--repeats` times; the overhead is the median watched time
over the median plain time, minus 1.
"""

import argparse
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

import phenolab


def loop(steps: int, every: int | None, store: str) -> float:
    p = 97
    torch.manual_seed(0)
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    labels = (pairs[:, 0] + pairs[:, 1]) % p
    order = torch.randperm(len(pairs))
    train, test = order[: len(pairs) * 3 // 10], order[len(pairs) * 3 // 10 :]
    model = nn.Sequential(
        nn.Embedding(p, 64), nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, p)
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1.0)
    w = None
    if every is not None:
        w = phenolab.watch(
            model,
            train=(pairs[train], labels[train]),
            test=(pairs[test], labels[test]),
            store=store,
            every=every,
        )
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        loss = F.cross_entropy(model(pairs[train]), labels[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if w is not None:
            w.step(step)
    if w is not None:
        w.finish()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    plain, watched = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            plain.append(loop(args.steps, None, ""))
            watched.append(loop(args.steps, args.every, os.path.join(tmp, "w.db")))
    a, b = statistics.median(plain), statistics.median(watched)
    print(
        f"{args.steps} steps, every {args.every}, {args.threads} thread(s), median of "
        f"{args.repeats}: plain {a:.2f} s ({1e3 * a / args.steps:.2f} ms/step), watched "
        f"{b:.2f} s ({1e3 * b / args.steps:.2f} ms/step): overhead {100 * (b / a - 1):+.1f} %"
    )


if __name__ == "__main__":
    main()
