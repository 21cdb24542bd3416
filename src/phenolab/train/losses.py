"""Per-member losses and accuracy: logits [E, B, C], targets [E, B], mask [E, B] | None → [E].

A mask marks the real examples of members padded to a common size (see TaskData); the mean is
taken over those only.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Mask = torch.Tensor | None
Loss = Callable[[torch.Tensor, torch.Tensor, Mask], torch.Tensor]


def member_mean(values: torch.Tensor, mask: Mask) -> torch.Tensor:
    """[E, B] → [E]: the mean over each member's real examples."""
    if mask is None:
        return values.mean(dim=1)
    mask = mask.to(values.dtype)
    return (values * mask).sum(dim=1) / mask.sum(dim=1)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    e, b, c = logits.shape
    per_example = F.cross_entropy(
        logits.reshape(e * b, c), targets.reshape(e * b), reduction="none"
    )
    return member_mean(per_example.view(e, b), mask)


def mse(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    """Mean over examples and classes of (logit − one-hot target)², as in Liu et al. (2022)."""
    onehot = F.one_hot(targets, logits.shape[-1]).to(logits.dtype)
    return member_mean((logits - onehot).pow(2).mean(dim=2), mask)


def hinge(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    """Multi-class margin hinge (Crammer & Singer): max(0, 1 − (z_y − max_{j≠y} z_j)). With two
    classes it is the binary hinge max(0, 1 − y·f) of f = z_1 − z_0 and y = ±1, the loss of
    Barak et al. (2022); its value at equal logits (chance) is 1."""
    target_logit = logits.gather(-1, targets[..., None])  # [E, B, 1]
    others = logits.scatter(-1, targets[..., None], float("-inf"))  # [E, B, C]
    margin = target_logit[..., 0] - others.max(dim=-1).values  # [E, B]
    return member_mean(torch.relu(1 - margin), mask)


def accuracy(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    return member_mean((logits.argmax(dim=-1) == targets).to(logits.dtype), mask)


LOSSES: dict[str, Loss] = {"cross_entropy": cross_entropy, "mse": mse, "hinge": hinge}


def make_loss(name: str, dtype: str = "float32") -> Loss:
    """The named loss, computed in float64 when asked: the logits are upcast before the softmax,
    which delays the float32 softmax saturation that zeroes gradients (Prieto et al. 2025)."""
    loss = LOSSES[name]
    if dtype == "float32":
        return loss
    return lambda logits, targets, mask=None: loss(logits.double(), targets, mask)
