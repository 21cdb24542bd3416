"""Pruning masks, tickets and IMP: masks on constructed weights with known answers, then ticket
runs (rewinding, controls, masks kept through training) on a tiny task."""

import pytest
import torch

from phenolab.catalog import Arm, Entry
from phenolab.catalog.imp import imp
from phenolab.catalog.reproduce import arm_configs
from phenolab.config import MEMBER_FIELDS, RunConfig
from phenolab.errors import ConfigError
from phenolab.interventions.masks import (
    KeepMask,
    layer_sparsity,
    magnitude_mask,
    prune_remaining,
    random_mask,
    sparsity_of,
)
from phenolab.run import Options
from phenolab.run.start import imp_sparsity, matched_norm, run_mask
from phenolab.store import Store
from phenolab.train.optim import SGD, AdamW
from tests.conftest import run, run_ensemble
from tests.test_ensemble import CUDA, assert_same_curves
from tests.test_interventions import Weights
from tests.test_runner import CrashAt, curves

# -- masks on constructed weights ------------------------------------------------------------


def stacked(members=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "W_a": torch.randn(members, 6, 5, generator=g),  # 30 weights
        "b_a": torch.randn(members, 5, generator=g),  # a bias: never pruned
        "W_b": torch.randn(members, 5, 4, generator=g),  # 20 weights
    }


def test_global_magnitude_mask_keeps_exactly_the_largest_weights():
    w = stacked()
    mask = magnitude_mask(w, 0.3)
    assert set(mask) == {"W_a", "W_b"}  # biases are not prunable
    for e in range(2):
        every = torch.cat([w["W_a"][e].flatten(), w["W_b"][e].flatten()]).abs()
        kept = torch.cat([mask["W_a"][e].flatten(), mask["W_b"][e].flatten()])
        assert int(kept.sum()) == 50 - 15  # exactly round(0.3 · 50) pruned
        assert every[kept].min() > every[~kept].max()
    torch.testing.assert_close(sparsity_of(mask), torch.tensor([0.3, 0.3], dtype=torch.float64))


def test_layer_magnitude_mask_prunes_each_tensor_exactly_and_members_separately():
    w = stacked()
    mask = magnitude_mask(w, [0.5, 0.25], scope="layer")
    for e, rate in enumerate([0.5, 0.25]):
        for name, n in (("W_a", 30), ("W_b", 20)):
            assert int(mask[name][e].sum()) == n - round(rate * n)
            a = w[name][e].abs()
            assert a[mask[name][e]].min() > a[~mask[name][e]].max()
    assert layer_sparsity(mask)["W_b"].tolist() == [0.5, 0.25]


def test_ties_are_broken_by_position_so_counts_stay_exact():
    w = {"W": torch.ones(1, 4, 4)}
    mask = magnitude_mask(w, 0.75)
    assert mask["W"].flatten().tolist() == [True] * 4 + [False] * 12  # lowest indices kept
    assert torch.equal(magnitude_mask(w, 0.75)["W"], mask["W"])


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_imp_rounds_prune_the_remaining_weights_and_masks_only_shrink(scope):
    mask = magnitude_mask(stacked(seed=0), 0.2, scope=scope)
    for r in range(2, 6):  # each round, new weights (as after retraining)
        new = prune_remaining(stacked(seed=r), mask, 0.2, scope=scope)
        for name in mask:
            assert not (new[name] & ~mask[name]).any()  # new ⊆ old
            if scope == "layer":
                before = mask[name].flatten(1).sum(1).tolist()
                assert new[name].flatten(1).sum(1).tolist() == [round(0.8 * k) for k in before]
        mask = new
    # after 5 rounds at 20 %: (0.8)^5 ≈ 0.33 of the weights remain, up to one weight a round
    assert (sparsity_of(mask) - imp_sparsity(0.2, 5)).abs().max() < 5 / 50
    # a total-sparsity mask nested in a previous one: the same count, a subset
    total = magnitude_mask(stacked(seed=9), imp_sparsity(0.2, 6), scope, previous=mask)
    assert all(not (total[n] & ~mask[n]).any() for n in mask)
    with pytest.raises(ValueError, match="masks only shrink"):
        magnitude_mask(stacked(), 0.1, scope, previous=mask)


def test_random_mask_has_the_same_count_per_tensor_and_member():
    mask = magnitude_mask(stacked(), [0.6, 0.3])
    rand = random_mask(mask, seeds=[0, 1])
    for name in mask:
        assert rand[name].flatten(1).sum(1).tolist() == mask[name].flatten(1).sum(1).tolist()
        assert not torch.equal(rand[name], mask[name])
    again = random_mask(mask, seeds=[0, 5])
    assert torch.equal(again["W_a"][0], rand["W_a"][0])  # member 0: the same seed
    assert not torch.equal(again["W_a"][1], rand["W_a"][1])


