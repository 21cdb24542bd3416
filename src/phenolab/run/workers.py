"""Shards trained side by side in worker processes (spawned: CUDA and fork do not mix). Each
worker trains one shard as one ensemble into the same store; the parent polls the store for
progress and reads the results back from it."""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable

import torch

from phenolab.config import RunConfig, from_json
from phenolab.errors import UserError
from phenolab.run.environment import Layout, Options
from phenolab.run.result import RunInterrupted
from phenolab.store import Store
from phenolab.train.loop import Callback

POLL_SECONDS = 0.5
ORPHAN_POLL_SECONDS = 1.0


def train_in_processes(
    shards: list[tuple[list[RunConfig], Layout]],
    store: Store,
    device: torch.device,
    workers: int,
    threads: int,
    options: Options,
    poll: Callable[[list[str]], None],
) -> dict[str, tuple[int | None, bool]]:
    """Train every shard in at most `workers` processes at once; {run id: (resumed_from,
    cached)}. `poll` is called with the run ids of the shards training now, every
    POLL_SECONDS. Ctrl-C reaches the workers too (and, when only this process
    got it, through an event): each checkpoints and stops, then RunInterrupted. A worker whose
    parent is killed checkpoints and stops by itself (StopWhenAsked)."""
    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    stop = ctx.Event()  # set on Ctrl-C: every worker checkpoints and stops
    todo = list(enumerate(shards))
    running: dict[int, mp.Process] = {}
    outcome: dict[int, tuple] = {}
    interrupted = False
    try:
        while todo or running:
            while todo and len(running) < workers:
                i, (shard, layout) = todo.pop(0)
                args = (i, [c.to_json() for c in shard], layout, store.path, str(device))
                proc = ctx.Process(target=_worker, args=(*args, threads, options, results, stop))
                proc.start()
                running[i] = proc
            try:
                i, status, payload = results.get(timeout=POLL_SECONDS)
                outcome[i] = (status, payload)
                running.pop(i).join()
            except queue.Empty:
                for i, proc in list(running.items()):
                    if not proc.is_alive() and i not in outcome:
                        running.pop(i)
                        outcome[i] = ("error", f"worker exited with code {proc.exitcode}")
            poll([c.run_id() for i in running for c in shards[i][0]])
    except KeyboardInterrupt:
        # A terminal's Ctrl-C reached the workers too; a SIGINT sent to this process alone
        # (`kill -INT`) did not: the event tells them the same, at their next step's end.
        interrupted = True
        stop.set()
        for proc in running.values():
            proc.join()
    mistakes = [p for s, p in outcome.values() if s == "user-error"]
    if mistakes:  # e.g. a run another process is training: one line, as in this process
        raise UserError(mistakes[0])
    failures = [p for s, p in outcome.values() if s == "error"]
    if failures:
        raise RuntimeError(f"a shard failed: {failures[0]}")
    stopped = [p for s, p in outcome.values() if s == "interrupted"]
    if interrupted or stopped:
        ids = [c.run_id() for shard, _ in shards for c in shard]
        raise RunInterrupted(ids, max(stopped, default=0))
    return {
        run_id: trained for _, payload in outcome.values() for run_id, trained in payload.items()
    }


class StopWhenAsked(Callback):
    """Ends training at a step's end, as Ctrl-C does (the caller checkpoints), when the parent
    asks (its Ctrl-C came alone, e.g. `kill -INT`) or is gone (killed, its terminal closed): a
    worker does not train on for nobody, and the same command resumes its runs. Checked only
    between steps, so a worker already writing its results finishes them."""

    def __init__(self, asked) -> None:
        self.asked, self.parent = asked, os.getppid()
        self.orphaned = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while os.getppid() == self.parent:
            time.sleep(ORPHAN_POLL_SECONDS)
        self.orphaned.set()

    def on_step_end(self, state) -> None:
        if self.asked.is_set() or self.orphaned.is_set():
            state.stop = "interrupted"


def _worker(index, config_json, layout, store_path, device, threads, options, results, stop):
    from phenolab.run.ensemble import train_ensemble

    torch.set_num_threads(threads)
    try:
        configs = [from_json(c) for c in config_json]
        with Store(store_path) as store:
            callbacks = (StopWhenAsked(stop),)
            rs = train_ensemble(configs, store, torch.device(device), callbacks, options, layout)
        results.put((index, "ok", {r.record.id: (r.resumed_from, r.cached) for r in rs}))
    except RunInterrupted as exc:
        results.put((index, "interrupted", exc.step))
    except KeyboardInterrupt:
        results.put((index, "interrupted", 0))
    except UserError as exc:
        results.put((index, "user-error", str(exc)))
    except Exception as exc:  # reported by the parent
        results.put((index, "error", f"{type(exc).__name__}: {exc}"))
