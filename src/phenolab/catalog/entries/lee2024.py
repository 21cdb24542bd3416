"""Lee, Kang, Kim, Kim, Kim (2024), "Grokfast: accelerated grokking by amplifying slow
gradients", arXiv:2405.20233 — a low-pass filter on the gradient (the mean of the last w
gradients, MA; or an exponential moving average, EMA) is added back λ-fold, g ← g + λ·ḡ, and
grokking comes up to ~50× sooner: on x·y mod 97 with 50 % of the table and a 2-layer
transformer, test accuracy reached 0.95 at 39,890 steps without the filter and 790 with
Grokfast-MA (w 100, λ 5).

The published comparison changes two things at once: the baseline has no weight decay, the
Grokfast run has some (0.01), and the filter multiplies the step along slowly varying gradient
directions by up to 1 + λ. This entry runs the published pair and the matched controls a careful
reviewer asks for:
- `baseline`: no filter, wd 0 (as published);
- `grokfast-ma`: Grokfast-MA w 100, λ 5, wd 0.01 (as published);
- `baseline-wd`: no filter, the same wd 0.01;
- `grokfast-ma-lr`: Grokfast-MA with the learning rate divided by 1 + λ, wd 0.01.
Canonical: Power et al.'s 2-layer transformer (d_model 128, 4 heads), x·y mod 97, 50 %, batch
512, AdamW lr 1e-3, β (0.9, 0.98). Quick (CPU): the main job's embedding MLP on x·y mod 97, 50 %.
Speed-ups compare medians over seeds of t_gen (test accuracy ≥ 0.99 to the end of the run);
a seed that never generalizes makes the ratio a bound.
"""

from __future__ import annotations

from phenolab.catalog import Arm, Entry, Expectation, register
from phenolab.catalog.entries.power2022 import CANONICAL as POWER_TRANSFORMER
from phenolab.catalog.readouts import median_t_gen, ratio
from phenolab.config.presets import preset

LAMB = 5.0
FILTER = f"grokfast-ma:lamb={LAMB},window=100"
DECAY = 0.01
CANONICAL = POWER_TRANSFORMER.replace(op="x*y", frac=0.5, steps=60_000, eval_every=250)
QUICK = preset("grokking").replace(op="x*y", frac=0.5, steps=10_000, eval_every=50)
ARMS = {
    "baseline": {"wd": 0.0},
    "grokfast-ma": {"wd": DECAY, "interventions": FILTER},
    "baseline-wd": {"wd": DECAY},
    "grokfast-ma-lr": {"wd": DECAY, "interventions": FILTER, "lr_divisor": 1 + LAMB},
}


def _arm(name: str) -> Arm:
    change = dict(ARMS[name])
    divisor = change.pop("lr_divisor", 1.0)
    return Arm(
        name,
        CANONICAL.replace(**change, lr=CANONICAL.train.lr / divisor),
        QUICK.replace(**change, lr=QUICK.train.lr / divisor),
    )


def speedup(slow: str, fast: str):
    return lambda outcome: ratio(median_t_gen(outcome, slow), median_t_gen(outcome, fast))


GROKFAST = register(
    Entry(
        id="lee2024-grokfast",
        phenomenon="grokking (intervention)",
        paper="Lee, Kang, Kim, Kim, Kim (2024). Grokfast: accelerated grokking by amplifying "
        "slow gradients. arXiv:2405.20233",
        title="Grokfast's speed-up, as published and against matched controls",
        description=(
            "Train x·y mod 97 on half the table with and without the Grokfast-MA gradient filter. "
            "The published ×50 compares a filtered run with weight decay against an unfiltered "
            "one without; here the filter is also compared with the same weight decay, and with "
            "its learning rate divided by 1 + λ (the filter's largest gain)."
        ),
        reproduces="Lee et al. 2024, Fig. 1 / Table 1 (x·y mod 97, 50 %: 39,890 → 790 steps to "
        "0.95 test accuracy with Grokfast-MA)",
        arms=tuple(_arm(name) for name in ARMS),
        expectations=(
            Expectation(
                id="published-speedup",
                claim="As published (baseline without weight decay, Grokfast-MA with wd 0.01): "
                "median t_gen falls at least 10-fold (published ×50; ×10 a weak reading).",
                readout=speedup("baseline", "grokfast-ma"),
                op=">=",
                threshold=10.0,
                unit="×",
            ),
            Expectation(
                id="speedup-same-decay",
                claim="Against a baseline with the same weight decay, Grokfast-MA still "
                "generalizes at least 10× sooner (the speed-up is the filter's, not the decay's).",
                readout=speedup("baseline-wd", "grokfast-ma"),
                op=">=",
                threshold=10.0,
                unit="×",
            ),
            Expectation(
                id="speedup-same-step",
                claim="With the learning rate divided by 1 + λ (so the filtered step is no "
                "larger than the baseline's along any direction), Grokfast-MA still generalizes "
                "at least 10× sooner than the baseline with the same weight decay (the gain is "
                "not a larger step size).",
                readout=speedup("baseline-wd", "grokfast-ma-lr"),
                op=">=",
                threshold=10.0,
                unit="×",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=1000,
        seconds=None,
        history=(
            "2026-11-22: written before any run of this entry.",
            "2026-11-22: the first --quick run (3,000 steps) was INCONCLUSIVE on all three "
            "expectations: no arm generalized within the budget (weight decay 0.01 on the MLP "
            "is far weaker than the main job's 1). Quick budget raised to 10,000 steps; "
            "expectations unchanged.",
            "2026-12-07: the claim of speedup-same-step says the learning rate divided by 1 + λ "
            "makes the filtered step no larger than the baseline's; under AdamW (both variants "
            "of this entry) that is wrong — Adam's normalisation undoes a uniform gradient "
            "scale, so the filter does not enlarge the step and grokfast-ma-lr is Grokfast-MA at "
            "a 6× smaller step, not a step-matched control. The expectation is kept as written "
            "(its verdicts were already recorded); read its verdict as 'the filter at lr/6'.",
        ),
    )
)
