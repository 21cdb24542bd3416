"""Each built-in candidate's own falsifiable prediction under an intervention, written before
the first trial run and judged PASS / FAIL / INCONCLUSIVE like a catalog expectation.

Two predictions need runs of their own, trained after the development `base` runs they are
derived from (the *rule* is fixed here; the number it produces is read from those runs):
- `norm-held`: the base config with the weight norm held, from the first step, at the norm the
  base runs had when they generalized (median over seeds; Omnigrok's "Goldilocks" norm);
- `transfer`: a fresh base run (new seeds: 100 +) starting from a generalized base run's token
  embedding (`embed_from`).
The others read the trial's conditions or act on the kept final weights of the base runs.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np
import torch

from phenolab.analysis.events import COMPREHENSION_K
from phenolab.config import RunConfig, from_json
from phenolab.judge.evaluate import Rebuilt, RunCurves
from phenolab.judge.trial import Trial
from phenolab.measures.fourier import KEY_SHARE, frequency_power
from phenolab.store import Store

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
TRANSFER_SEED = 100  # the transfer arm's seeds: 100, 101, …


@dataclass(frozen=True)
class Prediction:
    id: str
    candidates: tuple[str, ...]  # the candidates whose explanation makes it
    text: str  # the prediction, in words


@dataclass
class Judged:
    prediction: Prediction
    verdict: str
    evidence: str


PREDICTIONS = (
    Prediction(
        "norm-held",
        ("weight-norm",),
        "Holding the weight norm, from the start, at the norm the base runs had when they "
        "generalized removes the delay: comprehension (t_gen ≤ 2·t_fit) in ≥ 2/3 of seeds.",
    ),
    Prediction(
        "fourier-ablation",
        ("fourier-sparsity", "restricted-loss", "excluded-loss"),
        "After grokking (base runs that generalized), keeping only the embedding's key "
        "frequencies (those holding 90 % of its Fourier power) keeps test accuracy ≥ 0.9, and "
        "removing them takes it to ≤ 0.1, in ≥ 2/3 of seeds.",
    ),
    Prediction(
        "transfer",
        ("rqi", "embed-rank"),
        "A fresh network that starts from a generalized run's embedding generalizes without "
        "delay: comprehension (t_gen ≤ 2·t_fit) in ≥ 2/3 of seeds.",
    ),
    Prediction(
        "lazier-later",
        ("movement",),
        "A larger initialisation (lazier) generalizes later: the median t_gen of alpha=1.5 and "
        "of alpha=2 each exceeds the base's (a censored run counts as later than any).",
    ),
    Prediction(
        "fit-then-generalize",
        ("train-loss", "train-loss-slope"),
        "Conditions that fit sooner generalize sooner: across conditions, the rank correlation "
        "of median t_fit and median t_gen is ≥ 0.5.",
    ),
    Prediction(
        "primes-rescale",
        ("primes", "primes@10", "primes@1000", "primes-embedding", "primes-output"),
        "If test accuracy followed the prime count, rescaling the ReLU layer by c and the next "
        "by 1/c (function unchanged) would change test accuracy wherever it changes the count "
        "by > 5 %: PASS if accuracy moves by > 0.01 in ≥ 2/3 of such runs, FAIL if not.",
    ),
    Prediction(
        "steps-constant",
        ("steps",),
        "Generalization comes after a fixed number of steps: the medians of t_gen over the "
        "conditions are within a factor 2 of each other (censored conditions count as beyond).",
    ),
)


def share_verdict(hits: int, misses: int, agree: float, what: str) -> tuple[str, str]:
    """PASS when at least `agree` of the cases agree, FAIL below; INCONCLUSIVE under 2 cases."""
    n = hits + misses
    if n < 2:
        return INCONCLUSIVE, f"{hits} of {n} {what}: too few to judge"
    return (PASS if hits / n >= agree else FAIL), f"{hits} of {n} {what}"


def comprehension(curves: list[RunCurves]) -> tuple[int, int]:
    hits = sum(
        c.events.t_gen is not None
        and c.events.t_fit is not None
        and c.events.t_gen <= COMPREHENSION_K * c.events.t_fit
        for c in curves
    )
    return hits, len(curves) - hits


def held_norm(store: Store, base: list[RunCurves]) -> float | None:
    """The rule of `norm-held`: the median over generalized base runs of the weight norm at
    t_gen (as recorded during training)."""
    norms = []
    for c in base:
        if c.events.t_gen is None:
            continue
        steps, values = store.metrics(c.run_id)["norm/total"]
        norms.append(values[steps.index(c.events.t_gen)])
    return float(f"{statistics.median(norms):.3g}") if norms else None


def follow_up_configs(
    trial: Trial, store: Store, base: list[RunCurves]
) -> dict[str, list[RunConfig]]:
    """The runs of the `norm-held` and `transfer` predictions, derived from the base runs."""
    out: dict[str, list[RunConfig]] = {}
    base_cfgs = trial.configs(next(c for c in trial.conditions if c.name == "base"))
    norm = held_norm(store, base)
    if norm is not None:
        spec = f"norm-constraint:norm={norm}"
        out["norm-held"] = [
            c.replace(interventions=(*c.train.interventions, spec)) for c in base_cfgs
        ]
    grokked = [c for c in base if c.events.t_gen is not None]
    if grokked:
        out["transfer"] = [
            c.replace(seed=TRANSFER_SEED + i, embed_from=grokked[i % len(grokked)].run_id)
            for i, c in enumerate(base_cfgs)
        ]
    return out


def fourier_ablation(store: Store, base: list[RunCurves]) -> tuple[int, int]:
    """Per generalized base run: (keep-only accuracy ≥ 0.9 and removed accuracy ≤ 0.1)."""
    hits = misses = 0
    for c in base:
        if c.events.t_gen is None:
            continue
        cfg = from_json(store.get_run(c.run_id).config)
        last = int(c.steps[-1])
        rebuilt = Rebuilt(store, cfg, c.run_id, [last], blind_data=False)
        kept = _ablate(rebuilt, keep=True)
        removed = _ablate(rebuilt, keep=False)
        if kept >= 0.9 and removed <= 0.1:
            hits += 1
        else:
            misses += 1
    return hits, misses


def _ablate(rebuilt: Rebuilt, keep: bool) -> float:
    """Test accuracy with the number embedding projected on (keep) or off its key
    frequencies."""
    model, data = rebuilt.model, rebuilt.ctx.data
    p = data.n_classes
    w = model.W_E.detach().clone()
    numbers = w[:, :p].double()  # [1, p, d]
    power = frequency_power(numbers)[0]  # [⌊p/2⌋]
    q, order = (power / power.sum()).sort(descending=True)
    n_key = int((q.cumsum(0) < KEY_SHARE).sum()) + 1
    keys = (order[:n_key] + 1).tolist()
    a = torch.arange(p, dtype=torch.float64)
    basis = [torch.ones(p, dtype=torch.float64)]
    for k in keys:
        basis += [torch.cos(2 * torch.pi * k * a / p), torch.sin(2 * torch.pi * k * a / p)]
    q_basis, _ = torch.linalg.qr(torch.stack(basis, 1))  # [p, 1 + 2·n_key]
    projected = q_basis @ (q_basis.T @ numbers[0])
    new = projected if keep else numbers[0] - projected
    with torch.no_grad():
        model.W_E[0, :p] = new.float()
        logits = model(data.x_test)
        acc = (logits.argmax(-1) == data.y_test).float().mean().item()
        model.W_E.copy_(w)
    return acc


def judge_all(
    trial: Trial,
    store: Store,
    curves: list[RunCurves],
    follow_ups: dict[str, list[RunCurves]],
    rescaled: list[tuple[float, float, dict[str, float]]],
) -> list[Judged]:
    """Every prediction's verdict. `rescaled`: per base run, (test accuracy before, after the
    ReLU rescaling, {candidate: relative change}) from the invariance test."""
    agree = trial.rules.agree
    by = by_condition(curves)
    base = by.get("base", [])
    out = []
    for pred in PREDICTIONS:
        if pred.id in ("norm-held", "transfer"):
            runs = follow_ups.get(pred.id, [])
            verdict, evidence = share_verdict(*comprehension(runs), agree, "seeds comprehend")
            if runs:
                evidence += f" (t_gen/t_fit {_ratios(runs)})"
        elif pred.id == "fourier-ablation":
            verdict, evidence = share_verdict(
                *fourier_ablation(store, base), agree, "generalized base runs agree"
            )
        elif pred.id == "lazier-later":
            verdict, evidence = _lazier_later(trial, by)
        elif pred.id == "fit-then-generalize":
            verdict, evidence = _fit_then_generalize(trial, by)
        elif pred.id == "primes-rescale":  # every listed count, on every base run
            moved = [
                abs(after - before) > 0.01
                for before, after, change in rescaled
                for count in pred.candidates
                if change.get(count, 0.0) > 0.05
            ]
            verdict, evidence = share_verdict(
                sum(moved),
                len(moved) - sum(moved),
                agree,
                "(run, count) pairs whose count moved > 5 % also moved in accuracy",
            )
        else:
            verdict, evidence = _steps_constant(trial, by)
        out.append(Judged(pred, verdict, evidence))
    return out


def by_condition(items):
    """Runs (or sweeps) grouped by their `.condition`, in order."""
    by: dict = {}
    for c in items:
        by.setdefault(c.condition, []).append(c)
    return by


def judged_json(j) -> dict:
    """A judged prediction (either trial's) as JSON."""
    return {
        "prediction": j.prediction.id,
        "text": j.prediction.text,
        "verdict": j.verdict,
        "evidence": j.evidence,
    }


def censored_t_gen(c: RunCurves, factor: float) -> float:
    return float(c.events.t_gen) if c.events.t_gen is not None else factor * c.run_length


def _median_t(runs: list[RunCurves], factor: float) -> float:
    return float(np.median([censored_t_gen(c, factor) for c in runs]))


def _ratios(runs: list[RunCurves]) -> str:
    parts = []
    for c in runs:
        e = c.events
        parts.append(f"{e.t_gen / e.t_fit:.1f}" if e.t_gen and e.t_fit else "never")
    return ", ".join(parts)


def _lazier_later(trial: Trial, by) -> tuple[str, str]:
    f = trial.rules.censored_factor
    if "base" not in by or not all(k in by for k in ("alpha=1.5", "alpha=2")):
        return INCONCLUSIVE, "conditions missing"
    base = _median_t(by["base"], f)
    later = {k: _median_t(by[k], f) for k in ("alpha=1.5", "alpha=2")}
    text = f"median t_gen base {base:,.0f}, " + ", ".join(f"{k} {v:,.0f}" for k, v in later.items())
    return (PASS if all(v > base for v in later.values()) else FAIL), text


def _fit_then_generalize(trial: Trial, by) -> tuple[str, str]:
    from scipy.stats import spearmanr

    f = trial.rules.censored_factor
    fits, gens = [], []
    for runs in by.values():
        t_fit = [c.events.t_fit for c in runs if c.events.t_fit is not None]
        if t_fit:
            fits.append(float(np.median(t_fit)))
            gens.append(_median_t(runs, f))
    if len(fits) < 4:
        return INCONCLUSIVE, f"{len(fits)} conditions fit"
    if len(set(fits)) < 2 or len(set(gens)) < 2:
        return INCONCLUSIVE, "t_fit or t_gen the same in every condition"
    rho = float(spearmanr(fits, gens).statistic)
    return (
        PASS if rho >= 0.5 else FAIL
    ), f"rank correlation {rho:+.2f} over {len(fits)} conditions"


def _steps_constant(trial: Trial, by) -> tuple[str, str]:
    f = trial.rules.censored_factor
    medians = [_median_t(runs, f) for runs in by.values()]
    never = [m for m, runs in zip(medians, by.values(), strict=True) if m >= f * runs[0].run_length]
    if len(medians) - len(never) < 2:
        return INCONCLUSIVE, f"{len(medians) - len(never)} conditions generalized"
    spread = max(medians) / min(medians)
    return (PASS if spread <= 2 else FAIL), f"condition medians span a factor {spread:.1f}"
