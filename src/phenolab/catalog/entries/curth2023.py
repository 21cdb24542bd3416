"""Curth, Jeffares & van der Schaar (2023), "A U-turn on double descent: rethinking parameter
counting in statistical learning", NeurIPS 2023 — §4 and its random-Fourier-features regression
experiments: read as linear smoothers, min-norm least-squares fits use an effective number of
parameters on unseen inputs, p⁰ = n / |I₀| · Σ_{j∈I₀} ‖ŝ(x_j)‖² (ŝ(x): the weights of the
training labels in the prediction at x), that rises up to the interpolation threshold and falls
again beyond it; plotted against it, the "apparent double descent curves fold back into more
traditional convex shapes" (abstract) — the second descent is a U-turn along the effective
parameter axis, not new territory beyond a U.

The runs are exactly those of `belkin2019-minnorm` (same configs, so a store that holds them
solves nothing again): random ReLU features of the diabetes set, n = 100, min-norm least
squares, p from 5 to 2,000. Each solve records p⁰ on the test inputs (`peff/test`), on the
training inputs (`peff/train` = tr(SSᵀ), which stays at n once interpolating) and tr(S)
(`train/closedform.py`).
"""

from phenolab.catalog import Entry, Expectation, Measured, register
from phenolab.catalog.entries.belkin2019 import ARMS, BELKIN_MINNORM, N_TRAIN
from phenolab.catalog.readouts import spearman
from phenolab.catalog.sweep_readouts import (
    distinct,
    draw_sweep,
    log_axes,
    mark_peak,
    mark_threshold,
    median_curve,
    peak_of,
)


def curves(outcome):
    """(p, median p⁰ on test inputs, median test error)."""
    peff = median_curve(outcome, ARMS, "peff/test")
    test = median_curve(outcome, ARMS, "test/loss")
    return peff[0], peff[1], test[1]


def beyond_threshold(outcome):
    return [(p, e, t) for p, e, t in zip(*curves(outcome), strict=True) if p >= N_TRAIN]


def peff_falls(outcome) -> Measured:
    """Spearman ρ between p and the median p⁰(test) over p ≥ n (−1: it falls all the way)."""
    tail = beyond_threshold(outcome)
    p, peff, _ = zip(*tail, strict=True)
    top = max(zip(*curves(outcome)[:2], strict=True), key=lambda pair: pair[1])
    note = f"p⁰(test) peaks at p = {top[0]:g} ({top[1]:.4g}); at p = {p[-1]:g}: {peff[-1]:.4g}"
    return Measured(spearman(p, peff), note=note)


def error_follows_peff(outcome) -> Measured:
    """Spearman ρ between the median p⁰(test) and the median test error over p ≥ n: +1 when
    the second descent is a walk back down the effective-parameter axis."""
    tail = beyond_threshold(outcome)
    _, peff, test = zip(*tail, strict=True)
    return Measured(spearman(peff, test), note=f"{len(tail)} sizes p ≥ n")


def descent_against_peff(outcome) -> Measured:
    """The detector's fall-back after the peak of the median test error against p⁰(test), every
    p pooled and sorted by p⁰ (0: no second descent along that axis)."""
    _, peff, test = curves(outcome)
    peak = peak_of(distinct(list(zip(peff, test, strict=True))))
    raw = peak_of(median_curve(outcome, ARMS, "test/loss"))
    note = f"against p⁰: {peak.describe()} | against p: {raw.describe()}"
    if not peak.found or peak.at_edge:
        return Measured(0.0, note=note)
    return Measured(peak.drop, note=note)