@pytest.mark.parametrize("kind, extra", [(AdamW, {"betas": (0.9, 0.98)}), (SGD, {"momentum": 0.9})])
def test_the_mask_stays_applied_under_weight_decay_and_momentum(kind, extra):
    torch.manual_seed(0)
    model = Weights(torch.randn(2, 6, 5), torch.randn(2, 5))
    mask = magnitude_mask(dict(model.ps.named_parameters()), 0.7)  # only "0", the matrix
    with torch.no_grad():
        model.ps[0].mul_(mask["0"])
    optimizer = kind(model.parameters(), lr=[0.1, 0.05], wd=[1.0, 0.5], **extra)
    hook = KeepMask(model.ps, mask)
    for _ in range(20):
        optimizer.zero_grad()
        loss = sum((p - 3.0).pow(2).sum() for p in model.parameters())  # pulls every weight
        loss.backward()
        hook.after_backward(None)
        assert (model.ps[0].grad[~mask["0"]] == 0).all()
        optimizer.step()
        hook.on_step_end(None)
    assert (model.ps[0][~mask["0"]] == 0).all() and (model.ps[0][mask["0"]] != 0).all()


# -- tickets in runs ---------------------------------------------------------------------------

# a tiny run (a narrow MLP: the tests share 2 CPU cores); the parent keeps its weights at steps
# 0 and 20 for rewinding
PARENT = RunConfig().replace(
    p=23, frac=0.6, width=32, d_embed=16, steps=40, eval_every=20, keep_checkpoint_at=(0, 20)
)
TICKET = PARENT.replace(keep_checkpoint_at=(0,), ticket_from=PARENT.run_id(), sparsity=0.6, wd=0)


@pytest.fixture(scope="module")
def parent_store(tmp_path_factory):
    """The path of a store holding the finished PARENT (closed: its WAL is in the file)."""
    path = tmp_path_factory.mktemp("tickets") / "runs.db"
    with Store(path) as store:
        run(PARENT, store, device="cpu")
    return path


def copy_of(parent_store, path):
    """A private store starting from the parent's."""
    path.write_bytes(parent_store.read_bytes())
    return Store(path)


@pytest.fixture
def store(parent_store, tmp_path):
    return copy_of(parent_store, tmp_path / "runs.db")


def start_of(store, cfg):
    """The weights a run started from (it keeps step 0)."""
    return store.kept_weights(cfg.run_id(), 0)


def test_ticket_fields_are_member_fields_and_leave_old_run_ids_alone():
    assert RunConfig().run_id() == "e86bc66447c0"
    for name in ("ticket_from", "sparsity", "prune_scope", "mask_kind", "rewind", "reinit"):
        assert name in MEMBER_FIELDS
    assert TICKET.replace(rewind="020").run_id() == TICKET.replace(rewind=20).run_id()
    assert TICKET.replace(keep_checkpoint_at=(0, 0)).start.keep_checkpoint_at == (0,)


def test_tickets_rewind_to_init_or_step_k_under_their_masks(store):
    arms = {
        "init": TICKET,
        "step20": TICKET.replace(rewind=20, prune_scope="layer"),
        "reinit": TICKET.replace(reinit=True),
        "random": TICKET.replace(mask_kind="random"),
        "dense": TICKET.replace(sparsity=0),
    }
    results = run_ensemble(list(arms.values()), store, device="cpu")
    parent_init, parent_20 = (store.kept_weights(PARENT.run_id(), k) for k in (0, 20))
    final = store.load_checkpoint(PARENT.run_id())[2]["model"]
    masks = {name: run_mask(store, r.record.id) for name, r in zip(arms, results, strict=True)}
    starts = {name: start_of(store, cfg) for name, cfg in arms.items()}
    # the mask: magnitude pruning of the parent's final weights, stored with the run
    assert torch.equal(masks["init"]["W_in"], magnitude_mask(final, 0.6)["W_in"])
    n = sum(m.numel() for m in masks["init"].values())
    assert sum(int(m.sum()) for m in masks["init"].values()) == n - round(0.6 * n)  # exact
    assert masks["dense"] is None
    for name, source in (("init", parent_init), ("step20", parent_20), ("dense", parent_init)):
        for w, start in starts[name].items():
            kept = masks[name][w] if masks[name] and w in masks[name] else 1
            assert torch.equal(start, source[w] * kept), (name, w)
    assert torch.equal(masks["reinit"]["W_in"], masks["init"]["W_in"])  # same mask ...
    assert not torch.allclose(starts["reinit"]["W_in"], starts["init"]["W_in"])  # fresh init
    assert (starts["reinit"]["W_in"][~masks["reinit"]["W_in"]] == 0).all()
    for w, m in masks["random"].items():  # the same count per tensor, other positions
        assert int(m.sum()) == int(masks["init"][w].sum()) and not torch.equal(m, masks["init"][w])
    for name in ("step20",):  # per layer: each tensor at the sparsity
        assert all(abs(v.item() - 0.6) < 0.01 for v in layer_sparsity(masks[name]).values())
    # pruned weights are still exactly zero after training (AdamW, and wd in the next test)
    for name, r in zip(arms, results, strict=True):
        if masks[name]:
            weights = store.load_checkpoint(r.record.id)[2]["model"]
            assert all((weights[w][~m] == 0).all() for w, m in masks[name].items()), name


