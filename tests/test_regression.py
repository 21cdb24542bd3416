"""Regression tasks, random-features models and closed-form runs through the runner and store."""

import json

import pytest
import torch

from phenolab import tasks
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models import build_model
from phenolab.store import Store
from phenolab.tasks import FEATURES, regression
from phenolab.train import closedform
from tests.conftest import run, run_ensemble

SOLVE = dict(model="rf", optimizer="lstsq", wd=0.0, loss="mse")
LINEAR = RunConfig().replace(op="linear", n_features=30, n_train=20, n_test=200, **SOLVE)
DIABETES = RunConfig().replace(op="diabetes", n_train=50, n_val=20, n_test=100, **SOLVE)


def build(cfg: RunConfig, seeds=(0,)):
    data = tasks.build([cfg.task] * len(seeds), FEATURES, list(seeds))
    model = build_model(cfg.model, data.vocab, data.n_classes, data.x_train.shape[2], list(seeds))
    return data, model


def test_synthetic_data_is_seeded_per_member():
    cfg = LINEAR.replace(n_val=10, noise_std=0.5)
    a, _ = build(cfg, seeds=(0, 1))
    b, _ = build(cfg, seeds=(1,))
    assert a.x_train.shape == (2, 20, 30) and a.y_train.shape == (2, 20)
    assert a.x_val.shape == (2, 10, 30) and a.x_test.shape == (2, 200, 30)
    assert a.regression and a.n_classes == 0 and a.vocab == 30
    assert torch.equal(a.x_train[1], b.x_train[0]) and torch.equal(a.y_test[1], b.y_test[0])
    assert not torch.equal(a.x_train[0], a.x_train[1])
    # split_seed fixes the data whatever the run seed
    c, _ = build(cfg.replace(split_seed=1), seeds=(7,))
    assert torch.equal(c.y_train[0], b.y_train[0])
    assert [s for s, *_ in a.splits()] == ["train", "val", "test"]


def test_linear_targets_follow_the_teacher():
    cfg = LINEAR.replace(n_test=4000, noise_std=0.0)
    data, _ = build(cfg)
    beta = regression.teacher(30, 0)
    torch.testing.assert_close(data.x_test[0] @ beta, data.y_test[0])
    assert data.y_test.var().item() == pytest.approx(beta.square().sum().item(), rel=0.1)
    noisy, _ = build(cfg.replace(noise_std=0.5))
    residual = noisy.y_test[0] - noisy.x_test[0] @ beta
    assert residual.std().item() == pytest.approx(0.5, rel=0.1)
    nonlinear, _ = build(cfg.replace(op="nonlinear"))
    torch.testing.assert_close(nonlinear.y_test[0], torch.tanh(2 * nonlinear.x_test[0] @ beta))


def test_diabetes_split_is_disjoint_and_standardized_on_train():
    data, _ = build(DIABETES, seeds=(0, 1))
    assert data.x_train.shape == (2, 50, 10) and data.x_val.shape == (2, 20, 10)
    assert data.x_test.shape == (2, 100, 10)
    torch.testing.assert_close(data.x_train.mean(1), torch.zeros(2, 10), atol=1e-5, rtol=0)
    torch.testing.assert_close(data.x_train.std(1), torch.ones(2, 10), atol=1e-4, rtol=0)
    torch.testing.assert_close(data.y_train.mean(1), torch.zeros(2), atol=1e-5, rtol=0)
    rows = torch.cat([data.x_train[0], data.x_val[0], data.x_test[0]])
    assert len({tuple(r.tolist()) for r in rows}) == 170  # no sample in two splits
    assert not torch.equal(data.x_train[0], data.x_train[1])  # each seed its own split


def test_feature_maps():
    data, relu = build(LINEAR.replace(width=12))
    w = relu.W_feat[0]  # [d, p]
    expected = torch.relu(data.x_train[0] @ w / 30**0.5)
    torch.testing.assert_close(relu.features(data.x_train)[0], expected)
    assert [n for n, _ in relu.named_parameters()] == ["W_out"]  # the map is not trained
    data, subset = build(LINEAR.replace(width=7, feature_map="subset"), seeds=(0, 1))
    phi = subset.features(data.x_train)  # [2, 20, 7]
    chosen = subset.S_feat  # [2, 7]: the coordinates each member sees
    assert all(len(set(c.tolist())) == 7 for c in chosen)
    torch.testing.assert_close(phi[1], data.x_train[1][:, chosen[1]])
    assert subset(data.x_train).shape == (2, 20, 1)


