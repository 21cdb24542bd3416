"""The fast paths (torch.compile of forward + loss; the CUDA graph of the step) against the
eager path.

Tolerance: compiled kernels fuse and reorder floating-point work, so the compiled run is the
eager computation with other rounding: its curves are compared as an ensemble member with the
same config alone (tests/test_ensemble.py: losses and norms relative, accuracies within a few
flipped near-tie predictions; exact accuracies failed on an idle Intel Xeon).
The CUDA graph replays the eager step's own kernels: curves agree to rtol
1e-6 (checked on CUDA when present; measured on an H100)."""

import pytest
import torch

from phenolab.config import RunConfig
from phenolab.run import Options
from phenolab.store import Store
from phenolab.train import fast as fast_module
from phenolab.train import graphs as graphs_module
from phenolab.train.graphs import graphed
from tests.conftest import TINY, run
from tests.test_ensemble import assert_same_curves

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (none on this machine)")


def curves(store, cfg):
    return {k: v for k, v in store.metrics(cfg.run_id()).items() if not k.startswith("time/")}


def test_compiled_step_matches_eager(tmp_path):
    """(On CUDA `--fast` is the CUDA graph instead, tested below.)"""
    cfg = RunConfig().replace(**TINY).replace(steps=60, eval_every=20)
    eager, compiled = Store(tmp_path / "e.db"), Store(tmp_path / "c.db")
    run(cfg, eager, "cpu")
    result = run(cfg, compiled, "cpu", options=Options(fast=True))
    assert result.record.env["fast_path"].startswith("torch.compile")
    assert_same_curves(curves(eager, cfg), curves(compiled, cfg))


def test_unsupported_compile_falls_back_to_eager(tmp_path, monkeypatch):
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(fast_module.torch, "compile", broken_compile)
    cfg = RunConfig().replace(**TINY).replace(steps=30, eval_every=10)
    eager, fallback = Store(tmp_path / "e.db"), Store(tmp_path / "f.db")
    run(cfg, eager, "cpu")
    with pytest.warns(RuntimeWarning, match="torch.compile unavailable"):
        run(cfg, fallback, "cpu", options=Options(fast=True))
    assert curves(eager, cfg) == curves(fallback, cfg)


# -- the CUDA graph of the whole step (train/graphs.py)


@CUDA
@pytest.mark.parametrize("batch_size", [0, 64])
def test_cuda_graph_step_matches_eager(tmp_path, batch_size):
    """Replay runs the eager step's kernels in the same order: curves agree to rounding
    (asserted at rtol 1e-6; accuracies exactly), full batch and minibatch."""
    cfg = RunConfig().replace(**TINY).replace(steps=60, eval_every=20, batch_size=batch_size)
    eager, graphed = Store(tmp_path / "e.db"), Store(tmp_path / "g.db")
    run(cfg, eager, "cuda")
    result = run(cfg, graphed, "cuda", options=Options(fast=True))
    assert result.record.env["fast_path"].startswith("CUDA graph")
    a, b = curves(eager, cfg), curves(graphed, cfg)
    assert a["train/acc"] == b["train/acc"] and a["test/acc"] == b["test/acc"]
    for name in ("train/loss", "test/loss", "norm/total"):
        torch.testing.assert_close(
            torch.tensor(b[name][1]), torch.tensor(a[name][1]), rtol=1e-6, atol=1e-7, msg=name
        )


@CUDA
def test_failed_capture_falls_back_to_eager(tmp_path, monkeypatch):
    def broken_graph(*args, **kwargs):
        raise RuntimeError("capture unsupported here")

    monkeypatch.setattr(graphs_module.torch.cuda, "graph", broken_graph)
    cfg = RunConfig().replace(**TINY).replace(steps=30, eval_every=10)
    eager, fallback = Store(tmp_path / "e.db"), Store(tmp_path / "f.db")
    run(cfg, eager, "cuda")
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
        run(cfg, fallback, "cuda", options=Options(fast=True))
    assert curves(eager, cfg) == curves(fallback, cfg)


def test_host_side_callbacks_turn_the_graph_off():
    def step(idx):
        return torch.zeros(1)

    state = type("S", (), {"model": torch.nn.Linear(1, 1)})()
    with pytest.warns(RuntimeWarning, match="CUDA graph off: Grokfast"):
        assert graphed(step, state, ["Grokfast"]) is step
    assert graphed(step, state, []) is step  # on the CPU there is nothing to capture
