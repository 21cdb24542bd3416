"""Huang, Hu, Han, Liu, Sun (2024), "Unified view of grokking, double descent and emergent
abilities: a comprehensive study on algorithm task" (COLM 2024; arXiv:2402.15175, first titled
"… a perspective from circuits competition") — a phase diagram over train-set size × model size.

Their framework (Fig. 1) extends Varma et al.'s circuit competition across model sizes: a larger
model has a larger memorization capacity and a smaller critical dataset size D_crit (where the
generalizing circuit becomes the more efficient one). The two curves split the (model size,
data) plane into zones with distinct training dynamics: below D_crit the network memorizes
(or, past its capacity, cannot fit: progression / confusion), above D_crit it generalizes —
late (grokking) just above D_crit, promptly (comprehension) with ample data.

Here every cell (width, train fraction) is trained over seeds and classified by
`analysis.events.classify`; the entry's figure is the map of phases. Canonical: their modular
addition setting with a width sweep of our embedding MLP at a longer budget (their models are
transformers of several sizes; this entry is sized for our MLP, see the note in the report).
Quick (CPU): the main job's embedding MLP (x+y mod 97, AdamW lr 1e-2, wd 1), hidden widths
8 / 32 / 128, fractions 10–50 %, 2 seeds.
"""

from __future__ import annotations

import statistics

from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.config.presets import preset

WIDTHS = (8, 32, 128)
FRACTIONS = (0.1, 0.2, 0.3, 0.5)

QUICK = preset("grokking").replace(steps=2000, eval_every=50)
CANONICAL = preset("grokking").replace(steps=20_000, eval_every=100)


def cell(width: int, frac: float) -> str:
    return f"width={width},frac={frac}"


def _generalized(outcome, width: int, frac: float) -> bool:
    """At least half the seeds of the cell reach t_gen."""
    results = outcome[cell(width, frac)]
    return 2 * sum(r.events.t_gen is not None for r in results) >= len(results)


def critical_fraction(outcome, width: int) -> Measured:
    """The smallest grid fraction from which every larger one generalizes (in ≥ half the seeds);
    unknown but above the grid when even the largest does not."""
    f_crit = None
    for frac in reversed(FRACTIONS):
        if not _generalized(outcome, width, frac):
            break
        f_crit = frac
    if f_crit is None:
        return Measured(None, lower=FRACTIONS[-1], note=f"width {width}: never generalizes")
    return Measured(f_crit)


def _critical_fraction_shift(outcome) -> Measured:
    """f_crit(widest) − f_crit(narrowest), with bounds where one is beyond the grid."""
    wide, narrow = critical_fraction(outcome, WIDTHS[-1]), critical_fraction(outcome, WIDTHS[0])
    note = "; ".join(m.note for m in (wide, narrow) if m.note)
    if wide.value is not None and narrow.value is not None:
        return Measured(wide.value - narrow.value)
    if wide.value is not None:  # the narrow one is above the grid: the shift is below this
        return Measured(None, upper=wide.value - narrow.lower, note=note)
    if narrow.value is not None:
        return Measured(None, lower=wide.lower - narrow.value, note=note)
    return Measured(None, note=note)


def _memorization_above_critical(outcome) -> Measured:
    """Share of runs in phase memorization among the cells at or above their width's f_crit."""
    runs = []
    for width in WIDTHS:
        f_crit = critical_fraction(outcome, width).value
        if f_crit is not None:
            runs += [r for f in FRACTIONS if f >= f_crit for r in outcome[cell(width, f)]]
    if not runs:
        return Measured(None, note="no width generalizes on the grid")
    return Measured(sum(r.events.phase == "memorization" for r in runs) / len(runs))


def _fitted(outcome, width: int) -> int:
    return sum(r.events.t_fit is not None for f in FRACTIONS for r in outcome[cell(width, f)])


def _capacity_growth(outcome) -> Measured:
    return Measured(_fitted(outcome, WIDTHS[-1]) - _fitted(outcome, WIDTHS[0]))