def test_solve_head_metrics():
    cfg = LINEAR.replace(width=60, n_val=15, noise_std=0.3)
    data, model = build(cfg, seeds=(0, 1))
    metrics = closedform.solve_head(model, data, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert {"train/loss", "val/loss", "test/loss", "peff/train", "peff/test", "peff/trace"} <= set(
        metrics
    )
    assert metrics["train/loss"][0] < 1e-20  # p = 60 > n = 20: min-norm interpolates
    assert metrics["train/loss"][1] > 1e-4  # ridge does not
    assert metrics["peff/trace"][0].item() == pytest.approx(20)
    assert metrics["peff/train"][0].item() == pytest.approx(20)
    assert 0 < metrics["peff/train"][1] < metrics["peff/trace"][1] < 20
    # the solution is written into the model: its float32 forward pass agrees
    pred = model(data.x_test)[..., 0].double()
    mse = (pred - data.y_test.double()).square().mean(1)
    torch.testing.assert_close(mse, metrics["test/loss"], rtol=1e-3, atol=0)


def test_closed_form_classification_records_accuracy():
    cfg = RunConfig().replace(
        op="parity", n_bits=10, k_bits=1, n_train=200, n_test=300, width=400, **SOLVE
    )
    data, model = build(cfg)
    metrics = closedform.solve_head(model, data, torch.tensor([1e-3], dtype=torch.float64))
    assert metrics["train/acc"].item() == 1.0
    assert metrics["test/acc"].item() > 0.9  # one relevant bit: the sign of a coordinate


def test_a_closed_form_run_is_an_ordinary_stored_run(tmp_path):
    store = Store(tmp_path / "runs.db")
    cfgs = [DIABETES.replace(width=30, seed=s, wd=w) for s, w in ((0, 0.0), (1, 0.5))]
    results = run_ensemble(cfgs, store, "cpu")
    for cfg, r in zip(cfgs, results, strict=True):
        assert r.record.status == "finished" and not r.cached
        assert r.events.phase == "n/a" and r.events.final_test_acc is None
        metrics = store.metrics(r.record.id)
        assert metrics["test/loss"][0] == [closedform.STEP]
        assert "val/loss" in metrics and "peff/test" in metrics and "train/acc" not in metrics
        assert r.record.summary["test/loss"] == metrics["test/loss"][1][0]
        checkpoint = store.load_checkpoint(r.record.id)
        assert checkpoint[0] == closedform.STEP and "W_out" in checkpoint[2]["model"]
        assert r.record.config["train"]["wd"] == cfg.train.wd
    again = run(cfgs[1], store, "cpu")  # found, not solved again
    assert again.cached and again.record.summary == results[1].record.summary


def test_cli_runs_a_closed_form_solve(tmp_path, capsys):
    args = ["run", "--op", "linear", "--n-features", "20", "--n-train", "10", "--n-test", "50"]
    args += ["--model", "rf", "--width", "40", "--optimizer", "lstsq", "--wd", "0"]
    args += ["--loss", "mse", "--store", str(tmp_path / "r.db"), "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["phase"] == "n/a" and out["test_loss"] > 0
    assert main([*args[:-1], "--no-report"]) == 0
    text = capsys.readouterr().out
    assert "closed-form solve" in text and "loss    train" in text and "p_eff" in text


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(optimizer="adamw"), "optimizer: op=linear has real-valued targets"),
        (dict(model="dense", optimizer="lstsq"), "model: optimizer=lstsq"),
        (dict(loss="cross_entropy"), "loss: optimizer=lstsq"),
        (dict(steps=10), "steps: not used by optimizer=lstsq"),
        (dict(batch_size=8), "batch_size: not used by optimizer=lstsq"),
        (dict(feature_map="subset", width=31), "width: feature_map=subset"),
        (dict(feature_map="sin"), "feature_map: unknown"),
        (dict(n_train=0), "n_train: op=linear needs a training set"),
        (dict(n_bits=12), "n_bits: not used by op=linear"),
        (dict(n_features=12, op="diabetes"), "n_features: diabetes has its own"),
        (dict(op="diabetes", n_features=100, n_test=430), "n_test: diabetes has 442"),
        (dict(noise_std=-1.0), "noise_std"),
    ],
)
def test_config_errors_name_the_field(changes, field):
    with pytest.raises(ConfigError, match=field):
        LINEAR.replace(**changes)


def test_regression_fields_are_refused_elsewhere_and_the_loop_refuses_regression():
    with pytest.raises(ConfigError, match="n_val: only used by op=linear, nonlinear, diabetes"):
        RunConfig().replace(n_val=5)
    with pytest.raises(ConfigError, match="n_val: not used by op=parity"):
        RunConfig().replace(op="parity", model="dense", batch_size=8, n_val=5)
    with pytest.raises(ConfigError, match="model: optimizer=lstsq"):
        RunConfig().replace(optimizer="lstsq", loss="mse")
    from phenolab.measures import Context, performance
    from phenolab.train.loop import Plan, TrainState, train
    from phenolab.train.losses import mse
    from phenolab.train.optim import SGD

    data, model = build(LINEAR)
    state = TrainState(model, SGD(model.parameters(), [0.1], [0.0]), data)
    with pytest.raises(ConfigError, match="closed form"):
        train(state, Plan(steps=1, eval_steps=[1], loss_fn=mse))
    with pytest.raises(ConfigError, match="performance"):
        performance(Context(model, data, mse))
