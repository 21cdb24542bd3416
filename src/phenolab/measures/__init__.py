"""Progress measures: pure observers of (model, data) → one value per member, keyed
`family/stat`. A measure never changes training.

Register with `@measure("name")` (into `MEASURES`, the registry of phenolab.Registry); a run
lists the measures it wants by name. A measure's one-line description is its docstring's first
line; what a measure needs of a run (`requires`) is in REQUIREMENTS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from phenolab import Registry
from phenolab.errors import ConfigError
from phenolab.tasks.data import TaskData
from phenolab.train.losses import Loss, accuracy

Values = dict[str, torch.Tensor]  # key → [E]


@dataclass
class Context:
    model: torch.nn.Module
    data: TaskData
    loss_fn: Loss
    init: dict[str, torch.Tensor] | None = None  # the parameters at step 0, [E, ...] each


MEASURES = Registry(
    "measures", "measure ", sort=True, plugins="phenolab.measures"
)  # name → (Context → Values)
# name → check(run config): why the measure is undefined for that run (None: it is defined)
REQUIREMENTS: dict[str, Callable[[Any], str | None]] = {}


def measure(name: str, requires: Callable[[Any], str | None] | None = None):
    def register(fn: Callable[[Context], Values]) -> Callable[[Context], Values]:
        MEASURES.register(name, fn)
        if requires is not None:
            REQUIREMENTS[name] = requires
        return fn

    return register


def needs_embedding(cfg: Any) -> str | None:
    """Requirement of measures that read the token embedding W_E (not in the dense model)."""
    if cfg.model.model in ("dense", "twolayer"):
        return f"this measure reads the token embedding W_E, which model={cfg.model.model} lacks"
    return None


def compute(names: list[str] | tuple[str, ...], ctx: Context) -> Values:
    out: Values = {}
    for name in names:
        out.update(MEASURES.get(name)(ctx))
    return out


@measure("performance")
def performance(ctx: Context) -> Values:
    """Loss (the training loss function) and accuracy on the train and test sets."""
    if ctx.data.regression:
        raise ConfigError(
            "measures: performance scores class predictions; a regression task's losses come "
            "from its closed-form solve (train/closedform.py)"
        )
    out: Values = {}
    for split, x, y, mask in ctx.data.splits():
        logits = ctx.model(x)  # [E, N, classes]
        out[f"{split}/loss"] = ctx.loss_fn(logits, y, mask)
        out[f"{split}/acc"] = accuracy(logits, y, mask)
    return out


@measure("norm")
def weight_norm(ctx: Context) -> Values:
    """L2 norm of all weights of each member, ‖θ‖ = (Σ_params Σ θ²)^½.

    The quantity of Liu et al. (2023), "Omnigrok": grokking as the norm decays to a
    "Goldilocks zone"."""
    sq = sum(p.detach().pow(2).flatten(1).sum(dim=1) for p in ctx.model.parameters())
    return {"norm/total": sq.sqrt()}


DEFAULT_MEASURES = ("performance", "norm")


# Measures in their own modules register on import.
from phenolab.measures import (  # noqa: E402, F401
    circuit,
    continuous,
    fourier,
    irreps,
    parity,
    rqi,
    weights,
)
