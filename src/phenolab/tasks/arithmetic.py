"""Modular arithmetic tasks of Power et al. (2022), "Grokking: generalization beyond overfitting
on small algorithmic datasets" (arXiv:2201.02177): every pair (x, y) in Z_p × Z_p labelled by
x ∘ y mod p (a pair task, tasks/pairs.py). Each operation is registered as its own task.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from phenolab.errors import ConfigError
from phenolab.tasks.base import TASKS
from phenolab.tasks.pairs import PairTask, all_pairs

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


class Arithmetic(PairTask):
    """x ∘ y mod p for one operation."""

    fields = ("p", "nonzero_y", *PairTask.fields)

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.summary = f"{name} mod p (Power et al. 2022)"

    def claim(self, op: str) -> str | None:
        return self.name if normalize_op(op) == self.name else None

    def check(self, cfg) -> None:
        if cfg.p < 2:
            raise ConfigError(f"p: modulus must be at least 2, got {cfg.p}")
        if self.name in NONZERO_Y and not is_prime(cfg.p):
            raise ConfigError(f"p: {self.name} needs a prime modulus (inverses mod p), got {cfg.p}")
        super().check(cfg)

    def n_classes(self, op: str, p: int) -> int:
        return p

    def title(self, op: str, p: int) -> str:
        return f"{op} mod {p}"

    def _nonzero_y(self, cfg) -> bool:
        return self.name in NONZERO_Y or cfg.nonzero_y

    def n_pairs(self, cfg) -> int:
        return cfg.p * (cfg.p - 1 if self._nonzero_y(cfg) else cfg.p)

    def table(self, cfg) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = all_pairs(cfg.p)
        if self._nonzero_y(cfg):
            keep = y != 0
            x, y = x[keep], y[keep]
        return torch.stack([x, y], dim=1), OPERATIONS[self.name](x, y, cfg.p)


for _name in OPERATIONS:
    TASKS.register(_name, Arithmetic(_name))
