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


def plan_shards(
    configs: list[RunConfig],
    device: torch.device,
    max_members: int | None = None,
    min_shards: int = 1,
) -> ShardPlan:
    """Split `configs` into the fewest near-equal shards (at least `min_shards`) that each fit
    in memory and hold at most `max_members`."""
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
    n_shards = min(len(configs), max(min_shards, math.ceil(len(configs) / fit)))
    base, extra = divmod(len(configs), n_shards)
    bounds = [0]
    for i in range(n_shards):
        bounds.append(bounds[-1] + base + (i < extra))
    shards = [configs[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return ShardPlan(shards, fit, per_member, free)
