"""Representation quality index (Liu, Kitouni, Nolte, Michaud, Tegmark & Williams 2022,
"Towards understanding grokking: an effective theory of representation learning", §3.2): the
share of the training set's parallelograms that the embedding realises.

For addition, two training pairs (i, j) and (m, n) with i + j = m + n form a parallelogram; an
embedding realises it when E_i + E_j ≈ E_m + E_n, and a network that has found the structure
realises nearly all of them (RQI → 1) while a memorizing one realises few.

Modular addition wraps around: a generalizing network puts the numbers on circles (Nanda et al.
2023), where the parallelogram law holds for angles modulo 2π rather than for vectors. So here
each member's numbers are projected onto the plane of its embedding's strongest Fourier
frequency (fourier/top), number a gets the angle θ_a in that plane, and a parallelogram
(i + j ≡ m + n mod p) is realised when |θ_i + θ_j − θ_m − θ_n|, wrapped to [0, π], is at most
DELTA·π. A perfect circle realises all of them (`rqi/share` = 1); angles with no structure
realise a share DELTA by chance.

Parallelograms are a fixed-seed sample of SAMPLES pairs of distinct training pairs with the same
sum, per member, so the value is deterministic for a given run.
"""

from __future__ import annotations

import math

import torch

from phenolab.measures import Context, Values, measure, needs_embedding
from phenolab.measures.circuit import operands
from phenolab.measures.fourier import frequency_power, number_embedding

DELTA = 0.05  # tolerance, as a share of π
SAMPLES = 4096


def supports(cfg) -> str | None:
    if cfg.task.op != "x+y":
        return f"rqi is defined for op x+y only (parallelograms of sums), got {cfg.task.op}"
    return needs_embedding(cfg)


def circle_angles(embedding: torch.Tensor) -> torch.Tensor:
    """[E, p, d] → the angle of each number [E, p] in the plane of the strongest frequency."""
    xy, _ = circle_coordinates(embedding)
    return torch.atan2(xy[..., 1], xy[..., 0])


def circle_coordinates(embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[E, p, d] → each number's 2-D coordinates [E, p, 2] in the plane of the embedding's
    strongest frequency, and that frequency [E]. A generalizing network's numbers lie on a
    circle there, in the order a·k mod p."""
    p = embedding.shape[1]
    e = embedding.double()
    top = frequency_power(e).argmax(-1) + 1  # [E] frequency k ≥ 1
    a = torch.arange(p, dtype=torch.float64, device=embedding.device)
    phase = 2 * math.pi * top[:, None].double() * a / p  # [E, p]
    re = torch.einsum("ep,epd->ed", torch.cos(phase), e)  # Re F_k ∈ R^d
    im = torch.einsum("ep,epd->ed", -torch.sin(phase), e)  # Im F_k
    # E_a = u cos φ_a + v sin φ_a has Re F_k ∝ u and −Im F_k ∝ v: coordinates in the (u, v)
    # basis (least squares, so an ellipse counts as the circle it is) are (cos φ_a, sin φ_a)
    # (F_k = (u − iv)·p/2 for such an embedding: scaled so a perfect circle has radius 1)
    uv = torch.linalg.pinv(torch.stack([re, -im], dim=-1) * (2 / p))  # [E, 2, d]
    return torch.einsum("epd,ecd->epc", e, uv), top  # [E, p, 2], [E]


def realised_share(
    angles: torch.Tensor, a: torch.Tensor, b: torch.Tensor, p: int, samples: int = SAMPLES
) -> float:
    """Share of sampled parallelograms among the pairs (a, b) [N] that angles [p] realise."""
    sums = (a + b) % p
    order = sums.argsort(stable=True)
    a, b, sums = a[order], b[order], sums[order]
    counts = torch.bincount(sums, minlength=p)
    start = counts.cumsum(0) - counts
    usable = (counts[sums] >= 2).nonzero().squeeze(1)  # pairs with a partner of equal sum
    if usable.numel() == 0:
        return float("nan")
    g = torch.Generator().manual_seed(0)
    first = usable[torch.randint(len(usable), (samples,), generator=g)]
    s = sums[first]
    offset = first - start[s]
    step = 1 + (torch.rand(samples, generator=g) * (counts[s] - 1)).long()  # another pair
    second = start[s] + (offset + step) % counts[s]
    phi = angles[a] + angles[b]
    gap = torch.remainder(phi[first] - phi[second] + math.pi, 2 * math.pi) - math.pi
    return (gap.abs() <= DELTA * math.pi).double().mean().item()


@measure("rqi", requires=supports)
def rqi(ctx: Context) -> Values:
    """Representation quality index: parallelograms the embedding realises (Liu et al. 2022)."""
    p = ctx.data.n_classes
    angles = circle_angles(number_embedding(ctx)).cpu()  # [E, p]
    a, b = operands(ctx.data.x_train)
    a, b = a.cpu(), b.cpu()
    mask = ctx.data.train_mask
    shares = []
    for e in range(angles.shape[0]):
        real = mask[e].cpu() if mask is not None else slice(None)
        shares.append(realised_share(angles[e], a[e][real], b[e][real], p))
    return {"rqi/share": torch.tensor(shares, dtype=torch.float32)}
