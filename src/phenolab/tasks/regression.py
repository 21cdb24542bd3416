"""Regression tasks: real-valued targets, for the double-descent sweeps of random-features models
solved in closed form (`train/closedform.py`).

- `linear`: x ~ N(0, I_d), y = x·β + σε, with a teacher β ~ N(0, I_d / d) drawn once per member
  (so Var(x·β) ≈ 1 and the signal-to-noise ratio is 1/σ²). The isotropic model of Hastie,
  Montanari, Rosset & Tibshirani (2022), "Surprises in high-dimensional ridgeless least squares
  interpolation", and of Belkin, Hsu & Xu (2020), "Two models of double descent for weak
  features", where a model that sees a random subset of p of the d coordinates has its test
  error peak at p = n and descend again beyond it.
- `nonlinear`: the same inputs and teacher direction, y = tanh(2·x·β) + σε: a single-index
  target no linear model of x fits, for random ReLU features.
- `diabetes`: scikit-learn's bundled diabetes set (Efron, Hastie, Johnstone & Tibshirani 2004,
  "Least angle regression": 442 patients, 10 baseline variables, disease progression after one
  year), shipped inside scikit-learn (nothing is downloaded). Split at random into n_train /
  n_val / n_test; inputs and target standardized with the training part's mean and std; σ > 0
  adds noise to its targets too.

Everything is seeded by the member's data seed (`split_seed`, default the run seed): the
teacher, the samples and the split. Targets are floats; `TaskData.n_classes` is 0.
"""

from __future__ import annotations

import functools

import torch

from phenolab.errors import ConfigError
from phenolab.tasks.base import FEATURES, TASKS, Dims, Task
from phenolab.tasks.data import TaskData, data_seed, pad_members

OPS = ("linear", "nonlinear", "diabetes")
SYNTHETIC = ("linear", "nonlinear")
FIELDS = ("n_features", "n_val", "noise_std")  # used by regression tasks only
N_CLASSES = 0  # TaskData.n_classes of a regression task: real-valued targets
DIABETES_SAMPLES, DIABETES_FEATURES = 442, 10
# offsets of the data seed for each stream, so that teacher, train, validation and test differ
_TEACHER, _TRAIN, _VAL, _TEST, _SPLIT = range(5)


def _gen(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 8 + stream)


def input_dim(cfg) -> int:
    """The dimension d of a regression task's inputs."""
    return DIABETES_FEATURES if cfg.op == "diabetes" else cfg.n_features


def check(cfg) -> None:
    """Raise a ConfigError naming the first regression field `cfg` (a TaskConfig) sets wrong."""
    if cfg.n_train < 1:
        raise ConfigError(
            f"n_train: op={cfg.op} needs a training set of at least 1 sample, got {cfg.n_train}"
        )
    if cfg.n_test < 1:
        raise ConfigError(f"n_test: must be at least 1, got {cfg.n_test}")
    if cfg.n_val < 0:
        raise ConfigError(f"n_val: must be ≥ 0 (0: no validation set), got {cfg.n_val}")
    if not cfg.noise_std >= 0:
        raise ConfigError(f"noise_std: must be ≥ 0, got {cfg.noise_std}")
    if cfg.op in SYNTHETIC and cfg.n_features < 1:
        raise ConfigError(f"n_features: must be at least 1, got {cfg.n_features}")
    if cfg.op == "diabetes":
        if cfg.n_train < 2:
            raise ConfigError(
                f"n_train: diabetes is standardized with its training part's statistics, which "
                f"needs at least 2 samples, got {cfg.n_train}"
            )
        if cfg.n_features != type(cfg).n_features:
            raise ConfigError(
                f"n_features: diabetes has its own {DIABETES_FEATURES} features; leave "
                f"n_features at its default"
            )
        total = cfg.n_train + cfg.n_val + cfg.n_test
        if total > DIABETES_SAMPLES:
            raise ConfigError(
                f"n_test: diabetes has {DIABETES_SAMPLES} samples; n_train + n_val + n_test = "
                f"{cfg.n_train} + {cfg.n_val} + {cfg.n_test} = {total} is more"
            )


def teacher(d: int, seed: int) -> torch.Tensor:
    """The teacher direction β [d] ~ N(0, I_d / d) of the data seed `seed`."""
    return torch.randn(d, generator=_gen(seed, _TEACHER)) / d**0.5


