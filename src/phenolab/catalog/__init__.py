"""The catalog: one module per phenomenon family under `entries/`, registered by id in
`ENTRIES` (phenolab.Registry; an entry describes itself by its title)."""

from __future__ import annotations

import importlib

from phenolab import Registry
from phenolab.catalog.entry import Arm, Entry, Expectation, Measured, Outcome


def _adopt(registry: Registry, name: str, obj) -> None:
    """A plugin's catalog entries: an Entry, an experiment file or a folder of them (a path), a
    function returning either, or a list of them (a module registers its own on import)."""
    from pathlib import Path

    from phenolab.catalog.experiment import SUFFIX, load

    if isinstance(obj, Entry):
        registry.register(obj.id, obj)
    elif isinstance(obj, str | Path):
        path = Path(obj)
        for file in sorted(path.glob(f"*{SUFFIX}")) if path.is_dir() else [path]:
            _adopt(registry, name, load(file))
    elif isinstance(obj, list | tuple):
        for item in obj:
            _adopt(registry, name, item)
    elif callable(obj):
        _adopt(registry, name, obj())
    else:
        raise TypeError(f"a catalog plugin gives Entries or experiment files, not {obj!r}")


# id → Entry; plugins: entry points of the group phenolab.catalog (loaded after the built-ins)
ENTRIES = Registry(
    None,
    "catalog entry ",
    summary=lambda entry: entry.title,
    plugins="phenolab.catalog",
    adopt=_adopt,
)


def register(entry: Entry) -> Entry:
    """Add `entry` to the catalog under its id (an id registered twice is a ValueError)."""
    return ENTRIES.register(entry.id, entry)


def get(entry_id: str) -> Entry:
    """The entry `entry_id`, or a ConfigError naming every entry."""
    _load()
    return ENTRIES.get(entry_id)


def all_entries() -> list[Entry]:
    _load()
    return list(ENTRIES.values())


def _load() -> None:
    importlib.import_module("phenolab.catalog.entries")  # registers every entry


__all__ = ["Arm", "Entry", "Expectation", "Measured", "Outcome", "all_entries", "get", "register"]
