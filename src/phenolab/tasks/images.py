"""Image classification data that ships offline: nothing is downloaded at run time.

- `digits`: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes; UCI
  "Optical Recognition of Handwritten Digits"), pixels scaled to [0, 1]. There is no official
  split: a fixed shuffle (seed 0) keeps the last TEST_DIGITS images as the test set, the rest is
  the training pool.
- `mnist1d`: MNIST-1D (Greydanus & Kobak 2024, "Scaling down deep learning with MNIST-1D",
  ICML 2024), generated procedurally by the `mnist1d` package with its default arguments
  (5,000 sequences of length 40, seed 42): the paper's 4,000 / 1,000 train / test split.
- `idx`: MNIST-format IDX files the user already has on disk (`data_dir` holding
  train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
  t10k-labels-idx1-ubyte, each optionally gzipped), pixels scaled to [0, 1].

Inputs are float feature vectors [N, d] (the image flattened; `shape` gives the image shape for a
CNN); targets are class ids. A member trains on `n_train` images of the training pool drawn by
its data seed (0: the whole pool, in the pool's order) and is tested on the whole test set.
`label_noise` (tasks.noise) corrupts a member's training labels only.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from phenolab.errors import ConfigError
from phenolab.tasks.base import FEATURES, IMAGES, TASKS, Dims, Task
from phenolab.tasks.data import TaskData, data_seed, pad_members

IMAGE_OPS = ("digits", "mnist1d", "idx")
N_CLASSES = 10
TEST_DIGITS = 297  # digits: 1,500 training pool, 297 test
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Pool:
    """A dataset's training pool and test set: float inputs [N, d], int64 class ids [N]."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    shape: tuple[int, ...]  # one image's shape: (40,) for MNIST-1D, (8, 8), (28, 28)

    @property
    def features(self) -> int:
        return int(np.prod(self.shape))


def load(op: str, data_dir: str | None = None) -> Pool:
    """The named dataset's pool (cached in memory; MNIST-1D also on disk, see `mnist1d`)."""
    if op == "digits":
        return digits()
    if op == "mnist1d":
        return mnist1d()
    if op == "idx":
        if data_dir is None:
            raise ConfigError("data_dir: op=idx needs the folder holding the MNIST IDX files")
        return idx(str(Path(data_dir).expanduser().resolve()))
    raise ConfigError(f"op: unknown image dataset {op!r} (valid: {', '.join(IMAGE_OPS)})")


@lru_cache(maxsize=1)
def digits() -> Pool:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # a dependency of phenolab; a broken install says so
        raise ConfigError("op=digits needs scikit-learn (pip install scikit-learn)") from e
    bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32) / 16.0  # pixels 0 … 16
    y = torch.tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    train, test = order[:-TEST_DIGITS], order[-TEST_DIGITS:]
    return Pool(x[train], y[train], x[test], y[test], (8, 8))


def cache_dir() -> Path:
    """Where generated datasets are kept: $PHENOLAB_CACHE, else ~/.cache/phenolab."""
    return Path(os.environ.get("PHENOLAB_CACHE", Path.home() / ".cache" / "phenolab"))


@lru_cache(maxsize=1)
def mnist1d() -> Pool:
    """MNIST-1D with the package's default arguments, generated once (≈ 2 s) and cached under a
    key of the arguments and the package version. `make_dataset` reseeds NumPy's global
    generator; the caller's state is restored afterwards."""
    try:
        import mnist1d as package
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:
        raise ConfigError("op=mnist1d needs the mnist1d package (pip install mnist1d)") from e
    args = get_dataset_args()  # an attribute object (make_dataset does not accept a dict)
    version = getattr(package, "__version__", "0.0.2")
    key = hashlib.sha256(repr((sorted(vars(args).items()), version)).encode()).hexdigest()[:12]
    path = cache_dir() / f"mnist1d-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            arrays = {k: z[k] for k in ("x", "y", "x_test", "y_test")}
    else:
        state = np.random.get_state()
        try:
            made = make_dataset(args)
        finally:
            np.random.set_state(state)
        arrays = {k: np.asarray(made[k]) for k in ("x", "y", "x_test", "y_test")}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # atomic: concurrent workers never read half a file
    return Pool(
        torch.tensor(arrays["x"], dtype=torch.float32),
        torch.tensor(arrays["y"], dtype=torch.int64),
        torch.tensor(arrays["x_test"], dtype=torch.float32),
        torch.tensor(arrays["y_test"], dtype=torch.int64),
        (arrays["x"].shape[1],),
    )


