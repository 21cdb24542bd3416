"""Runs with optimizer=lstsq: no training loop, each member's head solved in closed form (ridge
with λ = wd; min-norm for 0; train/closedform.py). Its metrics are recorded at step
closedform.STEP and its weights as the final checkpoint. A solve is cheap: an unfinished one is
simply redone."""

from __future__ import annotations

import time

import torch

from phenolab.analysis.events import events_of
from phenolab.config import RunConfig, task_data
from phenolab.models import build_model
from phenolab.run.environment import Layout
from phenolab.run.record import open_records, summary
from phenolab.run.result import RunResult
from phenolab.store import Store
from phenolab.train import closedform
from phenolab.train.members import member_slice


def solve_members(
    configs: list[RunConfig], store: Store, device: torch.device, env: dict, layout: Layout
) -> list[RunResult]:
    run_ids = [cfg.run_id() for cfg in configs]
    env = env | {"solver": "SVD, float64"}
    open_records(store, configs, [None] * len(configs), env, layout, device)
    t0 = time.perf_counter()
    seeds = [c.train.seed for c in configs]
    data = task_data(configs).to(device)
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
        curves = store.metrics(run_id)
        events = events_of(store.get_run(run_id), curves)
        solved = {k: v for k, v in rows[run_id].items() if not k.startswith("time/")}
        store.set_status(
            run_id, "finished", seconds=seconds, summary=summary(curves, events) | solved
        )
        results.append(RunResult(store.get_run(run_id), events, None, False, curves))
    return results
