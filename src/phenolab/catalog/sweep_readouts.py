"""Model-size sweeps for the double-descent entries: one arm per model size p (and ridge λ), each
run one closed-form solve (`optimizer=lstsq`); a metric against p as the median over seeds (near
the interpolation threshold single seeds are dominated by outliers); the peak detector
(`analysis/doubledescent.py`) on those curves; and the figure of test error against p with the
threshold p = n marked."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from phenolab.analysis.doubledescent import Peak, find_peak
from phenolab.catalog.entry import Measured, Outcome

Curve = tuple[list[float], list[float]]  # (x increasing, y)


def arm_name(p: int, lam: float | None = None) -> str:
    """'p=100', or 'p=100 λ=0.01' for an arm of a ridge grid."""
    return f"p={p}" if lam is None else f"p={p} λ={lam:g}"


def final(result, metric: str) -> float | None:
    """The last recorded value of `metric` of one run (None when it has none)."""
    series = (result.metrics or {}).get(metric)
    return series[1][-1] if series and series[1] else None


def seed_values(outcome: Outcome, arm: str, metric: str) -> list[float] | None:
    """`metric` of each seed of `arm` (None if a run lacks it)."""
    values = [final(r, metric) for r in outcome[arm]]
    return None if any(v is None for v in values) else values


def median_curve(outcome: Outcome, arms: Mapping[float, str], metric: str) -> Curve | None:
    """(x, median over seeds of `metric`) over the arms {x: arm name}, x increasing."""
    xs, ys = [], []
    for x in sorted(arms):
        values = seed_values(outcome, arms[x], metric)
        if values is None:
            return None
        xs.append(float(x))
        ys.append(statistics.median(values))
    return xs, ys


def tuned_values(
    outcome: Outcome,
    arms: Mapping[float, str],
    select: str = "val/loss",
    report: str = "test/loss",
) -> tuple[list[float], list[float]] | None:
    """For each seed, the `report` value of the arm (one per λ: {λ: arm name}) whose `select`
    value is lowest — λ chosen on validation data, seed by seed — and the λ chosen."""
    chosen, lams = [], []
    by_lam = {
        lam: (seed_values(outcome, a, select), seed_values(outcome, a, report))
        for lam, a in arms.items()
    }
    if any(s is None or r is None for s, r in by_lam.values()):
        return None
    seeds = len(next(iter(by_lam.values()))[0])
    for s in range(seeds):
        lam = min(by_lam, key=lambda k: (by_lam[k][0][s], k))  # ties: the smaller λ
        chosen.append(by_lam[lam][1][s])
        lams.append(lam)
    return chosen, lams


def peak_of(curve: Curve | None, window: int = 1) -> Peak | None:
    return None if curve is None else find_peak(*curve, window=window)


def distinct(points: Sequence[tuple[float, float]]) -> Curve:
    """Points sorted by x, with those whose x repeats an earlier one dropped (the detector
    needs x strictly increasing)."""
    xs, ys = [], []
    for x, y in sorted(points):
        if not xs or x > xs[-1]:
            xs.append(x)
            ys.append(y)
    return xs, ys


def unknown(what: str) -> Measured:
    return Measured(None, note=f"{what}: some runs have no such metric")


# -- figures ---------------------------------------------------------------------------------


def draw_sweep(
    ax,
    outcome: Outcome,
    arms: Mapping[float, str],
    metric: str,
    label: str,
    color: str,
    faint: bool = True,
) -> Curve | None:
    """Each seed's `metric` against p (faint) and the median (bold) on `ax`; the median curve."""
    curve = median_curve(outcome, arms, metric)
    if curve is None:
        return None
    if faint:
        per_seed = [seed_values(outcome, arms[x], metric) for x in sorted(arms)]
        for s in range(len(per_seed[0])):
            ax.plot(curve[0], [v[s] for v in per_seed], color=color, lw=0.6, alpha=0.25)
    ax.plot(curve[0], curve[1], color=color, lw=2, marker="o", ms=3, label=label)
    return curve


def mark_threshold(ax, n: int) -> None:
    ax.axvline(n, color="0.3", ls="--", lw=1, label=f"p = n = {n}")


def mark_peak(ax, peak: Peak | None) -> None:
    if peak is not None and peak.found:
        ax.plot([peak.x], [peak.y], marker="v", color="k", ms=9, ls="", label="detected peak")


def log_axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)


def ratio_text(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.3g}"
