"""Benchmark: phenolab ensembles against the plain PyTorch loop, model-steps per second.

    python bench/bench_ensemble.py            # CPU rows (this machine)
    python bench/bench_ensemble.py --gpu      # GPU rows (needs CUDA)

Every row trains real members through phenolab's public API (`train_configs`: the same path as
`phenolab run --seeds N`), evaluations and store writes included, and compares with the plain
loop of `bench/plain_mlp.py` / `bench/plain_transformer.py` run for the same number of steps in
the same process. Model-steps/s = members × steps / wall seconds. Plain runs are sequential, so
their model-steps/s is the single run's steps/s.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plain_mlp import EmbedMLP, modular_data  # noqa: E402
from plain_transformer import PlainTransformer, nanda_data  # noqa: E402

from phenolab.config.presets import preset  # noqa: E402
from phenolab.run import Options, train_configs  # noqa: E402
from phenolab.store import Store  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_steps_per_second(model, x, y, steps: int, device, eval_every: int = 100) -> float:
    """A full-batch AdamW loop with a test-accuracy check every `eval_every` steps."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
    for _ in range(5):  # warm up kernels / allocator
        F.cross_entropy(model(x), y).backward()
    opt.zero_grad()
    sync(device)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every == 0:
            with torch.no_grad():
                (model(x).argmax(-1) == y).float().mean().item()
    sync(device)
    return steps / (time.perf_counter() - t0)


def phenolab_model_steps_per_second(
    base, members: int, device, workers: int, fast: bool = False, threads: int | None = None
) -> float:
    configs = [base.replace(seed=s) for s in range(members)]
    options = Options(checkpoint_seconds=1e9, fast=fast, threads=threads)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "bench.db"))
        t0 = time.perf_counter()
        train_configs(configs, store, device, workers=workers, options=options)
        wall = time.perf_counter() - t0
        store.close()
    return members * base.train.steps / wall


def row(name: str, ours: float | Callable[[], float], plain: float) -> None:
    """One table row; `ours` may be a thunk, so that a failing row reports and the rest run."""
    if callable(ours):
        try:
            ours = ours()
        except Exception as exc:  # noqa: BLE001 - a benchmark row, not library code
            print(f"{name:<58} failed: {type(exc).__name__}: {exc}"[:300], flush=True)
            return
    print(f"{name:<58} {ours:>12,.0f} {plain:>12,.0f} {ours / plain:>8.1f}×", flush=True)


def header(title: str) -> None:
    print(f"\n## {title}")
    print(f"{'':<58} {'phenolab':>12} {'plain loop':>12} {'ratio':>9}")
    print(f"{'':<58} {'model-st/s':>12} {'model-st/s':>12}")


