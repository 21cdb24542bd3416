"""Training logs a user already has, read into phenolab's curves: CSV and JSON lines files here,
TensorBoard event folders (`tb.py`) and MLflow tracking stores (`mlflow_store.py`).

A log's columns (or tags, or metric keys) are mapped to phenolab's four curves — `train/acc`,
`test/acc`, `train/loss`, `test/loss` — by the names the user gives, else by the usual names
(`train_acc`, `val_accuracy`, `Accuracy/test`, …: separators and case do not matter). Every
mistake in a log is one UserError naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field

from phenolab.errors import UserError

Series = tuple[list[int], list[float]]

CURVES = ("train/acc", "test/acc", "train/loss", "test/loss")
# the usual names of each column, normalized (lower case, separators as "_"), in order of trust
USUAL = {
    "step": ("step", "global_step", "epoch", "iteration", "iter", "_step", "trainer_global_step"),
    "train/acc": (
        "train_acc",
        "train_accuracy",
        "acc_train",
        "accuracy_train",
        "training_accuracy",
        "acc",
        "accuracy",
    ),
    "test/acc": (
        "test_acc",
        "test_accuracy",
        "acc_test",
        "accuracy_test",
        "val_acc",
        "val_accuracy",
        "acc_val",
        "accuracy_val",
        "valid_acc",
        "validation_accuracy",
        "accuracy_validation",
        "eval_acc",
        "eval_accuracy",
    ),
    "train/loss": ("train_loss", "loss_train", "training_loss", "loss"),
    "test/loss": (
        "test_loss",
        "loss_test",
        "val_loss",
        "loss_val",
        "valid_loss",
        "validation_loss",
        "eval_loss",
    ),
}
FLAGS = {
    "step": "--step",
    "train/acc": "--train-acc",
    "test/acc": "--test-acc",
    "train/loss": "--train-loss",
    "test/loss": "--test-loss",
}
REQUIRED = ("train/acc", "test/acc")  # events need both accuracies; losses are optional
RUN_COLUMNS = ("run", "run_id", "run_name")  # a column that splits one file into runs


@dataclass
class Log:
    """One run's curves from a log, under phenolab's names."""

    name: str  # the run's name in its source (a file, a folder, an MLflow run name)
    source: str  # csv | jsonl | tensorboard | mlflow
    path: str  # the file, folder or store it came from
    curves: dict[str, Series]
    params: dict[str, str] = field(default_factory=dict)  # hyperparameters found beside it
    columns: dict[str, str] = field(default_factory=dict)  # phenolab name → the log's name
    notes: list[str] = field(default_factory=list)


def normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def map_columns(available: list[str], given: dict[str, str | None], where: str) -> dict[str, str]:
    """{phenolab name: the log's name} for the step (where `available` has one) and each curve:
    the name the user gave (which must be there), else the first usual name found."""
    by_norm = {normalize(a): a for a in reversed(available)}
    out = {}
    for role in ("step", *CURVES):
        name = given.get(role)
        if name is not None:
            if name not in available and normalize(name) not in by_norm:
                raise UserError(
                    f"{where}: no column {name!r} ({FLAGS[role]}); it has: {_listing(available)}"
                )
            out[role] = name if name in available else by_norm[normalize(name)]
            continue
        found = next((by_norm[u] for u in USUAL[role] if u in by_norm), None)
        if found is not None and found not in out.values():
            out[role] = found
    missing = [r for r in REQUIRED if r not in out]
    if missing:
        what = " and ".join(r.replace("/", " ").replace("acc", "accuracy") for r in missing)
        flags = " / ".join(FLAGS[r] for r in missing)
        raise UserError(
            f"{where}: no {what} column (it has: {_listing(available)}); name it with {flags}"
        )
    return out


def _listing(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most]) or "nothing"
    return shown + (f", … ({len(names)} in all)" if len(names) > most else "")


def as_fraction(log: Log) -> Log:
    """Accuracies logged in percent (a curve above 1, none above 100) as fractions."""
    for role in ("train/acc", "test/acc"):
        steps, values = log.curves.get(role, ([], []))
        if values and 1.0 < max(values) <= 100.0:
            log.curves[role] = (steps, [v / 100 for v in values])
            log.notes.append(f"{log.columns[role]} read as percent")
    return log


# -- CSV and JSON lines ---------------------------------------------------------------------------


def read_table(
    path: str, given: dict[str, str | None], run_column: str | None = None, source: str = "csv"
) -> list[Log]:
    """The runs of a CSV or JSON lines file: one row per logged step, empty cells for what a
    row did not log; a run column (`run_column`, else one named run / run_id / run_name)
    splits it into runs. Columns constant within a run are its params. `source`: csv or
    jsonl."""
    rows = _json_rows(path) if source == "jsonl" else _csv_rows(path)
    if not rows:
        raise UserError(f"{path}: no rows")
    available = list(dict.fromkeys(k for row in rows for k in row))
    if run_column is not None and run_column not in available:
        raise UserError(f"{path}: no column {run_column!r} (--run-column)")
    run_column = run_column or next((c for c in RUN_COLUMNS if c in available), None)
    columns = map_columns([a for a in available if a != run_column], given, path)
    if "step" not in columns:
        raise UserError(
            f"{path}: no step column (it has: {_listing(available)}); name it with --step"
        )
    runs: dict[str, list[tuple[int, dict]]] = {}
    for line, row in enumerate(rows, start=2 if source == "csv" else 1):
        runs.setdefault(str(row.get(run_column, "")) if run_column else "", []).append((line, row))
    logs = []
    for run, numbered in runs.items():
        name = run or os.path.basename(path)
        logs.append(as_fraction(_table_log(path, source, name, numbered, columns)))
    return logs


def _table_log(path, source, name, numbered, columns) -> Log:
    step_col = columns["step"]
    curves: dict[str, tuple[list[int], list[float]]] = {}
    last = None
    for line, row in numbered:
        step = _number(row.get(step_col), path, line, step_col)
        if step is None:
            continue
        if step != int(step):
            raise UserError(f"{path}, line {line}: step {step!r} in {step_col!r} is not whole")
        step = int(step)
        if last is not None and step < last:
            raise UserError(
                f"{path}, line {line}: step column {step_col!r} is not monotone ({step} after "
                f"{last}); several runs in one file need a run column (--run-column)"
            )
        last = step
        for role, col in columns.items():
            value = None if role == "step" else _number(row.get(col), path, line, col)
            if value is not None:
                steps, values = curves.setdefault(role, ([], []))
                if steps and steps[-1] == step:  # the same step logged twice: keep the last
                    values[-1] = value
                else:
                    steps.append(step)
                    values.append(value)
    params = {}
    used = set(columns.values())
    for key in dict.fromkeys(k for _, row in numbered for k in row):
        values = {str(row[key]) for _, row in numbered if row.get(key) not in (None, "")}
        if key not in used and len(values) == 1:
            params[key] = values.pop()
    missing = [r for r in REQUIRED if r not in curves]
    if missing:
        raise UserError(f"{path}: run {name!r} logged no value of {columns[missing[0]]!r}")
    return Log(name, source, path, curves, params, columns)


def _number(value, path: str, line: int, column: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{path}, line {line}: {column!r} is {value!r}, not a number") from None


def _csv_rows(path: str) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [{k: v for k, v in row.items() if k is not None} for row in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: cannot read it as CSV ({exc})") from None


def _json_rows(path: str) -> list[dict]:
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line, text in enumerate(f, start=1):
                if text.strip():
                    row = json.loads(text)
                    if not isinstance(row, dict):
                        raise UserError(f"{path}, line {line}: not a JSON object")
                    rows.append(row)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}, line {exc.lineno}: not JSON ({exc.msg})") from None
    return rows


# -- any log ------------------------------------------------------------------------------------

KINDS = ("csv", "jsonl", "tensorboard", "mlflow")


def kind_of(path: str) -> str:
    """What `path` holds: a CSV or JSON lines file, a TensorBoard folder or an MLflow store."""
    if path.startswith(("sqlite:", "file:", "http:", "https:")) or path.endswith(
        (".db", ".sqlite")
    ):
        return "mlflow"
    if os.path.isfile(path):
        if path.endswith((".jsonl", ".ndjson", ".json")):
            return "jsonl"
        if os.path.basename(path).startswith("events.out.tfevents"):
            return "tensorboard"
        return "csv"
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            if any(f.startswith("events.out.tfevents") for f in files):
                return "tensorboard"
            if "meta.yaml" in files:
                return "mlflow"
            dirs[:] = [d for d in dirs if root.count(os.sep) - path.count(os.sep) < 2]
        raise UserError(
            f"{path}: a folder with neither TensorBoard event files nor an MLflow store in it"
        )
    raise UserError(f"{path}: no such file or folder")


def read_logs(
    path: str,
    given: dict[str, str | None] | None = None,
    kind: str | None = None,
    run_column: str | None = None,
) -> list[Log]:
    """Every run in `path` (see kind_of; `kind` forces one), its columns mapped."""
    given = given or {}
    kind = kind or kind_of(path)
    if kind in ("csv", "jsonl"):
        return read_table(path, given, run_column, kind)
    if kind == "tensorboard":
        from phenolab.io.tb import read_tensorboard

        return [as_fraction(log) for log in read_tensorboard(path, given)]
    if kind == "mlflow":
        from phenolab.io.mlflow_store import read_mlflow

        return [as_fraction(log) for log in read_mlflow(path, given)]
    raise UserError(f"unknown log format {kind!r} (valid: {', '.join(KINDS)})")
