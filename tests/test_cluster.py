"""The Ray backend (run/cluster.py) on a real local Ray cluster started here (127.0.0.1, 2 CPUs):
a sweep through Ray stores the same runs as worker processes do, and a Ray worker killed in the
middle of its shard costs only that shard, which Ray trains again."""

import json
import os
import signal
import sqlite3
import threading
import time

import pytest

from phenolab.config.presets import preset
from phenolab.run import Options, RayBackend, train_configs
from phenolab.store import Store
from phenolab.sweep.grid import sweep_configs

ray = pytest.importorskip("ray")

# two ensemble groups (widths) of 4 members (wd × seeds), one shard each for the 2 workers: 2
# shards of 4 runs, seconds each
BASE = preset("grokking").flat() | {"p": 23, "frac": 0.6, "steps": 300, "eval_every": 50}
GRID = {"width": ["16", "32"], "wd": ["0.5", "1"]}


@pytest.fixture(scope="module")
def cluster():
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        logging_level="WARNING",
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def configs():
    return sweep_configs(BASE, GRID, seeds=2)


@pytest.fixture(scope="module")
def local(configs, tmp_path_factory):
    """The sweep trained without Ray: 2 worker processes, 1 thread each."""
    store = Store(tmp_path_factory.mktemp("local") / "runs.db")
    return store, train_configs(configs, store, "cpu", workers=2)


def curves(store, run_id):
    """A run's stored metrics, its wall-clock times left out."""
    return {k: v for k, v in store.metrics(run_id).items() if not k.startswith("time/")}


def assert_same_runs(store, results, local_store, local_results):
    """Same ids, same layout, the same metrics to the last bit: the same shards train the same
    ensembles with one thread each, only in another process."""
    assert [r.record.id for r in results] == [r.record.id for r in local_results]
    for r, expected in zip(results, local_results, strict=True):
        assert r.record.status == "finished"
        assert r.record.env["layout"] == expected.record.env["layout"]
        assert r.record.summary == expected.record.summary
        assert curves(store, r.record.id) == curves(local_store, r.record.id)
        assert r.events == expected.events


def test_a_sweep_through_ray_stores_the_same_runs(cluster, configs, local, tmp_path):
    store = Store(tmp_path / "ray.db")
    lines = []
    results = train_configs(
        configs,
        store,
        "cpu",
        options=Options(backend=RayBackend()),
        on_progress=lambda p: p.message and lines.append(p.message),
    )
    assert any("2 shard(s) [4, 4]" in line and "2 Ray task(s)" in line for line in lines), (
        lines
    )
    assert sum("stored" in line for line in lines) == 2
    assert_same_runs(store, results, *local)
    # run again: everything is found in the store, nothing goes to Ray
    again = train_configs(configs, store, "cpu", options=Options(backend=RayBackend()))
    assert all(r.cached for r in again)


def test_a_killed_ray_worker_costs_only_its_shard(cluster, configs, local, tmp_path):
    store = Store(tmp_path / "ray.db")
    killed = []

    def kill_first_shard():
        """SIGKILL the first worker seen training a shard (its title is ray::train_shard)."""
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        title = f.read()
                except (FileNotFoundError, NotADirectoryError, PermissionError):
                    continue
                if title.startswith(b"ray::train_shard"):
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(int(pid))
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_shard)
    killer.start()
    results = train_configs(
        configs, store, "cpu", options=Options(backend=RayBackend(max_retries=2))
    )
    killer.join()
    assert killed, "no Ray worker was seen training a shard"
    assert_same_runs(store, results, *local)
    store.close()
    with sqlite3.connect(tmp_path / "ray.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM leases").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM runs WHERE status = 'finished'").fetchone() == (8,)
        assert db.execute("SELECT count(*) FROM checkpoints").fetchone() == (8,)


def test_sweep_ray_on_the_command_line(cluster, tmp_path, capsys):
    """`phenolab sweep --ray` reaches the cluster through the one door (its plan line says so)
    and stores what it trains."""
    from phenolab.cli import main

    argv = ["sweep", "--grid", "wd=0.5,1", "--p", "23", "--steps", "40", "--eval-every", "20"]
    argv += ["--no-report", "--ray", "--store", str(tmp_path / "r.db"), "--json"]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "Ray task(s)" in out.err
    assert len(json.loads(out.out)["members"]) == 2


@pytest.mark.parametrize(
    "address, message",
    [("127.0.0.1:1", "ray: nothing answers at 127.0.0.1:1"), ("nohost", "as HOST:PORT")],
)
def test_a_ray_address_nobody_serves_is_one_line(address, message, tmp_path, capsys):
    from phenolab.cli import main

    argv = ["sweep", "--grid", "wd=0.5,1", "--steps", "40", "--ray", address]
    code = main([*argv, "--store", str(tmp_path / "r.db")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.db").exists()
