"""Sparse parity (Barak, Edelman, Goel, Kakade, Malach & Zhang 2022, "Hidden progress in deep
learning: SGD learns parities near the computational limit", NeurIPS 2022): inputs are uniform
x ∈ {−1, +1}^n as float vectors, and the label is the product of k relevant coordinates,
Π_{i∈S} x_i, as a class id: 0 for +1, 1 for −1 (the XOR of the k bits).

The relevant set S (k of the n coordinates) and all samples are seeded by the member's data seed
(`split_seed`, default the run seed): the same seed gives the same S and the same samples.
Training is online as in the paper (`n_train = 0`: every step draws a fresh batch, see
`train.batches.FreshSampler`) or on a fixed set of `n_train` samples; the test set is
`n_test` held-out samples from their own stream.
"""

from __future__ import annotations

import torch

from phenolab.errors import ConfigError
from phenolab.tasks.base import FEATURES, TASKS, Dims, Task
from phenolab.tasks.data import Stream, TaskData, data_seed, pad_members

N_CLASSES = 2
MAX_BITS = 4096
# offsets of the data seed for each stream, so that S, test, train and online draws differ
_RELEVANT, _TEST, _TRAIN, _ONLINE = 0, 1, 2, 3


def _gen(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 4 + stream)


def relevant_bits(n: int, k: int, seed: int) -> torch.Tensor:
    """The k relevant coordinates [k] (sorted int64) of the data seed `seed`."""
    return torch.randperm(n, generator=_gen(seed, _RELEVANT))[:k].sort().values


def sample(
    n: int, relevant: torch.Tensor, count: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` uniform inputs [count, n] in {−1, +1} (float32) and their classes [count]."""
    x = torch.randint(0, 2, (count, n), generator=gen).float() * 2 - 1  # [count, n]
    return x, labels(x, relevant)


def labels(x: torch.Tensor, relevant: torch.Tensor) -> torch.Tensor:
    """Class of each row of x [N, n]: 0 when Π_{i∈S} x_i = +1, 1 when it is −1."""
    product = x[:, relevant].prod(dim=1)  # [N]
    return (product < 0).long()


def build(cfgs: list, seeds: list[int]) -> TaskData:
    """E members' sets along a leading member dimension. Online members (n_train = 0) get an
    empty training buffer and a Stream; the sampler fills the buffer every step."""
    n, k = cfgs[0].n_bits, cfgs[0].k_bits
    dseeds = [data_seed(c, s) for c, s in zip(cfgs, seeds, strict=True)]
    relevant = torch.stack([relevant_bits(n, k, s) for s in dseeds])  # [E, k]
    tests = [
        sample(n, r, cfgs[0].n_test, _gen(s, _TEST)) for r, s in zip(relevant, dseeds, strict=True)
    ]
    online = cfgs[0].n_train == 0
    if any((c.n_train == 0) != online for c in cfgs):
        raise ConfigError("n_train: members of one ensemble must all be online (0) or all not")
    if online:
        x_train = torch.zeros(len(cfgs), 0, n)  # [E, 0, n]: filled by FreshSampler
        y_train = torch.zeros(len(cfgs), 0, dtype=torch.long)
        train_mask = None
        stream = Stream(
            seeds=[s * 4 + _ONLINE for s in dseeds],
            draw=lambda e, gen, count: sample(n, relevant[e], count, gen),
        )
    else:
        trains = [
            sample(n, r, c.n_train, _gen(s, _TRAIN))
            for r, s, c in zip(relevant, dseeds, cfgs, strict=True)
        ]
        x_train, y_train, train_mask = pad_members([t[0] for t in trains], [t[1] for t in trains])
        stream = None
    return TaskData(
        x_train=x_train,
        y_train=y_train,
        x_test=torch.stack([t[0] for t in tests]),
        y_test=torch.stack([t[1] for t in tests]),
        n_classes=N_CLASSES,
        vocab=n,
        train_mask=train_mask,
        relevant=relevant,
        stream=stream,
    )


class Parity(Task):
    summary = "sparse parity: the product of k of n random ±1 bits (Barak et al. 2022)"
    fields = ("n_bits", "k_bits", "n_train", "n_test", "label_noise")
    inputs = (FEATURES,)

    def check(self, cfg) -> None:
        if cfg.n_train < 0:
            raise ConfigError(f"n_train: must be ≥ 0, got {cfg.n_train}")
        if cfg.label_noise and cfg.n_train == 0:
            raise ConfigError("label_noise: needs a fixed training set (n_train > 0), not online")
        if not 1 <= cfg.n_bits <= MAX_BITS:
            raise ConfigError(f"n_bits: must be in 1 … {MAX_BITS}, got {cfg.n_bits}")
        if not 1 <= cfg.k_bits <= cfg.n_bits:
            raise ConfigError(f"k_bits: must be in 1 … n_bits = {cfg.n_bits}, got {cfg.k_bits}")
        if cfg.n_test < 1:
            raise ConfigError(f"n_test: must be at least 1, got {cfg.n_test}")

    def online(self, cfg) -> bool:
        return cfg.n_train == 0

    def n_classes(self, op: str, p: int) -> int:
        return N_CLASSES

    def title(self, op: str, p: int) -> str:
        return "sparse parity"

    def dims(self, cfg, reads: str) -> Dims:
        return Dims(cfg.n_bits, N_CLASSES, cfg.n_bits)

    def rows(self, cfg, batch_size: int) -> int:
        return max(batch_size or cfg.n_train, cfg.n_test)

    def build(self, cfgs: list, reads: str, seeds: list[int]) -> TaskData:
        return build(cfgs, seeds)


TASKS.register("parity", Parity("parity"))
