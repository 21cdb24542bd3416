"""`phenolab export` (tidy CSV / Parquet, TensorBoard, MLflow) and `phenolab.load`, on a store
of hand-made runs, each export read back with the real library that reads it."""

import csv
import json

import pytest

import phenolab
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.store import Store

STEPS = [0, 10, 100, 1000]


def make_store(path):
    """Two finished runs differing in wd (one grokked, one memorized), judged by one verdict."""
    store = Store(path)
    ids = []
    for wd, test in ((1.0, [0.01, 0.02, 0.5, 1.0]), (0.1, [0.01, 0.02, 0.03, 0.02])):
        cfg = RunConfig().replace(wd=wd, steps=1000)
        ids.append(cfg.run_id())
        store.create_run(cfg.run_id(), cfg.to_json(), {"device": "cpu"})
        for step, t in zip(STEPS, test, strict=True):
            store.append_metrics(
                step,
                {
                    cfg.run_id(): {
                        "train/acc": 1.0 if step >= 10 else 0.0,
                        "test/acc": t,
                        "train/loss": 1 / (step + 1),
                        "time/unix": 1.7e9 + step,
                    }
                },
            )
        phase = "grokking" if test[-1] == 1.0 else "memorization"
        summary = {"t_fit": 10, "t_gen": 1000 if phase == "grokking" else None, "phase": phase}
        store.set_status(cfg.run_id(), "finished", seconds=1.0, summary=summary)
    store.add_verdicts(
        "toy-entry", "quick", [{"expectation": "groks", "verdict": "PASS"}], [ids[0]]
    )
    store.close()
    return ids


