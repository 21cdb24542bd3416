"""One SQLite file (WAL mode) holding runs, their metric series, their latest checkpoint and the
weights a run was asked to keep at given steps (`keep_checkpoint_at`, for rewinding tickets).

Metrics are committed at every evaluation, so a crash loses at most what came after the last
checkpoint, and resuming recomputes exactly that (same config, same state → same values).
Every write is one transaction: a Ctrl-C or a kill never leaves a half-written run.
A run is trained by one process at a time: it holds the run's lease (lease.py) while it does.
Stores written before a table was added gain it on open (CREATE TABLE IF NOT EXISTS).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from phenolab.errors import StoreError
from phenolab.store import lease
from phenolab.store.errors import BLOB_ERRORS, store_error, store_errors, unreadable_blob

DEFAULT_PATH = "phenolab.db"
# the config section of a run phenolab did not train (io/watcher.py, io/detect.py): {"source":
# "watch" | "csv" | …, "name": …, "chance": …}, in place of task / model / train / start
EXTERNAL = "external"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,          -- full config JSON
    status TEXT NOT NULL,          -- running | interrupted | finished | failed
    created REAL NOT NULL,
    updated REAL NOT NULL,
    seconds REAL NOT NULL DEFAULT 0,   -- training wall time, across resumes
    env TEXT NOT NULL,             -- versions, device, threads, precision settings (JSON)
    summary TEXT                   -- events and phase once finished (JSON)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verdicts (   -- append-only: a verdict is never edited
    entry TEXT NOT NULL,
    variant TEXT NOT NULL,         -- quick | canonical
    created REAL NOT NULL,
    verdicts TEXT NOT NULL,        -- JSON list of {expectation, verdict, measured, threshold, ...}
    run_ids TEXT NOT NULL          -- JSON list of the runs judged
);
CREATE TABLE IF NOT EXISTS registrations (   -- the ledger, append-only (catalog/ledger.py)
    experiment TEXT NOT NULL,      -- the experiment's (entry's) id
    hash TEXT NOT NULL,            -- sha256 of its canonical content (arms + expectations)
    kind TEXT NOT NULL,            -- prereg (`phenolab prereg FILE`) | reproduced (a built-in)
    created REAL NOT NULL,
    version TEXT NOT NULL,         -- phenolab's version
    content TEXT NOT NULL,         -- the canonical content (JSON) that was hashed
    source TEXT,                   -- the experiment file's text, if it is one
    existing TEXT NOT NULL         -- JSON list of its run ids already in the store then
);
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id TEXT PRIMARY KEY,
    step INTEGER NOT NULL,
    seconds REAL NOT NULL,
    state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS kept (   -- model weights at chosen steps, never replaced by later ones
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS leases (   -- the process training a run (lease.py); no row: nobody
    run_id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    heartbeat REAL NOT NULL        -- time.time() of the owner's last evaluation
);
"""


# RunRecord's fields, then the run's lease (NULLs: none), which decides whether "running" is true
RUN_SELECT = (
    "SELECT r.id, r.config, r.status, r.created, r.updated, r.seconds, r.env, r.summary, "
    "l.pid, l.host, l.heartbeat FROM runs r LEFT JOIN leases l ON l.run_id = r.id"
)


@dataclass
class RunRecord:
    id: str
    config: dict[str, Any]
    status: str
    created: float
    updated: float
    seconds: float
    env: dict[str, Any]
    summary: dict[str, Any] | None

    @property
    def external(self) -> dict[str, Any] | None:
        """Where a run phenolab did not train came from (a watched loop, a log read by
        `detect`): its config's `external` section; None for phenolab's own runs."""
        return self.config.get(EXTERNAL)


