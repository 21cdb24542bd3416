"""`nakkiran2021-model-wise`: deep double descent in model size (Nakkiran et al. 2021, §5) on
MNIST-1D, the width sweep of Greydanus & Kobak 2024 — test error against the hidden width h of
the MLP 40-h-h-10 with 15 % label noise falls, peaks where the model can just fit the noisy
labels, and falls again. The setting and read-outs the three deep double-descent entries share
are in nakkiran2021_deep.py."""

from __future__ import annotations

from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.entries.nakkiran2021_deep import (
    GREYDANUS,
    MIN_PEAK,
    MODEL_WISE,
    MODEL_WISE_QUICK,
    NAKKIRAN,
    NO_PEAK,
    POINTS,
    descent,
    largest_rise,
    sweep,
    sweep_figure,
    sweep_peak_near_threshold,
    sweep_rise,
)

# The notebook's widths: np.unique(np.geomspace(2, 300, 20, dtype=int)).
WIDTHS = (2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 36, 47, 61, 80, 104, 135, 177, 230, 300)
QUICK_WIDTHS = (9, 16, 27, 47, 61, 80, 104, 135)
WIDTH_ARMS = {h: f"h={h}" for h in WIDTHS}


def _width_arm(h: int) -> Arm:
    return Arm(
        WIDTH_ARMS[h],
        MODEL_WISE.replace(widths=(h, h)),
        MODEL_WISE_QUICK.replace(widths=(h, h)),
        in_quick=h in QUICK_WIDTHS,
    )


def width_rise(outcome) -> Measured:
    return sweep_rise(outcome, WIDTH_ARMS, "h")


def width_peak_near_threshold(outcome) -> Measured:
    return sweep_peak_near_threshold(outcome, WIDTH_ARMS, fits_above=True)


def width_descent(outcome) -> Measured:
    xs, _, test = sweep(outcome, WIDTH_ARMS)
    return descent(xs, test)


def widest_versus_best_narrow(outcome) -> Measured:
    """Median test error at the largest width minus the minimum before the peak, in points."""
    xs, _, test = sweep(outcome, WIDTH_ARMS)
    peak = largest_rise(xs, test)
    if peak is None or peak.height < MIN_PEAK:
        return Measured(None, note=NO_PEAK)
    best = peak.y_before
    return Measured(
        (test[-1] - best) * POINTS,
        note=f"h={xs[-1]:g}: {test[-1] * POINTS:.1f} %, h={peak.x_before:g}: {best * POINTS:.1f} %",
    )


def _model_wise_figures(outcome, store) -> list[tuple[str, object]]:
    fig = sweep_figure(
        outcome,
        WIDTH_ARMS,
        "hidden width h (MLP 40-h-h-10)",
        "Model-wise double descent: MNIST-1D, 15 % label noise",
        fits_above=True,
    )
    return [
        (
            "Final train and test error against width: medians over seeds (lines), each seed "
            "(dots), the interpolation threshold (dashed: median train error ≤ 1 % from there "
            "on) and the peak (circle)",
            fig,
        )
    ]


MODEL_WISE_ENTRY = register(
    Entry(
        id="nakkiran2021-model-wise",
        phenomenon="double descent (model-wise)",
        paper=f"{GREYDANUS}; {NAKKIRAN}",
        title="Test error peaks where the model can just fit the noisy labels, then falls again",
        description=(
            "Train the MLP 40-h-h-10 on MNIST-1D's 4,000 training sequences, 15 % of them "
            "relabelled wrongly, for 500 epochs of SGD (lr 0.01, momentum 0.9, batch 100) at "
            "19 widths h from 2 to 300, and record the final train and test errors. The MNIST-1D "
            "notebook reports test error ≈ 47 % at h = 16, a peak ≈ 54–55 % at h ≈ 47–61 where "
            "the training error reaches 0, and ≈ 45–46 % at h = 300: the double descent that "
            "Nakkiran et al. found for ResNets and transformers, on a CPU-sized problem."
        ),
        reproduces="Greydanus & Kobak 2024, deep double descent on MNIST-1D (notebook "
        "deep-double-descent.ipynb: test error against hidden width, 15 % label noise); Nakkiran "
        "et al. 2021, §5 (model-wise double descent)",
        arms=tuple(_width_arm(h) for h in WIDTHS),
        expectations=(
            Expectation(
                id="peak",
                claim="The median test error rises over its preceding minimum (in width) by at "
                "least 3 points before falling again (published: 47 % at h = 16 to 54 % at "
                "h ≈ 47–61, +7).",
                readout=width_rise,
                op=">=",
                threshold=3.0,
                unit="points",
            ),
            Expectation(
                id="peak-at-threshold",
                claim="The peak lies within a factor 2 of the interpolation threshold, the "
                "smallest width from which the median train error stays ≤ 1 %: "
                "|log2(h_peak / h_threshold)| ≤ 1 (published: peak at 47, train error 0 from 61).",
                readout=width_peak_near_threshold,
                op="<=",
                threshold=1.0,
                unit="octaves",
            ),
            Expectation(
                id="second-descent",
                claim="The widest network's median test error is at least 3 points below the "
                "peak (published: 54 % → 45 % at h = 300).",
                readout=width_descent,
                op=">=",
                threshold=3.0,
                unit="points",
            ),
            Expectation(
                id="wide-matches-narrow",
                claim="The widest network is as good as the best narrow one: its median test "
                "error is at most 1 point above the minimum before the peak (published: 45 % at "
                "h = 300 against 47 % at h = 16).",
                readout=widest_versus_best_narrow,
                op="<=",
                threshold=1.0,
                unit="points",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=620,  # measured 2026-11-23: 624 s on the 2 cores at load average 12–17
        seconds=None,
        history=(
            "2026-11-23: expectations written before any run. Pilots then set the budgets (not "
            "the thresholds): our init reproduced the notebook at 16 / 48 / 64 / 128 (49 / 57 / "
            "56 / 49 % test error, 2 seeds, 500 epochs), and after 150 epochs the peak is "
            "already there (quick variant). A 1,000-sample variant was piloted for the quick "
            "variant and rejected: its test error sits at 64–71 % for every width and the peak "
            "(+2 points) is within seed noise.",
        ),
        figures=_model_wise_figures,
    )
)
