"""Measures of the weights themselves: per-layer norms, distance from initialisation, the
effective rank of the embedding, and — as a deliberate control — the count of primes among
rounded parameters (the "theory" examined by Jeffares & van der Schaar 2025: a quantity that
tracks grokking without explaining anything)."""

from __future__ import annotations

import math

import torch

from phenolab.measures import Context, Values, measure, needs_embedding

PRIME_SCALE = 100  # control/primes rounds each |w| · 100 to the nearest integer


@measure("layers")
def layer_norms(ctx: Context) -> Values:
    """`norm/<param>`: L2 norm of each parameter; `move/<param>`: ‖θ − θ_0‖ / ‖θ_0‖ (relative
    movement from initialisation, e.g. hidden vs output layer in Tian 2025's lazy stage)."""
    out: Values = {}
    for name, p in ctx.model.named_parameters():
        w = p.detach().flatten(1)  # [E, n]
        out[f"norm/{name}"] = w.norm(dim=1)
        if ctx.init is not None:
            w0 = ctx.init[name].to(w.device).flatten(1)
            out[f"move/{name}"] = (w - w0).norm(dim=1) / w0.norm(dim=1).clamp_min(1e-12)
    if ctx.init is not None:
        sq = sum(
            (p.detach() - ctx.init[n].to(p.device)).pow(2).flatten(1).sum(1)
            for n, p in ctx.model.named_parameters()
        )
        out["move/total"] = sq.sqrt()
    return out


def effective_rank(matrix: torch.Tensor) -> torch.Tensor:
    """Roy & Vetterli (2007): exp of the entropy of the normalised singular values; [E, n, d] →
    [E]."""
    s = torch.linalg.svdvals(matrix.double())  # [E, min(n, d)]
    q = s / s.sum(-1, keepdim=True).clamp_min(1e-300)
    entropy = -(q * q.clamp_min(1e-300).log()).sum(-1)
    return entropy.exp()


@measure("rank", requires=needs_embedding)
def embedding_rank(ctx: Context) -> Values:
    """`embed/rank`: effective rank of the number embedding."""
    numbers = ctx.model.embedding().detach()[:, : ctx.data.n_classes]  # [E, p, d]
    return {"embed/rank": effective_rank(numbers).float()}


def is_prime_tensor(n: torch.Tensor) -> torch.Tensor:
    """Elementwise primality of non-negative integers (trial division up to √max)."""
    prime = n >= 2
    for d in range(2, int(math.isqrt(int(n.max().item()) if n.numel() else 0)) + 1):
        prime &= (n == d) | (n % d != 0)
    return prime


@measure("primes")
def prime_count(ctx: Context) -> Values:
    """`control/primes`: how many parameters have round(100 · |w|) prime."""
    counts = 0
    for p in ctx.model.parameters():
        n = (p.detach().abs() * PRIME_SCALE).round().long().flatten(1)  # [E, n]
        counts = counts + is_prime_tensor(n).sum(1)
    return {"control/primes": counts.float()}


PRIME_ROUNDINGS = (10, 100, 1000)  # primes-rounding: the rounding scales shown side by side


@measure("primes-rounding")
def prime_count_roundings(ctx: Context) -> Values:
    """`control/primes_x{s}` for s in PRIME_ROUNDINGS: how many parameters have round(s · |w|)
    prime — the same control as `primes` (s = 100) under other roundings, since the count
    depends on the rounding chosen."""
    counts = {s: 0 for s in PRIME_ROUNDINGS}
    for p in ctx.model.parameters():
        magnitude = p.detach().abs().flatten(1)  # [E, n]
        for s in PRIME_ROUNDINGS:
            counts[s] = counts[s] + is_prime_tensor((magnitude * s).round().long()).sum(1)
    return {f"control/primes_x{s}": c.float() for s, c in counts.items()}
