"""The run store: one SQLite file of runs, metric series and checkpoints."""

from phenolab.store.sqlite import RunRecord, Store

__all__ = ["RunRecord", "Store"]