@lru_cache(maxsize=4)
def idx(data_dir: str) -> Pool:
    folder = Path(data_dir)
    if not folder.is_dir():
        raise ConfigError(f"data_dir: {data_dir} is not a folder")
    arrays = {key: read_idx(_find(folder, name)) for key, name in IDX_FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
            raise ConfigError(
                f"data_dir: {split} images {x.shape} and labels {y.shape} do not match "
                "(expected images [N, rows, cols] and labels [N])"
            )
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise ConfigError("data_dir: train and test images differ in shape")
    shape = tuple(int(s) for s in arrays["x_train"].shape[1:])
    labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    if labels.min() < 0 or labels.max() >= N_CLASSES:
        raise ConfigError(f"data_dir: labels must be digits 0 … {N_CLASSES - 1}")

    def images(a: np.ndarray) -> torch.Tensor:
        scale = 255.0 if a.dtype == np.uint8 else 1.0
        return torch.tensor(a.reshape(len(a), -1), dtype=torch.float32) / scale

    def classes(a: np.ndarray) -> torch.Tensor:
        return torch.tensor(a, dtype=torch.int64)

    return Pool(
        images(arrays["x_train"]),
        classes(arrays["y_train"]),
        images(arrays["x_test"]),
        classes(arrays["y_test"]),
        shape,
    )


def _find(folder: Path, name: str) -> Path:
    """`name`, `name.gz`, or the torchvision spelling with a dot (`train-images.idx3-ubyte`)."""
    for candidate in (
        name,
        name + ".gz",
        name.replace("-idx", ".idx"),
        name.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / candidate).exists():
            return folder / candidate
    raise ConfigError(f"data_dir: {folder} has no {name} (nor {name}.gz)")


# IDX type codes (LeCun's format): 0x08 unsigned byte … 0x0E double
_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as an array: magic 0x0000 TT DD (type, dimensions), then
    DD big-endian uint32 sizes, then the data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ConfigError(f"data_dir: {path.name} is not an IDX file (bad magic number)")
    dims = raw[3]
    header = 4 + 4 * dims
    if len(raw) < header:
        raise ConfigError(f"data_dir: {path.name} is truncated (header)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = int(np.prod(shape)) if shape else 0
    if len(raw) - header != count * dtype.itemsize:
        raise ConfigError(
            f"data_dir: {path.name} holds {len(raw) - header} data bytes, its header says "
            f"{count * dtype.itemsize} (shape {shape})"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write `array` (uint8 or int32/float32/float64) as an IDX file (gzipped for a .gz path):
    the inverse of read_idx, for tests and for users exporting their own data."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    dtype = array.dtype.newbyteorder("=")
    if dtype not in codes:
        raise ValueError(f"write_idx: unsupported dtype {array.dtype}")
    big = array.astype(np.dtype(_IDX_DTYPES[codes[dtype]]).newbyteorder(">"))
    header = bytes([0, 0, codes[dtype], array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + big.tobytes())


def build(cfgs: list, seeds: list[int]) -> TaskData:
    """E members' sets along a leading member dimension: member e's `n_train` training images
    drawn without replacement from the pool by its data seed (split_seed, default its run seed),
    the whole test set for every member. Members may differ in n_train (padded and masked)."""
    pool = load(cfgs[0].op, cfgs[0].data_dir)
    available = len(pool.y_train)
    xs, ys = [], []
    for cfg, seed in zip(cfgs, seeds, strict=True):
        if cfg.n_train > available:
            raise ConfigError(
                f"n_train: {cfg.op} has {available} training images, asked for {cfg.n_train}"
            )
        if cfg.n_train == 0:
            chosen = torch.arange(available)
        else:
            gen = torch.Generator().manual_seed(data_seed(cfg, seed))
            chosen = torch.randperm(available, generator=gen)
            chosen = chosen[: cfg.n_train]
        xs.append(pool.x_train[chosen])
        ys.append(pool.y_train[chosen])
    x_train, y_train, train_mask = pad_members(xs, ys)
    e = len(cfgs)
    return TaskData(
        x_train=x_train,
        y_train=y_train,
        x_test=pool.x_test.expand(e, *pool.x_test.shape),
        y_test=pool.y_test.expand(e, *pool.y_test.shape),
        n_classes=N_CLASSES,
        vocab=pool.features,
        train_mask=train_mask,
        shape=pool.shape,
    )


class ImageTask(Task):
    """Classification of one of the offline image datasets."""

    inputs = (FEATURES, IMAGES)

    def __init__(self, name: str, summary: str, title: str) -> None:
        super().__init__(name)
        self.summary, self._title = summary, title
        self.fields = ("n_train", "label_noise") + (("data_dir",) if name == "idx" else ())

    def check(self, cfg) -> None:
        if cfg.n_train < 0:
            raise ConfigError(f"n_train: must be ≥ 0, got {cfg.n_train}")
        if self.name == "idx" and cfg.data_dir is None:
            raise ConfigError("data_dir: op=idx needs the folder holding the MNIST IDX files")

    def n_classes(self, op: str, p: int) -> int:
        return N_CLASSES

    def title(self, op: str, p: int) -> str:
        return self._title

    def dims(self, cfg, reads: str) -> Dims:
        pool = load(cfg.op, cfg.data_dir)
        return Dims(pool.features, N_CLASSES, pool.features, pool.shape)

    def rows(self, cfg, batch_size: int) -> int:
        return max(batch_size or cfg.n_train, cfg.n_test)

    def build(self, cfgs: list, reads: str, seeds: list[int]) -> TaskData:
        if len({c.data_dir for c in cfgs}) != 1:
            raise ConfigError("data_dir: members of one ensemble must share the dataset")
        return build(cfgs, seeds)


TASKS.register(
    "digits", ImageTask("digits", "scikit-learn's 8×8 handwritten digits", "digits (8×8)")
)
TASKS.register(
    "mnist1d", ImageTask("mnist1d", "MNIST-1D (Greydanus & Kobak 2024), generated", "MNIST-1D")
)
TASKS.register("idx", ImageTask("idx", "MNIST-format IDX files in data_dir", "MNIST (IDX files)"))
