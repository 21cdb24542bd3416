"""`phenolab judge --phenomenon double-descent`: the tests of the double-descent scorecard on
constructed sweeps with known answers, the trial hash, the prime count, a user's measure, the
predictions on constructed data, and a small trial of real closed-form solves end to end."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from phenolab.cli import main
from phenolab.judge import doubledescent as D
from phenolab.judge.candidates import DOWN, FIT, UP
from phenolab.judge.ddcourt import (
    PASS,
    Sweep,
    judge_predictions,
    measured_peak,
    telling_where,
    tracking,
)
from phenolab.judge.trial import DEV, HELD_OUT, Condition

RULES = D.SweepRules(bootstrap=200)
WIDTHS = np.asarray(D.WIDTHS, dtype=float)


def bump(n: float) -> np.ndarray:
    return np.exp(-(((np.log(WIDTHS) - np.log(n)) / 0.15) ** 2))


def synthetic(seeds: int = 3, seed: int = 0):
    """Sweeps whose test error has a double descent peaking at p = n (n from 40 to 250), and
    some (every 4th condition: "ridge") whose error only falls. Measures: `exact` peaks exactly
    where the error does (and rises monotonically where it has no peak), `error` is the log test
    error itself, `noise` is random, `fixed` is p."""
    rng = np.random.default_rng(seed)
    sweeps, splits = [], {}
    for i in range(16):
        name = f"c{i}"
        splits[name] = DEV if i % 2 == 0 else HELD_OUT
        n = float(np.exp(rng.uniform(np.log(40), np.log(250))))
        ridge = i % 4 == 3
        for s in range(seeds):
            jitter = np.exp(rng.normal(0, 0.01, len(WIDTHS)))
            falling = 1 / (1 + WIDTHS / 20) + 0.2
            err = (falling if ridge else falling + 3 * bump(n)) * jitter
            exact = 1 - np.exp(-WIDTHS / n) if ridge else bump(n)
            sweeps.append(
                Sweep(
                    condition=name,
                    seed=s,
                    n=round(n),
                    widths=WIDTHS,
                    test_error=err,
                    values={
                        "exact": exact,
                        "error": np.log(err),
                        "noise": rng.normal(size=len(WIDTHS)),
                        "fixed": WIDTHS.copy(),
                    },
                    wd=1.0 if ridge else 0.0,
                    run_ids=[f"{name}-{s}-{p}" for p in D.WIDTHS],
                )
            )
    return sweeps, splits


def test_the_measured_peak_is_at_n_or_censored_without_a_double_descent():
    sweeps, _ = synthetic(seeds=1)
    for s in sweeps:
        p = measured_peak(s, RULES)
        if s.wd:
            assert p == RULES.censored_factor * D.WIDTHS[-1]
        else:  # the grid point nearest n: within half a grid step (ratio ≈ 1.15)
            assert abs(math.log(p / s.n)) < math.log(1.1)


def test_tracking_is_one_for_the_error_itself_and_small_for_noise():
    sweeps, _ = synthetic()
    assert tracking("error", sweeps, RULES).value == pytest.approx(1.0)
    noise = tracking("noise", sweeps, RULES)
    # |Spearman ρ| of 44 independent points: mean ≈ 0.12; ≥ 0.3 would be a 1 % event per sweep
    assert noise.value < 0.3
    assert noise.ci_low <= noise.value <= noise.ci_high


def test_a_measure_that_peaks_with_the_error_tells_where_perfectly_and_noise_does_not():
    sweeps, splits = synthetic()
    exact = telling_where("exact", UP, sweeps, splits, RULES)
    assert exact["rule"].startswith("the error peaks at 1.00 ×")
    assert exact["rank"].value == pytest.approx(1.0)
    assert exact["log_ratio"].value == pytest.approx(0.0, abs=1e-12)
    assert exact["whether"] == 1.0
    noise = telling_where("noise", FIT, sweeps, splits, RULES)
    assert noise["log_ratio"].value > math.log(1.5)
    assert noise["rank"].value is None or noise["rank"].value < 0.5


def test_the_raw_count_cannot_tell_where_when_n_moves():
    """p crosses a fixed c at a fixed p: with n spread over a factor 6 it misses."""
    sweeps, splits = synthetic()
    fixed = telling_where("fixed", UP, sweeps, splits, RULES)
    assert fixed["log_ratio"].value > math.log(1.25)
    assert fixed["whether"] < 1.0  # it fires on the sweeps without a peak too


def test_the_hash_changes_with_a_condition_a_rule_a_width_or_a_prediction():
    h = D.QUICK.hash()
    assert D.QUICK.hash() == h and D.FULL.hash() != h
    changed = dataclasses.replace(
        D.QUICK, conditions=(*D.QUICK.conditions[:-1], Condition("x", {"wd": 5.0}, HELD_OUT))
    )
    assert changed.hash() != h
    assert dataclasses.replace(D.QUICK, rules=D.SweepRules(band=1.3)).hash() != h
    assert dataclasses.replace(D.QUICK, widths=D.WIDTHS[:-1]).hash() != h


def test_the_quick_trial_is_split_seeded_and_shares_one_grid():
    q = D.QUICK
    assert q.seeds >= 3 and D.FULL.seeds >= 5
    assert q.split(DEV) and q.split(HELD_OUT)
    names = [c.name for c in D.FULL.conditions]
    assert len(names) == len(set(names))
    runs = q.configs(q.conditions[0])
    assert len(runs) == q.seeds * len(q.widths)
    assert {cfg.model.width for _, _, cfg in runs} == set(D.WIDTHS)


def test_prime_counts_agree_with_trial_division():
    def prime(k: int) -> bool:
        return k >= 2 and all(k % d for d in range(2, math.isqrt(k) + 1))

    rng = np.random.default_rng(0)
    values = np.concatenate([np.arange(200), rng.integers(0, 10**5, 300)]).astype(float)
    assert D.count_primes(values) == sum(prime(int(v)) for v in values)
    # above the sieve: Miller–Rabin (2⁶¹ − 1 prime; 561, a Carmichael number, and 10⁹ + 9 · 7
    # composite)
    assert D.is_prime(2**61 - 1) and D.is_prime(10**9 + 7)
    assert not D.is_prime(561) and not D.is_prime((10**9 + 7) * 7)
    assert D.count_primes(np.array([10**9 + 7, 10**9 + 9, 10**9 + 11], dtype=float)) == 2


def test_the_predictions_pass_and_fail_on_constructed_sweeps():
    """train-loss-threshold passes when each condition's peak is at its n, and p-fixed-peak
    (the raw count's prediction) fails when n moves the peak."""
    sweeps = []
    for name, n, wd in (("n=50", 50, 0.0), ("base", 100, 0.0), ("n=200", 200, 0.0)):
        for s in range(3):
            err = 1 / (1 + WIDTHS / 20) + 0.2 + 3 * bump(n)
            values = {c.id: np.ones(len(WIDTHS)) for c in D.BUILT_IN}
            sweeps.append(Sweep(name, s, n, WIDTHS, err, values, wd, ["r"]))
    verdicts = {j.prediction.id: j.verdict for j in judge_predictions(D.QUICK, sweeps)}
    assert verdicts["train-loss-threshold"] == PASS
    assert verdicts["p-fixed-peak"] == "FAIL"
    assert verdicts["norm-noise"] == "INCONCLUSIVE"  # its conditions are missing


TINY = dataclasses.replace(
    D.QUICK,
    name="double-descent-tiny",
    rules=D.SweepRules(bootstrap=200),
    seeds=2,
    widths=(10, 30, 60, 80, 95, 105, 125, 200, 500, 1500),
    conditions=(
        Condition("base", {}, DEV),
        Condition("n=50", {"n_train": 50}, DEV),
        Condition("n=75", {"n_train": 75}, HELD_OUT),
        Condition("ridge=10", {"wd": 10.0}, HELD_OUT),
    ),
)


def test_a_small_trial_of_real_solves_end_to_end(tmp_path, monkeypatch, capsys):
    """Real closed-form solves through the one door, a user's measure beside the built-ins:
    the JSON has the grokking scorecard's shape, p⁰ and the norm locate the peaks, the report
    is written, and a second judge re-uses the stored runs."""
    monkeypatch.setattr(D, "QUICK", TINY)
    measure = tmp_path / "m.py"
    measure.write_text(
        "import torch\n"
        "def head_max(ctx):\n"
        "    return {'head/max': ctx.model.W_out.detach().abs().flatten(1).max(1).values}\n"
        "head_max.direction = 'up'\n"
    )
    store, report = str(tmp_path / "s.db"), str(tmp_path / "r.html")
    args = ["judge", "--phenomenon", "double-descent", "--quick", "--store", store]
    assert main([*args, "--json", "--report", report, "--measure", f"{measure}:head_max"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["trial"] == "double-descent-tiny" and card["trial_hash"] == TINY.hash()
    by = {c["id"]: c for c in card["candidates"]}
    assert set(by) == {c.id for c in D.BUILT_IN} | {"head_max"}
    for c in by.values():
        assert set(c["tracking"]) >= {"value", "ci_low", "ci_high"}
        assert set(c["when"]) >= {"rule", "rank", "log_ratio", "whether"}
    # min-norm sweeps peak near n; the strongest ridge has no double descent
    peaks = card["measured_peaks"]
    assert all(peaks[f"ridge=10/seed{s}"] is None for s in range(2))
    assert all(80 <= peaks[f"base/seed{s}"] <= 125 for s in range(2))
    assert by["peff-test"]["when"]["whether"] == 1.0
    assert by["peff-test"]["tracking"]["value"] > 0.5
    assert "Explanations of double descent" in open(report, encoding="utf-8").read()
    assert main([*args, "--no-report", "--only", "norm"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert "found finished" in out and "norm" in rows and "peff-test" not in rows


def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(D, "QUICK", TINY)
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\ndef two(ctx):\n    return {'x': torch.zeros(2)}\n")
    store = str(tmp_path / "s.db")
    args = ["judge", "--phenomenon", "double-descent", "--quick", "--store", store, "--no-report"]
    for extra, words in (
        (["--measure", f"{tmp_path}/nope.py:f"], "no such file"),
        (["--only", "weight-norm"], "unknown candidate"),
        (["--measure", f"{bad}:two", "--only", "norm"], "shape"),
    ):
        code = main([*args, *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith("phenolab: error:") and words in err


def test_directions_are_stated():
    assert {c.direction for c in D.BUILT_IN} <= {UP, DOWN, FIT}
    assert all(c.null for c in D.NULLS) and not any(c.null for c in D.CANDIDATES)


def test_members_of_other_sizes_in_one_ensemble_get_their_own_training_sets():
    """n_train is a member field: a regression ensemble of n = 50 and n = 100 (same seed)
    solves each member on its own n samples, exactly as alone (the trial's n conditions share
    ensembles with the base; before the fix both got the first member's draw)."""
    import torch

    from phenolab.config import task_data
    from phenolab.models import build_model
    from phenolab.train import closedform

    base = D.QUICK.base_config().replace(width=80)

    def solve(cfgs):
        data = task_data(cfgs)
        seeds = [c.train.seed for c in cfgs]
        model = build_model(base.model, data.vocab, data.n_classes, data.x_train.shape[2], seeds)
        lam = torch.zeros(len(cfgs), dtype=torch.float64)
        return data, closedform.solve_head(model, data, lam)

    small, large = base.replace(n_train=50), base.replace(n_train=100)
    data, joint = solve([small, large])
    assert data.train_sizes() == [50, 100]
    for e, cfg in enumerate((small, large)):
        _, alone = solve([cfg])
        for key in ("train/loss", "test/loss", "peff/test", "peff/train", "norm/total"):
            # the same float64 solve on the same rows (the padding rows are zero): agreement
            # to rounding, relative 1e-8 allows for the SVD of a differently padded matrix
            assert joint[key][e].item() == pytest.approx(alone[key][0].item(), rel=1e-8), key
    assert joint["train/loss"][0].item() < 1e-20  # p = 80 > n = 50: interpolates
    assert joint["train/loss"][1].item() > 1e-3  # p = 80 < n = 100: does not
