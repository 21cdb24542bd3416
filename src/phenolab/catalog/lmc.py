"""Linear mode connectivity between stored runs: the loss and error along the straight line
between the final weights of two finished runs (analysis/connectivity.py), optionally after
aligning the second run's hidden units to the first's (Git Re-Basin weight matching,
models/symmetry.py), for many pairs in one batched evaluation.

A pair must share the architecture and the data it is judged on (the chosen split, built from
the first run's config, must equal the second's). Used by the catalog entries frankle2020-lmc
(instability analysis: copies of one network trained from its weights at step k with different
data orders) and ainsworth2023-rebasin (independently trained networks, with and without
alignment).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from phenolab.analysis.connectivity import Path, path
from phenolab.config import RunConfig, from_json, task_data
from phenolab.errors import ConfigError
from phenolab.models import build_model
from phenolab.models.symmetry import weight_matching
from phenolab.store import Store
from phenolab.tasks.data import TaskData
from phenolab.train.losses import make_loss
from phenolab.train.members import stack_members

SPLITS = ("train", "test")


def final_weights(store: Store, run_id: str) -> tuple[RunConfig, dict[str, torch.Tensor]]:
    """(config, final model weights {name: [1, ...]}) of a finished run."""
    record = store.get_run(run_id)
    if record is None or record.status != "finished":
        state = "not in the store" if record is None else f"{record.status}, not finished"
        raise ConfigError(f"run {run_id} is {state} ({store.path})")
    if record.external is not None:
        raise ConfigError(f"run {run_id} was recorded by phenolab.watch: it has no checkpoint")
    checkpoint = store.load_checkpoint(run_id)
    if checkpoint is None or checkpoint[0] != record.config["train"]["steps"]:
        raise ConfigError(f"run {run_id} has no checkpoint of its final step")
    return from_json(record.config), checkpoint[2]["model"]


def _architecture(cfg: RunConfig) -> dict:
    """What fixes the shapes of a run's weights: its model section but the init scale."""
    return {k: v for k, v in cfg.to_json()["model"].items() if k != "init_scale"}


def _interleave(first: Sequence, second: Sequence) -> list:
    return [x for pair in zip(first, second, strict=True) for x in pair]


def _data(configs: Sequence[RunConfig]) -> TaskData:
    return task_data(list(configs))


def _split(data: TaskData, split: str):
    """(inputs, targets, mask) of a split."""
    return {name: (x, y, mask) for name, x, y, mask in data.splits()}[split]


def paths_between(
    store: Store,
    pairs: Sequence[tuple[str, str]],
    split: str = "test",
    alpha: torch.Tensor | None = None,
    align: bool = False,
    device: torch.device | str = "cpu",
) -> Path:
    """Loss and error along the straight line from run A's final weights to run B's, for each
    pair (A, B) of run ids, on A's `split` set; with `align`, B's hidden units are first
    permuted to match A's (weight matching, dense models only)."""
    if split not in SPLITS:
        raise ConfigError(f"split: unknown {split!r} (valid: {', '.join(SPLITS)})")
    if not pairs:
        raise ConfigError("pairs: no pair of runs to interpolate")
    firsts = [final_weights(store, a) for a, _ in pairs]
    seconds = [final_weights(store, b) for _, b in pairs]
    configs_a, configs_b = [c for c, _ in firsts], [c for c, _ in seconds]
    model_cfg = configs_a[0].model
    runs = [run for pair in pairs for run in pair]
    for run, cfg in zip(runs, _interleave(configs_a, configs_b), strict=True):
        if _architecture(cfg) != _architecture(configs_a[0]):
            raise ConfigError(
                f"pairs: run {run} has another architecture than run {pairs[0][0]}"
                f" ({_architecture(cfg)} vs {_architecture(configs_a[0])})"
            )
    data_a, data_b = _data(configs_a), _data(configs_b)
    x, y, mask = _split(data_a, split)
    x_b, y_b, _ = _split(data_b, split)
    if x.shape[1] == 0:
        raise ConfigError(f"split: {split} is empty (online training keeps no training set)")
    for p, (a, b) in enumerate(pairs):
        if not (torch.equal(x[p], x_b[p]) and torch.equal(y[p], y_b[p])):
            raise ConfigError(
                f"pairs: runs {a} and {b} differ in their {split} data; a pair is judged on one"
                " data set (give them the same data seed, split_seed)"
            )
    weights_a = stack_members([w for _, w in firsts])  # {name: [P, ...]}
    weights_b = stack_members([w for _, w in seconds])
    if align:
        if model_cfg.model != "dense":
            raise ConfigError(
                f"align: weight matching is implemented for model=dense, not {model_cfg.model}"
            )
        weights_b, _ = weight_matching(weights_a, weights_b)
    template = build_model(
        model_cfg, data_a.vocab, data_a.n_classes, x.shape[2], [0], image_shape=data_a.shape
    ).to(device)
    train = configs_a[0].train
    return path(
        template,
        {n: w.to(device) for n, w in weights_a.items()},
        {n: w.to(device) for n, w in weights_b.items()},
        x.to(device),
        y.to(device),
        mask.to(device) if mask is not None else None,
        alpha,
        make_loss(train.loss, train.loss_dtype),
    )
