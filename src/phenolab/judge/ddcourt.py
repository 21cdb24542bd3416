"""The double-descent trial from start to verdicts: solve (or find) its runs through the one
door, evaluate every candidate on every stored solve, score the tests and judge the
predictions (doubledescent.py holds the trial, the candidates and the predictions).

A sweep is one (condition, seed): its runs at every width p. The tests, each with a bootstrap
interval over conditions (scorecard.bootstrap; a condition's seeds resampled with it):

- Tracking (Jeffares & van der Schaar's Fig. 4 criterion): per sweep, |Spearman ρ| between the
  measure and the test error across the widths; mean over sweeps.
- Telling where: a one-parameter rule fitted on the development sweeps predicts where the test
  error peaks on the held-out ones — "the peak is at c × where the measure has its own double
  descent", "at the first p where the measure crosses c", or "where it has gone a share c of
  the way from its first to its last value" (family, sign and c chosen on development sweeps by
  the median |log ratio|). The measured peak is the detector's (analysis/doubledescent.py) on
  the sweep's test error when it finds a double descent (a peak and a second descent); a sweep
  without one — and a rule that never fires — counts as `censored_factor` × the largest width.
  Scored by rank correlation, median |log(predicted / measured)| and the share of held-out
  sweeps on which the rule agrees on *whether* there is a double descent at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from phenolab.analysis.doubledescent import Peak, find_peak
from phenolab.config import from_json
from phenolab.errors import UserError
from phenolab.judge.candidates import DOWN, FIT, UP, Candidate
from phenolab.judge.doubledescent import (
    LABEL_FREE,
    PREDICTIONS,
    Solved,
    SweepCandidate,
    SweepPrediction,
    SweepRules,
    SweepTrial,
)
from phenolab.judge.predictions import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    by_condition,
    judged_json,
    share_verdict,
)
from phenolab.judge.scorecard import Score, bootstrap, log_errors, rank_correlation
from phenolab.judge.trial import DEV, HELD_OUT
from phenolab.run import Options, train_configs
from phenolab.store import Store

Say = Callable[[str], None]


@dataclass
class Sweep:
    """One (condition, seed): the test error and every candidate's value at each width."""

    condition: str
    seed: int
    n: int  # training samples: the interpolation threshold is p = n
    widths: np.ndarray  # [P]
    test_error: np.ndarray  # [P]
    values: dict[str, np.ndarray]  # candidate id → [P]
    wd: float = 0.0  # ridge λ
    run_ids: list[str] = field(default_factory=list)


def sweep_key(s: Sweep) -> str:
    return f"{s.condition}/seed{s.seed}"


def peak_of(x: np.ndarray, y: np.ndarray, rules: SweepRules) -> Peak | None:
    """The detector's peak of y(x) (None when y is not finite everywhere)."""
    if not np.isfinite(y).all():
        return None
    return find_peak(list(map(float, x)), list(map(float, y)), 1, rules.min_rise, rules.descent)


def never(sweep: Sweep, rules: SweepRules) -> float:
    return rules.censored_factor * float(sweep.widths[-1])


def measured_peak(sweep: Sweep, rules: SweepRules) -> float:
    """Where the sweep's test error peaks when it has a double descent; else the censored
    bound."""
    peak = peak_of(sweep.widths, sweep.test_error, rules)
    return float(peak.x) if peak is not None and peak.second_descent else never(sweep, rules)


# --- tracking ---------------------------------------------------------------------------------


def tracking(cand: str, sweeps: Sequence[Sweep], rules: SweepRules) -> Score:
    groups: dict[str, list[float]] = {}
    for s in sweeps:
        r = rank_correlation(s.values[cand], s.test_error)
        if np.isfinite(r):
            groups.setdefault(s.condition, []).append(r)

    def stat(rs: list[float]) -> float:
        return float(np.mean(np.abs(rs))) if rs else float("nan")

    value, lo, hi = bootstrap(groups, stat, rules)
    signed = float(np.mean([r for rs in groups.values() for r in rs])) if groups else None
    return Score(value, lo, hi, {"signed": signed, "runs": sum(map(len, groups.values()))})


# --- telling where the peak is ----------------------------------------------------------------

FACTORS = tuple(float(f) for f in np.geomspace(0.5, 2.0, 25))  # the "peak" family's c
THRESHOLDS = 64  # the "absolute" family's c: quantiles of the pooled development values


