"""The measures of varma2023-ungrokking and huang2024-phase-diagram on constructed outcomes."""

from types import SimpleNamespace

from phenolab.catalog import get
from phenolab.catalog.entries import huang2024, varma2023
from phenolab.catalog.reproduce import stages


def result(phase, t_fit=10, t_gen=None, test=0.01, train=1.0):
    events = SimpleNamespace(
        phase=phase,
        t_fit=t_fit,
        t_gen=t_gen,
        ratio=t_gen / t_fit if t_gen and t_fit else None,
        final_test_acc=test,
        final_train_acc=train,
    )
    return SimpleNamespace(events=events)


GROK = result("grokking", t_gen=200, test=1.0)
FAST = result("comprehension", t_gen=15, test=1.0)
MEMO = result("memorization")
CONF = result("confusion", t_fit=None, train=0.5)


def judge(entry_id, outcome):
    return {x.id: x.judge(outcome) for x in get(entry_id).expectations}


def huang_outcome(table):
    """{(width, frac): [results]} with every other cell memorizing."""
    return {
        huang2024.cell(w, f): table.get((w, f), [MEMO, MEMO])
        for w in huang2024.WIDTHS
        for f in huang2024.FRACTIONS
    }


def test_huang_critical_fraction_and_its_shift():
    narrow, wide = huang2024.WIDTHS[0], huang2024.WIDTHS[-1]
    outcome = huang_outcome(
        {
            (wide, 0.2): [GROK, MEMO],  # half the seeds: generalizes
            (wide, 0.3): [GROK, GROK],
            (wide, 0.5): [FAST, FAST],
            (narrow, 0.1): [GROK, GROK],  # a lucky small fraction below a failing one
            (narrow, 0.5): [GROK, GROK],
        }
    )
    assert huang2024.critical_fraction(outcome, wide).value == 0.2
    assert huang2024.critical_fraction(outcome, narrow).value == 0.5
    mid = huang2024.critical_fraction(outcome, huang2024.WIDTHS[1])
    assert mid.value is None and mid.lower == 0.5
    verdicts = judge("huang2024-phase-diagram", outcome)
    assert verdicts["critical-fraction-falls"][0] == "PASS"  # 0.2 − 0.5 ≤ 0
    # the memorizing seed at (wide, 0.2): 1 of 6 wide runs + 2 narrow runs at/above f_crit
    assert verdicts["memorization-only-below"][1].value == 1 / 8
    assert verdicts["memorization-only-below"][0] == "FAIL"
    # ratio 1.5 at 50 % vs 20 at 20 %
    assert verdicts["delay-shrinks-with-data"][1].value == 1.5 / 20
    assert verdicts["delay-shrinks-with-data"][0] == "PASS"


def test_huang_bounds_when_the_narrow_width_never_generalizes():
    narrow, wide = huang2024.WIDTHS[0], huang2024.WIDTHS[-1]
    outcome = huang_outcome({(wide, 0.5): [GROK, GROK], (narrow, 0.1): [CONF, CONF]})
    verdicts = judge("huang2024-phase-diagram", outcome)
    verdict, measured = verdicts["critical-fraction-falls"]
    assert measured.value is None and measured.upper == 0.0 and verdict == "PASS"
    assert verdicts["capacity-grows"][1].value == 2  # the narrow one failed to fit two runs
    outcome = huang_outcome({(narrow, 0.5): [GROK, GROK]})
    verdict, measured = judge("huang2024-phase-diagram", outcome)["critical-fraction-falls"]
    assert measured.lower == 0.0 and verdict == "INCONCLUSIVE"  # ≥ 0 cannot decide ≤ 0


def test_varma_expectations_on_an_ungrokking_outcome():
    stay = result("comprehension", t_fit=0, t_gen=0, test=1.0)
    partial = result("semi-grokking", test=0.6)
    outcome = {
        "grokked": [GROK] * 3,
        "subset=0.05": [MEMO, MEMO, partial],
        "subset=0.1": [partial] * 3,
        "subset=0.2": [stay] * 3,
        "semi": [MEMO, partial, MEMO],
    }
    verdicts = {k: v[0] for k, v in judge("varma2023-ungrokking", outcome).items()}
    assert set(verdicts.values()) == {"PASS"}, verdicts
    outcome["subset=0.2"] = [stay, stay, partial]  # one seed lost generalization above D_crit
    outcome["subset=0.05"] = [partial] * 3  # and the median falls from 5 % to 10 %
    outcome["subset=0.1"] = [MEMO] * 3
    verdicts = {k: v[0] for k, v in judge("varma2023-ungrokking", outcome).items()}
    assert verdicts["above-dcrit-stays"] == "FAIL" and verdicts["monotone-in-size"] == "FAIL"
    assert stages(varma2023.UNGROKKING) == [
        ["grokked", "semi"],
        [f"subset={f}" for f in (0.05, 0.1, 0.2)],
    ]


def with_curves(r, test_end):
    steps = [0, 10, 100]
    metrics = {"test/acc": (steps, [1.0, 0.5, test_end]), "train/acc": (steps, [1.0] * 3)}
    return SimpleNamespace(
        events=r.events, metrics=metrics, record=SimpleNamespace(config={"train": {"seed": 0}})
    )


def test_both_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    varma = {a.name: [with_curves(MEMO, 0.01)] * 2 for a in varma2023.UNGROKKING.arms}
    huang = huang_outcome({(huang2024.WIDTHS[-1], 0.5): [GROK, FAST]})
    for entry, outcome in ((varma2023.UNGROKKING, varma), (huang2024.PHASE_DIAGRAM, huang)):
        figures = entry.figures(outcome, None)
        assert figures and all(caption and fig.axes for caption, fig in figures)


def test_huang_figure_colours_each_cell_by_its_majority_phase():
    """The entry draws its map with the sweeps' phase_map: one image, one colour per cell."""
    outcome = huang_outcome({(huang2024.WIDTHS[0], huang2024.FRACTIONS[-1]): [GROK, GROK]})
    ((title, fig),) = huang2024.figures(outcome, store=None)
    (image,) = fig.axes[0].get_images()
    grid = image.get_array()
    assert grid.shape == (len(huang2024.WIDTHS), len(huang2024.FRACTIONS))
    assert grid[0][-1] == 1 and grid[-1][0] == 3  # grokking, memorization (PHASES order)
