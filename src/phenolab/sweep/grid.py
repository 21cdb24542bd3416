"""Expand per-member value lists and seed counts into member configs.

`--wd 0.3,1,3 --seeds 5` is the product of every listed value with 5 seeds: 15 members. Only
GRID_FIELDS may take lists, since the members of one ensemble must share everything else.
"""

from __future__ import annotations

import itertools
from typing import Any

from phenolab.config import MEMBER_FIELDS, RunConfig, from_flat
from phenolab.errors import ConfigError

# Member fields a comma list turns into a grid. Not `interventions`: there a comma separates
# the specs of one member; members with different interventions come from `phenolab compare`.
GRID_FIELDS = tuple(f for f in MEMBER_FIELDS if f != "interventions")


def expand(base: dict[str, Any], grid: dict[str, list[Any]], seeds: int | None) -> list[RunConfig]:
    """Member configs: `base` (flat values) with each combination of `grid` values, times
    `seeds` consecutive seeds starting at base["seed"] (when given)."""
    for name in grid:
        if name not in GRID_FIELDS:
            raise ConfigError(
                f"{name}: only one value allowed (fields that can take a list: "
                f"{', '.join(GRID_FIELDS)})"
            )
    if seeds is not None:
        if seeds < 1:
            raise ConfigError(f"seeds: must be at least 1, got {seeds}")
        if "seed" in grid:
            raise ConfigError("seeds: give either --seeds N or a list of --seed values, not both")
        first = int(base.get("seed", 0))
        grid = {**grid, "seed": list(range(first, first + seeds))}
    names = list(grid)
    return [
        from_flat({**base, **dict(zip(names, combo, strict=True))})
        for combo in itertools.product(*(grid[n] for n in names))
    ]


def varying_fields(configs: list[RunConfig]) -> list[str]:
    """The member fields whose value is not the same for every config, in MEMBER_FIELDS order."""
    flats = [c.flat() for c in configs]
    return [f for f in MEMBER_FIELDS if len({repr(x[f]) for x in flats}) > 1]
