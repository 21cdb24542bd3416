"""Where a member starts training: its seeded initialisation, a parent's final weights
(`init_from`, a continuation) or a lottery ticket (`ticket_from`): a parent's weights rewound
and pruned by a mask from the parent's final weights; and, with `embed_from`, its seeded
initialisation with another run's trained token embedding (interventions/transfer.py:
GrokTransfer and plain embedding transfer).

Lottery tickets (Frankle & Carbin 2019, "The Lottery Ticket Hypothesis"): train, prune the
smallest-magnitude weights, rewind the rest to their initial values and train again under the
mask. Frankle et al. 2020 ("Linear Mode Connectivity and the Lottery Ticket Hypothesis") rewind
to the weights after an early step k instead. Grokking tickets (Minegishi et al. 2024, "Bridging
Lottery Ticket and Grokking: Is Weight Norm Sufficient to Explain Delayed Generalization?"): the
mask of a network that has generalized, rewound to init and retrained (also without weight
decay), generalizes without the grokking delay.

A ticket run (`ticket_from` = the parent's run id) starts from
  - rewind "init": the weights the parent itself started from (its seeded initialisation, or,
    for a parent that was a ticket or a continuation, its own start), so that the rounds of
    IMP, each the ticket of the previous one, all rewind to the first round's start;
  - rewind k: the parent's weights after step k (the parent must keep them:
    `keep_checkpoint_at`); in IMP with late rewinding only the first ticket rewinds to k, later
    rounds rewind to "init", which is then that round's θ_k;
  - reinit: a fresh initialisation (the member's seed + REINIT_SEED_OFFSET, so it differs
    from the parent's even at the same seed): the random re-initialisation control;
and multiplies it by its mask (sparsity > 0): magnitude pruning of the parent's final weights
(nested in the parent's own mask when the parent was pruned: IMP), or a random mask with the
same count per tensor (mask_kind random, seeded by seed + RANDOM_MASK_SEED_OFFSET). The run layer
keeps the mask applied through training (interventions/masks.py KeepMask). With mask_kind
norm-matched there is no mask: the start is scaled by ‖θ₀ ⊙ m‖₂ / ‖θ₀‖₂ of the magnitude mask m,
the dense control with the ticket's initial norm of Minegishi et al. 2024 (§4.1, Fig. 5a).
Everything here is a function of the config and the stored parents, so a resumed run rebuilds it
exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from phenolab.config import RunConfig, from_json
from phenolab.config.start import ticket_fields_without_parent
from phenolab.errors import ConfigError
from phenolab.interventions.masks import Mask, magnitude_mask, random_mask, sparsity_of
from phenolab.interventions.transfer import check_transfer
from phenolab.models.embedding import embedding_of
from phenolab.store import RunRecord, Store
from phenolab.tasks import n_elements

# seed offsets of the generators a ticket draws from besides the member's own init (the
# minibatch order uses seed + 1_000_003, train/batches.py)
REINIT_SEED_OFFSET = 2_000_003
RANDOM_MASK_SEED_OFFSET = 3_000_017

# what a parent must share with its child: the shapes of the weights and the task
_SAME = (
    (
        "model",
        (
            "model",
            "width",
            "widths",
            "d_embed",
            "d_model",
            "n_heads",
            "d_mlp",
            "n_layers",
            "layernorm",
            "attn_bias",
            "mlp_bias",
            "embed_rank",
        ),
    ),
    ("task", ("op", "p", "sequence", "n_bits", "data_dir")),
)


@dataclass(frozen=True)
class Start:
    """Where one member starts: explicit weights, or the seeded initialisation of (seed,
    init_scale); then, when `mask` is given, the pruned weights are zeroed."""

    weights: dict[str, torch.Tensor] | None  # {name: [1, ...]}; None: seeded initialisation
    seed: int
    init_scale: float
    mask: Mask | None = None  # {name: bool [1, ...]}, True = kept; None: dense
    # another run's token embedding [1, vocab_s, d_s] for the element tokens' rows (embed_from)
    embedding: torch.Tensor | None = None
    # not applied: the start is scaled to the L2 norm this mask would leave (norm-matched)
    norm_of: Mask | None = None


def member_start(store: Store, cfg: RunConfig) -> Start:
    """Where `cfg` starts training (see the module docstring)."""
    t = cfg.start
    orphans = ticket_fields_without_parent(t)
    if orphans:
        raise ConfigError(
            f"{orphans[0]}: needs ticket_from (the run whose final weights define the mask)"
        )
    if t.ticket_from is not None:
        return _ticket_start(store, cfg)
    weights = None
    if t.init_from is not None:
        # A continuation: only the weights carry over; the optimizer, its warmup and the step
        # count start afresh, and the data split is this run's own (with the parent's split
        # seed and a smaller frac, this run's train set is a subset of the parent's:
        # `modular.split` cuts one permutation). A pruned parent's mask does not carry over:
        # a continuation trains every weight.
        _, final = finished_parent(store, t.init_from, cfg, "init_from")
        weights = final["model"]
    embedding = source_embedding(store, cfg) if t.embed_from is not None else None
    return Start(weights, cfg.train.seed, cfg.model.init_scale, embedding=embedding)


def finished_run(store: Store, run_id: str, field: str) -> tuple[RunRecord, dict]:
    """(record, final checkpoint state) of the finished run `run_id`; `field` names the config
    field that points to it."""
    record = store.get_run(run_id)
    if record is None or record.status != "finished":
        state = "not in the store" if record is None else f"{record.status}, not finished"
        raise ConfigError(f"{field}: run {run_id} is {state} ({store.path})")
    if record.external is not None:  # a watched loop: no phenolab weights to start from
        raise ConfigError(
            f"{field}: run {run_id} was recorded by phenolab.watch, not trained by phenolab "
            "(it has no checkpoint)"
        )
    checkpoint = store.load_checkpoint(run_id)  # written when the run finished
    if checkpoint is None or checkpoint[0] != record.config["train"]["steps"]:
        raise ConfigError(f"{field}: run {run_id} has no checkpoint of its final step")
    return record, checkpoint[2]


def finished_parent(store: Store, parent_id: str, cfg: RunConfig, field: str):
    """(record, final checkpoint state) of the finished run `parent_id`, which must have the
    architecture and task of `cfg`; `field` names the config field that points to it."""
    record, final = finished_run(store, parent_id, field)
    ours = cfg.to_json()
    defaults = RunConfig().to_json()  # for fields added after the parent was stored
    for section, names in _SAME:
        for name in names:
            theirs = record.config[section].get(name, defaults[section][name])
            if theirs != ours[section][name]:
                raise ConfigError(
                    f"{field}: run {parent_id} has {name} {theirs!r}, this run "
                    f"{ours[section][name]!r}; a child keeps its parent's architecture and task"
                )
    return record, final


def source_embedding(store: Store, cfg: RunConfig) -> torch.Tensor:
    """The final token embedding [1, vocab_s, d_s] of the run `cfg.start.embed_from`, checked
    to fit `cfg` (interventions/transfer.py)."""
    source_id = cfg.start.embed_from
    record, final = finished_run(store, source_id, "embed_from")
    embedding = embedding_of(final["model"])
    if embedding is None:
        raise ConfigError(
            f"embed_from: run {source_id} (model={record.config['model']['model']}) has no token"
            " embedding (mlp and transformer have)"
        )
    task = record.config["task"]
    check_transfer(
        embedding, n_elements(task["op"], task["p"]), n_elements(cfg.task.op, cfg.task.p), cfg.model
    )
    return embedding


def _ticket_start(store: Store, cfg: RunConfig) -> Start:
    t, seed = cfg.start, cfg.train.seed
    record, final = finished_parent(store, t.ticket_from, cfg, "ticket_from")
    mask, norm_of = ticket_mask(record, final, cfg), None
    if t.mask_kind == "norm-matched":  # the mask's norm, not the mask
        mask, norm_of = None, mask
    if t.reinit:
        return Start(None, seed + REINIT_SEED_OFFSET, cfg.model.init_scale, mask, None, norm_of)
    if t.rewind == "init":
        parent = from_json(record.config)
        start = member_start(store, parent)
        if start.weights is None and start.init_scale != cfg.model.init_scale:
            raise ConfigError(
                f"init_scale: {cfg.model.init_scale} but a ticket rewound to init starts from its"
                f" parent's initialisation (init_scale {start.init_scale}); give the parent's"
            )
        if start.norm_of is not None:
            raise ConfigError(
                f"ticket_from: run {record.id} is a norm-matched control (its start was scaled);"
                " rewind to a step it kept instead"
            )
        return dataclasses.replace(start, mask=mask, norm_of=norm_of)
    step = int(t.rewind)
    weights = store.kept_weights(t.ticket_from, step)
    if weights is None:
        kept = ", ".join(map(str, store.kept_steps(t.ticket_from))) or "none"
        raise ConfigError(
            f"rewind: run {t.ticket_from} kept no weights at step {step} (kept: {kept});"
            f" train the parent with keep_checkpoint_at={step}"
        )
    return Start(weights, seed, cfg.model.init_scale, mask, norm_of=norm_of)


def ticket_mask(record: RunRecord, final: dict, cfg: RunConfig) -> Mask | None:
    """The mask of a ticket of the run `record` (final checkpoint `final`): None without
    pruning; else magnitude pruning of the parent's final weights at `sparsity`, nested in the
    parent's own mask, or a random mask with the same count per tensor."""
    t = cfg.start
    previous = final.get("mask")  # the parent's own mask, when it was a pruned ticket
    if t.sparsity == 0:
        if previous is not None:
            pruned = float(sparsity_of(previous)[0])
            raise ConfigError(
                f"sparsity: 0, but run {record.id} was pruned ({pruned:.4g}); a ticket of a"
                " pruned run prunes at least as much (masks only shrink)"
            )
        return None
    try:
        mask = magnitude_mask(final["model"], t.sparsity, t.prune_scope, previous=previous)
    except ValueError as exc:
        raise ConfigError(f"sparsity: {t.sparsity} from run {record.id}: {exc}") from None
    if t.mask_kind == "random":
        mask = random_mask(mask, [cfg.train.seed + RANDOM_MASK_SEED_OFFSET])
    # norm-matched: the magnitude mask, whose norm the start takes (_ticket_start)
    return mask


def imp_sparsity(rate: float, rounds: int) -> float:
    """Fraction pruned after `rounds` rounds of IMP pruning `rate` of the remaining weights
    each: 1 − (1 − rate)^rounds (Frankle & Carbin 2019: rate 0.2 → 0.2, 0.36, 0.488, ...)."""
    return 1 - (1 - rate) ** rounds


def run_mask(store: Store, run_id: str) -> Mask | None:
    """The mask a finished (or checkpointed) run trained under: {name: bool [1, ...]}, or None
    for a dense run."""
    checkpoint = store.load_checkpoint(run_id)
    return checkpoint[2].get("mask") if checkpoint is not None else None


def matched_norm(store: Store, run_id: str, step: int | None = 0) -> float:
    """‖θ‖ (`norm/total`) of a stored run at `step` (None: its last evaluation): the target of
    the norm-matched dense control of Minegishi et al. 2024, e.g. a dense rewind
    (ticket_from, sparsity 0) with the intervention `norm-constraint:norm=<this>`."""
    steps, values = store.metrics(run_id)["norm/total"]
    if step is None:
        return values[-1]
    if step not in steps:
        raise ValueError(f"run {run_id} has no norm/total at step {step}")
    return values[steps.index(step)]
