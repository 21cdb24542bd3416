"""Per-member losses and accuracy: logits [E, B, C], targets [E, B] → [E]."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    e, b, c = logits.shape
    per_example = F.cross_entropy(
        logits.reshape(e * b, c), targets.reshape(e * b), reduction="none"
    )
    return per_example.view(e, b).mean(dim=1)


def mse(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over examples and classes of (logit − one-hot target)², as in Liu et al. (2022)."""
    onehot = F.one_hot(targets, logits.shape[-1]).to(logits.dtype)
    return (logits - onehot).pow(2).mean(dim=(1, 2))


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=-1) == targets).to(logits.dtype).mean(dim=1)


LOSSES: dict[str, Loss] = {"cross_entropy": cross_entropy, "mse": mse}
