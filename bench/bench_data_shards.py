"""Benchmark: a train-fraction sweep on CPU with the shards cut by data size (members of one
shard share a training set size, so none is padded to another's larger set) against the earlier
plan (the ensemble cut into one shard per core, whatever the members' sizes), in one run.

    python bench/bench_data_shards.py [--steps 300] [--seeds 2] [--workers 2]

The sweep: the grokking preset (the main job's MLP, full batch) at frac 0.1, 0.16, …, 0.64 ×
`--seeds` seeds, `--steps` steps, `--workers` worker processes of one thread, each plan into a
fresh store, timed around `train_configs` (the same door `phenolab sweep` goes through). The
earlier plan is reproduced by giving every member the same data size key. Besides the wall
times it checks that both stored the same runs and prints the largest difference of a final
accuracy between the plans: members padded differently sum their losses in another order, and
a run caught in its transition amplifies that (not a tolerance: how far trajectories drift).
Run it with nothing else training: on 2 cores, concurrent jobs slow each other many-fold.
"""

import argparse
import os
import platform
import tempfile
import time

from phenolab.config.presets import preset
from phenolab.run import shards, train_configs
from phenolab.store import Store

FRACS = [round(0.1 + 0.06 * i, 2) for i in range(10)]


def run(configs, path: str, workers: int, by_size: bool) -> tuple[float, list, dict]:
    plans = []
    real = shards.data_size
    if not by_size:
        shards.data_size = lambda cfg: ()  # every member the same size: the earlier plan
    try:
        t0 = time.perf_counter()
        results = train_configs(
            configs,
            Store(path),
            "cpu",
            workers=workers,
            on_progress=lambda p: p.plan and plans.append(p.plan),
        )
        wall = time.perf_counter() - t0
    finally:
        shards.data_size = real
    finals = {r.record.id: (r.events.final_train_acc, r.events.final_test_acc) for r in results}
    return wall, plans[0].shards, finals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = preset("grokking").replace(steps=args.steps)
    configs = [base.replace(frac=f, seed=s) for f in FRACS for s in range(args.seeds)]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs seen")
    print(
        f"sweep: frac {FRACS[0]}..{FRACS[-1]} × {args.seeds} seeds = {len(configs)} runs × "
        f"{args.steps} steps, {args.workers} workers"
    )
    with tempfile.TemporaryDirectory() as tmp:
        old = run(configs, os.path.join(tmp, "old.db"), args.workers, by_size=False)
        new = run(configs, os.path.join(tmp, "new.db"), args.workers, by_size=True)
    for name, (wall, plan, _) in (("one shard per core", old), ("shards by data size", new)):
        print(f"{name:<20} {wall:7.1f} s wall  (shards {plan})")
    print(f"ratio  earlier / by data size = {old[0] / new[0]:.2f}")
    same = old[2].keys() == new[2].keys()
    gap = max(abs(a - b) for k in old[2] for a, b in zip(old[2][k], new[2][k], strict=True))
    print(f"same runs: {same}; largest difference of a final train or test accuracy: {gap:.4f}")


if __name__ == "__main__":
    main()
