"""Run leases: the one process that trains a run, so that two never write the same run.

Without them a second `phenolab run` of a config another process is training "resumes" from
that process's checkpoint and deletes the metric rows it is still writing, and a run killed with
`kill -9` reads "running" forever. A lease is a row (run id, owner pid, host, heartbeat time)
taken in one IMMEDIATE transaction for all members of an ensemble, refreshed at every
evaluation and deleted when the run stops. A lease whose owner is gone is *stale* and is taken
over; a run still marked "running" under a stale or missing lease is read as "interrupted".

Stale means: the owner ran on this host and its pid no longer exists (a crash or `kill -9`,
seen at once), or its last heartbeat is older than STALE_SECONDS (an owner on another host, or
a pid reused since by an unrelated process). Heartbeats are wall-clock times (`time.time()`),
compared across hosts: clocks that disagree by minutes shift the second rule by as much.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass

from phenolab.errors import UserError

# The heartbeat comes at every evaluation. Between two evaluations our CPU presets take seconds
# and the canonical GPU entries well under a minute; a machine loaded by other jobs (the issue
# measured 6x slow-downs with two jobs on two cores) stretches a one-minute gap to several. Ten
# minutes keeps a live lease from looking stale with that margin; its cost is that a run killed
# on *another* host waits ten minutes before it may be taken over (on the same host a dead pid
# is seen at once).
STALE_SECONDS = 600.0

# How often a waiting claim looks again: leases change at most once per evaluation.
POLL_SECONDS = 0.5


class RunBusy(UserError):
    """Another live process holds the lease of a run this process asked to train."""


@dataclass(frozen=True)
class Lease:
    run_id: str
    pid: int
    host: str
    heartbeat: float

    def is_mine(self) -> bool:
        return (self.pid, self.host) == this_process()

    def is_stale(self, now: float) -> bool:
        if now - self.heartbeat > STALE_SECONDS:
            return True
        return self.host == socket.gethostname() and not process_exists(self.pid)

    def busy_message(self, now: float) -> str:
        return (
            f"run {self.run_id} is being trained by process {self.pid} on host {self.host} "
            f"(last heartbeat {max(0.0, now - self.heartbeat):.0f} s ago): wait for it to "
            f"finish, or stop it"
        )


def this_process() -> tuple[int, str]:
    """(pid, host) of the caller: read each time, so that a forked worker is its own owner."""
    return os.getpid(), socket.gethostname()


def process_exists(pid: int) -> bool:
    """Whether `pid` names a process on this host (a zombie not yet reaped still counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def shown_status(status: str, lease: Lease | None, now: float) -> str:
    """What a run's status really is: "running" only while a live process holds its lease."""
    if status == "running" and (lease is None or lease.is_stale(now)):
        return "interrupted"
    return status


def lease_of(run_id: str, pid: int | None, host: str | None, heartbeat: float | None):
    """The Lease from a LEFT JOIN's columns (None: the run has none)."""
    return None if pid is None else Lease(run_id, pid, host, heartbeat)


def try_claim(db: sqlite3.Connection, run_ids: list[str]) -> Lease | None:
    """Take the leases of all `run_ids` in one IMMEDIATE transaction, or none of them: returns
    None when taken, else the live lease of another process that stands in the way."""
    pid, host = this_process()
    ids = json.dumps(list(dict.fromkeys(run_ids)))
    db.execute("BEGIN IMMEDIATE")  # the write lock first: no claim can slip in between
    try:
        now = time.time()
        held = [
            Lease(*row)
            for row in db.execute(
                "SELECT run_id, pid, host, heartbeat FROM leases "
                "WHERE run_id IN (SELECT value FROM json_each(?))",
                (ids,),
            )
        ]
        live = [lease for lease in held if not lease.is_mine() and not lease.is_stale(now)]
        if live:
            db.rollback()
            return live[0]
        mine = json.dumps([lease.run_id for lease in held if lease.is_mine()])
        # the process that left these runs "running" is gone: say so before training again
        db.execute(
            "UPDATE runs SET status = 'interrupted', updated = ? WHERE status = 'running' "
            "AND id IN (SELECT value FROM json_each(?)) "
            "AND id NOT IN (SELECT value FROM json_each(?))",
            (now, ids, mine),
        )
        db.execute(
            "INSERT OR REPLACE INTO leases (run_id, pid, host, heartbeat) "
            "SELECT value, ?, ?, ? FROM json_each(?)",
            (pid, host, now, ids),
        )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return None


def claim(db: sqlite3.Connection, run_ids: list[str], wait: float) -> None:
    """try_claim until it succeeds or `wait` seconds have passed (then RunBusy)."""
    deadline = time.monotonic() + wait
    while (busy := try_claim(db, run_ids)) is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RunBusy(busy.busy_message(time.time()))
        time.sleep(min(POLL_SECONDS, left))


def heartbeat(db: sqlite3.Connection, run_ids: list[str]) -> None:
    """Refresh this process's leases of `run_ids`: one UPDATE. A lease that is no longer this
    process's (taken over after it was silent for STALE_SECONDS) raises RunBusy: training on
    would make two writers of one run."""
    pid, host = this_process()
    ids = list(dict.fromkeys(run_ids))
    with db:
        updated = db.execute(
            "UPDATE leases SET heartbeat = ? WHERE pid = ? AND host = ? "
            "AND run_id IN (SELECT value FROM json_each(?))",
            (time.time(), pid, host, json.dumps(ids)),
        ).rowcount
    if updated < len(ids):
        rows = db.execute(
            "SELECT run_id, pid, host, heartbeat FROM leases "
            "WHERE run_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        ).fetchall()
        others = {row[0]: Lease(*row) for row in rows if (row[1], row[2]) != (pid, host)}
        lost = next(r for r in ids if r in others or r not in {row[0] for row in rows})
        holder = (
            f"process {others[lost].pid} on host {others[lost].host} holds it now"
            if lost in others
            else "it was released"
        )
        raise RunBusy(
            f"run {lost} is no longer leased to this process ({holder}; a lease is taken over "
            f"after {STALE_SECONDS:.0f} s without a heartbeat): this process stops training it"
        )


def release(db: sqlite3.Connection, run_ids: list[str]) -> None:
    """Give up this process's leases of `run_ids` (another process's are left alone)."""
    pid, host = this_process()
    with db:
        db.execute(
            "DELETE FROM leases WHERE pid = ? AND host = ? "
            "AND run_id IN (SELECT value FROM json_each(?))",
            (pid, host, json.dumps(list(dict.fromkeys(run_ids)))),
        )
