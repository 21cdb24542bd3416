"""Training one ensemble in this process: E member configs in lockstep, each stored as its own
run. Finished members are read from the store; unfinished ones resume from their checkpoints,
grouped by the step they stopped at (members stopped at different steps cannot share a lockstep
loop)."""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Sequence

import torch

from phenolab.analysis.events import events_of
from phenolab.config import RunConfig, check_ensemble
from phenolab.run.build import build_ensemble, restore
from phenolab.run.environment import DEFAULT_OPTIONS, Layout, Options, environment, fast_path
from phenolab.run.record import Keeper, Recorder, open_records, summary
from phenolab.run.result import RunInterrupted, RunResult
from phenolab.run.solve import solve_members
from phenolab.run.start import member_start
from phenolab.store import RunBusy, Store
from phenolab.train.loop import Callback, TrainState, train
from phenolab.train.members import member_slice


def train_ensemble(
    configs: list[RunConfig],
    store: Store,
    device: torch.device,
    callbacks: Sequence[Callback] = (),
    options: Options = DEFAULT_OPTIONS,
    layout: Layout | None = None,
) -> list[RunResult]:
    """Train E member configs in lockstep as one ensemble; one result per config, in order.
    Members differ only in MEMBER_FIELDS (config.check_ensemble)."""
    check_ensemble(configs)
    results: dict[str, RunResult] = {}
    distinct = list(dict.fromkeys(configs))
    claimed = [c.run_id() for c in distinct if not _finished(store, c, results)]
    # one process per run (store/lease.py): another live trainer of these runs is a RunBusy
    store.claim(claimed)
    try:
        # what finished while we were claiming is found, not trained again
        todo = [c for c in distinct if c.run_id() in claimed and not _finished(store, c, results)]
        pending: dict[int, list[tuple[RunConfig, tuple | None]]] = {}
        for cfg in todo:
            checkpoint = store.load_checkpoint(cfg.run_id())
            pending.setdefault(checkpoint[0] if checkpoint else 0, []).append((cfg, checkpoint))
        for group in pending.values():
            members = [cfg for cfg, _ in group]
            # members resuming from different steps train as separate ensembles
            shape = dataclasses.replace(layout or Layout(), members=len(members))
            env = environment(device) | {"ensemble_members": len(members)}
            if members[0].train.optimizer == "lstsq":  # no training loop: a closed-form solve
                trained = solve_members(members, store, device, env, shape)
            else:
                env["fast_path"] = fast_path(options, device)
                trained = _train_members(group, store, device, callbacks, options, env, shape)
            results.update((r.record.id, r) for r in trained)
    finally:
        store.release(claimed)
    return [results[cfg.run_id()] for cfg in configs]


def found_finished(store: Store, cfg: RunConfig) -> RunResult | None:
    """`cfg`'s run as stored, when it is finished there (None: it is not)."""
    record = store.get_run(cfg.run_id())
    if record is None or record.status != "finished":
        return None
    metrics = store.metrics(record.id)
    return RunResult(record, events_of(record, metrics), None, True, metrics)


def _finished(store: Store, cfg: RunConfig, results: dict[str, RunResult]) -> bool:
    """Whether `cfg`'s run is finished in the store; if so its result goes into `results`."""
    found = found_finished(store, cfg)
    if found is not None:
        results[found.record.id] = found
    return found is not None


def _train_members(
    members: list[tuple[RunConfig, tuple | None]],
    store: Store,
    device: torch.device,
    callbacks: Sequence[Callback],
    options: Options,
    env: dict,
    layout: Layout,
) -> list[RunResult]:
    """Train members that all start at the same step (0, or their common checkpoint step)."""
    configs = [cfg for cfg, _ in members]
    checkpoints = [checkpoint for _, checkpoint in members]
    run_ids = [cfg.run_id() for cfg in configs]
    starts = [member_start(store, cfg) for cfg in configs]
    state, plan, sampler, hooks = build_ensemble(configs, device, options, starts)
    resumed_from = checkpoints[0][0] if checkpoints[0] else None
    if resumed_from is not None:
        restore(state, sampler, [checkpoint[2] for checkpoint in checkpoints], resumed_from, hooks)

    steps = [checkpoint[0] if checkpoint else None for checkpoint in checkpoints]
    open_records(store, configs, steps, env, layout, device)

    def snapshot(s: TrainState) -> list[dict]:
        model_state, optim_state = s.model.state_dict(), s.optimizer.state_dict()
        intervention_state = [hook.state_dict() for hook in hooks]
        return [
            {
                "model": member_slice(model_state, e),
                "optimizer": member_slice(optim_state, e),
                "sampler": sampler.member_state(e) if sampler else None,
                "interventions": member_slice(intervention_state, e),
                # the mask it trains under, for tickets of this run (start.py)
                "mask": starts[e].mask,
            }
            for e in range(len(configs))
        ]

    seconds_before = [checkpoint[1] if checkpoint else 0.0 for checkpoint in checkpoints]
    recorder = Recorder(store, run_ids, seconds_before, options.checkpoint_seconds, snapshot)

    def set_status(status: str, summaries: list | None = None) -> None:
        for e, (run_id, seconds) in enumerate(zip(run_ids, recorder.seconds(state), strict=True)):
            store.set_status(run_id, status, seconds=seconds, summary=summaries and summaries[e])

    try:
        keeper = Keeper(store, run_ids, [cfg.start.keep_checkpoint_at for cfg in configs])
        train(state, plan, [*hooks, recorder, keeper, StopOnSignal(), *callbacks])
    except KeyboardInterrupt:
        set_status("interrupted")
        raise
    except RunBusy:  # the lease was taken over: the run is the other process's now
        raise
    except BaseException:
        set_status("failed")
        raise
    recorder.checkpoint(state)
    if state.stop is not None:
        set_status("interrupted")
        raise RunInterrupted(run_ids, state.step)

    curves = [store.metrics(r) for r in run_ids]  # read once: events and summaries use them
    events = [events_of(store.get_run(r), m) for r, m in zip(run_ids, curves, strict=True)]
    set_status("finished", [summary(m, ev) for m, ev in zip(curves, events, strict=True)])
    return [
        RunResult(store.get_run(r), ev, resumed_from, False, m)
        for r, ev, m in zip(run_ids, events, curves, strict=True)
    ]


class StopOnSignal(Callback):
    """Ctrl-C or SIGTERM: finish the current step, then stop (the caller checkpoints).
    A second Ctrl-C raises at once; the last checkpoint is still intact. Handlers are only
    installed where the default ones are in place (main thread, not ignored)."""

    DEFAULTS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}

    def on_train_start(self, state: TrainState) -> None:
        self.state = state
        self.previous = {}
        for sig, default in self.DEFAULTS.items():
            if signal.getsignal(sig) is default:
                try:
                    signal.signal(sig, self._handle)
                    self.previous[sig] = default
                except ValueError:  # not the main thread
                    pass

    def _handle(self, signum, frame) -> None:
        if self.state.stop == "interrupted" and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.state.stop = "interrupted"

    def on_train_end(self, state: TrainState) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)
