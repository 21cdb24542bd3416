"""A double-descent peak in any curve y(x): where it sits, how high it rises over the minimum
before it, and whether a second descent follows.

The model-wise double descent of Belkin, Hsu, Ma & Mandal (2019), "Reconciling modern
machine-learning practice and the classical bias–variance trade-off", PNAS (Fig. 1–2): test error
falls, rises to a peak at the interpolation threshold (p ≈ n parameters for n samples) and falls
again beyond it. The detector reads one curve — feed it the median over seeds, since near the
threshold single seeds are dominated by outliers — optionally through a running median.

The peak is the point with the largest rise over the lowest value before it,
    i* = argmax_i (y_i − min_{j ≤ i} y_j),
so a non-increasing curve (a single descent) has none; a rise that ends at the last point is the
classical U (no room for a second descent). A peak is `found` when its height is at least
`min_rise` of the curve's range (noise wiggles on a long descent are not peaks), and a
`second_descent` follows when the curve then falls back by at least `descent` of that height.

With `signed=True` a curve that never rises still has a largest "rise": the point with the
largest y_i − min_{j < i} y_j (lowest value strictly before it), ≤ 0 for a non-increasing curve
(the smallest step down to a new low). The deep double-descent entries (Nakkiran et al. 2021)
preregistered that signed value as their measured rise, so their recorded verdicts depend on it;
for a curve that does rise both readings give the same peak.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_RISE = 0.1  # a peak's height, as a fraction of the curve's range
DESCENT = 0.5  # the fall after the peak, as a fraction of its height, that is a second descent


@dataclass(frozen=True)
class Peak:
    found: bool  # the largest rise is a peak (height ≥ min_rise × range of the curve)
    index: int | None  # the peak's index (None: the curve never rises)
    x: float | None  # its location
    y: float | None  # its (smoothed) height
    x_before: float | None  # where the lowest value before the peak is
    y_before: float | None  # that value
    y_after: float | None  # the lowest value at or after the peak
    height: float  # y − y_before (0: the curve never rises)
    rise: float  # height / |y_before|: the relative rise (inf over a zero minimum)
    drop: float  # (y − y_after) / height: how far it falls back (≥ 1: below y_before)
    second_descent: bool  # found, not at the last point, and drop ≥ descent
    at_edge: bool  # the peak is the curve's last point (a U shape)
    y_last: float | None = None  # the curve's last (smoothed) value

    @property
    def fall_to_end(self) -> float | None:
        """y − the curve's last value: how far it has fallen again by its end (None: no peak)."""
        return None if self.index is None else self.y - self.y_last

    def describe(self) -> str:
        if self.index is None or self.height <= 0:
            return "no rise (non-increasing)"
        rise = (
            f"at x = {self.x:.4g}, y = {self.y:.4g} (+{self.rise:.3g}× over the minimum "
            f"{self.y_before:.4g} at x = {self.x_before:.4g})"
        )
        if not self.found:
            return f"no peak: largest rise {rise}"
        tail = "second descent" if self.second_descent else "no second descent"
        return f"peak {rise}; falls back {self.drop:.0%}: {tail}"


def running_median(y: Sequence[float], window: int = 1) -> list[float]:
    """The median of each point's window (odd width, shrunk at the ends): window 1 is y."""
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number, got {window}")
    half = window // 2
    return [statistics.median(y[max(0, i - half) : i + half + 1]) for i in range(len(y))]


def find_peak(
    x: Sequence[float],
    y: Sequence[float],
    window: int = 1,
    min_rise: float = MIN_RISE,
    descent: float = DESCENT,
    signed: bool = False,
) -> Peak:
    """The double-descent peak of the curve y(x), x increasing (see the module docstring;
    `signed`: report the largest rise even when it is ≤ 0)."""
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length ({len(x)} vs {len(y)})")
    if len(x) < 2:
        raise ValueError("a curve needs at least 2 points")
    if any(b <= a for a, b in zip(x, x[1:], strict=False)):
        raise ValueError("x must be strictly increasing (sort the curve first)")
    if any(not math.isfinite(v) for v in y):
        raise ValueError("y must be finite")
    ys = running_median(list(y), window)
    before: list[int] = []  # before[i]: index of the lowest value of ys[: i + 1]
    for i, v in enumerate(ys):
        before.append(i if i == 0 or v < ys[before[-1]] else before[-1])
    # each point's rise over the lowest value strictly before it (> 0 exactly where the rise
    # over the lowest value at or before it is > 0, and then the same)
    heights = {k: ys[k] - ys[before[k - 1]] for k in range(1, len(ys))}
    i = max(heights, key=lambda k: (heights[k], -k))  # the first of the largest rises
    if heights[i] <= 0 and not signed:
        return Peak(False, None, None, None, None, None, None, 0.0, 0.0, 0.0, False, False)
    j, height = before[i - 1], heights[i]
    y_after = min(ys[i:])
    spread = max(ys) - min(ys)
    found = height > 0 and height >= min_rise * spread
    drop = (ys[i] - y_after) / height if height > 0 else 0.0
    at_edge = i == len(ys) - 1
    rise = height / abs(ys[j]) if ys[j] != 0 else math.inf
    return Peak(
        found=found,
        index=i,
        x=float(x[i]),
        y=ys[i],
        x_before=float(x[j]),
        y_before=ys[j],
        y_after=y_after,
        height=height,
        rise=rise,
        drop=drop,
        second_descent=found and not at_edge and drop >= descent,
        at_edge=at_edge,
        y_last=ys[-1],
    )
