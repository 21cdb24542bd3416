"""Catalog entries: a published phenomenon as a preregistered experiment.

An entry names the paper and the figure it reproduces, the configs of its arms (a canonical one
from the paper and, where that is GPU-sized, a smaller "quick" one for a CPU), how many seeds,
and its expectations: checkable statements about the outcome, written before any run. A FAIL is
a finding, not a bug: an expectation is never edited after its outcome is known; a changed
expectation keeps the old one in `history` with the reason.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from phenolab.config import RunConfig
from phenolab.run import RunResult

Outcome = dict[str, list[RunResult]]  # arm name → one result per seed
VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Measured:
    """A measured value, or bounds on it when some runs were too short to tell (censored)."""

    value: float | None  # None: unknown
    lower: float | None = None  # the value is at least this (e.g. a t_gen beyond the budget)
    upper: float | None = None
    note: str = ""

    def describe(self) -> str:
        """'3.2', '≥ 1,001' or 'unknown'."""
        if self.value is not None:
            return f"{self.value:.4g}"
        if self.lower is not None:
            return f"≥ {self.lower:.4g}"
        if self.upper is not None:
            return f"≤ {self.upper:.4g}"
        return "unknown"


class MissingCurves(LookupError):
    """A read-out needs a curve that a run of the outcome does not hold (never recorded, or not
    read from the store): the expectation cannot be judged, which is INCONCLUSIVE, not an error.
    Raised by `readouts.curves_of`, the one check every read-out uses."""


def unknown_without_curves(readout: Callable[..., Measured]) -> Callable[..., Measured]:
    """`readout`, reporting its value as unknown (the reason as its note) where it would raise
    MissingCurves. Every expectation is judged through it; wrap a read-out that is also called
    directly (e.g. by a command) with it too."""

    @functools.wraps(readout)
    def read(*args, **kwargs) -> Measured:
        try:
            return readout(*args, **kwargs)
        except MissingCurves as exc:
            return Measured(None, note=str(exc))

    return read


@dataclass(frozen=True)
class Expectation:
    """`readout(outcome) op threshold`, e.g. "median t_gen ratio ≥ 2". `readout` is the
    expectation's read-out (catalog/readouts.py): a value computed from the finished runs, not a
    progress measure recorded during training (phenolab.measures)."""

    id: str
    claim: str  # the published claim, in words
    readout: Callable[[Outcome], Measured]
    op: str
    threshold: float
    unit: str = ""
    # an experiment file's read-out as written: {"readout": name, parameter: value, ...} (its
    # registration hashes this; a built-in entry's read-out is hashed by its source instead)
    declared: dict | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"op must be one of {', '.join(_OPS)}")

    def judge(self, outcome: Outcome) -> tuple[str, Measured]:
        """PASS / FAIL, or INCONCLUSIVE when the value is unknown and its bounds do not decide
        (among others when a run lacks a curve the read-out needs)."""
        m = unknown_without_curves(self.readout)(outcome)
        holds = _OPS[self.op]
        if m.value is not None:
            return ("PASS" if holds(m.value, self.threshold) else "FAIL"), m
        greater = self.op in (">=", ">")
        if m.lower is not None and greater and holds(m.lower, self.threshold):
            return "PASS", m  # even the smallest possible value clears the bar
        if m.upper is not None and not greater and holds(m.upper, self.threshold):
            return "PASS", m
        if m.upper is not None and greater and not holds(m.upper, self.threshold):
            return "FAIL", m  # even the largest possible value falls short
        if m.lower is not None and not greater and not holds(m.lower, self.threshold):
            return "FAIL", m
        return "INCONCLUSIVE", m


@dataclass(frozen=True)
class Arm:
    name: str
    config: RunConfig  # canonical settings of the paper
    quick: RunConfig | None = None  # CPU-sized variant (None: the canonical one is CPU-sized)
    # a continuation: the arm whose run with the same seed initialises each of this arm's runs
    # (its config's init_from is set to that run's id; the parent arm is trained first)
    parent: str | None = None
    # the field that links each run to its parent's: init_from (a continuation), ticket_from
    # (a lottery ticket of the parent: its mask and rewound weights, run/start.py) or embed_from
    # (the parent's trained embedding, interventions/transfer.py)
    link: str = "init_from"
    # False: the quick variant leaves this arm out (a CPU-sized subset of a sweep)
    in_quick: bool = True

    def __post_init__(self) -> None:
        if self.link not in ("init_from", "ticket_from", "embed_from"):
            raise ValueError(f"arm {self.name}: link must be init_from, ticket_from or embed_from")

    def variant(self, quick: bool) -> RunConfig:
        return self.quick if quick and self.quick is not None else self.config


@dataclass(frozen=True)
class Entry:
    id: str
    phenomenon: str
    paper: str  # citation
    title: str
    description: str
    reproduces: str  # the published figure or number
    arms: tuple[Arm, ...]
    expectations: tuple[Expectation, ...]
    seeds: int = 5
    quick_seeds: int = 3
    quick_seconds: float = 60.0  # estimated CPU time of --quick on a 2-core machine
    seconds: float | None = None  # estimated time of the canonical variant (device in note)
    history: tuple[str, ...] = field(default_factory=tuple)  # changed expectations, with reasons
    # the entry's own figures, drawn after the run: (outcome, store) → [(caption, matplotlib
    # Figure)], shown in the report under the common accuracy figure
    figures: Callable[[Outcome, object], list[tuple[str, object]]] | None = None
    # an analysis of the finished runs that needs more than their curves (e.g. interpolating
    # between their stored weights): (outcome, store) → None, run before the expectations are
    # judged; it leaves its values in each result's `derived` for expectations and figures
    analysis: Callable[[Outcome, object], None] | None = None
    # an entry written as an experiment file (experiment.py): its path and text; None: Python
    file: str | None = None
    source: str | None = None
    motivation: str = ""  # why the experiment is run, where it reproduces no paper

    def own_figures(self, outcome: Outcome, store) -> list[tuple[str, object]]:
        """The entry's own figures (`figures`): none where a run lacks a curve they draw (the
        expectations that read it are INCONCLUSIVE for the same reason)."""
        if self.figures is None:
            return []
        try:
            return self.figures(outcome, store)
        except MissingCurves:
            return []
