"""What every intervention shares: its parameters (with defaults, checks and help) and the
Callback it is, with per-member hyperparameters and checkpointable state.

An intervention is the only kind of callback that may change training. It is built
once per ensemble from the members' parsed parameters, right after the model is initialised (or
loaded from a parent run) and before a checkpoint is restored, so anything it captures there
(the initial weights, their norm) is a function of the config alone and is rebuilt identically
on resume. Whatever it accumulates while training (Grokfast's filters) it returns from
`state_dict`, every tensor with the member dimension first, so the run layer can slice it into
members' checkpoints and stack it back (train/members.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from phenolab.train.loop import Callback
from phenolab.train.optim import MemberOptimizer


@dataclass(frozen=True)
class Param:
    """One parameter of an intervention: `name=value` in a spec."""

    name: str
    default: float | int
    help: str
    valid: Callable[[float], bool] = lambda v: True
    valid_text: str = ""  # what `valid` accepts, for the error message
    integer: bool = False  # an int shared by all members (e.g. a window length)


@dataclass(frozen=True)
class Control:
    """A matched control of an arm that uses an intervention, for `phenolab compare`: the arm's
    config with `overrides` (config fields by name), and the intervention kept (`specs` None)
    or replaced by `specs` (`()` removes it; a random mask in place of a ticket's mask would
    name its own spec here)."""

    label: str  # what is matched, e.g. "lr/(1+λ)"
    overrides: Mapping[str, Any] = field(default_factory=dict)
    specs: tuple[str, ...] | None = None


class Intervention(Callback):
    """A training hook built from parameters. Float parameters arrive as per-member tensors
    [E] (float64, on the parameters' device); integer ones as one int shared by the members."""

    id: ClassVar[str]
    summary: ClassVar[str]  # one line for `phenolab interventions`
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(
        self, values: dict[str, Any], model: torch.nn.Module, optimizer: MemberOptimizer
    ) -> None:
        self.values = values
        self.model = model
        self.optimizer = optimizer
        self.parameters = list(model.parameters())  # each [E, ...]

    @classmethod
    def matched_controls(
        cls, values: Mapping[str, float | int], config: Mapping[str, Any]
    ) -> tuple[Control, ...]:
        """The controls a fair comparison of this intervention needs (`phenolab compare
        --matched`), from its parsed parameters `values` and the arm's flat config. None by
        default; an intervention whose effect is partly a plain hyperparameter change names
        the change here so that it can be matched without the intervention's mechanism."""
        return ()

    def state_dict(self) -> dict[str, Any]:
        """Running state to checkpoint: nested dicts/lists of [E, ...] tensors."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned (moved to the parameters' device)."""


def member_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Σ a·b over every dimension but the first: [E, ...] × [E, ...] → [E]."""
    return (a * b).flatten(1).sum(1)
