"""How many members fit in one ensemble: a memory estimate per member against what the device
has free, and the split of a large request into shards that each fit."""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models import MODELS
from phenolab.tasks import dims, task_of
from phenolab.train.optim import OPTIMIZERS

FLOAT = 4  # bytes, fp32
SAFETY = 2.0  # allocator fragmentation, temporaries we do not count
MEMORY_FRACTION = 0.5  # of what is free, leaving room for the rest of the machine


def parameter_count(cfg: RunConfig) -> int:
    """Numbers one member holds: its model kind's own count (ModelKind.parameter_count)."""
    model = MODELS.get(cfg.model.model)
    return model.parameter_count(cfg.model, dims(cfg.task, model.reads))


def bytes_per_member(cfg: RunConfig) -> int:
    """Estimated peak bytes of one member: weights, gradients and optimizer state (the
    optimizer's `buffers` per weight), plus the activations of the largest step or evaluation
    (the task's `rows`, the model kind's `activation_floats`)."""
    return _bytes(cfg.task, cfg.model, cfg.train.batch_size, cfg.train.optimizer)


@functools.lru_cache(maxsize=1024)
def _bytes(task, model_cfg, batch_size: int, optimizer: str) -> int:
    """bytes_per_member from the fields it reads: once per distinct value (the seeds of a
    100,000-member request share one), not once per member."""
    model = MODELS.get(model_cfg.model)
    inputs = dims(task, model.reads)
    rows = task_of(task.op).rows(task, batch_size)
    weights = OPTIMIZERS.get(optimizer).buffers * model.parameter_count(model_cfg, inputs)
    return int(SAFETY * FLOAT * (weights + model.activation_floats(model_cfg, inputs, rows)))


def free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


@dataclass(frozen=True)
class ShardPlan:
    shards: list[list[RunConfig]]
    max_members: int  # members per shard that fit
    bytes_per_member: int
    free_bytes: int


def data_size(cfg: RunConfig) -> tuple:
    """The fields that size a member's training and test sets. Members of one ensemble that
    differ in them are padded to the largest sets (tasks' `pad_members`) and pay for its rows."""
    t = cfg.task
    return (t.frac, t.n_train, t.n_test, t.n_val)


def plan_shards(
    configs: list[RunConfig],
    device: torch.device,
    max_members: int | None = None,
    min_shards: int = 1,
) -> ShardPlan:
    """Split `configs` into the fewest near-equal shards (at least `min_shards`) that each fit
    in memory and hold at most `max_members`.

    On a CPU, where a step costs in proportion to its rows, members whose data sizes differ
    (a sweep over the train fraction) go to different shards, so that none is padded to another
    member's larger set (a frac sweep's step then costs about the mean fraction's rows, not the
    largest's), up to twice as many shards as otherwise (each shard starts a worker process):
    with more sizes than that, members sorted by size are cut into twice the shards. The shards
    with the largest sets come first, so that the workers finish together. On a GPU the
    ensemble stays whole (one shard per GPU with as many members as fit)."""
    per_member = max(bytes_per_member(c) for c in configs)
    free = free_bytes(device)
    if per_member > free:  # refuse before allocating anything, rather than swap or crash
        m = max(configs, key=bytes_per_member).model
        sizes = (
            f"d_model {m.d_model}, d_mlp {m.d_mlp}"
            if m.model == "transformer"
            else (f"width {m.width}")
        )
        raise ConfigError(
            f"size: one member needs ≈{per_member / 2**30:,.1f} GiB (estimated for p "
            f"{configs[0].task.p}, {m.model} {sizes}: weights, optimizer state and a full-batch "
            f"step) but {device} has {free / 2**30:,.1f} GiB free; use smaller sizes"
        )
    fit = max(1, int(free * MEMORY_FRACTION // per_member))
    if max_members is not None:
        fit = min(fit, max_members)
    n = min(len(configs), max(min_shards, math.ceil(len(configs) / fit)))
    by_size: dict[tuple, list[RunConfig]] = {}
    for c in configs:
        by_size.setdefault(data_size(c), []).append(c)
    if device.type != "cpu" or len(by_size) == 1:
        shards = _cut(configs, n)
    elif len(by_size) <= 2 * n:  # a shard per data size, cut further to fit or feed the workers
        blocks = [by_size[size] for size in sorted(by_size, reverse=True)]
        counts = [math.ceil(len(b) / fit) for b in blocks]
        while sum(counts) < n:
            i = max(range(len(blocks)), key=lambda j: len(blocks[j]) / counts[j])
            counts[i] += 1
        shards = [s for block, k in zip(blocks, counts, strict=True) for s in _cut(block, k)]
    else:  # many sizes: at most twice the shards (a worker process starts for each)
        ordered = [c for size in sorted(by_size, reverse=True) for c in by_size[size]]
        shards = _cut(ordered, 2 * n)
    return ShardPlan(shards, fit, per_member, free)


def _cut(configs: list[RunConfig], n: int) -> list[list[RunConfig]]:
    """`configs` in `n` near-equal contiguous parts, the larger ones first."""
    base, extra = divmod(len(configs), n)
    bounds = [0]
    for i in range(n):
        bounds.append(bounds[-1] + base + (i < extra))
    return [configs[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
