"""Training hyperparameters."""

from __future__ import annotations

from dataclasses import dataclass

from phenolab import param
from phenolab.errors import ConfigError
from phenolab.train.losses import LOSSES
from phenolab.train.optim import OPTIMIZERS

LOSS_DTYPES = ("float32", "float64")
# Lower precision is an option, never the default: grokking is sensitive to floating point
# (Prieto et al. 2025). The loss itself is always computed in float32 or float64.
PRECISIONS = ("fp32", "tf32", "bf16")


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
    warmup_offset: int = param(
        0,
        "steps the warmup is delayed by: step k runs at lr·min(1, (k − offset)/warmup), k from 1"
        " (1: torch's LambdaLR schedule, whose first step has lr 0, as in the Grokfast code)",
    )
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
    interventions: tuple[str, ...] = param(
        (),
        "interventions on training, each ID[:name=value,...], applied in order (list them with"
        " `phenolab interventions`)",
    )

    def __post_init__(self) -> None:
        # `interventions` are parsed and put in canonical form by the run config
        # (phenolab.config.RunConfig), which sits above both training and the interventions
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
        if self.warmup_offset and not self.warmup:
            raise ConfigError("warmup_offset: delays a warmup; set warmup too")
        for name in ("warmup", "warmup_offset", "batch_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}: must be non-negative, got {getattr(self, name)}")
        if self.order_seed is not None and self.batch_size == 0:
            raise ConfigError(
                "order_seed: full-batch training (batch_size 0) has no minibatch order to seed;"
                " give a batch_size"
            )
        for name in ("steps", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be at least 1, got {getattr(self, name)}")
