"""Reading an IMP outcome (catalog/imp.py arm names: "dense", "ticket r1", "reinit r1", …):
test accuracy at the early-stopping iteration per round, how deep a chain keeps matching the
dense network (analysis/tickets.py), and the figure of Frankle & Carbin 2019, Fig. 3–4:
accuracy and early-stopping step against the fraction of weights remaining.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence

from phenolab.analysis.tickets import early_stop, matching_depth, standard_error
from phenolab.catalog.entry import Measured, Outcome, unknown_without_curves
from phenolab.catalog.imp import arm_name
from phenolab.catalog.readouts import curves_of
from phenolab.config import RunConfig, from_json, task_data


def remaining(outcome: Outcome, arm: str) -> float:
    """Fraction of the prunable weights an arm's runs keep (1 − their configured sparsity)."""
    return 1 - from_json(outcome[arm][0].record.config).start.sparsity


def _early_stops(outcome: Outcome, arm: str) -> list[tuple[int, float]]:
    return [early_stop(metrics) for metrics in curves_of(outcome, arm, "test/loss", "test/acc")]


def early_stop_accs(outcome: Outcome, arm: str) -> list[float]:
    """Test accuracy at the early-stopping step, per seed."""
    return [acc for _, acc in _early_stops(outcome, arm)]


def early_stop_steps(outcome: Outcome, arm: str) -> list[int]:
    """The early-stopping step (minimum test loss), per seed."""
    return [step for step, _ in _early_stops(outcome, arm)]


def median_acc(outcome: Outcome, arm: str) -> float:
    """Median over seeds of the test accuracy at the early-stopping iteration."""
    return statistics.median(early_stop_accs(outcome, arm))


@functools.lru_cache(maxsize=16)
def test_size(cfg: RunConfig) -> int:
    """Examples in a run's test set (built once from its task)."""
    data = task_data([cfg])
    mask = data.test_mask
    return int(mask[0].sum()) if mask is not None else int(data.y_test.shape[1])


def match_bar(outcome: Outcome, dense: str = "dense") -> tuple[float, float, float]:
    """(bar, dense accuracy, its standard error): a subnetwork matches the dense network when
    its median early-stop accuracy is ≥ bar = dense median − one binomial standard error on
    the test set (analysis/tickets.py)."""
    acc = median_acc(outcome, dense)
    se = standard_error(acc, test_size(from_json(outcome[dense][0].record.config)))
    return acc - se, acc, se


def _budget(outcome: Outcome, arm: str) -> int:
    """The last evaluated step of an arm's runs."""
    return max(r.metrics["test/loss"][0][-1] for r in outcome[arm])


def chain_rounds(outcome: Outcome, kind: str) -> list[str]:
    """The arms `kind r1`, `kind r2`, … present in an outcome, in order."""
    names, r = [], 1
    while arm_name(kind, r) in outcome:
        names.append(arm_name(kind, r))
        r += 1
    return names


@unknown_without_curves  # also called directly by `phenolab imp`
def matching_remaining(outcome: Outcome, kind: str, dense: str = "dense") -> Measured:
    """The smallest fraction of weights remaining down to which every round of `kind` matches
    the dense network (see match_bar). When even the last round matches, the fraction is only
    bounded: at most the last round's. When round 1 does not match, it is 1 (the dense net)."""
    names = chain_rounds(outcome, kind)
    bar, acc, se = match_bar(outcome, dense)
    depth = matching_depth([median_acc(outcome, a) for a in names], bar)
    note = f"{kind} matches down to round {depth} of {len(names)} (dense {acc:.3f} ± {se:.3f})"
    last = {a: _budget(outcome, a) for a in names}
    cut = [a for a in names if statistics.median(early_stop_steps(outcome, a)) >= last[a]]
    if cut:  # still improving when training ended: the step budget decides these rounds
        note += f"; {len(cut)} round(s) reach their minimum test loss only at the last step"
        note += f" (first: {cut[0]})"
    if depth == len(names):
        return Measured(None, upper=remaining(outcome, names[-1]), note=note)
    return Measured(remaining(outcome, names[depth - 1]) if depth else 1.0, note=note)


