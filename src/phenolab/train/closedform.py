"""The closed-form "optimizer" (`optimizer=lstsq`): the linear head of a random-features model
solved in one step, batched over the members of an ensemble, in float64.

With features Φ [n, p] of the training inputs and targets Y [n, k], the ridge solution with
λ = the member's `wd` is

    β̂ = argmin_β ‖Φβ − Y‖² + λ‖β‖² = V diag(σ_i / (σ_i² + λ)) Uᵀ Y,   Φ = U diag(σ) Vᵀ (thin SVD),

and for λ = 0 the same formula is the minimum-norm least-squares solution Φ⁺Y (the
pseudo-inverse; directions with σ_i ≤ max(n, p)·ε·σ_max count as zero, NumPy's lstsq rule): the
ordinary least-squares fit when p < n and Φ has full rank, the interpolant of smallest norm when
p > n — the predictor of the double-descent papers (Belkin, Hsu, Ma & Mandal 2019; Hastie,
Montanari, Rosset & Tibshirani 2022). The objective is scikit-learn's `Ridge(alpha=λ,
fit_intercept=False)`.

Both are linear smoothers: a prediction is ŷ(x) = ŝ(x)ᵀY with weights ŝ(x) = U diag(σ_i / (σ_i² +
λ)) Vᵀ φ(x) ∈ ℝⁿ. Effective numbers of parameters (recorded with every solve):
- `peff/trace` = tr(S) = Σ σ_i² / (σ_i² + λ), the classical degrees of freedom of the hat matrix
  S (rows ŝ(x_i)ᵀ on the training inputs; Hastie, Tibshirani & Friedman, ESL §7.6): the rank of
  Φ for λ = 0, so at most n.
- `peff/train`, `peff/test`: Curth, Jeffares & van der Schaar (2023), "A U-turn on double
  descent: rethinking parameter counting in statistical learning", NeurIPS 2023, §4: the
  generalized effective number of parameters a smoother uses on a set of inputs I₀,
  p⁰ = n / |I₀| · Σ_{j∈I₀} ‖ŝ(x_j)‖². On the training inputs it is tr(SSᵀ) (= p for OLS, n for
  an interpolant); on unseen test inputs it measures how much the predictions lean on single
  training labels, and for min-norm least squares it falls again once p grows past n.
"""

from __future__ import annotations

import contextlib
import dataclasses

import torch

from phenolab.errors import ConfigError
from phenolab.tasks import n_elements
from phenolab.tasks.data import TaskData
from phenolab.train.losses import accuracy, member_mean, mse

STEP = 1  # a solve is one step: its metrics are recorded at step 1
SMALL = 2**20  # entries of Φ [n, p] per member up to which a solve runs on one CPU thread
_EPS = torch.finfo(torch.float64).eps


@dataclasses.dataclass(frozen=True)
class Solution:
    """β̂ and the thin SVD of Φ it came from, per member (all float64)."""

    beta: torch.Tensor  # [E, p, k]
    u: torch.Tensor  # [E, n, r], r = min(n, p)
    vh: torch.Tensor  # [E, r, p]
    gain: torch.Tensor  # [E, r]: σ_i / (σ_i² + λ), 0 for directions below the rank cutoff
    sigma: torch.Tensor  # [E, r]

    def smoother_sq_norms(self, phi: torch.Tensor) -> torch.Tensor:
        """‖ŝ(x)‖² [E, m] of inputs with features φ(x) [E, m, p]: Σ_i gain_i² (v_iᵀφ(x))²."""
        along = torch.bmm(phi, self.vh.transpose(1, 2))  # [E, m, r]: v_iᵀ φ(x)
        return (along * self.gain[:, None, :]).pow(2).sum(dim=2)

    def trace(self) -> torch.Tensor:
        """tr(S) = Σ σ_i² / (σ_i² + λ) [E]: the hat matrix's degrees of freedom."""
        return (self.sigma * self.gain).sum(dim=1)


def ridge(phi: torch.Tensor, y: torch.Tensor, lam: torch.Tensor) -> Solution:
    """argmin ‖Φβ − Y‖² + λ‖β‖² per member — for λ = 0 the minimum-norm least-squares solution
    Φ⁺Y. phi [E, n, p], y [E, n, k], lam [E] ≥ 0 (any float dtype; solved in float64)."""
    phi, y = phi.double(), y.double()
    lam = torch.as_tensor(lam, dtype=torch.float64, device=phi.device).reshape(-1, 1)  # [E, 1]
    u, sigma, vh = torch.linalg.svd(phi, full_matrices=False)  # [E,n,r], [E,r], [E,r,p]
    n, p = phi.shape[1], phi.shape[2]
    cutoff = max(n, p) * _EPS * sigma[:, :1]  # [E, 1]: NumPy's lstsq / pinv rank rule
    gain = torch.where(sigma > cutoff, sigma / (sigma.square() + lam), torch.zeros_like(sigma))
    coeffs = gain[:, :, None] * torch.bmm(u.transpose(1, 2), y)  # [E, r, k]
    beta = torch.bmm(vh.transpose(1, 2), coeffs)  # [E, p, k]
    return Solution(beta, u, vh, gain, sigma)


