"""Stored runs as tables: which runs (a selection by id prefix and config fields), their config
as flat fields, their curves as one tidy table (run id, config fields, step, metric, value),
and `load(store)`: pandas DataFrames of runs, metrics and verdicts for notebooks."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from phenolab.errors import UserError
from phenolab.store import RunRecord, Store
from phenolab.store.sqlite import EXTERNAL

EVENT_FIELDS = ("phase", "t_fit", "t_gen", "delay", "ratio", "final_train_acc", "final_test_acc")


def flat_config(record: RunRecord) -> dict[str, Any]:
    """A run's config as {field: value}: phenolab's leaf fields (unique across sections), or for
    a run phenolab did not train, `source`, `name`, … and the params it was given. Lists are
    written as JSON text, so that every value is a scalar a table can hold."""
    out: dict[str, Any] = {}
    for section, fields in record.config.items():
        for key, value in fields.items():
            name = f"external_{key}" if section == EXTERNAL else key
            out.setdefault(name, json.dumps(value) if isinstance(value, list | dict) else value)
    return out


def select(
    store: Store, prefixes: list[str], where: list[str], every: bool, entry: str | None = None
) -> list[RunRecord]:
    """The runs named by id prefix (each must match one run), the runs judged by a catalog
    entry's latest reproduction in the store (`entry`), or all runs (`every`), kept where every
    FIELD=VALUE of `where` holds (VALUE: a comma list of accepted values)."""
    if sum((bool(prefixes), every, entry is not None)) > 1:
        raise UserError("name runs, an --entry or --all: one of them")
    if not prefixes and not every and not where and entry is None:
        raise UserError(
            "which runs? name run ids (a prefix is enough), --entry ID, --all, or --where F=V"
        )
    if entry is not None:
        judged = [ids for e, _, _, _, ids in store.all_verdicts() if e == entry]
        if not judged:
            raise UserError(f"--entry: no reproduction of {entry!r} in {store.path}")
        records = [store.find_run(run_id) for run_id in judged[-1]]
    elif prefixes:
        records = [store.find_run(p) for p in prefixes]
    else:
        records = list(store.runs())
    for condition in where:
        field, sep, values = condition.partition("=")
        if not sep or not field:
            raise UserError(f"--where: expected FIELD=VALUE[,VALUE...], got {condition!r}")
        accepted = [v.strip() for v in values.split(",")]
        records = [r for r in records if _holds(flat_config(r).get(field), accepted)]
    if not records:
        raise UserError(f"no runs in {store.path} match {' '.join(where) or 'the selection'}")
    return records


def _holds(value: Any, accepted: list[str]) -> bool:
    """Whether a config value is one of the values a user typed (1 is 1.0; true, none)."""
    text = "none" if value is None else str(value).lower() if isinstance(value, bool) else value
    for typed in accepted:
        if str(text) == typed:
            return True
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                if float(typed) == value:
                    return True
            except ValueError:
                pass
    return False


def varying(records: list[RunRecord]) -> list[str]:
    """The config fields whose values differ between the runs (all fields for one run)."""
    flats = [flat_config(r) for r in records]
    names = list(dict.fromkeys(k for f in flats for k in f))
    if len(records) == 1:
        return names
    return [n for n in names if len({repr(f.get(n)) for f in flats}) > 1]


def tidy_rows(store: Store, records: list[RunRecord]) -> Iterator[dict[str, Any]]:
    """One row per recorded value: run_id, the config fields, step, metric, value."""
    for record in records:
        config = flat_config(record)
        for name, (steps, values) in store.metrics(record.id).items():
            for step, value in zip(steps, values, strict=True):
                yield {"run_id": record.id, **config, "step": step, "metric": name, "value": value}


def events(record: RunRecord) -> dict[str, Any]:
    """A finished run's events and phase from its summary (None where it has none yet)."""
    summary = record.summary or {}
    return {k: summary.get(k) for k in EVENT_FIELDS}


@dataclass
class Tables:
    """A store as pandas DataFrames: `runs` (one row per run: id, status, times, events and
    phase, flat config), `metrics` (tidy: run_id, step, metric, value — join on run_id) and
    `verdicts` (one row per judged expectation of every reproduction)."""

    runs: Any
    metrics: Any
    verdicts: Any


def load(store: str | Store = "phenolab.db") -> Tables:
    """The runs, metrics and verdicts of a store as pandas DataFrames (the [parquet] extra)."""
    from phenolab.io.extras import require

    pd = require("pandas", "parquet")
    own = not isinstance(store, Store)
    if own and not os.path.isfile(store):
        raise UserError(f"no phenolab store at {store!r}")
    db = Store(store) if own else store
    try:
        records = list(db.runs())
        runs = pd.DataFrame(
            [
                {
                    "run_id": r.id,
                    "status": r.status,
                    "created": pd.Timestamp(r.created, unit="s"),
                    "seconds": r.seconds,
                    **events(r),
                    **flat_config(r),
                }
                for r in records
            ]
        )
        metrics = pd.DataFrame(
            [
                (r.id, step, name, value)
                for r in records
                for name, (steps, values) in db.metrics(r.id).items()
                for step, value in zip(steps, values, strict=True)
            ],
            columns=["run_id", "step", "metric", "value"],
        )
        verdicts = pd.DataFrame(
            [
                {"entry": entry, "variant": variant, "created": pd.Timestamp(t, unit="s")}
                | v
                | {"run_ids": " ".join(ids)}
                for entry, variant, t, judged, ids in db.all_verdicts()
                for v in judged
            ],
            columns=None,
        )
    finally:
        if own:
            db.close()
    return Tables(runs, metrics, verdicts)
