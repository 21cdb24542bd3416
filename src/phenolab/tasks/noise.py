"""Label noise, a transform of any classification task's training set (Nakkiran et al. 2021,
"Deep double descent": a fraction of the training labels replaced by wrong ones; the test set
stays clean).

Exactly round(rate · N) of a member's N training examples, chosen at random, get a label drawn
uniformly from the *other* classes, so the measured noise rate is the requested one (the usual
"replace by a uniform label" would leave 1/C of the chosen labels unchanged). The draw is seeded
by the member's data seed, so a member's noisy labels are a function of its config.
"""

from __future__ import annotations

import dataclasses

import torch

from phenolab.tasks.data import TaskData

NOISE_SEED_OFFSET = 5_000_011  # the noise generator: data seed + this


def corrupt(
    labels: torch.Tensor, rate: float, n_classes: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(noisy labels [N], indices of the changed examples): round(rate · N) labels, at positions
    drawn without replacement, each replaced by one of the other n_classes − 1 classes."""
    n = labels.shape[0]
    count = round(rate * n)
    changed = torch.randperm(n, generator=generator)[:count]
    shift = torch.randint(1, n_classes, (count,), generator=generator)  # never 0: a wrong label
    noisy = labels.clone()
    noisy[changed] = (labels[changed] + shift) % n_classes
    return noisy, changed.sort().values


def apply(data: TaskData, rates: list[float], data_seeds: list[int]) -> TaskData:
    """Member e's real training labels corrupted at rates[e] (padding untouched)."""
    if not any(rates):
        return data
    y = data.y_train.clone()
    sizes = data.train_sizes()
    for e, (rate, seed) in enumerate(zip(rates, data_seeds, strict=True)):
        if rate == 0:
            continue
        n = sizes[e]
        real = (
            torch.arange(y.shape[1])
            if data.train_mask is None
            else data.train_mask[e].nonzero()[:, 0]
        )[:n]
        gen = torch.Generator().manual_seed(seed + NOISE_SEED_OFFSET)
        y[e, real] = corrupt(y[e, real], rate, data.n_classes, gen)[0]
    return dataclasses.replace(data, y_train=y)