def test_csv_and_parquet_tidy_tables(tmp_path, capsys):
    db = tmp_path / "s.db"
    ids = make_store(db)
    out = tmp_path / "t.csv"
    assert main(["export", "csv", str(out), "--all", "--store", str(db)]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * len(STEPS) * 4  # runs × steps × metrics
    assert list(rows[0])[0] == "run_id" and list(rows[0])[-3:] == ["step", "metric", "value"]
    acc = [r for r in rows if r["run_id"] == ids[0] and r["metric"] == "test/acc"]
    assert [(int(r["step"]), float(r["value"])) for r in acc] == [
        (0, 0.01),
        (10, 0.02),
        (100, 0.5),
        (1000, 1.0),
    ]
    assert {r["wd"] for r in rows} == {"1.0", "0.1"}
    pd = pytest.importorskip("pandas", reason="the [parquet] extra")
    pytest.importorskip("pyarrow", reason="the [parquet] extra")
    parquet = tmp_path / "t.parquet"
    # a sweep as a selection: by config field (1 is 1.0), and by id prefix
    assert main(["export", "parquet", str(parquet), "--where", "wd=1", "--store", str(db)]) == 0
    table = pd.read_parquet(parquet)
    assert set(table.run_id) == {ids[0]} and len(table) == len(STEPS) * 4
    assert main(["export", "csv", str(out), ids[1][:6], "--store", str(db)]) == 0
    assert main(["export", "csv", str(out), "--where", "wd=7", "--store", str(db)]) == 2
    assert "no runs" in capsys.readouterr().err
    # a catalog reproduction: the runs its latest verdicts judged
    assert main(["export", "csv", str(out), "--entry", "toy-entry", "--store", str(db)]) == 0
    with open(out, newline="") as f:
        assert {r["run_id"] for r in csv.DictReader(f)} == {ids[0]}
    assert main(["export", "csv", str(out), "--entry", "nope", "--store", str(db)]) == 2
    assert "no reproduction of 'nope'" in capsys.readouterr().err


def test_load_returns_runs_metrics_and_verdicts(tmp_path):
    pytest.importorskip("pandas", reason="the [parquet] extra")
    db = tmp_path / "s.db"
    ids = make_store(db)
    tables = phenolab.load(db)
    runs = tables.runs.set_index("run_id")
    assert runs.loc[ids[0], "phase"] == "grokking" and runs.loc[ids[1], "wd"] == 0.1
    assert len(tables.metrics) == 2 * len(STEPS) * 4
    assert list(tables.verdicts[["entry", "expectation", "verdict"]].iloc[0]) == [
        "toy-entry",
        "groks",
        "PASS",
    ]
    with pytest.raises(phenolab.errors.UserError, match="no phenolab store"):
        phenolab.load(tmp_path / "missing.db")


def test_tensorboard_folders_with_hparams(tmp_path, capsys):
    pytest.importorskip("tensorboard", reason="the [tensorboard] extra")
    from phenolab.io.tb import read_tensorboard

    db = tmp_path / "s.db"
    ids = make_store(db)
    assert main(["export", "tensorboard", str(tmp_path / "tb"), "--all", "--store", str(db)]) == 0
    logs = {log.name: log for log in read_tensorboard(str(tmp_path / "tb"), {})}
    assert set(logs) == set(ids)
    grokked = logs[ids[0]]
    assert grokked.params == {"wd": "1", "phase": "grokking"}  # the varying field and phase
    steps, values = grokked.curves["test/acc"]
    assert steps == STEPS and values == pytest.approx([0.01, 0.02, 0.5, 1.0])
    # exported again: the folders are found, not written twice
    args = ["export", "tensorboard", str(tmp_path / "tb"), "--all", "--store", str(db), "--json"]
    capsys.readouterr()
    assert main(args) == 0
    assert all("already there" in w for w in json.loads(capsys.readouterr().out)["written"])
    assert len(list((tmp_path / "tb" / ids[0]).iterdir())) == 1


def test_mlflow_store(tmp_path, capsys):
    tracking = pytest.importorskip("mlflow.tracking", reason="the [mlflow] extra")
    db = tmp_path / "s.db"
    ids = make_store(db)
    target = tmp_path / "mlruns"
    args = ["export", "mlflow", str(target), "--all", "--store", str(db), "--json"]
    assert main(args) == 0
    capsys.readouterr()
    client = tracking.MlflowClient(tracking_uri="file://" + str(target))
    (experiment,) = [e for e in client.search_experiments() if e.name == "phenolab"]
    runs = {
        r.data.tags["phenolab.run_id"]: r for r in client.search_runs([experiment.experiment_id])
    }
    assert set(runs) == set(ids)
    grokked = runs[ids[0]]
    assert grokked.data.tags["phenolab.phase"] == "grokking"
    assert grokked.data.tags["phenolab.verdict.toy-entry.groks"] == "PASS"
    assert "phenolab.verdict.toy-entry.groks" not in runs[ids[1]].data.tags
    assert grokked.data.params["wd"] == "1.0"
    history = client.get_metric_history(grokked.info.run_id, "test/acc")
    assert [(m.step, m.value) for m in history] == list(
        zip(STEPS, [0.01, 0.02, 0.5, 1.0], strict=True)
    )
    assert grokked.data.metrics["events/t_gen"] == 1000
    (artifact,) = client.list_artifacts(grokked.info.run_id)
    assert artifact.path == f"{ids[0]}.html"
    # a second export finds the runs and leaves them
    assert main(args) == 0
    assert all("already there" in w for w in json.loads(capsys.readouterr().out)["written"])
    assert len(client.search_runs([experiment.experiment_id])) == 2


def test_parquet_of_phenolab_and_watched_runs_with_clashing_types(tmp_path):
    pd = pytest.importorskip("pandas", reason="the [parquet] extra")
    pytest.importorskip("pyarrow", reason="the [parquet] extra")
    import torch

    db = tmp_path / "s.db"
    make_store(db)
    model = torch.nn.Linear(3, 2)
    x, y = torch.randn(8, 3), torch.tensor([0, 1] * 4)
    w = phenolab.watch(model, (x, y), (x, y), store=str(db), params={"width": "wide"})
    w.step(0)
    w.finish()
    out = tmp_path / "t.parquet"
    assert main(["export", "parquet", str(out), "--all", "--store", str(db)]) == 0
    table = pd.read_parquet(out)
    assert set(table.width) == {"128", "wide"}  # phenolab's 128 and the watched run's text
    assert set(table.external_source.dropna()) == {"watch"}
