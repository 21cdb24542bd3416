"""Expectation read-outs: values computed from an entry's finished runs to judge its
expectations (e.g. the median t_gen of an arm), as opposed to the progress measures that a run
records while it trains (phenolab.measures). Summaries of t_gen across seeds respect censoring
(a seed that never generalized has t_gen beyond the run's budget, not missing); a read-out that
needs curves gets them from `curves_of`, which makes the expectation INCONCLUSIVE when a run
lacks one.

Read-outs over sweeps of model sizes are in sweep_readouts.py, over IMP chains in
imp_readouts.py."""

from __future__ import annotations

import statistics

import numpy as np

from phenolab.catalog.entry import Measured, MissingCurves, Outcome


def curves_of(outcome: Outcome, arm: str, *names: str) -> list[dict]:
    """Each seed's curves {name: (steps, values)} of `arm`, checked to hold every curve in
    `names`. Raises MissingCurves naming the arm and what is missing otherwise: the one guard by
    which an expectation whose curves are missing is judged INCONCLUSIVE (entry.py)."""
    for r in outcome[arm]:
        if r.metrics is None:
            raise MissingCurves(f"{arm}: a run's curves were not read")
        missing = [name for name in names if name not in r.metrics]
        if missing:
            raise MissingCurves(f"{arm}: {', '.join(missing)} not recorded")
    return [r.metrics for r in outcome[arm]]


def t_gens(outcome: Outcome, arm: str) -> tuple[list[int], int, int]:
    """(finite t_gens, how many never generalized, the step budget) of an arm."""
    results = outcome[arm]
    finite = [r.events.t_gen for r in results if r.events.t_gen is not None]
    budget = max(r.record.config["train"]["steps"] for r in results)
    return finite, len(results) - len(finite), budget


def median_t_gen(outcome: Outcome, arm: str) -> Measured:
    """Median t_gen. If some seeds never generalized the median is unknown but bounded below by
    treating them as generalizing just after the budget."""
    finite, never, budget = t_gens(outcome, arm)
    if never == 0:
        return Measured(statistics.median(finite))
    lower = statistics.median(finite + [budget + 1] * never)
    return Measured(None, lower=lower, note=f"{arm}: {never} seed(s) never generalized")


def ratio(numerator: Measured, denominator: Measured) -> Measured:
    """numerator / denominator with bounds carried through (both positive): a lower bound from
    the numerator's least and the denominator's largest possible values, an upper bound from
    the other two (e.g. a known t_gen over one beyond the budget is at most t_gen / budget)."""
    if numerator.value is not None and denominator.value is not None:
        return Measured(numerator.value / denominator.value)
    note = "; ".join(n for n in (numerator.note, denominator.note) if n)
    lo_num = numerator.value if numerator.value is not None else numerator.lower
    up_den = denominator.value if denominator.value is not None else denominator.upper
    up_num = numerator.value if numerator.value is not None else numerator.upper
    lo_den = denominator.value if denominator.value is not None else denominator.lower
    lower = lo_num / up_den if lo_num is not None and up_den else None
    upper = up_num / lo_den if up_num is not None and lo_den else None
    return Measured(None, lower=lower, upper=upper, note=note)


def fraction_generalized(outcome: Outcome, arm: str) -> Measured:
    finite, never, _ = t_gens(outcome, arm)
    return Measured(len(finite) / (len(finite) + never))


def phase_share(outcome: Outcome, arm: str, phase: str) -> Measured:
    results = outcome[arm]
    return Measured(sum(r.events.phase == phase for r in results) / len(results))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1 … n, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x, y) -> float:
    """Spearman rank correlation (Pearson correlation of average ranks); nan if constant."""
    rx, ry = average_ranks(np.asarray(x, float)), average_ranks(np.asarray(y, float))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def median_correlation(outcome: Outcome, arm: str, a: str, b: str) -> Measured:
    """Median over seeds of |Spearman(metric a, metric b)| across the evaluation grid."""
    values = []
    for metrics in curves_of(outcome, arm, a, b):
        (steps_a, xa), (steps_b, xb) = metrics[a], metrics[b]
        common = sorted(set(steps_a) & set(steps_b))
        ia, ib = dict(zip(steps_a, xa, strict=True)), dict(zip(steps_b, xb, strict=True))
        values.append(abs(spearman([ia[s] for s in common], [ib[s] for s in common])))
    finite = [v for v in values if v == v]
    return Measured(statistics.median(finite)) if finite else Measured(None, note="constant")


