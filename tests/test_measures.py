"""Every progress measure on a constructed case with a known answer."""

import math
from types import SimpleNamespace

import pytest
import torch

from phenolab.measures import MEASURES, Context, compute
from phenolab.measures.fourier import frequency_power, gini
from phenolab.measures.weights import effective_rank, is_prime_tensor
from phenolab.tasks.data import TaskData
from phenolab.train.losses import cross_entropy

P = 31


class FixedLogits(torch.nn.Module):
    """A stand-in model: returns given logits [E, N, C] whatever the input, and has a W_E."""

    def __init__(self, logits_train, logits_test, embedding=None):
        super().__init__()
        self.logits = {logits_train.shape[1]: logits_train, logits_test.shape[1]: logits_test}
        self.W_E = torch.nn.Parameter(embedding if embedding is not None else torch.zeros(1, P, 4))

    def forward(self, x):
        return self.logits[x.shape[1]]

    def embedding(self):
        return self.W_E


def data(n_train=10, n_test=12, classes=P):
    g = torch.Generator().manual_seed(0)
    return TaskData(
        x_train=torch.zeros(1, n_train, 2, dtype=torch.long),
        y_train=torch.randint(0, classes, (1, n_train), generator=g),
        x_test=torch.zeros(1, n_test, 2, dtype=torch.long),
        y_test=torch.randint(0, classes, (1, n_test), generator=g),
        n_classes=classes,
        vocab=classes,
    )


def fourier_embedding(k: int, p: int = P, d: int = 8) -> torch.Tensor:
    """Numbers embedded at one frequency k: columns cos(2πka/p) and sin(2πka/p), mixed."""
    a = torch.arange(p, dtype=torch.float64)
    basis = torch.stack([torch.cos(2 * math.pi * k * a / p), torch.sin(2 * math.pi * k * a / p)], 1)
    mix = torch.randn(2, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return (basis @ mix)[None].float()  # [1, p, d]


def test_one_frequency_embedding_is_maximally_sparse_and_found():
    emb = fourier_embedding(k=5)
    d = data()
    ctx = Context(FixedLogits(torch.zeros(1, 10, P), torch.zeros(1, 12, P), emb), d, cross_entropy)
    out = compute(["fourier"], ctx)
    assert out["fourier/top"].item() == 5
    assert out["fourier/key"].item() == 1
    assert out["fourier/ipr"].item() == pytest.approx(1.0, abs=1e-6)
    k = P // 2  # 15 frequencies: the largest possible Gini is (K − 1) / K
    assert out["fourier/gini"].item() == pytest.approx((k - 1) / k, abs=1e-6)


def test_random_embedding_is_not_sparse():
    emb = torch.randn(1, P, 64, generator=torch.Generator().manual_seed(0))
    power = frequency_power(emb)
    assert power.shape == (1, P // 2)
    assert gini(power).item() < 0.4
    q = power / power.sum()
    assert q.pow(2).sum().item() < 0.2  # IPR far from 1


def test_gini_extremes():
    assert gini(torch.tensor([[1.0, 1.0, 1.0, 1.0]])).item() == pytest.approx(0.0)
    assert gini(torch.tensor([[0.0, 0.0, 0.0, 4.0]])).item() == pytest.approx(0.75)  # (K-1)/K


def test_continuous_metrics_on_perfect_and_uniform_predictions():
    d = data()
    perfect_train = torch.nn.functional.one_hot(d.y_train, P).float() * 50
    uniform_test = torch.zeros(1, 12, P)
    ctx = Context(FixedLogits(perfect_train, uniform_test), d, cross_entropy)
    out = compute(["continuous"], ctx)
    assert out["train/logprob"].item() == pytest.approx(0.0, abs=1e-12)
    assert out["train/brier"].item() == pytest.approx(0.0, abs=1e-12)
    assert out["test/logprob"].item() == pytest.approx(-math.log(P))
    assert out["test/brier"].item() == pytest.approx(1 - 1 / P)


def test_softmax_collapse_counts_exact_zero_losses():
    d = data()
    logits = torch.zeros(1, 10, P)
    logits[0, :4] = torch.nn.functional.one_hot(d.y_train[0, :4], P).float() * 200  # loss == 0
    ctx = Context(FixedLogits(logits, torch.zeros(1, 12, P)), d, cross_entropy)
    assert compute(["collapse"], ctx)["train/collapse"].item() == pytest.approx(0.4)


def test_layer_norms_and_movement_from_init():
    model = torch.nn.Module()
    model.W = torch.nn.Parameter(torch.tensor([[3.0, 4.0]]))  # [E=1, 2]
    init = {"W": torch.tensor([[3.0, 0.0]])}
    out = MEASURES["layers"](Context(model, data(), cross_entropy, init))
    assert out["norm/W"].item() == 5.0
    assert out["move/W"].item() == pytest.approx(4.0 / 3.0)
    assert out["move/total"].item() == pytest.approx(4.0)


def test_effective_rank():
    assert effective_rank(torch.eye(6)[None]).item() == pytest.approx(6.0)
    rank_one = torch.outer(torch.arange(1.0, 7.0), torch.ones(4))[None]
    assert effective_rank(rank_one).item() == pytest.approx(1.0, abs=1e-6)


def test_prime_count_control_uses_stated_rounding():
    assert is_prime_tensor(torch.arange(20)).nonzero().flatten().tolist() == [
        2,
        3,
        5,
        7,
        11,
        13,
        17,
        19,
    ]
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.tensor([[0.02, -0.03, 0.04, 0.05, 0.0701, 1.0]]))
    # round(100·|w|) = 2, 3, 4, 5, 7, 100 → primes 2, 3, 5, 7
    assert MEASURES["primes"](SimpleNamespace(model=model))["control/primes"].item() == 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (none on this machine)")
@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_every_measure_gives_the_cpu_values_on_cuda(tmp_path, model):
    """Every measure the model supports runs on CUDA and, on the same initial weights (step 0),
    gives the CPU's values up to float rounding."""
    from phenolab.config import RunConfig
    from phenolab.measures import REQUIREMENTS
    from phenolab.store import Store
    from tests.conftest import TINY, run

    base = RunConfig().replace(**TINY).replace(model=model, steps=10, eval_every=10)
    names = [n for n in MEASURES if n not in REQUIREMENTS or REQUIREMENTS[n](base) is None]
    cfg = base.replace(measures=",".join(names))
    curves = {}
    for device in ("cpu", "cuda"):
        store = Store(tmp_path / f"{device}.db")
        run(cfg, store, device)
        curves[device] = store.metrics(cfg.run_id())
    assert set(curves["cpu"]) == set(curves["cuda"])
    for name, (steps, values) in curves["cpu"].items():
        if name.startswith("time/"):  # wall-clock, not a measure
            continue
        assert steps[0] == 0
        torch.testing.assert_close(
            torch.tensor(curves["cuda"][name][1][0]),
            torch.tensor(values[0]),
            rtol=1e-3,
            atol=1e-3,
            msg=name,
        )


def test_prime_counts_under_three_roundings():
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.tensor([[0.02, -0.03, 0.04, 0.05, 0.0701, 1.0]]))
    out = MEASURES["primes-rounding"](SimpleNamespace(model=model))
    # ×10: 0, 0, 0, 0 or 1, 1, 10 → none prime
    assert out["control/primes_x10"].item() == 0
    # ×100: 2, 3, 4, 5, 7, 100 → 4 primes, as control/primes
    assert out["control/primes_x100"].item() == 4
    # ×1000: 20, 30, 40, 50, 70, 1000 → none prime
    assert out["control/primes_x1000"].item() == 0
