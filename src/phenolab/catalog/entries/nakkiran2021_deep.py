"""Deep double descent (Nakkiran, Kaplun, Bansal, Yang, Barak, Sutskever 2021, "Deep double
descent: where bigger models and more data hurt"): with label noise, test error against model
size, training time or number of samples falls, rises to a peak where the model can only just
fit its training set (the interpolation threshold), then falls again.

Three entries on MNIST-1D (generated offline, tasks/images.py), one module each:
- `nakkiran2021-model-wise` (nakkiran2021_model_wise.py): a width sweep (the MNIST-1D figure;
  Nakkiran et al. §5).
- `nakkiran2021-epoch-wise` (nakkiran2021_epoch_wise.py): a wide model's test error over
  training (Nakkiran et al. §6).
- `nakkiran2021-sample-wise` (nakkiran2021_sample_wise.py): a model near its threshold on more
  and more data (Nakkiran et al. §7, "more data hurts").

This module holds what they share: the setting and the read-outs. All three train the MLP
40-h-h-10 of the MNIST-1D paper's deep double descent experiment (Greydanus & Kobak 2024, ICML;
the notebook deep-double-descent.ipynb of its repository): 4,000 training points with 15 % label
noise, SGD lr 0.01 with momentum 0.9 (torch.optim.SGD: no weight decay, no warmup, no schedule —
our SGD is that update, tested against torch.optim.SGD), batch 100, cross-entropy, 500 epochs.
The notebook initialises with PyTorch's default (uniform, std 1/√(3·fan_in), random biases);
ours is N(0, 1/fan_in) with zero biases (models/dense.py): a pilot at widths 16 / 48 / 64 / 128
gave the same errors within 3 points with either scale. Its noise draws a uniform label (≈ 13.5 %
end up wrong); ours makes exactly 15 % wrong (tasks/noise.py). Its test set has 12,000
sequences, ours MNIST-1D's standard 1,000 (each seed's error is ±1.6 points noisier).

Every statement is about medians over seeds (near a threshold single seeds are dominated by
outliers). A curve's peak is the largest rise of its median test error over a preceding
minimum; its interpolation threshold is where the median train error (on the noisy labels)
reaches ≤ 1 % and stays there.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from phenolab.analysis.doubledescent import Peak, find_peak
from phenolab.analysis.events import first_sustained
from phenolab.catalog import Measured
from phenolab.config import RunConfig

FIT = 0.01  # train error at or below this counts as interpolating (≈ 0: 40 of 4,000 examples)
MIN_PEAK = 0.01  # a rise smaller than one point of error is no peak to locate
POINTS = 100  # errors are reported in percentage points

N_TRAIN = 4000  # MNIST-1D's training pool (tasks/images.py): the paper's training set
BATCH = 100
STEPS_PER_EPOCH = N_TRAIN // BATCH

MLP = RunConfig().replace(
    op="mnist1d",
    model="dense",
    optimizer="sgd",
    lr=0.01,
    momentum=0.9,
    wd=0.0,
    warmup=0,
    batch_size=BATCH,
    label_noise=0.15,
)
# The model-wise budget (the notebook's 500 epochs; 150 in the quick variant), which the
# sample-wise entry shares: each of its members trains for the same steps whatever its n.
EPOCHS, QUICK_EPOCHS = 500, 150
MODEL_WISE = MLP.replace(steps=EPOCHS * STEPS_PER_EPOCH, eval_every=10 * STEPS_PER_EPOCH)
MODEL_WISE_QUICK = MLP.replace(steps=QUICK_EPOCHS * STEPS_PER_EPOCH, eval_every=5 * STEPS_PER_EPOCH)

GREYDANUS = (
    "Greydanus, Kobak (2024). Scaling down deep learning with MNIST-1D. ICML 2024, arXiv:2011.14439"
)
NAKKIRAN = (
    "Nakkiran, Kaplun, Bansal, Yang, Barak, Sutskever (2021). Deep double descent: where bigger "
    "models and more data hurt. J. Stat. Mech. 124003 (ICLR 2020), arXiv:1912.02292"
)
NO_PEAK = f"no peak of at least {MIN_PEAK * POINTS:g} point"


# -- the peak of a curve ---------------------------------------------------------------------


def largest_rise(xs: Sequence[float], ys: Sequence[float]) -> Peak | None:
    """The point with the largest rise of ys over the lowest value before it (the first such
    point on ties), as these entries' read-outs were preregistered: signed, so that a curve
    that never rises still has one, of height ≤ 0 (analysis/doubledescent.py); how far the
    curve has fallen again is measured to its last point (`fall_to_end`). None for fewer than
    two points."""
    return find_peak(xs, ys, signed=True) if len(ys) >= 2 else None


def interpolation_threshold(
    xs: Sequence[float], train_errors: Sequence[float], fits_above: bool = True
) -> tuple[float | None, str]:
    """The x from which on the train error stays ≤ FIT: towards larger x (widths, training time
    fit above their threshold) or, with fits_above=False, towards smaller x (sample sizes fit
    below it). (None, why) when even the last x in that direction does not fit."""
    order = list(range(len(xs))) if fits_above else list(reversed(range(len(xs))))
    fits = [1.0 if train_errors[i] <= FIT else 0.0 for i in order]
    first = first_sustained([xs[i] for i in order], fits, 1.0)
    if first is None:
        edge = xs[order[-1]]
        return None, f"the median train error is above {FIT:.0%} even at {edge:g}"
    return first, ""


def distance_to_threshold(
    xs: Sequence[float], peak: Peak | None, threshold: float | None, why: str, fits_above: bool
) -> Measured:
    """|log2(x_peak / x_threshold)|. When the threshold lies beyond the grid (no x fits), it is
    at least as far from the peak as the grid's end: a lower bound."""
    if peak is None or peak.height < MIN_PEAK:
        return Measured(None, note=NO_PEAK)
    if threshold is not None:
        return Measured(
            abs(math.log2(peak.x / threshold)),
            note=f"peak at {peak.x:g}, interpolation threshold {threshold:g}",
        )
    edge = max(xs) if fits_above else min(xs)
    return Measured(None, lower=abs(math.log2(peak.x / edge)), note=f"peak at {peak.x:g}; {why}")


