"""The read-outs an experiment file may name: a documented vocabulary built on the catalog's own
read-outs (readouts.py, sweep_readouts.py), so that an expectation written in TOML is judged by
the same code as a built-in entry's. `phenolab catalog --readouts` lists them.

Each read-out takes named parameters (an `[[expect]]` table's other keys): `arm` (an arm of the
experiment), `numerator` / `denominator` (two arms), `arms` (a sweep: a list of arms), `x` (the
config field that varies over a sweep's arms), `level` (an accuracy), `metric` / `a` / `b` /
`reference` (recorded curves, e.g. "test/acc", "norm/total"), `phase` and `window`. Every
summary over seeds respects censoring: a seed that never generalized counts as generalizing
just after the run's budget, which makes a median a bound, judged only where the bound decides
(entry.py).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from phenolab import Registry
from phenolab.analysis.doubledescent import find_peak
from phenolab.analysis.events import PHASES
from phenolab.catalog import readouts as r
from phenolab.catalog.entry import Measured, Outcome
from phenolab.catalog.sweep_readouts import seed_values
from phenolab.errors import ConfigError

REQUIRED = object()
# parameter kinds: how a value is checked
ARM, ARMS, NUMBER, TEXT, PHASE, INT = "arm", "arms", "number", "text", "phase", "int"


@dataclass(frozen=True)
class ReadOut:
    """A read-out of the vocabulary: `fn(outcome, **params) → Measured`."""

    name: str
    summary: str  # one line, for `phenolab catalog --readouts` and the README
    params: tuple[tuple[str, str, Any], ...]  # (name, kind, default or REQUIRED)
    fn: Callable[..., Measured]

    def bind(self, given: Mapping[str, Any], arms: Mapping[str, Any], where: str):
        """The expectation's read-out `outcome → Measured` with its parameters checked against
        the experiment's `arms` (a one-line ConfigError prefixed by `where` otherwise) and the
        parameters, defaults filled in."""
        names = [p[0] for p in self.params]
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ConfigError(
                f"{where}: read-out {self.name} takes no parameter {unknown[0]!r} "
                f"(its parameters: {', '.join(names)})"
            )
        values: dict[str, Any] = {}
        for name, kind, default in self.params:
            if name not in given:
                if default is REQUIRED:
                    raise ConfigError(f"{where}: read-out {self.name} needs {name} ({kind})")
                values[name] = default
                continue
            values[name] = _check(given[name], kind, arms, f"{where}: {name}")
        fn = self.fn
        return (lambda outcome: fn(outcome, **values)), values


def _check(value: Any, kind: str, arms: Mapping[str, Any], where: str) -> Any:
    if kind == ARM:
        if value not in arms:
            raise ConfigError(f"{where}: {value!r} is not an arm (arms: {', '.join(arms)})")
        return value
    if kind == ARMS:
        if not isinstance(value, list) or len(value) < 2:
            raise ConfigError(f"{where}: a list of at least two arms, got {value!r}")
        return [_check(v, ARM, arms, where) for v in value]
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: a number, got {value!r}")
        return float(value)
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: a positive integer, got {value!r}")
        return value
    if kind == PHASE:
        if value not in PHASES:
            raise ConfigError(f"{where}: unknown phase {value!r} (valid: {', '.join(PHASES)})")
        return value
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: a name, got {value!r}")
    return value


READOUTS = Registry(None, "read-out ")  # name → ReadOut


def readout(name: str, *params: tuple[str, str, Any]):
    """Register `fn(outcome, **params)` under `name`; its docstring's first line is its summary."""

    def add(fn):
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        READOUTS.register(name, ReadOut(name, doc, params, fn))
        return fn

    return add


def _arm(name: str = "arm") -> tuple[str, str, Any]:
    return (name, ARM, REQUIRED)


LEVEL = ("level", NUMBER, 0.95)
SWEEP = (("arms", ARMS, REQUIRED), ("x", TEXT, REQUIRED), ("metric", TEXT, "test/loss"))
WINDOW = ("window", INT, 1)


@readout("median_t_gen", _arm())
def _median_t_gen(outcome: Outcome, arm: str) -> Measured:
    """Median t_gen of an arm (test accuracy ≥ 0.99 to the end); a lower bound if a seed never."""
    return r.median_t_gen(outcome, arm)


@readout("t_gen_ratio", _arm("numerator"), _arm("denominator"))
def _t_gen_ratio(outcome: Outcome, numerator: str, denominator: str) -> Measured:
    """Ratio of two arms' median t_gen (a speed-up: slow / fast), bounds carried through."""
    return r.ratio(r.median_t_gen(outcome, numerator), r.median_t_gen(outcome, denominator))


@readout("share_generalized", _arm())
def _share_generalized(outcome: Outcome, arm: str) -> Measured:
    """Share of an arm's seeds that generalized (reached t_gen) within the budget."""
    return r.fraction_generalized(outcome, arm)


