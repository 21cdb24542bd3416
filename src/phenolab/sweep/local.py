"""Run ensemble shards on this machine: one after another in this process, or side by side in
worker processes (CPU: one process per core with one thread each, which beats two threads on
the small matrices of these models). Every shard writes to the same store; results are read
back from it."""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Callable, Sequence

import torch

from phenolab.config import RunConfig, from_json
from phenolab.runner import DEFAULT_OPTIONS, Options, RunResult, events_of, run_ensemble
from phenolab.store import Store
from phenolab.sweep.grid import compatible_groups
from phenolab.sweep.shards import plan_shards
from phenolab.train.loop import Callback


def cpu_workers(n_shards: int) -> int:
    """Processes to use on CPU: one per core, no more than there are shards."""
    return max(1, min(n_shards, os.cpu_count() or 1))


def run_configs(
    configs: Sequence[RunConfig],
    store: Store,
    device: torch.device,
    workers: int | None = None,
    options: Options = DEFAULT_OPTIONS,
) -> list[RunResult]:
    """Train (or fetch) any configs: split into groups that can share an ensemble, each group
    into shards run side by side by `workers` processes (default: one per CPU core on CPU, one
    on a GPU). One result per config, in order, with its metrics read from the store."""
    results: dict[str, RunResult] = {}
    for group in compatible_groups(list(dict.fromkeys(configs))):
        # a closed-form solve takes milliseconds: a worker process would cost more
        solved = group[0].train.optimizer == "lstsq"
        w = workers or (cpu_workers(len(group)) if device.type == "cpu" and not solved else 1)
        plan = plan_shards(group, device, min_shards=w)
        for r in run_shards(plan.shards, store, device, min(w, len(plan.shards)), options=options):
            r.metrics = store.metrics(r.record.id)
            results[r.record.id] = r
    return [results[c.run_id()] for c in configs]


def run_shards(
    shards: list[list[RunConfig]],
    store: Store,
    device: torch.device,
    workers: int = 1,
    callbacks: Sequence[Callback] = (),
    options: Options = DEFAULT_OPTIONS,
    on_poll: Callable[[], None] | None = None,
) -> list[RunResult]:
    """Train every shard; results in the order of the flattened shards."""
    if workers <= 1 or len(shards) <= 1:
        return [
            r for shard in shards for r in run_ensemble(shard, store, device, callbacks, options)
        ]
    return _run_in_processes(shards, store, device, workers, options, on_poll)


def _run_in_processes(shards, store, device, workers, options, on_poll):
    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    threads = max(1, torch.get_num_threads() // workers)  # the parent's threads, shared out
    todo = list(enumerate(shards))
    running: dict[int, mp.Process] = {}
    outcome: dict[int, tuple] = {}
    interrupted = False
    try:
        while todo or running:
            while todo and len(running) < workers:
                i, shard = todo.pop(0)
                proc = ctx.Process(
                    target=_worker,
                    args=(
                        i,
                        [c.to_json() for c in shard],
                        store.path,
                        str(device),
                        threads,
                        options,
                        results,
                    ),
                )
                proc.start()
                running[i] = proc
            try:
                i, status, payload = results.get(timeout=0.5)
                outcome[i] = (status, payload)
                running.pop(i).join()
            except queue.Empty:
                for i, proc in list(running.items()):
                    if not proc.is_alive() and i not in outcome:
                        running.pop(i)
                        outcome[i] = ("error", f"worker exited with code {proc.exitcode}")
            if on_poll:
                on_poll()
    except KeyboardInterrupt:
        interrupted = True  # workers got the same Ctrl-C: they checkpoint and stop
        for proc in running.values():
            proc.join()
    failures = [p for s, p in outcome.values() if s == "error"]
    if failures:
        raise RuntimeError(f"a shard failed: {failures[0]}")
    if interrupted or any(s == "interrupted" for s, _ in outcome.values()):
        from phenolab.runner import RunInterrupted

        ids = [c.run_id() for shard in shards for c in shard]
        raise RunInterrupted(
            ids, max((p for s, p in outcome.values() if s == "interrupted"), default=0)
        )
    out = []
    for i, shard in enumerate(shards):
        trained = outcome[i][1]
        for cfg in shard:
            record = store.get_run(cfg.run_id())
            resumed, cached = trained[cfg.run_id()]
            out.append(
                RunResult(record, events_of(record, store.metrics(record.id)), resumed, cached)
            )
    return out


def _worker(index, config_json, store_path, device, threads, options, results):
    from phenolab.runner import RunInterrupted

    torch.set_num_threads(threads)
    try:
        configs = [from_json(c) for c in config_json]
        with Store(store_path) as store:
            rs = run_ensemble(configs, store, torch.device(device), options=options)
        results.put((index, "ok", {r.record.id: (r.resumed_from, r.cached) for r in rs}))
    except RunInterrupted as exc:
        results.put((index, "interrupted", exc.step))
    except KeyboardInterrupt:
        results.put((index, "interrupted", 0))
    except Exception as exc:  # reported by the parent
        results.put((index, "error", f"{type(exc).__name__}: {exc}"))
