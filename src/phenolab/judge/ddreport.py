"""The double-descent trial's HTML report: the scorecard, the measures beside the test error
across widths (the paper's Fig. 4 double-descent panel), predicted against measured peak
locations on the held-out conditions, the predictions, and the self-assessment questions."""

from __future__ import annotations

import html
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from phenolab.judge.ddcourt import (  # noqa: E402
    SweepScore,
    SweepScorecard,
    measured_peak,
    never,
    sweep_key,
)
from phenolab.judge.report import _ratio, closing_sections, interval  # noqa: E402
from phenolab.judge.scorecard import rank_correlation  # noqa: E402
from phenolab.judge.trial import HELD_OUT  # noqa: E402
from phenolab.report.html import STYLE, _grid, _png_tag  # noqa: E402

HEADER = [
    "candidate",
    "reads",
    "tracking |ρ|",
    "peak: ρ (held-out)",
    "peak: median error",
    "whether DD",
    "prediction",
    "summary",
]


def scorecard_rows(card: SweepScorecard) -> list[list[str]]:
    rows = []
    for s in card.scores:
        j = s.json()
        whether = j["when"]["whether"]
        rows.append(
            [
                f"{j['id']}{' (null)' if j['null'] else ''}",
                j["reads"],
                interval(j["tracking"]),
                interval(j["when"]["rank"]),
                _ratio(j["when"]["log_ratio"]),
                "—" if whether is None else f"{whether:.0%}",
                "; ".join(f"{i['prediction']}: {i['verdict']}" for i in j["intervention"]) or "—",
                j["summary"].split(";")[0],
            ]
        )
    return rows


def tracking_figure(card: SweepScorecard, shown: list[SweepScore]):
    """Test error and the candidates, scaled to [0, 1], against p for seed 0 of `base` and of
    the strongest-ridge condition (the style of the paper's Fig. 4)."""
    present = {s.condition for s in card.sweeps}
    names = [n for n in ("base", "noise=1", "ridge=10") if n in present]
    names = names or [card.sweeps[0].condition]
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        sweep = next(s for s in card.sweeps if s.condition == name)
        err = np.log(sweep.test_error)
        ax.plot(sweep.widths, _scaled(err), color="black", lw=2.2, label="log test error")
        for s in shown:
            v = sweep.values.get(s.candidate.id)
            if v is None or not np.isfinite(v).all() or np.ptp(v) == 0:
                continue
            ls = "--" if s.candidate.null else "-"
            ax.plot(sweep.widths, _scaled(v), lw=1.2, ls=ls, label=s.candidate.id)
        ax.axvline(sweep.n, color="#999", ls=":", lw=0.8)
        ax.set(xscale="log", xlabel="p (random features)", title=f"{name}, seed {sweep.seed}")
        ax.title.set_size(10)
    axes[0][0].set_ylabel("scaled to [0, 1]")
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig


def _scaled(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    span = np.nanmax(v) - np.nanmin(v)
    return (v - np.nanmin(v)) / span if span > 0 else v * 0


def where_figure(card: SweepScorecard):
    """Predicted against measured peak p on the held-out sweeps, one panel per candidate;
    "none" (no double descent) drawn at the censored bound."""
    scores = card.scores
    cols = min(5, len(scores))
    rows = math.ceil(len(scores) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.9 * rows), squeeze=False)
    split = {c.name: c.split for c in card.trial.conditions}
    held = [s for s in card.sweeps if split[s.condition] == HELD_OUT]
    r = card.trial.rules
    bound = never(held[0], r) if held else 4000.0
    lim = [float(card.trial.widths[0]), bound * 1.3]
    for ax, s in zip(axes.flat, scores, strict=False):
        predicted = s.when["predicted"]
        xs = [measured_peak(h, r) for h in held if sweep_key(h) in predicted]
        ys = [predicted[sweep_key(h)] for h in held if sweep_key(h) in predicted]
        ax.scatter(xs, ys, s=12, alpha=0.7)
        ax.plot(lim, lim, color="#999", lw=0.8)
        ax.axvline(bound, color="#ccc", ls=":", lw=0.8)
        ax.axhline(bound, color="#ccc", ls=":", lw=0.8)
        ax.set(xscale="log", yscale="log", xlim=lim, ylim=lim, title=s.candidate.id)
        ax.title.set_size(9)
    for ax in list(axes.flat)[len(scores) :]:
        ax.axis("off")
    fig.supxlabel("measured peak p (dotted: no double descent → the bound)")
    fig.supylabel("predicted peak p")
    fig.tight_layout()
    return fig


