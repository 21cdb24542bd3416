"""Pruning masks on stacked weights {name: [E, ...]} and the callback that keeps a mask applied.

Magnitude pruning keeps the largest |w| (Han et al. 2015; the lottery tickets of Frankle &
Carbin 2019, "The Lottery Ticket Hypothesis", and the grokking tickets of Minegishi et al.
2024, "Bridging Lottery Ticket and Grokking"); iterative magnitude pruning (IMP) prunes a
fraction of the *remaining* weights each round, so masks only shrink (new ⊆ old). A random mask
with the same count per tensor is the control of both papers.

A mask is {name: bool [E, ...]} over the prunable tensors only (True = kept). Every function
works per member: member e's mask depends on member e's weights (and seed) alone.

Prunable by default (`is_weight_matrix`): tensors with at least 3 dimensions counting the
member dimension, i.e. every weight matrix and embedding table (W_E, W_pos, W_in, W_out, W_Q,
...); biases and LayerNorm gains/offsets ([E, d]) are never pruned, as in Frankle & Carbin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from phenolab.train.loop import Callback

SCOPES = ("global", "layer")  # one ranking over all prunable weights, or one per tensor
Mask = dict[str, torch.Tensor]  # name → bool [E, ...], True = kept


def is_weight_matrix(name: str, weight: torch.Tensor) -> bool:
    """The default prunable set: weight matrices and embeddings ([E, rows, cols] or more)."""
    return weight.dim() >= 3


def magnitude_mask(
    weights: Mapping[str, torch.Tensor],
    sparsity: float | Sequence[float],
    scope: str = "global",
    prunable: Callable[[str, torch.Tensor], bool] = is_weight_matrix,
    previous: Mask | None = None,
) -> Mask:
    """Keep the largest |w| of each member so that a fraction `sparsity` (one value, or one per
    member) of its prunable weights is pruned: exactly n − round(sparsity · n) kept weights out
    of n, counted over all prunable tensors together (scope "global") or in each tensor
    ("layer"). Ties go to the lower flat index, so the mask is deterministic.

    With a `previous` mask, its pruned weights stay pruned (new ⊆ previous) and the count is of
    the total: `sparsity` must be at least the previous mask's, in each scope unit."""
    names = _prunable(weights, prunable)
    members = weights[names[0]].shape[0]
    rates = _per_member(sparsity, members)
    for rate in rates:
        if not 0 <= rate < 1:
            raise ValueError(f"sparsity must be in [0, 1), got {rate}")
    return _keep_largest(
        {n: weights[n].detach().abs() for n in names},
        previous,
        scope,
        lambda e, total, remaining: total - round(rates[e] * total),
    )


def prune_remaining(
    weights: Mapping[str, torch.Tensor], mask: Mask, rate: float, scope: str = "global"
) -> Mask:
    """One round of IMP: prune a fraction `rate` of the weights `mask` still keeps (in each scope
    unit), by magnitude; the result is a subset of `mask`. After r rounds at rate q, a fraction
    (1 − q)^r of the prunable weights remains (up to rounding, one weight per unit a round)."""
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    return _keep_largest(
        {n: weights[n].detach().abs() for n in mask},
        mask,
        scope,
        lambda e, total, remaining: round(remaining * (1 - rate)),
    )


def random_mask(like: Mask, seeds: Sequence[int]) -> Mask:
    """A mask with the same number of kept weights as `like` in every tensor of every member, at
    random positions: member e's positions drawn from torch.Generator(seeds[e]), tensor after
    tensor in `like`'s order (the random-pruning control of Frankle & Carbin 2019)."""
    out = {n: torch.zeros_like(m, dtype=torch.bool) for n, m in like.items()}
    for e, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(seed)
        for name, m in like.items():
            scores = torch.rand(m[e].numel(), generator=gen)  # [n]
            keep = int(m[e].sum())
            out[name][e].view(-1)[_top(scores, keep)] = True
    return out


def sparsity_of(mask: Mask) -> torch.Tensor:
    """Fraction of the masked weights that are pruned, per member: [E] float64."""
    kept = sum(m.flatten(1).sum(1).double() for m in mask.values())
    total = sum(m[0].numel() for m in mask.values())
    return 1 - kept / total


def layer_sparsity(mask: Mask) -> dict[str, torch.Tensor]:
    """{name: fraction pruned in that tensor, per member [E] float64}."""
    return {n: 1 - m.flatten(1).double().mean(1) for n, m in mask.items()}


def full_mask(weights: Mapping[str, torch.Tensor], prunable=is_weight_matrix) -> Mask:
    """The mask that keeps everything (a member without pruning in a pruned ensemble)."""
    return {n: torch.ones_like(weights[n], dtype=torch.bool) for n in _prunable(weights, prunable)}