@contextlib.contextmanager
def _threads_for(entries: int):
    """One CPU thread for small problems (≤ SMALL entries of Φ per member): a batched SVD of
    100 × 2,000 matrices took 0.02–0.2 s on one thread and 1–4 s on two on this project's
    loaded 2-core machine (OpenMP synchronisation, no gain at that size)."""
    before = torch.get_num_threads()
    if entries <= SMALL:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def solve_head(model: torch.nn.Module, data: TaskData, lam: torch.Tensor) -> dict:
    """`_solve_head` with one CPU thread when the problem is small (see _threads_for)."""
    with _threads_for(data.x_train.shape[1] * model.W_out.shape[1]):
        return _solve_head(model, data, lam)


def _solve_head(model: torch.nn.Module, data: TaskData, lam: torch.Tensor) -> dict:
    """Solve the head W_out of a random-features model on the training set (ridge λ [E]; 0:
    min-norm), write it into the model and return the metrics {name: [E] float64}: loss (mean
    squared error; for classes the loss `mse` of the loop, on one-hot targets) and, for classes,
    accuracy on every split; the head's norm; effective numbers of parameters."""
    phi = model.features(data.x_train, torch.float64)  # [E, n, p]
    if data.regression:
        targets = data.y_train.double()[..., None]  # [E, n, 1]
    else:
        targets = torch.nn.functional.one_hot(data.y_train, data.n_classes).double()  # [E, n, C]
    if data.train_mask is not None:  # padded rows: zero rows of Φ and Y change no solution
        keep = data.train_mask[..., None].double()
        phi, targets = phi * keep, targets * keep
    sol = ridge(phi, targets, lam)
    with torch.no_grad():
        model.W_out.copy_(sol.beta.to(model.W_out.dtype))
    sizes = torch.tensor(data.train_sizes(), dtype=torch.float64, device=phi.device)  # [E] n
    out = {"norm/total": sol.beta.flatten(1).norm(dim=1), "peff/trace": sol.trace()}
    for split, xs, ys, mask in data.splits():
        feats = model.features(xs, torch.float64)  # [E, m, p]
        pred = torch.bmm(feats, sol.beta)  # [E, m, k]
        if data.regression:
            out[f"{split}/loss"] = member_mean((pred[..., 0] - ys.double()).square(), mask)
        else:
            out[f"{split}/loss"] = mse(pred, ys, mask)
            out[f"{split}/acc"] = accuracy(pred, ys, mask)
        if split in ("train", "test"):  # p⁰ = n · mean_j ‖ŝ(x_j)‖²
            out[f"peff/{split}"] = sizes * member_mean(sol.smoother_sq_norms(feats), mask)
    return out


# Train fields a closed-form solve does not use: they must keep their defaults, so that one
# solve has one run id (and a value there is not silently ignored).
UNUSED = (
    "lr",
    "warmup",
    "betas",
    "eps",
    "momentum",
    "muon_momentum",
    "batch_size",
    "steps",
    "eval_every",
    "precision",
    "measures",
    "interventions",
    "init_from",
    "ticket_from",
    "keep_checkpoint_at",
    "sparsity",
    "prune_scope",
    "mask_kind",
    "rewind",
    "reinit",
)


def check(cfg) -> None:
    """Raise a ConfigError for a run config (RunConfig) that pairs the closed-form solver with
    what it cannot solve, or gives a regression task to the training loop."""
    t = cfg.train
    if t.optimizer != "lstsq":
        if n_elements(cfg.task.op, cfg.task.p) == 0:  # real-valued targets
            raise ConfigError(
                f"optimizer: op={cfg.task.op} has real-valued targets, which the training loop"
                f" does not fit; solve it in closed form with optimizer=lstsq (model=rf)"
            )
        return
    if cfg.model.model != "rf":
        raise ConfigError(
            f"model: optimizer=lstsq solves the linear head of a random-features model; use "
            f"model=rf, not {cfg.model.model}"
        )
    if t.loss != "mse":
        raise ConfigError(
            f"loss: optimizer=lstsq minimizes the squared error: use loss=mse, not {t.loss}"
        )
    if cfg.task.n_train < 1:
        raise ConfigError("n_train: optimizer=lstsq needs a fixed training set (n_train ≥ 1)")
    for section, f in ((s, f) for s in (t, cfg.start) for f in dataclasses.fields(s)):
        if f.name in UNUSED and getattr(section, f.name) != f.default:
            raise ConfigError(
                f"{f.name}: not used by optimizer=lstsq (one closed-form solve); leave it at "
                f"its default"
            )
