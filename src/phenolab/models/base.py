"""What every model kind is: the `ModelKind` interface and the registry of kinds by name
(`MODELS`). A kind builds its module of E members, names the config fields it reads, the input
format it reads (the task formats of tasks/base.py: "pairs", "sequence", "features", "images"),
and estimates its memory. Its parameter count is the module's own, built on the meta device (no
memory, no second copy of the architecture).

A new model is one module defining its torch module and a `ModelKind` subclass, registered with
`MODELS.register("name", Kind("name"))` and imported by models/__init__.py (or by the user's own
code before the config is made).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from phenolab import Registry


def adopt_kind(registry: Registry, name: str, obj) -> None:
    """A plugin's model kind (or task): an instance, or a class built with its name."""
    if name not in registry._items:
        registry.register(name, obj(name) if isinstance(obj, type) else obj)


MODELS = Registry("model", plugins="phenolab.models", adopt=adopt_kind)


def hidden_widths(cfg) -> tuple[int, ...]:
    """dense: hidden layer widths; cnn: conv channels (`widths`, else width × n_layers)."""
    return cfg.widths or (cfg.width,) * cfg.n_layers


class Dims(NamedTuple):
    """The input dimensions a model is built for, which a task knows before building any data
    (tasks: Task.dims): distinct input tokens (feature tasks: d), classes (0: one real-valued
    output), sequence length (feature tasks: d) and one example's image shape (images only)."""

    vocab: int
    n_classes: int
    seq_len: int
    image_shape: tuple[int, ...] | None = None


class ModelKind:
    """One architecture. Subclasses set `summary`, `fields` and `reads` and implement `make`
    and `activation_floats`."""

    summary = ""  # one line, for listings and help
    fields: tuple[str, ...] = ()  # ModelConfig fields it reads besides model and init_scale
    reads = "pairs"  # the input format: pairs, sequence, features or images

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, cfg) -> None:
        """Raise a ConfigError naming a field of `cfg` (a ModelConfig) this kind cannot take."""

    def check_dims(self, cfg, dims: Callable[[], Dims]) -> None:
        """Raise a ConfigError when `cfg` does not fit the task's input dimensions; `dims()`
        computes them (it may load a dataset: call it only when needed)."""

    def make(self, cfg, inputs: Dims, seeds: list[int], scales: list[float]) -> torch.nn.Module:
        """The module of E = len(seeds) members, member e seeded by seeds[e] and scaled by
        scales[e] (see `build`)."""
        raise NotImplementedError

    def build(
        self,
        cfg,
        vocab: int,
        n_classes: int,
        seq_len: int,
        seeds: list[int],
        init_scales: list[float] | None = None,
        image_shape: tuple[int, ...] | None = None,
    ) -> torch.nn.Module:
        """E = len(seeds) members; member e is initialised from torch.Generator(seeds[e]) with
        init scale init_scales[e] (default: cfg.init_scale for every member)."""
        scales = init_scales if init_scales is not None else [cfg.init_scale] * len(seeds)
        return self.make(cfg, Dims(vocab, n_classes, seq_len, image_shape), seeds, scales)

    def parameter_count(self, cfg, inputs: Dims) -> int:
        """Numbers one member holds (parameters and buffers, e.g. a fixed random map): the
        module itself, built with one member on the meta device."""
        with torch.device("meta"):
            model = self.make(cfg, inputs, [0], [cfg.init_scale])
        tensors = [*model.parameters(), *model.buffers()]
        return sum(t[0].numel() for t in tensors)

    def activation_floats(self, cfg, inputs: Dims, rows: int) -> int:
        """Estimated floats of one member's activations on `rows` examples (the memory
        estimate of the shard planner, run/shards.py)."""
        raise NotImplementedError
