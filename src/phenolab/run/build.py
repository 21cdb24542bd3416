"""Building an ensemble from its member configs: data, model (each member from its start),
optimizer, the training plan and the interventions; and restoring it from checkpoints."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from phenolab import interventions
from phenolab.config import RunConfig, task_data
from phenolab.errors import ConfigError
from phenolab.interventions.masks import KeepMask, apply_mask, full_mask, scale_to_masked_norm
from phenolab.interventions.transfer import load_embeddings
from phenolab.measures import DEFAULT_MEASURES, Context, compute
from phenolab.models import build_model
from phenolab.run.environment import COMPILED, GRAPHED, Options, fast_path, precision_context
from phenolab.run.start import Start
from phenolab.tasks import n_elements
from phenolab.train.batches import EpochSampler, FreshSampler
from phenolab.train.fast import CompiledForward
from phenolab.train.loop import Plan, TrainState
from phenolab.train.losses import make_loss
from phenolab.train.members import member_slice, stack_members
from phenolab.train.optim import make_optimizer
from phenolab.train.schedule import eval_grid


def build_ensemble(
    configs: list[RunConfig], device: torch.device, options: Options, starts: list[Start]
):
    """Data, model, optimizer, plan and hooks of an ensemble of `configs`, each member from its
    start (start.py: seeded initialisation, a parent's weights, a rewound ticket, another
    run's embedding). A member with a mask starts masked and a KeepMask hook, first among the
    hooks, keeps it so. Interventions are built here, from the (masked) start weights, before
    any checkpoint is restored: what they capture (θ₀, its norm) is rebuilt exactly on resume."""
    shared, t = configs[0], configs[0].train
    seeds = [c.train.seed for c in configs]
    data = task_data(configs).to(device)
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
        rows = n_elements(shared.task.op, shared.task.p)
        load_embeddings(model, shared.model.embed_rank, [s.embedding for s in starts], rows)
    for e, s in enumerate(starts):  # the norm-matched dense control (start.py)
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
    hooks = interventions.build([c.interventions() for c in configs], model, state.optimizer)
    return state, plan, sampler, [*mask_hooks, *hooks]


def restore(
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
