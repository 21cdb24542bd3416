"""Config → task → model → training loop → measures → store → analysis: one run end to end.

A run is found by its id (hash of the config): a finished run is returned as stored, an
unfinished one resumes from its checkpoint and continues the same curve.
"""

from __future__ import annotations

import platform
import signal
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch

import phenolab
from phenolab import interventions
from phenolab.analysis.events import NO_EVENTS, Events, classify, value_at
from phenolab.config import RunConfig, check_ensemble
from phenolab.errors import ConfigError
from phenolab.interventions.masks import KeepMask, apply_mask, full_mask, scale_to_masked_norm
from phenolab.interventions.transfer import load_embeddings
from phenolab.measures import DEFAULT_MEASURES, Context, compute
from phenolab.models import build_model
from phenolab.run.start import Start, member_start
from phenolab.store import RunRecord, Store
from phenolab.tasks import modular
from phenolab.train import closedform
from phenolab.train.batches import EpochSampler, FreshSampler
from phenolab.train.fast import CompiledForward
from phenolab.train.loop import Callback, Plan, TrainState, train
from phenolab.train.losses import make_loss
from phenolab.train.members import member_slice, stack_members
from phenolab.train.muon import Muon
from phenolab.train.optim import SGD, Adam, AdamW, MemberOptimizer
from phenolab.train.schedule import eval_grid


@dataclass(frozen=True)
class Options:
    """How to run, as opposed to what to run: none of these change the run's identity."""

    checkpoint_seconds: float = 30.0  # checkpoint at most this often (wall time)
    # the fast path: on CUDA the step as a CUDA graph (train/graphs.py), on CPU the forward
    # pass and loss through torch.compile (train/fast.py)
    fast: bool = False


DEFAULT_OPTIONS = Options()


@dataclass
class RunResult:
    record: RunRecord
    events: Events
    resumed_from: int | None  # step a resume started from; None for a fresh or stored run
    cached: bool  # True when the finished run was found in the store
    metrics: dict | None = None  # {name: (steps, values)}, filled in by callers that need curves
    # values an analysis computes after training from stored runs, e.g. a catalog entry's barrier
    # to a sibling run (Entry.analysis): {name: value}
    derived: dict = field(default_factory=dict)


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


def precision_context(precision: str, device: torch.device):
    """The context for forward passes at `precision` (fp32: none)."""
    if precision == "bf16":
        # no cast cache: a CUDA graph replays the casts of every step
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
    if precision == "tf32":
        if device.type != "cuda":
            raise ConfigError("precision: tf32 needs a CUDA device (use fp32 or bf16 on CPU)")
        torch.backends.cuda.matmul.allow_tf32 = True  # recorded in the run's environment
        torch.backends.cudnn.allow_tf32 = True
    return nullcontext


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


COMPILED, GRAPHED = "torch.compile (forward + loss)", "CUDA graph (whole step)"


def fast_path(options: Options, device: torch.device) -> str | None:
    """Which fast path `options` turn on for `device` (None: the eager step)."""
    if not options.fast:
        return None
    return GRAPHED if device.type == "cuda" else COMPILED


def make_optimizer(configs: list[RunConfig], model: torch.nn.Module) -> MemberOptimizer:
    """The shared optimizer kind with each member's lr, weight decay and warmup."""
    t = configs[0].train
    per_member = {
        "lr": [c.train.lr for c in configs],
        "wd": [c.train.wd for c in configs],
        "warmup": [c.train.warmup for c in configs],
    }
    if t.optimizer in ("adamw", "adam"):
        kind = AdamW if t.optimizer == "adamw" else Adam
        return kind(model.parameters(), **per_member, betas=t.betas, eps=t.eps)
    if t.optimizer == "muon":  # by name: the model's input and output layers stay with AdamW
        return Muon(
            model.named_parameters(),
            **per_member,
            momentum=t.muon_momentum,
            muon_lr=t.muon_lr or None,
            exterior=model.exterior,
            betas=t.betas,
            eps=t.eps,
        )
    return SGD(model.parameters(), **per_member, momentum=t.momentum)


def events_of(record: RunRecord, metrics: dict) -> Events:
    if "train/acc" not in metrics:  # a regression run: no accuracy, no events
        return NO_EVENTS
    steps, train_acc = metrics["train/acc"]
    _, test_acc = metrics["test/acc"]
    task = record.config["task"]
    return classify(
        steps, train_acc, test_acc, chance=1.0 / modular.n_elements(task["op"], task["p"])
    )