@torch.no_grad()
def scale_to_masked_norm(weights: Mapping[str, torch.Tensor], mask: Mask, member: int) -> float:
    """Scale member `member`'s weights (every tensor) by r = ‖θ ⊙ m‖₂ / ‖θ‖₂, the L2 norm the
    mask m {name: bool [1, ...]} would leave over the norm of all weights (tensors the mask does
    not name count whole in both): the dense control with a ticket's initial norm of Minegishi
    et al. 2024 (§4.1: θ₀ · r₂). Returns r."""
    total = kept = 0.0
    for name, w in weights.items():
        square = w[member].double().square()
        total += float(square.sum())
        kept += float((square * mask[name][0]).sum()) if name in mask else float(square.sum())
    ratio = (kept / total) ** 0.5 if total > 0 else 1.0
    for w in weights.values():
        w[member].mul_(ratio)
    return ratio


@torch.no_grad()
def apply_mask(weights: Mapping[str, torch.Tensor], mask: Mask) -> None:
    """Zero the pruned weights in place."""
    for name, m in mask.items():
        weights[name].mul_(m.to(weights[name].dtype))


class KeepMask(Callback):
    """Keeps a mask applied through training: the pruned weights' gradients are zeroed after
    backward (before any gradient filter sees them, so filters work on the sparse network's
    gradient) and the pruned weights are zeroed after every optimizer step, so neither weight
    decay nor momentum nor an intervention can bring them back. The model's weights must
    already be masked when training starts (run/build.py masks the start weights).

    Built by the run layer (run/build.py) from the ticket fields of the config, not from an
    intervention spec; it runs before the interventions (the interventions here all keep zero
    weights at zero: they scale the weights or pull them toward the masked start). The gradient
    half is pure tensor work: capturable in the CUDA graph of the step."""

    graph_safe = True

    def __init__(self, model: torch.nn.Module, mask: Mask) -> None:
        params = dict(model.named_parameters())
        # multipliers in each parameter's dtype, on its device: [E, ...] each
        self.pairs = [(params[n], m.to(params[n].device, params[n].dtype)) for n, m in mask.items()]

    @torch.no_grad()
    def after_backward(self, state) -> None:
        for p, m in self.pairs:
            if p.grad is not None:
                p.grad.mul_(m)

    @torch.no_grad()
    def on_step_end(self, state) -> None:
        for p, m in self.pairs:
            p.mul_(m)

    def state_dict(self) -> dict:
        return {}  # the mask is a function of the config: rebuilt, not checkpointed

    def load_state_dict(self, state: dict) -> None:
        pass


# -- helpers -----------------------------------------------------------------------------------


def _prunable(weights: Mapping[str, torch.Tensor], prunable) -> list[str]:
    names = [n for n, w in weights.items() if prunable(n, w)]
    if not names:
        raise ValueError("no prunable weights (every tensor was excluded)")
    return names


def _per_member(values: float | Sequence[float], members: int) -> list[float]:
    if isinstance(values, int | float):
        return [float(values)] * members
    values = [float(v) for v in values]
    if len(values) != members:
        raise ValueError(f"{len(values)} sparsities for {members} members")
    return values


def _top(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest scores; among equal scores the lower index wins."""
    return torch.sort(scores, descending=True, stable=True).indices[:k]


def _keep_largest(
    scores: dict[str, torch.Tensor],
    previous: Mask | None,
    scope: str,
    keep_count: Callable[[int, int, int], int],
) -> Mask:
    """Per member and per scope unit (all tensors together, or each tensor): keep the
    keep_count(member, weights in the unit, weights `previous` still keeps there) highest scores
    among the weights `previous` keeps."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    names = list(scores)
    members = scores[names[0]].shape[0]
    units = [names] if scope == "global" else [[n] for n in names]
    out = {n: torch.zeros_like(scores[n], dtype=torch.bool) for n in names}
    for e in range(members):
        for unit in units:
            flat = torch.cat([scores[n][e].flatten() for n in unit]).double()  # [n_unit]
            alive = (
                torch.cat([previous[n][e].flatten() for n in unit])
                if previous is not None
                else torch.ones_like(flat, dtype=torch.bool)
            )
            keep = keep_count(e, flat.numel(), int(alive.sum()))
            if keep > alive.sum():
                where = "of all prunable weights" if scope == "global" else f"of {unit[0]}"
                member = f"member {e}: " if members > 1 else ""
                raise ValueError(
                    f"{member}cannot keep {keep} {where}: the previous mask keeps only "
                    f"{int(alive.sum())} (masks only shrink across rounds)"
                )
            # pruned-before weights rank below every live one (scores are ≥ 0)
            kept = torch.zeros_like(alive)
            kept[_top(torch.where(alive, flat, -1.0), keep)] = True
            offset = 0
            for n in unit:
                size = scores[n][e].numel()
                out[n][e] = kept[offset : offset + size].view_as(scores[n][e])
                offset += size
    return out