def _delay_shrinks(outcome) -> Measured:
    """Widest width: median t_gen/t_fit at the largest fraction ÷ that at its f_crit."""
    width = WIDTHS[-1]
    f_crit = critical_fraction(outcome, width).value
    if f_crit is None:
        return Measured(None, note=f"width {width}: never generalizes")

    def median_ratio(frac: float) -> float | None:
        ratios = [r.events.ratio for r in outcome[cell(width, frac)] if r.events.ratio]
        return statistics.median(ratios) if ratios else None

    at_crit, at_most = median_ratio(f_crit), median_ratio(FRACTIONS[-1])
    if at_crit is None or at_most is None:
        return Measured(None, note="a ratio t_gen/t_fit is undefined")
    return Measured(at_most / at_crit)


def figures(outcome, store) -> list[tuple[str, object]]:
    import matplotlib.pyplot as plt

    from phenolab.report.figures import phase_map

    cells = {(f, w): [r.events for r in outcome[cell(w, f)]] for w in WIDTHS for f in FRACTIONS}
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    phase_map(ax, cells, FRACTIONS, WIDTHS)
    ax.set_xticks(range(len(FRACTIONS)), [f"{f:.0%}" for f in FRACTIONS])
    ax.set(xlabel="train fraction of the table", ylabel="MLP hidden width")
    ax.set_title("Phase of each cell (colour: majority over seeds; text: every seed)")
    fig.tight_layout()
    return [("Phase diagram: train fraction × width", fig)]


PHASE_DIAGRAM = register(
    Entry(
        id="huang2024-phase-diagram",
        phenomenon="grokking phase diagram",
        paper="Huang, Hu, Han, Liu, Sun (2024). Unified view of grokking, double descent and "
        "emergent abilities: a comprehensive study on algorithm task. COLM 2024, "
        "arXiv:2402.15175",
        title="Memorization, grokking and comprehension across data size × model width",
        description=(
            "Train the embedding MLP on x+y mod 97 at every (hidden width, train fraction) of a "
            "grid and classify each run's curve: comprehension, grokking, semi-grokking, "
            "memorization or confusion. The paper's framework: wider models memorize more "
            "(larger capacity) and need less data to generalize (smaller D_crit); below D_crit "
            "a network memorizes, above it it generalizes, late near D_crit and promptly with "
            "ample data."
        ),
        reproduces="Huang et al. 2024, Fig. 1 (memorization capacity rising and critical "
        "dataset size falling with model size, splitting the plane into zones) and their "
        "phase maps over training data × model size",
        arms=tuple(
            Arm(cell(w, f), CANONICAL.replace(width=w, frac=f), QUICK.replace(width=w, frac=f))
            for w in WIDTHS
            for f in FRACTIONS
        ),
        expectations=(
            Expectation(
                id="critical-fraction-falls",
                claim="D_crit falls with model size: the critical train fraction (smallest from "
                "which every larger grid fraction generalizes in ≥ half the seeds) at the widest "
                "width is at most that at the narrowest.",
                readout=_critical_fraction_shift,
                op="<=",
                threshold=0.0,
                unit="Δ frac (widest − narrowest)",
            ),
            Expectation(
                id="memorization-only-below",
                claim="Memorization only below D_crit: no run at or above its width's critical "
                "fraction ends in phase memorization.",
                readout=_memorization_above_critical,
                op="<=",
                threshold=0.0,
                unit="share of runs",
            ),
            Expectation(
                id="capacity-grows",
                claim="Memorization capacity grows with size: the widest model fits its train "
                "set (reaches t_fit) in at least as many runs of the grid as the narrowest.",
                readout=_capacity_growth,
                op=">=",
                threshold=0.0,
                unit="runs fitted (widest − narrowest)",
            ),
            Expectation(
                id="delay-shrinks-with-data",
                claim="Grokking near D_crit, comprehension with ample data: at the widest width "
                "the median t_gen/t_fit at the largest fraction is at most half that at the "
                "critical fraction.",
                readout=_delay_shrinks,
                op="<=",
                threshold=0.5,
                unit="× ratio at f_crit",
            ),
        ),
        seeds=3,
        quick_seeds=2,
        quick_seconds=330,  # measured 2026-11-22 on the shared 2 cores (84 % of one core)
        history=(
            "2026-11-23: expectations written before any run of this entry; the grid and "
            "budget were chosen without a pilot (quick: 4 × PASS, 331 s).",
        ),
        figures=figures,
    )
)
