"""The representation quality index on constructed embeddings and on a grokking run."""

import math

import pytest
import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.measures.rqi import DELTA, circle_angles, realised_share
from phenolab.store import Store
from tests.conftest import TINY, run

P = 31


def all_pairs(p: int):
    a = torch.arange(p).repeat_interleave(p)
    return a, torch.arange(p).repeat(p)


def circle_embedding(p: int, k: int, d: int = 16, noise: float = 0.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    u, v = torch.randn(2, d, generator=g)
    a = torch.arange(p, dtype=torch.float64)[:, None]
    e = torch.cos(2 * math.pi * k * a / p) * u + torch.sin(2 * math.pi * k * a / p) * v
    return (e + noise * torch.randn(p, d, generator=g, dtype=torch.float64))[None]  # [1, p, d]


def test_a_circle_realises_every_parallelogram():
    angles = circle_angles(circle_embedding(P, k=5, noise=0.01))[0]
    a, b = all_pairs(P)
    assert realised_share(angles, a, b, P) == pytest.approx(1.0)


def test_an_unstructured_embedding_realises_about_delta():
    g = torch.Generator().manual_seed(1)
    angles = circle_angles(torch.randn(1, P, 16, generator=g, dtype=torch.float64))[0]
    a, b = all_pairs(P)
    assert realised_share(angles, a, b, P) < 3 * DELTA


def test_rqi_is_defined_for_addition_with_an_embedding_only():
    with pytest.raises(ConfigError, match="rqi is defined for op x\\+y"):
        RunConfig().replace(op="x-y", measures=("rqi",))
    with pytest.raises(ConfigError, match="W_E"):
        RunConfig().replace(model="twolayer", measures=("rqi",))


def test_rqi_rises_when_a_run_groks(tmp_path):
    cfg = RunConfig().replace(**TINY).replace(measures=("rqi",))
    result = run(cfg, Store(tmp_path / "runs.db"), "cpu")
    steps, share = Store(tmp_path / "runs.db").metrics(result.record.id)["rqi/share"]
    assert result.events.t_gen is not None
    assert share[0] < 3 * DELTA  # random init
    assert share[-1] > 0.5  # the grokked embedding lies on circles
