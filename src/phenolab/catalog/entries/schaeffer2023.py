"""Schaeffer, Miranda, Koyejo (2023), "Are emergent abilities of large language models a
mirage?", NeurIPS 2023: a transition looks sudden under a discontinuous metric (accuracy) and
gradual under continuous ones (log-probability of the correct answer, Brier score). Here the
same grokking runs are seen through all three, and the 10→90 % rise widths compared.
"""

from phenolab.catalog import Arm, Entry, Expectation, register
from phenolab.catalog.readouts import median_width_ratio
from phenolab.config.presets import preset

RUN = preset("grokking").replace(measures=("continuous",), eval_every=10)


def _wider(metric: str):
    return lambda outcome: median_width_ratio(outcome, "main-job", metric, "test/acc")


MIRAGE = register(
    Entry(
        id="schaeffer2023-metrics",
        phenomenon="grokking (metrics)",
        paper="Schaeffer, Miranda, Koyejo (2023). Are emergent abilities of large language "
        "models a mirage? NeurIPS 2023, arXiv:2304.15004",
        title="Sharp in accuracy, gradual in continuous metrics?",
        description=(
            "Train the main job and record, on a dense evaluation grid, test accuracy, the mean "
            "log-probability of the correct answer and the Brier score. For each curve measure "
            "the 10→90 % width in steps of its last transition (from its trough or peak to its "
            "final value). The paper's claim, carried over to grokking: the continuous metrics "
            "change over a wider span of training than accuracy."
        ),
        reproduces="Schaeffer et al. 2023, Fig. 2–3: the same outputs scored by accuracy (sharp) "
        "and by continuous metrics (smooth)",
        arms=(Arm("main-job", RUN),),
        expectations=(
            Expectation(
                id="logprob-wider",
                claim="The test log-probability of the correct answer rises over at least 1.5× the "
                "steps test accuracy takes (10→90 % widths, median over seeds).",
                readout=_wider("test/logprob"),
                op=">=",
                threshold=1.5,
                unit="× acc width",
            ),
            Expectation(
                id="brier-wider",
                claim="The test Brier score falls over at least 1.5× the steps accuracy takes.",
                readout=_wider("test/brier"),
                op=">=",
                threshold=1.5,
                unit="× acc width",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=60,
        history=(
            "2026-11-22: the width measure first ran from each curve's first value; test "
            "log-prob and Brier first worsen (memorization), so it measured only the tail of the "
            "rise (quick: 0.61× and 0.58×, both FAIL). It now starts at the trough / peak; the "
            "thresholds are unchanged (quick: 1.65× PASS, 0.97× FAIL).",
        ),
    )
)
