"""The store's own reliability: one process per run (leases), a damaged file in one line, run-id
prefixes matched literally, the execution layout read from old and new runs.

The lease tests use real processes (multiprocessing, spawn): a lease names a process, and a
thread shares its pid. Every wait is on an Event or a process's end, never a sleep whose length
decides the outcome."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import sqlite3
import time

import pytest

from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.errors import StoreError, UserError
from phenolab.store import STALE_SECONDS, RunBusy, Store
from phenolab.store.layout import describe_layout, layout_of, short_processor_name

RUN_A, RUN_B = "1a2b3c4d5e6f", "abcdefabcdef"
SPAWN = multiprocessing.get_context("spawn")
PROCESS_WAIT = 120  # s: an upper bound on a spawned interpreter importing torch, not a timing


def _hold(path: str, run_ids: list[str], create: bool, ready, done) -> None:
    """Child process: claim `run_ids` (and create them, "running"), then hold until `done`."""
    store = Store(path)
    store.claim(run_ids)
    if create:
        for run_id in run_ids:
            store.create_run(run_id, {"config": run_id}, {})
    ready.set()
    done.wait()
    store.release(run_ids)


def _start_holder(path, run_ids, create=False):
    ready, done = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=_hold, args=(str(path), run_ids, create, ready, done))
    holder.start()
    assert ready.wait(PROCESS_WAIT), "the holder process never claimed"
    return holder, done


def _raw_status(path, run_id: str) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0]


def _leases(path) -> dict[str, tuple[int, str, float]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT run_id, pid, host, heartbeat FROM leases").fetchall()
    return {run_id: (pid, host, heartbeat) for run_id, pid, host, heartbeat in rows}


def test_a_run_claimed_by_a_live_process_is_busy_for_another(tmp_path):
    path = tmp_path / "runs.db"
    holder, done = _start_holder(path, [RUN_A])
    store = Store(path)
    try:
        with pytest.raises(RunBusy, match=rf"run {RUN_A} is being trained by process {holder.pid}"):
            store.claim([RUN_B, RUN_A])  # all or nothing: RUN_B is not taken either
        assert RUN_B not in _leases(path)
        assert issubclass(RunBusy, UserError)
        store.claim([RUN_B])  # a run nobody holds is free
        done.set()  # the holder releases; a waiting claim gets the run then
        store.claim([RUN_A], wait=PROCESS_WAIT)
    finally:
        done.set()
        holder.join(PROCESS_WAIT)
    assert {run_id: lease[0] for run_id, lease in _leases(path).items()} == {
        RUN_A: os.getpid(),
        RUN_B: os.getpid(),
    }


def test_a_killed_owner_leaves_an_interrupted_run_that_is_taken_over(tmp_path):
    path = tmp_path / "runs.db"
    holder, _ = _start_holder(path, [RUN_A], create=True)
    store = Store(path)
    assert store.get_run(RUN_A).status == "running"  # its owner is alive
    with pytest.raises(RunBusy, match=str(holder.pid)):
        store.claim([RUN_A])
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(PROCESS_WAIT)  # reaped: its pid no longer names a process
    # read without a write: the stored "running" is what a kill -9 leaves behind
    assert _raw_status(path, RUN_A) == "running"
    assert store.get_run(RUN_A).status == "interrupted"
    assert [r.status for r in store.runs()] == ["interrupted"]
    assert store.find_run(RUN_A[:4]).status == "interrupted"
    store.claim([RUN_A])  # the stale lease is taken over, the run marked interrupted first
    assert _raw_status(path, RUN_A) == "interrupted"
    assert _leases(path)[RUN_A][0] == os.getpid()


def _plant_lease(path, run_id: str, host: str, heartbeat: float) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO leases (run_id, pid, host, heartbeat) VALUES (?,?,?,?)",
            (run_id, 4242, host, heartbeat),
        )


def test_a_lease_from_another_host_is_stale_only_without_heartbeat(tmp_path):
    path = tmp_path / "runs.db"
    store = Store(path)
    store.create_run(RUN_A, {}, {})  # "running", as a trainer on host "far" left it
    _plant_lease(path, RUN_A, "far", time.time() - 3)
    assert store.get_run(RUN_A).status == "running"  # its pid means nothing here: trusted
    with pytest.raises(RunBusy, match=r"process 4242 on host far \(last heartbeat [0-9]+ s ago"):
        store.claim([RUN_A])
    _plant_lease(path, RUN_A, "far", time.time() - STALE_SECONDS - 60)
    assert store.get_run(RUN_A).status == "interrupted"
    store.claim([RUN_A])
    assert _raw_status(path, RUN_A) == "interrupted"
    assert _leases(path)[RUN_A][:2] == (os.getpid(), socket.gethostname())


def test_a_running_run_without_a_lease_reads_interrupted(tmp_path):
    """What a store written before leases existed holds for a run killed mid-training."""
    store = Store(tmp_path / "runs.db")
    store.create_run(RUN_A, {}, {})
    assert store.get_run(RUN_A).status == "interrupted"
    store.claim([RUN_A])
    assert store.get_run(RUN_A).status == "interrupted"  # stored so by the claim
    store.set_status(RUN_A, "running")
    assert store.get_run(RUN_A).status == "running"  # this process holds it
    store.set_status(RUN_A, "finished")
    store.release([RUN_A])
    assert store.get_run(RUN_A).status == "finished"  # no lease needed once finished


def test_claim_is_idempotent_heartbeat_refreshes_release_frees(tmp_path):
    path = tmp_path / "runs.db"
    store = Store(path)
    store.create_run(RUN_A, {}, {})
    store.claim([RUN_A, RUN_A])
    store.set_status(RUN_A, "running")
    store.claim([RUN_A])  # again, by the same process: fine, and the run stays running
    assert _raw_status(path, RUN_A) == "running"
    with sqlite3.connect(path) as db:  # as if the last evaluation were an hour ago
        db.execute("UPDATE leases SET heartbeat = heartbeat - 3600")
    assert store.get_run(RUN_A).status == "interrupted"
    store.heartbeat([RUN_A])
    assert time.time() - _leases(path)[RUN_A][2] < STALE_SECONDS
    assert store.get_run(RUN_A).status == "running"
    store.release([RUN_A])
    assert _leases(path) == {}
    store.claim([RUN_A])  # and can be claimed again


def test_heartbeat_of_a_lease_taken_over_stops_the_old_owner(tmp_path):
    path = tmp_path / "runs.db"
    store = Store(path)
    store.claim([RUN_A, RUN_B])
    _plant_lease(path, RUN_B, "far", time.time())  # taken over while this process was silent
    with pytest.raises(RunBusy, match=f"run {RUN_B} is no longer leased to this process"):
        store.heartbeat([RUN_A, RUN_B])
    store.release([RUN_A, RUN_B])  # releases only its own
    assert list(_leases(path)) == [RUN_B]


def test_a_store_written_before_leases_gains_the_table_on_open(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, config TEXT NOT NULL, status TEXT NOT NULL,"
            " created REAL NOT NULL, updated REAL NOT NULL, seconds REAL NOT NULL DEFAULT 0,"
            " env TEXT NOT NULL, summary TEXT)"
        )
        db.execute("INSERT INTO runs VALUES (?, '{}', 'finished', 0, 0, 1, '{}', NULL)", (RUN_A,))
    store = Store(path)
    assert store.get_run(RUN_A).status == "finished"
    store.claim([RUN_A])
    assert list(_leases(path)) == [RUN_A]


# -- a damaged store: one line, exit 2 ------------------------------------------------------


@pytest.fixture
def sound_store(tmp_path):
    """A store with one run and enough metric rows to fill several pages; closed, so that
    its WAL is checkpointed into the file and the damage below lands in the data itself."""
    cfg = RunConfig().replace(p=47, steps=400, eval_every=1)
    path, run_id = tmp_path / "runs.db", cfg.run_id()
    store = Store(path)
    store.create_run(run_id, cfg.to_json(), {"threads": 1})
    for step in range(400):
        store.append_metrics(step, {run_id: {"train/acc": 0.5, "test/acc": 0.1}})
    store.set_status(run_id, "finished")
    store.close()
    assert not os.path.exists(f"{path}-wal")
    return path, run_id


def _damage(path, table: str) -> None:
    """Overwrite the root page of `table` — a page in the middle of the file — with garbage."""
    with sqlite3.connect(path) as db:
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    db.close()
    assert 1 < root < pages  # neither the header page nor the last one
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xa5" * page_size)


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("phenolab: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "table, commands",
    [
        ("runs", [["runs"], ["runs", "--json"], ["report", "RUN"]]),
        ("metrics", [["report", "RUN"]]),  # `runs` reads no metrics
    ],
)
def test_a_damaged_store_is_one_line_from_runs_and_report(sound_store, capsys, table, commands):
    path, run_id = sound_store
    _damage(path, table)
    for argv in commands:
        argv = [run_id[:6] if a == "RUN" else a for a in argv]
        err = _one_line_error(capsys, [*argv, "--store", str(path)])
        assert f"store {path} is damaged (database disk image is malformed)" in err
        assert f"`sqlite3 {path} .recover" in err


def test_a_damaged_store_mid_training_is_a_store_error(sound_store):
    path, run_id = sound_store
    _damage(path, "metrics")
    store = Store(path)
    with pytest.raises(StoreError, match=r"is damaged \(database disk image is malformed\)"):
        store.append_metrics(400, {run_id: {"train/acc": 1.0}})


def test_a_file_that_is_not_a_database_is_one_line(tmp_path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a store\n" * 200)
    for argv in (["runs"], ["report", "abc"]):
        err = _one_line_error(capsys, [*argv, "--store", str(path)])
        assert "file is not a database" in err and str(path) in err


def test_damaged_weights_are_one_line(sound_store):
    path, run_id = sound_store
    store = Store(path)
    store.save_checkpoints(10, {run_id: (1.0, {"w": [1.0]})})
    store.db.execute("UPDATE checkpoints SET state = x'00ff00ff'")
    store.db.commit()
    with pytest.raises(StoreError, match=f"the saved weights of run {run_id} do not load"):
        store.load_checkpoint(run_id)


# -- run-id prefixes ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["_", "%", "1a2b_", "1a%"])
def test_a_run_id_prefix_is_matched_literally(tmp_path, capsys, prefix):
    store = Store(tmp_path / "runs.db")
    for run_id in (RUN_A, "1a2bcdef0123"):
        store.create_run(run_id, {}, {})
    with pytest.raises(StoreError, match=f"no run '{prefix}'"):
        store.find_run(prefix)
    assert store.find_run("1a2b3").id == RUN_A
    err = _one_line_error(capsys, ["report", prefix, "--store", str(tmp_path / "runs.db")])
    assert f"no run '{prefix}'" in err


# -- the execution layout -------------------------------------------------------------------

NEW_ENV = {
    "threads": 1,
    "layout": {
        "members": 4,
        "member": 0,
        "shard": 1,
        "shards": 3,
        "workers": 2,
        "threads": 1,
        "cpu": "AMD EPYC 9454P 48-Core Processor",
    },
}
OLD_ENV = {"threads": 2, "ensemble_members": 1}  # what runs before round 2 recorded


def test_the_layout_is_read_from_new_and_old_runs():
    assert describe_layout(NEW_ENV) == "4 members, shard 2/3, 2 workers, 1 thread, AMD EPYC 9454P"
    assert layout_of(NEW_ENV) == NEW_ENV["layout"]
    assert describe_layout(OLD_ENV) == "1 member, 2 threads"
    assert layout_of(OLD_ENV) == {"members": 1, "threads": 2}
    assert describe_layout({}) == ""
    on_gpu = {"gpu": "NVIDIA H100 80GB HBM3", "layout": {"members": 1024, "threads": 1}}
    assert describe_layout(on_gpu) == "1024 members, 1 thread, NVIDIA H100 80GB HBM3"
    xeon = "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz"
    assert short_processor_name(xeon) == "Intel Xeon Platinum 8480+"


def test_runs_and_report_show_the_layout(tmp_path, capsys):
    path = tmp_path / "runs.db"
    store = Store(path)
    ids = []
    for seed, env in ((0, NEW_ENV), (1, OLD_ENV)):
        cfg = RunConfig().replace(p=47, steps=100, seed=seed)
        ids.append(cfg.run_id())
        store.create_run(cfg.run_id(), cfg.to_json(), env)
        for step in (0, 50, 100):
            values = dict.fromkeys(("train/acc", "test/acc", "train/loss", "test/loss"), 0.5)
            store.append_metrics(step, {cfg.run_id(): values | {"norm/total": 1.0}})
        store.set_status(cfg.run_id(), "finished")
    assert main(["runs", "--store", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("layout")
    assert lines[1].endswith("4 members, shard 2/3, 2 workers, 1 thread, AMD EPYC 9454P")
    assert lines[2].endswith("1 member, 2 threads")
    assert main(["runs", "--json", "--store", str(path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["layout"] for row in rows] == [NEW_ENV["layout"], {"members": 1, "threads": 2}]
    out = tmp_path / "report.html"
    assert main(["report", ids[0], "--store", str(path), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "execution layout" in page and "AMD EPYC 9454P 48-Core Processor" in page
