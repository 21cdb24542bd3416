"""Minimum train fraction per operation (power2022-operations) on constructed outcomes."""

import pytest

from phenolab.catalog import Measured
from phenolab.catalog.entries import power2022
from phenolab.catalog.readouts import fraction_level, generalizes, min_train_fraction
from tests.test_catalog import fake

GRID = {0.2: "a", 0.3: "b", 0.5: "c", 0.8: "d"}


def grid_outcome(per_fraction):
    """{arm: fake results} from {fraction: t_gens per seed}."""
    return {GRID[f]: fake(t) for f, t in per_fraction.items()}


def test_generalizes_means_the_median_seed_reaches_t_gen_in_budget():
    assert generalizes({"a": fake([100, 200])}, "a")
    assert not generalizes({"a": fake([100, None])}, "a")  # median beyond the budget
    assert generalizes({"a": fake([100, 900, None])}, "a")
    assert not generalizes({"a": fake([None, None, 50])}, "a")


@pytest.mark.parametrize(
    "per_fraction, level, measured",
    [
        # generalizes from 0.5 on
        ({0.2: [None] * 2, 0.3: [None, 5], 0.5: [9, 9], 0.8: [5, 5]}, 2, Measured(0.5)),
        # a lucky 0.2 does not count while 0.3 fails: "from which on"
        ({0.2: [9, 9], 0.3: [None, None], 0.5: [9, 9], 0.8: [5, 5]}, 2, Measured(0.5)),
        # already at the smallest fraction: an upper bound
        (
            {f: [9, 9] for f in GRID},
            0,
            Measured(None, upper=0.2, note="already at 0.2"),
        ),
        # not even at the largest: a lower bound
        (
            {0.2: [9, 9], 0.3: [9, 9], 0.5: [9, 9], 0.8: [None, 9]},
            4,
            Measured(None, lower=0.8, note="not even at 0.8"),
        ),
    ],
)
def test_min_train_fraction_and_its_censoring(per_fraction, level, measured):
    outcome = grid_outcome(per_fraction)
    assert fraction_level(outcome, GRID) == level
    assert min_train_fraction(outcome, GRID) == measured


def ops_outcome(levels: dict[str, int]):
    """An outcome of the entry's arms where op generalizes from grid position levels[op] on."""
    outcome = {}
    for op, arms in power2022.OP_ARMS.items():
        for i, f in enumerate(sorted(arms)):
            outcome[arms[f]] = fake([100, 200] if i >= levels[op] else [None, None])
    return outcome


def test_rank_agreement_and_easiest_before_hardest():
    n = len(power2022.OP_FRACTIONS)
    ordered = ops_outcome({"x+y": 0, "x-y": 0, "x/y": 1, "x^2+y^2": 2, "x^3+xy^2+y": n})
    rho = power2022.rank_agreement(ordered)
    assert rho.value == pytest.approx(1.0)
    assert "x+y ≤ 0.2" in rho.note and "x^3+xy^2+y ≥ 0.8" in rho.note
    assert power2022.easiest_before_hardest(ordered).value == n

    reversed_ = ops_outcome({"x+y": 3, "x-y": 3, "x/y": 2, "x^2+y^2": 1, "x^3+xy^2+y": 0})
    assert power2022.rank_agreement(reversed_).value == pytest.approx(-1.0)
    assert power2022.easiest_before_hardest(reversed_).value == -3
    assert power2022.POWER_OPERATIONS.expectations[1].judge(reversed_)[0] == "FAIL"

    same = ops_outcome(dict.fromkeys(power2022.PUBLISHED_TIER, 1))
    verdict, m = power2022.POWER_OPERATIONS.expectations[0].judge(same)
    assert verdict == "INCONCLUSIVE" and "same fraction" in m.note


def test_operations_figure_shows_every_op():
    n = len(power2022.OP_FRACTIONS)
    ordered = ops_outcome({"x+y": 0, "x-y": 0, "x/y": 1, "x^2+y^2": 2, "x^3+xy^2+y": n})
    ((caption, fig),) = power2022.POWER_OPERATIONS.own_figures(ordered, None)
    share, bars = fig.axes[:2]
    assert "minimum train fraction" in caption and len(share.lines) == len(power2022.OP_ARMS)
    assert len(bars.patches) == len(power2022.PUBLISHED_TIER)
