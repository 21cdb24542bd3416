"""Hidden progress on sparse parity (Barak et al. 2022, "Hidden progress in deep learning", §4):
while the loss sits at chance, SGD steadily amplifies the first-layer weights on the k relevant
input bits S; the loss drops only once they dominate. Measured on the first layer W_in [n, width]
of the dense MLP, with m_i = ‖W_in[i, :]‖² the squared weight norm leaving input i:

- `hidden/share` = Σ_{i∈S} m_i / Σ_i m_i: the share of the first layer's squared norm on the
  relevant bits (k/n in expectation at a random init, → 1 for a network that reads only S);
- `hidden/ratio` = mean_{i∈S} m_i / mean_{i∉S} m_i (1 at init in expectation).

Recorded for parity tasks with the dense model (`--measures hidden-progress`).
"""

from __future__ import annotations

import torch

from phenolab.measures import Context, Values, measure


def supports(cfg) -> str | None:
    if cfg.task.op != "parity" or cfg.model.model != "dense":
        return "hidden-progress needs op=parity and model=dense"
    return None


def relevant_mass(w_in: torch.Tensor, relevant: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """First layer [E, n, width], relevant inputs [E, k] → (share [E], ratio [E]) as above."""
    mass = w_in.double().pow(2).sum(-1)  # [E, n]
    on = mass.gather(1, relevant)  # [E, k]
    total = mass.sum(1)  # [E]
    off_count = mass.shape[1] - relevant.shape[1]
    share = on.sum(1) / total.clamp_min(1e-300)
    if off_count == 0:  # every input is relevant: the ratio is undefined
        return share, torch.full_like(share, float("nan"))
    off_mean = (total - on.sum(1)) / off_count
    return share, on.mean(1) / off_mean.clamp_min(1e-300)


@measure("hidden-progress", requires=supports)
def hidden_progress(ctx: Context) -> Values:
    """First-layer weight mass on the relevant bits of sparse parity (Barak et al. 2022)."""
    share, ratio = relevant_mass(
        ctx.model.W_in.detach(), ctx.data.relevant.to(ctx.model.W_in.device)
    )
    return {"hidden/share": share.float(), "hidden/ratio": ratio.float()}
