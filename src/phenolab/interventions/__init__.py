"""Interventions: the only callbacks that change training (gradient filters, weight
constraints, ...). Registered by id; a run names them in `interventions` as specs
`ID[:name=value,...]` (interventions/spec.py), applied in the order given.

    grokfast-ema     Grokfast EMA filter (Lee et al. 2024)
    grokfast-ma      Grokfast MA filter (Lee et al. 2024)
    orthograd        ⊥Grad (Prieto et al. 2025)
    norm-constraint  Omnigrok's fixed weight norm (Liu et al. 2023)
    decay-to-init    weight decay toward the initial weights
    freeze-embedding the token embedding held fixed (Furuta et al. 2024)

Each is registered by its id in `INTERVENTIONS` (phenolab.Registry): a class with `id`, a
one-line `summary`, its parameters (`params`) and a constructor that builds it for an ensemble.

Pruning masks (masks.py) are not specs: a run asks for one through its ticket fields
(`ticket_from`, `sparsity`, ...; see run/start.py) and the run layer keeps it applied (KeepMask).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from phenolab import Registry
from phenolab.interventions.base import Control, Intervention, Param
from phenolab.interventions.freeze import FreezeEmbedding
from phenolab.interventions.grokfast import GrokfastEMA, GrokfastMA
from phenolab.interventions.norms import DecayToInit, WeightNormConstraint
from phenolab.interventions.orthograd import OrthoGrad
from phenolab.interventions.spec import Parsed, canonical, canonical_specs, signature


def _adopt_intervention(registry: Registry, name: str, cls) -> None:
    """A plugin's Intervention class, registered under its own `id`."""
    if getattr(cls, "id", name) not in registry._items:
        registry.register(getattr(cls, "id", name), cls)


# id → Intervention class; plugins: entry points of the group phenolab.interventions
INTERVENTIONS = Registry(
    "interventions",
    "intervention ",
    sort=True,
    plugins="phenolab.interventions",
    adopt=_adopt_intervention,
)
for _cls in (
    GrokfastEMA,
    GrokfastMA,
    OrthoGrad,
    WeightNormConstraint,
    DecayToInit,
    FreezeEmbedding,
):
    INTERVENTIONS.register(_cls.id, _cls)

__all__ = [
    "INTERVENTIONS",
    "Control",
    "Intervention",
    "Param",
    "build",
    "canonical",
    "canonical_specs",
    "signature",
]


def build(
    member_specs: Sequence[Sequence[Parsed]], model: torch.nn.Module, optimizer
) -> list[Intervention]:
    """The interventions of an ensemble, from each member's parsed specs (`RunConfig.
    interventions()`: the same ids in the same order for every member, and the same integer
    parameters: `config.check_ensemble` says so at the boundary; float parameters may differ):
    float parameters become per-member tensors [E] on the model's device."""
    parsed = [list(specs) for specs in member_specs]
    if len({signature(specs) for specs in parsed}) > 1:
        raise ValueError(f"members disagree on the interventions: {member_specs}")
    first = [name for name, _ in parsed[0]]
    device = next(model.parameters()).device
    out = []
    for i, name in enumerate(first):
        cls = INTERVENTIONS.get(name)
        values: dict[str, Any] = {}
        for p in cls.params:
            member_values = [specs[i][1][p.name] for specs in parsed]
            if p.integer:
                values[p.name] = member_values[0]
            else:
                values[p.name] = torch.tensor(member_values, dtype=torch.float64, device=device)
        out.append(cls(values, model, optimizer))
    return out


def describe() -> list[dict[str, Any]]:
    """Every intervention with its parameters: for `phenolab interventions`."""
    return [
        {
            "id": cls.id,
            "summary": cls.summary,
            "params": [
                {"name": p.name, "default": p.default, "help": p.help, "valid": p.valid_text}
                for p in cls.params
            ],
            "doc": " ".join((cls.__doc__ or "").split()),
        }
        for cls in INTERVENTIONS.values()
    ]
