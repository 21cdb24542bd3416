"""A trial: fixed conditions (configs × seeds) split once into development and held-out sets,
with the scoring rules, all written down here and hashed before any trial run.

The conditions change *when or whether* grokking happens (weight decay, train fraction, init
scale α, learning rate, operation, optimizer, interventions). A candidate's rules are fitted on
the development conditions only and scored on the held-out ones. Every run of a trial is an
ordinary stored run that also keeps its weights at `kept_steps` (`keep_checkpoint_at`), so
that any measure — a new one included — is computed afterwards from the stored weights,
without training again.

The hash covers the trial's name, version, base config, conditions, split, seeds, kept steps
and rules (`canonical()`); changing any of them changes it, and it is printed with every
result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from phenolab.config import RunConfig, from_flat
from phenolab.config.presets import preset
from phenolab.errors import ConfigError
from phenolab.train.schedule import eval_grid

DEV, HELD_OUT = "development", "held-out"


@dataclass(frozen=True)
class Condition:
    name: str
    changes: dict[str, Any]  # flat config fields changed from the trial's base
    split: str  # DEV or HELD_OUT
    why: str = ""  # what the condition is expected to change


@dataclass(frozen=True)
class Rules:
    """The scoring rules, fixed before any run."""

    # censored t_gen (never generalized within the run) counts as this multiple of the run length
    censored_factor: float = 2.0
    # forecasting sees the measure only up to this multiple of t_fit (train labels only)
    forecast_cutoff: float = 2.0
    # bootstrap over conditions: resamples and the interval's coverage
    bootstrap: int = 1000
    level: float = 0.9
    bootstrap_seed: int = 0
    # invariance: the rescale factor c (ReLU layer × c, next layer × 1/c)
    rescale: float = 2.0
    # intervention predictions: share of seeds that must agree for PASS
    agree: float = 2 / 3
    # tracking: a candidate "tracks" when its mean |rank correlation| reaches this
    tracks_at: float = 0.7
    # telling when / forecasting: held-out median |log ratio| below this (a factor of 1.5) and
    # rank correlation above `rank_at`
    log_ratio_at: float = math.log(1.5)
    rank_at: float = 0.5


@dataclass(frozen=True)
class Trial:
    name: str
    version: int
    base: str  # the preset the conditions change
    base_changes: dict[str, Any]
    seeds: int
    kept: int  # number of steps whose weights every run keeps
    conditions: tuple[Condition, ...]
    rules: Rules = field(default_factory=Rules)
    description: str = ""

    def base_config(self) -> RunConfig:
        return preset(self.base).replace(**self.base_changes)

    def kept_steps(self) -> tuple[int, ...]:
        """Step 0 and about `kept` steps evenly spaced in log(step) up to the end, each snapped
        to the evaluation grid (where test accuracy is recorded too)."""
        t = self.base_config().train
        grid = eval_grid(t.steps, t.eval_every)[1:]
        out = {0}
        for i in range(self.kept):
            target = math.exp(
                math.log(10) + i * (math.log(t.steps) - math.log(10)) / (self.kept - 1)
            )
            out.add(min(grid, key=lambda s, x=target: abs(math.log(s) - math.log(x))))
        return tuple(sorted(out))

    def configs(self, condition: Condition) -> list[RunConfig]:
        """The condition's runs, one per seed, each keeping its weights at `kept_steps`."""
        flat = {**self.base_config().flat(), **condition.changes}
        flat["keep_checkpoint_at"] = self.kept_steps()
        out = []
        for seed in range(self.seeds):
            try:
                out.append(from_flat({**flat, "seed": seed}))
            except ConfigError as exc:
                raise ConfigError(f"trial {self.name}, condition {condition.name}: {exc}") from None
        return out

    def split(self, which: str) -> list[Condition]:
        return [c for c in self.conditions if c.split == which]

    def canonical(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "base": self.base,
            "base_changes": self.base_changes,
            "base_config": self.base_config().canonical(),
            "seeds": self.seeds,
            "kept_steps": list(self.kept_steps()),
            "conditions": [dataclasses.asdict(c) for c in self.conditions],
            "rules": dataclasses.asdict(self.rules),
        }

    def hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _c(name: str, split: str, why: str, **changes: Any) -> Condition:
    return Condition(name, changes, split, why)


# The CPU trial: the main job's embedding MLP on x+y mod 97 (grokking in ~1,400 steps), 3 seeds
# per condition. Conditions were chosen to move t_gen both ways and to include some that may
# never generalize in 3,000 steps (censored: a bound, scored by Rules.censored_factor).
QUICK = Trial(
    name="grokking-quick",
    version=1,
    base="grokking",
    base_changes={},
    seeds=3,
    kept=24,
    description="quick CPU trial: embedding MLP on modular arithmetic (p = 97), 3,000 steps, "
    "3 seeds per condition — not a paper's experiment",
    conditions=(
        _c("base", DEV, "the main job: wd 1, 30 % train"),
        _c("wd=0.5", DEV, "less weight decay: later", wd=0.5),
        _c("wd=2", DEV, "more weight decay: earlier", wd=2.0),
        _c("frac=0.4", DEV, "more data: earlier", frac=0.4),
        _c("frac=0.25", DEV, "less data: later or never", frac=0.25),
        _c("alpha=1.5", DEV, "larger init (lazier): later", init_scale=1.5),
        _c("grokfast-ema", DEV, "Grokfast EMA: earlier", interventions=("grokfast-ema",)),
        _c("op=x-y", DEV, "another operation", op="x-y"),
        _c("wd=0.3", HELD_OUT, "little weight decay: later or never", wd=0.3),
        _c("frac=0.5", HELD_OUT, "half the table: earlier", frac=0.5),
        _c("lr=5e-3", HELD_OUT, "half the learning rate: later", lr=5e-3),
        _c("alpha=2", HELD_OUT, "lazier still: later or never", init_scale=2.0),
        _c("orthograd", HELD_OUT, "⊥AdamW (Prieto et al.)", interventions=("orthograd",)),
        _c("grokfast-ma", HELD_OUT, "Grokfast MA", interventions=("grokfast-ma",)),
        _c("op=x*y", HELD_OUT, "multiplication", op="x*y"),
    ),
)

# The full trial: the same design at 5 seeds, a longer budget and more conditions, including
# Nanda et al.'s 1-layer transformer (a GPU's work: `phenolab judge --device cuda`).
FULL = Trial(
    name="grokking-full",
    version=1,
    base="grokking",
    base_changes={"steps": 10_000, "eval_every": 50},
    seeds=5,
    kept=32,
    description="full trial: embedding MLP and 1-layer transformer on modular arithmetic, "
    "10,000 steps, 5 seeds per condition",
    conditions=(
        *(dataclasses.replace(c) for c in QUICK.conditions),
        _c("wd=0.1", HELD_OUT, "very little weight decay: much later or never", wd=0.1),
        _c("frac=0.2", DEV, "a fifth of the table", frac=0.2),
        _c("alpha=3", DEV, "lazy: much later or never", init_scale=3.0),
        _c("sgd", HELD_OUT, "SGD with momentum", optimizer="sgd", lr=0.5),
        _c("op=x/y", DEV, "division", op="x/y"),
        _c(
            "transformer",
            HELD_OUT,
            "1-layer transformer reading `x y =`",
            model="transformer",
            sequence="x y =",
            lr=1e-3,
            betas=(0.9, 0.98),
            warmup=10,
        ),
    ),
)

TRIALS = {t.name: t for t in (QUICK, FULL)}
