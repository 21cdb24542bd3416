"""The scorecard's tests on candidate curves: tracking, telling when, forecasting — each a
number with a bootstrap interval over conditions (the seeds of a condition resampled with it).

All rules are fitted on the development conditions and scored on the held-out ones. A run that
never generalized has a censored t_gen: it counts as `Rules.censored_factor` × the run length,
for the measured and for the predicted value alike (a rule that never fires predicts "never").

- Tracking (Jeffares & van der Schaar's Fig. 4 criterion): per run, |Spearman ρ| between the
  measure and test accuracy over the kept steps; averaged per condition; mean over conditions.
- Telling when: the rule "generalized at the first kept step where the measure, in its
  direction, crosses c" — c absolute, or relative to the run's own start and end values (the
  family and c chosen on development runs by the median |log ratio|); scored on held-out runs by
  Spearman ρ and median |log(predicted / measured)|, and the share of runs where it agrees on
  *whether* the run generalized.
- Forecasting: only the measure's values up to `forecast_cutoff` × t_fit (t_fit from train
  accuracy — no test label): log t_gen = a + b·z with z the measure's relative change between
  t_fit and the cut-off, (a, b) least squares on development runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import spearmanr

from phenolab.judge.candidates import DOWN, FIT, UP
from phenolab.judge.evaluate import RunCurves
from phenolab.judge.trial import DEV, HELD_OUT, Rules

THRESHOLDS = 64  # candidate thresholds tried on the development runs (quantiles)


@dataclass
class Score:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    extra: dict = field(default_factory=dict)

    def json(self) -> dict:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, **self.extra}


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan")
    return float(spearmanr(a[ok], b[ok]).statistic)


def bootstrap(
    groups: dict[str, list], statistic: Callable[[list], float], rules: Rules
) -> tuple[float | None, float | None, float | None]:
    """The statistic over all items, and a percentile bootstrap interval (level `rules.level`)
    resampling the groups (conditions) with replacement."""
    names = sorted(groups)
    items = [x for n in names for x in groups[n]]
    value = statistic(items)
    if not np.isfinite(value):
        return None, None, None
    rng = np.random.default_rng(rules.bootstrap_seed)
    stats = []
    for _ in range(rules.bootstrap):
        pick = rng.integers(0, len(names), len(names))
        sample = [x for i in pick for x in groups[names[i]]]
        s = statistic(sample)
        if np.isfinite(s):
            stats.append(s)
    if not stats:
        return float(value), None, None
    tail = (1 - rules.level) / 2
    lo, hi = np.quantile(stats, [tail, 1 - tail])
    return float(value), float(lo), float(hi)


# --- tracking ---------------------------------------------------------------------------------


def tracking(cand: str, curves: Sequence[RunCurves], rules: Rules) -> Score:
    def per_run(c: RunCurves) -> float:
        return rank_correlation(c.values[cand], c.test_acc)

    groups = {}
    for c in curves:
        r = per_run(c)
        if np.isfinite(r):
            groups.setdefault(c.condition, []).append(r)

    def stat(rs: list[float]) -> float:
        return float(np.mean(np.abs(rs))) if rs else float("nan")

    value, lo, hi = bootstrap(groups, stat, rules)
    signed = float(np.mean([r for rs in groups.values() for r in rs])) if groups else None
    return Score(value, lo, hi, {"signed": signed, "runs": sum(map(len, groups.values()))})


# --- telling when -----------------------------------------------------------------------------


def measured_t(c: RunCurves, rules: Rules) -> float:
    t = c.events.t_gen
    return float(t) if t is not None else rules.censored_factor * c.run_length


def crossing(values: np.ndarray, steps: np.ndarray, c: float, sign: int) -> int | None:
    """First kept step at which sign·value ≥ sign·c (NaN values never cross)."""
    hit = np.nonzero(np.nan_to_num(sign * values, nan=-np.inf) >= sign * c)[0]
    return int(steps[hit[0]]) if len(hit) else None


def _relative(values: np.ndarray) -> np.ndarray:
    """The run's progress from its first to its last value, 0 → 1."""
    span = values[-1] - values[0]
    if not np.isfinite(span) or span == 0:
        return np.full_like(values, np.nan)
    return (values - values[0]) / span


@dataclass(frozen=True)
class WhenRule:
    family: str  # "absolute" or "relative"
    sign: int  # +1: crosses upward, −1: downward
    c: float

    def predict(self, run: RunCurves, cand: str, rules: Rules) -> float:
        values = run.values[cand]
        series = _relative(values) if self.family == "relative" else values
        # relative progress always rises: the crossing is upward
        sign = 1 if self.family == "relative" else self.sign
        t = crossing(series, run.steps, self.c, sign)
        return float(max(t, 1)) if t is not None else rules.censored_factor * run.run_length

    def text(self) -> str:
        if self.family == "relative":
            return f"when {self.c:.0%} of the way from its first to its last value"
        return f"when it {'rises above' if self.sign > 0 else 'falls below'} {self.c:.4g}"


def _signs(direction: str) -> list[int]:
    return {UP: [1], DOWN: [-1], FIT: [1, -1]}[direction]


def log_errors(pred: Sequence[float], true: Sequence[float]) -> np.ndarray:
    return np.abs(np.log(np.asarray(pred, float)) - np.log(np.asarray(true, float)))


