"""phenolab.watch on an ordinary nn.Module in a plain loop: the same metrics and events as a
phenolab run, in the same store, and `phenolab runs` / `phenolab report` on it."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import phenolab
from phenolab.cli import main
from phenolab.errors import UserError
from phenolab.store import Store


def toy(n=64, classes=4):
    torch.manual_seed(0)
    x = torch.randn(n, 5)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()  # 4 classes, learnable
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, classes))
    return model, (x[:48], y[:48]), (x[48:], y[48:])


def test_watch_records_a_plain_loop(tmp_path, capsys):
    model, train, test = toy()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    db = tmp_path / "w.db"
    w = phenolab.watch(
        model,
        train=train,
        test=test,
        store=str(db),
        every=10,
        measures=["performance", "norm", "layers"],
        params={"lr": 0.05, "betas": (0.9, 0.99)},
    )
    recorded = []
    for step in range(1, 61):
        loss = F.cross_entropy(model(train[0]), train[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if w.step(step) is not None:
            recorded.append(step)
    # the grid: log-spaced to 10·every (dense early), then every 10
    assert recorded[:4] == [1, 2, 3, 4] and set(range(10, 61, 10)) <= set(recorded)
    assert model.training  # evaluation left the model as it found it
    events = w.finish()
    store = Store(db)
    metrics = store.metrics(w.run_id)
    assert {"train/acc", "test/acc", "train/loss", "test/loss", "norm/total"} <= set(metrics)
    assert "move/0.weight" in metrics and "norm/2.bias" in metrics
    # the values are the plain model's own
    with torch.no_grad():
        acc = (model(train[0]).argmax(-1) == train[1]).float().mean().item()
        norm = torch.sqrt(sum(p.pow(2).sum() for p in model.parameters())).item()
    assert metrics["train/acc"][1][-1] == pytest.approx(acc)
    assert metrics["norm/total"][1][-1] == pytest.approx(norm, rel=1e-5)
    record = store.get_run(w.run_id)
    assert record.status == "finished" and record.external["source"] == "watch"
    assert record.external["chance"] == 0.25 and record.config["params"] == {
        "lr": 0.05,
        "betas": "(0.9, 0.99)",
    }
    assert record.summary["phase"] == events.phase and record.summary["steps"] == 60
    assert events.t_fit is not None
    assert main(["runs", "--store", str(db)]) == 0
    assert w.run_id in capsys.readouterr().out
    report = tmp_path / "r.html"
    assert main(["report", w.run_id[:6], "--store", str(db), "--out", str(report)]) == 0
    assert "Sequential (watch)" in report.read_text()
    # commands that need a phenolab run's weights say why a watched one has none
    assert main(["interpolate", w.run_id, w.run_id, "--store", str(db)]) == 2
    assert "recorded by phenolab.watch" in capsys.readouterr().err
    args = ["run", "grokking", "--steps", "10", "--store", str(db), "--no-report"]
    assert main([*args, "--init-from", w.run_id]) == 2
    assert "init_from: run" in capsys.readouterr().err


def test_a_loop_that_raises_leaves_an_interrupted_run(tmp_path):
    model, train, test = toy()
    db = tmp_path / "w.db"
    with pytest.raises(RuntimeError), phenolab.watch(model, train, test, store=str(db)) as w:
        w.step(0)
        raise RuntimeError("the user's loop failed")
    record = Store(db).get_run(w.run_id)
    assert record.status == "interrupted" and record.summary is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"measures": ["fourier"]}, "reads a phenolab model or task"),
        ({"measures": ["nope"]}, "unknown measure 'nope'"),
        ({"every": 0}, "every must be at least 1"),
        ({"test": (torch.randn(4, 5), torch.rand(4))}, "targets must be class ids"),
        ({"test": torch.randn(4, 5)}, "must be a pair"),
    ],
)
def test_mistakes_are_user_errors(tmp_path, options, message):
    model, train, test = toy()
    kwargs = {"train": train, "test": test, "store": str(tmp_path / "w.db")} | options
    with pytest.raises(UserError, match=message):
        phenolab.watch(model, **kwargs)
