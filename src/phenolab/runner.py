"""Config → task → model → training loop → measures → store → analysis: one run end to end.

A run is found by its id (hash of the config): a finished run is returned as stored, an
unfinished one resumes from its checkpoint and continues the same curve.
"""

from __future__ import annotations

import platform
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

import phenolab
from phenolab.analysis.events import Events, classify
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.measures import DEFAULT_MEASURES, Context, compute
from phenolab.models import build_model
from phenolab.store import RunRecord, Store
from phenolab.tasks import modular
from phenolab.train.batches import EpochSampler
from phenolab.train.loop import Callback, Plan, TrainState, train
from phenolab.train.losses import LOSSES
from phenolab.train.optim import SGD, AdamW, MemberOptimizer
from phenolab.train.schedule import eval_grid


@dataclass
class RunResult:
    record: RunRecord
    events: Events
    resumed_from: int | None  # step a resume started from; None for a fresh or stored run
    cached: bool  # True when the finished run was found in the store
    started_unix: float | None = None  # wall clock when this call started training


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str) -> torch.device:
    """A torch device from a user's string, checked to exist here."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device: unknown device {name!r} (valid: cpu, cuda, cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device: {name!r} requested but CUDA is not available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device: {name!r} but only {torch.cuda.device_count()} GPU(s)")
    elif device.type != "cpu":
        raise ConfigError(f"device: {name!r} is not supported (valid: cpu, cuda, cuda:N)")
    return device


def environment(device: torch.device) -> dict:
    """Everything besides the config that can change a curve: recorded with every run."""
    env = {
        "phenolab": phenolab.__version__,
        "run_format": phenolab.RUN_FORMAT,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "dtype": "float32",
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
        env["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
        env["tf32_cudnn"] = torch.backends.cudnn.allow_tf32
    return env


def make_optimizer(cfg: RunConfig, model: torch.nn.Module) -> MemberOptimizer:
    t = cfg.train
    if t.optimizer == "adamw":
        return AdamW(model.parameters(), lr=[t.lr], wd=[t.wd], betas=t.betas, eps=t.eps)
    return SGD(model.parameters(), lr=[t.lr], wd=[t.wd], momentum=t.momentum)


def events_of(record: RunRecord, metrics: dict) -> Events:
    steps, train_acc = metrics["train/acc"]
    _, test_acc = metrics["test/acc"]
    return classify(steps, train_acc, test_acc, chance=1.0 / record.config["task"]["p"])


class _Recorder(Callback):
    """Writes each evaluation to the store; checkpoints every `checkpoint_seconds`."""

    def __init__(self, store: Store, run_id: str, checkpoint_seconds: float, snapshot) -> None:
        self.store, self.run_id = store, run_id
        self.checkpoint_seconds = checkpoint_seconds
        self.snapshot = snapshot
        self.last_checkpoint = time.monotonic()

    def on_eval(self, state: TrainState) -> None:
        values = {k: v[0].item() for k, v in state.metrics.items()}
        values["time/seconds"] = state.seconds
        self.store.append_metrics(self.run_id, state.step, values, seconds=state.seconds)
        if time.monotonic() - self.last_checkpoint >= self.checkpoint_seconds:
            self.checkpoint(state)

    def checkpoint(self, state: TrainState) -> None:
        self.store.save_checkpoint(self.run_id, state.step, state.seconds, self.snapshot(state))
        self.last_checkpoint = time.monotonic()


class _StopOnSignal(Callback):
    """First Ctrl-C: finish the current step, then stop (the runner checkpoints).
    A second Ctrl-C raises at once; the last checkpoint is still intact."""

    def on_train_start(self, state: TrainState) -> None:
        self.state = state
        self.previous = signal.getsignal(signal.SIGINT)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.state.stop == "interrupted":
            raise KeyboardInterrupt
        self.state.stop = "interrupted"

    def on_train_end(self, state: TrainState) -> None:
        if signal.getsignal(signal.SIGINT) == self._handle:
            signal.signal(signal.SIGINT, self.previous)


def run(
    cfg: RunConfig,
    store: Store,
    device: torch.device | str | None = None,
    callbacks: Sequence[Callback] = (),
    checkpoint_seconds: float = 30.0,
) -> RunResult:
    """Train `cfg` (or fetch / resume it from `store`) and return the finished run."""
    run_id = cfg.run_id()
    record = store.get_run(run_id)
    if record is not None and record.status == "finished":
        return RunResult(record, events_of(record, store.metrics(run_id)), None, cached=True)

    device = torch.device(device) if device is not None else default_device()
    data = modular.build([cfg.task], cfg.model.model, [cfg.train.seed]).to(device)
    model = build_model(
        cfg.model, data.vocab, data.n_classes, data.x_train.shape[2], seeds=[cfg.train.seed]
    ).to(device)
    optimizer = make_optimizer(cfg, model)
    t = cfg.train
    sampler = EpochSampler(data.x_train.shape[1], t.batch_size, [t.seed]) if t.batch_size else None
    loss_fn = LOSSES[t.loss]
    plan = Plan(
        steps=t.steps,
        eval_steps=eval_grid(t.steps, t.eval_every),
        loss_fn=loss_fn,
        warmup=t.warmup,
        sampler=sampler,
        measure=lambda s: compute(DEFAULT_MEASURES, Context(s.model, s.data, loss_fn)),
    )
    state = TrainState(model=model, optimizer=optimizer, data=data)

    def snapshot(s: TrainState) -> dict:
        return {
            "model": s.model.state_dict(),
            "optimizer": s.optimizer.state_dict(),
            "sampler": sampler.state_dict() if sampler else None,
        }

    env = environment(device)
    resumed_from = None
    if record is None:
        store.create_run(run_id, cfg.to_json(), env)
    else:
        checkpoint = store.load_checkpoint(run_id)
        resumed_from = 0
        if checkpoint is not None:
            resumed_from, state.seconds, saved = checkpoint
            state.step = resumed_from
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            if sampler:
                sampler.load_state_dict(saved["sampler"])
        store.drop_metrics_after(run_id, resumed_from if checkpoint else -1)
        store.set_status(run_id, "running", env=env)

    recorder = _Recorder(store, run_id, checkpoint_seconds, snapshot)
    started_unix = time.time()
    try:
        train(state, plan, [recorder, _StopOnSignal(), *callbacks])
    except KeyboardInterrupt:
        store.set_status(run_id, "interrupted", seconds=state.seconds)
        raise
    except BaseException:
        store.set_status(run_id, "failed", seconds=state.seconds)
        raise
    recorder.checkpoint(state)
    if state.stop is not None:
        store.set_status(run_id, "interrupted", seconds=state.seconds)
        raise RunInterrupted(run_id, state.step)

    record = store.get_run(run_id)
    assert record is not None
    events = events_of(record, store.metrics(run_id))
    summary = events.as_dict()
    summary["time_to_gen"] = _time_at(store.metrics(run_id), events.t_gen)
    store.set_status(run_id, "finished", seconds=state.seconds, summary=summary)
    record = store.get_run(run_id)
    assert record is not None
    return RunResult(record, events, resumed_from, cached=False, started_unix=started_unix)


def _time_at(metrics: dict, step: int | None) -> float | None:
    """Training seconds elapsed when the eval at `step` was recorded."""
    if step is None:
        return None
    steps, seconds = metrics["time/seconds"]
    return seconds[steps.index(step)]


class RunInterrupted(Exception):
    def __init__(self, run_id: str, step: int) -> None:
        super().__init__(f"run {run_id} interrupted at step {step}; run the same command to resume")
        self.run_id, self.step = run_id, step
