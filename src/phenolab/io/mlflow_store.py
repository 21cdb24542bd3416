"""MLflow tracking stores, through mlflow's own client: a file store (an `mlruns` folder), a
SQLite database (`mlflow.db`) or a tracking URI. Read for `detect`; written by `export`."""

from __future__ import annotations

import glob
import os
import sqlite3

from phenolab.errors import UserError
from phenolab.io.extras import require
from phenolab.io.logs import Log, map_columns
from phenolab.io.tb import series_of

MLFLOW_TABLES = {"experiments", "runs", "metrics", "params"}


def tracking_uri(path: str, create: bool = False) -> str:
    """The tracking URI of `path`: a folder is a file store, a .db file a SQLite store; a URI is
    itself. An existing path that is not MLflow's is a UserError (mlflow would write its own
    tables into any SQLite file it is pointed at)."""
    if ":" in path.split(os.sep)[0] and not os.path.exists(path):  # sqlite:///…, http://…
        return path
    full = os.path.abspath(path)
    if path.endswith((".db", ".sqlite")) or os.path.isfile(path):
        if os.path.exists(full):
            _check_sqlite(full)
        elif not create:
            raise UserError(f"{path}: no such MLflow store")
        return f"sqlite:///{full}"
    if os.path.isdir(full):
        if not glob.glob(os.path.join(full, "*", "meta.yaml")) and (not create or os.listdir(full)):
            raise UserError(
                f"{path}: not an MLflow store (no experiment folders with a meta.yaml in it)"
            )
    elif not create:
        raise UserError(f"{path}: no such MLflow store")
    # mlflow ≥ 3.7 refuses file stores unless asked: an existing one is read (and written)
    # as it is rather than migrated behind the user's back
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return "file://" + full


def _check_sqlite(path: str) -> None:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        db.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not an MLflow store ({exc})") from None
    if not MLFLOW_TABLES <= tables:
        what = "a phenolab run store" if {"runs", "metrics"} <= tables else "a database"
        raise UserError(f"{path}: {what}, not an MLflow store")


def client(path: str, create: bool = False):
    tracking = require("mlflow.tracking", "mlflow")
    uri = tracking_uri(path, create)
    if uri.startswith("sqlite:"):
        require("sqlalchemy", "mlflow-sqlite")
        require("alembic", "mlflow-sqlite")
    return tracking.MlflowClient(tracking_uri=uri)


def read_mlflow(path: str, given: dict[str, str | None]) -> list[Log]:
    """One Log per run of every experiment in the store; metric keys mapped like columns, the
    run's params as its params."""
    c = client(path)
    experiments = [e.experiment_id for e in c.search_experiments()]
    runs = c.search_runs(experiments, max_results=50_000) if experiments else []
    if not runs:
        raise UserError(f"{path}: an MLflow store without runs")
    logs = []
    for run in runs:
        where = f"{path}, run {run.info.run_name or run.info.run_id}"
        keys = sorted(run.data.metrics)
        if not keys:
            raise UserError(f"{where}: no metrics logged")
        columns = map_columns(keys, {**given, "step": None}, where)
        columns.pop("step", None)
        curves = {
            role: series_of((m.step, m.value) for m in c.get_metric_history(run.info.run_id, key))
            for role, key in columns.items()
        }
        params = dict(run.data.params) | {"mlflow_run_id": run.info.run_id}
        logs.append(
            Log(run.info.run_name or run.info.run_id, "mlflow", path, curves, params, columns)
        )
    return logs
