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
from phenolab.runner import DEFAULT_OPTIONS, Options, RunResult, default_device, events_of
from phenolab.store import Store
from phenolab.sweep.grid import compatible_groups
from phenolab.sweep.local import cpu_workers, run_shards
from phenolab.sweep.shards import plan_shards

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
    say: Callable[[str], None] = lambda line: None,
    progress: bool = False,
) -> Comparison:
    """Train (or fetch) the baseline and every arm over seeds baseline.seed … +seeds−1 and
    summarise each arm against the baseline."""
    if seeds < 1:
        raise ConfigError(f"seeds: must be at least 1, got {seeds}")
    store = store if store is not None else Store()
    device = torch.device(device) if device is not None else default_device()
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
        done, sizes = _train(todo, store, device, workers, max_members, options, say, progress)
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


def _train(configs, store, device, workers, max_members, options, say, progress):
    """Every distinct config once, grouped into ensembles; results by run id. Finished runs are
    read from the store here, without starting a worker for them."""
    distinct = list(dict.fromkeys(c for cs in configs.values() for c in cs))
    done = {}
    for cfg in distinct:
        record = store.get_run(cfg.run_id())
        if record is not None and record.status == "finished":
            done[record.id] = RunResult(
                record, events_of(record, store.metrics(record.id)), None, True
            )
    todo = [c for c in distinct if c.run_id() not in done]
    say(f"{len(distinct)} distinct runs, {len(done)} found finished in {store.path}")
    if not todo:
        return done, []
    groups = compatible_groups(todo)
    w = workers or (cpu_workers(len(todo)) if device.type == "cpu" else 1)
    shards = [
        shard
        for group in groups
        for shard in plan_shards(group, device, max_members, min_shards=min(w, len(group))).shards
    ]
    w = max(1, min(w, len(shards)))
    say(
        f"training {len(todo)} runs in {len(groups)} ensemble group(s), {len(shards)} shard(s) "
        f"[{', '.join(str(len(s)) for s in shards)}] on {device}, {w} worker process(es)"
    )
    callbacks, poller = [], None
    if progress:
        from phenolab.cli.progress import ProgressBar, StorePoller

        steps = max(c.train.steps for c in todo)
        if w > 1:
            poller = StorePoller(store, [c.run_id() for c in todo], steps)
        else:
            callbacks = [ProgressBar(steps)]
    trained = run_shards(shards, store, device, w, callbacks, options, poller)
    if poller:
        poller.finish()
    return done | {r.record.id: r for r in trained}, [len(s) for s in shards]


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
