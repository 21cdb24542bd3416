"""Shards as Ray tasks: on a local Ray cluster (`--ray`) or past one machine (`--ray ADDRESS`).

Every shard is one Ray task asking for its resources: one GPU when the device is CUDA, else
`threads` CPUs. The task trains its shard into a temporary store of its own on the worker (the
runs it resumes, and the runs its members start from, copied in first) with the same
`train_ensemble` as everywhere else, and returns every stored row of its runs. The driver alone
writes the SQLite store, one shard at a time as results arrive: the store stays the single
source, a run is finished there or it is not, and a sweep run again trains only what is
missing, with or without Ray. A worker that dies loses only its shard, which Ray runs again
from what the driver sent it, at most `max_retries` times. The same shards with the same threads
train the same curves as worker processes do (tests/test_cluster.py).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from phenolab.config import RunConfig, from_json
from phenolab.errors import UserError
from phenolab.run.environment import Layout, Options
from phenolab.run.result import RunInterrupted
from phenolab.store import Store

INSTALL = 'pip install "phenolab[ray]"'
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 60.0  # the driver's leases of the runs in flight (store/lease.py)
START_FIELDS = ("init_from", "ticket_from", "embed_from")  # a run another one starts from


def ray_module():
    """The `ray` package, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise UserError(f"ray: Ray is not installed; {INSTALL}") from None
    return ray


@dataclass(frozen=True)
class RayBackend:
    """Where `train_configs` sends its shards: the Ray cluster at `address` (None: a local
    cluster started in this process, or the one `ray.init` already connected to)."""

    address: str | None = None
    max_retries: int = 2  # runs of a shard again after its worker died

    def checked(self) -> RayBackend:
        """Itself, once Ray is found installed (else the one-line error naming the extra) and
        something answers at its address (Ray itself waits minutes on one nobody serves)."""
        ray_module()
        if self.address not in (None, "auto") and not self.address.startswith("ray://"):
            _reachable(self.address)
        return self

    def connect(self) -> None:
        ray = ray_module()
        if ray.is_initialized():
            return
        try:
            if self.address is None:
                ray.init(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
            else:
                ray.init(address=self.address, log_to_driver=False, logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a local cluster"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"ray: cannot connect to {where}: {first}") from None

    def slots(self, device: torch.device, threads: int) -> int:
        """Shards the cluster trains at once: its GPUs on CUDA, else its CPUs / `threads`."""
        resources = ray_module().cluster_resources()
        if device.type == "cuda":
            gpus = int(resources.get("GPU", 0))
            if gpus < 1:
                raise UserError("ray: device cuda, but the Ray cluster has no GPU")
            return gpus
        return max(1, int(resources.get("CPU", 1)) // threads)

    def train(
        self,
        shards: list[tuple[list[RunConfig], Layout]],
        store: Store,
        device: torch.device,
        threads: int,
        options: Options,
        report: Callable[[str], None],
    ) -> dict[str, tuple[int | None, bool]]:
        """Train every shard as a Ray task and write its runs into `store` as it arrives;
        {run id: (resumed_from, cached)}, as `workers.train_in_processes` returns."""
        ray = ray_module()
        resources = {"num_gpus": 1, "num_cpus": 1} if device.type == "cuda" else {}
        task = ray.remote(train_shard).options(
            max_retries=self.max_retries,
            retry_exceptions=False,  # a mistake in a config fails the same way again
            num_cpus=resources.get("num_cpus", threads),
            num_gpus=resources.get("num_gpus", 0),
        )
        on_worker = "cuda" if device.type == "cuda" else str(device)  # Ray picks the GPU
        ids = [c.run_id() for shard, _ in shards for c in shard]
        store.claim(ids)  # this process trains them (through Ray) until they are stored
        pending, done, failures = {}, {}, []
        try:
            for i, (shard, layout) in enumerate(shards):
                rows = store.export_runs(_needed(store, shard))
                configs = [c.to_json() for c in shard]
                ref = task.remote(configs, layout, on_worker, threads, options, rows)
                pending[ref] = i
            beat = time.monotonic()
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    i = pending.pop(ref)
                    try:
                        status, payload = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        failures.append(f"shard {i}: {_first_line(exc)}")
                        continue
                    if status == "user-error":
                        failures.append(payload)
                        continue
                    trained, rows = payload
                    store.import_runs(rows)
                    done.update(trained)
                    report(f"shard {i + 1} of {len(shards)} stored ({len(trained)} runs)")
                if time.monotonic() - beat > HEARTBEAT_SECONDS:
                    beat = time.monotonic()
                    store.heartbeat([r for r in ids if r not in done])
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise RunInterrupted([r for r in ids if r not in done], 0) from None
        finally:
            store.release(ids)
        if failures:
            raise RuntimeError(f"a shard failed on Ray: {failures[0]}")
        return done


def train_shard(config_json, layout, device, threads, options, rows):
    """A Ray task: one shard trained as one ensemble into a temporary store of its own, seeded
    with `rows` (runs it resumes or starts from); ("ok", ({run id: (resumed_from, cached)},
    every row of the shard's runs)) or ("user-error", message)."""
    from phenolab.run.ensemble import train_ensemble

    torch.set_num_threads(threads)
    configs = [from_json(c) for c in config_json]
    with tempfile.TemporaryDirectory(prefix="phenolab-shard-") as tmp:
        with Store(os.path.join(tmp, "shard.db")) as store:
            store.import_runs(rows)
            try:
                results = train_ensemble(configs, store, torch.device(device), (), options, layout)
            except UserError as exc:
                return "user-error", str(exc)
            trained = {r.record.id: (r.resumed_from, r.cached) for r in results}
            return "ok", (trained, store.export_runs([c.run_id() for c in configs]))


def _needed(store: Store, shard: list[RunConfig]) -> list[str]:
    """The runs a shard's worker needs: its own (to resume from their checkpoints) and every
    run its members start from, and theirs in turn."""
    ids = [c.run_id() for c in shard]
    todo = [getattr(c.start, f) for c in shard for f in START_FIELDS]
    seen: set[str] = set()
    while todo:
        run_id = todo.pop()
        if run_id is None or run_id in seen:
            continue
        seen.add(run_id)
        record = store.get_run(run_id)
        if record is not None:
            todo += [record.config.get("start", {}).get(f) for f in START_FIELDS]
    return ids + sorted(seen - set(ids))


def _reachable(address: str, seconds: float = 10.0) -> None:
    """A one-line error unless something listens at `address` (HOST:PORT)."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(
            f"ray: expected the address as HOST:PORT (e.g. 10.0.0.1:6379), got {address!r}"
        )
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        raise UserError(
            f"ray: nothing answers at {address} ({exc.strerror or exc}); start the cluster "
            "with `ray start --head` and give the address it prints"
        ) from None


def _first_line(exc: Exception) -> str:
    cause = getattr(exc, "cause", None)  # a task's own exception, inside Ray's
    if isinstance(cause, Exception):
        return f"{type(cause).__name__}: {cause}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
