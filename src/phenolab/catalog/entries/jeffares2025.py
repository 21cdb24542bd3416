"""Jeffares & van der Schaar (2025), on how easily a quantity "tracks" grokking: the count of
prime numbers among (rounded) parameters rises and falls with test accuracy over a grokking run,
yet explains nothing. phenolab keeps it as the cautionary control it was meant to be: any
progress measure should beat it at predicting something beyond the one curve.

Rounding used here: round(100 · |w|) for every parameter, primes counted per member
(`control/primes`). Runs: the main job (x+y mod 97, embedding MLP, AdamW lr 1e-2, wd 1).
"""

from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.readouts import median_correlation
from phenolab.config.presets import preset

RUN = preset("grokking").replace(measures=("primes",))


def _tracks_norm_as_well(outcome) -> Measured:
    acc = median_correlation(outcome, "main-job", "control/primes", "test/acc")
    norm = median_correlation(outcome, "main-job", "control/primes", "norm/total")
    if acc.value is None or norm.value is None:
        return Measured(None, note=acc.note or norm.note)
    return Measured(norm.value - acc.value)


PRIMES = register(
    Entry(
        id="jeffares2025-primes",
        phenomenon="grokking (control)",
        paper="Jeffares, van der Schaar (2025). Position: not all explanations for deep learning "
        "phenomena are equally valuable. ICML 2025, arXiv:2506.23286",
        title="A meaningless quantity that tracks grokking",
        description=(
            "Record, at every evaluation of a grokking run, how many parameters round to a prime "
            "(round(100·|w|)). The published point: such a count correlates with test accuracy "
            "across the run. Our added, preregistered control: it correlates with the weight norm "
            "at least as strongly — it is a proxy for the norm, not a mechanism."
        ),
        reproduces="the prime-count example: prime count vs test accuracy over a grokking run",
        arms=(Arm("main-job", RUN),),
        expectations=(
            Expectation(
                id="tracks-test-accuracy",
                claim="The prime count tracks test accuracy: median over seeds of |Spearman "
                "correlation| across the evaluation grid ≥ 0.5.",
                readout=lambda o: median_correlation(o, "main-job", "control/primes", "test/acc"),
                op=">=",
                threshold=0.5,
                unit="|ρ|",
            ),
            Expectation(
                id="just-the-norm",
                claim="It tracks the total weight norm at least as well: |ρ(primes, norm)| − "
                "|ρ(primes, test acc)| ≥ 0.",
                readout=_tracks_norm_as_well,
                op=">=",
                threshold=0.0,
                unit="Δ|ρ|",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=45,
    )
)
