"""Experiment files: a preregistered experiment written in TOML — citation or motivation, arms
(a preset plus field changes, interventions and parent links, for the canonical settings and a
CPU-sized quick variant), seeds, and expectations built from the read-out vocabulary
(vocabulary.py) — loaded as a catalog Entry, judged by the same code as a built-in one.

    [experiment]            id, title, phenomenon, paper (a citation) or motivation (why, where
                            no paper is reproduced), reproduces, description, seeds, quick_seeds,
                            quick_seconds, history (a list: changes to expectations, with reasons)
    [canonical]             preset (default "grokking") and set = {FIELD = VALUE, ...}: where
                            every arm's canonical config starts
    [quick]                 the same for the quick variant (leave it out: quick = canonical)
    [[arm]]                 name; set (both variants), canonical / quick (one variant only),
                            interventions (specs appended), preset (instead of the base's),
                            parent + link (init_from, ticket_from or embed_from: each seed starts
                            from the parent arm's run of the same seed), in_quick (false: the
                            quick variant leaves the arm out)
    [[expect]]              id, claim, readout (a name of the vocabulary) and its parameters,
                            op (>=, <=, >, <), threshold, unit

The shipped ones live in `phenolab/catalog/experiments/` (copy one to start). A mistake — an
unknown key, field or read-out, an arm that names a missing parent — is a one-line ConfigError
naming the file and the place.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from phenolab.catalog.entry import Arm, Entry, Expectation
from phenolab.catalog.vocabulary import READOUTS
from phenolab.config import RunConfig
from phenolab.config.presets import preset as preset_config
from phenolab.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SUFFIX = ".toml"
TOP = {"experiment", "canonical", "quick", "arm", "expect"}
EXPERIMENT = {
    "id": str,
    "title": str,
    "phenomenon": str,
    "paper": str,
    "motivation": str,
    "reproduces": str,
    "description": str,
    "seeds": int,
    "quick_seeds": int,
    "quick_seconds": (int, float),
    "seconds": (int, float),
    "history": list,
}
BASE = {"preset": str, "set": dict}
ARM = {
    "name": str,
    "preset": str,
    "set": dict,
    "canonical": dict,
    "quick": dict,
    "interventions": list,
    "parent": str,
    "link": str,
    "in_quick": bool,
}
EXPECT = ("id", "claim", "readout", "op", "threshold", "unit")
LINKS = ("init_from", "ticket_from", "embed_from")


def is_file(target: str) -> bool:
    """True when `target` (an entry id or a path) names an experiment file."""
    return target.endswith(SUFFIX) or os.sep in target or os.path.isfile(target)


def shipped() -> list[Path]:
    """The experiment files shipped with phenolab (package data), sorted by name."""
    folder = resources.files("phenolab.catalog") / "experiments"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(SUFFIX))


def load(path: str | os.PathLike) -> Entry:
    """The experiment file at `path` as an Entry (its path and text kept for registration)."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such experiment file") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read it ({exc.strerror})") from None
    return parse(text, name)


