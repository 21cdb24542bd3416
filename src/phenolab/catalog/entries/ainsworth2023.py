"""Ainsworth, Hayase & Srinivasa (2023), "Git Re-Basin: Merging Models modulo Permutation
Symmetries", ICLR 2023 (arXiv:2209.04836) — two networks trained independently (different
initializations and data orders) are separated by a loss barrier on the straight line between
them, but after permuting the hidden units of one to match the other's (weight matching, their
Algorithm 1: models/symmetry.py) the barrier all but vanishes (their Fig. 2, an MLP with three
hidden layers of 512 on MNIST), and the wider the network, the smaller the barrier that remains
after matching (their Fig. 4, width ablations).

Loss barrier (their §2): sup_α L((1 − α) θ_A + α θ_B) − ((1 − α) L(θ_A) + α L(θ_B)), here on the
training set. Setup of their MNIST MLP (their code, `mnist_mlp_train.py`): 3 hidden ReLU layers,
Adam lr 1e-3, batches of 500, 100 epochs; here on MNIST-1D (4,000 training examples: 800 steps)
at hidden widths 32, 128 and 512 (quick: 16, 64, 256). Each arm trains its seeds independently;
seeds 2i and 2i + 1 form pair i (all members see the same data: split_seed 0).
"""

from __future__ import annotations

import math
import statistics

from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.lmc import paths_between
from phenolab.config import RunConfig

WIDTHS = (32, 128, 512)
QUICK_WIDTHS = (16, 64, 256)
CONNECTED = 0.02  # Frankle et al.'s tolerance for "linearly connected": 2 % error

MLP = RunConfig().replace(
    op="mnist1d",
    split_seed=0,
    model="dense",
    n_layers=3,
    optimizer="adam",
    lr=1e-3,
    betas=(0.9, 0.999),
    wd=0.0,
    warmup=0,
    batch_size=500,
    steps=800,
    eval_every=50,
)


def arm_name(i: int) -> str:
    """Arms are named by their position on the width grid (canonical and quick widths differ)."""
    return f"width-{'SML'[i]}"


ARMS = tuple(
    Arm(arm_name(i), MLP.replace(width=w), MLP.replace(width=q))
    for i, (w, q) in enumerate(zip(WIDTHS, QUICK_WIDTHS, strict=True))
)


def analyze(outcome, store) -> None:
    """Paths between the runs of each pair, as trained and after weight matching, on the
    training and the test set, one batched evaluation per width; the pair's first run gets them
    in `derived`."""
    for results in outcome.values():
        firsts = _pairs(results)
        if not firsts:
            continue
        ids = [pair for _, pair in firsts]
        for align, name in ((False, "naive"), (True, "matched")):
            for split in ("train", "test"):
                result = paths_between(store, ids, split, align=align)
                losses = result.barrier("loss", "linear")
                errors = result.barrier("error", "linear")
                for p, (r, _) in enumerate(firsts):
                    key = f"rebasin/{name}/{split}"
                    r.derived[f"{key}/alphas"] = result.alphas.tolist()
                    r.derived[f"{key}/loss"] = result.loss[p].tolist()
                    r.derived[f"{key}/error"] = result.error[p].tolist()
                    r.derived[f"{key}/loss_barrier"] = float(losses[p])
                    r.derived[f"{key}/error_barrier"] = float(errors[p])


def _pairs(results):
    """(first result, (id A, id B)) of pairs (seed 2i, seed 2i + 1); an odd last seed is left."""
    return [
        (results[i], (results[i].record.id, results[i + 1].record.id))
        for i in range(0, len(results) - 1, 2)
    ]


def median_derived(outcome, arm: str, key: str) -> Measured:
    values = [r.derived[key] for r in outcome[arm][::2] if key in getattr(r, "derived", {})]
    if not values:
        return Measured(None, note=f"{arm}: no pair's barrier was computed")
    return Measured(statistics.median(values))


def _matched_share(outcome, arm: str) -> Measured:
    """Median over pairs of matched / naive training-loss barrier."""
    ratios = []
    for r in outcome[arm][::2]:
        if "rebasin/naive/train/loss_barrier" not in getattr(r, "derived", {}):
            continue
        naive = r.derived["rebasin/naive/train/loss_barrier"]
        matched = r.derived["rebasin/matched/train/loss_barrier"]
        ratios.append(matched / naive if naive > 0 else (0.0 if matched <= 0 else math.inf))
    if not ratios:
        return Measured(None, note=f"{arm}: no pair's barrier was computed")
    return Measured(statistics.median(ratios))


