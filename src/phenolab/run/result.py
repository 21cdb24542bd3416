"""What training hands back: one RunResult per config, or RunInterrupted."""

from __future__ import annotations

from dataclasses import dataclass, field

from phenolab.analysis.events import Events
from phenolab.store import RunRecord


@dataclass
class RunResult:
    record: RunRecord
    events: Events
    resumed_from: int | None  # step a resume started from; None for a fresh or stored run
    cached: bool  # True when the finished run was found in the store
    metrics: dict | None = None  # {name: (steps, values)}, as stored
    # values an analysis computes after training from stored runs, e.g. a catalog entry's barrier
    # to a sibling run (Entry.analysis): {name: value}
    derived: dict = field(default_factory=dict)


class RunInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped training after a checkpoint: the same command resumes."""

    def __init__(self, run_ids: list[str], step: int) -> None:
        runs = f"run {run_ids[0]}" if len(run_ids) == 1 else f"{len(run_ids)} runs"
        super().__init__(f"{runs} interrupted at step {step}; run the same command to resume")
        self.run_ids, self.step = run_ids, step


def shard_sizes(results: list[RunResult]) -> list[int]:
    """Members of each ensemble shard trained by one `train_configs` call, from the layout
    recorded with each run (runs found in the store were not trained: they count in none)."""
    sizes = {
        r.record.env["layout"]["shard"]: r.record.env["layout"]["members"]
        for r in results
        if not r.cached and "layout" in r.record.env
    }
    return [sizes[k] for k in sorted(sizes)]