def matching_rounds_gap(outcome: Outcome, kind: str, other: str, dense: str = "dense") -> Measured:
    """Rounds `kind` keeps matching the dense network beyond `other` (matching_depth of kind −
    that of other); a lower bound when `kind` matches to the last round."""
    bar, _, _ = match_bar(outcome, dense)
    depths = {
        k: matching_depth([median_acc(outcome, a) for a in chain_rounds(outcome, k)], bar)
        for k in (kind, other)
    }
    gap = depths[kind] - depths[other]
    note = f"{kind} matches to round {depths[kind]}, {other} to round {depths[other]}"
    if depths[kind] == len(chain_rounds(outcome, kind)):
        return Measured(None, lower=gap, note=note + " (the last)")
    return Measured(float(gap), note=note)


def accuracy_gap(outcome: Outcome, arm: str, reference: str) -> Measured:
    """Median early-stop accuracy of `arm` minus that of `reference` (points of accuracy)."""
    a, b = median_acc(outcome, arm), median_acc(outcome, reference)
    return Measured(a - b, note=f"{arm} {a:.3f}, {reference} {b:.3f}")


def mean_accuracy_gap(outcome: Outcome, arms: Sequence[str], reference: str) -> Measured:
    """Mean over `arms` of (median early-stop accuracy − that of `reference`)."""
    gaps = {a: median_acc(outcome, a) - median_acc(outcome, reference) for a in arms}
    note = ", ".join(f"{a} {g:+.3f}" for a, g in gaps.items())
    return Measured(statistics.fmean(gaps.values()), note=note)


def early_stop_ratio(outcome: Outcome, arm: str, reference: str) -> Measured:
    """Median early-stopping step of `arm` over that of `reference`."""
    a = statistics.median(early_stop_steps(outcome, arm))
    b = statistics.median(early_stop_steps(outcome, reference))
    return Measured(a / b, note=f"{arm} {a:g}, {reference} {b:g} steps")


def _percent(fraction: float, _=None) -> str:
    """100 %, 41 %, 6.9 %, 1.2 %: an axis label of a fraction of weights remaining."""
    return f"{100 * fraction:.0f} %" if fraction >= 0.1 else f"{100 * fraction:.2g} %"


def imp_figures(outcome: Outcome, kinds: Sequence[str], dense: str = "dense"):
    """Frankle & Carbin 2019, Fig. 3–4: per arm kind (a chain or a control), the median over
    seeds (with the seeds' range) of the test accuracy at the early-stopping iteration (left)
    and of that iteration (right) against the fraction of weights remaining (log axis, pruning
    to the right); the dense network as a horizontal line with its match band."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    bar, acc, se = match_bar(outcome, dense)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    dense_step = statistics.median(early_stop_steps(outcome, dense))
    for ax, value, label in ((left, acc, "dense"), (right, dense_step, "dense")):
        ax.axhline(value, color="k", lw=1.2, label=label)
    left.axhspan(bar, acc + se, color="k", alpha=0.08, label="dense ± 1 s.e. (match band)")
    ticks = [1.0]
    for kind in kinds:
        names = chain_rounds(outcome, kind)
        if not names:
            continue
        names = [dense, *names]  # every curve starts at the dense network (100 %)
        x = [remaining(outcome, a) for a in names]
        ticks = max(ticks, x, key=len)
        for ax, values in (
            (left, [early_stop_accs(outcome, a) for a in names]),
            (right, [early_stop_steps(outcome, a) for a in names]),
        ):
            line = ax.plot(x, [statistics.median(v) for v in values], marker="o", ms=3, label=kind)
            ax.fill_between(
                x,
                [min(v) for v in values],
                [max(v) for v in values],
                color=line[0].get_color(),
                alpha=0.15,
            )
    for ax, ylabel in (
        (left, "test accuracy at early stop"),
        (right, "early-stopping step (min test loss)"),
    ):
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xticks(ticks[:: math.ceil(len(ticks) / 8)], minor=False)
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("weights remaining")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    right.axhline(_budget(outcome, dense), color="0.5", ls=":", lw=1, label="end of training")
    right.set_yscale("log")
    right.legend(fontsize=8)
    left.legend(fontsize=8)
    fig.tight_layout()
    return [
        (
            "IMP: test accuracy at the early-stopping iteration (left) and that iteration "
            "(right) against the fraction of weights remaining; lines are medians over seeds, "
            "bands their range; the black line is the dense network (grey: its match band)",
            fig,
        )
    ]