@readout("steps_to", _arm(), LEVEL)
def _steps_to(outcome: Outcome, arm: str, level: float) -> Measured:
    """Median first step from which test accuracy stays ≥ level (censored as t_gen)."""
    return r.median_steps_to(outcome, arm, level)


@readout("first_steps_to", _arm(), LEVEL)
def _first_steps_to(outcome: Outcome, arm: str, level: float) -> Measured:
    """Median first step at which test accuracy reaches level at all (first crossing)."""
    return r.median_steps_to(outcome, arm, level, first=True)


@readout("steps_to_ratio", _arm("numerator"), _arm("denominator"), LEVEL)
def _steps_to_ratio(outcome: Outcome, numerator: str, denominator: str, level: float) -> Measured:
    """Ratio of two arms' median steps to test accuracy ≥ level, bounds carried through."""
    return r.ratio(
        r.median_steps_to(outcome, numerator, level),
        r.median_steps_to(outcome, denominator, level),
    )


@readout("final_metric", _arm(), ("metric", TEXT, "test/acc"))
def _final_metric(outcome: Outcome, arm: str, metric: str) -> Measured:
    """Median over seeds of a recorded curve's last value (default: test accuracy)."""
    return Measured(statistics.median(seed_values(outcome, arm, metric)))


@readout("delay_ratio", _arm())
def _delay_ratio(outcome: Outcome, arm: str) -> Measured:
    """Median t_gen / t_fit (the grokking delay as a ratio; ≤ 2 is comprehension)."""
    return r.median_delay_ratio(outcome, arm)


@readout("rank_correlation", _arm(), ("a", TEXT, REQUIRED), ("b", TEXT, REQUIRED))
def _rank_correlation(outcome: Outcome, arm: str, a: str, b: str) -> Measured:
    """Median over seeds of |Spearman ρ| between two curves over the evaluation grid."""
    return r.median_correlation(outcome, arm, a, b)


@readout("width_ratio", _arm(), ("metric", TEXT, REQUIRED), ("reference", TEXT, "test/acc"))
def _width_ratio(outcome: Outcome, arm: str, metric: str, reference: str) -> Measured:
    """Median 10→90 % width of a curve's last transition over the reference curve's."""
    return r.median_width_ratio(outcome, arm, metric, reference)


@readout("phase_count", _arm(), ("phase", PHASE, REQUIRED))
def _phase_count(outcome: Outcome, arm: str, phase: str) -> Measured:
    """How many of an arm's seeds ended in a phase (grokking, memorization, …)."""
    return Measured(float(sum(x.events.phase == phase for x in outcome[arm])))


@readout("phase_share", _arm(), ("phase", PHASE, REQUIRED))
def _phase_share(outcome: Outcome, arm: str, phase: str) -> Measured:
    """Share of an arm's seeds that ended in a phase."""
    return r.phase_share(outcome, arm, phase)


def _sweep_peak(outcome: Outcome, arms: list[str], x: str, metric: str, window: int):
    """The peak of the median (over seeds) of `metric` against config field `x` over `arms`."""
    points = sorted((_field(outcome, arm, x), arm) for arm in arms)
    xs = [p for p, _ in points]
    if len(set(xs)) != len(xs):
        raise ValueError(f"{x}: two arms of the sweep share a value")
    ys = [statistics.median(seed_values(outcome, arm, metric)) for _, arm in points]
    return find_peak(xs, ys, window=window)


def _field(outcome: Outcome, arm: str, name: str) -> float:
    config = outcome[arm][0].record.config
    flat = {
        k: v for section in config.values() if isinstance(section, dict) for k, v in section.items()
    }
    if name not in flat:
        raise ConfigError(f"x: {name!r} is not a config field")
    return float(flat[name])


@readout("peak_location", *SWEEP, WINDOW)
def _peak_location(outcome, arms, x, metric, window) -> Measured:
    """Where (in x) the sweep's median metric peaks; unknown when it has no peak."""
    peak = _sweep_peak(outcome, arms, x, metric, window)
    return Measured(peak.x) if peak.found else Measured(None, note="no peak")


@readout("peak_height", *SWEEP, WINDOW)
def _peak_height(outcome, arms, x, metric, window) -> Measured:
    """The peak's rise over the lowest value before it (0 when the curve never rises)."""
    return Measured(_sweep_peak(outcome, arms, x, metric, window).height)


@readout("second_descent", *SWEEP, WINDOW)
def _second_descent(outcome, arms, x, metric, window) -> Measured:
    """How far the metric falls back after its peak, as a share of the peak's height."""
    peak = _sweep_peak(outcome, arms, x, metric, window)
    return Measured(peak.drop) if peak.found else Measured(None, note="no peak")


def describe() -> list[tuple[str, str, str]]:
    """[(name, parameters, summary)] of every read-out, for listings and the README."""
    out = []
    for name in READOUTS.names():
        ro = READOUTS[name]
        params = ", ".join(
            n if d is REQUIRED else f"{n}={d!r}" if not isinstance(d, str) else f"{n}={d}"
            for n, _, d in ro.params
        )
        out.append((name, params, ro.summary))
    return out