def questions(card: SweepScorecard, s: SweepScore) -> str:
    j = s.json()
    by: dict[str, list[float]] = {}
    for sw in card.sweeps:
        rho = rank_correlation(sw.values[s.candidate.id], sw.test_error)
        if np.isfinite(rho):
            by.setdefault(sw.condition, []).append(abs(rho))
    other = [n for n in by if "teacher" in n or "linear" in n]
    edge = "; ".join(f"{n}: |ρ| {np.mean(by[n]):.2f}" for n in ["base", *other] if n in by)
    preds = (
        "; ".join(f"{i['text']} → {i['verdict']} ({i['evidence']})" for i in j["intervention"])
        or "it states no prediction"
    )
    return (
        f"<li><b>Is it an edge case?</b> Tracking on the diabetes base and on other data — "
        f"{edge or 'undefined'}.</li>"
        f"<li><b>Does it predict something else?</b> Where held-out conditions peak: rank ρ "
        f"{interval(j['when']['rank'])}, median error {_ratio(j['when']['log_ratio'])}, agrees "
        f"on whether there is a double descent in "
        f"{'—' if j['when']['whether'] is None else format(j['when']['whether'], '.0%')} of "
        f"held-out sweeps (rule: {html.escape(str(j['when']['rule']))}).</li>"
        f"<li><b>Is it falsifiable?</b> {html.escape(preds)}</li>"
    )


def dd_report(card: SweepScorecard) -> str:
    data = card.json()
    trial = card.trial
    ranked = sorted(
        (s for s in card.scores if not s.candidate.null), key=lambda s: -(s.tracking.value or 0)
    )
    nulls = [s for s in card.scores if s.candidate.id in ("primes", "p")]
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>phenolab judge: {trial.name}</title>",
        f"<style>{STYLE}</style>",
        f"<h1>Explanations of double descent on trial: {html.escape(trial.name)}</h1>",
        f"<p>{html.escape(trial.description)}. Trial hash <code>{data['trial_hash']}</code> "
        "(conditions, split, widths, seeds, rules, candidates and predictions, fixed before any "
        f"run). Intervals: percentile bootstrap over conditions, {trial.rules.level:.0%}, "
        f"{trial.rules.bootstrap} resamples. Candidates read no test label: the solve's norm, "
        "training loss and effective parameters (p⁰ on test <i>inputs</i>), the solution's "
        "weights, or p.</p>",
        "<h2>Scorecard</h2>",
        _grid(HEADER, scorecard_rows(card)),
        "<h2>Conditions</h2>",
        _grid(
            ["condition", "split", "changes", "why", "measured peak p per seed"],
            [
                [
                    c.name,
                    c.split,
                    ", ".join(f"{k}={v}" for k, v in c.changes.items()) or "—",
                    c.why,
                    ", ".join(
                        "none" if p is None else f"{p:g}"
                        for k, p in data["measured_peaks"].items()
                        if k.startswith(f"{c.name}/")
                    ),
                ]
                for c in trial.conditions
            ],
        ),
        "<h2>Tracking across model sizes (the paper's Fig. 4 criterion)</h2>",
        _png_tag(tracking_figure(card, ranked[:3] + nulls), "tracking"),
        "<h2>Telling where: predicted against measured peak p on held-out conditions</h2>",
        "<ul>"
        + "".join(
            f"<li>{html.escape(s.candidate.id)}: {html.escape(str(s.when['rule']))}</li>"
            for s in card.scores
        )
        + "</ul>",
        _png_tag(where_figure(card), "telling where"),
        *closing_sections(card, "Predictions (written before the first trial run)", questions),
    ]
    return "\n".join(parts)
