"""The former hub of all tasks, split into one module per task family (tasks/arithmetic.py,
groups.py, parity.py, images.py, regression.py; shared pieces in tasks/__init__.py, base.py and
pairs.py). Import from `phenolab.tasks` instead.
"""

# TEMPORARY shim for the lead's merge: run/build.py, run/solve.py, run/start.py, cli/*,
# catalog/lmc.py and catalog/imp_measures.py import these names from here; `build` takes a
# model kind's name (phenolab.tasks.build takes the format the model reads: MODELS[kind].reads).

from __future__ import annotations

from phenolab.tasks import TaskConfig, describe, feature_dim, n_elements
from phenolab.tasks import build as _build
from phenolab.tasks.arithmetic import NONZERO_Y, OPERATIONS, is_prime, normalize_op
from phenolab.tasks.pairs import SEQUENCES, encode, split

__all__ = [
    "NONZERO_Y",
    "OPERATIONS",
    "SEQUENCES",
    "TaskConfig",
    "build",
    "describe",
    "encode",
    "feature_dim",
    "is_prime",
    "n_elements",
    "normalize_op",
    "split",
]


def build(cfgs: list[TaskConfig], kind: str, seeds: list[int]):
    """`phenolab.tasks.build` for a model of kind `kind` (its name)."""
    from phenolab.models import MODELS

    return _build(cfgs, MODELS.get(kind).reads, seeds)
