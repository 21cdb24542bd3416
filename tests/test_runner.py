import os
import sqlite3

import pytest
import torch

from phenolab.config import RunConfig
from phenolab.errors import StoreError
from phenolab.run import Options, RunInterrupted
from phenolab.store import Store
from phenolab.train.loop import Callback
from tests.conftest import run


class CrashAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, state) -> None:
        if state.step == self.step:
            raise RuntimeError("simulated crash")


class InterruptAt(Callback):
    """Acts like the SIGINT handler: asks the loop to stop after this step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, state) -> None:
        if state.step == self.step:
            state.stop = "interrupted"


def curves(store: Store, run_id: str) -> dict:
    return {k: v for k, v in store.metrics(run_id).items() if not k.startswith("time/")}


def test_tiny_config_groks_and_is_stored(tmp_path, tiny_config):
    store = Store(tmp_path / "runs.db")
    result = run(tiny_config, store, device="cpu")
    assert result.events.phase == "grokking"
    assert result.events.t_fit < 150 and result.events.t_gen is not None
    record = store.get_run(tiny_config.run_id())
    assert record.status == "finished" and record.summary["phase"] == "grokking"
    assert record.env["torch"] and record.env["device"] == "cpu"
    assert record.config == tiny_config.to_json()
    metrics = store.metrics(record.id)
    assert {"train/acc", "test/acc", "train/loss", "test/loss", "norm/total"} <= set(metrics)
    assert metrics["test/acc"][0][-1] == tiny_config.train.steps


def test_same_config_and_seed_give_identical_curves(tmp_path, tiny_config):
    cfg = tiny_config.replace(steps=200)
    a, b = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    run(cfg, a, device="cpu")
    run(cfg, b, device="cpu")
    assert curves(a, cfg.run_id()) == curves(b, cfg.run_id())
    other = cfg.replace(seed=1)
    run(other, a, device="cpu")
    assert curves(a, other.run_id()) != curves(a, cfg.run_id())


def test_finished_run_is_returned_from_the_store(tmp_path, tiny_config):
    cfg = tiny_config.replace(steps=50)
    store = Store(tmp_path / "runs.db")
    first = run(cfg, store, device="cpu")
    again = run(cfg, store, device="cpu", callbacks=[CrashAt(1)])  # would crash if it trained
    assert again.cached and not first.cached
    assert again.events == first.events


@pytest.mark.parametrize("batch_size", [0, 64])
def test_resume_after_crash_continues_the_same_curve(tmp_path, tiny_config, batch_size):
    cfg = tiny_config.replace(steps=300, batch_size=batch_size)
    reference = Store(tmp_path / "ref.db")
    run(cfg, reference, device="cpu")

    store = Store(tmp_path / "crash.db")
    with pytest.raises(RuntimeError, match="simulated crash"):
        # checkpoint at every eval; crash between evals (last eval before it: step 240)
        run(
            cfg,
            store,
            device="cpu",
            callbacks=[CrashAt(250)],
            options=Options(checkpoint_seconds=0),
        )
    assert store.get_run(cfg.run_id()).status == "failed"
    assert store.load_checkpoint(cfg.run_id())[0] == 240
    result = run(cfg, store, device="cpu")
    assert result.resumed_from == 240
    assert curves(store, cfg.run_id()) == curves(reference, cfg.run_id())


def test_interrupt_leaves_a_resumable_run(tmp_path, tiny_config):
    cfg = tiny_config.replace(steps=300)
    reference = Store(tmp_path / "ref.db")
    run(cfg, reference, device="cpu")

    store = Store(tmp_path / "int.db")
    with pytest.raises(RunInterrupted):
        run(
            cfg,
            store,
            device="cpu",
            callbacks=[InterruptAt(123)],
            options=Options(checkpoint_seconds=1e9),
        )
    assert store.get_run(cfg.run_id()).status == "interrupted"
    assert store.load_checkpoint(cfg.run_id())[0] == 123  # checkpointed where it stopped
    with sqlite3.connect(tmp_path / "int.db") as db:  # the file is a sound database
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    result = run(cfg, store, device="cpu")
    assert result.resumed_from == 123
    assert curves(store, cfg.run_id()) == curves(reference, cfg.run_id())


def test_unwritable_or_missing_store_location_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing" / "runs.db")
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)
    bad = tmp_path / "not_a_db.db"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match="cannot open"):
        Store(bad)


def test_store_in_a_directory_nobody_can_write_is_a_clear_error():
    with pytest.raises(StoreError, match="not writable"):
        Store("/proc/phenolab-test.db")  # not even root can create files in /proc


def test_store_in_a_read_only_directory_is_a_clear_error(tmp_path):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if os.access(readonly, os.W_OK):
            pytest.skip("running as root: permission bits do not stop writes")
        with pytest.raises(StoreError, match="not writable"):
            Store(readonly / "runs.db")
    finally:
        readonly.chmod(0o700)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_transformer_trains_end_to_end(tmp_path, n_layers):
    cfg = RunConfig().replace(
        model="transformer",
        p=23,
        frac=0.5,
        d_model=32,
        d_mlp=64,
        n_layers=n_layers,
        steps=300,
        eval_every=50,
        lr=3e-3,
    )
    result = run(cfg, Store(tmp_path / "r.db"), device="cpu")
    metrics = Store(tmp_path / "r.db").metrics(cfg.run_id())
    assert result.events.final_train_acc > 0.9  # it fits the training set
    assert metrics["train/loss"][1][-1] < metrics["train/loss"][1][0]


def test_minibatch_sgd_and_mse_train(tmp_path):
    cfg = RunConfig().replace(
        p=23,
        frac=0.5,
        optimizer="sgd",
        lr=0.5,
        momentum=0.9,
        wd=1e-4,
        loss="mse",
        batch_size=64,
        steps=100,
        eval_every=20,
    )
    run(cfg, Store(tmp_path / "r.db"), device="cpu")
    _, loss = Store(tmp_path / "r.db").metrics(cfg.run_id())["train/loss"]
    assert loss[-1] < loss[0]


def test_bf16_precision_is_an_option_that_still_trains(tmp_path, tiny_config):
    cfg = tiny_config.replace(steps=200, precision="bf16")
    assert cfg.run_id() != tiny_config.replace(steps=200).run_id()  # part of the run's identity
    result = run(cfg, Store(tmp_path / "r.db"), device="cpu")
    assert result.events.t_fit is not None


def test_tf32_needs_cuda(tmp_path, tiny_config):
    from phenolab.errors import ConfigError

    if torch.cuda.is_available():
        pytest.skip("CUDA present: tf32 is valid here")
    with pytest.raises(ConfigError, match="precision: tf32 needs a CUDA device"):
        run(tiny_config.replace(precision="tf32"), Store(tmp_path / "r.db"), device="cpu")
