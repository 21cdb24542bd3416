"""Read-outs over model-size sweeps, for the double-descent entries (belkin2019, nakkiran2021,
curth2023): one arm per model size p (and ridge λ), each run one closed-form solve
(`optimizer=lstsq`); a metric against p as the median over seeds (near the interpolation
threshold single seeds are dominated by outliers); the peak detector
(`analysis/doubledescent.py`) on those curves; and the figure of test error against p with the
threshold p = n marked. A run without the metric read makes the read-out's expectation
INCONCLUSIVE (readouts.curves_of)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from phenolab.analysis.doubledescent import Peak, find_peak
from phenolab.catalog.entry import Outcome
from phenolab.catalog.readouts import curves_of

Curve = tuple[list[float], list[float]]  # (x increasing, y)


def arm_name(p: int, lam: float | None = None) -> str:
    """'p=100', or 'p=100 λ=0.01' for an arm of a ridge grid."""
    return f"p={p}" if lam is None else f"p={p} λ={lam:g}"


def seed_values(outcome: Outcome, arm: str, metric: str) -> list[float]:
    """The last recorded value of `metric` of each seed of `arm` (MissingCurves if a run
    lacks it)."""
    return [metrics[metric][1][-1] for metrics in curves_of(outcome, arm, metric)]


def median_curve(outcome: Outcome, arms: Mapping[float, str], metric: str) -> Curve:
    """(x, median over seeds of `metric`) over the arms {x: arm name}, x increasing."""
    xs = sorted(arms)
    medians = [statistics.median(seed_values(outcome, arms[x], metric)) for x in xs]
    return [float(x) for x in xs], medians


def tuned_values(
    outcome: Outcome,
    arms: Mapping[float, str],
    select: str = "val/loss",
    report: str = "test/loss",
) -> tuple[list[float], list[float]]:
    """For each seed, the `report` value of the arm (one per λ: {λ: arm name}) whose `select`
    value is lowest — λ chosen on validation data, seed by seed — and the λ chosen."""
    chosen, lams = [], []
    by_lam = {
        lam: (seed_values(outcome, a, select), seed_values(outcome, a, report))
        for lam, a in arms.items()
    }
    seeds = len(next(iter(by_lam.values()))[0])
    for s in range(seeds):
        lam = min(by_lam, key=lambda k: (by_lam[k][0][s], k))  # ties: the smaller λ
        chosen.append(by_lam[lam][1][s])
        lams.append(lam)
    return chosen, lams


def peak_of(curve: Curve, window: int = 1) -> Peak:
    """The double-descent peak of a curve (x, y) (analysis/doubledescent.py)."""
    return find_peak(*curve, window=window)


def distinct(points: Sequence[tuple[float, float]]) -> Curve:
    """Points sorted by x, with those whose x repeats an earlier one dropped (the detector
    needs x strictly increasing)."""
    xs, ys = [], []
    for x, y in sorted(points):
        if not xs or x > xs[-1]:
            xs.append(x)
            ys.append(y)
    return xs, ys


# -- figures ---------------------------------------------------------------------------------


def draw_sweep(
    ax,
    outcome: Outcome,
    arms: Mapping[float, str],
    metric: str,
    label: str,
    color: str,
    faint: bool = True,
) -> Curve:
    """Each seed's `metric` against p (faint) and the median (bold) on `ax`; the median curve."""
    curve = median_curve(outcome, arms, metric)
    if faint:
        per_seed = [seed_values(outcome, arms[x], metric) for x in sorted(arms)]
        for s in range(len(per_seed[0])):
            ax.plot(curve[0], [v[s] for v in per_seed], color=color, lw=0.6, alpha=0.25)
    ax.plot(curve[0], curve[1], color=color, lw=2, marker="o", ms=3, label=label)
    return curve


def mark_threshold(ax, n: int) -> None:
    ax.axvline(n, color="0.3", ls="--", lw=1, label=f"p = n = {n}")


def mark_peak(ax, peak: Peak) -> None:
    if peak.found:
        ax.plot([peak.x], [peak.y], marker="v", color="k", ms=9, ls="", label="detected peak")


def log_axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
