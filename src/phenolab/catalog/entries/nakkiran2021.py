"""Nakkiran, Venkat, Kakade & Ma (2021), "Optimal regularization can mitigate double descent",
ICLR 2021 — model-wise: with the ridge penalty λ tuned for each model size, the test risk of
linear regression on p features is monotone in p (Thm. 2 for isotropic data and random
projections; Fig. 1–2 and their random-features experiments), while the unregularized (min-norm)
fit on the same data shows the double-descent peak at p = n.

Here: isotropic Gaussian inputs in d = 200 dimensions, a linear teacher with noise σ = 0.5
(signal-to-noise 4), n = 100 training samples, a model that sees a random subset of p of the d
coordinates (the misspecified model of Hastie et al. 2022 and Belkin, Hsu & Xu 2020, an
orthogonal projection like the paper's), p from 5 to 200. Every (p, λ) with λ ∈ {0, 10⁻³, …,
10³} is a closed-form solve; for each p and seed the λ with the lowest error on 100 held-out
validation samples is chosen and its test error read (2,000 test samples).
"""

import statistics

from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.sweep_readouts import (
    arm_name,
    draw_sweep,
    log_axes,
    mark_peak,
    mark_threshold,
    median_curve,
    peak_of,
    tuned_values,
)
from phenolab.config import RunConfig

