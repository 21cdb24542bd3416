"""Named starting configs for `phenolab run PRESET`; any field can still be overridden."""

from __future__ import annotations

from phenolab.config import RunConfig
from phenolab.errors import ConfigError

PRESETS: dict[str, tuple[str, RunConfig]] = {
    # Tuned on this project's 2-core CPU to show a clear grokking gap in seconds: train fits in
    # ~100 steps, test crosses 0.99 after ~1,200–1,900 (seeds 0–3), i.e. 12–19× later.
    "grokking": (
        "x+y mod 97, 30% train, embedding MLP (d_embed 64, width 128), AdamW lr 1e-2, wd 1,"
        " full batch, 3,000 steps: grokking in seconds on a laptop CPU",
        RunConfig(),
    ),
    # Nanda et al. (2023), "Progress measures for grokking via mechanistic interpretability",
    # §3 / App. A and their code: p = 113, 1-layer transformer (d_model 128, 4 heads, d_mlp 512,
    # no LayerNorm) reading `x y =`, 30% of pairs, full batch, AdamW lr 1e-3, wd 1,
    # betas (0.9, 0.98), 10 warmup steps, cross-entropy computed in float64.
    # Published: test loss collapses around epochs 13k–14.5k (of 40k).
    "nanda": (
        "Nanda et al. 2023: x+y mod 113 as `x y =`, 30% train, 1-layer transformer, AdamW lr"
        " 1e-3, wd 1, float64 loss, full batch, 20,000 steps",
        RunConfig().replace(
            p=113,
            sequence="x y =",
            model="transformer",
            lr=1e-3,
            wd=1.0,
            betas=(0.9, 0.98),
            warmup=10,
            loss_dtype="float64",
            steps=20_000,
            eval_every=100,
        ),
    ),
    # Liu, Michaud & Tegmark (2023), "Omnigrok", §4.1: grokking on MNIST images — an MLP of
    # width 200 (three weight layers), MSE loss, 1,000 training images, AdamW lr 1e-3 with a
    # small weight decay, minibatches of 200; grokking appears with --init-scale 8. Here on
    # MNIST-1D; `--op digits` or `--op idx --data-dir DIR` (MNIST files on disk) swap the data.
    "omnigrok-images": (
        "Liu et al. 2023 §4.1: MLP 200-200 (MSE) on 1,000 MNIST-1D images, AdamW lr 1e-3, wd"
        " 0.01, batch 200, 100,000 steps; add --init-scale 8 for grokking",
        RunConfig().replace(
            op="mnist1d",
            n_train=1000,
            model="dense",
            widths=(200, 200),
            loss="mse",
            lr=1e-3,
            wd=0.01,
            warmup=0,
            batch_size=200,
            steps=100_000,
            eval_every=200,
        ),
    ),
    # The network of Frankle & Carbin's lottery tickets, LeNet-300-100, on MNIST-1D (40 inputs):
    # Adam without weight decay; the minibatch and budget put the dense network's early-stopping
    # step (minimum test loss, ≈ 500) inside 1,000 steps, a few seconds per member on a CPU.
    "lenet": (
        "LeNet-300-100 (40-300-100-10) on MNIST-1D, Adam lr 2e-3 without weight decay,"
        " minibatches of 100, 1,000 steps: the network of the lottery ticket hypothesis",
        RunConfig().replace(
            op="mnist1d",
            model="dense",
            widths=(300, 100),
            optimizer="adamw",
            wd=0.0,
            warmup=0,
            lr=2e-3,
            batch_size=100,
            steps=1000,
            eval_every=50,
        ),
    ),
}


def preset(name: str) -> RunConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r} (valid: {', '.join(PRESETS)})")
    return PRESETS[name][1]
