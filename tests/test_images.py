"""Image tasks shipped offline (digits, MNIST-1D, IDX files), label noise, the dense widths and
the CNN with a member dimension."""

import gzip

import numpy as np
import pytest
import torch

from phenolab import tasks
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models.cnn import ConvNet
from phenolab.models.dense import DenseMLP
from phenolab.store import Store
from phenolab.tasks import FEATURES, PAIRS, images
from phenolab.tasks.noise import corrupt
from tests.conftest import run, run_ensemble
from tests.test_ensemble import assert_same_curves

DIGITS = RunConfig().replace(
    op="digits", model="dense", width=32, lr=1e-2, wd=0.0, steps=60, eval_every=20, n_train=300
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # member equivalence at the CPU tolerance (see test_ensemble.py)


def test_corrupt_changes_exactly_the_requested_share_to_wrong_labels():
    labels = torch.arange(1000) % 10
    noisy, changed = corrupt(labels, 0.15, 10, torch.Generator().manual_seed(0))
    assert len(changed) == 150 and (noisy != labels).sum() == 150
    assert (noisy[changed] != labels[changed]).all()
    assert noisy.min() >= 0 and noisy.max() <= 9
    again, _ = corrupt(labels, 0.15, 10, torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)


def test_label_noise_touches_training_labels_only_per_member():
    clean = tasks.build([DIGITS.task, DIGITS.task], FEATURES, [0, 1])
    noisy_cfg = DIGITS.replace(label_noise=0.2).task
    noisy = tasks.build([noisy_cfg, DIGITS.task], FEATURES, [0, 1])
    assert (noisy.y_train[0] != clean.y_train[0]).sum() == 60  # 20 % of 300
    assert torch.equal(noisy.y_train[1], clean.y_train[1])  # the member without noise
    assert torch.equal(noisy.x_train, clean.x_train)
    assert torch.equal(noisy.y_test, clean.y_test)


def test_label_noise_on_a_modular_task_with_padded_members():
    a = RunConfig().replace(p=11, frac=0.5, label_noise=0.3).task
    b = RunConfig().replace(p=11, frac=0.3).task
    clean = tasks.build([RunConfig().replace(p=11, frac=0.5).task, b], PAIRS, [0, 1])
    noisy = tasks.build([a, b], PAIRS, [0, 1])
    n = clean.train_sizes()[0]
    assert (noisy.y_train[0] != clean.y_train[0]).sum() == round(0.3 * n)
    assert torch.equal(noisy.y_train[1], clean.y_train[1])  # padding and member 1 untouched


def test_digits_pool_and_member_subsets():
    pool = images.digits()
    assert pool.x_train.shape == (1500, 64) and pool.x_test.shape == (297, 64)
    assert 0 <= pool.x_train.min() and pool.x_train.max() <= 1
    cfgs = [DIGITS.task, DIGITS.replace(n_train=200).task, DIGITS.replace(n_train=0).task]
    data = tasks.build(cfgs, FEATURES, [0, 1, 2])
    assert data.train_sizes() == [300, 200, 1500] and data.shape == (8, 8)
    assert not torch.equal(data.x_train[0, :200], data.x_train[1, :200])  # seeded subsets


def test_mnist1d_is_generated_once_cached_and_leaves_numpys_generator_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("PHENOLAB_CACHE", str(tmp_path))
    images.mnist1d.cache_clear()
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    pool = images.mnist1d()
    assert np.array_equal(np.random.get_state()[1], state)
    assert pool.x_train.shape == (4000, 40) and pool.x_test.shape == (1000, 40)
    assert sorted(set(pool.y_train.tolist())) == list(range(10))
    (cached,) = tmp_path.glob("mnist1d-*.npz")
    images.mnist1d.cache_clear()
    again = images.mnist1d()  # read from the file this time
    assert torch.equal(again.x_train, pool.x_train) and cached.exists()
    images.mnist1d.cache_clear()


def _write_mnist_like(folder, rows=6, n_train=40, n_test=20, gz=False):
    gen = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        images.write_idx(
            folder / f"{split}-images-idx3-ubyte{suffix}",
            gen.integers(0, 256, (n, rows, rows), dtype=np.uint8),
        )
        labels = (np.arange(n) % 10).astype(np.uint8)
        images.write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_round_trip_and_train(tmp_path, gz):
    _write_mnist_like(tmp_path, gz=gz)
    array = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    images.write_idx(tmp_path / "a.idx", array)
    assert np.array_equal(images.read_idx(tmp_path / "a.idx"), array)
    cfg = RunConfig().replace(
        op="idx", data_dir=str(tmp_path), model="cnn", width=4, n_layers=2, steps=5, wd=0.0
    )
    store = Store(tmp_path / "runs.db")
    run(cfg, store)
    assert store.metrics(cfg.run_id())["test/acc"][0][-1] == 5
    pool = images.load("idx", str(tmp_path))
    assert pool.shape == (6, 6) and pool.x_train.max() <= 1.0


def test_bad_idx_input_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="data_dir: op=idx needs"):
        RunConfig().replace(op="idx", model="dense")
    with pytest.raises(ConfigError, match="has no train-images-idx3-ubyte"):
        images.load("idx", str(tmp_path))
    _write_mnist_like(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    images.idx.cache_clear()
    with pytest.raises(ConfigError, match="holds 2 data bytes, its header says 5"):
        images.load("idx", str(tmp_path))
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"PK\x03\x04 not an idx file")
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    images.idx.cache_clear()
    with pytest.raises(ConfigError, match="bad magic number|holds 2 data bytes"):
        images.load("idx", str(tmp_path))


