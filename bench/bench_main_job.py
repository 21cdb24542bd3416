"""Benchmark: time to grok of the main job, `phenolab run grokking`, against plain PyTorch loops
run side by side on the same machine.

    python bench/bench_main_job.py [--seeds 0,1,2]

Rows:
- phenolab: the main job as a user runs it (fresh store, report written), seconds from command
  start to the evaluation at t_gen (test accuracy ≥ 0.99, sustained to the end of the run).
- plain, reference config: the issue's reference loop (width 256, d_embed 128, lr 3e-3, wd 1).
- plain, preset config: the same loop with the preset's hyperparameters (width 128,
  d_embed 64, lr 1e-2), separating the engine's speed from the choice of hyperparameters.
Plain loops stop at the first evaluation (every 100 steps) with test accuracy ≥ 0.99, which
favours them (no "sustained" requirement, no full run).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd: list[str]) -> tuple[dict, float, float]:
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), t0, time.time() - t0


def phenolab(seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out, t0, wall = run_json(
            [
                sys.executable,
                "-m",
                "phenolab",
                "run",
                "grokking",
                "--seed",
                str(seed),
                "--json",
                "--store",
                os.path.join(tmp, "runs.db"),
            ]
        )
    to_gen = None
    if out["time_to_gen"] is not None:
        to_gen = out["train_started_unix"] + out["time_to_gen"] - t0
    return {
        "t_gen": out["t_gen"],
        "t_fit": out["t_fit"],
        "to_gen": to_gen,
        "command": wall,
        "steps_per_second": 3000 / out["seconds"],
        "phase": out["phase"],
    }


def plain(seed: int, **kw) -> dict:
    args = [f"--{k.replace('_', '-')}={v}" for k, v in kw.items()]
    out, _, wall = run_json(
        [sys.executable, os.path.join(HERE, "plain_mlp.py"), f"--seed={seed}", *args]
    )
    return {
        "t_gen": out["t_gen"],
        "to_gen": out["seconds_from_process_start"],
        "command": wall,
        "steps_per_second": out["steps_per_second"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    seeds = [int(s) for s in ap.parse_args().seeds.split(",")]
    rows = {
        "phenolab run grokking": [phenolab(s) for s in seeds],
        "plain loop, reference config": [plain(s) for s in seeds],
        "plain loop, preset config": [plain(s, width=128, d_embed=64, lr=1e-2) for s in seeds],
    }
    print(
        f"# time to grok, x+y mod 97, 30% data — {platform.processor() or platform.machine()},"
        f" {os.cpu_count()} cores, seeds {seeds}"
    )
    print(f"{'':<30} {'t_gen (steps)':>16} {'s to t_gen':>12} {'steps/s':>9}   per seed s to t_gen")
    base = statistics.median(r["to_gen"] for r in rows["phenolab run grokking"])
    for name, rs in rows.items():
        tg = statistics.median(r["t_gen"] for r in rs)
        sec = statistics.median(r["to_gen"] for r in rs)
        sps = statistics.median(r["steps_per_second"] for r in rs)
        per = ", ".join(f"{r['to_gen']:.1f}" for r in rs)
        print(f"{name:<30} {tg:>16,.0f} {sec:>12.1f} {sps:>9.0f}   [{per}]  ×{sec / base:.1f}")
    print("(medians; '×' = seconds to t_gen relative to phenolab)")


if __name__ == "__main__":
    main()
