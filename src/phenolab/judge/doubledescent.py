"""The double-descent trial: width sweeps of a random-features model solved in closed form
(`optimizer=lstsq`: min-norm least squares, or ridge with λ = wd), under different label noise,
sample sizes n and ridge penalties — the sweeps of belkin2019-minnorm and curth2023-uturn moved
around. Its conditions, split, seeds, widths and rules are written down here and hashed before
any trial run, with the same discipline as the grokking `Trial` (trial.py); so are the
candidates and each built-in candidate's own falsifiable prediction.

A *sweep* is one (condition, seed): the same seed's runs at every width p of `widths`. Every run
is an ordinary stored run (`phenolab.run.train_configs`), one closed-form solve of
milliseconds; the solver keeps the solution's weights as the run's checkpoint, so every measure
of the weights — a new one included — is computed afterwards from the store.

Label noise: the tasks are regressions; their labels are real-valued targets, and a condition's
label noise is `noise_std` (σ of Gaussian noise added to the targets; the diabetes targets are
standardized, so σ = 1 is as much noise as signal plus the set's own noise).

Candidates see no test label. They read the solve's label-free metrics (the solution's norm,
the training loss, the effective numbers of parameters — `peff/test`, Curth et al.'s p⁰ on the
test *inputs*, reads their features only), the solution's weights (the prime counts, a random
projection) or the config (the raw count p).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from phenolab.analysis.doubledescent import DESCENT, MIN_RISE
from phenolab.config import RunConfig, from_flat
from phenolab.errors import ConfigError
from phenolab.judge.candidates import DOWN, FIT, UP
from phenolab.judge.trial import DEV, HELD_OUT, Condition

# --- the trial --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRules:
    """The scoring rules of a double-descent trial, fixed before any run."""

    # a sweep without a double descent counts as a peak at this multiple of the largest width,
    # for the measured and the predicted location alike (a rule that never fires: "none")
    censored_factor: float = 2.0
    # the peak detector (analysis/doubledescent.find_peak) on each seed's test-error curve
    min_rise: float = MIN_RISE
    descent: float = DESCENT
    # bootstrap over conditions (the seeds of a condition resampled with it)
    bootstrap: int = 1000
    level: float = 0.9
    bootstrap_seed: int = 0
    # predictions: share of sweeps that must agree for PASS, and "within a factor" bands
    agree: float = 2 / 3
    band: float = 1.25
    # verdict words: "tracks" at mean |ρ| ≥ tracks_at; "predicts the peak" at held-out rank
    # correlation ≥ rank_at and median |log ratio| ≤ log_ratio_at
    tracks_at: float = 0.7
    log_ratio_at: float = math.log(1.5)
    rank_at: float = 0.5


@dataclass(frozen=True)
class SweepTrial:
    name: str
    version: int
    base_changes: dict[str, Any]  # flat fields changed from RunConfig()
    widths: tuple[int, ...]  # p of every sweep
    seeds: int
    conditions: tuple[Condition, ...]
    rules: SweepRules = field(default_factory=SweepRules)
    description: str = ""

    def base_config(self) -> RunConfig:
        return RunConfig().replace(**self.base_changes)

    def configs(self, condition: Condition) -> list[tuple[int, int, RunConfig]]:
        """(seed, p, config) of every run of the condition's sweeps."""
        flat = {**self.base_config().flat(), **condition.changes}
        out = []
        for seed in range(self.seeds):
            for p in self.widths:
                try:
                    out.append((seed, p, from_flat({**flat, "seed": seed, "width": p})))
                except ConfigError as exc:
                    raise ConfigError(
                        f"trial {self.name}, condition {condition.name}: {exc}"
                    ) from None
        return out

    def split(self, which: str) -> list[Condition]:
        return [c for c in self.conditions if c.split == which]

    def n_of(self, condition: Condition) -> int:
        return int(condition.changes.get("n_train", self.base_changes["n_train"]))

    def canonical(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "base_changes": self.base_changes,
            "base_config": self.base_config().canonical(),
            "widths": list(self.widths),
            "seeds": self.seeds,
            "conditions": [dataclasses.asdict(c) for c in self.conditions],
            "rules": dataclasses.asdict(self.rules),
            "candidates": [(c.id, c.key, c.direction, c.null) for c in BUILT_IN],
            "predictions": [dataclasses.asdict(p) for p in PREDICTIONS],
        }

    def hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _c(name: str, split: str, why: str, **changes: Any) -> Condition:
    return Condition(name, changes, split, why)


