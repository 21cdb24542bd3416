"""Per-arm statistics of a comparison (medians of t_gen and of steps to 95 % test accuracy with
the seeds' range below 5 seeds or the IQR from 5, speed-ups with the seeds' range or a
percentile-bootstrap interval — analysis/speedup.py says which and when —, seconds), as JSON and
as a table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from phenolab.analysis.ensemble import quantile
from phenolab.analysis.speedup import (
    BOOTSTRAP_FROM,
    BOUND_MARKS,
    LEVEL,
    RANGE,
    Speedup,
    interval_kind,
    interval_name,
)
from phenolab.compare.arms import Arm
from phenolab.config import RunConfig
from phenolab.run import RunResult


@dataclass
class ArmOutcome:
    arm: Arm
    configs: list[RunConfig]  # one per seed
    results: list[RunResult]  # one per seed, with metrics
    t_gen: list[int | None]
    t95: list[int | None]  # first step from which test accuracy stays ≥ 0.95
    steps: int  # the run length: the lower bound of a t_gen that never came
    seconds: float  # training seconds of its runs (an ensemble's seconds shared by its members)
    speedup: Speedup | None = None  # baseline median t_gen / this arm's

    @property
    def not_generalized(self) -> int:
        return sum(t is None for t in self.t_gen)

    def as_dict(self) -> dict:
        assert self.speedup is not None, "summarised by compare()"
        q = _quantiles(self.t_gen)
        q95 = _quantiles(self.t95)
        phases: dict[str, int] = {}
        for r in self.results:
            phases[r.events.phase] = phases.get(r.events.phase, 0) + 1
        return {
            "arm": self.arm.name,
            "control_of": self.arm.control_of,
            "matched": self.arm.matched or None,
            "interventions": list(self.arm.interventions),
            "changes": dict(self.arm.changes),
            "seeds": [c.train.seed for c in self.configs],
            "steps": self.steps,
            "t_gen": self.t_gen,
            "median_t_gen": q[1],
            "iqr": [q[0], q[2]],
            "t_gen_range": list(_extremes(self.t_gen)),
            "t95": self.t95,
            "median_t95": q95[1],
            "iqr_t95": [q95[0], q95[2]],
            "speedup": _finite(self.speedup.value),
            # the interval: the seeds' range (fewer than 5 seeds) or a percentile bootstrap
            "interval": self.speedup.interval,
            "ci_low": _finite(self.speedup.low),
            "ci_high": _finite(self.speedup.high),
            "speedup_bound": self.speedup.bound,
            # None: the end is exact; lower / upper: a bound (a censored seed decides it)
            "ci_low_bound": self.speedup.low_bound,
            "ci_high_bound": self.speedup.high_bound,
            "not_generalized": self.not_generalized,
            "seconds": round(self.seconds, 3),
            "phases": phases,
            "run_ids": [r.record.id for r in self.results],
        }


def _quantiles(ts: Sequence[int | None]) -> tuple[float | None, float | None, float | None]:
    """q1, median, q3 with never (None) = ∞; a quantile that is ∞ is None."""
    xs = [math.inf if t is None else float(t) for t in ts]
    return tuple(_finite(quantile(xs, q)) for q in (0.25, 0.5, 0.75))  # type: ignore[return-value]


def _extremes(ts: Sequence[int | None]) -> tuple[float | None, float | None]:
    """The fastest and slowest seed's t_gen; a never-generalized one is None (∞)."""
    xs = [math.inf if t is None else float(t) for t in ts]
    return _finite(min(xs)), _finite(max(xs))


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    return None if math.isinf(x) or math.isnan(x) else x


