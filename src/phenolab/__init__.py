"""phenolab: a catalog of runnable, preregistered deep-learning phenomena.

The layers and the way imports go are drawn in CONTRIBUTING.md. This module holds only what
every layer shares: the version, the run format, and `param` (a config field with its help).
"""

from __future__ import annotations

import dataclasses
from typing import Any

__version__ = "0.1.0"

# Bump when a change alters the curves a config produces: it is part of every run id, so runs
# trained by older code are not mistaken for runs of the new code.
RUN_FORMAT = 1


def param(default: Any, help: str) -> Any:  # noqa: A002 - mirrors argparse
    """A config field with its one-line help, shown by `phenolab run --help`."""
    return dataclasses.field(default=default, metadata={"help": help})
