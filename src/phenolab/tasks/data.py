"""TaskData: what the training loop sees of any task."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class Stream:
    """Online tasks: member e draws `count` fresh examples with draw(e, generator, count) →
    (inputs [count, ...], targets [count]), its generator seeded by seeds[e]."""

    seeds: list[int]
    draw: Callable[[int, torch.Generator, int], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TaskData:
    """Train and test sets of E members. Inputs are token ids [E, N, T] or, for feature tasks
    (sparse parity, regression), float feature vectors [E, N, d]; targets are class ids, or
    real values [E, N] for a regression task (n_classes = 0: `regression`).

    Members whose sets differ in size (e.g. different train fractions) are padded to the largest;
    a mask [E, N] then marks the real examples. A mask is None when every member's set is full.
    """

    x_train: torch.Tensor  # [E, N_train, T] int64
    y_train: torch.Tensor  # [E, N_train] int64
    x_test: torch.Tensor  # [E, N_test, T] int64
    y_test: torch.Tensor  # [E, N_test] int64
    n_classes: int
    vocab: int  # number of distinct input tokens (feature tasks: the input dimension d)
    train_mask: torch.Tensor | None = None  # [E, N_train] bool
    test_mask: torch.Tensor | None = None  # [E, N_test] bool
    group: str | None = None  # the group of a group task ("S5", "D59"); None otherwise
    relevant: torch.Tensor | None = None  # [E, k] sparse parity: each member's relevant inputs
    # online tasks: fresh examples every step; x_train / y_train then hold the current batch
    stream: Stream | None = None
    # image tasks: one example's image shape ((40,), (8, 8), (28, 28)); inputs are flattened
    shape: tuple[int, ...] | None = None
    # a validation set (regression tasks with n_val > 0: for choosing a ridge λ); None: none
    x_val: torch.Tensor | None = None  # [E, N_val, d]
    y_val: torch.Tensor | None = None  # [E, N_val]

    @property
    def regression(self) -> bool:
        """Real-valued targets (regression tasks have no classes)."""
        return self.n_classes == 0

    @property
    def members(self) -> int:
        return self.x_train.shape[0]

    def splits(self):
        """(name, inputs, targets, mask) for "train", "val" (when there is one) and "test"."""
        yield "train", self.x_train, self.y_train, self.train_mask
        if self.x_val is not None:
            yield "val", self.x_val, self.y_val, None
        yield "test", self.x_test, self.y_test, self.test_mask

    def train_sizes(self) -> list[int]:
        """Number of real training examples of each member."""
        if self.train_mask is None:
            return [self.x_train.shape[1]] * self.members
        return self.train_mask.sum(dim=1).tolist()

    def to(self, device: torch.device | str) -> TaskData:
        tensors = {
            f.name: getattr(self, f.name).to(device)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return dataclasses.replace(self, **tensors)


def data_seed(cfg, seed: int) -> int:
    """The seed of a member's data (split, subset, label noise): its task's split_seed, else its
    run seed."""
    return seed if cfg.split_seed is None else cfg.split_seed


def pad_members(
    xs: list[torch.Tensor], ys: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Stack per-member inputs [N_e, T] and targets [N_e] into [E, N_max, T], [E, N_max] and a
    mask [E, N_max] (None when all N_e are equal). Padding repeats a member's first example."""
    sizes = [len(y) for y in ys]
    n = max(sizes)
    if min(sizes) == n:
        return torch.stack(xs), torch.stack(ys), None
    x = torch.stack([torch.cat([xi, xi[:1].expand(n - len(xi), -1)]) for xi in xs])
    y = torch.stack([torch.cat([yi, yi[:1].expand(n - len(yi))]) for yi in ys])
    mask = torch.arange(n)[None, :] < torch.tensor(sizes)[:, None]  # [E, N_max]
    return x, y, mask
