"""Events, phases and double-descent peaks of runs phenolab did not train: the same analysis as
a stored run's (`analysis/events.py`, `analysis/doubledescent.py`) on the curves of a log
(`logs.py`), and the same HTML report."""

from __future__ import annotations

import hashlib
import math
import statistics
import time
from dataclasses import dataclass

from phenolab.analysis.doubledescent import Peak, find_peak
from phenolab.analysis.events import Events, classify
from phenolab.errors import UserError
from phenolab.io.logs import Log
from phenolab.store import RunRecord


@dataclass(frozen=True)
class Detected:
    """One log's events, with the chance level they were classified against."""

    log: Log
    chance: float
    chance_from: str  # "given", or how it was inferred
    events: Events

    def as_dict(self) -> dict:
        return {
            "run": self.log.name,
            "source": self.log.source,
            "path": self.log.path,
            **self.events.as_dict(),
            "chance": self.chance,
            "chance_from": self.chance_from,
            "params": self.log.params,
            "columns": self.log.columns,
            "notes": self.log.notes,
        }


def infer_chance(log: Log) -> tuple[float, str]:
    """The test accuracy of the untrained network: the first value logged (at step 0 if the
    log has it), at most 0.5 (a log that starts late may begin above chance). Only the
    semi-grokking / memorization boundary depends on it: give --chance where it matters."""
    steps, values = log.curves["test/acc"]
    return min(max(values[0], 0.0), 0.5), f"first test accuracy, step {steps[0]:,}"


def detect(log: Log, chance: float | None = None) -> Detected:
    """t_fit, t_gen, delay and phase of one log (`analysis.events.classify`), on the steps
    where both accuracies were logged."""
    train_steps, train = log.curves["train/acc"]
    test_of = dict(zip(*log.curves["test/acc"], strict=True))
    steps = [s for s in train_steps if s in test_of]
    if not steps:
        raise UserError(
            f"{log.path}: run {log.name!r} never logged train and test accuracy at the same step"
        )
    train_of = dict(zip(train_steps, train, strict=True))
    if chance is None:
        chance, chance_from = infer_chance(log)
    else:
        chance_from = "given"
    events = classify(steps, [train_of[s] for s in steps], [test_of[s] for s in steps], chance)
    return Detected(log, chance, chance_from, events)


@dataclass(frozen=True)
class SizeCurve:
    """Final test error against a size (width, parameters, samples) across runs, the median
    over the runs of each size, and its double-descent peak."""

    by: str
    sizes: list[float]
    errors: list[float]  # median over runs of 1 − final test accuracy
    runs: list[int]  # runs per size
    peak: Peak | None  # None: fewer than 2 sizes

    def as_dict(self) -> dict:
        peak = None if self.peak is None else self.peak.__dict__ | {"text": self.peak.describe()}
        return {
            "by": self.by,
            "sizes": self.sizes,
            "errors": self.errors,
            "runs": self.runs,
            "peak": peak,
        }


def across(detected: list[Detected], by: str) -> SizeCurve:
    """The double-descent read-out over runs indexed by the param `by` (a column, an HParams
    or MLflow param, or key=value in a TensorBoard folder's name)."""
    by_size: dict[float, list[float]] = {}
    for d in detected:
        value = d.log.params.get(by)
        try:
            size = float(value)
        except (TypeError, ValueError):
            have = ", ".join(sorted(d.log.params)) or "none"
            raise UserError(
                f"--by {by}: run {d.log.name!r} has no numeric {by!r} (its params: {have})"
            ) from None
        by_size.setdefault(size, []).append(1.0 - d.events.final_test_acc)
    sizes = sorted(by_size)
    errors = [statistics.median(by_size[s]) for s in sizes]
    peak = find_peak(sizes, errors) if len(sizes) >= 2 else None
    return SizeCurve(by, sizes, errors, [len(by_size[s]) for s in sizes], peak)


def record_of(d: Detected) -> RunRecord:
    """A run record for the report (never stored): the config says where the log came from."""
    key = f"{d.log.source}:{d.log.path}:{d.log.name}"
    now = time.time()
    config = {
        "external": {
            "source": d.log.source,
            "path": d.log.path,
            "name": d.log.name,
            "chance": d.chance,
            **{f"column {role}": col for role, col in d.log.columns.items()},
        },
    }
    if d.log.params:
        config["params"] = dict(d.log.params)
    return RunRecord(
        id=hashlib.sha256(key.encode()).hexdigest()[:12],
        config=config,
        status="finished",
        created=now,
        updated=now,
        seconds=math.nan,
        env={},
        summary=d.events.as_dict(),
    )
