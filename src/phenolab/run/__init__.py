"""The one door to training: everything between a validated config and a stored run.

    train_configs(configs, store, device, workers=..., options=..., on_progress=...)

is the only way anything trains (`phenolab run`, `compare`, `reproduce`, `imp`, and any new
command). The modules, each with one job:

    execute.py      the door: found in the store / resumed / grouped / sharded / workers
    workers.py      shards side by side in worker processes
    cluster.py      shards as Ray tasks (a local cluster or past one machine)
    shards.py       how many members fit in one ensemble (memory), which share one (data size)
    ensemble.py     one ensemble trained in this process (resume, status, Ctrl-C)
    build.py        data + model + optimizer + plan + interventions of an ensemble
    start.py        where a member starts (seeded init, a parent's weights, a ticket, an embedding)
    record.py       metrics, checkpoints and kept weights written as training goes
    solve.py        the closed-form solve (optimizer = lstsq) instead of a training loop
    environment.py  devices, precision, fast paths, threads, and the record of them with a run
    result.py       RunResult, RunInterrupted
"""

from phenolab.run.cluster import RayBackend
from phenolab.run.environment import (
    DEFAULT_OPTIONS,
    Options,
    default_device,
    environment,
    resolve_device,
)
from phenolab.run.execute import Plan, Progress, train_configs
from phenolab.run.record import summary
from phenolab.run.result import RunInterrupted, RunResult, shard_sizes
from phenolab.run.start import imp_sparsity, run_mask

__all__ = [
    "DEFAULT_OPTIONS",
    "Options",
    "Plan",
    "Progress",
    "RayBackend",
    "RunInterrupted",
    "RunResult",
    "default_device",
    "environment",
    "imp_sparsity",
    "resolve_device",
    "run_mask",
    "shard_sizes",
    "summary",
    "train_configs",
]
