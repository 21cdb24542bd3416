"""Benchmark: `phenolab judge --quick` from an empty store (every built-in candidate), then
judging one new measure against the store that already holds the trial.

    python bench/bench_judge.py [--store PATH] [--keep]

Targets (issue 14): the quick trial ≤ 15 minutes on 2 CPU cores from an empty store; one new
measure against a filled store ≤ 3 minutes. Prints both wall times (command start to exit,
interpreter and imports included), the judge's own split (train / evaluate / predictions), the
store's size, and the scorecard as JSON next to the store. Run it with nothing else training:
on 2 cores, concurrent jobs slow each other many-fold.

There is no plain-PyTorch row here: the trial's training time is that of its ensembles, whose
speed against the plain loop bench/bench_main_job.py and bench/bench_ensemble.py measure.
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

def output_rank(ctx):
    """Effective rank of the output layer W_out (a new measure to judge)."""
    s = torch.linalg.svdvals(ctx.model.W_out.detach().double())
    q = s / s.sum(-1, keepdim=True)
    return {"out/rank": (-(q * q.clamp_min(1e-300).log()).sum(-1)).exp()}

output_rank.direction = "down"
'''


def judge(store: str, *extra: str) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "phenolab", "judge", "--quick", "--json", "--store", store]
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
    tmp = tempfile.mkdtemp(prefix="bench_judge_")
    store = args.store or os.path.join(tmp, "judge.db")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    if os.path.exists(store):
        print(f"note: {store} exists; the first row is not from an empty store")
    first, wall1 = judge(store)
    print(
        f"judge --quick, all built-in candidates: {wall1:,.0f} s wall "
        f"(judge's split: {', '.join(f'{k} {v:,.0f} s' for k, v in first['seconds'].items())})"
    )
    print(f"store: {os.path.getsize(store) / 2**20:,.0f} MiB")
    measure = os.path.join(tmp, "mine.py")
    with open(measure, "w") as f:
        f.write(MEASURE)
    second, wall2 = judge(store, "--only", "weight-norm", "--measure", f"{measure}:output_rank")
    print(
        f"judge --quick --measure mine.py:output_rank on the filled store: {wall2:,.0f} s wall "
        f"(split: {', '.join(f'{k} {v:,.0f} s' for k, v in second['seconds'].items())})"
    )
    out = os.path.join(tmp, "scorecard.json")
    with open(out, "w") as f:
        json.dump(first, f, indent=1)
    print(f"trial hash {first['trial_hash']}; scorecard {out}")


if __name__ == "__main__":
    main()
