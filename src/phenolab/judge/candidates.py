"""Candidate explanations: label-free measures with a stated direction, and the nulls.

A candidate is a measure with the built-in measures' signature, `(Context) -> {key: [E]}`
(measures/__init__.py), and the key it is judged on. The judge computes it afterwards from the
weights a trial run kept, on a *label-blind* view of the data: the test split is replaced by the
training split (`blind`), so a candidate cannot read a test label. Its direction says which way
the measure moves as the network generalizes: "up", "down", or "fit" — the nulls' sign is
chosen on the development conditions, the most favourable of the forking paths.

A user's measure joins with `--measure FILE.py:FN` (`load_user_measure`): the function gets
the same Context and returns {key: tensor [E]}; the first key is judged, direction "fit" unless
the function has an attribute `direction`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from phenolab.errors import UserError
from phenolab.measures import Context, Values, weight_norm
from phenolab.measures.circuit import OPERAND_POSITIONS, key_components, operands
from phenolab.measures.fourier import fourier
from phenolab.measures.rqi import rqi
from phenolab.measures.weights import effective_rank, is_prime_tensor
from phenolab.tasks.data import TaskData

UP, DOWN, FIT = "up", "down", "fit"


@dataclass(frozen=True)
class Candidate:
    id: str
    fn: Callable[[Context], Values]
    key: str  # the value judged, of those fn returns
    direction: str  # UP, DOWN or FIT (chosen on the development conditions)
    explanation: str  # whose explanation, in a few words
    null: bool = False
    derive: str | None = None  # "slope": judged on d(value)/d(log step) between kept steps

    def values(self, ctx: Context) -> torch.Tensor:
        out = self.fn(ctx)
        if not self.key:  # a user's measure: its first key
            return next(iter(out.values()))
        if self.key not in out:
            raise UserError(f"measure {self.id}: returned {sorted(out)}, not {self.key!r}")
        return out[self.key]


def blind(data: TaskData) -> TaskData:
    """The data a candidate sees: the test split replaced by the training split."""
    return dataclasses.replace(
        data, x_test=data.x_train, y_test=data.y_train, test_mask=data.train_mask
    )


# --- built-in candidates (measures the loop also records, and a few of the judge's own) ------


def train_loss(ctx: Context) -> Values:
    """`train/loss`: the training loss function on the training split."""
    data = ctx.data
    return {"train/loss": ctx.loss_fn(ctx.model(data.x_train), data.y_train, data.train_mask)}


def movement(ctx: Context) -> Values:
    """`move/relative`: ‖θ − θ₀‖ / ‖θ₀‖ over all weights (lazy → rich: Kumar et al. 2024)."""
    params = dict(ctx.model.named_parameters())
    dist = sum((p.detach() - ctx.init[n]).pow(2).flatten(1).sum(1) for n, p in params.items())
    base = sum(ctx.init[n].pow(2).flatten(1).sum(1) for n in params)
    return {"move/relative": (dist / base.clamp_min(1e-30)).sqrt()}


def embedding_rank(ctx: Context) -> Values:
    """`embed/rank`: effective rank of the number embedding (NaN for a model without one)."""
    if not hasattr(ctx.model, "embedding"):
        return {"embed/rank": _nan(ctx)}
    numbers = ctx.model.embedding().detach()[:, : ctx.data.n_classes]
    return {"embed/rank": effective_rank(numbers).float()}


def fourier_gini(ctx: Context) -> Values:
    """`fourier/gini`: sparsity of the number embedding's Fourier power (Nanda et al. 2023)."""
    if not hasattr(ctx.model, "embedding"):
        return {"fourier/gini": _nan(ctx)}
    return {"fourier/gini": fourier(ctx)["fourier/gini"]}


