"""The watcher: a user's own PyTorch training loop recorded like a phenolab run.

    w = phenolab.watch(model, train=(x, y), test=(x_test, y_test), store="phenolab.db")
    for step in range(steps):
        ...                      # the user's own forward, backward and optimizer step
        w.step(step + 1)         # on the evaluation grid: measures → the store
    w.finish()                   # events, phase and summary; `phenolab report RUN` works

Lightning and Hugging Face Trainer loops: the callbacks of `adapters.py`.

An ordinary nn.Module (no member dimension) is seen as an ensemble of one (`OneMember`), so the
registered measures that read only the model's outputs and weights — performance, norm, layers,
continuous, collapse, primes — run on it unchanged. The run is stored with a random id and a
config whose `external` section says it was watched (store/sqlite.py: EXTERNAL); it holds the
run's lease while it records, as a phenolab run does (store/lease.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import torch

from phenolab.analysis.events import Events, events_of
from phenolab.errors import UserError
from phenolab.measures import MEASURES, Context, compute
from phenolab.store import Store
from phenolab.store.sqlite import EXTERNAL
from phenolab.tasks.data import TaskData
from phenolab.train.losses import LOSSES
from phenolab.train.schedule import log_spaced

# the measures that need nothing but outputs and weights (the others read a phenolab model's
# embedding or a phenolab task's structure)
WATCHABLE = ("performance", "norm", "layers", "continuous", "collapse", "primes")
DEFAULT_MEASURES = ("performance", "norm")
DEFAULT_EVERY = 100


class OneMember:
    """A model without a member dimension seen as an ensemble of E = 1: inputs [1, N, ...] →
    outputs [1, N, C]; parameters with a leading dimension of 1 (detached views)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x[0])
        if isinstance(out, Mapping):  # a Hugging Face ModelOutput, or a dict with logits
            out = out["logits"]
        return out.unsqueeze(0)  # [1, N, C]

    def named_parameters(self):
        return ((n, p.detach().unsqueeze(0)) for n, p in self.model.named_parameters())

    def parameters(self):
        return (p for _, p in self.named_parameters())


class Watcher:
    """Records a user's training loop into a phenolab store (see the module docstring)."""

    def __init__(
        self,
        model: torch.nn.Module,
        train: tuple[torch.Tensor, torch.Tensor],
        test: tuple[torch.Tensor, torch.Tensor],
        measures: tuple[str, ...] | list[str] = DEFAULT_MEASURES,
        store: str | Store = "phenolab.db",
        name: str | None = None,
        every: int = DEFAULT_EVERY,
        loss: str = "cross_entropy",
        params: dict[str, Any] | None = None,
    ) -> None:
        for m in measures:
            MEASURES.get(m)  # an unknown name: a ConfigError listing the valid ones
            if m not in WATCHABLE:
                raise UserError(
                    f"watch: measure {m!r} reads a phenolab model or task; on your own model: "
                    f"{', '.join(WATCHABLE)}"
                )
        if every < 1:
            raise UserError(f"watch: every must be at least 1, got {every}")
        self.model, self.measures, self.every = model, tuple(measures), every
        self.loss_fn = LOSSES.get(loss)
        device = next(model.parameters()).device
        x, y = _pair("train", train, device)
        x_test, y_test = _pair("test", test, device)
        classes = int(max(y.max(), y_test.max())) + 1
        self.data = TaskData(x, y, x_test, y_test, n_classes=classes, vocab=0)
        self.member = OneMember(model)
        # the start weights, for `layers`' movement from init (a copy of the model: only if asked)
        self.init = (
            {n: p.clone() for n, p in self.member.named_parameters()}
            if "layers" in self.measures
            else None
        )
        self.grid = {0, *log_spaced(10 * every, points=30)}  # dense early, then every `every`
        self.own_store = not isinstance(store, Store)  # opened here: closed when done
        self.store = Store(store) if self.own_store else store
        self.run_id = uuid.uuid4().hex[:12]
        self.config = {
            EXTERNAL: {
                "source": "watch",
                "name": name or type(model).__name__,
                "chance": 1.0 / classes,
                "model": type(model).__name__,
                "parameters": sum(p.numel() for p in model.parameters()),
                "n_train": x.shape[1],
                "n_test": x_test.shape[1],
                "measures": list(self.measures),
                "every": every,
                "loss": loss,
            },
            "params": {k: _plain(v) for k, v in (params or {}).items()},
        }
        from phenolab.run import environment

        env = environment(device) | {"dtype": str(next(model.parameters()).dtype)[6:]}
        self.store.create_run(self.run_id, self.config, env)
        self.store.claim([self.run_id])
        self.start = time.perf_counter()
        self.last_step: int | None = None

    def due(self, step: int) -> bool:
        """Whether `step` is on the evaluation grid: step 0, 30 log-spaced steps up to
        10·every, then every `every` steps."""
        return step in self.grid or step % self.every == 0

    def step(self, step: int) -> dict[str, float] | None:
        """Call after each optimizer step with the number of steps taken: on the grid, the
        measures are computed (in eval mode, without gradients) and stored; returns them."""
        if not self.due(step):
            return None
        return self.record(step)

    def record(self, step: int) -> dict[str, float]:
        """Measure and store now, on the grid or not (e.g. the last step)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                ctx = Context(self.member, self.data, self.loss_fn, self.init)
                values = {k: float(v[0]) for k, v in compute(self.measures, ctx).items()}
        finally:
            self.model.train(was_training)
        values |= {"time/seconds": time.perf_counter() - self.start, "time/unix": time.time()}
        self.store.append_metrics(step, {self.run_id: values})
        self.store.heartbeat([self.run_id])
        self.last_step = step
        return values

    def finish(self, step: int | None = None) -> Events:
        """The run's events and phase, stored as its summary; the run is finished. `step`: the
        last step, recorded if it was not on the grid."""
        from phenolab.run import summary

        if step is not None and step != self.last_step:
            self.record(step)
        record = self.store.get_run(self.run_id)
        metrics = self.store.metrics(self.run_id)
        events = events_of(record, metrics)
        seconds = metrics["time/seconds"][1][-1] if "time/seconds" in metrics else 0.0
        self.store.set_status(
            self.run_id,
            "finished",
            seconds=seconds,
            summary=summary(metrics, events) | {"steps": self.last_step},
        )
        self._let_go()
        return events

    def _let_go(self) -> None:
        self.store.release([self.run_id])
        if self.own_store:
            self.store.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.finish()
        else:  # the loop raised: the run stays "interrupted", its curves kept
            self.store.set_status(self.run_id, "interrupted")
            self._let_go()


def _plain(value: Any) -> Any:
    """A param as JSON holds it: numbers, text, booleans and None as they are, the rest (a
    tensor, a tuple) as its text."""
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _pair(split: str, pair, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs [1, N, ...], class ids [1, N]) on the model's device."""
    try:
        x, y = pair
    except (TypeError, ValueError):
        raise UserError(f"watch: {split} must be a pair (inputs, targets)") from None
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise UserError(f"watch: {split} inputs and targets must be tensors")
    if y.is_floating_point() or y.dim() != 1 or len(x) != len(y):
        raise UserError(
            f"watch: {split} targets must be class ids, one per input (got {tuple(y.shape)} "
            f"{y.dtype} for inputs {tuple(x.shape)})"
        )
    return x.to(device)[None], y.to(device)[None]
