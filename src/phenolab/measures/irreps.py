"""Irreducible representations in the embedding of a dihedral group task (Chughtai, Chan & Nanda
2023, "A toy model of universality", §5): a network that composes group elements embeds each
element g through the matrices ρ(g) of a few irreducible representations ρ, so the embedding's
squared norm concentrates in those irreps' isotypic components.

For the number embedding W_E [N, d] (one row per group element), the share of irrep ρ is
‖P_ρ W_E‖²_F / ‖W_E‖²_F with P_ρ the projector onto the span of ρ's matrix coefficients
(`tasks.groups.isotypic_projectors`); the shares sum to 1. Recorded for D<n> tasks only:
- `irrep/<name>`: share of each irrep (trivial, sign, [alt, alt_sign,] rho1, rho2, …);
- `irrep/key`: how many irreps hold 90 % of the norm (a random embedding needs most of them);
- `irrep/top`: the largest share.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from phenolab.measures import Context, Values, measure, needs_embedding
from phenolab.tasks import groups

KEY_SHARE = 0.9


@lru_cache(maxsize=4)
def _projectors(n: int) -> tuple[list[str], torch.Tensor]:
    projectors = groups.dihedral_irreps(n)
    return list(projectors), torch.stack(list(projectors.values()))  # [R, N, N]


def irrep_power(embedding: torch.Tensor, n: int) -> tuple[list[str], torch.Tensor]:
    """Embedding [E, 2n, d] of D_n's elements → (irrep names, shares [E, R] summing to 1)."""
    names, p = _projectors(n)
    w = embedding.double()
    power = torch.einsum("rxy,eyd->erxd", p.to(w.device), w).pow(2).sum((-1, -2))  # [E, R]
    return names, power / power.sum(-1, keepdim=True).clamp_min(1e-300)


def key_count(shares: torch.Tensor, share: float = KEY_SHARE) -> torch.Tensor:
    """[E, R] shares → [E] how many of the largest hold `share` of the total."""
    ordered = shares.sort(dim=-1, descending=True).values
    return (ordered.cumsum(-1) < share).sum(-1) + 1


def dihedral_task(cfg) -> str | None:
    """Requirement: the task composes elements of a dihedral group D<n>, read from W_E."""
    group = groups.parse_group(cfg.task.op)
    if group is None or group[0] != "D":
        return f"irreps needs a dihedral group op D<n>, the task is op={cfg.task.op}"
    return needs_embedding(cfg)


@measure("irreps", requires=dihedral_task)
def irreps(ctx: Context) -> Values:
    """Embedding norm in each irreducible representation of D_n (Chughtai et al. 2023)."""
    group = groups.parse_group(ctx.data.group)
    n = group[1]
    embedding = ctx.model.embedding().detach()[:, : 2 * n]  # [E, 2n, d]: the element tokens
    names, shares = irrep_power(embedding, n)
    out: Values = {f"irrep/{name}": shares[:, i].float() for i, name in enumerate(names)}
    out["irrep/key"] = key_count(shares).float()
    out["irrep/top"] = shares.max(-1).values.float()
    return out
