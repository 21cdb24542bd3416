"""Datasets as tensors, one module per task family, each registered by op name in `TASKS`
(tasks/base.py): modular arithmetic (arithmetic.py), finite groups (groups.py), sparse parity
(parity.py), images shipped offline (images.py) and regression (regression.py). `label_noise`
(noise.py) corrupts the training labels of any classification task with a fixed training set.

This module holds what every task shares: the task section of a run config (`TaskConfig`),
which checks the fields the config's task reads and refuses the ones it does not; `build`, the
data of an ensemble; and the questions the other layers ask about a task by its op.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields

from phenolab import param
from phenolab.errors import ConfigError
from phenolab.tasks.base import (
    COMMON_FIELDS,
    FEATURES,
    IMAGES,
    PAIRS,
    SEQUENCE,
    TASKS,
    TOKENS,
    Dims,
    Task,
    readers,
    resolve,
    task_of,
)
from phenolab.tasks.data import TaskData, data_seed

# Task families register on import, in the order `TASKS` lists them.
for _family in ("arithmetic", "groups", "parity", "images", "regression"):
    importlib.import_module(f"phenolab.tasks.{_family}")

from phenolab.tasks import arithmetic, groups, noise  # noqa: E402

__all__ = [
    "FEATURES",
    "IMAGES",
    "PAIRS",
    "SEQUENCE",
    "TASKS",
    "TOKENS",
    "Dims",
    "Task",
    "TaskConfig",
    "TaskData",
    "build",
    "data_seed",
    "describe",
    "dims",
    "feature_dim",
    "n_elements",
    "resolve",
    "task_of",
]


@dataclass(frozen=True)
class TaskConfig:
    """The task: an op (a registered task) and the fields that task reads."""

    op: str = param(
        "x+y",
        "task: an operation mod p ("
        + ", ".join(arithmetic.OPERATIONS)
        + "), a group ("
        + groups.GROUP_SPELLING
        + "), parity, digits, mnist1d, idx, linear, nonlinear or diabetes",
    )
    p: int = param(97, "modulus (prime for x/y); not used by group ops")
    frac: float = param(0.3, "fraction of all pairs used for training, in (0, 1)")
    nonzero_y: bool = param(
        False,
        "arithmetic ops: leave the pairs with y = 0 out of the table (always for x/y; the"
        " Grokfast code does it for x·y)",
    )
    split_seed: int | None = param(None, "seed of the random train/test split (default: --seed)")
    sequence: str = param("x op y =", "transformer input: 'x op y =' or 'x y =' (Nanda et al.)")
    n_bits: int = param(40, "parity: input length n (uniform ±1 bits)")
    k_bits: int = param(3, "parity: relevant bits k; the label is their product")
    n_train: int = param(
        0,
        "parity, regression: training samples, parity: 0 = fresh samples every step (online);"
        " images: training images drawn from the pool by the data seed, 0 = the whole pool",
    )
    n_test: int = param(2048, "parity, regression: held-out test samples")
    data_dir: str | None = param(None, "op=idx: folder holding MNIST-format IDX files")
    label_noise: float = param(
        0.0, "fraction of the training labels replaced by a wrong class (test labels stay clean)"
    )
    n_features: int = param(100, "regression (linear, nonlinear): input dimension d")
    n_val: int = param(0, "regression: validation samples, e.g. for choosing a ridge λ (0: none)")
    noise_std: float = param(0.0, "regression: std σ of the Gaussian noise added to the targets")

    def __post_init__(self) -> None:
        task, op = resolve(self.op)
        object.__setattr__(self, "op", op)
        if not 0 <= self.label_noise < 1:
            raise ConfigError(f"label_noise: must be in [0, 1), got {self.label_noise}")
        task.check(self)
        for f in fields(self):
            unused = f.name not in COMMON_FIELDS and f.name not in task.fields
            if not unused or getattr(self, f.name) == f.default:
                continue
            if task.reads_features:
                raise ConfigError(f"{f.name}: not used by op={op}; leave it at its default")
            users = ", ".join(readers(f.name))
            raise ConfigError(f"{f.name}: only used by op={users}, not by {op}")


def build(cfgs: list[TaskConfig], reads: str, seeds: list[int]) -> TaskData:
    """Stack the data of E members (one TaskConfig each) along a leading member dimension, with
    inputs in the format a model `reads` (PAIRS, SEQUENCE, FEATURES or IMAGES: the model's).

    A member whose split_seed is None splits with its run seed `seeds[e]`. Members may differ
    in split and train fraction; shorter sets are padded and masked (see TaskData).
    """
    if len({(c.p, c.op, c.sequence) for c in cfgs}) != 1:
        raise ConfigError("p, op, sequence: members of one ensemble must share the task")
    data = task_of(cfgs[0].op).build(cfgs, reads, seeds)
    data_seeds = [data_seed(c, s) for c, s in zip(cfgs, seeds, strict=True)]
    return noise.apply(data, [c.label_noise for c in cfgs], data_seeds)


def n_elements(op: str, p: int) -> int:
    """How many symbols a task has (operands and answers alike): p, or a group's order; the
    number of classes of a feature task (0: a regression task's real-valued targets)."""
    return task_of(op).n_classes(op, p)


def describe(op: str, p: int) -> str:
    """'x+y mod 97' or 'S5' (for titles and listings)."""
    return task_of(op).title(op, p)


def feature_dim(cfg: TaskConfig) -> int:
    """The input dimension d of a feature task (parity: n_bits; images: pixels)."""
    return task_of(cfg.op).dims(cfg, FEATURES).seq_len


def dims(cfg: TaskConfig, reads: str) -> Dims:
    """The input dimensions of a model reading `reads` from this task (may load a dataset)."""
    return task_of(cfg.op).dims(cfg, reads)