class _Recorder(Callback):
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


class _Keeper(Callback):
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


class _StopOnSignal(Callback):
    """Ctrl-C or SIGTERM: finish the current step, then stop (the runner checkpoints).
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


def run(
    cfg: RunConfig,
    store: Store,
    device: torch.device | str | None = None,
    callbacks: Sequence[Callback] = (),
    options: Options = DEFAULT_OPTIONS,
) -> RunResult:
    """Train `cfg` (or fetch / resume it from `store`) and return the finished run."""
    return run_ensemble([cfg], store, device, callbacks, options)[0]


def run_ensemble(
    configs: list[RunConfig],
    store: Store,
    device: torch.device | str | None = None,
    callbacks: Sequence[Callback] = (),
    options: Options = DEFAULT_OPTIONS,
) -> list[RunResult]:
    """Train E member configs in lockstep as one ensemble and return one result per config.

    Members differ only in MEMBER_FIELDS. Finished members are read from the store; unfinished
    ones resume from their checkpoints, grouped by the step they stopped at (members stopped
    at different steps cannot share a lockstep loop).
    """
    check_ensemble(configs)
    device = torch.device(device) if device is not None else default_device()
    results: dict[str, RunResult] = {}
    pending: dict[int, list[tuple[RunConfig, tuple | None]]] = {}
    for cfg in dict.fromkeys(configs):  # de-duplicated, in order
        run_id = cfg.run_id()
        record = store.get_run(run_id)
        if record is not None and record.status == "finished":
            results[run_id] = RunResult(
                record, events_of(record, store.metrics(run_id)), None, cached=True
            )
            continue
        checkpoint = store.load_checkpoint(run_id) if record is not None else None
        pending.setdefault(checkpoint[0] if checkpoint else 0, []).append((cfg, checkpoint))
    for group in pending.values():
        for result in _train_members(group, store, device, callbacks, options):
            results[result.record.id] = result
    return [results[cfg.run_id()] for cfg in configs]


def _train_members(
    members: list[tuple[RunConfig, tuple | None]],
    store: Store,
    device: torch.device,
    callbacks: Sequence[Callback],
    options: Options,
) -> list[RunResult]:
    """Train members that all start at the same step (0, or their common checkpoint step)."""
    configs = [cfg for cfg, _ in members]
    if configs[0].train.optimizer == "lstsq":  # no training loop: one closed-form solve
        return _solve_members(configs, store, device)
    checkpoints = [checkpoint for _, checkpoint in members]
    run_ids = [cfg.run_id() for cfg in configs]
    starts = [member_start(store, cfg) for cfg in configs]
    state, plan, sampler, hooks = _build(configs, device, options, starts)
    resumed_from = checkpoints[0][0] if checkpoints[0] else None
    if resumed_from is not None:
        saved = [checkpoint[2] for checkpoint in checkpoints]
        _restore(state, sampler, saved, resumed_from, hooks)

    env = environment(device) | {
        "ensemble_members": len(configs),
        "fast_path": fast_path(options, device),
    }
    for cfg, run_id, checkpoint in zip(configs, run_ids, checkpoints, strict=True):
        if store.get_run(run_id) is None:
            store.create_run(run_id, cfg.to_json(), env)
        else:  # what was recorded after the checkpoint is recomputed identically
            store.drop_metrics_after(run_id, checkpoint[0] if checkpoint else -1)
            store.set_status(run_id, "running", env=env)

    def snapshot(s: TrainState) -> list[dict]:
        model_state, optim_state = s.model.state_dict(), s.optimizer.state_dict()
        intervention_state = [hook.state_dict() for hook in hooks]
        return [
            {
                "model": member_slice(model_state, e),
                "optimizer": member_slice(optim_state, e),
                "sampler": sampler.member_state(e) if sampler else None,
                "interventions": member_slice(intervention_state, e),
                # the mask it trains under, for tickets of this run (tickets.py)
                "mask": starts[e].mask,
            }
            for e in range(len(configs))
        ]

    seconds_before = [checkpoint[1] if checkpoint else 0.0 for checkpoint in checkpoints]
    recorder = _Recorder(store, run_ids, seconds_before, options.checkpoint_seconds, snapshot)

    def set_status(status: str, summaries: list | None = None) -> None:
        for e, (run_id, seconds) in enumerate(zip(run_ids, recorder.seconds(state), strict=True)):
            summary = summaries[e] if summaries else None
            store.set_status(run_id, status, seconds=seconds, summary=summary)

    try:
        keeper = _Keeper(store, run_ids, [cfg.train.keep_checkpoint_at for cfg in configs])
        train(state, plan, [*hooks, recorder, keeper, _StopOnSignal(), *callbacks])
    except KeyboardInterrupt:
        set_status("interrupted")
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
    set_status("finished", [_summary(m, ev) for m, ev in zip(curves, events, strict=True)])
    return [
        RunResult(store.get_run(r), ev, resumed_from, cached=False)
        for r, ev in zip(run_ids, events, strict=True)
    ]


def _solve_members(configs: list[RunConfig], store: Store, device: torch.device) -> list[RunResult]:
    """Runs with optimizer=lstsq: each member's head solved in closed form (ridge with λ = wd;
    min-norm for 0; train/closedform.py), its metrics recorded at step closedform.STEP and its
    weights as the final checkpoint. A solve is cheap: an unfinished one is simply redone."""
    run_ids = [cfg.run_id() for cfg in configs]
    env = environment(device) | {"ensemble_members": len(configs), "solver": "SVD, float64"}
    for cfg, run_id in zip(configs, run_ids, strict=True):
        if store.get_run(run_id) is None:
            store.create_run(run_id, cfg.to_json(), env)
        else:
            store.drop_metrics_after(run_id, -1)
            store.set_status(run_id, "running", env=env)
    t0 = time.perf_counter()
    seeds = [c.train.seed for c in configs]
    data = modular.build([c.task for c in configs], configs[0].model.model, seeds).to(device)
    model = build_model(
        configs[0].model, data.vocab, data.n_classes, data.x_train.shape[2], seeds
    ).to(device)
    lam = torch.tensor([c.train.wd for c in configs], dtype=torch.float64, device=device)
    metrics = closedform.solve_head(model, data, lam)  # name → [E]
    seconds, now = time.perf_counter() - t0, time.time()
    values = {k: v.tolist() for k, v in metrics.items()}
    rows = {
        run_id: {k: v[e] for k, v in values.items()} | {"time/seconds": seconds, "time/unix": now}
        for e, run_id in enumerate(run_ids)
    }
    store.append_metrics(closedform.STEP, rows)
    weights = model.state_dict()
    store.save_checkpoints(
        closedform.STEP,
        {r: (seconds, {"model": member_slice(weights, e)}) for e, r in enumerate(run_ids)},
    )
    results = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        curves = store.metrics(run_id)
        events = events_of(record, curves)
        summary = _summary(curves, events) | {
            k: v for k, v in rows[run_id].items() if not k.startswith("time/")
        }
        store.set_status(run_id, "finished", seconds=seconds, summary=summary)
        results.append(RunResult(store.get_run(run_id), events, None, cached=False))
    return results


def _build(
    configs: list[RunConfig],
    device: torch.device,
    options: Options = DEFAULT_OPTIONS,
    starts: list[Start] | None = None,
):
    """Data, model, optimizer, plan and hooks of an ensemble of `configs`, each member from its
    start (tickets.py: seeded initialisation, a parent's weights, a rewound ticket, another
    run's embedding; default: its own seeded initialisation). A member with a mask starts
    masked and a KeepMask hook, first among the hooks, keeps it so. Interventions are built
    here, from the (masked) start weights, before any checkpoint is restored: what they capture
    (θ₀, its norm) is rebuilt exactly on resume."""
    shared, t = configs[0], configs[0].train
    seeds = [c.train.seed for c in configs]
    starts = starts or [Start(None, c.train.seed, c.model.init_scale) for c in configs]
    data = modular.build([c.task for c in configs], shared.model.model, seeds).to(device)
    model = build_model(
        shared.model,
        data.vocab,
        data.n_classes,
        data.x_train.shape[2],
        [s.seed for s in starts],
        init_scales=[s.init_scale for s in starts],
        image_shape=data.shape,
    ).to(device)
    own = model.state_dict()
    if any(s.weights is not None for s in starts):
        weights = [
            s.weights if s.weights is not None else member_slice(own, e)
            for e, s in enumerate(starts)
        ]
        model.load_state_dict(stack_members(weights))
    if any(s.embedding is not None for s in starts):  # embed_from (interventions/transfer.py)
        rows = modular.n_elements(shared.task.op, shared.task.p)
        load_embeddings(model, shared.model.embed_rank, [s.embedding for s in starts], rows)
    for e, s in enumerate(starts):  # the norm-matched dense control (tickets.py)
        if s.norm_of is not None:
            scale_to_masked_norm(dict(model.named_parameters()), s.norm_of, e)
    mask_hooks = []
    if any(s.mask is not None for s in starts):
        everything = full_mask({n: p[:1] for n, p in model.named_parameters()})
        mask = stack_members([s.mask if s.mask is not None else everything for s in starts])
        mask = {n: m.to(device) for n, m in mask.items()}
        with torch.no_grad():
            apply_mask(dict(model.named_parameters()), mask)
        mask_hooks.append(KeepMask(model, mask))
    orders = [c.train.seed if c.train.order_seed is None else c.train.order_seed for c in configs]
    sampler = EpochSampler(data.train_sizes(), t.batch_size, orders) if t.batch_size else None
    if data.stream is not None:  # online: a fresh batch every step (sizes the train buffers)
        if orders != seeds:
            raise ConfigError("order_seed: online training draws fresh samples, in no order")
        sampler = FreshSampler(data, t.batch_size)
    loss_fn = make_loss(t.loss, t.loss_dtype)
    measures = DEFAULT_MEASURES + tuple(m for m in t.measures if m not in DEFAULT_MEASURES)
    # the initial weights are a function of the seeds, so a resumed run rebuilds them exactly
    init = (
        {k: v.detach().clone() for k, v in model.named_parameters()}
        if "layers" in measures
        else None
    )
    fast = fast_path(options, device)
    plan = Plan(
        steps=t.steps,
        eval_steps=eval_grid(t.steps, t.eval_every),
        loss_fn=loss_fn,
        sampler=sampler,
        measure=lambda s: compute(measures, Context(s.model, s.data, loss_fn, init)),
        forward=CompiledForward(loss_fn) if fast == COMPILED else None,
        graph=fast == GRAPHED,
        precision=precision_context(t.precision, device),
    )
    state = TrainState(model=model, optimizer=make_optimizer(configs, model), data=data)
    hooks = interventions.build([c.train.interventions for c in configs], model, state.optimizer)
    return state, plan, sampler, [*mask_hooks, *hooks]


def _restore(
    state: TrainState,
    sampler: EpochSampler | None,
    saved: list[dict],
    step: int,
    hooks: Sequence[interventions.Intervention] = (),
) -> None:
    """Load each member's checkpoint into its slot of the ensemble."""
    state.model.load_state_dict(stack_members([m["model"] for m in saved]))
    state.optimizer.load_state_dict(stack_members([m["optimizer"] for m in saved]))
    if hooks:
        device = next(state.model.parameters()).device
        stacked = stack_members([m["interventions"] for m in saved])
        for hook, hook_state in zip(hooks, stacked, strict=True):
            hook.load_state_dict(_to_device(hook_state, device))
    if sampler:
        for e, m in enumerate(saved):
            sampler.load_member_state(e, m["sampler"])
    state.step = step


def _to_device(state, device: torch.device):
    if isinstance(state, torch.Tensor):
        return state.to(device)
    if isinstance(state, dict):
        return {k: _to_device(v, device) for k, v in state.items()}
    if isinstance(state, list):
        return [_to_device(v, device) for v in state]
    return state


def _summary(metrics: dict, events: Events) -> dict:
    return events.as_dict() | {
        "time_to_gen": value_at(metrics, "time/seconds", events.t_gen),
        "gen_unix": value_at(metrics, "time/unix", events.t_gen),
    }


class RunInterrupted(Exception):
    def __init__(self, run_ids: list[str], step: int) -> None:
        runs = f"run {run_ids[0]}" if len(run_ids) == 1 else f"{len(run_ids)} runs"
        super().__init__(f"{runs} interrupted at step {step}; run the same command to resume")
        self.run_ids, self.step = run_ids, step
