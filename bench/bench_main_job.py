"""Benchmark: time to grok of the main job, `phenolab run grokking`, against plain PyTorch loops
run side by side on the same machine. Seconds are counted from command start (interpreter and
imports included) to the evaluation at which test accuracy reached 0.99.

    python bench/bench_main_job.py [--seeds 0,1,2]

Rows (medians over seeds):
- phenolab run grokking: the main job as a user runs it (fresh store, report written); its
  t_gen is the step from which test accuracy stays ≥ 0.99 to the end of the run.
- plain loop, reference config: the issue's reference loop (width 256, d_embed 128, lr 3e-3).
- plain loop, preset config: the same loop with the preset's hyperparameters (width 128,
  d_embed 64, lr 1e-2): separates the engine's speed from the choice of hyperparameters.
Plain loops stop at the first check (every 100 steps) with test accuracy ≥ 0.99, which favours
them (no "sustained" requirement, no full run, no report).

Then time to grok for all seeds at once: `phenolab run grokking --seeds N` (one ensemble)
against N plain runs one after another (sum of their seconds to t_gen).
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


def phenolab(*args: str) -> tuple[dict, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        return run_json(
            [
                sys.executable,
                "-m",
                "phenolab",
                "run",
                "grokking",
                *args,
                "--json",
                "--store",
                os.path.join(tmp, "runs.db"),
            ]
        )


def phenolab_seed(seed: int) -> dict:
    out, t0, wall = phenolab("--seed", str(seed))
    to_gen = out["gen_unix"] - t0 if out["gen_unix"] is not None else float("nan")
    return {
        "t_gen": out["t_gen"],
        "to_gen": to_gen,
        "command": wall,
        "steps_per_second": 3000 / out["seconds"],
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
    ap.add_argument(
        "--reference-seeds",
        type=int,
        default=1,
        help="seeds of the slow reference-config loop (about a minute each)",
    )
    ap.add_argument("--ensemble-seeds", type=int, default=5)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = {
        "phenolab run grokking": [phenolab_seed(s) for s in seeds],
        "plain loop, preset config": [plain(s, width=128, d_embed=64, lr=1e-2) for s in seeds],
        "plain loop, reference config": [plain(s) for s in seeds[: args.reference_seeds]],
    }
    print(
        f"# time to grok, x+y mod 97, 30% data — {platform.machine()}, {os.cpu_count()} cores,"
        f" seeds {seeds}"
    )
    print(f"{'':<30} {'t_gen (steps)':>14} {'s to t_gen':>11} {'steps/s':>8}   per seed")
    base = statistics.median(r["to_gen"] for r in rows["phenolab run grokking"])
    for name, rs in rows.items():
        tg = statistics.median(r["t_gen"] for r in rs)
        sec = statistics.median(r["to_gen"] for r in rs)
        sps = statistics.median(r["steps_per_second"] for r in rs)
        per = ", ".join(f"{r['to_gen']:.1f}" for r in rs)
        print(f"{name:<30} {tg:>14,.0f} {sec:>11.1f} {sps:>8.0f}   [{per}] s  ×{sec / base:.2f}")
    print("('×' = seconds to t_gen relative to phenolab; lower is faster)")

    n = args.ensemble_seeds
    out, t0, wall = phenolab("--seeds", str(n))
    gens = [m["gen_unix"] for m in out["members"]]
    ens = max(gens) - t0 if all(g is not None for g in gens) else float("nan")
    plains = [plain(s, width=128, d_embed=64, lr=1e-2) for s in range(n)]
    seq = sum(r["to_gen"] for r in plains)
    print(f"\n# time to grok for {n} seeds (s from command start until every seed is at t_gen)")
    print(
        f"phenolab run grokking --seeds {n}: {ens:.1f} s ({out['workers']} process(es); "
        f"whole command {wall:.1f} s)"
    )
    print(
        f"{n} plain runs, preset config, one after another: {seq:.1f} s "
        f"(×{seq / ens:.1f} phenolab's)"
    )


if __name__ == "__main__":
    main()
