"""Stacked, per-member initialisation: member e's weights depend only on its own seed."""

from __future__ import annotations

import torch

# hidden activations of the mlp, twolayer and transformer models (`activation`); gelu is the
# exact (erf) GELU, torch.nn.GELU's default
ACTIVATIONS = {"relu": torch.relu, "sqr": torch.square, "gelu": torch.nn.functional.gelu}


def stacked_normal(
    gens: list[torch.Generator], shape: tuple[int, ...], std: float, scales: list[float]
) -> torch.nn.Parameter:
    """[E, *shape]: member e drawn from N(0, std²) by gens[e], times its init scale α_e."""
    w = torch.stack(
        [torch.randn(shape, generator=g) * (std * a) for g, a in zip(gens, scales, strict=True)]
    )
    return torch.nn.Parameter(w)


def stacked_uniform(
    gens: list[torch.Generator], shape: tuple[int, ...], bound: float, scales: list[float]
) -> torch.nn.Parameter:
    """[E, *shape]: member e drawn from U(−bound, bound) by gens[e], times its init scale α_e
    (PyTorch's default initialisations of nn.Linear and nn.MultiheadAttention are uniform)."""
    w = torch.stack(
        [
            (torch.rand(shape, generator=g) * 2 - 1) * (bound * a)
            for g, a in zip(gens, scales, strict=True)
        ]
    )
    return torch.nn.Parameter(w)


def zeros(members: int, *shape: int) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.zeros(members, *shape))


def bmm(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Per-member matmul: x [E, ..., d_in] @ w [E, d_in, d_out] → [E, ..., d_out]."""
    e, d_in = x.shape[0], x.shape[-1]
    out = torch.bmm(x.reshape(e, -1, d_in), w)  # [E, rows, d_out]
    return out.reshape(*x.shape[:-1], w.shape[-1])


def gather_rows(table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Per-member lookup: table [E, V, d], idx [E, ...] → [E, ..., d], rows of member e's table."""
    e, v, d = table.shape
    offset = (torch.arange(e, device=idx.device) * v).view(e, *([1] * (idx.dim() - 1)))
    return torch.nn.functional.embedding(idx + offset, table.reshape(e * v, d))