def test_image_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="n_train: digits has 1500 training images"):
        run(DIGITS.replace(n_train=5000), Store(":memory:"))
    with pytest.raises(ConfigError, match="n_test: not used by op=digits"):
        DIGITS.replace(n_test=100)
    with pytest.raises(ConfigError, match="model: cnn reads images"):
        RunConfig().replace(op="parity", model="cnn", batch_size=8)
    with pytest.raises(ConfigError, match="label_noise: must be in"):
        DIGITS.replace(label_noise=1.0)
    with pytest.raises(ConfigError, match="widths: used by model=dense or cnn only"):
        RunConfig().replace(widths=(3, 4))


def test_dense_widths_give_the_lenet_shape():
    net = DenseMLP((300, 100), 784, 10, [0, 1], [1.0, 1.0])
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert (2, 784, 300) in shapes and (2, 300, 100) in shapes and (2, 100, 10) in shapes
    assert net(torch.randn(2, 5, 784)).shape == (2, 5, 10)


@pytest.mark.parametrize("shape", [(40,), (8, 8)])
def test_cnn_members_are_independent_networks(shape):
    d = int(np.prod(shape))
    ensemble = ConvNet((4, 6), shape, 10, [0, 1, 2], [1.0, 2.0, 1.0])
    x = torch.randn(3, 7, d)
    out = ensemble(x)
    for e, (seed, scale) in enumerate([(0, 1.0), (1, 2.0), (2, 1.0)]):
        alone = ConvNet((4, 6), shape, 10, [seed], [scale])
        torch.testing.assert_close(alone(x[e : e + 1])[0], out[e], rtol=1e-5, atol=1e-5)
    # a member's output does not depend on another member's input
    x2 = x.clone()
    x2[1] += 1.0
    torch.testing.assert_close(ensemble(x2)[0], out[0])


def test_cnn_ensemble_member_trains_like_a_solo_run(tmp_path):
    base = RunConfig().replace(
        op="mnist1d",
        model="cnn",
        width=8,
        n_layers=2,
        n_train=256,
        batch_size=64,
        lr=3e-3,
        wd=0.0,
        steps=40,
        eval_every=10,
    )
    members = [base, base.replace(seed=1, label_noise=0.1, n_train=128)]
    together, alone = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    run_ensemble(members, together)
    for cfg in members:
        run(cfg, alone)
        assert_same_curves(together.metrics(cfg.run_id()), alone.metrics(cfg.run_id()))
