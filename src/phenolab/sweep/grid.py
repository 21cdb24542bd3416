"""Expand value lists and seed counts into configs.

`phenolab run --wd 0.3,1,3 --seeds 5` is the product of every listed value with 5 seeds: 15
members. There only GRID_FIELDS may take lists, since the members of one ensemble must share
everything else. `phenolab sweep --grid width=32,64 --grid wd=0.1:1:0.3` takes lists in any
field (`sweep_configs`): the run layer trains each combination of the non-member fields as its
own ensembles.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
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


def sweep_configs(
    base: dict[str, Any], grid: dict[str, list[Any]], seeds: int | None
) -> list[RunConfig]:
    """Configs of a sweep: `base` (flat values) with each combination of `grid` values in any
    field, times `seeds` seeds. Each combination of the fields members cannot vary in is built
    (and validated) once; its member fields and seeds are expanded from it (`expand`)."""
    specs = _specs()
    for name in grid:
        if name not in specs:
            raise ConfigError(f"grid: unknown config field {name!r} (see `phenolab run --help`)")
        if name == "interventions":
            raise ConfigError(
                "grid: interventions cannot be a grid (a comma separates one run's specs); "
                "compare interventions with `phenolab compare --arm ...`"
            )
    shared = [n for n in grid if n not in GRID_FIELDS]
    members = {n: v for n, v in grid.items() if n in GRID_FIELDS}
    out: list[RunConfig] = []
    for combo in itertools.product(*(grid[n] for n in shared)):
        out += expand({**base, **dict(zip(shared, combo, strict=True))}, members, seeds)
    return out


def grid_values(text: str) -> list[str]:
    """The values of `--grid FIELD=VALUES`: a comma list (`0.1,0.3,1`) or an inclusive range
    `start:stop:step` (`0.1:0.6:0.05`; integers stay integers)."""
    if text.count(":") != 2:
        values = [v.strip() for v in text.split(",")]
        if not all(values):
            raise ConfigError(f"grid: empty value in {text!r}")
        return values
    try:
        start, stop, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise ConfigError(f"grid: expected start:stop:step numbers, got {text!r}") from None
    if step <= 0 or stop < start:
        raise ConfigError(f"grid: {text!r} needs step > 0 and stop ≥ start")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > 100_000:
        raise ConfigError(f"grid: {text!r} has {count:,} values")
    integers = all(float(x).is_integer() and "." not in x for x in text.split(":"))
    values = [start + i * step for i in range(count)]
    return [str(int(v)) if integers else f"{round(v, 12):g}" for v in values]


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


def varying_fields(configs: list[RunConfig], among: tuple[str, ...] | None = None) -> list[str]:
    """The fields (`among`, default the member fields) whose value is not the same for every
    config, in that order. Reads each field where it lives rather than through `flat()`, which
    copies every field of every config (most of a minute for 100,000 seeds)."""
    specs = _specs()
    return [f for f in (among or MEMBER_FIELDS) if _varies(configs, specs[f][0], f)]


def _varies(configs: list[RunConfig], section: str, name: str) -> bool:
    first = repr(getattr(getattr(configs[0], section), name))
    return any(repr(getattr(getattr(c, section), name)) != first for c in configs)