# A log grid from 5 to 2,000 (ratio ≈ 1.15 between neighbours), shared by every condition: the
# grid is NOT relative to n, or a null's "relative" rule would read n off the grid.
WIDTHS = tuple(int(p) for p in np.unique(np.round(np.geomspace(5, 2000, 44))))
BASE = {
    "op": "diabetes",
    "n_train": 100,
    "n_test": 200,  # fits n ≤ 200 in the 442 samples
    "model": "rf",
    "feature_map": "relu",
    "optimizer": "lstsq",
    "wd": 0.0,  # ridge λ; 0: min-norm least squares
    "loss": "mse",
}

QUICK = SweepTrial(
    name="double-descent-quick",
    version=1,
    base_changes=BASE,
    widths=WIDTHS,
    seeds=3,
    description="quick CPU trial: random ReLU features of the diabetes set (and one synthetic "
    "teacher), head solved in closed form, p from 5 to 2,000, 3 seeds per condition — the "
    "sweeps of Belkin et al. 2019 / Curth et al. 2023 under other n, label noise and ridge λ",
    conditions=(
        _c("base", DEV, "min-norm, n = 100, no added noise: peak at p = n"),
        _c("n=50", DEV, "fewer samples: the peak moves to p = 50", n_train=50),
        _c("n=200", DEV, "more samples: the peak moves to p = 200", n_train=200),
        _c("noise=0.5", DEV, "label noise σ = 0.5: a higher peak", noise_std=0.5),
        _c("noise=1", DEV, "label noise σ = 1: higher still", noise_std=1.0),
        _c("ridge=1e-3", DEV, "a little ridge: a lower peak", wd=1e-3),
        _c("ridge=0.1", DEV, "more ridge: lower, or gone", wd=0.1),
        _c("ridge=10", DEV, "strong ridge: no peak", wd=10.0),
        _c("n=75", HELD_OUT, "n = 75: peak at p = 75", n_train=75),
        _c("n=150,noise=0.5", HELD_OUT, "n = 150 with noise", n_train=150, noise_std=0.5),
        _c("n=50,noise=0.75", HELD_OUT, "n = 50 with noise", n_train=50, noise_std=0.75),
        _c("ridge=1e-2", HELD_OUT, "between the development ridges", wd=1e-2),
        _c("ridge=1", HELD_OUT, "between the development ridges", wd=1.0),
        _c(
            "linear-teacher",
            HELD_OUT,
            "another data set: a linear teacher in d = 20, σ = 0.5",
            op="linear",
            n_features=20,
            noise_std=0.5,
        ),
    ),
)

FULL = SweepTrial(
    name="double-descent-full",
    version=1,
    base_changes=BASE,
    widths=WIDTHS,
    seeds=5,
    description="full trial: the quick trial's conditions and more (n, noise, ridge, two "
    "synthetic teachers), 5 seeds per condition",
    conditions=(
        *QUICK.conditions,
        _c("noise=2", DEV, "label noise σ = 2", noise_std=2.0),
        _c("n=120,ridge=1e-4", DEV, "n = 120, a very little ridge", n_train=120, wd=1e-4),
        _c(
            "nonlinear-teacher",
            HELD_OUT,
            "a single-index tanh teacher in d = 20, σ = 0.5",
            op="nonlinear",
            n_features=20,
            noise_std=0.5,
        ),
        _c(
            "linear-d50,n=150",
            HELD_OUT,
            "a linear teacher in d = 50, n = 150",
            op="linear",
            n_features=50,
            n_train=150,
        ),
    ),
)

