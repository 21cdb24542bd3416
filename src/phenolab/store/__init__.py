"""The run store: one SQLite file of runs, metric series and checkpoints."""

from phenolab.store.sqlite import DEFAULT_PATH, RunRecord, Store

__all__ = ["DEFAULT_PATH", "RunRecord", "Store"]
