"""Chughtai, Chan & Nanda (2023), "A toy model of universality: reverse engineering how networks
learn group operations", ICML 2023, arXiv:2302.03025 — grokking on finite groups: networks
trained on a fraction of a group's composition table fit it early and generalize much later,
and the generalizing network composes elements through a few irreducible representations.

Canonical: the authors' released configs (bilal-chughtai/rep-theory-mech-interp,
`batch_experiments/{S5,D59}_MLP_seed*/cfg.json`): one-hidden-layer MLP (embedding 256, hidden
128, ReLU), AdamW lr 1e-3, wd 1, β (0.9, 0.98), full batch, 250,000 epochs; S5 on 40 % of its
14,400 pairs, D59 (order 118) on 30 % of 13,924. phenolab's embedding MLP shares one embedding
between both operands and has biases, where theirs has separate left/right embeddings and none
(the same function class here: d_embed 256 exceeds the group orders).
Quick (CPU): the same groups and fractions with the main job's MLP and optimizer (d_embed 64,
width 128, AdamW lr 1e-2, wd 1, 10 warmup steps): S5 groks within ~5,000 steps, D59 within
~1,500 (one-seed pilots, which set only these step budgets).
"""

from __future__ import annotations

import statistics

from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.readouts import curves_of, fraction_generalized
from phenolab.config import RunConfig
from phenolab.measures.irreps import KEY_SHARE
from phenolab.tasks import groups

S5, D59 = "S5", "D59"

_PAPER = dict(d_embed=256, width=128, lr=1e-3, wd=1.0, betas=(0.9, 0.98), warmup=0)
CANONICAL = {
    S5: RunConfig().replace(op=S5, frac=0.4, steps=250_000, eval_every=1000, **_PAPER),
    D59: RunConfig().replace(
        op=D59, frac=0.3, steps=250_000, eval_every=1000, measures=("irreps",), **_PAPER
    ),
}
QUICK = {
    S5: RunConfig().replace(op=S5, frac=0.4, steps=10_000, eval_every=50),
    D59: RunConfig().replace(op=D59, frac=0.3, steps=3_000, eval_every=50, measures=("irreps",)),
}


def delay_ratio(outcome, arm: str) -> Measured:
    """Median over seeds of t_gen / t_fit. A seed that never generalized has t_gen beyond the
    budget: its ratio, and so the median, is only bounded below."""
    values, censored = [], 0
    for r in outcome[arm]:
        t_fit, t_gen = r.events.t_fit, r.events.t_gen
        if not t_fit:
            return Measured(None, note=f"{arm}: a seed never fit its training set")
        budget = r.record.config["train"]["steps"]
        censored += t_gen is None
        values.append((t_gen if t_gen is not None else budget + 1) / t_fit)
    if censored:
        note = f"{arm}: {censored} seed(s) never generalized"
        return Measured(None, lower=statistics.median(values), note=note)
    return Measured(statistics.median(values))


def irrep_key_fraction(outcome, arm: str) -> Measured:
    """Median over seeds of (irreps holding 90 % of the final embedding norm) / (all irreps)."""
    fractions = []
    for r, metrics in zip(outcome[arm], curves_of(outcome, arm, "irrep/key"), strict=True):
        n = groups.parse_group(r.record.config["task"]["op"])[1]
        fractions.append(metrics["irrep/key"][1][-1] / len(groups.dihedral_characters(n)))
    return Measured(statistics.median(fractions))


def _figures(outcome, store) -> list[tuple[str, object]]:
    import matplotlib.pyplot as plt

    from phenolab.report.figures import TEST

    results = outcome.get(D59, [])
    curves = [r.metrics or store.metrics(r.record.id) for r in results]
    curves = [m for m in curves if "irrep/key" in m]
    if not curves:
        return []
    n = groups.parse_group(D59)[1]
    dims = {name: d for name, (d, _) in groups.dihedral_characters(n).items()}
    first = curves[0]
    fig, (ax, ax_bar) = plt.subplots(1, 2, figsize=(12.5, 4.2))
    final = {name: first[f"irrep/{name}"][1][-1] for name in dims}
    top = sorted(final, key=final.get, reverse=True)[:6]
    for name in dims:
        steps, shares = first[f"irrep/{name}"]
        keep = [i for i, s in enumerate(steps) if s > 0]
        ax.plot(
            [steps[i] for i in keep],
            [shares[i] for i in keep],
            lw=1.6 if name in top else 0.6,
            color=None if name in top else "0.75",
            label=name if name in top else None,
        )
    steps, acc = first["test/acc"]
    ax2 = ax.twinx()
    keep = [i for i, s in enumerate(steps) if s > 0]  # a log axis has no step 0
    ax2.plot([steps[i] for i in keep], [acc[i] for i in keep], color=TEST, ls="--", lw=1.2)
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("test accuracy (dashed)")
    ax.set_xscale("log")
    ax.set_xlabel("optimization step")
    ax.set_ylabel("share of ‖W_E‖² in the irrep")
    ax.set_title(f"{D59}, seed 0: irreps of the element embedding over training")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, alpha=0.3)
    for i, m in enumerate(curves):
        shares = sorted((m[f"irrep/{name}"][1][-1] for name in dims), reverse=True)
        ax_bar.plot(range(1, len(shares) + 1), shares, marker="o", ms=3, lw=1, label=f"seed {i}")
    uniform = sorted((d * d / (2 * n) for d in dims.values()), reverse=True)
    ax_bar.plot(range(1, len(uniform) + 1), uniform, color="k", ls=":", label="random embedding")
    ax_bar.set_xlabel("irreps, largest share first")
    ax_bar.set_ylabel("final share of ‖W_E‖²")
    ax_bar.set_title(f"end of training: {KEY_SHARE:.0%} of the norm in few irreps?")
    ax_bar.legend(fontsize=8)
    ax_bar.grid(True, alpha=0.3)
    fig.tight_layout()
    caption = (
        f"{D59}: share of the element embedding's squared norm in each irreducible "
        "representation (left: seed 0 over training, the six largest at the end coloured, test "
        "accuracy dashed; right: final shares of every seed against a random embedding's, "
        "d²/|G| per irrep). Chughtai et al. §5: a few irreps carry the learned algorithm."
    )
    return [(caption, fig)]


