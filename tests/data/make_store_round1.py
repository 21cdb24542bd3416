"""Build tests/data/store_round1.db: a run store written by phenolab as it was before round 2
(issue 13), for tests/test_store_compat.py to read, list, report and resume with today's code.

Run it with the OLD code on the path, from the repository root:

    PYTHONPATH=/work/before/src python tests/data/make_store_round1.py tests/data/store_round1.db

It trains through the old CLI (`python -m phenolab run ...`, a subprocess per command) except
for the interrupted run, which needs a stop at a chosen step: the old `run_ensemble` with a
callback that sets `state.stop`, on configs built by the old CLI's own parser, so that the same
command line finds and resumes it. The runs are small (p = 47, width 32) so the file stays well
under 1 MB with every run's checkpoint in it. It prints the run ids to pin in the test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile

import torch

import phenolab

TINY = ["--p", "47", "--frac", "0.6", "--steps", "300", "--eval-every", "50"]
SMALL = ["--width", "32", "--d-embed", "16"]  # a small checkpoint: the file stays < 1 MB
COMMANDS = {
    "single": [*TINY, *SMALL],
    "ensemble": [*TINY, *SMALL, "--seed", "1", "--seeds", "2", "--workers", "1"],
    "closed_form": [
        *["--op", "linear", "--n-train", "40", "--n-test", "100", "--n-features", "20"],
        *["--model", "rf", "--width", "60", "--optimizer", "lstsq", "--wd", "0", "--loss", "mse"],
    ],
}
INTERRUPTED = [*TINY, *SMALL, "--seed", "7"]
STOP_AT = 120  # the interrupted run stops (and checkpoints) after this step


def cli(store: str, args: list[str]) -> dict:
    """One old `phenolab run`, its --json result."""
    argv = [sys.executable, "-m", "phenolab", "run", *args, "--store", store, "--no-report"]
    out = subprocess.run([*argv, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def interrupted_run(store_path: str) -> str:
    """The run the old CLI would train for INTERRUPTED, stopped after STOP_AT."""
    from phenolab.runner import RunInterrupted, run_ensemble

    from phenolab.cli import build_parser
    from phenolab.cli.run import _configs_from_args
    from phenolab.store import Store
    from phenolab.train.loop import Callback

    class StopAt(Callback):
        def on_step_end(self, state) -> None:
            if state.step == STOP_AT:
                state.stop = "interrupted"

    configs = _configs_from_args(build_parser().parse_args(["run", *INTERRUPTED]))
    store = Store(store_path)
    try:
        run_ensemble(configs, store, "cpu", callbacks=[StopAt()])
    except RunInterrupted:
        pass
    else:
        raise SystemExit("the run was not interrupted")
    store.close()
    return configs[0].run_id()


def add_verdict(store_path: str, run_ids: list[str]) -> None:
    """A verdict row in the shape `reproduce` appends (a real reproduction costs minutes)."""
    from phenolab.store import Store

    verdict = {
        "expectation": "peak",
        "claim": "test loss peaks near p = n",
        "verdict": "PASS",
        "measured": 1.0,
        "lower": None,
        "upper": None,
        "op": ">=",
        "threshold": 0.5,
        "unit": "",
        "note": "written by tests/data/make_store_round1.py",
    }
    store = Store(store_path)
    store.add_verdicts("belkin2019-minnorm", "quick", [verdict], run_ids)
    store.close()


def main(out: str) -> None:
    out = os.path.abspath(out)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    ids: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as cwd:  # nothing lands in the repository
        os.chdir(cwd)
        for name, args in COMMANDS.items():
            result = cli(out, args)
            members = result.get("members") or [result]
            ids[name] = [m["run_id"] for m in members]
        ids["interrupted"] = [interrupted_run(out)]
    add_verdict(out, ids["closed_form"])
    with sqlite3.connect(out) as db:  # one self-contained file: WAL folded in, space reclaimed
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        statuses = dict(db.execute("SELECT id, status FROM runs"))
    sqlite3.connect(out, isolation_level=None).execute("VACUUM").connection.close()
    print(
        f"phenolab {phenolab.__version__} ({phenolab.__file__}) wrote {out}: "
        f"{os.path.getsize(out):,} bytes"
    )
    for name, run_ids in ids.items():
        print(f"{name:<12} " + " ".join(f"{r} ({statuses[r]})" for r in run_ids))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
