"""Summaries across members: per group of identical hyperparameters (seeds differ), the median
and spread of t_gen. A member that never generalized counts as t_gen = ∞ (a censored value),
so a median over a group where most members failed is "never", not a flattering finite number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of values that may include math.inf."""
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    if xs[hi] == math.inf:
        return math.inf if pos > lo or xs[lo] == math.inf else xs[lo]
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


SPREAD_IQR_FROM = 5  # seeds from which a group's spread is its IQR; below, the seeds' range


@dataclass(frozen=True)
class GroupSummary:
    values: dict  # the member fields that define the group, e.g. {"wd": 0.3}
    members: int
    generalized: int  # members with a t_gen
    median_t_gen: float | None  # None: more than half never generalized
    t_gen_q1: float | None
    t_gen_q3: float | None
    t_gen_min: int | None
    t_gen_max: int | None
    phases: dict[str, int]

    def as_dict(self) -> dict:
        return self.__dict__.copy()

    def spread(self) -> tuple[str, str]:
        """What the spread of t_gen over the group's seeds is, and its text: below
        SPREAD_IQR_FROM seeds the seeds' range (a never-generalized seed makes the upper end
        "never"), from there on the interquartile range (a censored quartile shows as —)."""
        if self.members < SPREAD_IQR_FROM:
            lo = "—" if self.t_gen_min is None else f"{self.t_gen_min:,}"
            if self.generalized < self.members:
                hi = "never"
            else:
                hi = f"{self.t_gen_max:,}"
            return "range", f"[{lo}, {hi}]"
        q = ["—" if v is None else f"{v:,.0f}" for v in (self.t_gen_q1, self.t_gen_q3)]
        return "IQR", f"[{q[0]}, {q[1]}]"


def summarize_group(
    values: dict, t_gens: Sequence[int | None], phases: Sequence[str]
) -> GroupSummary:
    finite = [t for t in t_gens if t is not None]
    censored = [math.inf if t is None else float(t) for t in t_gens]

    def finite_or_none(x: float) -> float | None:
        return None if math.isinf(x) or math.isnan(x) else x

    counts: dict[str, int] = {}
    for phase in phases:
        counts[phase] = counts.get(phase, 0) + 1
    return GroupSummary(
        values=values,
        members=len(t_gens),
        generalized=len(finite),
        median_t_gen=finite_or_none(quantile(censored, 0.5)),
        t_gen_q1=finite_or_none(quantile(censored, 0.25)),
        t_gen_q3=finite_or_none(quantile(censored, 0.75)),
        t_gen_min=min(finite) if finite else None,
        t_gen_max=max(finite) if finite else None,
        phases=counts,
    )
