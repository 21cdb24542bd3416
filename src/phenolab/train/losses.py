"""Per-member losses and accuracy: logits [E, B, C], targets [E, B], mask [E, B] | None → [E].

A mask marks the real examples of members padded to a common size (see TaskData); the mean is
taken over those only. Each loss a config can name is registered in `LOSSES`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from phenolab import Registry

Mask = torch.Tensor | None
Loss = Callable[[torch.Tensor, torch.Tensor, Mask], torch.Tensor]
LOSSES = Registry("loss")  # name → Loss


def member_mean(values: torch.Tensor, mask: Mask) -> torch.Tensor:
    """[E, B] → [E]: the mean over each member's real examples."""
    if mask is None:
        return values.mean(dim=1)
    mask = mask.to(values.dtype)
    return (values * mask).sum(dim=1) / mask.sum(dim=1)


@LOSSES.register("cross_entropy")
def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    """Softmax cross-entropy of the logits against the class ids."""
    e, b, c = logits.shape
    per_example = F.cross_entropy(
        logits.reshape(e * b, c), targets.reshape(e * b), reduction="none"
    )
    return member_mean(per_example.view(e, b), mask)


@LOSSES.register("mse")
def mse(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    """Mean over examples and classes of (logit − one-hot target)², as in Liu et al. (2022)."""
    onehot = F.one_hot(targets, logits.shape[-1]).to(logits.dtype)
    return member_mean((logits - onehot).pow(2).mean(dim=2), mask)


@LOSSES.register("hinge")
def hinge(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    """Multi-class margin hinge (Crammer & Singer): max(0, 1 − (z_y − max_{j≠y} z_j)). With two
    classes it is the binary hinge max(0, 1 − y·f) of f = z_1 − z_0 and y = ±1, the loss of
    Barak et al. (2022); its value at equal logits (chance) is 1."""
    target_logit = logits.gather(-1, targets[..., None])  # [E, B, 1]
    others = logits.scatter(-1, targets[..., None], float("-inf"))  # [E, B, C]
    margin = target_logit[..., 0] - others.max(dim=-1).values  # [E, B]
    return member_mean(torch.relu(1 - margin), mask)


@LOSSES.register("stablemax")
def stablemax_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None
) -> torch.Tensor:
    """Cross-entropy through StableMax instead of softmax (Prieto et al. 2025, "Grokking at the
    edge of numerical stability"): p_i = s(z_i) / Σ_j s(z_j) with s(z) = z + 1 for z ≥ 0 and
    1 / (1 − z) below, so probabilities grow linearly rather than exponentially in the logits
    and the loss does not round to exactly 0 (softmax collapse). Argmax, hence accuracy, is the
    softmax's: s is increasing."""
    # the clamp keeps the branch not taken finite, so its gradient is 0, not NaN
    s = torch.where(logits >= 0, logits + 1, 1 / (1 - logits.clamp(max=0)))
    per_example = s.sum(-1).log() - s.gather(-1, targets[..., None])[..., 0].log()  # [E, B]
    return member_mean(per_example, mask)


def accuracy(logits: torch.Tensor, targets: torch.Tensor, mask: Mask = None) -> torch.Tensor:
    return member_mean((logits.argmax(dim=-1) == targets).to(logits.dtype), mask)


def make_loss(name: str, dtype: str = "float32") -> Loss:
    """The named loss, computed in float64 when asked: the logits are upcast before the softmax,
    which delays the float32 softmax saturation that zeroes gradients (Prieto et al. 2025)."""
    loss = LOSSES.get(name)
    if dtype == "float32":
        return loss
    return lambda logits, targets, mask=None: loss(logits.double(), targets, mask)
