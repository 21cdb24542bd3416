"""Minibatches: each member draws its own shuffled epochs of its own training set from its own
generator, so a member's batch order depends only on its seed and data (an ensemble member
sees exactly what it would see alone)."""

from __future__ import annotations

from typing import Any

import torch


class EpochSampler:
    """Per-member epochs without replacement; state can be saved and restored exactly."""

    def __init__(self, sizes: list[int], batch_size: int, seeds: list[int]) -> None:
        self.sizes, self.batch_size = sizes, batch_size
        self.gens = [torch.Generator().manual_seed(s + 1_000_003) for s in seeds]
        self.perms = [torch.randperm(n, generator=g) for n, g in zip(sizes, self.gens, strict=True)]
        self.pos = [0] * len(sizes)

    def next(self) -> torch.Tensor:
        """Indices [E, batch_size] into each member's training set."""
        rows = []
        for e, n in enumerate(self.sizes):
            if self.pos[e] + self.batch_size > n:  # start a new epoch (drop the ragged tail)
                self.perms[e] = torch.randperm(n, generator=self.gens[e])
                self.pos[e] = 0
            rows.append(self.perms[e][self.pos[e] : self.pos[e] + self.batch_size])
            self.pos[e] += self.batch_size
        return torch.stack(rows)

    def member_state(self, e: int) -> dict[str, Any]:
        return {"gen": self.gens[e].get_state(), "perm": self.perms[e], "pos": self.pos[e]}

    def load_member_state(self, e: int, state: dict[str, Any]) -> None:
        self.gens[e].set_state(state["gen"])
        self.perms[e], self.pos[e] = state["perm"], state["pos"]
