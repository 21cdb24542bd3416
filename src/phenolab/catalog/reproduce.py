"""Run a catalog entry: every arm over its seeds (as ensembles), then every expectation judged
and the verdicts appended to the store, never edited."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from phenolab.catalog.entry import Entry, Measured, Outcome
from phenolab.config import RunConfig
from phenolab.run import DEFAULT_OPTIONS, Options, Progress, RunResult, train_configs
from phenolab.store import Store


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
    registration: str | None = None  # the hash of the registration it was judged under

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
    registration: object = None  # the ledger's Registration it was judged under
    earlier: list = field(default_factory=list)  # ledger.Earlier: other contents, their verdicts

    @property
    def label(self) -> str:
        """ "canonical", or "quick (differs from canonical: …)" computed from the configs."""
        from phenolab.catalog.labels import label

        return label(self.entry, self.quick)


def reproduce(
    entry: Entry,
    store: Store,
    device: torch.device,
    quick: bool,
    seeds: int | None = None,
    workers: int | None = None,
    options: Options = DEFAULT_OPTIONS,
    on_progress: Callable[[Progress], None] | None = None,
    registration: str | None = None,
) -> Reproduction:
    """Train every arm of `entry` over its seeds and judge its expectations; the verdicts are
    appended to the store, each naming `registration` (the ledger's hash it is judged under)."""
    n = seeds or (entry.quick_seeds if quick else entry.seeds)
    arms = arm_configs(entry, quick, n)
    configs = list(dict.fromkeys(c for cs in arms.values() for c in cs))
    t0 = time.perf_counter()
    results: dict[str, RunResult] = {}
    for stage in stages(entry):  # parents before the continuations they initialise
        todo = [c for name in stage if name in arms for c in arms[name]]
        trained = train_configs(
            todo, store, device, workers=workers, options=options, on_progress=on_progress
        )
        for r in trained:
            results[r.record.id] = r
    outcome = {name: [results[c.run_id()] for c in cs] for name, cs in arms.items()}
    if entry.analysis is not None:
        entry.analysis(outcome, store)
    verdicts = [judge(e, outcome, registration) for e in entry.expectations]
    seconds = time.perf_counter() - t0
    store.add_verdicts(
        entry.id,
        "quick" if quick else "canonical",
        [v.as_dict() for v in verdicts],
        [c.run_id() for c in configs],
    )
    return Reproduction(entry, quick, n, outcome, verdicts, seconds)


def arm_configs(entry: Entry, quick: bool, n: int) -> dict[str, list[RunConfig]]:
    """Each arm's configs for seeds 0 … n−1 (the quick variant: the arms it runs); a
    continuation's (or ticket's) seed s starts from its parent arm's seed-s run."""
    by_name = {arm.name: arm for arm in entry.arms}
    ran = [arm for arm in entry.arms if arm.in_quick or not quick]
    for arm in ran:
        if arm.parent is not None and not by_name[arm.parent].in_quick and quick:
            raise ValueError(f"arm {arm.name}: its parent {arm.parent} is left out of --quick")
    out: dict[str, list[RunConfig]] = {}

    def configs(name: str) -> list[RunConfig]:
        if name not in out:
            arm = by_name[name]
            own = [arm.variant(quick).replace(seed=s) for s in range(n)]
            if arm.parent is not None:
                own = [
                    c.replace(**{arm.link: p.run_id()})
                    for c, p in zip(own, configs(arm.parent), strict=True)
                ]
            out[name] = own
        return out[name]

    for arm in ran:
        configs(arm.name)
    return {arm.name: out[arm.name] for arm in ran}


def stages(entry: Entry) -> list[list[str]]:
    """Arm names grouped by depth in the parent chain: arms without a parent first."""
    by_name = {arm.name: arm for arm in entry.arms}

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        parent = by_name[name].parent
        if parent is None:
            return 0
        if parent not in by_name or parent in seen:
            raise ValueError(f"arm {name}: parent {parent!r} is not an arm or forms a cycle")
        return 1 + depth(parent, (*seen, name))

    depths = {arm.name: depth(arm.name) for arm in entry.arms}
    return [[n for n, d in depths.items() if d == k] for k in range(max(depths.values()) + 1)]


def judge(expectation, outcome: Outcome, registration: str | None = None) -> Verdict:
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
        registration,
    )
