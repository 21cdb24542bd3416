"""Reports a researcher can use: figures as SVG / PDF, the config table limited to the fields
the run uses (booleans as true / false), report names that do not collide between two stores
in one folder, and no pointer to a file the user does not have."""

import os

from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.report.html import _fmt
from phenolab.store import Store


def stored_run(path, **fields):
    cfg = RunConfig().replace(steps=100, **fields)
    with Store(path) as store:
        store.create_run(cfg.run_id(), cfg.to_json(), {"device": "cpu"})
        for step, acc in ((0, 0.0), (50, 0.5), (100, 1.0)):
            store.append_metrics(
                step,
                {
                    cfg.run_id(): {
                        "train/acc": acc,
                        "test/acc": acc,
                        "train/loss": 1 - acc + 0.01,
                        "test/loss": 1 - acc + 0.01,
                        "norm/total": 3.0,
                    }
                },
            )
        store.set_status(cfg.run_id(), "finished", seconds=1.0)
    return cfg.run_id()


def test_two_stores_in_one_folder_keep_their_reports_apart(tmp_path, capsys):
    run_id = stored_run(tmp_path / "a.db")
    assert stored_run(tmp_path / "b.db") == run_id  # the same config: the same id
    for name in ("a.db", "b.db"):
        assert main(["report", run_id, "--store", str(tmp_path / name)]) == 0
    paths = capsys.readouterr().out.split()
    assert [os.path.basename(p) for p in paths] == [f"a-{run_id}.html", f"b-{run_id}.html"]
    text = open(paths[0], encoding="utf-8").read()
    assert "DESIGN.md" not in text


def test_config_table_lists_the_fields_the_run_uses(tmp_path, capsys):
    db = tmp_path / "s.db"
    run_id = stored_run(db, model="transformer", layernorm=False)
    out = tmp_path / "r.html"
    assert main(["report", run_id, "--store", str(db), "--out", str(out)]) == 0
    text = out.read_text()
    assert "model.n_heads" in text and "train.lr" in text  # the transformer's, the core
    assert "model.widths" not in text and "train.muon_lr" not in text  # unused by this run
    assert "task.n_bits" not in text  # sparse parity's
    assert "<th>model.layernorm</th><td>false</td>" in text
    assert _fmt(True) == "true" and _fmt([0.9, 0.98]) == "[0.9, 0.98]"


def test_figures_as_svg_and_pdf(tmp_path, capsys):
    db = tmp_path / "s.db"
    run_id = stored_run(db)
    assert main(["report", run_id, "--store", str(db), "--format", "svg"]) == 0
    (svg,) = capsys.readouterr().out.split()
    assert svg.endswith(f"s-{run_id}-curves.svg") and "<svg" in open(svg).read()
    out = tmp_path / "fig" / "paper"
    assert main(["report", run_id, "--store", str(db), "--format", "pdf", "--out", str(out)]) == 0
    (pdf,) = capsys.readouterr().out.split()
    assert pdf == f"{out}-curves.pdf" and open(pdf, "rb").read(4) == b"%PDF"


def test_comparison_figure_without_any_generalized_arm_shows_final_accuracy():
    from phenolab.report.figures import comparison_figure

    def member(final):
        return {"test/acc": ([1, 10, 100], [0.0, 0.1, final])}

    arms = [
        ("baseline", [member(0.1), member(0.2)], [None, None]),
        ("set:wd=0,loss=stablemax,loss_dtype=float64", [member(0.3), member(0.4)], [None, None]),
    ]
    fig = comparison_figure(arms, "nothing generalizes")
    strip = fig.axes[1]
    from matplotlib.collections import PathCollection

    points = [o.get_offsets() for o in strip.collections if isinstance(o, PathCollection)]
    assert sorted(float(y) for p in points for _, y in p) == [0.1, 0.2, 0.3, 0.4]
    assert strip.get_ylabel().startswith("final test accuracy")
    labels = [t.get_text() for t in strip.get_xticklabels()]
    assert labels[1].endswith("…") and strip.get_xticklabels()[0].get_rotation() == 30
