"""A sweep written down: a TOML sweep file (`phenolab sweep --file sweep.toml`), and samples of a
box of config fields (`--sample N --box frac=0.1:0.9`), random or Latin-hypercube.

A sweep file holds what the command line would say:

    preset = "grokking"
    seeds = 3

    [fields]                      # fixed config fields, over the preset
    p = 97
    steps = 3000

    [grid]                        # a list, "a,b,c" or "start:stop:step"
    frac = "0.2:0.6:0.1"
    wd = [0.1, 0.3, 1]

    [sample]                      # optional: n points of a box (with the grid's product)
    n = 20
    method = "lhs"                # or "random"
    seed = 0
    box = { lr = [1e-3, 1e-2] }
    log = ["lr"]

    [diagram]                     # optional
    axes = ["frac", "wd"]
    out = "diagram.png"
    refine = 2
    log = ["wd"]

Options given on the command line win over the file's.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any

from phenolab.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SAMPLERS = ("lhs", "random")
SIGNIFICANT = 4  # digits a sampled float keeps (run ids and tables stay readable)


@dataclass
class Box:
    """Where a sample's points lie: {field: (lo, hi)}; `integer` fields are rounded, `log`
    fields sampled uniformly in their logarithm."""

    bounds: dict[str, tuple[float, float]]
    integer: set[str] = field(default_factory=set)


@dataclass
class SweepFile:
    preset: str | None = None
    seeds: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[str]] = field(default_factory=dict)
    sample: int | None = None
    sampler: str | None = None
    sample_seed: int | None = None
    box: dict[str, str] = field(default_factory=dict)  # {field: "lo:hi"}
    axes: tuple[str, str] | None = None
    out: str | None = None
    refine: int | None = None
    log: list[str] = field(default_factory=list)


def read_sweep_file(path: str) -> SweepFile:
    """The sweep in the TOML file `path`; unknown tables or keys are an error that names them."""
    from phenolab.sweep.grid import grid_values

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"file: cannot read {path!r} ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"file: {path!r} is not valid TOML ({exc})") from None
    _known(path, "", data, {"preset", "seeds", "fields", "grid", "sample", "diagram"})
    sample = _table(path, data, "sample")
    diagram = _table(path, data, "diagram")
    _known(path, "sample.", sample, {"n", "method", "seed", "box", "log"})
    _known(path, "diagram.", diagram, {"axes", "out", "refine", "log"})
    spec = SweepFile(
        preset=data.get("preset"),
        seeds=data.get("seeds"),
        fields=_table(path, data, "fields"),
        grid={k: grid_values(_text(v)) for k, v in _table(path, data, "grid").items()},
        sample=sample.get("n"),
        sampler=sample.get("method"),
        sample_seed=sample.get("seed"),
        box={k: _text(v, ":") for k, v in _table(path, sample, "box").items()},
        out=diagram.get("out"),
        refine=diagram.get("refine"),
        log=[*sample.get("log", []), *diagram.get("log", [])],
    )
    if "axes" in diagram:
        axes = diagram["axes"]
        if not (isinstance(axes, list) and len(axes) == 2):
            raise ConfigError(f"file: {path!r}: diagram.axes must be two fields, got {axes!r}")
        spec.axes = (str(axes[0]), str(axes[1]))
    return spec


def _table(path: str, data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"file: {path!r}: {name} must be a table, got {value!r}")
    return value


def _known(path: str, prefix: str, data: dict, keys: set[str]) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise ConfigError(
            f"file: {path!r}: unknown key {prefix}{unknown[0]} (valid: {', '.join(sorted(keys))})"
        )


def _text(value: Any, sep: str = ",") -> str:
    """A TOML value as the command line's text: a list joined by `sep`, anything else as is."""
    if isinstance(value, list):
        return sep.join(str(v) for v in value)
    return str(value)


def parse_box(items: dict[str, str], log: set[str]) -> Box:
    """A Box from {field: "lo:hi"}; integers when both ends are written as integers."""
    bounds, integer = {}, set()
    for name, text in items.items():
        parts = text.split(":")
        try:
            lo, hi = (float(p) for p in parts)
        except ValueError:
            raise ConfigError(f"box: expected {name}=LO:HI numbers, got {text!r}") from None
        if not lo < hi:
            raise ConfigError(f"box: {name}={text} needs LO < HI")
        if name in log and lo <= 0:
            raise ConfigError(f"box: {name} is on a log scale (--log) but LO is {lo:g} ≤ 0")
        if all(p.strip().lstrip("-").isdigit() for p in parts):
            integer.add(name)
        bounds[name] = (lo, hi)
    return Box(bounds, integer)


def sample_box(box: Box, n: int, method: str, seed: int, log: set[str]) -> list[dict[str, Any]]:
    """`n` points of `box` ({field: value}), the same for the same arguments: uniformly at
    random, or a Latin hypercube (scipy.stats.qmc: each field's range cut into n strata, one
    point in each). Log fields are sampled uniformly in their logarithm; integer fields are
    rounded (points that then coincide are kept once)."""
    import numpy as np
    from scipy.stats import qmc

    if method not in SAMPLERS:
        raise ConfigError(f"sampler: {method!r} is not one of {', '.join(SAMPLERS)}")
    names = list(box.bounds)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
    else:
        unit = np.random.default_rng(seed).random((n, len(names)))
    points: list[dict[str, Any]] = []
    for row in unit:
        point = {}
        for name, u in zip(names, row, strict=True):
            lo, hi = box.bounds[name]
            if name in log:
                value = math.exp(math.log(lo) + float(u) * (math.log(hi) - math.log(lo)))
            else:
                value = lo + float(u) * (hi - lo)
            point[name] = round(value) if name in box.integer else float(f"{value:.{SIGNIFICANT}g}")
        if point not in points:
            points.append(point)
    return points
