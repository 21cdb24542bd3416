"""Expand per-member value lists and seed counts into member configs.

`--wd 0.3,1,3 --seeds 5` is the product of every listed value with 5 seeds: 15 members. Only
GRID_FIELDS may take lists, since the members of one ensemble must share everything else.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Any

from phenolab.config import MEMBER_FIELDS, RunConfig, coerce, field_specs, from_flat
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
    combos = itertools.product(*(grid[n] for n in names))
    first_combo = next(combos, None)
    if first_combo is None:  # a field given an empty list of values
        return []
    template = from_flat({**base, **dict(zip(names, first_combo, strict=True))})
    return [template, *(_member(template, names, combo) for combo in combos)]


def _member(template: RunConfig, names: list[str], combo: tuple[Any, ...]) -> RunConfig:
    """`template` with the grid fields `names` set to `combo`: the same config `from_flat` would
    build from the flat values (each value coerced, every section validated again), at a small
    fraction of its cost, since `from_flat` reads the field types anew on every call and 100,000
    seeds made that minutes."""
    specs = _specs()
    changes: dict[str, dict[str, Any]] = {}
    for name, value in zip(names, combo, strict=True):
        section, f = specs[name]
        changes.setdefault(section, {})[name] = coerce(name, f.type, value)
    sections = {s: dataclasses.replace(getattr(template, s), **kw) for s, kw in changes.items()}
    return dataclasses.replace(template, **sections)


@functools.cache
def _specs() -> dict[str, tuple[str, dataclasses.Field]]:
    return field_specs()


def varying_fields(configs: list[RunConfig]) -> list[str]:
    """The member fields whose value is not the same for every config, in MEMBER_FIELDS order.
    Reads each field where it lives rather than through `flat()`, which copies every field of
    every config (most of a minute for 100,000 seeds)."""
    specs = _specs()
    return [f for f in MEMBER_FIELDS if _varies(configs, specs[f][0], f)]


def _varies(configs: list[RunConfig], section: str, name: str) -> bool:
    first = repr(getattr(getattr(configs[0], section), name))
    return any(repr(getattr(getattr(c, section), name)) != first for c in configs)
