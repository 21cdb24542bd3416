"""Per-arm statistics of a comparison (medians and IQRs of t_gen and of steps to 95 % test
accuracy, speed-ups with bootstrap intervals, seconds), as JSON and as a table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from phenolab.analysis.ensemble import quantile
from phenolab.analysis.speedup import LEVEL, Speedup
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
            "t95": self.t95,
            "median_t95": q95[1],
            "iqr_t95": [q95[0], q95[2]],
            "speedup": _finite(self.speedup.value),
            "ci_low": _finite(self.speedup.low),
            "ci_high": _finite(self.speedup.high),
            "speedup_bound": self.speedup.bound,
            "not_generalized": self.not_generalized,
            "seconds": round(self.seconds, 3),
            "phases": phases,
            "run_ids": [r.record.id for r in self.results],
        }


def _quantiles(ts: Sequence[int | None]) -> tuple[float | None, float | None, float | None]:
    """q1, median, q3 with never (None) = ∞; a quantile that is ∞ is None."""
    xs = [math.inf if t is None else float(t) for t in ts]
    return tuple(_finite(quantile(xs, q)) for q in (0.25, 0.5, 0.75))  # type: ignore[return-value]


def _finite(x: float) -> float | None:
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

    def table(self) -> list[list[str]]:
        """The comparison as text cells, header first (stdout and the HTML report)."""
        return [TABLE_HEADER, *(_table_row(a.as_dict()) for a in self.arms)]

    def notes(self) -> list[str]:
        """How to read the table."""
        return [n.format(level=LEVEL, resamples=self.resamples) for n in NOTES]

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
    "IQR t_gen",
    "median t95",
    "speed-up",
    "95% CI",
    "s",
]
NOTES = (
    "speed-up = baseline median t_gen / arm median t_gen; CI: {level:.0%} percentile bootstrap "
    "over {resamples:,} resamples of the seeds within each arm (fixed RNG seed).",
    "A seed that never generalized counts as t_gen = ∞ in medians and IQRs (shown as > the "
    "run's length) and as the run's length, a lower bound, in ratios: a speed-up marked ≥ or ≤ "
    "is a bound.",
    "t95: first step from which test accuracy stays ≥ 0.95. s: training seconds of the arm's "
    "runs (an ensemble's time shared evenly by its members).",
)


def _steps_text(value: float | None, length: int) -> str:
    return f"> {length:,}" if value is None else f"{value:,.0f}"


def _ratio_text(value: float | None) -> str:
    return "∞" if value is None else f"{value:.2f}"


def _table_row(r: dict) -> list[str]:
    n = r["steps"]
    mark = {None: "", "lower": "≥ ", "upper": "≤ ", "unknown": "? "}[r["speedup_bound"]]
    return [
        r["arm"],
        f"{r['not_generalized']}/{len(r['seeds'])}",
        _steps_text(r["median_t_gen"], n),
        f"[{_steps_text(r['iqr'][0], n)}, {_steps_text(r['iqr'][1], n)}]",
        _steps_text(r["median_t95"], n),
        mark + _ratio_text(r["speedup"]),
        f"[{_ratio_text(r['ci_low'])}, {_ratio_text(r['ci_high'])}]",
        f"{r['seconds']:.1f}",
    ]