def fit_when(cand: str, direction: str, dev: Sequence[RunCurves], rules: Rules) -> WhenRule | None:
    """The rule with the smallest median |log ratio| on the development runs."""
    if not dev:
        return None
    truth = [measured_t(c, rules) for c in dev]
    pooled = np.concatenate([c.values[cand] for c in dev])
    pooled = pooled[np.isfinite(pooled)]
    if len(pooled) == 0:
        return None
    quantiles = np.linspace(0, 1, THRESHOLDS)
    options = [
        WhenRule("absolute", s, float(c))
        for s in _signs(direction)
        for c in np.unique(np.quantile(pooled, quantiles))
    ]
    options += [WhenRule("relative", 1, float(q)) for q in np.linspace(0.05, 0.95, 19)]
    best, best_err = None, np.inf
    for rule in options:
        err = float(np.median(log_errors([rule.predict(c, cand, rules) for c in dev], truth)))
        if err < best_err:
            best, best_err = rule, err
    return best


def predictions_score(
    pred: dict[str, float], runs: Sequence[RunCurves], rules: Rules
) -> tuple[Score, Score, float]:
    """(rank correlation, median |log ratio|, share agreeing on whether) of predictions
    {run id: t} on `runs`, with intervals over conditions."""
    groups: dict[str, list[tuple[float, float, bool, bool]]] = {}
    for c in runs:
        if c.run_id in pred:
            never = rules.censored_factor * c.run_length
            p, t = pred[c.run_id], measured_t(c, rules)
            groups.setdefault(c.condition, []).append((p, t, p < never, t < never))

    def rank(items):
        return rank_correlation(
            np.array([p for p, *_ in items]), np.array([t for _, t, *_ in items])
        )

    def err(items):
        return float(np.median(log_errors([i[0] for i in items], [i[1] for i in items])))

    def whether(items):
        return float(np.mean([a == b for *_, a, b in items]))

    items = [x for g in groups.values() for x in g]
    if not items:
        return Score(None), Score(None), float("nan")
    return (
        Score(*bootstrap(groups, rank, rules)),
        Score(*bootstrap(groups, err, rules)),
        whether(items),
    )


def telling_when(
    cand: str, direction: str, curves: Sequence[RunCurves], conditions: dict, rules: Rules
) -> dict:
    dev = [c for c in curves if conditions[c.condition] == DEV]
    held = [c for c in curves if conditions[c.condition] == HELD_OUT]
    rule = fit_when(cand, direction, dev, rules)
    if rule is None:
        return {
            "rule": None,
            "rank": Score(None),
            "log_ratio": Score(None),
            "whether": None,
            "predicted": {},
        }
    pred = {c.run_id: rule.predict(c, cand, rules) for c in held}
    rank, err, whether = predictions_score(pred, held, rules)
    return {
        "rule": rule.text(),
        "rank": rank,
        "log_ratio": err,
        "whether": whether,
        "predicted": pred,
    }


# --- forecasting ------------------------------------------------------------------------------


def forecast_feature(run: RunCurves, cand: str, rules: Rules) -> float:
    """The measure's relative change between t_fit and cut-off = forecast_cutoff · t_fit (the
    kept steps at or before each); NaN when the run never fit or the values are missing."""
    t_fit = run.events.t_fit
    if t_fit is None:
        return float("nan")
    values = run.values[cand]
    start = np.nonzero(run.steps <= t_fit)[0]
    end = np.nonzero(run.steps <= rules.forecast_cutoff * t_fit)[0]
    if not len(start) or not len(end) or end[-1] <= start[-1]:
        return float("nan")
    a, b = values[start[-1]], values[end[-1]]
    return float((b - a) / max(abs(a), 1e-12))


def forecasting(cand: str, curves: Sequence[RunCurves], conditions: dict, rules: Rules) -> dict:
    dev = [c for c in curves if conditions[c.condition] == DEV]
    held = [c for c in curves if conditions[c.condition] == HELD_OUT]
    x = np.array([forecast_feature(c, cand, rules) for c in dev])
    y = np.log([measured_t(c, rules) for c in dev])
    ok = np.isfinite(x)
    if ok.sum() < 3:
        return {
            "rule": None,
            "rank": Score(None),
            "log_ratio": Score(None),
            "whether": None,
            "predicted": {},
            "before_transition": None,
        }
    if np.ptp(x[ok]) > 0:
        b, a = np.polyfit(x[ok], y[ok], 1)
    else:
        b, a = 0.0, float(np.mean(y[ok]))
    pred = {}
    for c in held:
        z = forecast_feature(c, cand, rules)
        if np.isfinite(z):
            never = rules.censored_factor * c.run_length
            pred[c.run_id] = float(np.clip(np.exp(a + b * z), 1, never))
    rank, err, whether = predictions_score(pred, held, rules)
    return {
        "rule": f"log t_gen = {a:.3g} {'+' if b >= 0 else '−'} {abs(b):.3g}·z",
        "rank": rank,
        "log_ratio": err,
        "whether": whether,
        "predicted": pred,
        "before_transition": before_transition(held, rules),
    }


def before_transition(runs: Sequence[RunCurves], rules: Rules) -> float | None:
    """Share of runs whose test accuracy at the forecast cut-off is still below half-way from
    its first value to 1: the check that the forecast is about the future."""
    flags = []
    for c in runs:
        if c.events.t_fit is None:
            continue
        at = np.nonzero(c.steps <= rules.forecast_cutoff * c.events.t_fit)[0]
        if len(at):
            start = c.test_acc[0]
            flags.append(c.test_acc[at[-1]] < start + 0.5 * (1 - start))
    return float(np.mean(flags)) if flags else None
