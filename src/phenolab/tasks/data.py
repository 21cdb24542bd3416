"""TaskData: what the training loop sees of any task."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TaskData:
    """Train and test sets of E members. Inputs are token ids, targets class ids."""

    x_train: torch.Tensor  # [E, N_train, T] int64
    y_train: torch.Tensor  # [E, N_train] int64
    x_test: torch.Tensor  # [E, N_test, T] int64
    y_test: torch.Tensor  # [E, N_test] int64
    n_classes: int
    vocab: int  # number of distinct input tokens

    @property
    def members(self) -> int:
        return self.x_train.shape[0]

    def to(self, device: torch.device | str) -> TaskData:
        return TaskData(
            self.x_train.to(device),
            self.y_train.to(device),
            self.x_test.to(device),
            self.y_test.to(device),
            self.n_classes,
            self.vocab,
        )