def test_a_ticket_with_weight_decay_and_interventions_keeps_its_mask_and_resumes(
    store, parent_store, tmp_path
):
    cfg = TICKET.replace(wd=1.0, steps=60, interventions=("grokfast-ema", "decay-to-init"))
    reference = copy_of(parent_store, tmp_path / "ref.db")
    run(cfg, reference, device="cpu")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(cfg, store, "cpu", callbacks=[CrashAt(50)], options=Options(checkpoint_seconds=0))
    assert 0 < run(cfg, store, device="cpu").resumed_from < 50
    assert curves(store, cfg.run_id()) == curves(reference, cfg.run_id())
    mask = run_mask(store, cfg.run_id())
    weights = store.load_checkpoint(cfg.run_id())[2]["model"]
    assert all((weights[w][~m] == 0).all() and (weights[w][m] != 0).all() for w, m in mask.items())


@pytest.mark.parametrize(
    "device, fast",
    [
        ("cpu", False),
        pytest.param("cuda", False, marks=CUDA),
        pytest.param("cuda", True, marks=CUDA),  # KeepMask's gradient half in the CUDA graph
    ],
)
def test_a_ticket_in_an_ensemble_equals_it_alone(store, parent_store, tmp_path, device, fast):
    configs = [TICKET, TICKET.replace(seed=1, sparsity=0.3), PARENT.replace(keep_checkpoint_at=())]
    run_ensemble(configs, store, device, options=Options(fast=fast))
    solo = copy_of(parent_store, tmp_path / "solo.db")
    for cfg in configs:
        run(cfg, solo, device)
        assert_same_curves(store.metrics(cfg.run_id()), solo.metrics(cfg.run_id()), device)
    for cfg in configs[:2]:  # pruned weights still exactly zero
        mask, weights = run_mask(store, cfg.run_id()), store.load_checkpoint(cfg.run_id())[2]
        assert all((weights["model"][w][~m] == 0).all() for w, m in mask.items())


def test_imp_rounds_nest_their_masks_and_rewind_to_the_first_start(tmp_path):
    store = Store(tmp_path / "runs.db")
    base = PARENT.replace(keep_checkpoint_at=(0,))
    rounds = imp(base, store, rounds=2, rate=0.5, rewind=20, device="cpu", workers=1)
    assert [r.round for r in rounds] == [0, 1, 2]
    assert rounds[1].sparsity == pytest.approx([0.5], abs=1e-3)
    assert rounds[2].sparsity == pytest.approx([0.75], abs=1e-3)
    assert set(rounds[2].runs) == {"ticket", "reinit", "random"}
    (dense,), (first,), (second,) = (r.runs["ticket"] for r in rounds)
    m1, m2 = run_mask(store, first.record.id), run_mask(store, second.record.id)
    assert all(not (m2[w] & ~m1[w]).any() for w in m1)  # new ⊆ old
    theta_20 = store.kept_weights(dense.record.id, 20)
    start = store.kept_weights(second.record.id, 0)  # round 2 starts from θ_20 ⊙ m2
    assert all(torch.equal(start[w], theta_20[w] * m2[w]) for w in m2)
    assert rounds[2].as_dict()["arms"]["random"]["final_test_acc"][0] is not None
    again = imp(base, store, rounds=2, rate=0.5, rewind=20, device="cpu", workers=1)
    assert again[2].runs["ticket"][0].cached  # every round is a stored run


def test_norm_matched_dense_control_is_expressible(store):
    run(TICKET, store, device="cpu")
    norm = matched_norm(store, TICKET.run_id(), step=0)  # the ticket's norm at its start
    dense = TICKET.replace(sparsity=0, interventions=f"norm-constraint:norm={norm}")
    run(dense, store, device="cpu")
    norms = store.metrics(dense.run_id())["norm/total"][1]
    assert norms[-1] == pytest.approx(norm, rel=1e-4)


