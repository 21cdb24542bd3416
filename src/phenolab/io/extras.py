"""The optional packages io/ works with, each behind an extra of phenolab's install: a missing
one is a one-line UserError naming the command that installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from phenolab.errors import UserError

# extra name → (what it is for, the modules it provides)
EXTRAS = {
    "tensorboard": "TensorBoard event files",
    "mlflow": "MLflow tracking stores",
    "mlflow-sqlite": "MLflow SQLite stores (mlflow.db)",
    "parquet": "pandas tables and Parquet files",
    "lightning": "the PyTorch Lightning callback",
    "hf": "the Hugging Face transformers callback",
}


def require(module: str, extra: str) -> ModuleType:
    """`module` imported, or a UserError: "<what> need the <module> package: pip install
    'phenolab[<extra>]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise UserError(
            f"{EXTRAS[extra]} need the {top} package: pip install 'phenolab[{extra}]'"
        ) from None