def circuit_losses(ctx: Context) -> Values:
    """Nanda et al.'s restricted and excluded loss on the training pairs only (their restricted
    loss reads all p² pairs' labels; here no test label is read). NaN off x+y."""
    data, p = ctx.data, ctx.data.n_classes
    x = data.x_train
    a, b = operands(x) if x.shape[-1] in OPERAND_POSITIONS else (None, None)
    if a is None or not bool(((a + b) % p == data.y_train).all()):
        return {"circuit/restricted_train": _nan(ctx), "circuit/excluded_train": _nan(ctx)}
    table = x[:, :1].expand(-1, p * p, -1).clone()
    i, j = OPERAND_POSITIONS[x.shape[-1]]
    table[..., i] = torch.arange(p).repeat_interleave(p)
    table[..., j] = torch.arange(p).repeat(p)
    logits = ctx.model(table).detach().double()  # inputs only: no labels read
    mean, key, _, _ = key_components(logits)
    pairs = (a * p + b)[..., None].expand(-1, -1, p)
    restricted = (mean + key).gather(1, pairs)
    excluded = (logits - key).gather(1, pairs)
    return {
        "circuit/restricted_train": _masked_ce(restricted, data.y_train, data.train_mask),
        "circuit/excluded_train": _masked_ce(excluded, data.y_train, data.train_mask),
    }


def representation_quality(ctx: Context) -> Values:
    """`rqi/share` (Liu et al. 2022) on the training pairs; NaN off x+y."""
    if ctx.data.x_train.shape[-1] != 2 or not _is_addition(ctx.data):
        return {"rqi/share": _nan(ctx)}
    return rqi(ctx)


def steps_elapsed(ctx: Context) -> Values:
    """`null/steps`: the step itself (filled in by the judge, which knows it)."""
    return {"null/steps": _nan(ctx)}


def random_projection(ctx: Context) -> Values:
    """`null/projection`: the weights' projection on a fixed random direction (seed 0)."""
    total = 0.0
    for name, p in sorted(ctx.model.named_parameters()):
        w = p.detach().flatten(1)
        gen = torch.Generator().manual_seed(_name_seed(name))
        direction = torch.randn(w.shape[1], generator=gen, dtype=w.dtype)
        total = total + w @ direction.to(w.device)
    n = sum(p[0].numel() for p in ctx.model.parameters())
    return {"null/projection": total / math.sqrt(n)}


def prime_count(scale: int, subset: str) -> Callable[[Context], Values]:
    """How many parameters of `subset` (all, embedding, output) have round(scale · |w|) prime:
    Jeffares & van der Schaar's count (scale 100, all) and its forking paths."""

    def count(ctx: Context) -> Values:
        total = 0
        for name, p in ctx.model.named_parameters():
            if subset == "embedding" and not name.startswith("W_E"):
                continue
            if subset == "output" and not name.startswith(("W_out", "W_U")):
                continue
            n = (p.detach().abs() * scale).round().long().flatten(1)
            total = total + is_prime_tensor(n).sum(1)
        if isinstance(total, int):
            return {"null/primes": _nan(ctx)}
        return {"null/primes": total.float()}

    count.__doc__ = f"`null/primes`: round({scale} · |w|) prime, {subset} parameters."
    return count


def _nan(ctx: Context) -> torch.Tensor:
    return torch.full((ctx.data.x_train.shape[0],), float("nan"))


def _is_addition(data: TaskData) -> bool:
    a, b = operands(data.x_train)
    return bool(((a + b) % data.n_classes == data.y_train).all())


