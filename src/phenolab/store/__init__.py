"""The run store: one SQLite file of runs, metric series, checkpoints and the leases that say
which process trains a run."""

from phenolab.store.lease import STALE_SECONDS, RunBusy
from phenolab.store.sqlite import DEFAULT_PATH, RunRecord, Store

__all__ = ["DEFAULT_PATH", "STALE_SECONDS", "RunBusy", "RunRecord", "Store"]