@dataclass
class Comparison:
    baseline: RunConfig
    baseline_name: str
    arms: list[ArmOutcome]  # the baseline first
    seeds: int
    seconds: float  # wall time of the comparison
    shards: list[int]  # members per ensemble shard trained (or fetched)
    device: str
    resamples: int

    @property
    def interval(self) -> str:
        """RANGE (fewer than 5 seeds) or BOOTSTRAP: what the table's intervals are."""
        return interval_kind(self.seeds)

    def table(self) -> list[list[str]]:
        """The comparison as text cells, header first (stdout and the HTML report)."""
        ranged = self.interval == RANGE
        header = list(TABLE_HEADER)
        header[3] = "range t_gen" if ranged else "IQR t_gen"
        header[6] = "range" if ranged else f"{LEVEL:.0%} bootstrap"
        return [header, *(_table_row(a.as_dict(), ranged) for a in self.arms)]

    def notes(self) -> list[str]:
        """How to read the table."""
        first = (RANGE_NOTE if self.interval == RANGE else BOOTSTRAP_NOTE).format(
            name=interval_name(self.interval, LEVEL, self.resamples), n=BOOTSTRAP_FROM
        )
        notes = [first, *NOTES]
        if any("smaller step under" in a.arm.matched for a in self.arms):
            notes.append(ADAM_NOTE)
        return notes

    def as_dict(self) -> dict:
        return {
            "baseline": {"name": self.baseline_name, "config": self.baseline.canonical()},
            "arms": [a.as_dict() for a in self.arms],
            "seeds": self.seeds,
            "seconds": round(self.seconds, 3),
            "shards": self.shards,
            "device": self.device,
            "resamples": self.resamples,
        }


TABLE_HEADER = [
    "arm",
    "never",
    "median t_gen",
    "IQR t_gen",  # "range t_gen" below 5 seeds
    "median t95",
    "speed-up",
    "interval",  # "range" below 5 seeds, else "95% bootstrap"
    "s",
]
RANGE_NOTE = (
    "speed-up = baseline median t_gen / arm median t_gen. Fewer than {n} seeds per arm: the "
    "brackets are the {name} (fastest baseline seed / slowest arm seed … slowest / fastest), "
    "not a confidence interval — a 95 % bootstrap of so few seeds would be the same range."
)
BOOTSTRAP_NOTE = (
    "speed-up = baseline median t_gen / arm median t_gen; interval: {name} of the seeds within "
    "each arm (fixed RNG seed). IQR: interquartile range of the seeds' t_gen."
)
ADAM_NOTE = (
    "lr/(1+λ) controls under Adam(W) or Muon: their normalisation undoes a uniform gradient "
    "scale, so Grokfast's (1 + λ) gain does not enlarge the step and the control is a smaller "
    "step than the arm's — the same filter at a lower learning rate, not a matched step."
)
NOTES = (
    "A seed that never generalized counts as t_gen = ∞ in medians and ranges (shown as > the "
    "run's length) and as the run's length, a lower bound, in ratios: a speed-up or interval "
    "end marked ≥ or ≤ is a bound (a censored seed decides it), ? unknown (neither arm's "
    "median generalized).",
    "t95: first step from which test accuracy stays ≥ 0.95. s: training seconds of the arm's "
    "runs (an ensemble's time shared evenly by its members).",
)


def _steps_text(value: float | None, length: int) -> str:
    return f"> {length:,}" if value is None else f"{value:,.0f}"


def _ratio_text(value: float | None) -> str:
    return "∞" if value is None else f"{value:.2f}"


def _bounded_text(value: float | None, bound: str | None) -> str:
    if bound == "unknown":
        return "?"
    return BOUND_MARKS[bound] + _ratio_text(value)


def _table_row(r: dict, ranged: bool) -> list[str]:
    n = r["steps"]
    spread = r["t_gen_range"] if ranged else r["iqr"]
    return [
        r["arm"],
        f"{r['not_generalized']}/{len(r['seeds'])}",
        _steps_text(r["median_t_gen"], n),
        f"[{_steps_text(spread[0], n)}, {_steps_text(spread[1], n)}]",
        _steps_text(r["median_t95"], n),
        _bounded_text(r["speedup"], r["speedup_bound"]),
        f"[{_bounded_text(r['ci_low'], r['ci_low_bound'])}, "
        f"{_bounded_text(r['ci_high'], r['ci_high_bound'])}]",
        f"{r['seconds']:.1f}",
    ]
