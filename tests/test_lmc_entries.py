"""Smoke runs of the linear-mode-connectivity entries (frankle2020-lmc, ainsworth2023-rebasin)
with their arms on a tiny sparse-parity task: training, the analysis of the stored weights,
expectations and figures, end to end in seconds."""

import dataclasses

import matplotlib
import pytest
import torch

from phenolab.catalog.entries import ainsworth2023, frankle2020_lmc
from phenolab.catalog.reproduce import reproduce
from phenolab.config import RunConfig
from phenolab.store import Store

matplotlib.use("Agg")

TINY = RunConfig().replace(
    op="parity", n_bits=10, k_bits=2, n_train=200, n_test=200, split_seed=0,
    model="dense", width=16, optimizer="sgd", lr=0.1, wd=0.0, warmup=0, batch_size=25,
)  # fmt: skip


def test_instability_analysis_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(frankle2020_lmc, "REWIND_STEPS", (0, 5, 20))
    base = TINY.replace(steps=40, eval_every=20)
    entry = dataclasses.replace(frankle2020_lmc.FRANKLE_LMC, arms=frankle2020_lmc.arms(base))
    with Store(tmp_path / "s.db") as store:
        result = reproduce(entry, store, torch.device("cpu"), quick=True, seeds=2, workers=1)
        verdicts = {v.expectation: v for v in result.verdicts}
        assert set(verdicts) == {"lenet-stable-at-init", "stable-early"}
        assert all(v.verdict in ("PASS", "FAIL") for v in verdicts.values())
        for k in frankle2020_lmc.REWIND_STEPS:
            a, b = (result.outcome[frankle2020_lmc.arm_name(k, c)][0] for c in "ab")
            assert a.derived["lmc/barrier"] == b.derived["lmc/barrier"] >= 0
            assert a.record.config["train"]["steps"] == base.train.steps - k
            assert a.record.config["train"]["order_seed"] != b.record.config["train"]["order_seed"]
        figures = entry.figures(result.outcome, store)
        assert len(figures) == 1


def test_rebasin_end_to_end(tmp_path):
    base = TINY.replace(n_layers=2, steps=60, eval_every=30)
    arms = tuple(
        dataclasses.replace(arm, config=base.replace(width=w), quick=base.replace(width=w))
        for arm, w in zip(ainsworth2023.ARMS, (4, 8, 16), strict=True)
    )
    entry = dataclasses.replace(ainsworth2023.REBASIN, arms=arms)
    with Store(tmp_path / "s.db") as store:
        result = reproduce(entry, store, torch.device("cpu"), quick=True, seeds=4, workers=1)
        assert all(v.verdict in ("PASS", "FAIL") for v in result.verdicts)
        for results in result.outcome.values():
            first, second, third, _ = results
            # naive and matched paths of the pairs (seed 0, 1) and (seed 2, 3)
            for derived in (first.derived, third.derived):
                assert derived["rebasin/matched/train/loss_barrier"] >= -1e-6
                assert len(derived["rebasin/naive/test/error"]) == 31
            assert not second.derived
        assert len(entry.figures(result.outcome, store)) == 1


@pytest.mark.parametrize("entry", [frankle2020_lmc.FRANKLE_LMC, ainsworth2023.REBASIN])
def test_expectations_without_an_analysis_are_inconclusive(entry):
    outcome = {arm.name: [] for arm in entry.arms}
    assert all(x.judge(outcome)[0] == "INCONCLUSIVE" for x in entry.expectations)
