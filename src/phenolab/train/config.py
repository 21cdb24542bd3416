"""Training hyperparameters."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from phenolab import param
from phenolab.errors import ConfigError
from phenolab.train.losses import LOSSES
from phenolab.train.optim import OPTIMIZERS

LOSS_DTYPES = ("float32", "float64")
# Lower precision is an option, never the default: grokking is sensitive to floating point
# (Prieto et al. 2025). The loss itself is always computed in float32 or float64.
PRECISIONS = ("fp32", "tf32", "bf16")
RUN_ID = re.compile(r"[0-9a-f]{12}")  # the form of RunConfig.run_id()
PRUNE_SCOPES = ("global", "layer")  # interventions/masks.py SCOPES
MASK_KINDS = ("magnitude", "random", "norm-matched")
TICKET_FIELDS = ("sparsity", "prune_scope", "mask_kind", "rewind", "reinit")  # need ticket_from


@dataclass(frozen=True)
class TrainConfig:
    """Optimizer, loss, schedule and budget."""

    optimizer: str = param(
        "adamw",
        "optimizer: adamw, sgd, adam (L2 in the gradient), muon (orthogonalised momentum on"
        " hidden matrices, AdamW on the rest; Jordan et al. 2024) or lstsq (model=rf: the head"
        " solved in closed form, min-norm least squares or ridge with λ = wd)",
    )
    lr: float = param(1e-2, "learning rate (after warmup)")
    wd: float = param(
        1.0, "weight decay (decoupled for adamw, L2 for sgd and adam); lstsq: ridge λ (0: min-norm)"
    )
    betas: tuple[float, float] = param(
        (0.9, 0.98), "adamw, adam, muon's AdamW part: (beta1, beta2)"
    )
    eps: float = param(1e-8, "adamw, adam, muon's AdamW part: epsilon")
    momentum: float = param(0.0, "sgd: momentum")
    muon_momentum: float = param(0.95, "muon: Nesterov momentum μ of the orthogonalised update")
    muon_lr: float = param(
        0.0,
        "muon: learning rate of the orthogonalised update of the hidden matrices (after warmup;"
        " the reference uses 0.02); 0: the same as lr. The AdamW part always uses lr",
    )
    warmup: int = param(10, "linear learning-rate warmup over this many steps (0: none)")
    batch_size: int = param(0, "minibatch size; 0 means full batch")
    steps: int = param(3000, "optimizer steps")
    loss: str = param(
        "cross_entropy",
        "loss: cross_entropy, mse (on one-hot targets), hinge (margin) or stablemax "
        "(cross-entropy through StableMax, Prieto et al. 2025)",
    )
    loss_dtype: str = param(
        "float32", "dtype of the loss computation: float32 or float64 (as in Nanda et al.'s code)"
    )
    precision: str = param(
        "fp32", "matmul precision: fp32, tf32 (TF32 matmuls, CUDA only) or bf16 (autocast)"
    )
    seed: int = param(
        0, "seed of the initialisation and (unless order_seed) of the minibatch order"
    )
    order_seed: int | None = param(
        None,
        "seed of the minibatch order (default: seed): copies of one network that differ only"
        " here see the same data in different orders (instability analysis, Frankle et al. 2020)",
    )
    measures: tuple[str, ...] = param(
        (), "progress measures recorded besides performance and norm, e.g. fourier,continuous"
    )
    eval_every: int = param(25, "evaluate every this many steps (denser, log-spaced, early on)")
    init_from: str | None = param(
        None,
        "run id of a finished run whose final weights initialise this one (a continuation;"
        " the optimizer starts afresh)",
    )
    ticket_from: str | None = param(
        None,
        "run id of a finished run whose final weights define this run's pruning mask and to"
        " whose start (or step, see rewind) it is rewound: a lottery ticket (tickets.py)",
    )
    sparsity: float = param(
        0.0,
        "with ticket_from: fraction of the prunable weights (weight matrices, embeddings) pruned,"
        " in [0, 1); 0: no mask (a dense rewind)",
    )
    prune_scope: str = param(
        "global",
        "with ticket_from: rank |w| over all prunable weights (global) or in each tensor (layer)",
    )
    mask_kind: str = param(
        "magnitude",
        "with ticket_from: magnitude (keep the largest final |w|), random (the control: as many"
        " weights kept in each tensor, at random positions) or norm-matched (the control of"
        " Minegishi et al.: no mask, the start scaled to the L2 norm the magnitude mask leaves)",
    )
    rewind: str = param(
        "init",
        "with ticket_from: start from the weights the parent started from (init) or from its"
        " weights after step k (kept by the parent's keep_checkpoint_at)",
    )
    reinit: bool = param(
        False, "with ticket_from: a fresh initialisation instead of rewinding (the re-init control)"
    )
    keep_checkpoint_at: tuple[int, ...] = param(
        (), "steps at which to keep this run's weights, for tickets rewound to them (rewind=k)"
    )
    embed_from: str | None = param(
        None,
        "run id of a finished run whose final token embedding initialises this one's (W_E, or"
        " with embed_rank > 0 its factor A: GrokTransfer); the rest starts from this run's init",
    )
    interventions: tuple[str, ...] = param(
        (),
        "interventions on training, each ID[:name=value,...], applied in order (list them with"
        " `phenolab interventions`)",
    )

    def __post_init__(self) -> None:
        from phenolab.interventions.spec import canonical_specs

        # one spelling per intervention (defaults left out), so equal runs share one id
        object.__setattr__(self, "interventions", canonical_specs(self.interventions))
        OPTIMIZERS.get(self.optimizer)  # a ConfigError naming the valid ones
        if self.loss_dtype not in LOSS_DTYPES:
            raise ConfigError(
                f"loss_dtype: unknown {self.loss_dtype!r} (valid: {', '.join(LOSS_DTYPES)})"
            )
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"precision: unknown {self.precision!r} (valid: {', '.join(PRECISIONS)})"
            )
        LOSSES.get(self.loss)
        if not self.lr > 0:
            raise ConfigError(f"lr: must be positive, got {self.lr}")
        if self.wd < 0:
            raise ConfigError(f"wd: must be non-negative, got {self.wd}")
        if not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"betas: each must be in [0, 1), got {self.betas}")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum: must be in [0, 1), got {self.momentum}")
        if self.muon_lr < 0:
            raise ConfigError(f"muon_lr: must be non-negative (0: lr), got {self.muon_lr}")
        if self.muon_lr and self.optimizer != "muon":
            raise ConfigError(f"muon_lr: only optimizer=muon uses it, not {self.optimizer}")
        if not 0 <= self.muon_momentum < 1:
            raise ConfigError(f"muon_momentum: must be in [0, 1), got {self.muon_momentum}")
        for name in ("warmup", "batch_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}: must be non-negative, got {getattr(self, name)}")
        if self.init_from is not None and not RUN_ID.fullmatch(self.init_from):
            raise ConfigError(
                f"init_from: expected a full 12-character run id (hex), got {self.init_from!r}"
            )
        if self.embed_from is not None:
            if not RUN_ID.fullmatch(self.embed_from):
                raise ConfigError(
                    "embed_from: expected a full 12-character run id (hex), got "
                    f"{self.embed_from!r}"
                )
            other = "init_from" if self.init_from is not None else None
            other = "ticket_from" if self.ticket_from is not None else other
            if other:
                raise ConfigError(
                    f"embed_from: a run starting from {other}'s weights takes its embedding"
                    f" from there; give one of {other} and embed_from"
                )
        if self.order_seed is not None and self.batch_size == 0:
            raise ConfigError(
                "order_seed: full-batch training (batch_size 0) has no minibatch order to seed;"
                " give a batch_size"
            )
        for name in ("steps", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be at least 1, got {getattr(self, name)}")
        self._check_ticket()

    def _check_ticket(self) -> None:
        """The ticket fields (tickets.py) hold valid values. They may be set without ticket_from
        (a catalog arm gets its parent's id when its runs are made): the runner refuses to
        start such a run."""
        keep = tuple(sorted(set(self.keep_checkpoint_at)))
        object.__setattr__(self, "keep_checkpoint_at", keep)
        if keep and not 0 <= keep[0] <= keep[-1] <= self.steps:
            raise ConfigError(f"keep_checkpoint_at: steps must be in [0, {self.steps}], got {keep}")
        rewind = str(self.rewind).strip().lower()
        if rewind != "init":
            if not rewind.isdigit():
                raise ConfigError(f"rewind: expected init or a step k ≥ 0, got {self.rewind!r}")
            rewind = str(int(rewind))  # one spelling per step, so equal runs share one id
        object.__setattr__(self, "rewind", rewind)
        if not 0 <= self.sparsity < 1:
            raise ConfigError(f"sparsity: must be in [0, 1), got {self.sparsity}")
        if self.prune_scope not in PRUNE_SCOPES:
            raise ConfigError(
                f"prune_scope: unknown {self.prune_scope!r} (valid: {', '.join(PRUNE_SCOPES)})"
            )
        if self.mask_kind not in MASK_KINDS:
            raise ConfigError(
                f"mask_kind: unknown {self.mask_kind!r} (valid: {', '.join(MASK_KINDS)})"
            )
        if self.mask_kind == "norm-matched" and self.sparsity == 0:
            raise ConfigError(
                "mask_kind: norm-matched scales to the norm a mask at `sparsity` leaves; give a"
                " sparsity > 0"
            )
        if self.ticket_from is None:
            return  # ticket fields without a parent: an error when the run starts (tickets.py)
        if not RUN_ID.fullmatch(self.ticket_from):
            raise ConfigError(
                f"ticket_from: expected a full 12-character run id (hex), got {self.ticket_from!r}"
            )
        if self.init_from is not None:
            raise ConfigError(
                "init_from: a ticket (ticket_from) starts from its parent's rewound weights;"
                " give one of init_from and ticket_from"
            )
        if self.reinit and self.rewind != "init":
            raise ConfigError(f"rewind: {self.rewind} contradicts reinit (a fresh initialisation)")


def ticket_fields_without_parent(cfg: TrainConfig) -> list[str]:
    """Ticket fields set (not at their default) although ticket_from names no parent."""
    if cfg.ticket_from is not None:
        return []
    return [
        f.name
        for f in dataclasses.fields(cfg)
        if f.name in TICKET_FIELDS and getattr(cfg, f.name) != f.default
    ]