CHUGHTAI_GROUPS = register(
    Entry(
        id="chughtai2023-groups",
        phenomenon="grokking (groups)",
        paper="Chughtai, Chan, Nanda (2023). A toy model of universality: reverse engineering how "
        "networks learn group operations. ICML 2023, arXiv:2302.03025",
        title="Grokking group composition: S5 and D59",
        description=(
            "Train an MLP on 40 % of the S5 composition table (permutations of 5 elements, "
            "120 × 120 pairs) and on 30 % of D59's (symmetries of the 59-gon, 118 × 118), and "
            "measure t_fit and t_gen. The paper's networks fit the training pairs early, "
            "generalize to all pairs much later, and the generalizing network embeds the group "
            "through a few irreducible representations (recorded for D59: the share of the "
            "embedding's squared norm in each irrep). Quick: same groups and fractions, the main "
            "job's smaller MLP and lr 1e-2 on a CPU."
        ),
        reproduces="Chughtai et al. 2023, §4–5 and the authors' released training logs "
        "(S5_MLP_seed1: train accuracy 1.0 by epoch ~1,000, test accuracy < 0.01 at epoch "
        "70,000 and 1.0 by 240,000; D59_MLP_seed1: test accuracy 0.08 at epoch 16,400, 1.0 by "
        "41,000; final D59 embedding: 7 of 31 irreps hold 90 % of its norm)",
        arms=(
            Arm(S5, CANONICAL[S5], QUICK[S5]),
            Arm(D59, CANONICAL[D59], QUICK[D59]),
        ),
        expectations=(
            Expectation(
                id="s5-generalizes",
                claim="Every S5 seed generalizes: test accuracy ≥ 0.99 to the end of the run "
                "(the authors' S5 runs end at test accuracy 1.0).",
                readout=lambda o: fraction_generalized(o, S5),
                op=">=",
                threshold=1.0,
                unit="of seeds",
            ),
            Expectation(
                id="d59-generalizes",
                claim="Every D59 seed generalizes (the authors' D59 runs end at test accuracy "
                "1.0).",
                readout=lambda o: fraction_generalized(o, D59),
                op=">=",
                threshold=1.0,
                unit="of seeds",
            ),
            Expectation(
                id="s5-late",
                claim="S5 generalizes much later than it fits: median t_gen / t_fit ≥ 10 (an "
                "order of magnitude; the authors' S5 log shows more than ×70).",
                readout=lambda o: delay_ratio(o, S5),
                op=">=",
                threshold=10.0,
                unit="× t_fit",
            ),
            Expectation(
                id="d59-late",
                claim="D59 generalizes much later than it fits: median t_gen / t_fit ≥ 10.",
                readout=lambda o: delay_ratio(o, D59),
                op=">=",
                threshold=10.0,
                unit="× t_fit",
            ),
            Expectation(
                id="d59-few-irreps",
                claim="The generalized D59 network embeds the group through a few irreps: the "
                "irreps holding 90 % of the final embedding's squared norm are at most a third "
                "of D59's 31 (median over seeds; the authors' seed 1: 7 of 31; a random "
                "embedding needs ~28).",
                readout=lambda o: irrep_key_fraction(o, D59),
                op="<=",
                threshold=1 / 3,
                unit="of the irreps",
            ),
        ),
        seeds=4,
        quick_seeds=3,
        quick_seconds=360,
        history=(
            "2026-11-22: written after one-seed pilots of the quick arms (S5: t_fit 96, test "
            "accuracy 0.01 at step 4,000 and 1.0 at 6,000; D59: t_fit ~100, test accuracy 0.37 "
            "at step 1,000 and 1.0 at 1,400), which set the quick step budgets, not the "
            "thresholds.",
        ),
        figures=_figures,
    )
)
