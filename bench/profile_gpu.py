"""Where a GPU training step spends its time: torch.profiler over the eager step of an ensemble.

    PYTHONPATH=src python bench/profile_gpu.py --preset nanda --members 32 --steps 60

Prints the CUDA kernels (and CPU ops) by total time. The graphed step (`--fast`) replays the same
kernels without the launch gaps, so the kernel table is what bounds it.
"""

import argparse
import os
import sys
import tempfile

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ensemble import phenolab_model_steps_per_second  # noqa: E402

from phenolab.config.presets import preset  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="nanda")
    ap.add_argument("--members", type=int, default=32)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--set", action="append", default=[], help="FIELD=VALUE overrides")
    ap.add_argument("--rows", type=int, default=30)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("profile_gpu: needs CUDA")
    device = torch.device("cuda")
    overrides = dict(s.split("=", 1) for s in args.set)
    base = preset(args.preset).replace(steps=args.steps, eval_every=10**6, **overrides)
    phenolab_model_steps_per_second(base, args.members, device, 1)  # warm up
    with tempfile.TemporaryDirectory():
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            rate = phenolab_model_steps_per_second(base, args.members, device, 1)
    print(f"{args.preset} E={args.members}: {rate:,.0f} model-steps/s under the profiler")
    table = prof.key_averages().table(sort_by="cuda_time_total", row_limit=args.rows)
    print(table)


if __name__ == "__main__":
    main()
