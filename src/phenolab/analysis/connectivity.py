"""Linear mode connectivity: loss and error along the straight line between two networks of one
architecture, θ(α) = (1 − α) θ_A + α θ_B for α ∈ [0, 1], and the barrier on that line.

Two barriers are in use, both the largest rise of a curve c(α) (error or loss) over a baseline:
  - "mean" (Frankle, Dziugaite, Roy & Carbin 2020, "Linear Mode Connectivity and the Lottery
    Ticket Hypothesis", ICML 2020, §2, the error barrier height): sup_α c(α) − ½ (c(0) + c(1));
  - "linear" (Entezari et al. 2022; Ainsworth, Hayase & Srinivasa 2023, "Git Re-Basin", §2, the
    loss barrier): sup_α c(α) − ((1 − α) c(0) + α c(1)).
They agree when the endpoints do; the linear one is 0 for a curve that is itself a straight line.
Frankle et al. call two networks linearly connected, and a network *stable* to SGD noise, when
the error barrier between two copies trained from it with different data orders is ≈ 0 (within
the 2 % noise between runs); instability analysis (their Fig. 3) plots it against the step k
the copies branch off at, and `stable_step` reads the k from which on it stays small.

Batched: every point of every path is one member of an ensemble forward pass. For P pairs and K
values of α there are P·K members, member p·K + k holding θ_p(α_k); the architecture's own module
runs with those weights in place of its own (torch.func.functional_call), chunked so that a
forward pass holds at most `chunk` members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch.func import functional_call

from phenolab.errors import ConfigError
from phenolab.train.losses import Loss, accuracy, cross_entropy

Weights = Mapping[str, torch.Tensor]  # {name: [P, ...]}: a model's state, member dimension first
BASELINES = ("mean", "linear")
POINTS = 31  # Frankle et al. used 30 evenly spaced α; 31 puts α = 0.5 on the grid


def alphas(points: int = POINTS) -> torch.Tensor:
    """`points` evenly spaced values of α from 0 to 1 [K] (float64, so 0 and 1 are exact)."""
    if points < 2:
        raise ConfigError(f"points: need at least 2 (both endpoints), got {points}")
    return torch.linspace(0, 1, points, dtype=torch.float64)


def interpolate(a: Weights, b: Weights, alpha: torch.Tensor) -> dict[str, torch.Tensor]:
    """The points θ_p(α_k) = (1 − α_k) a_p + α_k b_p of P pairs, a and b {name: [P, ...]}, at K
    values α [K]: {name: [P·K, ...]}, member p·K + k. α = 0 gives a and α = 1 gives b exactly."""
    if set(a) != set(b):
        raise ConfigError(f"weights differ in names: {sorted(set(a) ^ set(b))}")
    out = {}
    for name, wa in a.items():
        wb = b[name]
        if wa.shape != wb.shape:
            raise ConfigError(f"{name}: shapes differ, {tuple(wa.shape)} vs {tuple(wb.shape)}")
        t = alpha.to(wa.dtype).view(1, -1, *([1] * (wa.dim() - 1)))  # [1, K, 1, ...]
        # lerp: exactly a at α = 0, b at α = 1, and a all along when a = b
        points = torch.lerp(wa[:, None], wb[:, None], t)  # [P, K, ...]
        out[name] = points.reshape(-1, *wa.shape[1:])  # [P·K, ...]
    return out


@dataclass
class Path:
    """Loss and error of P pairs at K values of α along their straight lines."""

    alphas: torch.Tensor  # [K], alphas[0] = 0 (network A), alphas[-1] = 1 (network B)
    loss: torch.Tensor  # [P, K]
    error: torch.Tensor  # [P, K], 1 − accuracy

    def barrier(self, metric: str = "error", baseline: str = "mean") -> torch.Tensor:
        """Barrier [P] of each pair's `metric` curve (error or loss), see `barrier`."""
        if metric not in ("error", "loss"):
            raise ConfigError(f"metric: error or loss, got {metric!r}")
        return barrier(getattr(self, metric), self.alphas, baseline)


def path(
    model: torch.nn.Module,
    a: Weights,
    b: Weights,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor | None = None,
    alpha: torch.Tensor | None = None,
    loss_fn: Loss = cross_entropy,
    chunk: int = 64,
) -> Path:
    """Loss and error of each pair p of networks (a, b: {name: [P, ...]}) at each α along its
    straight line, on pair p's data: inputs x [P, N, ...], targets y [P, N], mask [P, N] (or None
    when every example is real). `model` is any module of the architecture (its own weights and
    member count are not used)."""
    alpha = alphas() if alpha is None else alpha
    pairs, k = x.shape[0], len(alpha)
    for name, w in a.items():
        if w.shape[0] != pairs:
            raise ConfigError(f"{name}: {w.shape[0]} pairs of weights but data for {pairs}")
    per_chunk = max(1, chunk // k)  # pairs per forward pass
    losses, errors = [], []
    with torch.no_grad():
        for p0 in range(0, pairs, per_chunk):
            sl = slice(p0, p0 + per_chunk)
            points = interpolate(
                {n: w[sl] for n, w in a.items()}, {n: w[sl] for n, w in b.items()}, alpha
            )  # {name: [p·K, ...]}
            xs = x[sl].repeat_interleave(k, dim=0)  # [p·K, N, ...]
            ys = y[sl].repeat_interleave(k, dim=0)  # [p·K, N]
            ms = mask[sl].repeat_interleave(k, dim=0) if mask is not None else None
            logits = functional_call(model, points, (xs,), strict=True)  # [p·K, N, classes]
            losses.append(loss_fn(logits, ys, ms).view(-1, k))  # [p, K]
            errors.append((1 - accuracy(logits, ys, ms)).view(-1, k))
    return Path(alpha, torch.cat(losses), torch.cat(errors))


def barrier(curve: torch.Tensor, alpha: torch.Tensor, baseline: str = "mean") -> torch.Tensor:
    """The barrier of curves [..., K] sampled at α [K] (from 0 to 1): sup_α c(α) minus the mean
    of the endpoints ("mean", Frankle et al. 2020) or minus the straight line between them
    ("linear", Git Re-Basin). Both are ≥ 0 up to rounding; 0 for a network with itself."""
    if baseline not in BASELINES:
        raise ConfigError(f"baseline: unknown {baseline!r} (valid: {', '.join(BASELINES)})")
    if alpha[0] != 0 or alpha[-1] != 1:
        raise ConfigError("alpha: the path must start at 0 (network A) and end at 1 (network B)")
    start, end = curve[..., :1], curve[..., -1:]
    if baseline == "mean":
        reference = (start + end) / 2
    else:
        reference = torch.lerp(start, end, alpha.to(curve.dtype))  # [..., K]
    return (curve - reference).amax(dim=-1)


def stable_step(
    steps: Sequence[int], barriers: Sequence[float], threshold: float = 0.02
) -> int | None:
    """Instability analysis (Frankle et al. 2020, Fig. 3): the smallest rewind step k from which
    on (at it and every later k measured) the barrier between copies trained from θ_k is at most
    `threshold`; None when it exceeds it at the last k. A single dip below the threshold
    followed by a rise is not stability, as a flicker above τ is not generalization."""
    if len(steps) != len(barriers):
        raise ConfigError(f"{len(steps)} steps but {len(barriers)} barriers")
    order = sorted(range(len(steps)), key=lambda i: steps[i])
    stable = None
    for i in reversed(order):
        if barriers[i] > threshold:
            break
        stable = steps[i]
    return stable
