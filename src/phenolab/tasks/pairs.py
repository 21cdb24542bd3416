"""Tasks on operand pairs: every pair (x, y) of N symbols labelled by x ∘ y, split at random
into train and test (Power et al. 2022, "Grokking: generalization beyond overfitting on small
algorithmic datasets", arXiv:2201.02177). Modular arithmetic (tasks/arithmetic.py) and finite
groups (tasks/groups.py) are pair tasks; they differ only in their table.

Encodings: an MLP reads the operand pair [x, y]; a transformer reads the token sequence
`x op y =` (vocabulary: the N symbols, then the op token, then `=`), or `x y =` as in Nanda et
al. (2023), and predicts at the last position.
"""

from __future__ import annotations

import math

import torch

from phenolab.errors import ConfigError
from phenolab.tasks.base import SEQUENCE, Dims, Task
from phenolab.tasks.data import TaskData, data_seed, pad_members

# Transformer input formats: token ids N (op) and N + 1 (`=`) follow the N symbols.
SEQUENCES = {"x op y =": 4, "x y =": 3}  # format → sequence length


def split(n: int, frac: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random permutation of range(n) cut into train (round(frac·n) items) and test indices."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_train = round(frac * n)
    return perm[:n_train], perm[n_train:]


def encode(pairs: torch.Tensor, p: int, reads: str, sequence: str = "x op y =") -> torch.Tensor:
    """Model inputs for operand pairs [N, 2]: the pairs (a model reading PAIRS: mlp, twolayer),
    or tokens for a model reading a SEQUENCE (transformer)."""
    if reads != SEQUENCE:
        return pairs
    n = pairs.shape[0]
    op_tok = torch.full((n, 1), p)
    eq_tok = torch.full((n, 1), p + 1)
    if sequence == "x y =":
        return torch.cat([pairs, eq_tok], dim=1)  # [N, 3]
    return torch.cat([pairs[:, :1], op_tok, pairs[:, 1:], eq_tok], dim=1)  # [N, 4]


class PairTask(Task):
    """A table of x ∘ y over N symbols. Subclasses give `n_classes` (N) and `table`."""

    fields = ("frac", "sequence", "label_noise")

    def table(self, cfg) -> tuple[torch.Tensor, torch.Tensor]:
        """All valid operand pairs [M, 2] (int64) and their answers [M], x-major order."""
        raise NotImplementedError

    def group(self, op: str) -> str | None:
        """The group of a group task (TaskData.group); None otherwise."""
        return None

    def n_pairs(self, cfg) -> int:
        n = self.n_classes(cfg.op, cfg.p)
        return n * n

    def check(self, cfg) -> None:
        if cfg.sequence not in SEQUENCES:
            raise ConfigError(
                f"sequence: unknown {cfg.sequence!r} (valid: {', '.join(map(repr, SEQUENCES))})"
            )
        if not 0.0 < cfg.frac < 1.0:
            raise ConfigError(f"frac: train fraction must be in (0, 1), got {cfg.frac}")
        if round(cfg.frac * self.n_pairs(cfg)) < 1:
            raise ConfigError(
                f"frac: {cfg.frac} of {self.n_pairs(cfg)} pairs leaves no training data"
            )

    def dims(self, cfg, reads: str) -> Dims:
        n = self.n_classes(cfg.op, cfg.p)
        if reads == SEQUENCE:  # the op token id stays reserved in both formats
            return Dims(n + 2, n, SEQUENCES[cfg.sequence])
        return Dims(n, n, 2)

    def rows(self, cfg, batch_size: int) -> int:
        n = self.n_pairs(cfg)
        n_train = batch_size or math.ceil(cfg.frac * n)
        return max(n_train, n - round(cfg.frac * n))  # the train batch or the test set

    def build(self, cfgs: list, reads: str, seeds: list[int]) -> TaskData:
        n = self.n_classes(cfgs[0].op, cfgs[0].p)
        splits = []
        for cfg, seed in zip(cfgs, seeds, strict=True):
            pairs, answers = self.table(cfg)
            inputs = encode(pairs, n, reads, cfg.sequence)
            tr, te = split(len(answers), cfg.frac, data_seed(cfg, seed))
            splits.append((inputs[tr], answers[tr], inputs[te], answers[te]))
        x_train, y_train, train_mask = pad_members([s[0] for s in splits], [s[1] for s in splits])
        x_test, y_test, test_mask = pad_members([s[2] for s in splits], [s[3] for s in splits])
        return TaskData(
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            n_classes=n,
            vocab=self.dims(cfgs[0], reads).vocab,
            train_mask=train_mask,
            test_mask=test_mask,
            group=self.group(cfgs[0].op),
        )


def all_pairs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x [n²] and y [n²] of every pair over n symbols, x-major."""
    return torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)