TRIALS = {t.name: t for t in (QUICK, FULL)}


# --- candidates -------------------------------------------------------------------------------

# the solve's metrics a candidate may read: none of them reads a test label (peff/test reads
# the test inputs' features only: train/closedform.py)
LABEL_FREE = ("peff/test", "peff/train", "peff/trace", "norm/total", "train/loss")


@dataclass
class Solved:
    """One stored solve as a candidate sees it: its config, its label-free metrics and (loaded
    on first use) the solution's weights."""

    cfg: RunConfig
    metrics: dict[str, float]  # LABEL_FREE only
    load_weights: Callable[[], dict]
    _weights: dict | None = None

    @property
    def weights(self) -> dict:
        if self._weights is None:
            self._weights = self.load_weights()
        return self._weights

    @property
    def width(self) -> int:
        return self.cfg.model.width


@dataclass(frozen=True)
class SweepCandidate:
    id: str
    fn: Callable[[Solved], float]
    key: str  # what it reads (a metric, "weights" or "config")
    direction: str  # UP: the measure peaks with the error; DOWN; FIT: chosen on development
    explanation: str
    null: bool = False


def metric(name: str) -> Callable[[Solved], float]:
    def read(run: Solved) -> float:
        return float(run.metrics[name])

    read.__doc__ = f"the solve's `{name}`"
    return read


def head(run: Solved) -> np.ndarray:
    """The solution β̂ (the head W_out), flattened, float64."""
    return run.weights["W_out"].double().flatten().numpy()


def prime_count(scale: int, subset: str = "head") -> Callable[[Solved], float]:
    """How many of the solution's weights (subset "head": β̂; "all": the random feature map's
    weights too) have round(scale · |w|) prime: Jeffares & van der Schaar's count (Fig. 4) and
    its forking paths."""

    def count(run: Solved) -> float:
        w = head(run)
        if subset == "all":
            w = np.concatenate([w, run.weights["W_feat"].double().flatten().numpy()])
        return float(count_primes(np.round(np.abs(w) * scale)))

    return count


def raw_count(run: Solved) -> float:
    """p: the number of random features (= the head's parameters for one output)."""
    return float(run.width)


def projection(run: Solved) -> float:
    """β̂ projected on a fixed random direction (seed 0; its first p coordinates) / √p."""
    w = head(run)
    direction = np.random.default_rng(0).standard_normal(max(WIDTHS[-1], len(w)))[: len(w)]
    return float(w @ direction / math.sqrt(len(w)))


SIEVE = 10**7  # primality by a sieve below, by deterministic Miller–Rabin at or above


@lru_cache(maxsize=1)
def _sieve() -> np.ndarray:
    prime = np.ones(SIEVE, dtype=bool)
    prime[:2] = False
    for d in range(2, math.isqrt(SIEVE - 1) + 1):
        if prime[d]:
            prime[d * d :: d] = False
    return prime


def is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for any n (the bases below are exact for n < 3.3·10²⁴; above
    that a composite passes with probability < 4⁻¹²)."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n in small:
        return True
    if any(n % q == 0 for q in small):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def count_primes(values: np.ndarray) -> int:
    """How many of the non-negative integers in `values` (floats holding integers) are prime."""
    values = values[np.isfinite(values)]
    small = values < SIEVE
    total = int(_sieve()[values[small].astype(np.int64)].sum())
    return total + sum(is_prime(int(v)) for v in values[~small])


