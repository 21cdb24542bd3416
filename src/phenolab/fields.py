"""`param`: a dataclass field with its one-line help, shown by `phenolab run --help`."""

from __future__ import annotations

import dataclasses
from typing import Any


def param(default: Any, help: str) -> Any:  # noqa: A002 - mirrors argparse
    return dataclasses.field(default=default, metadata={"help": help})
