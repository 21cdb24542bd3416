"""`phenolab detect` on logs written by the real libraries inside the test: a CSV, JSON lines,
TensorBoard event folders (torch's SummaryWriter) and an MLflow file store (mlflow's client)."""

import csv
import json
import os

import pytest

from phenolab.cli import main
from phenolab.io.detect import across, detect
from phenolab.io.logs import read_logs

STEPS = list(range(0, 3001, 50))


def curve(t_fit: int, t_gen: int | None, plateau: float = 1.0):
    """(step, train acc, test acc, train loss, test loss): train reaches 1 at t_fit, test
    stays at chance (0.01) until it jumps to `plateau` at t_gen."""
    rows = []
    for s in STEPS:
        train = 1.0 if s >= t_fit else 0.01 + 0.9 * s / t_fit
        test = plateau if t_gen is not None and s >= t_gen else 0.01
        rows.append((s, train, test, 1.0 - train + 0.01, 1.0 - test + 0.5))
    return rows


def write_csv(path, rows, header=("step", "train_acc", "val_acc", "train_loss", "val_loss")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_csv_grokking_run(tmp_path, capsys):
    path = tmp_path / "log.csv"
    write_csv(path, curve(100, 1500))
    (log,) = read_logs(str(path))
    assert log.columns == {
        "step": "step",
        "train/acc": "train_acc",
        "test/acc": "val_acc",
        "train/loss": "train_loss",
        "test/loss": "val_loss",
    }
    d = detect(log)
    assert (d.events.t_fit, d.events.t_gen, d.events.delay) == (100, 1500, 1400)
    assert d.events.phase == "grokking"
    assert d.chance == pytest.approx(0.01)
    report = tmp_path / "r.html"
    assert main(["detect", str(path), "--json", "--report", str(report)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"][0]["phase"] == "grokking" and out["report"] == str(report)
    text = report.read_text()
    assert "grokking" in text and "log.csv" in text and "DESIGN.md" not in text


def test_jsonl_percent_and_mapped_columns(tmp_path):
    path = tmp_path / "log.jsonl"
    with open(path, "w") as f:
        for s, train, test, _, _ in curve(200, 300):
            f.write(json.dumps({"it": s, "fit": 100 * train, "gen": 100 * test}) + "\n")
    (log,) = read_logs(str(path), {"step": "it", "train/acc": "fit", "test/acc": "gen"})
    assert log.notes == ["fit read as percent", "gen read as percent"]
    d = detect(log, chance=0.1)
    assert (d.events.t_fit, d.events.t_gen, d.events.phase) == (200, 300, "comprehension")
    assert d.chance_from == "given"


def test_tensorboard_folders_and_double_descent(tmp_path, capsys):
    pytest.importorskip("tensorboard", reason="the [tensorboard] extra")
    from torch.utils.tensorboard import SummaryWriter

    # width 16 ends at test 0.6 (the peak of the test error); 8 and 32 generalize
    for width, plateau in ((8, 1.0), (16, 0.6), (32, 1.0)):
        for seed in (0, 1):
            w = SummaryWriter(str(tmp_path / "tb" / f"width={width},seed={seed}"))
            for s, train, test, loss, _ in curve(100, 1000, plateau):
                w.add_scalar("Accuracy/train", train, s)
                w.add_scalar("Accuracy/test", test, s)
                w.add_scalar("Loss/train", loss, s)
            w.close()
    logs = read_logs(str(tmp_path / "tb"))
    assert [log.name for log in logs][:2] == ["width=8,seed=0", "width=8,seed=1"]
    assert logs[0].columns == {
        "train/acc": "Accuracy/train",
        "test/acc": "Accuracy/test",
        "train/loss": "Loss/train",
    }
    detected = [detect(log) for log in logs]
    assert [d.events.phase for d in detected] == ["grokking"] * 2 + ["semi-grokking"] * 2 + [
        "grokking"
    ] * 2
    sizes = across(detected, "width")
    assert sizes.sizes == [8, 16, 32] and sizes.runs == [2, 2, 2]
    assert sizes.errors == pytest.approx([0, 0.4, 0], abs=1e-6)
    assert sizes.peak.found and sizes.peak.x == 16 and sizes.peak.second_descent
    report = tmp_path / "dd.html"
    assert main(["detect", str(tmp_path / "tb"), "--by", "width", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "double descent  peak at x = 16" in out
    assert "Test error against width" in report.read_text()


def test_mlflow_file_store(tmp_path, capsys):
    tracking = pytest.importorskip("mlflow.tracking", reason="the [mlflow] extra")
    from mlflow.entities import Metric

    store = tmp_path / "mlruns"
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = tracking.MlflowClient(tracking_uri="file://" + str(store))
    experiment = client.create_experiment("mine")
    ids = {}
    for name, t_gen in (("fast", 150), ("slow", 2000), ("never", None)):
        run = client.create_run(experiment, run_name=name)
        ids[name] = run.info.run_id
        client.log_param(run.info.run_id, "lr", 0.001)
        metrics = []
        for s, train, test, _, loss in curve(100, t_gen):
            metrics += [Metric("train_accuracy", train, 0, s), Metric("val_accuracy", test, 0, s)]
            metrics.append(Metric("val_loss", loss, 0, s))
        client.log_batch(run.info.run_id, metrics=metrics)
        client.set_terminated(run.info.run_id)
    by_name = {log.name: detect(log) for log in read_logs(str(store))}
    assert by_name["fast"].events.phase == "comprehension"
    assert by_name["slow"].events.t_gen == 2000 and by_name["slow"].events.phase == "grokking"
    assert by_name["never"].events.phase == "memorization"
    assert by_name["fast"].log.params["lr"] == "0.001"
    assert main(["detect", str(store), "--run", ids["slow"][:8], "--json", "--no-report"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["run"] == "slow" and run["delay"] == 1900


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: write_csv(p / "a.csv", [(1, 2)], ("a", "b")), "no train accuracy and test"),
        (
            lambda p: write_csv(
                p / "a.csv", [(1, 0.1, 0.1), (3, 0.2, 0.2), (2, 1, 1)], ("step", "acc", "val_acc")
            ),
            "line 4: step column 'step' is not monotone (2 after 3)",
        ),
        (lambda p: (p / "a.csv").write_text(""), "no rows"),
        (
            lambda p: write_csv(p / "a.csv", [(1, "x", 0.1)], ("step", "acc", "val_acc")),
            "line 2: 'acc' is 'x', not a number",
        ),
    ],
)
def test_bad_logs_are_one_line_errors(tmp_path, capsys, make, message):
    make(tmp_path)
    assert main(["detect", str(tmp_path / "a.csv"), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_stores_are_one_line_errors(tmp_path, capsys):
    from phenolab.store import Store

    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "events.out.tfevents.1.host").write_bytes(b"")
    Store(tmp_path / "phenolab.db").close()
    (tmp_path / "folder").mkdir()
    for args, message in (
        ([str(tmp_path / "tb")], "no scalars in its event file(s)"),
        ([str(tmp_path / "phenolab.db")], "a phenolab run store, not an MLflow store"),
        ([str(tmp_path / "folder"), "--format", "mlflow"], "not an MLflow store"),
        ([str(tmp_path / "folder")], "neither TensorBoard event files nor an MLflow store"),
        ([str(tmp_path / "nothing.csv")], "no such file or folder"),
    ):
        assert main(["detect", *args, "--no-report"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (args, err)


def test_a_missing_extra_is_a_one_line_error_naming_its_install(tmp_path, capsys, monkeypatch):
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "events.out.tfevents.1.host").write_bytes(b"")
    modules = __import__("sys").modules
    for name in ["tensorboard", "mlflow", *modules]:  # each import of them fails, loaded or not
        if name.split(".")[0] in ("tensorboard", "mlflow"):
            monkeypatch.setitem(modules, name, None)
    assert main(["detect", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "phenolab: error: TensorBoard event files need the tensorboard package: "
        "pip install 'phenolab[tensorboard]'\n"
    )
    assert main(["detect", str(tmp_path / "tb"), "--format", "mlflow"]) == 2
    assert "pip install 'phenolab[mlflow]'" in capsys.readouterr().err
