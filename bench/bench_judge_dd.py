"""Benchmark: `phenolab judge --phenomenon double-descent --quick` from an empty store (every
built-in candidate), then judging one new measure against the store that already holds the
trial.

    python bench/bench_judge_dd.py [--store PATH]

Prints both wall times (command start to exit, interpreter and imports included), the judge's
own split (solve / evaluate / score), the store's size, and the scorecard as JSON next to the
store. Run it with nothing else running: on 2 cores, concurrent jobs slow each other many-fold.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

MEASURE = '''
import torch

def head_max(ctx):
    """The largest |weight| of the solution (a new measure to judge)."""
    return {"head/max": ctx.model.W_out.detach().abs().flatten(1).max(1).values}

head_max.direction = "up"
'''


def judge(store: str, *extra: str) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "phenolab", "judge", "--phenomenon", "double-descent"]
    cmd += ["--quick", "--json", "--no-report", "--store", store]
    t0 = time.time()
    proc = subprocess.run([*cmd, *extra], capture_output=True, text=True)
    wall = time.time() - t0
    if proc.returncode != 0:
        sys.exit(f"judge failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="store path (default: a fresh temporary one)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench_judge_dd_")
    store = args.store or os.path.join(tmp, "judge.db")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    if os.path.exists(store):
        print(f"note: {store} exists; the first row is not from an empty store")
    first, wall1 = judge(store)
    split = ", ".join(f"{k} {v:,.0f} s" for k, v in first["seconds"].items())
    print(f"double-descent --quick, all built-in candidates: {wall1:,.0f} s wall ({split})")
    print(f"store: {os.path.getsize(store) / 2**20:,.0f} MiB")
    measure = os.path.join(tmp, "mine.py")
    with open(measure, "w") as f:
        f.write(MEASURE)
    second, wall2 = judge(store, "--only", "norm", "--measure", f"{measure}:head_max")
    split = ", ".join(f"{k} {v:,.0f} s" for k, v in second["seconds"].items())
    print(f"one new measure on the filled store: {wall2:,.0f} s wall ({split})")
    out = os.path.join(tmp, "scorecard.json")
    with open(out, "w") as f:
        json.dump(first, f, indent=1)
    print(f"trial hash {first['trial_hash']}; scorecard {out}")


if __name__ == "__main__":
    main()
