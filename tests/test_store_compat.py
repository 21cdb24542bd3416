"""A store written by the previous version (round 1) is read, listed, reported and resumed by
today's code: tests/data/store_round1.db, built by tests/data/make_store_round1.py with the old
code. Only the CLI is used (and sqlite3 on the file, whose format is what must stay readable),
so these tests outlive refactors of the Python API. Every test works on a copy."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from phenolab.cli import main

ROUND1 = Path(__file__).parent / "data" / "store_round1.db"

# the command lines make_store_round1.py ran, and the run ids they gave (pinned: ids must not
# change)
TINY = ["--p", "47", "--frac", "0.6", "--steps", "300", "--eval-every", "50"]
SMALL = ["--width", "32", "--d-embed", "16"]
SINGLE = ([*TINY, *SMALL], ["b9ae24802b20"])
ENSEMBLE = (
    [*TINY, *SMALL, "--seed", "1", "--seeds", "2", "--workers", "1"],
    ["1a994eac8ab0", "c0b9232a155d"],
)
CLOSED_FORM = (
    [
        *["--op", "linear", "--n-train", "40", "--n-test", "100", "--n-features", "20"],
        *["--model", "rf", "--width", "60", "--optimizer", "lstsq", "--wd", "0", "--loss", "mse"],
    ],
    ["e3f216a529c9"],
)
INTERRUPTED = ([*TINY, *SMALL, "--seed", "7"], ["a275aed4fc22"])
INTERRUPTED_AT = 120  # the step of its checkpoint
FINISHED = [*SINGLE[1], *ENSEMBLE[1], *CLOSED_FORM[1]]


@pytest.fixture
def store(tmp_path) -> str:
    copy = tmp_path / "store_round1.db"
    shutil.copy(ROUND1, copy)
    return str(copy)


def _rows(store: str, run_id: str) -> tuple[list, tuple]:
    """A run's metric rows and its stored (status, seconds, updated), read from the file."""
    with sqlite3.connect(store) as db:
        metrics = db.execute(
            "SELECT step, name, value FROM metrics WHERE run_id = ? ORDER BY step, name",
            (run_id,),
        ).fetchall()
        run = db.execute(
            "SELECT status, seconds, updated FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
    return metrics, run


def test_the_old_store_is_listed_with_every_run(store, capsys):
    assert main(["runs", "--store", store]) == 0
    text = capsys.readouterr().out
    for run_id in [*FINISHED, *INTERRUPTED[1]]:
        assert run_id in text
    assert main(["runs", "--json", "--store", store]) == 0
    rows = {row["run_id"]: row for row in json.loads(capsys.readouterr().out)}
    listed = {run_id: row["status"] for run_id, row in rows.items()}
    assert listed == {r: "finished" for r in FINISHED} | {INTERRUPTED[1][0]: "interrupted"}
    # what round 1 recorded of the layout: members and threads (no CPU model yet)
    assert rows[ENSEMBLE[1][0]]["layout"] == {"members": 2, "threads": 1}
    assert "2 members, 1 thread" in text


def test_the_old_verdict_is_read(store, capsys):
    assert main(["catalog", "--json", "--store", store]) == 0
    entries = {e["id"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries["belkin2019-minnorm"]["last_verdict"] == "1 PASS"


@pytest.mark.parametrize("run_id", [*FINISHED, *INTERRUPTED[1]])
def test_every_old_run_gets_a_report(store, tmp_path, run_id):
    out = tmp_path / f"{run_id}.html"
    assert main(["report", run_id[:8], "--store", store, "--out", str(out)]) == 0
    assert run_id in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, run_ids", [SINGLE, ENSEMBLE, CLOSED_FORM])
def test_a_finished_old_run_is_found_not_trained_again(store, capsys, args, run_ids):
    before = [_rows(store, r) for r in run_ids]
    assert main(["run", *args, "--store", store, "--no-report", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    members = out.get("members") or [out]
    assert [m["run_id"] for m in members] == run_ids
    assert [_rows(store, r) for r in run_ids] == before  # not a row written


def test_the_interrupted_old_run_resumes_from_its_checkpoint(store, capsys):
    (run_id,) = INTERRUPTED[1]
    metrics, _ = _rows(store, run_id)
    assert max(step for step, _, _ in metrics) < INTERRUPTED_AT
    assert main(["run", *INTERRUPTED[0], "--store", store, "--no-report"]) == 0
    assert f"resuming run {run_id} from step {INTERRUPTED_AT}" in capsys.readouterr().out
    after, (status, _, _) = _rows(store, run_id)
    assert status == "finished"
    # the rows recorded before the checkpoint are kept as they were (time/unix, the wall clock
    # of each evaluation, shows they were not recomputed), the rest recorded anew
    assert [row for row in after if row[0] <= INTERRUPTED_AT] == metrics
    assert max(step for step, _, _ in after) == 300
    with sqlite3.connect(store) as db:
        assert (
            db.execute("SELECT step FROM checkpoints WHERE run_id = ?", (run_id,)).fetchone()[0]
            == 300
        )


@pytest.mark.parametrize("args, run_ids", [SINGLE, ENSEMBLE, CLOSED_FORM])
def test_todays_code_trains_the_old_codes_curves(store, tmp_path, capsys, args, run_ids):
    """The same configs trained afresh give the curves the old code stored: same ids, same
    steps, and values within the floating-point reassociation bound of tests/test_ensemble.py
    (the old store was written on an AMD EPYC; another CPU may round differently)."""
    from phenolab.store import Store
    from tests.test_ensemble import REASSOCIATION

    fresh = str(tmp_path / "fresh.db")
    assert main(["run", *args, "--store", fresh, "--no-report", "--json"]) == 0
    capsys.readouterr()
    old, new = Store(store), Store(fresh)
    for run_id in run_ids:
        a, b = old.metrics(run_id), new.metrics(run_id)
        assert set(a) == set(b)
        for name in (n for n in a if not n.startswith("time/")):
            kind = name.split("/")[1] if name.split("/")[1] in ("acc", "loss") else "norm"
            rtol, atol = REASSOCIATION[kind]
            assert a[name][0] == b[name][0], name
            assert b[name][1] == pytest.approx(a[name][1], rel=rtol, abs=atol), name