CANDIDATES = (
    SweepCandidate(
        "peff-test",
        metric("peff/test"),
        "peff/test",
        UP,
        "effective parameters on unseen inputs p⁰ (Curth et al. 2023)",
    ),
    SweepCandidate(
        "peff-train",
        metric("peff/train"),
        "peff/train",
        UP,
        "effective parameters on the training inputs tr(SSᵀ) (Curth et al. 2023)",
    ),
    SweepCandidate(
        "norm", metric("norm/total"), "norm/total", UP, "the solution's norm (Belkin et al. 2019)"
    ),
    SweepCandidate(
        "train-loss",
        metric("train/loss"),
        "train/loss",
        DOWN,
        "the training loss: the peak at the interpolation threshold",
    ),
)
NULLS = (
    SweepCandidate("primes", prime_count(100), "weights", FIT, "Jeffares & v. d. Schaar", True),
    SweepCandidate("primes@10", prime_count(10), "weights", FIT, "forking path", True),
    SweepCandidate("primes@1000", prime_count(1000), "weights", FIT, "forking path", True),
    SweepCandidate(
        "primes-all", prime_count(100, "all"), "weights", FIT, "forking path: + feature map", True
    ),
    SweepCandidate("p", raw_count, "config", UP, "the raw parameter count", True),
    SweepCandidate("projection", projection, "weights", FIT, "random projection of β̂", True),
)
BUILT_IN = CANDIDATES + NULLS


# --- each built-in candidate's own prediction (written before the first trial run) ------------


@dataclass(frozen=True)
class SweepPrediction:
    id: str
    candidates: tuple[str, ...]
    text: str


PREDICTIONS = (
    SweepPrediction(
        "peff-peaks-with-error",
        ("peff-test",),
        "The test error has a double descent exactly where p⁰ on test inputs has one (the same "
        "detector on both curves of a sweep), and where both do, their peaks lie within a "
        "factor 1.25 of each other: PASS if ≥ 2/3 of all sweeps agree.",
    ),
    SweepPrediction(
        "peff-ridge-below-n",
        ("peff-test",),
        "With the strongest ridge (λ = 10) the peak disappears and p⁰ on test inputs stops "
        "rising at n: no double descent in the test error and p⁰_test ≤ n at every p, in "
        "≥ 2/3 of that condition's sweeps.",
    ),
    SweepPrediction(
        "peff-train-flat",
        ("peff-train",),
        "p⁰ on the training inputs cannot see the second descent: in min-norm sweeps it "
        "reaches n at the threshold and stays there (≥ 0.99 n at every p ≥ 1.25 n) while the "
        "test error falls, in ≥ 2/3 of min-norm sweeps.",
    ),
    SweepPrediction(
        "norm-noise",
        ("norm",),
        "The min-norm interpolant's norm explodes at the threshold because it fits the noise: "
        "with more label noise (σ = 0, 0.5, 1 at n = 100) the median over seeds of the test "
        "error's peak height over the minimum before it rises, and so does the median maximum "
        "of the norm.",
    ),
    SweepPrediction(
        "train-loss-threshold",
        ("train-loss",),
        "The peak sits where the training loss reaches zero, at p = n: in every min-norm "
        "condition without added noise (n = 50, 75, 100, 200) the median over seeds of the "
        "peak location lies within [n / 1.25, 1.25 n].",
    ),
    SweepPrediction(
        "primes-count-weights",
        ("primes", "primes@10", "primes@1000", "primes-all"),
        "A prime count of the weights follows what it counts, not the error: wherever it "
        "tracks the test error (|ρ| ≥ 0.7 in a sweep), the raw count p tracks it at least as "
        "well minus 0.1, or the solution's norm does — PASS if that holds in ≥ 2/3 of the "
        "sweeps where the count tracks (INCONCLUSIVE if it tracks in fewer than 2).",
    ),
    SweepPrediction(
        "p-fixed-peak",
        ("p",),
        "If the raw count explained the peak, it would sit at the same p whatever n: the "
        "median peak locations of n = 50 and n = 200 lie within a factor 1.5 of each other.",
    ),
    SweepPrediction(
        "projection-arbitrary",
        ("projection",),
        "A random direction carries no stable relation to the error: the sign of its rank "
        "correlation with the test error agrees across all seeds of a condition in at most "
        "2/3 of the conditions.",
    ),
)