def cpu_rows(steps: int) -> None:
    device = torch.device("cpu")
    cores = os.cpu_count() or 1
    base = preset("grokking").replace(steps=steps, eval_every=100)
    x_tr, y_tr, _, _ = modular_data(97, 0.3, 0)
    torch.set_num_threads(cores)
    plain = plain_steps_per_second(EmbedMLP(97, 64, 128), x_tr, y_tr, steps, device)
    header(
        f"CPU, main-job MLP (p=97, width 128, d_embed 64, 30%), {steps} steps per member, "
        f"{platform.machine()} {cores} cores; plain = sequential plain runs, {cores} threads"
    )
    for members in (1, 4, 16):
        for workers in sorted({1, min(cores, members)}):
            torch.set_num_threads(cores)
            threads = max(1, cores // workers)
            ours = phenolab_model_steps_per_second(base, members, device, workers, False, threads)
            row(f"E={members:<3} {workers} process(es) × {threads} thread(s)", ours, plain)
            if workers == 1 and threads > 1:  # the default: one thread per process
                ours = phenolab_model_steps_per_second(base, members, device, 1, False, 1)
                row(f"E={members:<3} 1 process × 1 thread (the default)", ours, plain)
    workers = min(cores, 16)
    ours = phenolab_model_steps_per_second(base.replace(precision="bf16"), 16, device, workers)
    row(f"E=16  {workers} process(es), --precision bf16 (not the default)", ours, plain)
    ceiling = gemm_ceiling(16, cores)
    row(f"ceiling: output-layer GEMMs alone, E=16 over {cores} cores", ceiling, plain)


def gemm_ceiling(members: int, cores: int, n_train: int = 2822, width: int = 128) -> float:
    """An upper bound on fp32 model-steps/s for the main-job MLP on this CPU: a step that did
    nothing but the output layer's three matmuls (forward, its weight gradient, its input
    gradient; 56 % of a real step in a profile), `members // cores` members per core on one
    thread each, cores scaling perfectly. Everything else a step does (the factorised first
    layer, ReLU, softmax, optimizer) only lowers it."""
    per_core = max(1, members // cores)
    torch.set_num_threads(1)
    hidden = torch.randn(per_core, n_train, width)
    w_out = torch.randn(per_core, width, 97)
    grad = torch.randn(per_core, n_train, 97)

    def three_gemms() -> None:
        torch.bmm(hidden, w_out)
        torch.bmm(hidden.transpose(1, 2), grad)
        torch.bmm(grad, w_out.transpose(1, 2))

    for _ in range(3):
        three_gemms()
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        three_gemms()
    seconds = (time.perf_counter() - t0) / reps
    torch.set_num_threads(cores)
    return cores * per_core / seconds


def gpu_rows(steps: int, only: str) -> None:
    device = torch.device("cuda")
    print(f"\nGPU: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    print("eager = the default step; graph = `--fast` (the whole step replayed as a CUDA graph)")
    if only in ("all", "mlp"):
        gpu_mlp_rows(steps, device)
    if only in ("all", "nanda"):
        gpu_nanda_rows(steps, device)


def gpu_mlp_rows(steps: int, device: torch.device) -> None:
    x_tr, y_tr, _, _ = modular_data(97, 0.3, 0, device)
    plain = plain_steps_per_second(EmbedMLP(97, 128, 256).to(device), x_tr, y_tr, steps, device)
    header(f"GPU, embedding MLP (p=97, width 256, d_embed 128, 30%), {steps} steps per member")
    mlp = preset("grokking").replace(width=256, d_embed=128, steps=steps, eval_every=100)
    for members in (1, 16, 64, 256, 1024):
        for fast in (False, True):
            row(
                f"E={members:<5} {'graph' if fast else 'eager'}",
                lambda m=members, f=fast: phenolab_model_steps_per_second(mlp, m, device, 1, f),
                plain,
            )


def gpu_nanda_rows(steps: int, device: torch.device) -> None:
    x, y = nanda_data(device=device)
    plain = plain_steps_per_second(PlainTransformer().to(device), x, y, steps, device)
    header(f"GPU, Nanda transformer (p=113, `x y =`, full batch), {steps} steps per member")
    nanda = preset("nanda").replace(steps=steps, eval_every=100)
    for members in (1, 8, 32, 128):
        for fast in (False, True):
            row(
                f"E={members:<5} {'graph' if fast else 'eager'}",
                lambda m=members, f=fast: phenolab_model_steps_per_second(nanda, m, device, 1, f),
                plain,
            )
    # the preset computes its loss in float64 (as Nanda et al.'s code); the plain loop does not
    nanda32 = nanda.replace(loss_dtype="float32")
    for members in (1, 32):
        row(
            f"E={members:<5} graph, loss in float32 (as the plain loop)",
            lambda m=members: phenolab_model_steps_per_second(nanda32, m, device, 1, True),
            plain,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu", action="store_true", help="GPU rows instead of CPU rows")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--only", choices=("all", "mlp", "nanda"), default="all", help="GPU rows")
    args = ap.parse_args()
    print(f"# phenolab ensemble benchmark — torch {torch.__version__}, {platform.platform()}")
    if args.gpu:
        if not torch.cuda.is_available():
            sys.exit("bench_ensemble: --gpu needs CUDA")
        gpu_rows(args.steps or 2000, args.only)
    else:
        cpu_rows(args.steps or 600)


if __name__ == "__main__":
    main()