@dataclass(frozen=True)
class PeakRule:
    family: str  # "peak", "absolute" or "relative"
    sign: int  # +1: the measure's peak / an upward crossing; −1: its dip / a downward one
    c: float

    def predict(self, sweep: Sweep, cand: str, rules: SweepRules) -> float:
        values, widths = sweep.values[cand], sweep.widths
        if self.family == "peak":
            peak = peak_of(widths, self.sign * values, rules)
            if peak is None or not peak.second_descent:
                return never(sweep, rules)
            return self.c * float(peak.x)
        if self.family == "relative":
            span = values[-1] - values[0]
            if not np.isfinite(span) or span == 0:
                return never(sweep, rules)
            series, sign = (values - values[0]) / span, 1
        else:
            series, sign = values, self.sign
        hit = np.nonzero(np.nan_to_num(sign * series, nan=-np.inf) >= sign * self.c)[0]
        return float(widths[hit[0]]) if len(hit) else never(sweep, rules)

    def text(self) -> str:
        if self.family == "peak":
            what = "peak" if self.sign > 0 else "dip"
            return f"the error peaks at {self.c:.2f} × where the measure's own {what} is"
        if self.family == "relative":
            return f"the error peaks where the measure is {self.c:.0%} of the way to its last value"
        verb = "rises above" if self.sign > 0 else "falls below"
        return f"the error peaks at the first p where the measure {verb} {self.c:.4g}"


def _signs(direction: str) -> list[int]:
    return {UP: [1], DOWN: [-1], FIT: [1, -1]}[direction]


def fit_rule(cand: str, direction: str, dev: Sequence[Sweep], rules: SweepRules) -> PeakRule | None:
    """The rule with the smallest median |log ratio| on the development sweeps."""
    if not dev:
        return None
    pooled = np.concatenate([s.values[cand] for s in dev])
    pooled = pooled[np.isfinite(pooled)]
    if len(pooled) == 0:
        return None
    truth = [measured_peak(s, rules) for s in dev]
    options = [PeakRule("peak", s, c) for s in _signs(direction) for c in FACTORS]
    options += [
        PeakRule("absolute", s, float(c))
        for s in _signs(direction)
        for c in np.unique(np.quantile(pooled, np.linspace(0, 1, THRESHOLDS)))
    ]
    options += [PeakRule("relative", 1, float(q)) for q in np.linspace(0.05, 0.95, 19)]
    best, best_err = None, np.inf
    for rule in options:
        err = float(np.median(log_errors([rule.predict(s, cand, rules) for s in dev], truth)))
        if err < best_err - 1e-12:
            best, best_err = rule, err
    return best


def score_predictions(
    pred: dict[int, float], sweeps: Sequence[Sweep], rules: SweepRules
) -> tuple[Score, Score, float | None]:
    """(rank correlation, median |log ratio|, share agreeing on whether there is a double
    descent) of predicted peaks {index in sweeps: p} against the measured ones."""
    groups: dict[str, list[tuple[float, float, bool, bool]]] = {}
    for i, s in enumerate(sweeps):
        if i in pred:
            bound, p, t = never(s, rules), pred[i], measured_peak(s, rules)
            groups.setdefault(s.condition, []).append((p, t, p < bound, t < bound))

    def rank(items):
        return rank_correlation(np.array([i[0] for i in items]), np.array([i[1] for i in items]))

    def err(items):
        return float(np.median(log_errors([i[0] for i in items], [i[1] for i in items])))

    items = [x for g in groups.values() for x in g]
    if not items:
        return Score(None), Score(None), None
    whether = float(np.mean([a == b for *_, a, b in items]))
    return Score(*bootstrap(groups, rank, rules)), Score(*bootstrap(groups, err, rules)), whether


def telling_where(
    cand: str, direction: str, sweeps: Sequence[Sweep], splits: dict[str, str], rules: SweepRules
) -> dict:
    dev = [s for s in sweeps if splits[s.condition] == DEV]
    held = [s for s in sweeps if splits[s.condition] == HELD_OUT]
    rule = fit_rule(cand, direction, dev, rules)
    if rule is None:
        return {"rule": None, "rank": Score(None), "log_ratio": Score(None), "whether": None,
                "predicted": {}}  # fmt: skip
    pred = {i: rule.predict(s, cand, rules) for i, s in enumerate(held)}
    rank, err, whether = score_predictions(pred, held, rules)
    return {
        "rule": rule.text(),
        "rank": rank,
        "log_ratio": err,
        "whether": whether,
        "predicted": {sweep_key(held[i]): p for i, p in pred.items()},
    }


# --- the predictions --------------------------------------------------------------------------


