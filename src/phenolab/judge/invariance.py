"""Function-preserving transformations of the embedding MLP (models/mlp.py), and how much each
candidate changes under them. Test accuracy must not change (checked, and reported); an
explanation of the function should not change either.

- permute: relabel the hidden units (columns of W_in and b_in, rows of W_out) — exact;
- rescale: ReLU layer × c and the next layer × 1/c (W_in, b_in × c; W_out ÷ c) — exact up to
  rounding, by ReLU's positive homogeneity;
- split: one hidden unit split in two (Net2Net): both copies keep its incoming weights, the
  outgoing weights are shared as f·w and (1 − f)·w, f = 0.3 — one unit wider, same function.
The dense MLP's own symmetries live in models/symmetry.py; these are the embedding MLP's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from phenolab.config import RunConfig
from phenolab.judge.candidates import Candidate
from phenolab.judge.evaluate import Rebuilt
from phenolab.models import build_model

TRANSFORMS = ("permute", "rescale", "split")
SPLIT_SHARE = 0.3


def transformed(weights: dict[str, torch.Tensor], how: str, c: float, seed: int = 0) -> dict:
    """The embedding MLP's stacked weights {name: [E, ...]} after transformation `how`."""
    w = {k: v.clone() for k, v in weights.items()}
    width = w["b_in"].shape[1]
    if how == "permute":
        perm = torch.randperm(width, generator=torch.Generator().manual_seed(seed))
        w["W_in"], w["b_in"], w["W_out"] = (
            w["W_in"][..., perm],
            w["b_in"][..., perm],
            w["W_out"][:, perm],
        )
    elif how == "rescale":
        w["W_in"], w["b_in"], w["W_out"] = w["W_in"] * c, w["b_in"] * c, w["W_out"] / c
    elif how == "split":
        unit = 0
        w["W_in"] = torch.cat([w["W_in"], w["W_in"][..., unit : unit + 1]], dim=-1)
        w["b_in"] = torch.cat([w["b_in"], w["b_in"][..., unit : unit + 1]], dim=-1)
        out = w["W_out"][:, unit : unit + 1]
        w["W_out"] = torch.cat([w["W_out"], (1 - SPLIT_SHARE) * out], dim=1)
        w["W_out"][:, unit] = SPLIT_SHARE * out[:, 0]
    else:
        raise ValueError(how)
    return w


def supported(cfg: RunConfig) -> bool:
    return cfg.model.model == "mlp" and cfg.model.activation == "relu" and cfg.model.embed_rank == 0


def invariance(
    rebuilt: Rebuilt, cfg: RunConfig, candidates: list[Candidate], c: float
) -> dict[str, dict]:
    """{transform: {"acc_before", "acc_after", "change": {candidate: |Δ| / |value|}}} for the
    kept weights loaded in `rebuilt` (one member: the final step), test accuracy on the real
    test split (the candidates still see the label-blind data)."""
    from phenolab.config import task_data

    data = task_data([cfg])
    before_w = {k: v.detach().clone() for k, v in rebuilt.model.state_dict().items()}
    before = _values(rebuilt.model, rebuilt, candidates)
    acc_before = _test_acc(rebuilt.model, data)
    out = {}
    for how in TRANSFORMS:
        new = transformed(before_w, how, c)
        model = rebuilt.model
        if how == "split":
            wider = dataclasses.replace(cfg.model, width=cfg.model.width + 1)
            model = build_model(
                wider, data.vocab, data.n_classes, data.x_train.shape[2], [0], init_scales=[1.0]
            )
        model.load_state_dict(new)
        # the whole run transformed alike: movement is measured from the transformed init
        after = _values(model, rebuilt, candidates, transformed(rebuilt.ctx.init, how, c))
        out[how] = {
            "acc_before": acc_before,
            "acc_after": _test_acc(model, data),
            "change": {
                k: float(abs(after[k] - before[k]) / max(abs(before[k]), 1e-12))
                for k in before
                if np.isfinite(before[k]) and np.isfinite(after[k])
            },
        }
        rebuilt.model.load_state_dict(before_w)
    return out


def _values(model, rebuilt: Rebuilt, candidates, init=None) -> dict[str, float]:
    from phenolab.measures import Context

    ctx = Context(model, rebuilt.ctx.data, rebuilt.ctx.loss_fn, init or rebuilt.ctx.init)
    out = {}
    with torch.no_grad():
        cache: dict[int, dict] = {}
        for cand in candidates:
            if cand.key == "null/steps" or cand.derive:
                continue  # not a function of the weights at one step
            if id(cand.fn) not in cache:
                cache[id(cand.fn)] = cand.fn(ctx)
            raw = cache[id(cand.fn)]
            value = next(iter(raw.values())) if not cand.key else raw[cand.key]
            out[cand.id] = float(torch.as_tensor(value).double()[0])
    return out


def _test_acc(model, data) -> float:
    with torch.no_grad():
        logits = model(data.x_test)
    return float((logits.argmax(-1) == data.y_test).float().mean())
