"""The judge's HTML report: the scorecard, a figure per test, and the paper's self-assessment
questions answered from the evidence (Jeffares & van der Schaar 2025, §5)."""

from __future__ import annotations

import html
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from phenolab.judge.court import CandidateScore, Scorecard  # noqa: E402
from phenolab.judge.invariance import TRANSFORMS  # noqa: E402
from phenolab.judge.scorecard import rank_correlation  # noqa: E402
from phenolab.judge.trial import HELD_OUT  # noqa: E402
from phenolab.report.html import STYLE, _grid, _png_tag  # noqa: E402


def interval(d: dict | None, digits: int = 2) -> str:
    if not d or d.get("value") is None:
        return "—"
    v = f"{d['value']:.{digits}f}"
    if d.get("ci_low") is None:
        return v
    return f"{v} [{d['ci_low']:.{digits}f}, {d['ci_high']:.{digits}f}]"


def scorecard_rows(card: Scorecard) -> list[list[str]]:
    rows = []
    for s in card.scores:
        j = s.json()
        inv = ", ".join(
            f"{how} {v:.2g}" if v is not None else f"{how} —" for how, v in s.invariance.items()
        )
        rows.append(
            [
                f"{j['id']}{' (null)' if j['null'] else ''}",
                interval(j["tracking"]),
                interval(j["when"]["rank"]),
                _ratio(j["when"]["log_ratio"]),
                interval(j["forecast"]["rank"]),
                _ratio(j["forecast"]["log_ratio"]),
                inv,
                "; ".join(f"{i['prediction']}: {i['verdict']}" for i in j["intervention"]) or "—",
                j["summary"].split(";")[0],
            ]
        )
    return rows


def _ratio(d: dict) -> str:
    """Median |log ratio| as a factor: ×exp(value) [interval]."""
    if not d or d.get("value") is None:
        return "—"
    v = f"×{math.exp(d['value']):.2f}"
    if d.get("ci_low") is None:
        return v
    return f"{v} [×{math.exp(d['ci_low']):.2f}, ×{math.exp(d['ci_high']):.2f}]"


HEADER = [
    "candidate",
    "tracking |ρ|",
    "when: ρ (held-out)",
    "when: median error",
    "forecast: ρ",
    "forecast: median error",
    "invariance: relative change",
    "intervention",
    "summary",
]


def when_figure(card: Scorecard, section: str = "when"):
    """Predicted vs measured t_gen on the held-out conditions, one panel per candidate."""
    scores = card.scores
    cols = min(4, len(scores))
    rows = math.ceil(len(scores) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.1 * rows), squeeze=False)
    split = {c.name: c.split for c in card.trial.conditions}
    held = [c for c in card.curves if split[c.condition] == HELD_OUT]
    never = card.trial.rules.censored_factor * card.trial.base_config().train.steps
    for ax, s in zip(axes.flat, scores, strict=False):
        predicted = getattr(s, section)["predicted"]
        xs, ys = [], []
        for c in held:
            if c.run_id in predicted:
                xs.append(c.events.t_gen if c.events.t_gen is not None else never)
                ys.append(predicted[c.run_id])
        ax.scatter(xs, ys, s=14, alpha=0.7)
        lim = [10, never * 1.2]
        ax.plot(lim, lim, color="#999", lw=0.8)
        ax.axvline(never, color="#ccc", ls=":", lw=0.8)
        ax.axhline(never, color="#ccc", ls=":", lw=0.8)
        ax.set(xscale="log", yscale="log", xlim=lim, ylim=lim, title=s.candidate.id)
        ax.title.set_size(10)
    for ax in list(axes.flat)[len(scores) :]:
        ax.axis("off")
    fig.supxlabel("measured t_gen (dotted: never → counted at the bound)")
    fig.supylabel("predicted t_gen")
    fig.tight_layout()
    return fig


def tracking_figure(card: Scorecard, best: list[CandidateScore]):
    """Test accuracy and candidates over one base run (seed 0), each candidate scaled to [0, 1]
    — the style of the paper's Fig. 4: the prime count beside the best candidates."""
    run = next((c for c in card.curves if c.condition == "base"), card.curves[0])
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    steps = np.maximum(run.steps, 1)
    ax.plot(steps, run.test_acc, color="black", lw=2.2, label="test accuracy")
    for s in best:
        v = run.values[s.candidate.id]
        if not np.isfinite(v).any() or np.nanmax(v) == np.nanmin(v):
            continue
        scaled = (v - np.nanmin(v)) / (np.nanmax(v) - np.nanmin(v))
        ax.plot(
            steps,
            scaled,
            lw=1.3,
            ls="--" if s.candidate.null else "-",
            label=f"{s.candidate.id} (scaled)",
        )
    ax.set(
        xscale="log",
        xlabel="step",
        ylabel="test accuracy / measure scaled to [0, 1]",
        title=f"{run.condition}, seed {run.seed}",
    )
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig


def questions(card: Scorecard, s: CandidateScore) -> str:
    """The paper's self-assessment questions, answered from this trial's evidence."""
    j = s.json()
    other_tasks = [c for c in card.trial.conditions if "op" in c.changes]
    by_cond = {}
    for c in card.curves:
        r = rank_correlation(c.values[s.candidate.id], c.test_acc)
        if np.isfinite(r):
            by_cond.setdefault(c.condition, []).append(abs(r))
    edge = ", ".join(
        f"{c.name}: |ρ| {np.mean(by_cond[c.name]):.2f}"
        if c.name in by_cond
        else f"{c.name}: undefined"
        for c in other_tasks
    )
    base = f"base: |ρ| {np.mean(by_cond['base']):.2f}" if "base" in by_cond else "base: undefined"
    interventions = (
        "; ".join(f"{i['text']} → {i['verdict']} ({i['evidence']})" for i in j["intervention"])
        or "it states no prediction"
    )
    return (
        f"<li><b>Is it an edge case?</b> Tracking on other operations — {base}; {edge or 'none'}."
        " Image tasks are not in this trial: not tested.</li>"
        f"<li><b>Does it predict something else?</b> Held-out t_gen: rank ρ "
        f"{interval(j['when']['rank'])}, median error {_ratio(j['when']['log_ratio'])}; "
        f"forecast from before the transition: ρ {interval(j['forecast']['rank'])}.</li>"
        f"<li><b>Is it falsifiable?</b> {html.escape(interventions)}</li>"
    )


def judge_report(card: Scorecard) -> str:
    data = card.json()
    ranked = sorted(
        (s for s in card.scores if not s.candidate.null), key=lambda s: -(s.tracking.value or 0)
    )
    nulls = [s for s in card.scores if s.candidate.id == "primes"]
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>phenolab judge: {card.trial.name}</title>",
        f"<style>{STYLE}</style>",
        f"<h1>Explanations on trial: {html.escape(card.trial.name)}</h1>",
        f"<p>{html.escape(card.trial.description)}. Trial hash <code>{data['trial_hash']}</code>"
        " (conditions, split, seeds, kept steps and rules, fixed before any run). Intervals: "
        f"percentile bootstrap over conditions, {card.trial.rules.level:.0%}, "
        f"{card.trial.rules.bootstrap} resamples. Candidates never see test labels: they are "
        "computed from kept weights on the training split.</p>",
        "<h2>Scorecard</h2>",
        _grid(HEADER, scorecard_rows(card)),
        "<h2>Conditions</h2>",
        _grid(
            ["condition", "split", "changes", "why"],
            [
                [c.name, c.split, ", ".join(f"{k}={v}" for k, v in c.changes.items()) or "—", c.why]
                for c in card.trial.conditions
            ],
        ),
        "<h2>Tracking (the paper's Fig. 4 criterion), one base run</h2>",
        _png_tag(tracking_figure(card, ranked[:3] + nulls), "tracking"),
        "<h2>Telling when: predicted vs measured t_gen on held-out conditions</h2>",
        _png_tag(when_figure(card, "when"), "telling when"),
        "<h2>Forecasting from before the transition</h2>",
        _png_tag(when_figure(card, "forecast"), "forecasting"),
        "<h2>Invariance: test accuracy under each transformation</h2>",
        _grid(
            ["transformation", "test accuracy before → after (base runs)"],
            [
                [
                    how,
                    ", ".join(
                        f"{a:.3f} → {b:.3f}" for a, b in data["accuracy_under_transforms"][how]
                    ),
                ]
                for how in TRANSFORMS
            ],
        ),
        *closing_sections(card, "Predictions under intervention", questions),
    ]
    return "\n".join(parts)


def closing_sections(card, predictions_title: str, answers) -> list[str]:
    """The end of either trial's report: the predictions' verdicts, each candidate's answers to
    the self-assessment questions (`answers(card, score)` → <li> items), the seconds."""
    parts = [
        f"<h2>{html.escape(predictions_title)}</h2>",
        _grid(
            ["prediction", "candidates", "verdict", "evidence"],
            [
                [j.prediction.text, ", ".join(j.prediction.candidates), j.verdict, j.evidence]
                for j in card.judged
            ],
        ),
        "<h2>The self-assessment questions</h2>",
    ]
    for s in card.scores:
        parts.append(
            f"<h3>{html.escape(s.candidate.id)} — {html.escape(s.candidate.explanation)}"
            f"</h3><ul>{answers(card, s)}</ul>"
        )
    seconds = ", ".join(f"{k} {v:.0f}" for k, v in card.seconds.items())
    parts.append(f"<p class='muted'>seconds: {seconds}</p>")
    return parts