@dataclass
class SweepJudged:
    prediction: SweepPrediction
    verdict: str
    evidence: str


def _verdict(hits: int, total: int, agree: float, what: str) -> tuple[str, str]:
    return share_verdict(hits, total - hits, agree, what)


def _has(sweeps: Sequence[Sweep], cand: str) -> bool:
    return bool(sweeps) and all(cand in s.values for s in sweeps)


def judge_predictions(trial: SweepTrial, sweeps: Sequence[Sweep]) -> list[SweepJudged]:
    r = trial.rules
    by = by_condition(sweeps)
    out = []
    for pred in PREDICTIONS:
        if not all(_has(sweeps, c) for c in pred.candidates[:1]):
            out.append(SweepJudged(pred, INCONCLUSIVE, "candidate not judged in this run"))
            continue
        verdict, evidence = JUDGES[pred.id](trial, sweeps, by, r)
        out.append(SweepJudged(pred, verdict, evidence))
    return out


def _peff_peaks(trial, sweeps, by, r):
    hits = 0
    for s in sweeps:
        err = peak_of(s.widths, s.test_error, r)
        peff = peak_of(s.widths, s.values["peff-test"], r)
        dd_err = err is not None and err.second_descent
        dd_peff = peff is not None and peff.second_descent
        if dd_err and dd_peff:
            hits += abs(math.log(peff.x / err.x)) <= math.log(r.band)
        else:
            hits += dd_err == dd_peff
    return _verdict(hits, len(sweeps), r.agree, "sweeps agree")


def _peff_ridge(trial, sweeps, by, r):
    runs = by.get("ridge=10", [])
    hits = 0
    for s in runs:
        err = peak_of(s.widths, s.test_error, r)
        no_dd = err is None or not err.second_descent
        hits += no_dd and float(np.max(s.values["peff-test"])) <= s.n
    top = ", ".join(f"{np.max(s.values['peff-test']):.3g}" for s in runs)
    verdict, text = _verdict(hits, len(runs), r.agree, "λ = 10 sweeps without a double descent")
    return verdict, f"{text} and p⁰_test ≤ n (its maximum per seed: {top or '—'})"


def _peff_train(trial, sweeps, by, r):
    runs = [s for s in sweeps if s.wd == 0]
    hits = dd = 0
    for s in runs:
        beyond = s.widths >= r.band * s.n
        hits += bool(np.all(s.values["peff-train"][beyond] >= 0.99 * s.n))
        err = peak_of(s.widths, s.test_error, r)
        dd += err is not None and err.second_descent
    verdict, text = _verdict(hits, len(runs), r.agree, "min-norm sweeps stay at n past 1.25 n")
    return verdict, f"{text} ({dd} of them with a second descent in the test error)"


def _height(s: Sweep, r: SweepRules) -> float:
    peak = peak_of(s.widths, s.test_error, r)
    return peak.height if peak is not None and peak.found else 0.0


def _norm_noise(trial, sweeps, by, r):
    names = ("base", "noise=0.5", "noise=1")
    if not all(n in by for n in names):
        return INCONCLUSIVE, "conditions missing"
    heights = [float(np.median([_height(s, r) for s in by[n]])) for n in names]
    norms = [float(np.median([np.max(s.values["norm"]) for s in by[n]])) for n in names]
    rising = all(b > a for a, b in zip(heights, heights[1:], strict=False)) and all(
        b > a for a, b in zip(norms, norms[1:], strict=False)
    )
    text = "σ = 0, 0.5, 1: peak height " + ", ".join(f"{h:.3g}" for h in heights)
    text += "; max norm " + ", ".join(f"{v:.3g}" for v in norms)
    return (PASS if rising else FAIL), text


def _median_peak(runs: Sequence[Sweep], r: SweepRules) -> float:
    return float(np.median([measured_peak(s, r) for s in runs]))


def _train_loss_threshold(trial, sweeps, by, r):
    names = [n for n in ("n=50", "n=75", "base", "n=200") if n in by]
    if len(names) < 2:
        return INCONCLUSIVE, "conditions missing"
    parts, ok = [], True
    for name in names:
        n, peak = by[name][0].n, _median_peak(by[name], r)
        inside = n / r.band <= peak <= r.band * n
        ok &= inside
        parts.append(f"n = {n}: {peak:g}" if peak < never(by[name][0], r) else f"n = {n}: none")
    return (PASS if ok else FAIL), "median peak p — " + ", ".join(parts)