def peak_near_threshold(
    xs: Sequence[float], train: Sequence[float], test: Sequence[float], fits_above: bool = True
) -> Measured:
    """How far (in octaves) the test error's peak lies from the interpolation threshold."""
    threshold, why = interpolation_threshold(xs, train, fits_above)
    return distance_to_threshold(xs, largest_rise(xs, test), threshold, why, fits_above)


def _describe(xs: Sequence[float], errors: Sequence[float]) -> str:
    return ", ".join(f"{x:g}: {e * POINTS:.1f}" for x, e in zip(xs, errors, strict=True))


def rise(xs: Sequence[float], test: Sequence[float], what: str) -> Measured:
    """The peak's height over its preceding minimum, in points."""
    peak = largest_rise(xs, test)
    if peak is None:
        return Measured(None, note="fewer than two points")
    note = (
        f"peak at {what} {peak.x:g} over the minimum at {peak.x_before:g}"
        if peak.height > 0
        else "the test error never rises"
    )
    if len(xs) <= 25:  # a sweep, not a training curve
        note += f"; test error (%) by {what}: {_describe(xs, test)}"
    return Measured(peak.height * POINTS, note=note)


def descent(xs: Sequence[float], test: Sequence[float]) -> Measured:
    """How far the curve falls from its peak by its last point, in points."""
    peak = largest_rise(xs, test)
    if peak is None or peak.height < MIN_PEAK:
        return Measured(None, note=NO_PEAK)
    return Measured(peak.fall_to_end * POINTS, note=f"from {peak.x:g} to {xs[-1]:g}")


# -- sweeps of final errors (widths, sample sizes) -----------------------------------------------


def final_errors(outcome, arm: str) -> tuple[float, float]:
    """(median final train error, median final test error) over an arm's seeds; a run's final
    value is the median of its last evaluations (analysis/events.py)."""
    results = outcome[arm]
    train = statistics.median(1 - r.events.final_train_acc for r in results)
    test = statistics.median(1 - r.events.final_test_acc for r in results)
    return train, test


def sweep(outcome, arms: dict[float, str]) -> tuple[list[float], list[float], list[float]]:
    """(x, median train error, median test error) over the arms {x: arm} this variant ran (a
    quick variant leaves some out), sorted by x."""
    xs = sorted(x for x, arm in arms.items() if outcome.get(arm))
    pairs = [final_errors(outcome, arms[x]) for x in xs]
    return xs, [p[0] for p in pairs], [p[1] for p in pairs]


def sweep_rise(outcome, arms: dict[float, str], what: str) -> Measured:
    """`rise` of the median final test error over a sweep {x: arm}."""
    xs, _, test = sweep(outcome, arms)
    return rise(xs, test, what)


def sweep_peak_near_threshold(outcome, arms: dict[float, str], fits_above: bool) -> Measured:
    """`peak_near_threshold` of the median final errors over a sweep {x: arm}."""
    return peak_near_threshold(*sweep(outcome, arms), fits_above=fits_above)


def sweep_figure(outcome, arms: dict[float, str], xlabel: str, title: str, fits_above: bool):
    """Median train and test error (lines) and every seed (dots) over a sweep {x: arm}, the
    interpolation threshold (dashed) and the peak (circled)."""
    import matplotlib.pyplot as plt

    from phenolab.report.figures import TEST, TRAIN

    xs, train, test = sweep(outcome, arms)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for split, color, median in (("train", TRAIN, train), ("test", TEST, test)):
        for x in xs:
            seeds = [1 - getattr(r.events, f"final_{split}_acc") for r in outcome[arms[x]]]
            ax.scatter([x] * len(seeds), [e * POINTS for e in seeds], color=color, s=9, alpha=0.4)
        ax.plot(xs, [e * POINTS for e in median], color=color, lw=2, marker="o", ms=3, label=split)
    threshold, _ = interpolation_threshold(xs, train, fits_above)
    if threshold is not None:
        ax.axvline(threshold, color="0.3", ls="--", lw=1, label=f"interpolation ({threshold:g})")
    mark_peak(ax, xs, test)
    ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel="error (%), median over seeds", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def mark_peak(ax, xs, test) -> None:
    """Circle the curve's peak on `ax` (nothing when it rises by less than MIN_PEAK)."""
    peak = largest_rise(xs, test)
    if peak is not None and peak.height >= MIN_PEAK:
        label = f"peak (+{peak.height * POINTS:.1f} points)"
        ax.scatter(
            [peak.x],
            [peak.y * POINTS],
            s=160,
            facecolors="none",
            edgecolors="k",
            lw=1.5,
            label=label,
        )
