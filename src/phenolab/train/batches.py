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


class FreshSampler:
    """Online learning: every step each member draws `batch_size` fresh examples from its own
    generator (the task's Stream). They are written in place into the training buffers
    data.x_train / y_train [E, batch_size, ...] — so a CUDA graph of the step reads them — and
    next() returns the indices of the whole buffer. Evaluations of the "train" split therefore
    see the latest batch. The state to save is each member's generator."""

    def __init__(self, data, batch_size: int) -> None:
        self.data, self.batch_size = data, batch_size
        self.gens = [torch.Generator().manual_seed(s) for s in data.stream.seeds]
        x, y = self._draw()  # the first batch also sizes the buffers
        device = data.x_train.device
        data.x_train, data.y_train = x.to(device), y.to(device)
        data.train_mask = None
        members = len(self.gens)
        self.idx = torch.arange(batch_size).expand(members, -1).contiguous()  # [E, B]

    def _draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [self.data.stream.draw(e, g, self.batch_size) for e, g in enumerate(self.gens)]
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

    def next(self) -> torch.Tensor:
        """Draw the next batch into the buffers; indices [E, batch_size] of all of it."""
        x, y = self._draw()
        self.data.x_train.copy_(x)
        self.data.y_train.copy_(y)
        return self.idx

    def member_state(self, e: int) -> dict[str, Any]:
        return {"gen": self.gens[e].get_state()}

    def load_member_state(self, e: int, state: dict[str, Any]) -> None:
        self.gens[e].set_state(state["gen"])