def _width_trend(outcome) -> Measured:
    """Matched training-loss barrier, widest minus narrowest (median over pairs)."""
    key = "rebasin/matched/train/loss_barrier"
    wide, narrow = (
        median_derived(outcome, arm_name(2), key),
        median_derived(outcome, arm_name(0), key),
    )
    if wide.value is None or narrow.value is None:
        return Measured(None, note=wide.note or narrow.note)
    return Measured(wide.value - narrow.value)


def figures(outcome, store) -> list[tuple[str, object]]:
    """Training loss along the path, naive and matched, at each width (their Fig. 2), and the
    barriers against width (their Fig. 4)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ARMS) + 1, figsize=(4 * (len(ARMS) + 1), 3.6))
    widths, naive, matched = [], [], []
    for ax, arm in zip(axes, ARMS, strict=False):
        firsts = [r for r in outcome[arm.name][::2] if "rebasin/naive/train/loss" in r.derived]
        if not firsts:
            continue
        width = firsts[0].record.config["model"]["width"]
        for name, style in (("naive", "--"), ("matched", "-")):
            for split, color in (("train", "tab:blue"), ("test", "tab:orange")):
                for i, r in enumerate(firsts):
                    ax.plot(
                        r.derived[f"rebasin/{name}/{split}/alphas"],
                        r.derived[f"rebasin/{name}/{split}/loss"],
                        style,
                        color=color,
                        alpha=0.8,
                        label=f"{split}, {name}" if i == 0 else None,
                    )
        ax.set(title=f"width {width}", xlabel="α (0: A, 1: B)", ylabel="loss")
        ax.legend(fontsize=7)
        widths.append(width)
        for series, name in ((naive, "naive"), (matched, "matched")):
            series.append(
                statistics.median(r.derived[f"rebasin/{name}/train/loss_barrier"] for r in firsts)
            )
    axes[-1].plot(widths, naive, "o--", label="naive")
    axes[-1].plot(widths, matched, "o-", label="weight matching")
    axes[-1].set(xscale="log", xlabel="hidden width", ylabel="train loss barrier")
    axes[-1].set(title="barrier vs width", xticks=widths, xticklabels=[str(w) for w in widths])
    axes[-1].minorticks_off()
    axes[-1].legend()
    fig.tight_layout()
    return [("Interpolating independently trained MLPs, as trained and after weight matching", fig)]


REBASIN = register(
    Entry(
        id="ainsworth2023-rebasin",
        phenomenon="linear mode connectivity modulo permutations",
        paper="Ainsworth, Hayase, Srinivasa (2023). Git Re-Basin: Merging Models modulo "
        "Permutation Symmetries. ICLR 2023, arXiv:2209.04836",
        title="Weight matching removes the barrier between independently trained MLPs",
        description=(
            "Train MLPs with three hidden layers independently (different seeds) at three widths "
            "and interpolate between pairs of them, once as trained and once after permuting the "
            "second's hidden units to match the first's (weight matching). The paper: naive "
            "interpolation crosses a barrier; after matching the barrier nearly vanishes, and it "
            "is the smaller the wider the network."
        ),
        reproduces="Ainsworth et al. 2023, Fig. 2 (MNIST MLP: loss along the naive and the "
        "permuted path) and Fig. 4 (barrier after matching against width)",
        arms=ARMS,
        expectations=(
            Expectation(
                id="naive-barrier",
                claim="Independently trained networks are not linearly connected as trained: at "
                "the largest width the median test-error barrier of the naive path exceeds 2 %.",
                readout=lambda o: median_derived(
                    o, arm_name(2), "rebasin/naive/test/error_barrier"
                ),
                op=">",
                threshold=CONNECTED,
                unit="test error",
            ),
            Expectation(
                id="matching-removes-barrier",
                claim="Weight matching removes most of the barrier: at the largest width the "
                "median over pairs of matched / naive training-loss barrier is at most 0.25.",
                readout=lambda o: _matched_share(o, arm_name(2)),
                op="<=",
                threshold=0.25,
                unit="× naive barrier",
            ),
            Expectation(
                id="wider-matches-better",
                claim="The barrier left after matching shrinks with width: the median matched "
                "training-loss barrier at the largest width minus that at the smallest is ≤ 0.",
                readout=_width_trend,
                op="<=",
                threshold=0.0,
                unit="nats",
            ),
        ),
        seeds=6,
        quick_seeds=4,
        quick_seconds=200,
        seconds=1215,  # 6 seeds × widths 32 / 128 / 512 on the 2-core CPU (loaded)
        history=(
            "2026-11-23: written before any run; budgets from the paper's MNIST MLP recipe "
            "(100 epochs of batches of 500) on MNIST-1D's 4,000 training examples.",
        ),
        figures=figures,
        analysis=analyze,
    )
)
