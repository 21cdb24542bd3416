"""A trial from start to verdicts: train (or find) its runs through the one door, evaluate every
candidate from the kept weights, score the tests, train the follow-up arms and judge the
predictions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from phenolab.config import from_json
from phenolab.judge import predictions as preds
from phenolab.judge.candidates import Candidate
from phenolab.judge.evaluate import Rebuilt, RunCurves, run_curves
from phenolab.judge.invariance import TRANSFORMS, invariance, supported
from phenolab.judge.scorecard import Score, forecasting, telling_when, tracking
from phenolab.judge.trial import Trial
from phenolab.run import Options, train_configs
from phenolab.store import Store

Say = Callable[[str], None]


@dataclass
class CandidateScore:
    candidate: Candidate
    tracking: Score
    when: dict
    forecast: dict
    invariance: dict[str, float | None]  # transform → median relative change
    intervention: list[preds.Judged] = field(default_factory=list)
    summary: str = ""

    def json(self) -> dict:
        def section(d: dict) -> dict:
            return {
                "rule": d["rule"],
                "rank": d["rank"].json(),
                "log_ratio": d["log_ratio"].json(),
                "whether": d["whether"],
                **(
                    {"before_transition": d["before_transition"]}
                    if "before_transition" in d
                    else {}
                ),
            }

        c = self.candidate
        return {
            "id": c.id,
            "explanation": c.explanation,
            "null": c.null,
            "direction": c.direction,
            "tracking": self.tracking.json(),
            "when": section(self.when),
            "forecast": section(self.forecast),
            "invariance": self.invariance,
            "intervention": [preds.judged_json(j) for j in self.intervention],
            "summary": self.summary,
        }


@dataclass
class Scorecard:
    trial: Trial
    scores: list[CandidateScore]
    curves: list[RunCurves]
    invariance_runs: list[dict]  # per base run: {transform: {acc_before, acc_after, change}}
    judged: list[preds.Judged]
    seconds: dict[str, float]

    def json(self) -> dict:
        return {
            "trial": self.trial.name,
            "trial_hash": self.trial.hash(),
            "description": self.trial.description,
            "conditions": {
                c.name: {"split": c.split, "changes": c.changes} for c in self.trial.conditions
            },
            "accuracy_under_transforms": {
                how: [[r[how]["acc_before"], r[how]["acc_after"]] for r in self.invariance_runs]
                for how in TRANSFORMS
            },
            "candidates": [s.json() for s in self.scores],
            "seconds": self.seconds,
        }


def trial_configs(trial: Trial):
    return [(cond.name, cfg) for cond in trial.conditions for cfg in trial.configs(cond)]


def judge(
    trial: Trial,
    candidates: Sequence[Candidate],
    store: Store,
    device: torch.device,
    *,
    workers: int | None = None,
    options=None,
    on_progress=None,
    say: Say = lambda _: None,
) -> Scorecard:
    import time

    options = options or Options()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    pairs = trial_configs(trial)
    say(
        f"trial {trial.name} (hash {trial.hash()}): {len(pairs)} runs, "
        f"{len(trial.conditions)} conditions × {trial.seeds} seeds"
    )
    results = train_configs(
        [c for _, c in pairs],
        store,
        device,
        workers=workers,
        options=options,
        on_progress=on_progress,
    )
    seconds["train"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    say(f"evaluating {len(candidates)} candidates on the kept weights of {len(pairs)} runs")
    curves = [
        run_curves(store, r.record.id, name, list(candidates))
        for (name, _), r in zip(pairs, results, strict=True)
    ]
    base = [c for c in curves if c.condition == "base"]
    inv_runs = []
    for c in base:
        cfg = from_json(store.get_run(c.run_id).config)
        if supported(cfg):
            final = Rebuilt(store, cfg, c.run_id, [int(c.steps[-1])])  # one member
            inv_runs.append(invariance(final, cfg, list(candidates), trial.rules.rescale))
    seconds["evaluate"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    follow = preds.follow_up_configs(trial, store, base)
    follow_results = {}
    if follow:
        say(f"follow-up arms of the predictions: {', '.join(follow)}")
        flat = [cfg for cfgs in follow.values() for cfg in cfgs]
        done = train_configs(
            flat, store, device, workers=workers, options=options, on_progress=on_progress
        )
        i = 0
        for name, cfgs in follow.items():
            follow_results[name] = done[i : i + len(cfgs)]
            i += len(cfgs)
    rescaled = [
        (r["rescale"]["acc_before"], r["rescale"]["acc_after"], r["rescale"]["change"])
        for r in inv_runs
    ]
    judged = preds.judge_all(trial, store, curves, follow_results, rescaled)
    seconds["predictions"] = time.perf_counter() - t2

    conditions = {c.name: c.split for c in trial.conditions}
    scores = []
    for cand in candidates:
        inv = {}
        for how in TRANSFORMS:
            changes = [r[how]["change"][cand.id] for r in inv_runs if cand.id in r[how]["change"]]
            inv[how] = float(np.median(changes)) if changes else None
        scores.append(
            CandidateScore(
                cand,
                tracking(cand.id, curves, trial.rules),
                telling_when(cand.id, cand.direction, curves, conditions, trial.rules),
                forecasting(cand.id, curves, conditions, trial.rules),
                inv,
                [j for j in judged if cand.id in j.prediction.candidates],
            )
        )
    for s in scores:
        s.summary = summarize(s, trial)
    seconds["total"] = time.perf_counter() - t0
    return Scorecard(trial, scores, curves, inv_runs, judged, seconds)


def summarize(s: CandidateScore, trial: Trial) -> str:
    """The verdict line in words: the furthest the candidate got."""
    r = trial.rules

    def predicts(d: dict) -> bool:
        rank, err = d["rank"].value, d["log_ratio"].value
        return rank is not None and err is not None and rank >= r.rank_at and err <= r.log_ratio_at

    tracks = s.tracking.value is not None and s.tracking.value >= r.tracks_at
    if predicts(s.forecast):
        words = "forecasts"
    elif predicts(s.when):
        words = "predicts held-out conditions"
    elif tracks:
        words = "tracks only"
    else:
        words = "does not track"
    verdicts = [j.verdict for j in s.intervention]
    if verdicts:
        words += f"; its intervention prediction: {', '.join(verdicts)}"
    return words
