"""`compare()`: the baseline and every arm over the same seeds, trained as few ensembles as
their fields allow and stored (an identical config is found, an interrupted one resumes), then
summarised against the baseline. Arms linked to others (`@K`, arms.py) train after them, stage
by stage."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from phenolab.analysis.events import first_sustained
from phenolab.analysis.speedup import RESAMPLES, speedup
from phenolab.compare.arms import Arm, depth, plan_arms
from phenolab.compare.summary import ArmOutcome, Comparison
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.run import (
    DEFAULT_OPTIONS,
    Options,
    Progress,
    resolve_device,
    shard_sizes,
    train_configs,
)
from phenolab.store import Store

T95 = 0.95  # "steps to 95 % test accuracy", the Grokfast paper's figure (sustained, as t_gen)


def compare(
    baseline: RunConfig,
    arms: Sequence[str | Arm],
    seeds: int = 5,
    store: Store | None = None,
    device: torch.device | str | None = None,
    *,
    matched: bool = False,
    baseline_name: str = "baseline",
    workers: int | None = None,
    max_members: int | None = None,
    options: Options = DEFAULT_OPTIONS,
    resamples: int = RESAMPLES,
    on_progress: Callable[[Progress], None] | None = None,
) -> Comparison:
    """Train (or fetch) the baseline and every arm over seeds baseline.seed … +seeds−1 and
    summarise each arm against the baseline."""
    if seeds < 1:
        raise ConfigError(f"seeds: must be at least 1, got {seeds}")
    store = store if store is not None else Store()
    device = resolve_device(device)
    say = (lambda line: on_progress(Progress(line))) if on_progress else (lambda line: None)
    planned = plan_arms(baseline, arms, matched, baseline_name)
    first = baseline.train.seed
    configs: dict[str, list[RunConfig]] = {}
    for arm in planned:  # a linked arm comes after its parents
        configs[arm.name] = [
            arm.config(baseline.replace(seed=s), {n: configs[n][i] for _, n in arm.links})
            for i, s in enumerate(range(first, first + seeds))
        ]
    say(
        f"{len(planned)} arms ({', '.join(a.name for a in planned)}) × {seeds} seeds "
        f"({first}–{first + seeds - 1})"
    )
    t0 = time.perf_counter()
    by_name = {arm.name: arm for arm in planned}
    depths = {arm.name: depth(arm, by_name) for arm in planned}
    results, shards = {}, []
    for stage in range(max(depths.values()) + 1):  # parents before the runs linked to them
        todo = {name: cs for name, cs in configs.items() if depths[name] == stage}
        done, sizes = _train(todo, store, device, workers, max_members, options, on_progress)
        results.update(done)
        shards += sizes
    wall = time.perf_counter() - t0
    outcomes = [_outcome(arm, configs[arm.name], results, store) for arm in planned]
    base = outcomes[0]
    for o in outcomes:
        o.speedup = speedup(base.t_gen, o.t_gen, base.steps, o.steps, resamples)
    return Comparison(
        baseline, baseline_name, outcomes, seeds, wall, shards, str(device), resamples
    )


def _train(configs, store, device, workers, max_members, options, on_progress):
    """Every distinct config once, through the one door; results by run id, and the member
    count of each ensemble shard trained now (from the layout recorded with each run)."""
    distinct = list(dict.fromkeys(c for cs in configs.values() for c in cs))
    results = train_configs(
        distinct,
        store,
        device,
        workers=workers,
        max_members=max_members,
        options=options,
        on_progress=on_progress,
    )
    return {r.record.id: r for r in results}, shard_sizes(results)


def _outcome(arm: Arm, configs: list[RunConfig], results: dict, store: Store) -> ArmOutcome:
    rs = []
    t95 = []
    seconds = 0.0
    for cfg in configs:
        r = results[cfg.run_id()]
        r.metrics = r.metrics or store.metrics(r.record.id)
        steps, test_acc = r.metrics["test/acc"]
        t95.append(first_sustained(steps, test_acc, T95))
        # an ensemble's training time is recorded with each member: share it out
        seconds += r.record.seconds / max(1, int(r.record.env.get("ensemble_members", 1)))
        rs.append(r)
    return ArmOutcome(
        arm,
        configs,
        rs,
        [r.events.t_gen for r in rs],
        t95,
        max(c.train.steps for c in configs),
        seconds,
    )
