"""Slicing an ensemble's state into members and stacking members back into an ensemble.

Every model parameter and optimizer buffer has the member dimension first, so member e's state
is the slice [e:e+1] of each tensor; scalars (the optimizer's step count) are shared.
"""

from __future__ import annotations

from typing import Any

import torch


def per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Per-member values [E] → [E, 1, ..., 1] in `like`'s dtype, broadcastable against a
    stacked tensor `like` [E, ...]."""
    return values.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


def member_slice(state: Any, e: int) -> Any:
    """Member e's part of a nested dict/list of [E, ...] tensors (scalars kept), on the CPU so
    that a checkpoint written on a GPU can be resumed anywhere."""
    if isinstance(state, torch.Tensor):
        return state[e : e + 1].detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: member_slice(v, e) for k, v in state.items()}
    if isinstance(state, list):
        return [member_slice(v, e) for v in state]
    return state


def stack_members(states: list[Any]) -> Any:
    """Inverse of member_slice: concatenate members' states along dim 0. Scalars must agree."""
    first = states[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(states, dim=0)
    if isinstance(first, dict):
        return {k: stack_members([s[k] for s in states]) for k in first}
    if isinstance(first, list):
        return [stack_members([s[i] for s in states]) for i in range(len(first))]
    if any(s != first for s in states):
        raise ValueError(f"members disagree on a shared value: {states}")
    return first
