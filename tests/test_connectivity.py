"""Linear mode connectivity (analysis/connectivity.py, catalog/lmc.py), the dense MLP's symmetries
(models/symmetry.py) and the minibatch order seed (order_seed)."""

import json

import pytest
import torch
from torch.func import functional_call

from phenolab.analysis.connectivity import alphas, barrier, interpolate, path, stable_step
from phenolab.catalog.lmc import paths_between
from phenolab.cli import main
from phenolab.config import RunConfig, check_ensemble
from phenolab.errors import ConfigError
from phenolab.models import ModelConfig, build_model
from phenolab.models.symmetry import (
    hidden_layers,
    permute_hidden,
    split_neuron,
    weight_matching,
    widths,
)
from phenolab.store import Store
from phenolab.train.losses import accuracy, cross_entropy
from tests.conftest import run_ensemble

D_IN, CLASSES = 6, 4


def dense(widths=(5, 7, 3), members=3, seed=0, dtype=torch.float64):
    """A DenseMLP template and random stacked weights with nonzero biases {name: [E, ...]}."""
    model = build_model(ModelConfig(model="dense", widths=widths), D_IN, CLASSES, D_IN, [0])
    gen = torch.Generator().manual_seed(seed)
    weights = {
        name: torch.randn(members, *p.shape[1:], generator=gen, dtype=dtype)
        for name, p in model.named_parameters()
    }
    return model.to(dtype), weights


def forward(model, weights, members=3, seed=1):
    x = torch.randn(members, 50, D_IN, generator=torch.Generator().manual_seed(seed))
    return functional_call(model, dict(weights), (x.to(weights["W_in"].dtype),))


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
@pytest.mark.parametrize("layer", [0, 1, 2])
def test_split_preserves_the_function_and_widens_the_layer(layer, dtype, tol):
    model, w = dense(dtype=dtype)
    split = split_neuron(w, layer, unit=2, fraction=0.3)
    expected = list(widths(w))
    expected[layer] += 1
    assert widths(split) == expected
    before, after = forward(model, w), forward(model, split)
    assert (after - before).abs().max() <= tol * before.abs().max()
    # splitting again (the copy itself) keeps going
    twice = split_neuron(split, layer, unit=expected[layer] - 1, fraction=0.5)
    assert torch.allclose(forward(model, twice), before, atol=tol * 10, rtol=tol * 10)


def test_split_rejects_bad_arguments():
    _, w = dense()
    with pytest.raises(ConfigError, match="layer: 3 is not a hidden layer"):
        split_neuron(w, 3, 0)
    with pytest.raises(ConfigError, match="unit: 5 is not a unit of layer 0"):
        split_neuron(w, 0, 5)
    with pytest.raises(ConfigError, match="fraction"):
        split_neuron(w, 0, 0, fraction=1.5)


def test_permutation_leaves_the_function_unchanged():
    model, w = dense()
    gen = torch.Generator().manual_seed(3)
    permuted = w
    for layer, width in enumerate(widths(w)):
        perms = torch.stack([torch.randperm(width, generator=gen) for _ in range(3)])  # per member
        permuted = permute_hidden(permuted, layer, perms)
    assert not torch.equal(permuted["W_in"], w["W_in"])
    assert torch.allclose(forward(model, permuted), forward(model, w), atol=1e-12)
    # one permutation for every member: new unit j is old unit perm[j]
    shared = permute_hidden(w, 0, torch.tensor([4, 3, 2, 1, 0]))
    assert torch.equal(shared["b_in"], w["b_in"].flip(1))
    with pytest.raises(ConfigError, match="perm: expected a permutation of 0 … 4"):
        permute_hidden(w, 0, torch.tensor([0, 0, 1, 2, 3]))


def test_weight_matching_recovers_a_known_permutation():
    model, a = dense(widths=(16, 12, 8), members=2)
    gen = torch.Generator().manual_seed(5)
    b = a
    for layer, width in enumerate(widths(a)):
        b = permute_hidden(b, layer, torch.randperm(width, generator=gen))
    aligned, perms = weight_matching(a, b)
    for name in a:
        assert torch.allclose(aligned[name], a[name]), name
    assert [tuple(p.shape) for p in perms] == [(2, 16), (2, 12), (2, 8)]
    # the barrier between A and the aligned B is 0; with B as trained it is not
    x = torch.randn(2, 200, D_IN, generator=gen, dtype=torch.float64)
    y = functional_call(model, a, (x,)).argmax(-1)  # labels A gets right
    matched = path(model, a, aligned, x, y)
    naive = path(model, a, b, x, y)
    assert matched.barrier("loss", "linear").abs().max() < 1e-9
    assert naive.barrier("loss", "linear").max() > 0.1


def test_weight_matching_aligns_independent_networks_better_than_none():
    _, a = dense(widths=(32, 32), members=2, seed=0)
    _, b = dense(widths=(32, 32), members=2, seed=1)
    aligned, _ = weight_matching(a, b)

    def distance(u, v):
        return sum((u[n] - v[n]).pow(2).sum() for n in u)

    assert distance(a, aligned) < distance(a, b)


def test_hidden_layer_names():
    _, w = dense(widths=(5, 7, 3))
    assert hidden_layers(w) == [
        ("W_in", "b_in", "W_hidden.0"),
        ("W_hidden.0", "b_hidden.0", "W_hidden.1"),
        ("W_hidden.1", "b_hidden.1", "W_out"),
    ]
    with pytest.raises(ConfigError, match="not a dense MLP"):
        hidden_layers({"W_E": w["W_in"]})


