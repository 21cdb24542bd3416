"""Points near phase boundaries: bisection along an axis between neighbouring cells of a phase
diagram whose majority phases differ (`phenolab sweep --diagram X,Y --refine N`).

Cells are (x, y) points. Along each axis, two cells are neighbours when they share the other
coordinate and no cell lies between them; where their majority phases differ, the point halfway
between them joins the sweep. Rounds repeat on the grown diagram, so each round halves the
distance to the boundary where one was found, and nowhere else.
"""

from __future__ import annotations

import math
from typing import Any

MAX_ROUNDS = 8
SIGNIFICANT = 4  # digits a new float coordinate is rounded to (its run id stays readable)


def midpoint(a: Any, b: Any, log: bool = False) -> Any | None:
    """The point halfway between the numbers `a` and `b`: arithmetic, or geometric on a `log`
    axis (weight decay 0.1 → 1 bisects at 0.3162); integers stay integers, floats keep
    SIGNIFICANT digits. None when there is no new point between them (not numbers, neighbouring
    integers, or a log axis that is not positive)."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
        return None
    lo, hi = min(a, b), max(a, b)
    if log and lo <= 0:
        return None
    mid = math.sqrt(lo * hi) if log else (lo + hi) / 2
    if isinstance(a, int) and isinstance(b, int):
        mid = round(mid)
    else:
        mid = float(f"{mid:.{SIGNIFICANT}g}")
    return mid if lo < mid < hi else None


def boundary_points(
    majority: dict[tuple[Any, Any], str], log: tuple[bool, bool] = (False, False)
) -> list[tuple[Any, Any]]:
    """New (x, y) points halfway between neighbouring cells of `majority` ({(x, y): majority
    phase}) whose phases differ, along either axis (`log`: which axes are bisected
    geometrically); sorted, none already a cell."""
    new: set[tuple[Any, Any]] = set()
    for axis in (0, 1):
        lines: dict[Any, list] = {}
        for point in majority:
            lines.setdefault(point[1 - axis], []).append(point[axis])
        for other, values in lines.items():
            values = sorted(set(values))
            for a, b in zip(values, values[1:], strict=False):
                pa, pb = _at(axis, a, other), _at(axis, b, other)
                if majority[pa] != majority[pb]:
                    mid = midpoint(a, b, log[axis])
                    if mid is not None:
                        new.add(_at(axis, mid, other))
    return sorted(new - set(majority))


def _at(axis: int, value: Any, other: Any) -> tuple[Any, Any]:
    return (value, other) if axis == 0 else (other, value)
