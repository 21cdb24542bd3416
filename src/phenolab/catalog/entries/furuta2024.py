"""Furuta, Minegishi, Iwasawa, Matsuo (2024), "Towards empirical interpretation of internal
circuits and properties in grokked transformers on modular polynomials" (TMLR; arXiv:2402.16726,
first titled "Interpreting grokked transformers in complex modular arithmetic") — whether what a
network groks on one operation carries over to another: the embedding of a transformer grokked
on x+y mod 97 is loaded into a fresh transformer and frozen while it trains on a new operation.
Their finding (abstract; the frozen pre-grokked embedding experiments): transferability is
limited to specific combinations, such as from elementary arithmetic to linear expressions —
not to polynomials.

Arms, per seed (a target's embedding is the source run's of the same seed):
- `source`: x+y, trained until it has grokked;
- `linear-scratch` / `linear-frozen`: 2x+y from scratch, and with the source's embedding frozen
  (`embed_from` + the `freeze-embedding` intervention);
- `quadratic-scratch` / `quadratic-frozen`: the same for x²+y².
Canonical: their setting (the reference code's configs): p = 97, 30 % of the table, 1-layer
transformer (d_model 128, 4 heads, d_mlp 512, no LayerNorm), AdamW lr 1e-3, wd 1, full batch;
the source's embedding taken at step 10,000, the targets trained 100,000 steps. (Their sequence
is `x op y` without `=`; ours reads `x op y =`.)
Quick (CPU): the main job's embedding MLP (x+y, 30 %, 3,000 steps) as the source, the same MLP
as the targets.
"""

from __future__ import annotations

from phenolab.catalog import Arm, Entry, Expectation, register
from phenolab.catalog.readouts import fraction_generalized, median_t_gen, ratio
from phenolab.config.presets import preset

FROZEN_TRANSFER = dict(interventions="freeze-embedding")
TARGETS = {"linear": "2x+y", "quadratic": "x^2+y^2"}

CANONICAL_SOURCE = preset("nanda").replace(p=97, frac=0.3, sequence="x op y =", steps=10_000)
CANONICAL_TARGET = CANONICAL_SOURCE.replace(steps=100_000, eval_every=250)
QUICK_SOURCE = preset("grokking")  # x+y mod 97, 30 %, d_embed 64, width 128, 3,000 steps


def _targets(kind: str) -> tuple[Arm, Arm]:
    op = TARGETS[kind]
    scratch = Arm(f"{kind}-scratch", CANONICAL_TARGET.replace(op=op), QUICK_SOURCE.replace(op=op))
    frozen = Arm(
        f"{kind}-frozen",
        CANONICAL_TARGET.replace(op=op, **FROZEN_TRANSFER),
        QUICK_SOURCE.replace(op=op, **FROZEN_TRANSFER),
        parent="source",
        link="embed_from",
    )
    return scratch, frozen


def _speedup(kind: str):
    """Median t_gen from scratch / with the frozen transferred embedding."""
    return lambda outcome: ratio(
        median_t_gen(outcome, f"{kind}-scratch"), median_t_gen(outcome, f"{kind}-frozen")
    )


FURUTA_TRANSFER = register(
    Entry(
        id="furuta2024-transfer",
        phenomenon="grokking (intervention: frozen embedding transfer)",
        paper="Furuta, Minegishi, Iwasawa, Matsuo (2024). Towards empirical interpretation of "
        "internal circuits and properties in grokked transformers on modular polynomials. "
        "TMLR, arXiv:2402.16726",
        title="A grokked embedding transfers to a linear expression, not to a polynomial",
        description=(
            "Grok x+y mod 97; load the grokked network's embedding into a fresh network, freeze "
            "it, and train on another operation. The paper: the frozen pre-grokked embedding of "
            "an elementary operation transfers to linear expressions (here 2x+y: generalization "
            "comes sooner than from scratch) but not to polynomials (here x²+y²)."
        ),
        reproduces="Furuta et al. 2024, the frozen pre-grokked embedding experiments "
        "(abstract: transferability only between specific combinations, e.g. elementary "
        "arithmetic → linear expressions)",
        arms=(
            Arm("source", CANONICAL_SOURCE, QUICK_SOURCE),
            *_targets("linear"),
            *_targets("quadratic"),
        ),
        expectations=(
            Expectation(
                id="source-groks",
                claim="The source groks x+y (the transfer needs a grokked embedding): ≥ 80 % of "
                "seeds generalize.",
                readout=lambda outcome: fraction_generalized(outcome, "source"),
                op=">=",
                threshold=0.8,
                unit="of seeds",
            ),
            Expectation(
                id="transfers-to-linear",
                claim="The frozen addition embedding transfers to the linear expression 2x+y: "
                "median t_gen at least 2× sooner than from scratch.",
                readout=_speedup("linear"),
                op=">=",
                threshold=2.0,
                unit="× (scratch / frozen)",
            ),
            Expectation(
                id="not-to-polynomial",
                claim="Transfer is limited to specific combinations: to x²+y² the frozen "
                "addition embedding brings no clear gain (median t_gen from scratch / frozen "
                "≤ 1.2).",
                readout=_speedup("quadratic"),
                op="<=",
                threshold=1.2,
                unit="× (scratch / frozen)",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=440,  # measured at load average 3-5
        seconds=None,
        history=(
            "2026-11-23: written before any run of the entry; the thresholds read the paper's "
            "qualitative claims (it reports curves, not factors): 'transfers' as at least twice "
            "as fast, 'no transfer' as no gain beyond 1.2×.",
        ),
    )
)
