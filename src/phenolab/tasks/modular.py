"""Modular arithmetic tasks of Power et al. (2022), "Grokking: generalization beyond overfitting
on small algorithmic datasets" (arXiv:2201.02177): every pair (x, y) in Z_p × Z_p labelled by
x ∘ y mod p, split at random into train and test.

Encodings: an MLP reads the operand pair [x, y]; a transformer reads the token sequence
`x op y =` (vocabulary: p numbers, then the op token, then `=`), or `x y =` as in Nanda et al.
(2023), and predicts at the last position.

Finite groups (`tasks.groups`: S<n>, D<n>) are operations too: `op="S5"` is composition in S5 on
its 120 elements, with the same encodings, splits and ensembles; `p` is not used by them.

Feature tasks read real vectors instead of operand pairs and have their own fields: sparse
parity (`tasks.parity`: op="parity"; n_bits, k_bits, n_train, n_test), images shipped offline
(`tasks.images`: op="digits", "mnist1d" or "idx" with data_dir; n_train) and regression
(`tasks.regression`: op="linear", "nonlinear", "diabetes"; n_train, n_test, n_features, n_val,
noise_std). They are built by `build` too. `label_noise` (`tasks.noise`) corrupts the training
labels of any classification task with a fixed training set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from phenolab import param
from phenolab.errors import ConfigError
from phenolab.tasks import groups, images, noise, parity, regression
from phenolab.tasks.data import TaskData, data_seed, pad_members

Op = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def _div(x: torch.Tensor, y: torch.Tensor, p: int) -> torch.Tensor:
    # y^(p-2) is y's inverse mod a prime p (Fermat); int64 is exact for p < 2^31.
    inv = torch.ones_like(y)
    base, e = y.clone(), p - 2
    while e:
        if e & 1:
            inv = inv * base % p
        base = base * base % p
        e >>= 1
    return x * inv % p


# name → x ∘ y mod p. Power et al. (2022), Table/Fig. 4's operations (the permutation-group one
# lives with the finite-group tasks), and one more below.
OPERATIONS: dict[str, Op] = {
    "x+y": lambda x, y, p: (x + y) % p,
    "x-y": lambda x, y, p: (x - y) % p,
    "x*y": lambda x, y, p: x * y % p,
    "x/y": _div,
    "x^2+y^2": lambda x, y, p: (x * x + y * y) % p,
    "x^2+xy+y^2": lambda x, y, p: (x * x + x * y + y * y) % p,
    "x^2+xy+y^2+x": lambda x, y, p: (x * x + x * y + y * y + x) % p,
    "x^3+xy": lambda x, y, p: (x * x * x + x * y) % p,
    "x^3+xy^2+y": lambda x, y, p: (x * x * x + x * y * y + y) % p,
    # a linear expression of Furuta et al. (2024), the target of their embedding transfer
    "2x+y": lambda x, y, p: (2 * x + y) % p,
}
# Operations whose table excludes y = 0 (division) and needs a prime modulus.
NONZERO_Y = {"x/y"}


def normalize_op(op: str) -> str:
    """Accept common spellings: spaces, `**` for `^`, `·`/`×` for `*`, `−` for `-`, `÷` for `/`."""
    s = op.replace(" ", "").replace("**", "^").replace("·", "*").replace("×", "*")
    s = s.replace("−", "-").replace("÷", "/").replace("²", "^2").replace("³", "^3")
    return _ALIASES.get(s, s)


_ALIASES = {k.replace("xy", "x*y"): k for k in OPERATIONS if "xy" in k}


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))


@dataclass(frozen=True)
class TaskConfig:
    """Binary operation x ∘ y mod p, split into train and test."""

    op: str = param(
        "x+y", "operation: " + ", ".join(OPERATIONS) + "; groups " + groups.GROUP_SPELLING
    )
    p: int = param(97, "modulus (prime for x/y); not used by group ops")
    frac: float = param(0.3, "fraction of all pairs used for training, in (0, 1)")
    split_seed: int | None = param(None, "seed of the random train/test split (default: --seed)")
    sequence: str = param("x op y =", "transformer input: 'x op y =' or 'x y =' (Nanda et al.)")
    n_bits: int = param(40, "parity: input length n (uniform ±1 bits)")
    k_bits: int = param(3, "parity: relevant bits k; the label is their product")
    n_train: int = param(
        0,
        "parity, regression: training samples, parity: 0 = fresh samples every step (online);"
        " images: training images drawn from the pool by the data seed, 0 = the whole pool",
    )
    n_test: int = param(2048, "parity, regression: held-out test samples")
    data_dir: str | None = param(None, "op=idx: folder holding MNIST-format IDX files")
    label_noise: float = param(
        0.0, "fraction of the training labels replaced by a wrong class (test labels stay clean)"
    )
    n_features: int = param(100, "regression (linear, nonlinear): input dimension d")
    n_val: int = param(0, "regression: validation samples, e.g. for choosing a ridge λ (0: none)")
    noise_std: float = param(0.0, "regression: std σ of the Gaussian noise added to the targets")

    def __post_init__(self) -> None:
        op = normalize_op(self.op)
        if not 0 <= self.label_noise < 1:
            raise ConfigError(f"label_noise: must be in [0, 1), got {self.label_noise}")
        if op in FEATURE_OPS:
            object.__setattr__(self, "op", op)
            self._check_features(op)
            return
        for name in FEATURE_FIELDS:
            if getattr(self, name) != getattr(TaskConfig, name):
                users = (
                    "op=parity"
                    if name in PARITY_FIELDS
                    else f"op={', '.join(regression.OPS)}"
                    if name in regression.FIELDS
                    else "op=idx"
                    if name == "data_dir"
                    else f"feature tasks ({', '.join(FEATURE_OPS)})"
                )
                raise ConfigError(f"{name}: only used by {users}, not by {op}")
        if groups.parse_group(op):
            op = groups.check_group(op)
            if self.p != TaskConfig.p:
                raise ConfigError(
                    f"p: not used by the group op {op} (its {groups.group_order(op)} elements are "
                    f"the classes); leave p at its default {TaskConfig.p}, got {self.p}"
                )
        elif op not in OPERATIONS:
            raise ConfigError(
                f"op: unknown operation {self.op!r} "
                f"(valid: {', '.join(OPERATIONS)}, or a group: {groups.GROUP_SPELLING})"
            )
        object.__setattr__(self, "op", op)
        if self.sequence not in SEQUENCES:
            raise ConfigError(
                f"sequence: unknown {self.sequence!r} (valid: {', '.join(map(repr, SEQUENCES))})"
            )
        if self.p < 2:
            raise ConfigError(f"p: modulus must be at least 2, got {self.p}")
        if op in NONZERO_Y and not is_prime(self.p):
            raise ConfigError(f"p: {op} needs a prime modulus (inverses mod p), got {self.p}")
        if not 0.0 < self.frac < 1.0:
            raise ConfigError(f"frac: train fraction must be in (0, 1), got {self.frac}")
        if round(self.frac * n_pairs(self)) < 1:
            raise ConfigError(f"frac: {self.frac} of {n_pairs(self)} pairs leaves no training data")

    def _check_features(self, op: str) -> None:
        unused = ("p", "frac", "sequence") + (() if op == "idx" else ("data_dir",))
        if op in images.IMAGE_OPS:
            unused += ("n_test", *PARITY_FIELDS, *regression.FIELDS)
        elif op in regression.OPS:
            unused += ("label_noise", *PARITY_FIELDS)
        else:
            unused += regression.FIELDS
        for name in unused:
            if getattr(self, name) != getattr(TaskConfig, name):
                raise ConfigError(f"{name}: not used by op={op}; leave it at its default")
        if self.n_train < 0:
            raise ConfigError(f"n_train: must be ≥ 0, got {self.n_train}")
        if op in regression.OPS:
            regression.check(self)
            return
        if op in images.IMAGE_OPS:
            if op == "idx" and self.data_dir is None:
                raise ConfigError("data_dir: op=idx needs the folder holding the MNIST IDX files")
            return
        if self.label_noise and self.n_train == 0:
            raise ConfigError("label_noise: needs a fixed training set (n_train > 0), not online")
        if not 1 <= self.n_bits <= MAX_BITS:
            raise ConfigError(f"n_bits: must be in 1 … {MAX_BITS}, got {self.n_bits}")
        if not 1 <= self.k_bits <= self.n_bits:
            raise ConfigError(f"k_bits: must be in 1 … n_bits = {self.n_bits}, got {self.k_bits}")
        if self.n_test < 1:
            raise ConfigError(f"n_test: must be at least 1, got {self.n_test}")


# Tasks whose inputs are real feature vectors [N, d] (read by the dense MLP, images also by the
# CNN, regression by random-features models), and their fields.
FEATURE_OPS = ("parity", *images.IMAGE_OPS, *regression.OPS)
PARITY_FIELDS = ("n_bits", "k_bits")
FEATURE_FIELDS = ("n_bits", "k_bits", "n_train", "n_test", "data_dir", *regression.FIELDS)
MAX_BITS = 4096


def feature_dim(cfg: TaskConfig) -> int:
    """The input dimension d of a feature task (parity: n_bits; images: pixels)."""
    if cfg.op in images.IMAGE_OPS:
        return images.load(cfg.op, cfg.data_dir).features
    return regression.input_dim(cfg) if cfg.op in regression.OPS else cfg.n_bits


def n_elements(op: str, p: int) -> int:
    """How many symbols a task has (operands and answers alike): p, or a group's order; the
    number of classes of a feature task (0: a regression task's real-valued targets)."""
    if op in images.IMAGE_OPS:
        return images.N_CLASSES
    if op in regression.OPS:
        return regression.N_CLASSES
    if op in FEATURE_OPS:
        return parity.N_CLASSES
    return groups.group_order(op) if groups.parse_group(op) else p


def n_pairs(cfg: TaskConfig) -> int:
    n = n_elements(cfg.op, cfg.p)
    return n * (n - 1 if cfg.op in NONZERO_Y else n)


def describe(op: str, p: int) -> str:
    """'x+y mod 97' or 'S5' (for titles and listings)."""
    if op in images.IMAGE_OPS:
        return {"digits": "digits (8×8)", "mnist1d": "MNIST-1D", "idx": "MNIST (IDX files)"}[op]
    if op in regression.OPS:
        return f"{op} regression"
    if op in FEATURE_OPS:
        return "sparse parity"
    return op if groups.parse_group(op) else f"{op} mod {p}"


def table(cfg: TaskConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """All valid operand pairs [N, 2] (int64) and their answers [N], x-major order."""
    p = n_elements(cfg.op, cfg.p)
    x = torch.arange(p).repeat_interleave(p)
    y = torch.arange(p).repeat(p)
    if groups.parse_group(cfg.op):
        return torch.stack([x, y], dim=1), groups.cayley_table(cfg.op)[x, y]
    if cfg.op in NONZERO_Y:
        keep = y != 0
        x, y = x[keep], y[keep]
    return torch.stack([x, y], dim=1), OPERATIONS[cfg.op](x, y, p)


def split(n: int, frac: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random permutation of range(n) cut into train (round(frac·n) items) and test indices."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_train = round(frac * n)
    return perm[:n_train], perm[n_train:]


# Transformer input formats: token ids p (op) and p + 1 (`=`) follow the p numbers.
SEQUENCES = {"x op y =": 4, "x y =": 3}  # format → sequence length


def encode(pairs: torch.Tensor, p: int, kind: str, sequence: str = "x op y =") -> torch.Tensor:
    """Model inputs for operand pairs [N, 2]: the pairs for an MLP, tokens for a transformer."""
    if kind != "transformer":
        return pairs  # mlp, twolayer
    n = pairs.shape[0]
    op_tok = torch.full((n, 1), p)
    eq_tok = torch.full((n, 1), p + 1)
    if sequence == "x y =":
        return torch.cat([pairs, eq_tok], dim=1)  # [N, 3]
    return torch.cat([pairs[:, :1], op_tok, pairs[:, 1:], eq_tok], dim=1)  # [N, 4]


def vocab_size(cfg: TaskConfig, kind: str) -> int:
    """Distinct input tokens (the op token id stays reserved in both transformer formats)."""
    n = n_elements(cfg.op, cfg.p)
    return n + 2 if kind == "transformer" else n


def build(cfgs: list[TaskConfig], kind: str, seeds: list[int]) -> TaskData:
    """Stack the data of E members (one TaskConfig each) along a leading member dimension.

    A member whose split_seed is None splits with its run seed `seeds[e]`. Members may differ
    in split and train fraction; shorter sets are padded and masked (see TaskData).
    """
    if len({(c.p, c.op, c.sequence) for c in cfgs}) != 1:
        raise ConfigError("p, op, sequence: members of one ensemble must share the task")
    data = _build_sets(cfgs, kind, seeds)
    data_seeds = [data_seed(c, s) for c, s in zip(cfgs, seeds, strict=True)]
    return noise.apply(data, [c.label_noise for c in cfgs], data_seeds)


def _build_sets(cfgs: list[TaskConfig], kind: str, seeds: list[int]) -> TaskData:
    if cfgs[0].op in images.IMAGE_OPS:
        if len({c.data_dir for c in cfgs}) != 1:
            raise ConfigError("data_dir: members of one ensemble must share the dataset")
        return images.build(cfgs, seeds)
    if cfgs[0].op in regression.OPS:
        return regression.build(cfgs, seeds)
    if cfgs[0].op in FEATURE_OPS:
        return parity.build(cfgs, seeds)
    splits = []
    for cfg, seed in zip(cfgs, seeds, strict=True):
        pairs, answers = table(cfg)
        inputs = encode(pairs, n_elements(cfg.op, cfg.p), kind, cfg.sequence)
        tr, te = split(len(answers), cfg.frac, data_seed(cfg, seed))
        splits.append((inputs[tr], answers[tr], inputs[te], answers[te]))
    x_train, y_train, train_mask = pad_members([s[0] for s in splits], [s[1] for s in splits])
    x_test, y_test, test_mask = pad_members([s[2] for s in splits], [s[3] for s in splits])
    p = n_elements(cfgs[0].op, cfgs[0].p)
    return TaskData(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        n_classes=p,
        vocab=vocab_size(cfgs[0], kind),
        train_mask=train_mask,
        test_mask=test_mask,
        group=cfgs[0].op if groups.parse_group(cfgs[0].op) else None,
    )
