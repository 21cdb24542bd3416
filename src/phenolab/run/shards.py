"""How many members fit in one ensemble: a memory estimate per member against what the device
has free, and the split of a large request into shards that each fit."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from itertools import pairwise

import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models import hidden_widths
from phenolab.tasks.modular import SEQUENCES, feature_dim, n_elements, n_pairs, vocab_size

FLOAT = 4  # bytes, fp32
SAFETY = 2.0  # allocator fragmentation, temporaries we do not count
MEMORY_FRACTION = 0.5  # of what is free, leaving room for the rest of the machine


def parameter_count(cfg: RunConfig) -> int:
    m, p = cfg.model, n_elements(cfg.task.op, cfg.task.p)
    if m.model in ("dense", "cnn"):
        # a CNN's count is bounded by the dense net of the same widths over its pixels
        sizes = (feature_dim(cfg.task), *hidden_widths(m), p)
        return sum(i * o + o for i, o in pairwise(sizes))
    if m.model == "rf":  # the fixed map (a buffer) and the head
        return feature_dim(cfg.task) * m.width + m.width * max(p, 1)
    if m.model == "mlp":
        d, w = m.d_embed, m.width
        return p * d + 2 * d * w + w + w * p + p
    if m.model == "twolayer":
        return 2 * p * m.width + m.width * p
    d, dm, vocab = m.d_model, m.d_mlp, vocab_size(cfg.task, m.model)
    seq_len = SEQUENCES[cfg.task.sequence]
    block = 4 * d * d + d * dm + dm + dm * d + d + (4 * d if m.layernorm else 0)
    return vocab * d + seq_len * d + m.n_layers * block + d * p + (2 * d if m.layernorm else 0)


def bytes_per_member(cfg: RunConfig) -> int:
    """Estimated peak bytes of one member: weights, gradients and optimizer state, plus
    activations of a full-batch step (the largest of train step and test evaluation)."""
    m, p = cfg.model, n_elements(cfg.task.op, cfg.task.p)
    buffers = 4 if cfg.train.optimizer in ("adamw", "adam", "muon") else 3
    if m.model in ("dense", "cnn"):  # feature vectors: the train batch (or set), the test set
        rows = max(cfg.train.batch_size or cfg.task.n_train, cfg.task.n_test)
        d = feature_dim(cfg.task)
        # a CNN's feature maps: at most C × d / 2 per layer (stride 2)
        hidden = d // 2 if m.model == "cnn" else 1
        per_row = d + 3 * hidden * sum(hidden_widths(m)) + 3 * p
        return int(SAFETY * FLOAT * (buffers * parameter_count(cfg) + rows * per_row))
    if m.model == "rf":  # features of every split and the thin SVD, in float64 (2 floats each)
        rows = cfg.task.n_train + cfg.task.n_val + cfg.task.n_test
        n, w = cfg.task.n_train, m.width
        doubles = rows * w + 2 * n * w + 2 * min(n, w) * w
        return int(SAFETY * FLOAT * (buffers * parameter_count(cfg) + 2 * doubles))
    n = n_pairs(cfg.task)
    n_train = cfg.train.batch_size or math.ceil(cfg.task.frac * n)
    rows = max(n_train, n - round(cfg.task.frac * n))  # train batch or the test set
    if m.model in ("mlp", "twolayer"):
        per_row = 3 * m.width + 3 * p
        tables = 2 * p * m.width
    else:
        seq_len = SEQUENCES[cfg.task.sequence]
        per_row = 10 * seq_len * m.d_model + 3 * m.d_mlp + 3 * p
        tables = 4 * seq_len * vocab_size(cfg.task, m.model) * m.d_model
    floats = buffers * parameter_count(cfg) + rows * per_row + tables
    return int(SAFETY * FLOAT * floats)


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

    def describe(self) -> str:
        sizes = ", ".join(str(len(s)) for s in self.shards)
        return (
            f"{sum(len(s) for s in self.shards)} members in {len(self.shards)} shard(s) "
            f"[{sizes}]; ≈{self.bytes_per_member / 2**20:.1f} MiB per member, "
            f"{self.free_bytes / 2**30:.1f} GiB free → up to {self.max_members} per shard"
        )


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