def parse(text: str, name: str = "<experiment>") -> Entry:
    """An experiment file's text as an Entry; `name` prefixes every error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML ({exc})") from None
    _keys(data, TOP, name)
    for required in ("experiment", "canonical", "arm", "expect"):
        if required not in data:
            raise ConfigError(f"{name}: no [{required}] section{_ARRAY.get(required, '')}")
    meta = _table(data["experiment"], EXPERIMENT, f"{name}: [experiment]")
    for key in ("id", "title", "phenomenon"):
        if key not in meta:
            raise ConfigError(f"{name}: [experiment] needs {key}")
    if "paper" not in meta and "motivation" not in meta:
        raise ConfigError(f"{name}: [experiment] needs paper (a citation) or motivation (why)")
    canonical = _table(data["canonical"], BASE, f"{name}: [canonical]")
    quick = _table(data["quick"], BASE, f"{name}: [quick]") if "quick" in data else None
    arms = _arms(data["arm"], canonical, quick, name)
    by_name = {a.name: a for a in arms}
    expectations = _expectations(data["expect"], by_name, name)
    try:
        return Entry(
            id=meta["id"],
            phenomenon=meta["phenomenon"],
            paper=meta.get("paper", ""),
            motivation=meta.get("motivation", ""),
            title=meta["title"],
            description=meta.get("description", meta.get("motivation", "")),
            reproduces=meta.get("reproduces", "—"),
            arms=tuple(arms),
            expectations=tuple(expectations),
            seeds=meta.get("seeds", 5),
            quick_seeds=meta.get("quick_seeds", 3),
            quick_seconds=float(meta.get("quick_seconds", 60.0)),
            seconds=meta.get("seconds"),
            history=tuple(str(h) for h in meta.get("history", ())),
            file=name,
            source=text,
        )
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


_ARRAY = {"arm": " (write one [[arm]] table per arm)", "expect": " (one [[expect]] per claim)"}


def _keys(table: dict, valid, where: str) -> None:
    unknown = [k for k in table if k not in valid]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (valid: {', '.join(valid)})")


def _table(table: Any, spec: dict, where: str) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    _keys(table, spec, where)
    for key, value in table.items():
        if not isinstance(value, spec[key]) or (spec[key] is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} has the wrong type ({type(value).__name__})")
    return table


def _config(preset: str, changes: dict, where: str) -> RunConfig:
    try:
        return preset_config(preset).replace(**changes)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _arms(tables: Any, canonical: dict, quick: dict | None, name: str) -> list[Arm]:
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{name}: no arms{_ARRAY['arm']}")
    out: list[Arm] = []
    for i, table in enumerate(tables):
        where = f"{name}: [[arm]] {table.get('name', i + 1) if isinstance(table, dict) else i + 1}"
        arm = _table(table, ARM, where)
        if "name" not in arm:
            raise ConfigError(f"{where}: needs a name")
        if any(a.name == arm["name"] for a in out):
            raise ConfigError(f"{where}: the name is given to two arms")
        extra = tuple(str(s) for s in arm.get("interventions", ()))
        variants = []
        for variant, base in (("canonical", canonical), ("quick", quick)):
            if variant == "quick" and base is None and "quick" not in arm:
                variants.append(None)  # quick = canonical
                continue
            base = base or canonical
            preset = arm.get("preset", base.get("preset", canonical.get("preset", "grokking")))
            changes = {**base.get("set", {}), **arm.get("set", {}), **arm.get(variant, {})}
            cfg = _config(preset, changes, f"{where} ({variant})")
            if extra:
                try:
                    cfg = cfg.replace(interventions=(*cfg.train.interventions, *extra))
                except ConfigError as exc:
                    raise ConfigError(f"{where} ({variant}): {exc}") from None
            variants.append(cfg)
        try:
            out.append(
                Arm(
                    arm["name"],
                    variants[0],
                    variants[1],
                    parent=arm.get("parent"),
                    link=arm.get("link", "init_from"),
                    in_quick=arm.get("in_quick", True),
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    names = [a.name for a in out]
    for a in out:
        if a.parent is not None and a.parent not in names:
            raise ConfigError(
                f"{name}: [[arm]] {a.name}: parent {a.parent!r} is not an arm of this file "
                f"(arms: {', '.join(names)}); name one of them or drop the parent"
            )
    return out


def _expectations(tables: Any, arms: dict, name: str) -> list[Expectation]:
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{name}: no expectations{_ARRAY['expect']}")
    out: list[Expectation] = []
    for i, table in enumerate(tables):
        where = f"{name}: [[expect]] {table.get('id', i + 1) if isinstance(table, dict) else i + 1}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        for key in ("id", "claim", "readout", "op", "threshold"):
            if key not in table:
                raise ConfigError(f"{where}: needs {key}")
        if any(x.id == table["id"] for x in out):
            raise ConfigError(f"{where}: the id is given to two expectations")
        if table["readout"] not in READOUTS:
            unknown = READOUTS.unknown(table["readout"])
            raise ConfigError(f"{where}: {unknown}; `phenolab catalog --readouts` describes them")
        params = {k: v for k, v in table.items() if k not in EXPECT}
        fn, values = READOUTS[table["readout"]].bind(params, arms, where)
        threshold = table["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ConfigError(f"{where}: threshold must be a number, got {threshold!r}")
        try:
            out.append(
                Expectation(
                    id=str(table["id"]),
                    claim=str(table["claim"]),
                    readout=fn,
                    op=str(table["op"]),
                    threshold=float(threshold),
                    unit=str(table.get("unit", "")),
                    declared={"readout": table["readout"], **values},
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return out
