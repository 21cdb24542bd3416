"""Symmetries of the dense ReLU MLP (models/dense.py), on its stacked weights {name: [E, ...]},
member by member: transformations that leave the function a network computes unchanged.

- Permuting the units of a hidden layer (their incoming weights and biases, and the rows of
  their outgoing weights) relabels them: the same function, a different point in weight space.
- Splitting a unit into two (over-parameterisation by splitting neurons; Net2WiderNet of Chen,
  Goodfellow & Shlens 2016, "Net2Net"): both copies get the unit's incoming weights
  and bias, so they compute the same activation h, and share its outgoing weights as f·w and
  (1 − f)·w, so f·h·w + (1 − f)·h·w = h·w: one unit wider, the same function (up to rounding).
- Weight matching (Ainsworth, Hayase & Srinivasa 2023, "Git Re-Basin: merging models modulo
  permutation symmetries", ICLR 2023, §3.2, Algorithm 1): the permutation of B's hidden units
  that best aligns them with A's, maximising Σ_l ⟨W_l^A, P_l W_l^B P_{l−1}^T⟩ by coordinate
  descent — one permutation at a time, the others fixed, each a linear assignment problem —
  until no permutation changes. In the paper, interpolating A with the aligned B removes most of
  the barrier that interpolating A with B itself shows (their Fig. 2), more so the wider the
  network (the catalog entry ainsworth2023-rebasin measures how much on MNIST-1D).

Hidden layer l (0 … n_layers − 1) has incoming weights W_in (l = 0) or W_hidden.{l−1}, bias b_in
or b_hidden.{l−1}, and outgoing weights W_hidden.{l} or, for the last, W_out. Weights are [E,
fan_in, fan_out] (x @ W), so a unit is a column of its incoming matrix and a row of its outgoing
one. Layers may differ in width (after a split); run such weights with
torch.func.functional_call on a DenseMLP of any width.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from phenolab.errors import ConfigError

Weights = Mapping[str, torch.Tensor]  # DenseMLP state {name: [E, ...]}


def hidden_layers(weights: Weights) -> list[tuple[str, str, str]]:
    """(incoming weight, bias, outgoing weight) names of each hidden layer, input side first."""
    if not {"W_in", "b_in", "W_out", "b_out"} <= set(weights):
        raise ConfigError(
            "weights: not a dense MLP's (expected W_in, b_in, W_hidden.*, W_out, b_out; got "
            f"{', '.join(sorted(weights))})"
        )
    n = 1 + sum(name.startswith("W_hidden.") for name in weights)
    layers = []
    for i in range(n):
        incoming, bias = ("W_in", "b_in") if i == 0 else (f"W_hidden.{i - 1}", f"b_hidden.{i - 1}")
        layers.append((incoming, bias, f"W_hidden.{i}" if i < n - 1 else "W_out"))
    return layers


def widths(weights: Weights) -> list[int]:
    """Width of each hidden layer."""
    return [weights[bias].shape[1] for _, bias, _ in hidden_layers(weights)]


def _layer(weights: Weights, layer: int) -> tuple[str, str, str]:
    layers = hidden_layers(weights)
    if not 0 <= layer < len(layers):
        raise ConfigError(
            f"layer: {layer} is not a hidden layer (this network has {len(layers)}: 0 … "
            f"{len(layers) - 1})"
        )
    return layers[layer]


def permute_hidden(weights: Weights, layer: int, perm: torch.Tensor) -> dict[str, torch.Tensor]:
    """The same networks with the units of hidden layer `layer` reordered: new unit j is old
    unit perm[j]. `perm` is one permutation [width] for every member or one per member [E,
    width]. Every output is unchanged."""
    incoming, bias, outgoing = _layer(weights, layer)
    e, width = weights[bias].shape
    perm = torch.as_tensor(perm, dtype=torch.long, device=weights[bias].device)
    perm = perm.expand(e, -1) if perm.dim() == 1 else perm  # [E, width]
    if perm.shape != (e, width) or not torch.equal(
        perm.sort(dim=1).values, torch.arange(width, device=perm.device).expand(e, -1)
    ):
        raise ConfigError(
            f"perm: expected a permutation of 0 … {width - 1} (per member: [{e}, {width}]), "
            f"got shape {tuple(perm.shape)}"
        )
    out = dict(weights)
    out[incoming] = torch.take_along_dim(weights[incoming], perm[:, None, :], dim=2)
    out[bias] = torch.take_along_dim(weights[bias], perm, dim=1)
    out[outgoing] = torch.take_along_dim(weights[outgoing], perm[:, :, None], dim=1)
    return out


def split_neuron(
    weights: Weights, layer: int, unit: int, fraction: float = 0.5
) -> dict[str, torch.Tensor]:
    """The same networks with unit `unit` of hidden layer `layer` split in two, in every member:
    the copy is appended as the layer's last unit with the same incoming weights and bias; the
    original keeps `fraction` of the outgoing weights and the copy the rest. The layer is one
    unit wider; every output is unchanged up to rounding."""
    incoming, bias, outgoing = _layer(weights, layer)
    width = weights[bias].shape[1]
    if not 0 <= unit < width:
        raise ConfigError(f"unit: {unit} is not a unit of layer {layer} (0 … {width - 1})")
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(
            f"fraction: the original unit's share of its outputs, in [0, 1], got {fraction}"
        )
    row = weights[outgoing][:, unit : unit + 1]  # [E, 1, fan_out]
    out = dict(weights)
    out[incoming] = torch.cat([weights[incoming], weights[incoming][:, :, unit : unit + 1]], dim=2)
    out[bias] = torch.cat([weights[bias], weights[bias][:, unit : unit + 1]], dim=1)
    kept = weights[outgoing].clone()
    kept[:, unit : unit + 1] = fraction * row
    out[outgoing] = torch.cat([kept, (1 - fraction) * row], dim=1)  # [E, width + 1, fan_out]
    return out


def weight_matching(
    a: Weights, b: Weights, max_iter: int = 100, seed: int = 0
) -> tuple[dict[str, torch.Tensor], list[torch.Tensor]]:
    """Git Re-Basin weight matching, member by member: B's hidden units permuted to align with
    A's. Returns (B permuted, the permutations [E, width] of each hidden layer, new unit j of
    layer l = B's unit perms[l][e, j]). `seed` orders the layers visited in each sweep, as the
    paper's random order; sweeps stop when none changes or after `max_iter`."""
    layers = hidden_layers(a)
    if widths(a) != widths(b) or hidden_layers(b) != layers:
        raise ConfigError(f"weights: A has hidden widths {widths(a)}, B {widths(b)}")
    members = a["b_in"].shape[0]
    rng = np.random.default_rng(seed)
    perms = [[] for _ in layers]
    for e in range(members):
        member_a = {n: w[e].detach().double().cpu().numpy() for n, w in a.items()}
        member_b = {n: w[e].detach().double().cpu().numpy() for n, w in b.items()}
        for layer, p in enumerate(_match_member(member_a, member_b, layers, max_iter, rng)):
            perms[layer].append(torch.as_tensor(p))
    stacked = [torch.stack(p) for p in perms]  # each [E, width]
    aligned = dict(b)
    for layer, perm in enumerate(stacked):
        aligned = permute_hidden(aligned, layer, perm)
    return aligned, stacked


def _match_member(
    a: dict[str, np.ndarray],
    b: dict[str, np.ndarray],
    layers: Sequence[tuple[str, str, str]],
    max_iter: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Coordinate descent over the layers' permutations of one member (Algorithm 1)."""
    perms = [np.arange(a[bias].shape[0]) for _, bias, _ in layers]
    for _ in range(max_iter):
        changed = False
        for layer in rng.permutation(len(layers)):
            incoming, bias, outgoing = layers[layer]
            b_in = b[incoming] if layer == 0 else b[incoming][perms[layer - 1]]  # rows by P_{l−1}
            last = layer == len(layers) - 1
            b_out = b[outgoing] if last else b[outgoing][:, perms[layer + 1]]  # columns by P_{l+1}
            # score[i, j]: similarity of A's unit i with B's unit j over every weight touching them
            score = a[incoming].T @ b_in + np.outer(a[bias], b[bias]) + a[outgoing] @ b_out.T
            _, best = linear_sum_assignment(score, maximize=True)
            units = np.arange(len(best))
            if score[units, best].sum() > score[units, perms[layer]].sum() + 1e-12:
                perms[layer], changed = best, True
        if not changed:
            break
    return perms
