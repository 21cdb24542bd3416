"""Continuations (`init_from`): a run that starts from another run's final weights, and catalog
arms that chain them (`Arm.parent`)."""

import pytest
import torch

from phenolab.catalog import Arm, Entry
from phenolab.catalog.reproduce import arm_configs, stages
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.run import Options
from phenolab.store import Store
from phenolab.tasks.pairs import split
from tests.conftest import run, run_ensemble
from tests.test_runner import CrashAt, curves

PARENT = RunConfig().replace(p=23, frac=0.6, steps=60, eval_every=20)


def test_a_smaller_fraction_with_the_same_split_seed_is_a_subset():
    big_train, _ = split(529, 0.6, seed=3)
    small_train, small_test = split(529, 0.2, seed=3)
    assert len(small_train) == round(0.2 * 529)
    assert torch.equal(small_train, big_train[: len(small_train)])  # a prefix of the same cut
    dropped = set(big_train.tolist()) - set(small_train.tolist())
    assert dropped <= set(small_test.tolist())  # the dropped examples are tested on


def test_init_from_is_validated_and_left_out_of_the_canonical_config():
    assert "init_from" not in PARENT.canonical()
    child = PARENT.replace(init_from=PARENT.run_id())
    assert child.canonical()["init_from"] == PARENT.run_id()
    for bad in ("abc", "E86BC66447C0", "e86bc66447c0x"):
        with pytest.raises(ConfigError, match="init_from: expected a full 12-character run id"):
            PARENT.replace(init_from=bad)


def test_a_continuation_starts_from_the_parents_final_weights(tmp_path):
    store = Store(tmp_path / "runs.db")
    run(PARENT, store, device="cpu")
    parent = store.metrics(PARENT.run_id())
    same = PARENT.replace(init_from=PARENT.run_id(), steps=20)  # same data: picks up where it was
    smaller = same.replace(frac=0.3)
    fresh = PARENT.replace(steps=20)
    results = run_ensemble([same, smaller, fresh], store, device="cpu")
    assert [r.record.config["start"]["init_from"] for r in results] == [PARENT.run_id()] * 2 + [
        None
    ]
    child = store.metrics(same.run_id())
    for name in ("train/acc", "test/acc", "train/loss", "norm/total"):
        assert child[name][0][0] == 0
        assert child[name][1][0] == pytest.approx(parent[name][1][-1], rel=1e-5), name
    # the member without a parent kept its seeded initialisation
    assert store.metrics(fresh.run_id())["norm/total"][1][0] == pytest.approx(
        parent["norm/total"][1][0], rel=1e-6
    )
    # the same weights on a subset of the parent's train set: fitted there too
    assert store.metrics(smaller.run_id())["train/acc"][1][0] >= parent["train/acc"][1][-1]


def test_a_continuation_resumes_the_same_curve(tmp_path):
    child = PARENT.replace(init_from=PARENT.run_id(), frac=0.3, steps=80)
    reference = Store(tmp_path / "ref.db")
    run(PARENT, reference, device="cpu")
    run(child, reference, device="cpu")
    store = Store(tmp_path / "crash.db")
    run(PARENT, store, device="cpu")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(child, store, "cpu", callbacks=[CrashAt(50)], options=Options(checkpoint_seconds=0))
    assert 0 < run(child, store, device="cpu").resumed_from < 50  # its last checkpoint
    assert curves(store, child.run_id()) == curves(reference, child.run_id())


def test_a_missing_unfinished_or_different_parent_is_a_clear_error(tmp_path):
    store = Store(tmp_path / "runs.db")
    child = PARENT.replace(init_from=PARENT.run_id(), steps=10)
    with pytest.raises(ConfigError, match=f"init_from: run {PARENT.run_id()} is not in the store"):
        run(child, store, device="cpu")
    run(PARENT, store, device="cpu")
    wider = child.replace(width=64)
    with pytest.raises(ConfigError, match="init_from: .* has width 128, this run 64"):
        run(wider, store, device="cpu")
    with pytest.raises(ConfigError, match="has op 'x\\+y', this run 'x-y'"):
        run(child.replace(op="x-y"), store, device="cpu")


def test_parent_arms_run_first_and_give_each_seed_its_parent():
    base = RunConfig().replace(steps=10)
    entry = Entry(
        id="t",
        phenomenon="p",
        paper="p",
        title="t",
        description="d",
        reproduces="r",
        arms=(
            Arm("small", base.replace(frac=0.1), parent="grokked"),
            Arm("grokked", base.replace(frac=0.5)),
            Arm("smaller", base.replace(frac=0.05), parent="small"),
        ),
        expectations=(),
    )
    assert stages(entry) == [["grokked"], ["small"], ["smaller"]]
    arms = arm_configs(entry, quick=True, n=2)
    assert [c.train.seed for c in arms["small"]] == [0, 1]
    assert [c.start.init_from for c in arms["small"]] == [c.run_id() for c in arms["grokked"]]
    assert [c.start.init_from for c in arms["smaller"]] == [c.run_id() for c in arms["small"]]
    assert all(c.start.init_from is None for c in arms["grokked"])
    loop = Entry(**{**entry.__dict__, "arms": (Arm("a", base, parent="a"),)})
    with pytest.raises(ValueError, match="cycle"):
        stages(loop)


@pytest.mark.slow
def test_a_grokked_network_ungrokks_on_a_small_subset(tmp_path):
    """Varma et al. 2023: below D_crit a grokked network returns to memorization."""
    store = Store(tmp_path / "runs.db")
    parent = RunConfig().replace(frac=0.5, steps=1500)
    assert run(parent, store, device="cpu").events.t_gen is not None
    child = parent.replace(frac=0.05, init_from=parent.run_id())
    events = run(child, store, device="cpu").events
    assert events.final_train_acc >= 0.99 and events.final_test_acc < 0.3
    assert events.phase == "memorization"
