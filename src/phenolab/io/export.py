"""Stored runs out to the tools researchers use: one tidy table (CSV, or Parquet through
pandas), TensorBoard event folders (one per run, its config in the HParams plugin) and an MLflow
store (params, metrics by step, tags for the phase and verdicts, the HTML report as an
artifact)."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable

from phenolab.errors import UserError
from phenolab.io.extras import require
from phenolab.io.tables import events, flat_config, tidy_rows, varying
from phenolab.io.tb import EVENTS
from phenolab.store import RunRecord, Store

FORMATS = ("csv", "parquet", "tensorboard", "mlflow")


def to_table(store: Store, records: list[RunRecord], path: str, kind: str) -> str:
    """The tidy table (run_id, config fields, step, metric, value) as CSV or Parquet."""
    rows = list(tidy_rows(store, records))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    columns = [c for c in columns if c not in ("step", "metric", "value")] + [
        "step",
        "metric",
        "value",
    ]
    _parent(path)
    if kind == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(rows)
        return path
    pd = require("pandas", "parquet")
    require("pyarrow", "parquet")
    table = pd.DataFrame(rows, columns=columns)
    for column in table.columns:
        kinds = {type(v) for v in table[column] if v is not None}
        # e.g. a watched run's param "width": "64" beside phenolab's 64
        if pd.api.types.is_object_dtype(table[column]) and len(kinds) > 1:
            table[column] = [None if v is None else str(v) for v in table[column]]
    table.to_parquet(path, index=False)
    return path


def _parent(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"{path}: folder {parent!r} does not exist")


def hparam_value(value):
    """A config value as the HParams plugin takes it: a number, a string or a boolean."""
    if value is None:
        return "none"
    return value if isinstance(value, bool | int | float | str) else str(value)


def to_tensorboard(store: Store, records: list[RunRecord], folder: str) -> list[tuple[str, bool]]:
    """One event folder per run, `folder`/<run id>: every metric as a scalar by step, the
    events as scalars `events/t_fit` and `events/t_gen`, and the config fields that differ
    between the runs (all of them for one run) and the phase in the HParams plugin. A run whose
    folder holds event files already is left as it is (written again, its points would be
    doubled). Returns (folder, newly written) per run."""
    require("tensorboard", "tensorboard")
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams

    fields = varying(records)
    out = []
    for record in records:
        path = os.path.join(folder, record.id)
        if os.path.isdir(path) and any(EVENTS in f for f in os.listdir(path)):
            out.append((path, False))
            continue
        metrics = store.metrics(record.id)
        writer = SummaryWriter(path)
        for name, (steps, values) in metrics.items():
            for step, value in zip(steps, values, strict=True):
                writer.add_scalar(name, value, step)
        ev = events(record)
        last = max((s[-1] for s, _ in metrics.values() if s), default=0)
        for key in ("t_fit", "t_gen"):
            if ev[key] is not None:
                writer.add_scalar(f"events/{key}", ev[key], last)
        config = flat_config(record)
        hp = {f: hparam_value(config.get(f)) for f in fields} | {"phase": ev["phase"] or "—"}
        # the HParams table's metric columns (it shows each tag's last value)
        columns = [m for m in ("test/acc", "train/acc", "test/loss") if m in metrics]
        columns += ["events/t_gen"] if ev["t_gen"] is not None else []
        for summary in hparams(hp, dict.fromkeys(columns, 0.0)):
            writer.file_writer.add_summary(summary)
        writer.close()
        out.append((path, True))
    return out


MLFLOW_BATCH = 1000  # metrics per log_batch call (MLflow's limit)
MLFLOW_PARAMS = 100  # params per log_batch call


def to_mlflow(
    store: Store,
    records: list[RunRecord],
    target: str,
    experiment: str,
    report: Callable[[RunRecord, str], str] | None = None,
) -> list[tuple[str, str, bool]]:
    """Each run as an MLflow run of `experiment` in the store `target` (created if new): its
    config fields as params, every metric by step, tags phenolab.run_id, phenolab.phase,
    phenolab.status and phenolab.verdict.<entry>.<expectation> for the verdicts that judged
    it, and its HTML report (`report(record, path)` writes it) as an artifact. A run exported
    before (same phenolab.run_id in the experiment) is left as it is. Returns (phenolab id,
    MLflow run id, newly written) per run."""
    from phenolab.io.mlflow_store import client

    entities = require("mlflow.entities", "mlflow")
    c = client(target, create=True)
    found = c.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else c.create_experiment(experiment)
    verdicts = _verdict_tags(store)
    out = []
    for record in records:
        existing = c.search_runs(
            [experiment_id], filter_string=f"tags.`phenolab.run_id` = '{record.id}'"
        )
        if existing:
            out.append((record.id, existing[0].info.run_id, False))
            continue
        ev = events(record)
        tags = {
            "phenolab.run_id": record.id,
            "phenolab.status": record.status,
            "phenolab.phase": ev["phase"] or "—",
            **verdicts.get(record.id, {}),
        }
        run = c.create_run(experiment_id, run_name=record.id, tags=tags)
        rid = run.info.run_id
        params = [
            entities.Param(k, str(hparam_value(v))[:6000]) for k, v in flat_config(record).items()
        ]
        for i in range(0, len(params), MLFLOW_PARAMS):
            c.log_batch(rid, params=params[i : i + MLFLOW_PARAMS])
        metrics = store.metrics(record.id)
        unix = dict(zip(*metrics.get("time/unix", ([], [])), strict=True))
        points = [
            entities.Metric(name, value, int(unix.get(step, record.created) * 1000), step)
            for name, (steps, values) in metrics.items()
            for step, value in zip(steps, values, strict=True)
        ]
        points += [
            entities.Metric(f"events/{k}", ev[k], int(record.updated * 1000), 0)
            for k in ("t_fit", "t_gen", "delay")
            if ev[k] is not None
        ]
        for i in range(0, len(points), MLFLOW_BATCH):
            c.log_batch(rid, metrics=points[i : i + MLFLOW_BATCH])
        if report is not None:
            with tempfile.TemporaryDirectory() as tmp:
                c.log_artifact(rid, report(record, os.path.join(tmp, f"{record.id}.html")))
        c.set_terminated(rid, "FINISHED" if record.status == "finished" else "KILLED")
        out.append((record.id, rid, True))
    return out


def _verdict_tags(store: Store) -> dict[str, dict[str, str]]:
    """{run id: {phenolab.verdict.<entry>.<expectation>: PASS | FAIL | INCONCLUSIVE}} from the
    latest reproduction of each entry that judged the run."""
    out: dict[str, dict[str, str]] = {}
    for entry, _, _, judged, run_ids in store.all_verdicts():  # oldest first: later ones win
        for run_id in run_ids:
            for v in judged:
                out.setdefault(run_id, {})[f"phenolab.verdict.{entry}.{v['expectation']}"] = v[
                    "verdict"
                ]
    return out