def _masked_ce(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none")
    if mask is None:
        return loss.mean(1).float()
    return ((loss * mask).sum(1) / mask.sum(1)).float()


def _name_seed(name: str) -> int:
    return sum(ord(c) * 31**i for i, c in enumerate(name)) % (2**31)


CANDIDATES = (
    Candidate("weight-norm", weight_norm, "norm/total", DOWN, "Omnigrok (Liu et al. 2023)"),
    Candidate(
        "fourier-sparsity", fourier_gini, "fourier/gini", UP, "Fourier features (Nanda 2023)"
    ),
    Candidate(
        "restricted-loss",
        circuit_losses,
        "circuit/restricted_train",
        DOWN,
        "Fourier circuit (Nanda et al. 2023)",
    ),
    Candidate(
        "excluded-loss",
        circuit_losses,
        "circuit/excluded_train",
        UP,
        "memorization removed (Nanda et al. 2023)",
    ),
    Candidate("rqi", representation_quality, "rqi/share", UP, "representations (Liu et al. 2022)"),
    Candidate("embed-rank", embedding_rank, "embed/rank", DOWN, "low-rank embedding"),
    Candidate("movement", movement, "move/relative", UP, "lazy → rich (Kumar et al. 2024)"),
    Candidate("train-loss", train_loss, "train/loss", DOWN, "the training loss itself"),
    Candidate(
        "train-loss-slope",
        train_loss,
        "train/loss",
        DOWN,
        "the training loss's slope (log-log)",
        derive="slope",
    ),
)
NULLS = (
    Candidate(
        "primes", prime_count(100, "all"), "null/primes", FIT, "Jeffares & v. d. Schaar", True
    ),
    Candidate("primes@10", prime_count(10, "all"), "null/primes", FIT, "forking path", True),
    Candidate("primes@1000", prime_count(1000, "all"), "null/primes", FIT, "forking path", True),
    Candidate(
        "primes-embedding",
        prime_count(100, "embedding"),
        "null/primes",
        FIT,
        "forking path",
        True,
    ),
    Candidate(
        "primes-output", prime_count(100, "output"), "null/primes", FIT, "forking path", True
    ),
    Candidate("steps", steps_elapsed, "null/steps", UP, "elapsed steps", True),
    Candidate("projection", random_projection, "null/projection", FIT, "random projection", True),
)
BUILT_IN = CANDIDATES + NULLS


def load_user_measure(spec: str) -> Candidate:
    """`path/to/file.py:fn` → a Candidate judged on the first key the function returns."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UserError(f"--measure: expected FILE.py:FUNCTION, got {spec!r}")
    file = Path(path)
    if not file.is_file():
        raise UserError(f"--measure: no such file: {path}")
    module_spec = importlib.util.spec_from_file_location(f"phenolab_user_{file.stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: any error is theirs, reported in one line
        raise UserError(
            f"--measure: {path} failed to import: {type(exc).__name__}: {exc}"
        ) from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UserError(f"--measure: {path} has no function {name!r}")
    try:
        inspect.signature(fn).bind(None)
    except TypeError:
        raise UserError(
            f"--measure: {name} must take one argument, the measure Context "
            f"(model, data, loss_fn, init), like phenolab's measures"
        ) from None
    direction = getattr(fn, "direction", FIT)
    if direction not in (UP, DOWN, FIT):
        raise UserError(f"--measure: {name}.direction must be up, down or fit, got {direction!r}")
    return Candidate(name, _checked(fn, name), "", direction, f"user measure {spec}")


def _checked(fn: Callable, name: str) -> Callable[[Context], Values]:
    def call(ctx: Context) -> Values:
        try:
            out = fn(ctx)
        except Exception as exc:
            raise UserError(f"--measure: {name} raised {type(exc).__name__}: {exc}") from None
        members = ctx.data.x_train.shape[0]
        if not isinstance(out, dict) or not out:
            raise UserError(f"--measure: {name} must return {{key: tensor [E]}}, got {out!r:.60}")
        for key, value in out.items():
            value = torch.as_tensor(value)
            if value.shape != (members,):
                raise UserError(
                    f"--measure: {name} returned {key} of shape {tuple(value.shape)}; expected "
                    f"one value per member, [{members}]"
                )
            if not bool(torch.isfinite(value).all()):
                raise UserError(f"--measure: {name} returned a NaN or infinite {key}")
        return {k: torch.as_tensor(v) for k, v in out.items()}

    return call
