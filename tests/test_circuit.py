"""Restricted / excluded loss (measures/circuit.py) on logits with known Fourier content."""

import math

import pytest
import torch

from phenolab import tasks
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.measures import Context, compute
from phenolab.measures.circuit import full_table, key_components, operands
from phenolab.models import MODELS
from phenolab.tasks.pairs import encode
from phenolab.train.losses import cross_entropy

P = 23


class TableModel(torch.nn.Module):
    """A stand-in model: logits of pair (a, b) are row a·p + b of a given table [E, p², C]."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = table
        self.W_E = torch.nn.Parameter(torch.zeros(table.shape[0], P, 4))

    def embedding(self) -> torch.Tensor:
        return self.W_E

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = operands(x)
        rows = (a * P + b)[..., None].expand(-1, -1, self.table.shape[-1])
        return self.table.gather(1, rows)


def build(kind="mlp", sequence="x y =", op="x+y", seeds=(0,), frac=0.3):
    cfg = tasks.TaskConfig(op=op, p=P, frac=frac, sequence=sequence)
    return tasks.build([cfg] * len(seeds), MODELS[kind].reads, list(seeds))


def circuit_logits(freqs: dict[int, float]) -> torch.Tensor:
    """[1, p², p]: Σ_k α_k cos(w_k (a + b − c)), a-major."""
    a = torch.arange(P).repeat_interleave(P)[:, None].double()
    b = torch.arange(P).repeat(P)[:, None].double()
    c = torch.arange(P)[None].double()
    out = sum(alpha * torch.cos(2 * math.pi * k * (a + b - c) / P) for k, alpha in freqs.items())
    return out[None]


def measure(table, data):
    return compute(["circuit"], Context(TableModel(table), data, cross_entropy))


def test_pure_circuit_restricted_equals_full_loss_and_excluded_is_uniform():
    data = build()
    table = circuit_logits({3: 6.0, 7: 5.0, 10: 4.0})
    out = measure(table, data)
    labels = ((torch.arange(P).repeat_interleave(P) + torch.arange(P).repeat(P)) % P)[None]
    full = cross_entropy(table, labels).item()
    assert out["circuit/restricted_loss"].item() == pytest.approx(full, rel=1e-5)
    assert out["circuit/excluded_loss"].item() == pytest.approx(math.log(P), rel=1e-5)
    assert out["circuit/key_share"].item() == pytest.approx(1.0, abs=1e-6)


def test_memorizing_logits_have_no_circuit():
    data = build()
    table = torch.randn(
        1, P * P, P, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    a, b = operands(data.x_train)
    table[0, a[0] * P + b[0], data.y_train[0]] += 8.0  # the training set memorized
    out = measure(table, data)
    train_loss = cross_entropy(TableModel(table)(data.x_train), data.y_train).item()
    # memorization has an (a + b)-part too (≈ frac · 8 at c = s), but spread evenly over all
    # 11 frequencies, of which the 5 strongest are kept: a small share, nothing like 1
    assert out["circuit/key_share"].item() < 0.15
    # the restricted logits cannot memorize: their loss stays near uniform (the key part of the
    # bump lifts the right class a little), far above the train loss
    assert out["circuit/restricted_loss"].item() > 0.5 * math.log(P) > 10 * train_loss
    # and removing 5 frequencies leaves the memorized training set nearly intact
    assert out["circuit/excluded_loss"].item() < 0.05 * math.log(P)


def test_fft_projection_equals_naive_projection_on_cos_sin_directions():
    table = torch.randn(
        2, P * P, P, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    mean, key, keys, power = key_components(table)
    assert keys.shape == (2, 5) and power.shape == (2, P // 2)
    s = ((torch.arange(P).repeat_interleave(P) + torch.arange(P).repeat(P)) % P).double()
    for e in range(2):
        naive = torch.zeros(P * P, P, dtype=torch.float64)
        for k in keys[e].tolist():
            for wave in (torch.cos(2 * math.pi * k * s / P), torch.sin(2 * math.pi * k * s / P)):
                u = wave / wave.norm()  # [p²]
                naive += u[:, None] * (u @ table[e])[None]  # projection of every class column
        torch.testing.assert_close(key[e], naive)
        torch.testing.assert_close(mean[e, 0], table[e].mean(0))
    # the key frequencies are the strongest ones
    chosen = torch.zeros_like(power, dtype=torch.bool).scatter_(1, keys - 1, True)
    for e in range(2):
        assert power[e][chosen[e]].min() >= power[e][~chosen[e]].max()


def test_members_are_measured_independently():
    data = build(seeds=(0, 1))
    circuit = circuit_logits({5: 6.0})
    noise = torch.randn(
        1, P * P, P, generator=torch.Generator().manual_seed(2), dtype=torch.float64
    )
    both = measure(torch.cat([circuit, noise]), data)
    for e, table in enumerate((circuit, noise)):
        alone = build(seeds=(e,))
        single = measure(table, alone)
        for name, value in single.items():
            assert both[name][e].item() == pytest.approx(value.item(), rel=1e-6)


@pytest.mark.parametrize(
    "kind,sequence", [("mlp", "x y ="), ("transformer", "x y ="), ("transformer", "x op y =")]
)
def test_full_table_rebuilds_every_pair_in_the_model_format(kind, sequence):
    data = build(kind=kind, sequence=sequence, seeds=(3, 4))
    cfg = tasks.TaskConfig(p=P, sequence=sequence)
    pairs, _ = tasks.task_of(cfg.op).table(cfg)
    expected = encode(pairs, P, MODELS[kind].reads, sequence)
    x = full_table(data)
    assert x.shape == (2, P * P, expected.shape[1])
    assert torch.equal(x[0], expected) and torch.equal(x[1], expected)


def test_undefined_for_other_operations():
    with pytest.raises(ConfigError, match="x\\+y only"):
        RunConfig().replace(op="x*y", measures=("circuit",))
    RunConfig().replace(measures=("circuit",))  # x+y: fine
    data = build(op="x-y")
    with pytest.raises(ConfigError, match="x\\+y"):
        measure(circuit_logits({3: 1.0}), data)
