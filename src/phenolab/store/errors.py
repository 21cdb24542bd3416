"""sqlite3's errors about the store file, as one line that names the file and what to do.

A damaged store (`database disk image is malformed`) used to come out of `phenolab runs`,
`report` and, mid-training, `append_metrics` as a traceback. Every public method of `Store`
goes through `store_errors`, so whichever call meets the damage first says it in one line.
IntegrityError and ProgrammingError stay as they are: they are mistakes in phenolab, not in
the file.
"""

from __future__ import annotations

import functools
import inspect
import json
import pickle
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from phenolab.errors import StoreError

SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26  # primary result codes (sqlite.org/rescode.html)

T = TypeVar("T")


def store_error(path: str, exc: sqlite3.DatabaseError) -> StoreError:
    """The one-line StoreError for a sqlite3 error met on the store at `path`."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == SQLITE_CORRUPT or "malformed" in str(exc):
        return damaged(path, str(exc))
    if code == SQLITE_NOTADB or "not a database" in str(exc):
        return StoreError(
            f"store: cannot open {path!r} as a phenolab store ({exc}): pass another --store, "
            f"or move this file away"
        )
    return StoreError(f"store {path}: {exc}")


def damaged(path: str, what: str) -> StoreError:
    return StoreError(
        f"store {path} is damaged ({what}); `sqlite3 {path} .recover | sqlite3 recovered.db` "
        f"may save its rows into recovered.db"
    )


def unreadable_blob(path: str, run_id: str, exc: Exception) -> StoreError:
    """A checkpoint whose bytes no longer unpickle: the rows around it may still be sound."""
    return damaged(path, f"the saved weights of run {run_id} do not load: {exc}")


BLOB_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError)


def store_errors(cls: type[T]) -> type[T]:
    """Wrap every public method of `cls` (whose instances have `.path`) so that sqlite3's
    errors about the file, and JSON it can no longer decode, become one-line StoreErrors."""
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        setattr(cls, name, _guarded(method))
    return cls


def _guarded(method: Callable) -> Callable:
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from None
        except json.JSONDecodeError as exc:
            raise damaged(self.path, f"a JSON column does not parse: {exc}") from None

    return guarded
