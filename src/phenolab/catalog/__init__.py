"""The catalog: one module per phenomenon family under `entries/`, registered by id."""

from __future__ import annotations

import importlib

from phenolab.catalog.entry import Arm, Entry, Expectation, Measured, Outcome
from phenolab.errors import ConfigError

ENTRIES: dict[str, Entry] = {}


def register(entry: Entry) -> Entry:
    if entry.id in ENTRIES:
        raise ValueError(f"catalog entry {entry.id!r} registered twice")
    ENTRIES[entry.id] = entry
    return entry


def get(entry_id: str) -> Entry:
    _load()
    if entry_id not in ENTRIES:
        raise ConfigError(f"unknown catalog entry {entry_id!r} (valid: {', '.join(ENTRIES)})")
    return ENTRIES[entry_id]


def all_entries() -> list[Entry]:
    _load()
    return list(ENTRIES.values())


def _load() -> None:
    importlib.import_module("phenolab.catalog.entries")  # registers every entry


__all__ = ["Arm", "Entry", "Expectation", "Measured", "Outcome", "all_entries", "get", "register"]
