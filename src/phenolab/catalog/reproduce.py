"""Run a catalog entry: every arm over its seeds (as ensembles), then every expectation judged
and the verdicts appended to the store, never edited."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from phenolab.catalog.entry import Entry, Measured, Outcome
from phenolab.runner import RunResult
from phenolab.store import Store
from phenolab.sweep.grid import compatible_groups
from phenolab.sweep.local import cpu_workers, run_shards
from phenolab.sweep.shards import plan_shards


@dataclass
class Verdict:
    expectation: str
    claim: str
    verdict: str
    measured: float | None
    lower: float | None
    upper: float | None
    op: str
    threshold: float
    unit: str
    note: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()

    def measured_text(self) -> str:
        return Measured(self.measured, self.lower, self.upper).describe()


@dataclass
class Reproduction:
    entry: Entry
    quick: bool
    seeds: int
    outcome: Outcome
    verdicts: list[Verdict]
    seconds: float


def reproduce(
    entry: Entry,
    store: Store,
    device: torch.device,
    quick: bool,
    seeds: int | None = None,
    workers: int | None = None,
) -> Reproduction:
    n = seeds or (entry.quick_seeds if quick else entry.seeds)
    arms = {arm.name: [arm.variant(quick).replace(seed=s) for s in range(n)] for arm in entry.arms}
    configs = list(dict.fromkeys(c for cs in arms.values() for c in cs))
    t0 = time.perf_counter()
    results: dict[str, RunResult] = {}
    for group in compatible_groups(configs):
        w = workers or (cpu_workers(len(group)) if device.type == "cpu" else 1)
        plan = plan_shards(group, device, min_shards=w)
        for r in run_shards(plan.shards, store, device, min(w, len(plan.shards))):
            r.metrics = store.metrics(r.record.id)
            results[r.record.id] = r
    outcome = {name: [results[c.run_id()] for c in cs] for name, cs in arms.items()}
    verdicts = [judge(e, outcome) for e in entry.expectations]
    seconds = time.perf_counter() - t0
    store.add_verdicts(
        entry.id,
        "quick" if quick else "canonical",
        [v.as_dict() for v in verdicts],
        [c.run_id() for c in configs],
    )
    return Reproduction(entry, quick, n, outcome, verdicts, seconds)


def judge(expectation, outcome: Outcome) -> Verdict:
    verdict, m = expectation.judge(outcome)
    return Verdict(
        expectation.id,
        expectation.claim,
        verdict,
        m.value,
        m.lower,
        m.upper,
        expectation.op,
        expectation.threshold,
        expectation.unit,
        m.note,
    )