def test_the_norm_matched_control_is_dense_and_starts_at_the_tickets_norm(store):
    control = TICKET.replace(mask_kind="norm-matched")  # Minegishi et al.: θ₀ · r₂, no mask
    run_ensemble([TICKET, control], store, device="cpu")
    ticket_start, start = start_of(store, TICKET), start_of(store, control)
    parent_init = store.kept_weights(PARENT.run_id(), 0)

    def norm(weights):
        return sum(w.double().square().sum() for w in weights.values()).sqrt().item()

    assert run_mask(store, control.run_id()) is None  # dense: nothing pruned, nothing kept at 0
    assert (start["W_in"] != 0).all()
    assert norm(start) == pytest.approx(norm(ticket_start), rel=1e-6)
    ratio = norm(start) / norm(parent_init)
    assert ratio < 1
    for name, w in start.items():  # the parent's initialisation, scaled as a whole
        torch.testing.assert_close(w, parent_init[name] * ratio, rtol=1e-6, atol=1e-7)


def test_catalog_arms_can_be_tickets_of_another_arm():
    base = PARENT.replace(keep_checkpoint_at=())
    entry = Entry(
        id="t",
        phenomenon="p",
        paper="p",
        title="t",
        description="d",
        reproduces="r",
        arms=(
            Arm("grokked", base),
            Arm("ticket", base.replace(sparsity=0.6, wd=0), parent="grokked", link="ticket_from"),
        ),
        expectations=(),
    )
    arms = arm_configs(entry, quick=True, n=2)
    assert [c.start.ticket_from for c in arms["ticket"]] == [c.run_id() for c in arms["grokked"]]
    assert all(c.start.init_from is None for c in arms["ticket"])
    with pytest.raises(ValueError, match="link must be"):
        Arm("x", base, link="seed")


# -- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(sparsity=1.0), "sparsity: must be in [0, 1), got 1.0"),
        (dict(sparsity=-0.1), "sparsity: must be in [0, 1), got -0.1"),
        (dict(ticket_from="abc"), "ticket_from: expected a full 12-character run id"),
        (dict(rewind="early"), "rewind: expected init or a step k ≥ 0, got 'early'"),
        (dict(rewind="-5"), "rewind: expected init or a step k ≥ 0"),
        (dict(prune_scope="row"), "prune_scope: unknown 'row' (valid: global, layer)"),
        (dict(mask_kind="snip"), "mask_kind: unknown 'snip' (valid: magnitude, random, norm-"),
        (dict(mask_kind="norm-matched", sparsity=0), "mask_kind: norm-matched scales to the"),
        (dict(keep_checkpoint_at=(50,)), "keep_checkpoint_at: steps must be in [0, 40]"),
        (dict(reinit=True, rewind=20), "rewind: 20 contradicts reinit"),
        (dict(init_from=PARENT.run_id()), "init_from: a ticket (ticket_from) starts from"),
    ],
)
def test_bad_ticket_fields_are_config_errors(fields, message):
    with pytest.raises(ConfigError) as err:
        TICKET.replace(**fields)
    assert message in str(err.value)


def test_bad_parents_are_config_errors(store, tmp_path):
    empty = Store(tmp_path / "empty.db")
    with pytest.raises(ConfigError, match=f"ticket_from: run {PARENT.run_id()} is not in the"):
        run(TICKET, empty, device="cpu")
    with pytest.raises(ConfigError, match="rewind: run .* kept no weights at step 10 \\(kept: 0, "):
        run(TICKET.replace(rewind=10), store, device="cpu")
    with pytest.raises(ConfigError, match="sparsity: needs ticket_from"):
        run(PARENT.replace(sparsity=0.5), store, device="cpu")
    with pytest.raises(ConfigError, match="init_scale: 2.0 but a ticket rewound to init"):
        run(TICKET.replace(init_scale=2.0), store, device="cpu")
    with pytest.raises(ConfigError, match="ticket_from: .* has width 32, this run 64"):
        run(TICKET.replace(width=64), store, device="cpu")
    unfinished = PARENT.replace(steps=30)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(unfinished, store, "cpu", callbacks=[CrashAt(10)])
    with pytest.raises(ConfigError, match="is failed, not finished"):
        run(TICKET.replace(ticket_from=unfinished.run_id()), store, device="cpu")
    run(TICKET, store, device="cpu")
    grand = TICKET.replace(ticket_from=TICKET.run_id(), keep_checkpoint_at=())
    with pytest.raises(ConfigError, match="sparsity: 0, but run .* was pruned"):
        run(grand.replace(sparsity=0), store, device="cpu")
    with pytest.raises(ConfigError, match="sparsity: 0.4 from run .*masks only shrink"):
        run(grand.replace(sparsity=0.4), store, device="cpu")
