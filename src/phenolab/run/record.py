"""Recording a run as it trains: metrics at every evaluation, checkpoints, kept weights, and the
summary written when it finishes."""

from __future__ import annotations

import time

import torch

from phenolab.analysis.events import Events, value_at
from phenolab.run.environment import Layout
from phenolab.store import Store
from phenolab.train.loop import Callback, TrainState
from phenolab.train.members import member_slice


class Recorder(Callback):
    """Writes each evaluation to the store (one run per member); checkpoints every
    `checkpoint_seconds` of wall time."""

    def __init__(
        self,
        store: Store,
        run_ids: list[str],
        seconds_before: list[float],
        checkpoint_seconds: float,
        snapshot,
    ) -> None:
        self.store, self.run_ids = store, run_ids
        self.seconds_before = seconds_before  # training time of each member before this call
        self.checkpoint_seconds = checkpoint_seconds
        self.snapshot = snapshot
        self.last_checkpoint = time.monotonic()

    def seconds(self, state: TrainState) -> list[float]:
        return [before + state.seconds for before in self.seconds_before]

    def on_eval(self, state: TrainState) -> None:
        values = {k: v.tolist() for k, v in state.metrics.items()}  # name → E values
        now = time.time()
        rows = {}
        for e, (run_id, seconds) in enumerate(zip(self.run_ids, self.seconds(state), strict=True)):
            rows[run_id] = {k: v[e] for k, v in values.items()} | {
                "time/seconds": seconds,  # training time, across resumes
                "time/unix": now,  # wall clock, for "seconds from command start" benchmarks
            }
        self.store.append_metrics(state.step, rows)
        self.store.heartbeat(self.run_ids)  # this process still owns these runs
        if time.monotonic() - self.last_checkpoint >= self.checkpoint_seconds:
            self.checkpoint(state)

    def checkpoint(self, state: TrainState) -> None:
        members = self.snapshot(state)
        self.store.save_checkpoints(
            state.step,
            {
                run_id: (seconds, member)
                for run_id, seconds, member in zip(
                    self.run_ids, self.seconds(state), members, strict=True
                )
            },
        )
        self.last_checkpoint = time.monotonic()


class Keeper(Callback):
    """Keeps each member's weights at the steps its `keep_checkpoint_at` names (store.kept), for
    tickets rewound to them. Runs after the interventions: it keeps the weights the next step
    starts from."""

    def __init__(self, store: Store, run_ids: list[str], steps: list[tuple[int, ...]]) -> None:
        self.store, self.run_ids, self.steps = store, run_ids, steps

    def on_train_start(self, state: TrainState) -> None:
        if state.step == 0:
            self.on_step_end(state)

    def on_step_end(self, state: TrainState) -> None:
        members = [e for e, steps in enumerate(self.steps) if state.step in steps]
        if members:
            weights = state.model.state_dict()
            self.store.keep_weights(
                state.step, {self.run_ids[e]: member_slice(weights, e) for e in members}
            )


def open_records(
    store: Store,
    configs: list,
    resume_steps: list[int | None],
    env: dict,
    layout: Layout,
    device: torch.device,
) -> None:
    """Each member's run record, created, or marked running again with what it recorded after
    its checkpoint dropped (recomputed identically); its env carries the member's layout."""
    for e, (cfg, step) in enumerate(zip(configs, resume_steps, strict=True)):
        run_id, member_env = (
            cfg.run_id(),
            env | {"layout": layout.record(e, env["threads"], device)},
        )
        if store.get_run(run_id) is None:
            store.create_run(run_id, cfg.to_json(), member_env)
        else:
            store.drop_metrics_after(run_id, -1 if step is None else step)
            store.set_status(run_id, "running", env=member_env)


def summary(metrics: dict, events: Events) -> dict:
    """What a finished run's record carries besides its curves: its events and time to grok."""
    return events.as_dict() | {
        "time_to_gen": value_at(metrics, "time/seconds", events.t_gen),
        "gen_unix": value_at(metrics, "time/unix", events.t_gen),
    }
