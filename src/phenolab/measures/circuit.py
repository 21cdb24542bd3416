"""Restricted and excluded loss (Nanda et al. 2023, "Progress measures for grokking via
mechanistic interpretability", §5.1): how much of a modular-addition network's output is the
Fourier-multiplication circuit, measured on its logits.

A network that has learned x + y mod p writes logits L[a, b, c] ≈ Σ_k α_k cos(w_k(a + b − c)),
w_k = 2πk/p, at a few key frequencies k. Write s = (a + b) mod p. For each output c, the
component of L (over the p² input pairs) at frequency k of s is its orthogonal projection onto
span{cos(w_k s), sin(w_k s)} (as in the paper's code; it contains the cos(w_k(a + b − c)) term
for every c). The projection is exact and cheap: average L over each anti-diagonal
{(a, b): a + b ≡ s} to get M[s, c], then keep frequency k of M's DFT over s.

Key frequencies, chosen per member at each evaluation from the model itself: the N_KEY = 5
frequencies k = 1 … ⌊p/2⌋ with the largest power Σ_c |DFT_s(M)[k, c]|² (5 as in the paper's
mainline run, App. C.2.1 has 3–4 for other seeds; a fixed count, so that memorization, spread
over every frequency, is not mistaken for a circuit).

- `circuit/restricted_loss`: cross-entropy over all p² pairs of the restricted logits, the
  per-class mean of L over the inputs (the paper's bias correction) plus the key components
  only. Low once the circuit alone computes addition.
- `circuit/excluded_loss`: cross-entropy on the member's training set of L with the key
  components removed. It rises as the training set comes to rely on the circuit.
- `circuit/key_share`: share of the logits' variance over the inputs (per class, summed) that
  is in the key components (the paper: 95 % of variance explained by 5 frequencies, §4.2).

Losses are cross-entropy in float64 whatever the training loss. Defined for x + y only, with
logits over the p residues; the inputs of all p² pairs are rebuilt from the data (the operand
positions of the MLP pair, `x y =` or `x op y =`, the other tokens copied).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phenolab.errors import ConfigError
from phenolab.measures import Context, Values, measure
from phenolab.train.losses import member_mean

N_KEY = 5
# input length → positions of the two operands (MLP pair, `x y =`, `x op y =`)
OPERAND_POSITIONS = {2: (0, 1), 3: (0, 1), 4: (0, 2)}


def supports(cfg) -> str | None:
    """Why the measure is undefined for a run config, or None."""
    if cfg.task.op != "x+y":
        return f"circuit is defined for op x+y only (restricted/excluded loss), got {cfg.task.op}"
    return None


def operands(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs [E, N, T] → the operands a, b [E, N]."""
    if x.shape[-1] not in OPERAND_POSITIONS:
        raise ConfigError(f"circuit: cannot find the operands in inputs of length {x.shape[-1]}")
    i, j = OPERAND_POSITIONS[x.shape[-1]]
    return x[..., i], x[..., j]


def full_table(data) -> torch.Tensor:
    """Inputs of all p² pairs in a-major order [E, p², T], in the members' own format."""
    p = data.n_classes
    i, j = OPERAND_POSITIONS[data.x_train.shape[-1]]
    a = torch.arange(p, device=data.x_train.device).repeat_interleave(p)  # [p²]
    b = torch.arange(p, device=data.x_train.device).repeat(p)
    x = data.x_train[:, :1].expand(-1, p * p, -1).clone()  # [E, p², T]: member's own tokens
    x[..., i], x[..., j] = a, b
    return x


def check_addition(data) -> None:
    """ConfigError unless every real example is labelled (a + b) mod p."""
    p = data.n_classes
    for _, x, y, mask in data.splits():
        a, b = operands(x)
        wrong = (a + b) % p != y
        if mask is not None:
            wrong &= mask
        if bool(wrong.any()):
            raise ConfigError("circuit: restricted/excluded loss are defined for x+y mod p only")


def key_components(logits: torch.Tensor, n_key: int = N_KEY):
    """Logits of all pairs [E, p², C] (a-major) → (per-class mean [E, 1, C], key part [E, p², C]
    as a function of s = a + b, key frequencies [E, n_key], power [E, ⌊p/2⌋])."""
    e, pp, c = logits.shape
    p = round(pp**0.5)
    numbers = torch.arange(p, device=logits.device)
    s = (numbers.repeat_interleave(p) + numbers.repeat(p)) % p  # [p²]
    m = torch.zeros(e, p, c, dtype=logits.dtype, device=logits.device)
    m.index_add_(1, s, logits)  # [E, p, C]: sums over the anti-diagonals a + b ≡ s
    m /= p
    spectrum = torch.fft.rfft(m, dim=1)  # [E, p//2 + 1, C]
    power = spectrum[:, 1:].abs().pow(2).sum(-1)  # [E, ⌊p/2⌋] at k = 1 … ⌊p/2⌋
    keys = power.topk(min(n_key, power.shape[1]), dim=1).indices + 1  # [E, n_key]
    keep = torch.zeros(e, spectrum.shape[1], dtype=logits.dtype, device=logits.device)
    keep.scatter_(1, keys, 1.0)
    key_m = torch.fft.irfft(spectrum * keep[..., None], n=p, dim=1)  # [E, p, C]
    mean = m.mean(dim=1, keepdim=True)  # [E, 1, C]
    return mean, key_m[:, s], keys, power  # key part gathered at each pair's s


@measure("circuit", requires=supports)
def circuit(ctx: Context) -> Values:
    """Restricted and excluded loss: the Fourier circuit's share of the logits (Nanda et al.)."""
    data, p = ctx.data, ctx.data.n_classes
    check_addition(data)
    logits = ctx.model(full_table(data)).detach().double()  # [E, p², C]
    if logits.shape[-1] != p:
        raise ConfigError(f"circuit: needs logits over the {p} residues, got {logits.shape[-1]}")
    mean, key, _, _ = key_components(logits)
    a = torch.arange(p, device=logits.device).repeat_interleave(p)
    labels = ((a + torch.arange(p, device=logits.device).repeat(p)) % p).expand(logits.shape[0], -1)
    restricted = _cross_entropy(mean + key, labels)  # [E, p²]
    a_tr, b_tr = operands(data.x_train)
    excluded_train = (logits - key).gather(1, (a_tr * p + b_tr)[..., None].expand(-1, -1, p))
    excluded = _cross_entropy(excluded_train, data.y_train)  # [E, N_train]
    centred = (logits - logits.mean(dim=1, keepdim=True)).pow(2).sum((1, 2))
    return {
        "circuit/restricted_loss": restricted.mean(1).float(),
        "circuit/excluded_loss": member_mean(excluded, data.train_mask).float(),
        "circuit/key_share": (key.pow(2).sum((1, 2)) / centred.clamp_min(1e-300)).float(),
    }


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[E, N, C], [E, N] → per-example losses [E, N]."""
    e, n, c = logits.shape
    loss = F.cross_entropy(logits.reshape(e * n, c), targets.reshape(-1), reduction="none")
    return loss.view(e, n)
