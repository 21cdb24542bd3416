"""Losses on constructed logits with known values."""

import math

import torch

from phenolab.config import RunConfig
from phenolab.store import Store
from phenolab.train.losses import cross_entropy, stablemax_cross_entropy
from tests.conftest import TINY, run


def test_stablemax_values():
    logits = torch.tensor([[[0.0, 0.0], [1.0, -1.0], [-1.0, 3.0]]])  # [E=1, B=3, C=2]
    targets = torch.tensor([[0, 0, 0]])
    # s = [1, 1] → ½; s = [2, ½] → 0.8; s = [½, 4] → 1/9
    expected = (math.log(2) - math.log(0.8) - math.log(1 / 9)) / 3
    assert math.isclose(stablemax_cross_entropy(logits, targets).item(), expected, rel_tol=1e-6)


def test_stablemax_does_not_collapse_where_softmax_does():
    """A confident float32 softmax rounds the loss to exactly 0 (no gradient); StableMax's
    probabilities grow only linearly, so its loss and gradient stay non-zero and finite."""
    logits = torch.tensor([[[200.0, -50.0, 0.0]]], requires_grad=True)
    targets = torch.tensor([[0]])
    assert cross_entropy(logits, targets).item() == 0.0
    loss = stablemax_cross_entropy(logits, targets)
    loss.backward()
    assert loss.item() > 0 and torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_stablemax_trains(tmp_path):
    cfg = RunConfig().replace(**TINY).replace(loss="stablemax", steps=150, eval_every=50)
    result = run(cfg, Store(tmp_path / "runs.db"), "cpu")
    steps, train_acc = Store(tmp_path / "runs.db").metrics(result.record.id)["train/acc"]
    assert train_acc[-1] > train_acc[0] + 0.5
