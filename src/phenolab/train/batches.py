"""Minibatches: each member draws its own shuffled epochs from its own generator, so a member's
batch order depends only on its seed (an ensemble member sees what it would see alone)."""

from __future__ import annotations

from typing import Any

import torch


class EpochSampler:
    """Per-member epochs without replacement; state can be saved and restored exactly."""

    def __init__(self, n: int, batch_size: int, seeds: list[int]) -> None:
        self.n, self.batch_size = n, batch_size
        self.gens = [torch.Generator().manual_seed(s + 1_000_003) for s in seeds]
        self.perms = [torch.randperm(n, generator=g) for g in self.gens]
        self.pos = 0

    def next(self) -> torch.Tensor:
        """Indices [E, batch_size] into each member's training set."""
        if self.pos + self.batch_size > self.n:
            self.perms = [torch.randperm(self.n, generator=g) for g in self.gens]
            self.pos = 0
        idx = torch.stack([p[self.pos : self.pos + self.batch_size] for p in self.perms])
        self.pos += self.batch_size
        return idx

    def state_dict(self) -> dict[str, Any]:
        return {"gens": [g.get_state() for g in self.gens], "perms": self.perms, "pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for g, s in zip(self.gens, state["gens"], strict=True):
            g.set_state(s)
        self.perms, self.pos = state["perms"], state["pos"]
