import pytest

from phenolab.analysis.events import classify, first_sustained
from phenolab.train.schedule import eval_grid, log_spaced

STEPS = list(range(0, 2001, 100))  # 21 evals


def curve(rise_at: int | None, top: float = 1.0, floor: float = 0.01) -> list[float]:
    return [top if rise_at is not None and s >= rise_at else floor for s in STEPS]


def test_first_sustained_ignores_flickers():
    values = [0.1, 0.995, 0.5, 0.99, 0.999, 1.0]
    assert first_sustained(range(6), values, 0.99) == 3
    assert first_sustained(range(3), [0.1, 1.0, 0.5], 0.99) is None  # not sustained to the end


@pytest.mark.parametrize(
    "train, test, phase, t_fit, t_gen",
    [
        (curve(100), curve(200), "comprehension", 100, 200),  # t_gen ≤ 2·t_fit
        (curve(100), curve(1500), "grokking", 100, 1500),
        (curve(100), curve(1000, top=0.6), "semi-grokking", 100, None),
        (curve(100), curve(None), "memorization", 100, None),
        (curve(None, floor=0.5), curve(None), "confusion", None, None),
    ],
)
def test_all_five_phases_on_constructed_curves(train, test, phase, t_fit, t_gen):
    ev = classify(STEPS, train, test, chance=0.01)
    assert (ev.phase, ev.t_fit, ev.t_gen) == (phase, t_fit, t_gen)


def test_a_test_flicker_is_not_generalization():
    test = curve(1500)
    test[5] = 1.0  # one eval at step 500 above τ
    ev = classify(STEPS, curve(100), test, chance=0.01)
    assert ev.t_gen == 1500 and ev.phase == "grokking"


def test_generalization_lost_before_the_end_is_not_t_gen():
    test = curve(500)
    test[-1] = 0.3
    ev = classify(STEPS, curve(100), test, chance=0.01)
    assert ev.t_gen is None and ev.phase == "semi-grokking"


def test_delay_and_ratio():
    ev = classify(STEPS, curve(100), curve(1500), chance=0.01)
    assert ev.delay == 1400 and ev.ratio == 15.0


def test_semi_grokking_is_relative_to_chance():
    # Binary task: 0.55 accuracy is barely above chance 0.5 → memorization.
    ev = classify(STEPS, curve(100), curve(100, top=0.55, floor=0.5), chance=0.5)
    assert ev.phase == "memorization"
    ev = classify(STEPS, curve(100), curve(100, top=0.8, floor=0.5), chance=0.5)
    assert ev.phase == "semi-grokking"


def test_eval_grid_is_dense_early_then_linear():
    grid = eval_grid(3000, 25)
    assert grid[0] == 0 and grid[-1] == 3000
    assert grid[:6] == [0, 1, 2, 3, 4, 5]
    assert all(s in grid for s in range(25, 3001, 25))
    assert grid == sorted(set(grid))
    assert log_spaced(1) == [1]
    assert eval_grid(7, 25) == [0, 1, 2, 3, 4, 5, 6, 7]


def test_rise_width_measures_the_last_transition():
    from phenolab.analysis.events import rise_width

    steps = list(range(0, 1100, 100))
    acc = [0, 0, 0, 0, 0, 0.5, 1, 1, 1, 1, 1]  # 10 % at 500, 90 % at 600
    assert rise_width(steps, acc) == 100
    # a log-prob that first worsens, then recovers: measured from its trough at step 300
    logprob = [-4, -8, -12, -15, -12, -9, -6, -3, -0.1, 0, 0]
    assert rise_width(steps, logprob) == 800 - 400  # 10 % at −13.5 → step 400; 90 % at 800
    brier = [1, 1.5, 2, 2, 1, 0.5, 0.2, 0, 0, 0, 0]  # falling: from its peak
    assert rise_width(steps, brier) == 600 - 400  # 90 % of the way down at 0.2
    assert rise_width(steps, [1.0] * 11) is None


def test_first_crossing_counts_a_flicker_that_first_sustained_does_not():
    from phenolab.analysis.events import first_crossing

    steps, values = [10, 20, 30, 40, 50], [0.1, 0.96, 0.5, 0.97, 0.99]
    assert first_crossing(steps, values, 0.95) == 20
    assert first_sustained(steps, values, 0.95) == 40
    assert first_crossing(steps, values, 0.995) is None
    assert first_crossing(steps, [0.95] * 5, 0.95) == 10  # ≥, not >
