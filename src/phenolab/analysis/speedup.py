"""Speed-ups between arms of a comparison: the ratio of median t_gen with a bootstrap
confidence interval, where some seeds may never have generalized.

A seed that never generalized within its run has t_gen = +∞ for ranking, and the run's length
L as the number that enters a ratio: a lower bound of its true t_gen. A median that touches
such a seed is therefore itself only a lower bound (`censored`), and so is a speed-up whose
baseline median is censored; one whose arm median is censored is an upper bound.

The interval is the percentile bootstrap (Efron & Tibshirani 1993, ch. 13): seeds are resampled
with replacement within each arm, independently, and the ratio of the resampled medians
recomputed; a fixed RNG seed makes it deterministic. With few seeds (3–5) it is coarse: its
ends are ratios of observed t_gen values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from phenolab.analysis.ensemble import quantile

RESAMPLES = 2000
LEVEL = 0.95
RNG_SEED = 0


def bounded(t_gens: Sequence[int | None], length: int) -> list[float]:
    """t_gen per seed with a never-generalized seed (None) at the run's length, a lower bound."""
    return [float(length) if t is None else float(t) for t in t_gens]


@dataclass(frozen=True)
class Median:
    value: float  # the median, never-generalized seeds at the run's length
    censored: bool  # True when a never-generalized seed enters it: `value` is a lower bound


def median_t_gen(t_gens: Sequence[int | None], length: int) -> Median:
    infinite = [math.inf if t is None else float(t) for t in t_gens]
    return Median(quantile(bounded(t_gens, length), 0.5), math.isinf(quantile(infinite, 0.5)))


@dataclass(frozen=True)
class Speedup:
    value: float  # baseline median t_gen / arm median t_gen
    low: float  # ends of the bootstrap interval
    high: float
    # None: exact; "lower": the true speed-up is at least `value` (the baseline's median did
    # not generalize); "upper": at most `value` (the arm's did not); "unknown": neither did
    bound: str | None


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def speedup(
    baseline: Sequence[int | None],
    arm: Sequence[int | None],
    baseline_length: int,
    arm_length: int,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = RNG_SEED,
) -> Speedup:
    """Median t_gen of `baseline` over that of `arm` (one t_gen or None per seed), with a
    `level` percentile-bootstrap interval over `resamples` resamples."""
    base_m, arm_m = median_t_gen(baseline, baseline_length), median_t_gen(arm, arm_length)
    bound = {
        (False, False): None,
        (True, False): "lower",
        (False, True): "upper",
        (True, True): "unknown",
    }[(base_m.censored, arm_m.censored)]
    b, a = bounded(baseline, baseline_length), bounded(arm, arm_length)
    rng = random.Random(seed)
    ratios = [
        _ratio(
            quantile(rng.choices(b, k=len(b)), 0.5),
            quantile(rng.choices(a, k=len(a)), 0.5),
        )
        for _ in range(resamples)
    ]
    tail = (1 - level) / 2
    return Speedup(
        _ratio(base_m.value, arm_m.value),
        quantile(ratios, tail),
        quantile(ratios, 1 - tail),
        bound,
    )
