"""Benchmark: a 48-run quick sweep of the main job, with the local backend (worker processes)
and with the Ray backend (a local Ray cluster, `--ray`), one after the other in one run, each
as a user runs it: `phenolab sweep ... --json` in a fresh process with a fresh store, timed from
command start to exit (interpreter, imports, Ray's cluster start and shutdown included).

    python bench/bench_sweep.py [--steps 1000] [--cores 2]

The sweep: grokking preset, width 64,128 × frac 0.3..0.6 × wd 0.3,1,3 × 2 seeds = 48 runs,
`--steps` steps each: two ensemble groups (the widths), split into one shard per core. Both
backends get the same shards with one thread each, so besides the wall times the bench checks
that they stored the same runs (ids, phases, t_gen) and the same curves to the last bit.
Target (issue 17): Ray's wall time within 1.5× the local backend's.
"""

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time

GRID = ["width=64,128", "frac=0.3:0.6:0.1", "wd=0.3,1,3"]


def sweep(store: str, steps: int, cores: int, ray: bool) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "phenolab", "sweep", "grokking"]
    cmd += [a for g in GRID for a in ("--grid", g)]
    cmd += ["--seeds", "2", "--steps", str(steps), "--workers", str(cores), "--no-report"]
    cmd += ["--store", store, "--json"] + (["--ray"] if ray else [])
    env = os.environ | {"RAY_DISABLE_USAGE_STATS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def curves(store: str) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT run_id, name, step, value FROM metrics WHERE name NOT LIKE 'time/%' "
            "ORDER BY run_id, name, step"
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--cores", type=int, default=2, help="worker processes / Ray CPUs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores = {k: os.path.join(tmp, f"{k}.db") for k in ("local", "ray")}
        local, local_wall = sweep(stores["local"], args.steps, args.cores, ray=False)
        ray, ray_wall = sweep(stores["ray"], args.steps, args.cores, ray=True)
        same_curves = curves(stores["local"]) == curves(stores["ray"])

    def runs(out: dict) -> list[tuple]:
        return [(m["run_id"], m["phase"], m["t_gen"]) for m in out["members"]]

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs seen")
    print(f"sweep: {len(local['members'])} runs × {args.steps} steps, {args.cores} cores")
    for name, out, wall in (("local", local, local_wall), ("ray", ray, ray_wall)):
        plan = out["plan"]
        print(
            f"{name:<6} {wall:7.1f} s wall  (training {out['seconds']:.1f} s; plan: "
            f"{len(plan['shards'])} shards {plan['shards']}, {plan['workers']} at once, "
            f"{plan['backend']}, ≈{plan['bytes_per_member'] / 2**20:.1f} MiB per member)"
        )
    print(f"ratio  ray / local = {ray_wall / local_wall:.2f} (target ≤ 1.5)")
    print(f"same runs (ids, phases, t_gen): {runs(local) == runs(ray)}; same curves: {same_curves}")


if __name__ == "__main__":
    main()
