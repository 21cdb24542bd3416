"""The catalog: one module per phenomenon family under `entries/`, registered by id in
`ENTRIES` (phenolab.Registry; an entry describes itself by its title)."""

from __future__ import annotations

import importlib

from phenolab import Registry
from phenolab.catalog.entry import Arm, Entry, Expectation, Measured, Outcome

ENTRIES = Registry(None, "catalog entry ", summary=lambda entry: entry.title)  # id → Entry


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
