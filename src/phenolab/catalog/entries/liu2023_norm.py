"""Liu, Michaud, Tegmark (2023), "Omnigrok: grokking beyond algorithmic data", ICLR 2023, §5 and
Fig. 7b — constrained optimization: rescaling the weights back to a fixed norm after every step
(the Goldilocks sphere) "largely eliminates grokking, with test and train accuracy improving
concurrently" (Nanda et al.'s 1-layer transformer on x+y mod 113, the norm fixed at α = 0.8
times the initial one; in the unconstrained run the norm peaks while it memorizes and ends below
its initial value, Fig. 7a).

Arms: the baseline, and the same run with the `norm-constraint` intervention (interventions/
norms.py: θ ← θ · c / ‖θ‖ after each step, for all weights of a member together):
- `constrained-0.8`: c = 0.8 × the initial norm (the paper's value);
- `constrained-goldilocks`: c = the norm the baseline has when it generalizes (the Goldilocks
  zone as Omnigrok defines it), measured once on the baseline before this entry was written:
  the embedding MLP generalizes at ≈ 3.8× its initial norm, unlike the transformer, so 0.8× is
  far from the zone there.
Canonical: Nanda et al.'s setup (the `nanda` preset). Quick (CPU): the main job's MLP.
"""

from __future__ import annotations

from phenolab.catalog import Arm, Entry, Expectation, register
from phenolab.catalog.readouts import median_delay_ratio, phase_share
from phenolab.config.presets import preset

SCALE = 0.8  # the paper's constrained norm, in units of the initial norm
# the baseline's median norm at t_gen (norm/total), seeds 0-2: transformer (liu2023-omnigrok's
# canonical pilot at α = 1) and the main job's MLP (69.1, 69.2, 68.7)
GOLDILOCKS = {"canonical": 38.0, "quick": 69.0}

CANONICAL = preset("nanda")
QUICK = preset("grokking")


def _constrained(name: str, canonical: str, quick: str) -> Arm:
    return Arm(
        name,
        CANONICAL.replace(interventions=canonical),
        QUICK.replace(interventions=quick),
    )


ARMS = (
    Arm("baseline", CANONICAL, QUICK),
    _constrained(
        "constrained-0.8", f"norm-constraint:scale={SCALE}", f"norm-constraint:scale={SCALE}"
    ),
    _constrained(
        "constrained-goldilocks",
        f"norm-constraint:norm={GOLDILOCKS['canonical']}",
        f"norm-constraint:norm={GOLDILOCKS['quick']}",
    ),
)


def _no_delay(arm: str, where: str) -> Expectation:
    return Expectation(
        id=f"{arm.removeprefix('constrained-')}-no-delay",
        claim=f"With the norm fixed at {where}, train and test accuracy rise together: median "
        "t_gen / t_fit ≤ 2 (the comprehension phase; a seed that never generalizes "
        "counts as beyond the budget).",
        readout=lambda outcome: median_delay_ratio(outcome, arm),
        op="<=",
        threshold=2.0,
        unit="t_gen / t_fit",
    )


NORM_CONSTRAINT = register(
    Entry(
        id="liu2023-norm-constraint",
        phenomenon="grokking (intervention: weight-norm constraint)",
        paper="Liu, Michaud, Tegmark (2023). Omnigrok: grokking beyond algorithmic data. "
        "ICLR 2023, arXiv:2210.01117",
        title="A fixed weight norm removes the grokking delay",
        description=(
            "Train modular addition as usual, and again with the weights rescaled to a fixed "
            "total norm after every step: 0.8× the initial norm (the paper's value) and the norm "
            "at which the unconstrained run generalizes. Omnigrok: on the Goldilocks sphere test "
            "accuracy rises with train accuracy — no grokking."
        ),
        reproduces="Liu et al. 2023, Fig. 7 (1-layer transformer, x+y mod 113: (a) normal "
        "training groks; (b) constrained at α = 0.8, train and test improve concurrently)",
        arms=ARMS,
        expectations=(
            Expectation(
                id="baseline-groks",
                claim="Unconstrained, the network groks: phase grokking (t_gen > 2·t_fit) in "
                "≥ 60 % of seeds (Fig. 7a) — the delay the constraint should remove.",
                readout=lambda outcome: phase_share(outcome, "baseline", "grokking"),
                op=">=",
                threshold=0.6,
                unit="of seeds",
            ),
            _no_delay("constrained-0.8", "0.8× its initial value"),
            _no_delay("constrained-goldilocks", "the baseline's norm at t_gen"),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=1280,  # measured on a loaded machine (load average 13-15)
        seconds=None,
        history=(
            "2026-11-23: written before any run of the constrained arms; the Goldilocks norm "
            "of the quick variant (69) is the main job's median norm at t_gen over seeds 0-2, "
            "measured first; the canonical one (38) is liu2023-omnigrok's H100 pilot.",
        ),
    )
)