N_TRAIN, DIM = 100, 200
WIDTHS = (5, 10, 20, 30, 40, 50, 60, 70, 80, 85, 90, 95, 98, 100, 102, 105, 110, 115, 120)
WIDTHS += (130, 140, 150, 175, 200)
LAMBDAS = (0.0, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
BASE = RunConfig().replace(
    op="linear",
    n_features=DIM,
    n_train=N_TRAIN,
    n_val=100,
    n_test=2000,
    noise_std=0.5,
    model="rf",
    feature_map="subset",
    optimizer="lstsq",
    loss="mse",
)
ARMS = {(p, lam): arm_name(p, lam) for p in WIDTHS for lam in LAMBDAS}
MIN_NORM = {p: ARMS[(p, 0.0)] for p in WIDTHS}
MONOTONE_TOLERANCE = 0.1  # a rise over the preceding minimum of 10 % is "within noise"


def tuned_curve(outcome):
    """(p, median over seeds of the test error at the λ chosen on validation data), and the
    median chosen λ per p."""
    xs, ys, lams = [], [], []
    for p in WIDTHS:
        values, chosen = tuned_values(outcome, {lam: ARMS[(p, lam)] for lam in LAMBDAS})
        xs.append(float(p))
        ys.append(statistics.median(values))
        lams.append(statistics.median(chosen))
    return (xs, ys), lams


def tuned_rise(outcome) -> Measured:
    """The largest rise of the tuned curve over its running minimum, relative to that minimum
    (0: non-increasing in p)."""
    (xs, ys), lams = tuned_curve(outcome)
    peak = peak_of((xs, ys))
    chosen = ", ".join(f"p={x:g}: λ={lam:g}" for x, lam in list(zip(xs, lams, strict=True))[::4])
    return Measured(peak.rise, note=f"{peak.describe()}; median chosen λ {chosen}")


def min_norm_rise(outcome) -> Measured:
    """The relative height of the min-norm (λ = 0) curve's peak (0 without one)."""
    peak = peak_of(median_curve(outcome, MIN_NORM, "test/loss"))
    return Measured(peak.rise if peak.found else 0.0, note=peak.describe())


def ridge_figure(outcome, store):
    import matplotlib.pyplot as plt

    fig, (ax, zoom, lam_ax) = plt.subplots(
        1, 3, figsize=(16, 4.4), gridspec_kw={"width_ratios": [1.4, 1.2, 0.9]}
    )
    for i, lam in enumerate(LAMBDAS[1:]):
        arms = {p: ARMS[(p, lam)] for p in WIDTHS}
        color = plt.get_cmap("Greys")(0.3 + 0.6 * i / len(LAMBDAS))
        draw_sweep(ax, outcome, arms, "test/loss", f"λ = {lam:g}", color, faint=False)
    curve = draw_sweep(ax, outcome, MIN_NORM, "test/loss", "λ = 0 (min-norm)", "C3")
    mark_peak(ax, peak_of(curve))
    (xs, ys), lams = tuned_curve(outcome)
    for target in (ax, zoom):
        target.plot(xs, ys, color="C0", lw=2.5, marker="s", ms=4, label="λ tuned (median)")
    for s, values in enumerate(tuned_seeds(outcome)):
        zoom.plot(xs, values, color="C0", lw=0.6, alpha=0.3, label="seeds" if s == 0 else None)
    lam_ax.plot(xs, [max(lam, 1e-4) for lam in lams], color="C0", marker="s", ms=4)
    top = max(*ys, *curve[1])
    mark_threshold(ax, N_TRAIN)
    log_axes(ax, "p (coordinates the model sees, of d = 200)", "test MSE (median over seeds)")
    ax.set_ylim(top=3 * top)
    mark_threshold(zoom, N_TRAIN)
    zoom.set(xscale="log", xlabel="p", ylabel="test MSE, λ chosen on validation")
    zoom.grid(True, alpha=0.3)
    zoom.legend(fontsize=8)
    mark_threshold(lam_ax, N_TRAIN)
    lam_ax.set(xscale="log", yscale="log", xlabel="p", ylabel="chosen λ (median; 0 drawn at 1e-4)")
    lam_ax.grid(True, alpha=0.3)
    fig.suptitle("Nakkiran et al. 2021: optimally tuned ridge against min-norm, n = 100")
    fig.tight_layout()
    return [
        (
            "Left: test error against p for min-norm least squares (red; faint: seeds), each "
            "fixed ridge λ (grey) and λ chosen per p and seed on validation data (blue); dashed: "
            "p = n. Middle: the tuned curve alone (linear scale; faint: seeds). Right: the "
            "chosen λ.",
            fig,
        )
    ]


def tuned_seeds(outcome) -> list[list[float]]:
    """Each seed's tuned test error against p."""
    per_p = [tuned_values(outcome, {lam: ARMS[(p, lam)] for lam in LAMBDAS})[0] for p in WIDTHS]
    return [list(values) for values in zip(*per_p, strict=True)]


NAKKIRAN_RIDGE = register(
    Entry(
        id="nakkiran2021-ridge",
        phenomenon="double descent (optimal regularization)",
        paper="Nakkiran, Venkat, Kakade, Ma (2021). Optimal regularization can mitigate double "
        "descent. ICLR 2021, arXiv:2003.01897",
        title="Optimally tuned ridge: no peak, test error monotone in p",
        description=(
            "Sweep the number p of input coordinates a linear model sees (isotropic Gaussian data, "
            "d = 200, n = 100, noise σ = 0.5) with ridge penalties λ from 0 to 1,000; for each p "
            "and seed choose λ on a validation set and read the test error. The paper: with "
            "optimal regularization the test risk is monotone in the model size (no double "
            "descent), while the unregularized fit peaks at p = n."
        ),
        reproduces="Nakkiran et al. 2021, model-wise monotonicity under optimal ℓ2 "
        "regularization (Thm. 2; Fig. 1–2): test risk against model size for λ = 0 and the "
        "optimal λ",
        arms=tuple(Arm(name, BASE.replace(width=p, wd=lam)) for (p, lam), name in ARMS.items()),
        expectations=(
            Expectation(
                id="tuned-monotone",
                claim="With λ tuned per p the median test error is monotone non-increasing in p "
                "within noise: it never rises more than 10 % over its running minimum.",
                readout=tuned_rise,
                op="<=",
                threshold=MONOTONE_TOLERANCE,
                unit="× the running minimum",
            ),
            Expectation(
                id="min-norm-peaks",
                claim="On the same data the unregularized (min-norm) fit shows the double-descent "
                "peak: its test error at least doubles over its preceding minimum.",
                readout=min_norm_rise,
                op=">=",
                threshold=1.0,
                unit="× the preceding minimum",
            ),
        ),
        seeds=10,
        quick_seeds=5,
        quick_seconds=50,
        history=("2026-11-24: written before any run of the entry.",),
        figures=ridge_figure,
    )
)