def median_width_ratio(outcome: Outcome, arm: str, metric: str, reference: str) -> Measured:
    """Median over seeds of rise_width(metric) / rise_width(reference) (10→90 % widths)."""
    from phenolab.analysis.events import rise_width

    ratios = []
    for metrics in curves_of(outcome, arm, metric, reference):
        w, w_ref = rise_width(*metrics[metric]), rise_width(*metrics[reference])
        if w is not None and w_ref:
            ratios.append(w / w_ref)
    if len(ratios) * 2 <= len(outcome[arm]):
        return Measured(None, note=f"{arm}: most runs show no transition to measure")
    return Measured(statistics.median(ratios))


def generalizes(outcome: Outcome, arm: str) -> bool:
    """True when the arm's median seed reaches t_gen within the step budget: the upper median,
    so that with an even number of seeds more than half must (seeds that never generalized count
    as generalizing just after the budget, as in median_t_gen)."""
    finite, never, budget = t_gens(outcome, arm)
    return statistics.median_high(finite + [budget + 1] * never) <= budget


def fraction_level(outcome: Outcome, arms: dict[float, str]) -> int:
    """Position on a grid of train fractions {fraction: arm} of the smallest fraction from which
    on (it and every larger one) the median seed generalizes: 0 … n − 1, or n when not even the
    largest does. Exact, unlike the fraction itself, which is known only to grid resolution."""
    grid = sorted(arms)
    level = len(grid)
    for i in reversed(range(len(grid))):
        if not generalizes(outcome, arms[grid[i]]):
            break
        level = i
    return level


def min_train_fraction(outcome: Outcome, arms: dict[float, str]) -> Measured:
    """The smallest train fraction (on the grid {fraction: arm}) from which on the median seed
    generalizes within the budget. Censored at both ends: if the smallest fraction already
    generalizes the minimum is at most that; if not even the largest does it is beyond that."""
    grid = sorted(arms)
    level = fraction_level(outcome, arms)
    if level == len(grid):
        return Measured(None, lower=grid[-1], note=f"not even at {grid[-1]:g}")
    if level == 0:
        return Measured(None, upper=grid[0], note=f"already at {grid[0]:g}")
    return Measured(grid[level])


def _censored_median(values: list[float], never: int, bound: float, note: str) -> Measured:
    """Median of `values` plus `never` runs known only to lie above `bound`."""
    if never == 0:
        return Measured(statistics.median(values))
    lower = statistics.median(values + [bound] * never)
    return Measured(None, lower=lower, note=note)


def median_steps_to(outcome: Outcome, arm: str, level: float, first: bool = False) -> Measured:
    """Median over seeds of the first step from which test accuracy stays ≥ `level` (e.g. 0.95,
    the threshold of Tveit et al. 2025 and Minegishi et al. 2024); with `first`, of the first
    step at which it reaches `level` at all (the first crossing, Lee et al. 2024's metric);
    censored as median_t_gen."""
    from phenolab.analysis.events import first_crossing, first_sustained

    steps_to, never = [], 0
    budget = max(r.record.config["train"]["steps"] for r in outcome[arm])
    for metrics in curves_of(outcome, arm, "test/acc"):
        step = (first_crossing if first else first_sustained)(*metrics["test/acc"], level)
        if step is None:
            never += 1
        else:
            steps_to.append(step)
    return _censored_median(
        steps_to, never, budget + 1, f"{arm}: {never} seed(s) never reached {level:g}"
    )


def median_delay_ratio(outcome: Outcome, arm: str) -> Measured:
    """Median over seeds of t_gen / t_fit (the grokking delay as a ratio; the phases
    call ≤ 2 comprehension). A seed that never generalized counts as (budget + 1) / t_fit, a
    lower bound; one that never fitted makes the value unknown."""
    ratios, never = [], 0
    budget = max(r.record.config["train"]["steps"] for r in outcome[arm])
    for r in outcome[arm]:
        t_fit, t_gen = r.events.t_fit, r.events.t_gen
        if t_fit is None:
            return Measured(None, note=f"{arm}: a seed never fitted its training set")
        if t_gen is None:
            never += 1
            ratios.append((budget + 1) / t_fit)
        else:
            ratios.append(t_gen / t_fit)
    if never:
        note = f"{arm}: {never} seed(s) never generalized (t_gen > budget)"
        return Measured(None, lower=statistics.median(ratios), note=note)
    return Measured(statistics.median(ratios))


def median_final_test_acc(outcome: Outcome, arm: str) -> Measured:
    """Median over seeds of the test accuracy at the last evaluation."""
    return Measured(statistics.median(r.events.final_test_acc for r in outcome[arm]))