def synthetic(
    op: str, beta: torch.Tensor, count: int, noise_std: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` inputs x ~ N(0, I_d) [count, d] and their noisy targets [count] (float32)."""
    x = torch.randn(count, beta.shape[0], generator=gen)  # [count, d]
    signal = x @ beta  # [count]
    clean = signal if op == "linear" else torch.tanh(2 * signal)
    return x, clean + noise_std * torch.randn(count, generator=gen)


@functools.lru_cache(maxsize=1)
def diabetes_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The 442 × 10 diabetes inputs and their targets, as float64 tensors."""
    try:
        from sklearn.datasets import load_diabetes
    except ImportError:
        raise ConfigError(
            "op: diabetes needs scikit-learn, which ships the data set (pip install scikit-learn)"
        ) from None
    x, y = load_diabetes(return_X_y=True)
    return torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)


def diabetes_splits(cfg, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """[(x, y)] of train, validation and test: a seeded random split, standardized with the
    training part's statistics, noise σ added to the targets (float32)."""
    x, y = diabetes_data()
    perm = torch.randperm(DIABETES_SAMPLES, generator=_gen(seed, _SPLIT))
    cuts = (0, cfg.n_train, cfg.n_train + cfg.n_val, cfg.n_train + cfg.n_val + cfg.n_test)
    tr = perm[: cfg.n_train]
    x_mean, x_std = x[tr].mean(0), x[tr].std(0).clamp(min=1e-12)
    y_mean, y_std = y[tr].mean(), y[tr].std().clamp(min=1e-12)
    out = []
    for i, stream in enumerate((_TRAIN, _VAL, _TEST)):
        idx = perm[cuts[i] : cuts[i + 1]]
        xs = ((x[idx] - x_mean) / x_std).float()
        ys = ((y[idx] - y_mean) / y_std).float()
        noise = torch.randn(len(idx), generator=_gen(seed, stream))
        out.append((xs, ys + cfg.noise_std * noise))
    return out


def member_splits(cfg, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """[(x, y)] of train, validation and test of one member (data seed `seed`)."""
    if cfg.op == "diabetes":
        return diabetes_splits(cfg, seed)
    beta = teacher(cfg.n_features, seed)
    return [
        synthetic(cfg.op, beta, count, cfg.noise_std, _gen(seed, stream))
        for count, stream in ((cfg.n_train, _TRAIN), (cfg.n_val, _VAL), (cfg.n_test, _TEST))
    ]


def build(cfgs: list, seeds: list[int]) -> TaskData:
    """E members' sets along a leading member dimension: inputs [E, N, d], targets [E, N].
    Members with the same data seed and n_train (e.g. a grid of ridge λ) share one draw;
    members of other sizes (n_train is a member field) get their own, padded to the largest
    with a train_mask."""
    drawn: dict[tuple[int, int], list] = {}
    splits = []
    for cfg, seed in zip(cfgs, seeds, strict=True):
        # the task's other fields are shared by an ensemble; n_train may differ
        key = (data_seed(cfg, seed), cfg.n_train)
        if key not in drawn:
            drawn[key] = member_splits(cfg, key[0])
        splits.append(drawn[key])

    def stack(part: int, what: int) -> torch.Tensor:
        return torch.stack([member[part][what] for member in splits])

    has_val = cfgs[0].n_val > 0
    x_train, y_train, train_mask = pad_members([m[0][0] for m in splits], [m[0][1] for m in splits])
    return TaskData(
        x_train=x_train,  # [E, max n_train, d]
        y_train=y_train,  # [E, max n_train] float
        train_mask=train_mask,  # None when every member has the same n_train
        x_test=stack(2, 0),
        y_test=stack(2, 1),
        n_classes=N_CLASSES,
        vocab=input_dim(cfgs[0]),
        x_val=stack(1, 0) if has_val else None,
        y_val=stack(1, 1) if has_val else None,
    )


class Regression(Task):
    """Real-valued targets (n_classes 0), for models solved in closed form."""

    fields = ("n_train", "n_test", *FIELDS)
    inputs = (FEATURES,)

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name)
        self.summary = summary

    def check(self, cfg) -> None:
        if cfg.n_train < 0:
            raise ConfigError(f"n_train: must be ≥ 0, got {cfg.n_train}")
        check(cfg)

    def n_classes(self, op: str, p: int) -> int:
        return N_CLASSES

    def title(self, op: str, p: int) -> str:
        return f"{op} regression"

    def dims(self, cfg, reads: str) -> Dims:
        d = input_dim(cfg)
        return Dims(d, N_CLASSES, d)

    def rows(self, cfg, batch_size: int) -> int:
        return cfg.n_train + cfg.n_val + cfg.n_test  # closed form: every split at once

    def build(self, cfgs: list, reads: str, seeds: list[int]) -> TaskData:
        return build(cfgs, seeds)


TASKS.register("linear", Regression("linear", "y = x·β + noise, x ~ N(0, I_d)"))
TASKS.register("nonlinear", Regression("nonlinear", "y = tanh(2 x·β) + noise, x ~ N(0, I_d)"))
TASKS.register("diabetes", Regression("diabetes", "scikit-learn's diabetes regression set"))
