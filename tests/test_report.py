"""Report figures: progress-measure panels and the embedding's circle projection."""

import math

import torch

from phenolab.report.figures import circle_figure, measures_figure
from phenolab.report.html import embedding_circle
from phenolab.store import RunRecord
from tests.test_rqi import circle_embedding


def test_measures_figure_draws_one_panel_per_extra_measure():
    steps = [0, 10, 100]
    metrics = {
        "train/acc": (steps, [0, 1, 1]),
        "norm/total": (steps, [3, 2, 1]),
        "time/seconds": (steps, [0, 1, 2]),
        "fourier/gini": (steps, [0.1, 0.5, 0.9]),
        "rqi/share": (steps, [0.05, 0.3, 1.0]),
    }
    fig = measures_figure(metrics, 10, 100, "t")
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == ["fourier/gini", "rqi/share"]
    assert measures_figure({"train/acc": (steps, [0, 1, 1])}, None, None, "t") is None


def _record(op: str) -> RunRecord:
    config = {"task": {"op": op, "p": 31}, "model": {}, "train": {}}
    return RunRecord("r", config, "finished", 0.0, 0.0, 1.0, {}, None)


def test_embedding_circle_of_a_circle_embedding_is_round():
    vocab_rows = torch.cat([circle_embedding(31, k=7)[0], torch.randn(2, 16).double()])
    checkpoint = (100, 1.0, {"model": {"W_E": vocab_rows[None].float()}})
    xy, k = embedding_circle(_record("x+y"), checkpoint)
    assert k == 7
    radius = (xy**2).sum(1) ** 0.5
    assert abs(radius.max() - radius.min()) < 1e-3 and math.isclose(radius.mean(), 1, rel_tol=1e-3)
    circle_figure(xy, k, "t")  # draws
    assert embedding_circle(_record("S5"), checkpoint) is None  # not modular arithmetic
    assert embedding_circle(_record("x+y"), (1, 0.0, {"model": {"W_in": torch.ones(1)}})) is None
    assert embedding_circle(_record("x+y"), None) is None