def test_interpolation_endpoints_are_the_networks_themselves():
    model, a = dense(members=2, seed=0, dtype=torch.float32)
    _, b = dense(members=2, seed=1, dtype=torch.float32)
    alpha = alphas(7)
    points = interpolate(a, b, alpha)
    assert points["W_in"].shape == (14, D_IN, 5)
    assert torch.equal(points["W_in"][7], a["W_in"][1])  # pair 1, α = 0
    assert torch.equal(points["W_in"][13], b["W_in"][1])  # pair 1, α = 1
    assert torch.allclose(points["W_in"][3], (a["W_in"][0] + b["W_in"][0]) / 2)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 64, D_IN, generator=gen)
    y = torch.randint(0, CLASSES, (2, 64), generator=gen)
    result = path(model, a, b, x, y, alpha=alpha, chunk=7)  # one pair per forward pass
    for weights, k in ((a, 0), (b, -1)):
        logits = functional_call(model, weights, (x,))
        assert torch.allclose(result.error[:, k], 1 - accuracy(logits, y))
        assert torch.allclose(result.loss[:, k], cross_entropy(logits, y))


def test_barrier_of_a_network_with_itself_is_zero():
    model, a = dense(members=2)
    x = torch.randn(2, 30, D_IN, dtype=torch.float64)
    y = torch.randint(0, CLASSES, (2, 30))
    same = path(model, a, a, x, y)
    for metric in ("error", "loss"):
        for baseline in ("mean", "linear"):
            assert torch.equal(
                same.barrier(metric, baseline), torch.zeros(2, dtype=same.loss.dtype)
            )


def test_barrier_on_constructed_curves():
    alpha = alphas(5)  # 0, .25, .5, .75, 1
    bump = torch.tensor([[0.1, 0.3, 0.5, 0.3, 0.1]])
    assert barrier(bump, alpha).item() == pytest.approx(0.4)
    slope = torch.tensor([[0.0, 0.1, 0.2, 0.3, 0.4]])  # a straight line between unequal ends
    assert barrier(slope, alpha, "linear").item() == pytest.approx(0.0, abs=1e-12)
    assert barrier(slope, alpha, "mean").item() == pytest.approx(0.2)  # the higher end
    with pytest.raises(ValueError, match="baseline"):
        barrier(bump, alpha, "max")


def test_stable_step_needs_the_barrier_to_stay_small():
    assert stable_step([0, 10, 100, 1000], [0.3, 0.1, 0.01, 0.0]) == 100
    assert stable_step([0, 10, 100], [0.0, 0.0, 0.0]) == 0
    assert stable_step([0, 10, 100], [0.0, 0.5, 0.0]) == 100  # a dip at 0 is not stability
    assert stable_step([0, 10, 100], [0.0, 0.0, 0.5]) is None


# -- order_seed, and barriers between stored runs -----------------------------------------------
PARITY = dict(
    op="parity", n_bits=12, k_bits=2, n_train=200, n_test=200, model="dense", width=32,
    batch_size=20, lr=0.05, wd=0.0, warmup=0, optimizer="sgd", steps=60, eval_every=30,
)  # fmt: skip


def test_order_seed_changes_only_the_data_order(tmp_path):
    base = RunConfig().replace(**PARITY)
    configs = [base, base.replace(order_seed=0), base.replace(order_seed=7)]
    check_ensemble(configs)  # a member field
    assert base.run_id() != configs[1].run_id()  # explicit, though the same order
    with Store(tmp_path / "s.db") as store:
        runs = run_ensemble(configs, store, "cpu")
        finals = [store.load_checkpoint(r.record.id)[2]["model"]["W_in"] for r in runs]
    assert torch.equal(finals[0], finals[1])  # order_seed = seed is the default order
    assert not torch.equal(finals[0], finals[2])
    with pytest.raises(ConfigError, match="order_seed: full-batch"):
        RunConfig().replace(order_seed=3)


def test_online_training_refuses_an_order_seed(tmp_path):
    cfg = RunConfig().replace(**{**PARITY, "n_train": 0, "order_seed": 3})
    with Store(tmp_path / "s.db") as store, pytest.raises(ConfigError, match="order_seed"):
        run_ensemble([cfg], store, "cpu")


def test_paths_between_stored_runs(tmp_path, capsys):
    base = RunConfig().replace(**PARITY)
    a, b, other = base, base.replace(order_seed=5), base.replace(seed=1)
    with Store(tmp_path / "s.db") as store:
        ra, rb, ro = run_ensemble([a, b, other], store, "cpu")
        ids = ra.record.id, rb.record.id
        result = paths_between(store, [ids, (ra.record.id, ra.record.id)], "test", alphas(5))
        metrics = store.metrics(ra.record.id)
        assert result.error[0, 0].item() == pytest.approx(1 - metrics["test/acc"][1][-1], abs=1e-6)
        assert result.barrier()[1].item() == 0  # a run with itself
        assert result.error.shape == (2, 5)
        aligned = paths_between(store, [ids], "train", alphas(5), align=True)
        assert aligned.loss.shape == (1, 5)
        with pytest.raises(ConfigError, match="differ in their train data"):
            paths_between(store, [(ra.record.id, ro.record.id)], "train")
        with pytest.raises(ConfigError, match="split: unknown"):
            paths_between(store, [ids], "val")
    # the same from the command line, by id prefixes
    argv = ["interpolate", ids[0][:6], ids[1][:6], "--store", str(tmp_path / "s.db"), "--json"]
    assert main([*argv, "--points", "5"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["error_barrier"] == pytest.approx(result.barrier()[0].item())
    assert main([*argv, "--points", "1"]) == 2
    assert "points: need at least 2" in capsys.readouterr().err