@store_errors
class Store:
    def __init__(self, path: str | os.PathLike = DEFAULT_PATH) -> None:
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise StoreError(f"store: directory {parent!r} does not exist")
        if os.path.isdir(self.path):
            raise StoreError(f"store: {self.path!r} is a directory, not a file")
        if not os.access(parent, os.W_OK) or (
            os.path.exists(self.path) and not os.access(self.path, os.W_OK)
        ):
            raise StoreError(f"store: {self.path!r} is not writable")
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"store: {self.path!r} is not writable ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs -------------------------------------------------------------------------------
    def create_run(self, run_id: str, config: dict[str, Any], env: dict[str, Any]) -> None:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO runs (id, config, status, created, updated, env) VALUES (?,?,?,?,?,?)",
                (run_id, json.dumps(config), "running", now, now, json.dumps(env)),
            )

    def set_status(
        self,
        run_id: str,
        status: str,
        seconds: float | None = None,
        summary: dict[str, Any] | None = None,
        env: dict[str, Any] | None = None,
    ) -> None:
        sets, args = ["status = ?", "updated = ?"], [status, time.time()]
        for column, value in (("seconds", seconds), ("summary", summary), ("env", env)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value if column == "seconds" else json.dumps(value))
        with self.db:
            self.db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run, its status as it really is: "running" under a stale or missing lease (the
        owner crashed or was killed) reads "interrupted"."""
        row = self.db.execute(f"{RUN_SELECT} WHERE r.id = ?", (run_id,)).fetchone()
        return _record(row) if row else None

    def find_run(self, prefix: str) -> RunRecord:
        """The run whose id starts with `prefix` (ids are hex; a unique prefix is enough).
        The prefix is matched literally: `_` and `%` are characters, not wildcards."""
        rows = self.db.execute(
            f"{RUN_SELECT} WHERE substr(r.id, 1, length(?1)) = ?1", (prefix,)
        ).fetchall()
        if not rows:
            raise StoreError(f"no run {prefix!r} in {self.path}")
        if len(rows) > 1:
            raise StoreError(f"run id {prefix!r} is ambiguous: {', '.join(r[0] for r in rows)}")
        return _record(rows[0])

    def runs(self) -> Iterator[RunRecord]:
        """All runs, oldest first (read at once: a damaged file fails here, not mid-listing)."""
        rows = self.db.execute(f"{RUN_SELECT} ORDER BY r.created").fetchall()
        return iter([_record(row) for row in rows])

    # -- leases: one process trains a run (lease.py) ----------------------------------------
    def claim(self, run_ids: list[str], wait: float = 0.0) -> None:
        """Take the leases of all `run_ids` for this process, in one transaction. Leases this
        process holds already are kept; stale ones are taken over (a run they left "running"
        becomes "interrupted"). One held by another live process: look again until `wait`
        seconds have passed, then raise RunBusy naming that process."""
        lease.claim(self.db, run_ids, wait)

    def heartbeat(self, run_ids: list[str]) -> None:
        """Refresh this process's leases (at every evaluation; one UPDATE). RunBusy if one was
        taken over meanwhile: this process must stop writing that run."""
        lease.heartbeat(self.db, run_ids)

    def release(self, run_ids: list[str]) -> None:
        """Give up this process's leases of `run_ids`."""
        lease.release(self.db, run_ids)

    # -- metrics ----------------------------------------------------------------------------
    def append_metrics(self, step: int, rows: dict[str, dict[str, float]]) -> None:
        """Record one evaluation of several runs: {run_id: {name: value}}, in one transaction.
        A `time/seconds` value also becomes the run's training time."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO metrics (run_id, step, name, value) VALUES (?,?,?,?)",
                [
                    (rid, step, k, float(v))
                    for rid, values in rows.items()
                    for k, v in values.items()
                ],
            )
            now = time.time()
            self.db.executemany(
                "UPDATE runs SET seconds = ?, updated = ? WHERE id = ?",
                [(v["time/seconds"], now, rid) for rid, v in rows.items() if "time/seconds" in v],
            )

    def metrics(self, run_id: str) -> dict[str, tuple[list[int], list[float]]]:
        """{name: (steps, values)} in step order."""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for name, step, value in self.db.execute(
            "SELECT name, step, value FROM metrics WHERE run_id = ? ORDER BY name, step", (run_id,)
        ):
            steps, values = out.setdefault(name, ([], []))
            steps.append(step)
            values.append(value)
        return out

    def latest(self, run_ids: list[str], names: tuple[str, str]) -> tuple[int, list, list]:
        """The lowest latest step among `run_ids` and each run's latest values of two metrics."""
        marks = ",".join("?" * len(run_ids))
        rows = self.db.execute(
            f"SELECT m.run_id, m.name, m.step, m.value FROM metrics m JOIN ("
            f"  SELECT run_id, name, MAX(step) AS step FROM metrics"
            f"  WHERE run_id IN ({marks}) AND name IN (?, ?) GROUP BY run_id, name"
            f") last USING (run_id, name, step)",
            (*run_ids, *names),
        ).fetchall()
        first = {r: v for r, n, _, v in rows if n == names[0]}
        second = {r: v for r, n, _, v in rows if n == names[1]}
        steps = [s for _, n, s, _ in rows if n == names[0]]
        step = min(steps) if len(steps) == len(run_ids) else 0
        return step, list(first.values()), list(second.values())

    def drop_metrics_after(self, run_id: str, step: int) -> None:
        with self.db:
            self.db.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, step))

    # -- verdicts ---------------------------------------------------------------------------
    def add_verdicts(
        self, entry: str, variant: str, verdicts: list[dict], run_ids: list[str]
    ) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO verdicts (entry, variant, created, verdicts, run_ids) "
                "VALUES (?,?,?,?,?)",
                (entry, variant, time.time(), json.dumps(verdicts), json.dumps(run_ids)),
            )

    def last_verdicts(self, entry: str) -> tuple[str, float, list[dict]] | None:
        """(variant, time, verdicts) of the entry's latest reproduction in this store."""
        row = self.db.execute(
            "SELECT variant, created, verdicts FROM verdicts WHERE entry = ? "
            "ORDER BY created DESC LIMIT 1",
            (entry,),
        ).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def verdict_history(self, entry: str) -> list[dict]:
        """Every reproduction of `entry` in this store, oldest first: {variant, created,
        verdicts, run_ids}."""
        rows = self.db.execute(
            "SELECT variant, created, verdicts, run_ids FROM verdicts WHERE entry = ? "
            "ORDER BY created",
            (entry,),
        ).fetchall()
        return [
            {"variant": v, "created": c, "verdicts": json.loads(vs), "run_ids": json.loads(ids)}
            for v, c, vs, ids in rows
        ]

    # -- the ledger of registrations (append-only) ------------------------------------------
    def add_registration(self, row: dict) -> None:
        """Append a registration {experiment, hash, kind, created, version, content, source,
        existing}; rows are never edited or removed."""
        with self.db:
            self.db.execute(
                "INSERT INTO registrations (experiment, hash, kind, created, version, content, "
                "source, existing) VALUES (?,?,?,?,?,?,?,?)",
                (
                    row["experiment"],
                    row["hash"],
                    row["kind"],
                    row["created"],
                    row["version"],
                    json.dumps(row["content"], sort_keys=True),
                    row.get("source"),
                    json.dumps(row["existing"]),
                ),
            )

    def registrations(self, experiment: str) -> list[dict]:
        """The ledger's rows for `experiment`, oldest first."""
        rows = self.db.execute(
            "SELECT experiment, hash, kind, created, version, content, source, existing "
            "FROM registrations WHERE experiment = ? ORDER BY created, rowid",
            (experiment,),
        ).fetchall()
        keys = ("experiment", "hash", "kind", "created", "version", "content", "source")
        return [
            dict(zip(keys, r[:7], strict=True))
            | {"content": json.loads(r[5]), "existing": json.loads(r[7])}
            for r in rows
        ]

    def existing_runs(self, run_ids: list[str]) -> list[str]:
        """Those of `run_ids` that the store holds (in any status), in the given order."""
        held = set()
        for i in range(0, len(run_ids), 500):
            chunk = run_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            held |= {
                r[0] for r in self.db.execute(f"SELECT id FROM runs WHERE id IN ({marks})", chunk)
            }
        return [i for i in run_ids if i in held]

    def all_verdicts(self) -> list[tuple[str, str, float, list[dict], list[str]]]:
        """Every reproduction's verdicts, oldest first: (entry, variant, time, verdicts, run
        ids)."""
        rows = self.db.execute(
            "SELECT entry, variant, created, verdicts, run_ids FROM verdicts ORDER BY created"
        ).fetchall()
        return [(e, v, t, json.loads(vs), json.loads(ids)) for e, v, t, vs, ids in rows]

    # -- checkpoints ------------------------------------------------------------------------
    def save_checkpoints(self, step: int, members: dict[str, tuple[float, dict]]) -> None:
        """Replace the checkpoints of several runs at `step`: {run_id: (seconds, state)}."""
        rows = [(rid, step, seconds, _blob(state)) for rid, (seconds, state) in members.items()]
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO checkpoints (run_id, step, seconds, state) "
                "VALUES (?,?,?,?)",
                rows,
            )

    def checkpoint_step(self, run_id: str) -> int | None:
        """The step of a run's checkpoint (None: it has none), without loading it."""
        row = self.db.execute("SELECT step FROM checkpoints WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else row[0]

    def load_checkpoint(self, run_id: str) -> tuple[int, float, dict] | None:
        row = self.db.execute(
            "SELECT step, seconds, state FROM checkpoints WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            return None
        step, seconds, blob = row
        return step, seconds, self._unblob(run_id, blob)

    def keep_weights(self, step: int, members: dict[str, dict]) -> None:
        """Keep the model weights of several runs at `step`: {run_id: weights}. A resumed run
        passing `step` again writes the same weights again."""
        rows = [(run_id, step, _blob(weights)) for run_id, weights in members.items()]
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO kept (run_id, step, state) VALUES (?,?,?)", rows
            )

    def kept_weights(self, run_id: str, step: int) -> dict | None:
        """The weights `run_id` kept at `step`, or None."""
        row = self.db.execute(
            "SELECT state FROM kept WHERE run_id = ? AND step = ?", (run_id, step)
        ).fetchone()
        return self._unblob(run_id, row[0]) if row else None

    def kept_steps(self, run_id: str) -> list[int]:
        rows = self.db.execute("SELECT step FROM kept WHERE run_id = ? ORDER BY step", (run_id,))
        return [step for (step,) in rows]

    # -- copies of runs between stores (a remote worker trains into a store of its own) ------
    def export_runs(self, run_ids: list[str]) -> dict[str, list[tuple]]:
        """Everything stored of `run_ids` (those in this store): their rows of runs, metrics,
        checkpoints and kept weights, as plain tuples (`import_runs` writes them into another
        store). Leases are not copied: they belong to the process that trains here."""
        marks = ",".join("?" * len(run_ids))
        tables = {
            "runs": "id, config, status, created, updated, seconds, env, summary",
            "metrics": "run_id, step, name, value",
            "checkpoints": "run_id, step, seconds, state",
            "kept": "run_id, step, state",
        }
        out = {}
        for table, columns in tables.items():
            key = "id" if table == "runs" else "run_id"
            out[table] = self.db.execute(
                f"SELECT {columns} FROM {table} WHERE {key} IN ({marks})", run_ids
            ).fetchall()
        return out

    def import_runs(self, rows: dict[str, list[tuple]]) -> list[str]:
        """Write runs exported from another store (`export_runs`) into this one, in one
        transaction, replacing what this store had of them (their metric rows included); the
        ids written."""
        ids = [row[0] for row in rows["runs"]]
        marks = ",".join("?" * len(ids))
        with self.db:
            self.db.execute(f"DELETE FROM metrics WHERE run_id IN ({marks})", ids)
            self.db.executemany(
                "INSERT OR REPLACE INTO runs (id, config, status, created, updated, seconds, env,"
                " summary) VALUES (?,?,?,?,?,?,?,?)",
                rows["runs"],
            )
            self.db.executemany(
                "INSERT INTO metrics (run_id, step, name, value) VALUES (?,?,?,?)", rows["metrics"]
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO checkpoints (run_id, step, seconds, state)"
                " VALUES (?,?,?,?)",
                rows["checkpoints"],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO kept (run_id, step, state) VALUES (?,?,?)", rows["kept"]
            )
        return ids

    def _unblob(self, run_id: str, blob: bytes) -> Any:
        try:
            return torch.load(io.BytesIO(blob), weights_only=True)
        except BLOB_ERRORS as exc:
            raise unreadable_blob(self.path, run_id, exc) from None


def _blob(state: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def _record(row: tuple) -> RunRecord:
    rid, config, status, created, updated, seconds, env, summary, *owner = row
    return RunRecord(
        rid,
        json.loads(config),
        lease.shown_status(status, lease.lease_of(rid, *owner), time.time()),
        created,
        updated,
        seconds,
        json.loads(env),
        json.loads(summary) if summary else None,
    )