def uturn_figure(outcome, store):
    import matplotlib.pyplot as plt

    fig, (by_p, by_peff, peff_ax) = plt.subplots(1, 3, figsize=(16, 4.4))
    curve = draw_sweep(by_p, outcome, ARMS, "test/loss", "test MSE (median)", "C0")
    mark_threshold(by_p, N_TRAIN)
    mark_peak(by_p, peak_of(curve))
    log_axes(by_p, "p (raw parameter count)", "test mean squared error")
    p, peff, test = curves(outcome)
    for label, color, below in (
        ("p < n", "C2", True),
        ("p ≥ n (arrows: growing p)", "C1", False),
    ):
        pts = [(e, t) for x, e, t in zip(p, peff, test, strict=True) if (x < N_TRAIN) == below]
        by_peff.plot(*zip(*pts, strict=True), color=color, marker="o", ms=3, label=label)
        for (e0, t0), (e1, t1) in zip(pts, pts[1:], strict=False):
            by_peff.annotate(
                "", (e1, t1), (e0, t0), arrowprops={"arrowstyle": "->", "color": color}
            )
    log_axes(by_peff, "p⁰ on test inputs (Curth et al.)", "test mean squared error")
    draw_sweep(peff_ax, outcome, ARMS, "peff/test", "p⁰ test inputs", "C1", faint=False)
    draw_sweep(peff_ax, outcome, ARMS, "peff/train", "p⁰ train inputs = tr(SSᵀ)", "C4", faint=False)
    mark_threshold(peff_ax, N_TRAIN)
    log_axes(peff_ax, "p (raw parameter count)", "effective parameters (median)")
    fig.suptitle("Curth et al. 2023: the same min-norm sweep against raw and effective parameters")
    fig.tight_layout()
    return [
        (
            "Left: test error against the raw count p (dashed: p = n). Middle: the same points "
            "against the effective parameters p⁰ on test inputs — the p ≥ n branch (orange) "
            "walks back down the p < n branch (green). Right: p⁰ on test and train inputs "
            "against p.",
            fig,
        )
    ]


CURTH_UTURN = register(
    Entry(
        id="curth2023-uturn",
        phenomenon="double descent (effective parameters)",
        paper="Curth, Jeffares, van der Schaar (2023). A U-turn on double descent: rethinking "
        "parameter counting in statistical learning. NeurIPS 2023, arXiv:2310.18988",
        title="Against effective parameters the second descent folds back into a U",
        description=(
            "Take the min-norm random-features sweep of belkin2019-minnorm (same runs) and plot "
            "its median test error against Curth et al.'s effective number of parameters on "
            "test inputs, p⁰ = n · mean_j ‖ŝ(x_j)‖², instead of the raw count p. The paper: "
            "past the interpolation threshold p⁰ falls as p grows, so the second descent retraces "
            "the classical side of a U and the double descent disappears on that axis."
        ),
        reproduces="Curth et al. 2023, §4 (generalized effective parameters of smoothers) and "
        "the RFF linear-regression experiments: test error against raw parameters (double "
        "descent) and against effective parameters on test inputs (a traditional U)",
        arms=BELKIN_MINNORM.arms,
        expectations=(
            Expectation(
                id="peff-falls-past-threshold",
                claim="Past the interpolation threshold the effective parameters on test inputs "
                "fall as p grows: Spearman ρ(p, p⁰_test) over p ≥ n ≤ −0.8.",
                readout=peff_falls,
                op="<=",
                threshold=-0.8,
                unit="ρ",
            ),
            Expectation(
                id="error-follows-peff",
                claim="Along that branch the test error falls with p⁰_test — the second descent is "
                "fewer effective parameters: Spearman ρ(p⁰_test, test error) over p ≥ n ≥ 0.8.",
                readout=error_follows_peff,
                op=">=",
                threshold=0.8,
                unit="ρ",
            ),
            Expectation(
                id="no-second-descent-against-peff",
                claim="Against p⁰_test the curve has no second descent: after its peak it falls "
                "back by less than half the peak's height (the criterion belkin2019-minnorm "
                "applies against p).",
                readout=descent_against_peff,
                op="<",
                threshold=0.5,
                unit="of the peak height",
            ),
        ),
        seeds=BELKIN_MINNORM.seeds,
        quick_seeds=BELKIN_MINNORM.quick_seeds,
        quick_seconds=20,
        history=(
            "2026-11-24: written before any run of the entry, after the 7-seed pilot noted in "
            "belkin2019-minnorm, which printed p⁰_test beside the test error (it peaked at "
            "p = n). The paper's figures could not be read here; the published side is its "
            "abstract, its §4 definition and the authors' code "
            "(alanjeffares/not-double-descent: p⁰ from the pseudo-inverse smoother on test "
            "inputs).",
        ),
        figures=uturn_figure,
    )
)
