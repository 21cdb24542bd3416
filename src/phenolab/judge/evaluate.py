"""Candidates evaluated afterwards from the weights a trial run kept.

All kept steps of one run are loaded at once as the members of one ensemble (the same model
kind, one member per kept step), so each candidate is one call over [K] steps. Candidates see
the label-blind data (`candidates.blind`); the judge reads test accuracy from the run's stored
curves only to score them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from phenolab.analysis.events import Events, events_of
from phenolab.config import RunConfig, from_json, task_data
from phenolab.errors import UserError
from phenolab.judge.candidates import Candidate, blind
from phenolab.measures import Context
from phenolab.models import build_model
from phenolab.store import Store
from phenolab.train.losses import make_loss
from phenolab.train.members import stack_members


@dataclass
class RunCurves:
    """One trial run: its events, test accuracy and each candidate's value at the kept steps."""

    run_id: str
    condition: str
    seed: int
    steps: np.ndarray  # [K] kept steps
    test_acc: np.ndarray  # [K]
    events: Events
    run_length: int
    values: dict[str, np.ndarray]  # candidate id → [K]


class Rebuilt:
    """A run's model and label-blind data, with its kept weights loaded as members."""

    def __init__(
        self, store: Store, cfg: RunConfig, run_id: str, steps: list[int], blind_data: bool = True
    ) -> None:
        weights = [store.kept_weights(run_id, s) for s in steps]
        if any(w is None for w in weights):
            raise UserError(f"judge: run {run_id} kept no weights at some trial steps")
        k = len(steps)
        data = task_data([cfg] * k)
        self.model = build_model(
            cfg.model,
            data.vocab,
            data.n_classes,
            data.x_train.shape[2],
            [cfg.train.seed] * k,
            init_scales=[1.0] * k,  # the kept weights replace the init
            image_shape=data.shape,
        )
        self.model.load_state_dict(stack_members(weights))
        start = store.kept_weights(run_id, 0) if steps[0] != 0 else weights[0]
        init = stack_members([start if start is not None else weights[0]] * k)
        self.ctx = Context(
            self.model,
            blind(data) if blind_data else data,
            make_loss(cfg.train.loss, cfg.train.loss_dtype),
            init,
        )
        self.steps = steps

    def values(self, candidates: list[Candidate]) -> dict[str, np.ndarray]:
        """Each candidate's value at every kept step (functions shared by several candidates
        are called once)."""
        cache: dict[int, dict] = {}
        out = {}
        with torch.no_grad():
            for cand in candidates:
                if id(cand.fn) not in cache:
                    cache[id(cand.fn)] = cand.fn(self.ctx)
                raw = cache[id(cand.fn)]
                if cand.key == "null/steps":
                    value = np.asarray(self.steps, dtype=float)
                elif not cand.key:
                    value = _array(next(iter(raw.values())))
                else:
                    value = _array(raw[cand.key])
                out[cand.id] = derived(value, np.asarray(self.steps), cand.derive)
        return out


def derived(values: np.ndarray, steps: np.ndarray, how: str | None) -> np.ndarray:
    """The judged series: the values, or their slope d(log value)/d(log step) between
    consecutive kept steps (step 0 and the first step get the first slope)."""
    if how is None:
        return values
    if how != "slope":
        raise ValueError(how)
    logs = np.log(np.maximum(steps, 1.0))
    logv = np.log(np.maximum(values, 1e-30))
    slope = np.diff(logv) / np.maximum(np.diff(logs), 1e-12)
    return np.concatenate([[slope[0]], slope])


def run_curves(store: Store, run_id: str, condition: str, candidates: list[Candidate]) -> RunCurves:
    record = store.get_run(run_id)
    if record is None or record.status != "finished":
        raise UserError(f"judge: run {run_id} of condition {condition} is not finished")
    cfg = from_json(record.config)
    metrics = store.metrics(run_id)
    steps = store.kept_steps(run_id)
    acc_steps, acc = metrics["test/acc"]
    at = dict(zip(acc_steps, acc, strict=True))
    rebuilt = Rebuilt(store, cfg, run_id, steps)
    return RunCurves(
        run_id=run_id,
        condition=condition,
        seed=cfg.train.seed,
        steps=np.asarray(steps),
        test_acc=np.asarray([at.get(s, np.nan) for s in steps]),
        events=events_of(record, metrics),
        run_length=cfg.train.steps,
        values=rebuilt.values(candidates),
    )


def _array(value) -> np.ndarray:
    return torch.as_tensor(value).detach().double().cpu().numpy()
