"""`train_configs`: the one door to training. Any list of configs in, one stored run per config
out — finished runs found in the store, interrupted ones resumed, the rest grouped into as few
ensembles as their fields allow, split into shards that fit in memory, and trained one after
another in this process or side by side in worker processes."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from phenolab.analysis.events import TAU, events_of
from phenolab.config import RunConfig, ensemble_groups
from phenolab.run.ensemble import found_finished, train_ensemble
from phenolab.run.environment import (
    DEFAULT_OPTIONS,
    Layout,
    Options,
    cpu_threads,
    cpu_workers,
    resolve_device,
)
from phenolab.run.result import RunResult
from phenolab.run.shards import plan_shards
from phenolab.run.workers import POLL_SECONDS, train_in_processes
from phenolab.store import Store
from phenolab.train.loop import Callback, TrainState


@dataclass(frozen=True)
class Plan:
    """How `train_configs` will train what it did not find in the store, reported before
    training starts: the shards, where they train, and the memory estimate behind them."""

    runs: int  # to train (found finished ones are not)
    found: int  # found finished in the store
    groups: int  # ensemble groups (configs that may share an ensemble)
    shards: list[int]  # members of each shard
    device: str
    workers: int  # shards at once: processes, or Ray tasks
    threads: int  # torch threads of each
    backend: str  # "this process", "processes" or "ray"
    bytes_per_member: int  # estimated peak (run/shards.py), the largest group's
    fit_per_shard: int  # members that fit in one shard (memory, --max-members)
    free_bytes: int  # free memory of the device it is measured against

    def describe(self) -> str:
        if self.shards == [1]:
            return f"training on {self.device}, {self.threads} thread(s)"
        at_once = "Ray task(s)" if self.backend == "ray" else "process(es)"
        return (
            f"training {self.runs} runs: {self.groups} ensemble group(s) in "
            f"{len(self.shards)} shard(s) [{_sizes(self.shards)}] on {self.device}, "
            f"{self.workers} {at_once} × {self.threads} thread(s); "
            f"≈{self.bytes_per_member / 2**20:,.1f} MiB per member, "
            f"{self.free_bytes / 2**30:.1f} GiB free"
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Progress:
    """What `train_configs` reports as it goes to its `on_progress` callback: a line for the
    user (`message`), or where training stands (the lowest step of the runs training now and
    each one's last train / test accuracy); `finished` once training of this call is over."""

    message: str | None = None
    step: int = 0
    total: int = 0
    train_acc: tuple[float, ...] = ()
    test_acc: tuple[float, ...] = ()
    finished: bool = False
    plan: Plan | None = None  # the plan, once made (before training)

    def generalized(self) -> int:
        return sum(a >= TAU for a in self.test_acc)


def train_configs(
    configs: Sequence[RunConfig],
    store: Store,
    device: torch.device | str | None = None,
    *,
    workers: int | None = None,
    max_members: int | None = None,
    options: Options = DEFAULT_OPTIONS,
    on_progress: Callable[[Progress], None] | None = None,
    callbacks: Sequence[Callback] = (),
) -> list[RunResult]:
    """Train (or find, or resume) every config; one result per config, in order, each with its
    curves. `workers`: shards side by side (default: one process per usable core on CPU, one on
    a GPU; with `options.backend` a Ray cluster, its CPUs / threads, or its GPUs: every shard is
    then a Ray task, run/cluster.py); `callbacks` (training callbacks, e.g. for tests) keep
    training in this process."""
    device = resolve_device(device)
    report = on_progress or (lambda progress: None)
    distinct = list(dict.fromkeys(configs))
    found = {c.run_id(): found_finished(store, c) for c in distinct}
    results = {run_id: r for run_id, r in found.items() if r is not None}
    todo = [c for c in distinct if c.run_id() not in results]
    if len(distinct) == 1 and results:
        report(
            Progress(
                f"found finished run {distinct[0].run_id()} in {store.path}: not training again"
            )
        )
    elif results:
        report(Progress(f"{len(results)} of {len(distinct)} runs found finished in {store.path}"))
    if not todo:
        return [results[c.run_id()] for c in configs]

    groups = ensemble_groups(todo)
    solved = [g for g in groups if g[0].train.optimizer == "lstsq"]  # milliseconds each: here
    trained = [g for g in groups if g[0].train.optimizer != "lstsq"]
    n_trained = sum(len(g) for g in trained)
    backend = None if callbacks else options.backend  # training callbacks live in this process
    if backend is not None and trained:
        backend.connect()
        w = workers or backend.slots(device, options.threads or cpu_threads(1))
    else:
        w = workers or (cpu_workers(n_trained) if device.type == "cpu" else 1)
    if callbacks:
        w = 1
    # every worker gets a shard; a group is cut only as far as that needs (several groups
    # already feed several workers, and each shard costs a process and an ensemble's batching)
    per_group = math.ceil(w / max(1, len(trained)))
    plans = [
        plan_shards(g, device, max_members, min_shards=min(per_group, len(g))) for g in trained
    ]
    shards = [shard for plan in plans for shard in plan.shards]
    w = max(1, min(w, len(shards)))
    threads = options.threads or cpu_threads(w)
    layouts = [Layout(len(s), i, len(shards), w) for i, s in enumerate(shards)]
    if shards:
        plan = Plan(
            runs=n_trained,
            found=len(results),
            groups=len(trained),
            shards=[len(s) for s in shards],
            device=str(device),
            workers=w,
            threads=threads,
            backend="ray" if backend else ("processes" if w > 1 else "this process"),
            bytes_per_member=max(p.bytes_per_member for p in plans),
            fit_per_shard=min(p.max_members for p in plans),
            free_bytes=plans[0].free_bytes,
        )
        report(Progress(plan.describe(), plan=plan))
    steps = {c.run_id(): store.checkpoint_step(c.run_id()) for c in todo}
    resuming = {run_id: step for run_id, step in steps.items() if step is not None}
    if len(todo) == 1 and resuming:
        ((run_id, step),) = resuming.items()
        report(Progress(f"resuming run {run_id} from step {step:,}"))
    elif resuming:
        report(Progress(f"resuming {len(resuming)} runs"))

    total = max((c.train.steps for c in todo), default=0)
    with torch_threads(threads):
        for group in solved:
            for r in train_ensemble(group, store, device, (), options):
                results[r.record.id] = r
        if backend is not None and shards:
            done = backend.train(
                list(zip(shards, layouts, strict=True)),
                store,
                device,
                threads,
                options,
                lambda line: report(Progress(line)),
            )
            _read_back(store, done, results)
        elif w == 1:
            forward = [_Forward(report, total)] if on_progress else []
            for shard, layout in zip(shards, layouts, strict=True):
                for r in train_ensemble(
                    shard, store, device, [*callbacks, *forward], options, layout
                ):
                    results[r.record.id] = r
        elif shards:
            poll = _StorePoll(store, total, report)
            done = train_in_processes(
                list(zip(shards, layouts, strict=True)), store, device, w, threads, options, poll
            )
            _read_back(store, done, results)
    report(Progress(finished=True, total=total))
    return [results[c.run_id()] for c in configs]


def _read_back(store: Store, done: dict, results: dict[str, RunResult]) -> None:
    """The results of runs trained elsewhere ({run id: (resumed_from, cached)}), from the
    store."""
    for run_id, (resumed_from, cached) in done.items():
        record, metrics = store.get_run(run_id), store.metrics(run_id)
        results[run_id] = RunResult(
            record, events_of(record, metrics), resumed_from, cached, metrics
        )


def _sizes(sizes: list[int]) -> str:
    """Members per shard: each, or their range when there are many."""
    if len(sizes) <= 8:
        return ", ".join(map(str, sizes))
    return f"{min(sizes)}–{max(sizes)} each"


@contextmanager
def torch_threads(n: int):
    """Torch's CPU threads set to `n` for the block, restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Forward(Callback):
    """Reports the training state of an ensemble in this process, at most every 0.1 s."""

    def __init__(self, report: Callable[[Progress], None], total: int) -> None:
        self.report, self.total, self.last = report, total, 0.0

    def on_step_end(self, state: TrainState) -> None:
        if time.monotonic() - self.last >= 0.1:
            self.last = time.monotonic()
            m = state.metrics
            self.report(
                Progress(
                    step=state.step,
                    total=self.total,
                    train_acc=tuple(m["train/acc"].tolist()) if "train/acc" in m else (),
                    test_acc=tuple(m["test/acc"].tolist()) if "test/acc" in m else (),
                )
            )


class _StorePoll:
    """Reports the training state of the shards training now in worker processes, from what
    they have stored."""

    def __init__(self, store, total, report) -> None:
        self.store, self.total, self.report = store, total, report
        self.last = 0.0

    def __call__(self, run_ids: list[str]) -> None:
        if not run_ids or time.monotonic() - self.last < POLL_SECONDS:
            return
        self.last = time.monotonic()
        step, train, test = self.store.latest(run_ids, ("train/acc", "test/acc"))
        self.report(
            Progress(step=step, total=self.total, train_acc=tuple(train), test_acc=tuple(test))
        )