def _primes(trial, sweeps, by, r):
    hits = total = 0
    for s in sweeps:
        others = [abs(rank_correlation(s.widths.astype(float), s.test_error))]
        if "norm" in s.values:
            others.append(abs(rank_correlation(s.values["norm"], s.test_error)))
        others = [o for o in others if np.isfinite(o)]
        for cand in ("primes", "primes@10", "primes@1000", "primes-all"):
            if cand not in s.values:
                continue
            rho = abs(rank_correlation(s.values[cand], s.test_error))
            if np.isfinite(rho) and rho >= r.tracks_at:
                total += 1
                hits += any(o >= rho - 0.1 for o in others)
    return _verdict(hits, total, r.agree, "(sweep, count) pairs that track: p or the norm does too")


def _p_fixed(trial, sweeps, by, r):
    if "n=50" not in by or "n=200" not in by:
        return INCONCLUSIVE, "conditions missing"
    a, b = _median_peak(by["n=50"], r), _median_peak(by["n=200"], r)
    ratio = max(a, b) / min(a, b)
    return (PASS if ratio <= 1.5 else FAIL), f"median peak p at n = 50: {a:g}, n = 200: {b:g}"


def _projection(trial, sweeps, by, r):
    agree = total = 0
    for runs in by.values():
        signs = {np.sign(rank_correlation(s.values["projection"], s.test_error)) for s in runs}
        signs.discard(0.0)
        if len(runs) >= 2 and not any(np.isnan(x) for x in signs):
            total += 1
            agree += len(signs) == 1
    if total < 2:
        return INCONCLUSIVE, f"{total} conditions"
    share = agree / total
    verdict = PASS if share <= r.agree else FAIL
    return verdict, f"signs agree across seeds in {agree} of {total} conditions"


JUDGES = {
    "peff-peaks-with-error": _peff_peaks,
    "peff-ridge-below-n": _peff_ridge,
    "peff-train-flat": _peff_train,
    "norm-noise": _norm_noise,
    "train-loss-threshold": _train_loss_threshold,
    "primes-count-weights": _primes,
    "p-fixed-peak": _p_fixed,
    "projection-arbitrary": _projection,
}


# --- evaluation from the store ----------------------------------------------------------------


def user_candidate(cand: Candidate) -> SweepCandidate:
    """A user's `--measure` (a Context function, as for grokking) on a stored solve: the model
    rebuilt with the solution's weights, on the label-blind data (candidates.blind)."""

    def value(run: Solved) -> float:
        from phenolab.config import task_data
        from phenolab.judge.candidates import blind
        from phenolab.measures import Context
        from phenolab.models import build_model
        from phenolab.train.losses import make_loss

        cfg = run.cfg
        data = task_data([cfg])
        model = build_model(
            cfg.model, data.vocab, data.n_classes, data.x_train.shape[2], [cfg.train.seed]
        )
        model.load_state_dict(run.weights)
        ctx = Context(model, blind(data), make_loss(cfg.train.loss, cfg.train.loss_dtype), None)
        import torch

        with torch.no_grad():
            return float(cand.values(ctx)[0])

    return SweepCandidate(cand.id, value, "weights", cand.direction, cand.explanation, False)


def solved_run(store: Store, run_id: str) -> tuple[Solved, float]:
    """(what a candidate sees of the run, its test error)."""
    record = store.get_run(run_id)
    if record is None or record.status != "finished":
        raise UserError(f"judge: run {run_id} is not finished")
    metrics = store.metrics(run_id)
    last = {k: v[1][-1] for k, v in metrics.items() if v[1]}

    def weights() -> dict:
        checkpoint = store.load_checkpoint(run_id)
        if checkpoint is None:
            raise UserError(f"judge: run {run_id} kept no weights (its checkpoint is missing)")
        return checkpoint[2]["model"]

    seen = {k: last[k] for k in LABEL_FREE if k in last}
    return Solved(from_json(record.config), seen, weights), float(last["test/loss"])


def sweeps_of(
    trial: SweepTrial, store: Store, run_ids: dict, candidates: Sequence[SweepCandidate]
) -> list[Sweep]:
    """run_ids: {(condition, seed, p): run id} → one Sweep per (condition, seed)."""
    out = []
    for cond in trial.conditions:
        for seed in range(trial.seeds):
            errors, values, ids, wd = [], {c.id: [] for c in candidates}, [], 0.0
            for p in trial.widths:
                run_id = run_ids[(cond.name, seed, p)]
                run, err = solved_run(store, run_id)
                wd = run.cfg.train.wd
                errors.append(err)
                ids.append(run_id)
                for c in candidates:
                    values[c.id].append(c.fn(run))
            out.append(
                Sweep(
                    condition=cond.name,
                    seed=seed,
                    n=trial.n_of(cond),
                    widths=np.asarray(trial.widths, dtype=float),
                    test_error=np.asarray(errors),
                    values={k: np.asarray(v, dtype=float) for k, v in values.items()},
                    wd=wd,
                    run_ids=ids,
                )
            )
    return out


