"""Continuous views of the same predictions (Schaeffer et al. 2023, "Are emergent abilities of
large language models a mirage?"): the log-probability of the correct answer and the Brier
score change smoothly where accuracy jumps; and the softmax-collapse fraction of Prieto et al.
(2025, "Grokking at the edge of numerical stability"): the share of training examples whose
loss is exactly 0 in the working precision, which then give no gradient."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phenolab.measures import Context, Values, measure
from phenolab.train.losses import member_mean


@measure("continuous")
def continuous(ctx: Context) -> Values:
    """`{split}/logprob` = mean log p(correct); `{split}/brier` = mean Σ_c (p_c − 1[c = y])²."""
    out: Values = {}
    for split, x, y, mask in ctx.data.splits():
        logp = F.log_softmax(ctx.model(x).double(), dim=-1)  # [E, N, C]
        correct = logp.gather(-1, y[..., None]).squeeze(-1)  # [E, N]
        onehot = F.one_hot(y, logp.shape[-1]).to(logp.dtype)
        brier = (logp.exp() - onehot).pow(2).sum(-1)  # [E, N]
        out[f"{split}/logprob"] = member_mean(correct, mask).float()
        out[f"{split}/brier"] = member_mean(brier, mask).float()
    return out


@measure("collapse")
def softmax_collapse(ctx: Context) -> Values:
    """`train/collapse`: share of training examples whose cross-entropy is exactly 0 when
    computed in the logits' own precision (float32 unless training says otherwise)."""
    d = ctx.data
    logits = ctx.model(d.x_train)  # [E, N, C]
    e, n, c = logits.shape
    loss = F.cross_entropy(logits.reshape(e * n, c), d.y_train.reshape(-1), reduction="none")
    return {"train/collapse": member_mean((loss.view(e, n) == 0).to(torch.float32), d.train_mask)}
