"""Speed-ups between arms of a comparison: the ratio of median t_gen with an interval that says
what it is, where some seeds may never have generalized.

A seed that never generalized within its run has t_gen = +∞ for ranking, and the run's length
L as the number that enters a ratio: a lower bound of its true t_gen. A median that touches
such a seed is therefore itself only a lower bound (`censored`), and so is a speed-up whose
baseline median is censored; one whose arm median is censored is an upper bound; when both are
censored the speed-up is unknown (None), not L / L.

The interval depends on how many seeds each arm has (the fewer of the two, n):
- n < BOOTSTRAP_FROM (5): the seeds' *range*, from the slowest baseline seed over the fastest
  arm seed down to the fastest baseline seed over the slowest arm seed — every speed-up the
  seeds show, no confidence level claimed. (A percentile bootstrap of 3 seeds is this range
  under another name: its ends are ratios of the extreme seeds.)
- n ≥ 5: the *percentile bootstrap* at LEVEL (Efron & Tibshirani 1993, ch. 13): seeds are
  resampled with replacement within each arm, independently, and the ratio of the resampled
  medians recomputed `resamples` times; a fixed RNG seed makes it deterministic.
`tests/test_speedup_coverage.py` measures both on simulated log-normal t_gen at the seed counts
the README uses: the range of 3 seeds covers the true ratio of medians in ≈ 91 % of simulated
experiments (it is no 95 % interval), the 95 % percentile bootstrap of 5 seeds in ≈ 96 %.

An end of the interval that depends on a censored seed is a bound: an end that moves when the
censored baseline seeds are taken at ∞ instead of L is at least the printed value ("lower"), one
that moves when the arm's are is at most it ("upper"), one that moves with either is unknown.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from phenolab.analysis.ensemble import quantile

RESAMPLES = 2000
LEVEL = 0.95
RNG_SEED = 0
BOOTSTRAP_FROM = 5  # seeds per arm from which the interval is a bootstrap, below it the range
RANGE = "range"
BOOTSTRAP = "percentile bootstrap"
BOUND_MARKS = {None: "", "lower": "≥ ", "upper": "≤ ", "unknown": "? "}


def bounded(t_gens: Sequence[int | None], length: int) -> list[float]:
    """t_gen per seed with a never-generalized seed (None) at the run's length, a lower bound."""
    return [float(length) if t is None else float(t) for t in t_gens]


def unbounded(t_gens: Sequence[int | None]) -> list[float]:
    """t_gen per seed with a never-generalized seed at ∞ (its other extreme)."""
    return [math.inf if t is None else float(t) for t in t_gens]


@dataclass(frozen=True)
class Median:
    value: float  # the median, never-generalized seeds at the run's length
    censored: bool  # True when a never-generalized seed enters it: `value` is a lower bound


def median_t_gen(t_gens: Sequence[int | None], length: int) -> Median:
    infinite = unbounded(t_gens)
    return Median(quantile(bounded(t_gens, length), 0.5), math.isinf(quantile(infinite, 0.5)))


def interval_kind(seeds: int) -> str:
    """RANGE below BOOTSTRAP_FROM seeds, BOOTSTRAP from there on."""
    return RANGE if seeds < BOOTSTRAP_FROM else BOOTSTRAP


def interval_name(kind: str, level: float = LEVEL, resamples: int = RESAMPLES) -> str:
    """What an interval of `kind` is, in words (table headers and notes)."""
    if kind == RANGE:
        return "range of the seeds"
    return f"{level:.0%} percentile bootstrap ({resamples:,} resamples)"


@dataclass(frozen=True)
class Speedup:
    value: float | None  # baseline median t_gen / arm median t_gen; None: unknown
    low: float  # ends of the interval (see `interval`)
    high: float
    # None: exact; "lower": the true speed-up is at least `value` (the baseline's median did
    # not generalize); "upper": at most `value` (the arm's did not); "unknown": neither did
    bound: str | None
    interval: str = BOOTSTRAP  # RANGE (fewer than 5 seeds in an arm) or BOOTSTRAP
    low_bound: str | None = None  # as `bound`, for each end of the interval
    high_bound: str | None = None

    def describe(self) -> str:
        """'≥ 2.1 [range ≥ 1.4, ≥ 3.0]'-style text: the value and the interval with their bounds."""
        return (
            f"{_text(self.value, self.bound)} [{self.interval} "
            f"{_text(self.low, self.low_bound)}, {_text(self.high, self.high_bound)}]"
        )


def _text(x: float | None, bound: str | None) -> str:
    if x is None or bound == "unknown":
        return "?"
    return BOUND_MARKS[bound] + ("∞" if math.isinf(x) else f"{x:.3g}")


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def seed_range(baseline: Sequence[float], arm: Sequence[float]) -> tuple[float, float]:
    """The speed-ups the seeds span: fastest baseline over slowest arm … slowest over fastest."""
    return _ratio(min(baseline), max(arm)), _ratio(max(baseline), min(arm))


def percentile_bootstrap(
    baseline: Sequence[float],
    arm: Sequence[float],
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = RNG_SEED,
) -> tuple[float, float]:
    """The `level` percentile-bootstrap interval of median(baseline) / median(arm)."""
    rng = random.Random(seed)
    ratios = [
        _ratio(
            quantile(rng.choices(baseline, k=len(baseline)), 0.5),
            quantile(rng.choices(arm, k=len(arm)), 0.5),
        )
        for _ in range(resamples)
    ]
    tail = (1 - level) / 2
    return quantile(ratios, tail), quantile(ratios, 1 - tail)


def _end_bound(at_length: float, base_inf: float, arm_inf: float) -> str | None:
    """How an end computed with censored seeds at the run's length bounds the true end."""
    moved_base, moved_arm = base_inf != at_length, arm_inf != at_length
    if moved_base and moved_arm:
        return "unknown"
    return "lower" if moved_base else "upper" if moved_arm else None


def speedup(
    baseline: Sequence[int | None],
    arm: Sequence[int | None],
    baseline_length: int,
    arm_length: int,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = RNG_SEED,
) -> Speedup:
    """Median t_gen of `baseline` over that of `arm` (one t_gen or None per seed), with the
    seeds' range (fewer than BOOTSTRAP_FROM seeds in either) or a `level` percentile-bootstrap
    interval over `resamples` resamples, each end marked where a censored seed decides it."""
    base_m, arm_m = median_t_gen(baseline, baseline_length), median_t_gen(arm, arm_length)
    bound = {
        (False, False): None,
        (True, False): "lower",
        (False, True): "upper",
        (True, True): "unknown",
    }[(base_m.censored, arm_m.censored)]
    kind = interval_kind(min(len(baseline), len(arm)))
    ends: Callable[[Sequence[float], Sequence[float]], tuple[float, float]]
    if kind == RANGE:
        ends = seed_range
    else:
        ends = lambda b, a: percentile_bootstrap(b, a, resamples, level, seed)  # noqa: E731
    b, a = bounded(baseline, baseline_length), bounded(arm, arm_length)
    low, high = ends(b, a)
    low_b, high_b = ends(unbounded(baseline), a) if None in baseline else (low, high)
    low_a, high_a = ends(b, unbounded(arm)) if None in arm else (low, high)
    value = None if bound == "unknown" else _ratio(base_m.value, arm_m.value)
    return Speedup(
        value,
        low,
        high,
        bound,
        kind,
        _end_bound(low, low_b, low_a),
        _end_bound(high, high_b, high_a),
    )