# --- the scorecard ----------------------------------------------------------------------------


@dataclass
class SweepScore:
    candidate: SweepCandidate
    tracking: Score
    when: dict
    intervention: list[SweepJudged] = field(default_factory=list)
    summary: str = ""

    def json(self) -> dict:
        c, w = self.candidate, self.when
        return {
            "id": c.id,
            "explanation": c.explanation,
            "null": c.null,
            "direction": c.direction,
            "reads": c.key,
            "tracking": self.tracking.json(),
            "when": {
                "what": "where the test error peaks (p), on held-out conditions",
                "rule": w["rule"],
                "rank": w["rank"].json(),
                "log_ratio": w["log_ratio"].json(),
                "whether": w["whether"],
            },
            "intervention": [judged_json(j) for j in self.intervention],
            "summary": self.summary,
        }


@dataclass
class SweepScorecard:
    trial: SweepTrial
    scores: list[SweepScore]
    sweeps: list[Sweep]
    judged: list[SweepJudged]
    seconds: dict[str, float]

    def json(self) -> dict:
        r = self.trial.rules
        return {
            "trial": self.trial.name,
            "trial_hash": self.trial.hash(),
            "description": self.trial.description,
            "conditions": {
                c.name: {"split": c.split, "changes": c.changes} for c in self.trial.conditions
            },
            "measured_peaks": {
                sweep_key(s): _peak_json(measured_peak(s, r), s, r) for s in self.sweeps
            },
            "candidates": [s.json() for s in self.scores],
            "seconds": self.seconds,
        }


def _peak_json(p: float, s: Sweep, r: SweepRules) -> float | None:
    return None if p >= never(s, r) else p


def judge_double_descent(
    trial: SweepTrial,
    candidates: Sequence[SweepCandidate],
    store: Store,
    device,
    *,
    workers: int | None = None,
    options: Options | None = None,
    on_progress=None,
    say: Say = lambda _: None,
) -> SweepScorecard:
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    keys, configs = [], []
    for cond in trial.conditions:
        for seed, p, cfg in trial.configs(cond):
            keys.append((cond.name, seed, p))
            configs.append(cfg)
    say(
        f"trial {trial.name} (hash {trial.hash()}): {len(configs)} closed-form solves, "
        f"{len(trial.conditions)} conditions × {trial.seeds} seeds × {len(trial.widths)} widths"
    )
    results = train_configs(
        configs, store, device, workers=workers, options=options or Options(),
        on_progress=on_progress,
    )  # fmt: skip
    seconds["solve"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    say(f"evaluating {len(candidates)} candidates on {len(configs)} stored solves")
    run_ids = {k: r.record.id for k, r in zip(keys, results, strict=True)}
    sweeps = sweeps_of(trial, store, run_ids, candidates)
    seconds["evaluate"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    judged = judge_predictions(trial, sweeps)
    splits = {c.name: c.split for c in trial.conditions}
    scores = [
        SweepScore(
            cand,
            tracking(cand.id, sweeps, trial.rules),
            telling_where(cand.id, cand.direction, sweeps, splits, trial.rules),
            [j for j in judged if cand.id in j.prediction.candidates],
        )
        for cand in candidates
    ]
    for s in scores:
        s.summary = summarize(s, trial.rules)
    seconds["score"] = time.perf_counter() - t2
    seconds["total"] = time.perf_counter() - t0
    return SweepScorecard(trial, scores, sweeps, judged, seconds)


def summarize(s: SweepScore, r: SweepRules) -> str:
    rank, err = s.when["rank"].value, s.when["log_ratio"].value
    tracks = s.tracking.value is not None and s.tracking.value >= r.tracks_at
    if rank is not None and err is not None and rank >= r.rank_at and err <= r.log_ratio_at:
        words = "predicts held-out peaks"
    elif tracks:
        words = "tracks only"
    else:
        words = "does not track"
    verdicts = [j.verdict for j in s.intervention]
    if verdicts:
        words += f"; its prediction: {', '.join(verdicts)}"
    return words
