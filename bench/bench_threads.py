"""Benchmark: torch CPU threads per training process (run/environment.cpu_threads).

    python bench/bench_threads.py [--steps 600] [--repeats 3]

Rows, each the main job's config (the grokking preset) cut to --steps steps, trained through
phenolab.run.train_configs in a fresh process:
- one job alone with 1 thread, and with one thread per usable core (torch's default);
- two jobs at once (what a user running two commands, or phenolab beside another program,
  gets), each with 1 thread, and each with one thread per core.
Reported: wall seconds per job (median over repeats) and steps per second. The load average at
the start is printed: run it once on an idle machine and once on a busy one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

JOB = """
import json, sys, time
from phenolab.config.presets import preset
from phenolab.run import Options, train_configs
from phenolab.store import Store
steps, threads, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cfg = preset("grokking").replace(steps=steps)
t0 = time.perf_counter()
train_configs([cfg], Store(path), "cpu", workers=1, options=Options(threads=threads))
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def jobs(n: int, steps: int, threads: int) -> list[float]:
    """Seconds of training of each of `n` jobs started together."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", JOB, str(steps), str(threads), f"{tmp}/r{i}.db"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(n)
        ]
        return [json.loads(p.communicate()[0].strip().splitlines()[-1])["seconds"] for p in procs]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(
        f"{cores} usable cores, load average {os.getloadavg()[0]:.1f} at start; "
        f"{args.steps} steps of the grokking preset per job, median of {args.repeats}"
    )
    print(f"{'jobs at once':>12} {'threads each':>13} {'s per job':>10} {'steps/s':>8}")
    for n in (1, 2):
        for threads in sorted({1, cores}):
            seconds = [statistics.median(jobs(n, args.steps, threads)) for _ in range(args.repeats)]
            s = statistics.median(seconds)
            print(f"{n:>12} {threads:>13} {s:>10.1f} {args.steps / s:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
