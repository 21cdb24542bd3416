import json
import os
import sqlite3
import subprocess
import sys

import pytest

from phenolab.cli import main
from tests.conftest import TINY

TINY_ARGS = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_end_to_end_run_groks_prints_json_and_writes_report(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    code, out, err = run_cli(capsys, "run", "grokking", *TINY_ARGS, "--store", store, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {"run_id", "t_fit", "t_gen", "phase", "seconds", "report"} <= set(result)
    assert result["phase"] == "grokking" and result["t_gen"] > 2 * result["t_fit"]
    html = open(result["report"], encoding="utf-8").read()
    assert "data:image/png;base64," in html and "grokking" in html and "t_gen" in html
    assert "<script src" not in html and "<link" not in html  # self-contained
    assert "number embedding, 2-D projection" in html  # x+y with a token embedding: the circle

    # the identical config is found, not trained again; `runs` lists it
    code, out, _ = run_cli(capsys, "run", *TINY_ARGS, "--store", store, "--json")
    again = json.loads(out)
    assert again["cached"] and again["run_id"] == result["run_id"]
    code, out, _ = run_cli(capsys, "runs", "--store", store)
    assert code == 0 and result["run_id"] in out and "grokking" in out
    code, out, _ = run_cli(capsys, "runs", "--store", store, "--json")
    assert json.loads(out)[0]["run_id"] == result["run_id"]

    # `report` by id prefix
    target = tmp_path / "r.html"
    code, out, _ = run_cli(
        capsys, "report", result["run_id"][:6], "--store", store, "--out", str(target)
    )
    assert code == 0 and target.exists()


def test_human_output_names_events_phase_and_report(tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "run", *TINY_ARGS, "--steps", "300", "--store", str(tmp_path / "runs.db")
    )
    assert code == 0
    for word in ("t_fit", "t_gen", "phase", "report"):
        assert word in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--op", "x%y"], "op: unknown operation 'x%y'"),
        (["run", "--op", "x/y", "--p", "96"], "p: x/y needs a prime modulus"),
        (["run", "--frac", "1.2"], "frac: train fraction must be in (0, 1)"),
        (["run", "--frac", "0"], "frac: train fraction must be in (0, 1)"),
        (["run", "--widht", "3"], "unknown option or config field: --widht"),
        (["run", "--widht", "3"], "did you mean --width?"),
        (["run", "--p", "ninety"], "p: expected int"),
        (["run", "--model", "resnet"], "model: unknown 'resnet'"),
        (["run", "nope"], "unknown preset 'nope'"),
        (["run", "--store", "/proc/phenolab.db"], "not writable"),
        (["run", "--store", "/no/such/dir/x.db"], "does not exist"),
        (["run", "--config", "/no/such/file.json"], "config: cannot read"),
        (["report", "ffff", "--store", "STORE"], "no run 'ffff'"),
        (["run", "--device", "cuda:7"], "device:"),
        (["run", "--device", "tpu"], "device:"),
    ],
)
def test_bad_input_gets_one_line_and_exit_status_2(argv, message, tmp_path, capsys):
    argv = [str(tmp_path / "runs.db") if a == "STORE" else a for a in argv]
    if "--store" not in argv:
        argv += ["--store", str(tmp_path / "runs.db")]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.startswith("phenolab: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_field_in_config_file(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"task": {"p": 31, "colour": "red"}}))
    code, _, err = run_cli(
        capsys, "run", "--config", str(path), "--store", str(tmp_path / "runs.db")
    )
    assert code == 2 and "unknown config field 'colour'" in err


def test_console_script_runs_in_a_fresh_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "phenolab",
            "run",
            *TINY_ARGS,
            "--steps",
            "100",
            "--no-report",
            "--store",
            str(tmp_path / "runs.db"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["run_id"]
    bad = subprocess.run(
        [sys.executable, "-m", "phenolab", "run", "--op", "x%y"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_seeds_and_grids_train_one_ensemble_and_summarize(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    grid = ["run", *TINY_ARGS, "--steps", "500", "--wd", "0.1,1", "--seeds", "2"]
    code, out, err = run_cli(capsys, *grid, "--workers", "1", "--store", store, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["members"]) == 4 and result["varying"] == ["seed", "wd"]
    assert [(m["wd"], m["seed"]) for m in result["members"]] == [
        (0.1, 0),
        (0.1, 1),
        (1.0, 0),
        (1.0, 1),
    ]
    by_wd = {g["values"]["wd"]: g for g in result["groups"]}
    assert by_wd[1.0]["generalized"] == 2 and by_wd[1.0]["median_t_gen"] is not None
    assert result["shards"] == [4] and open(result["report"], encoding="utf-8").read()
    # every member is an ordinary stored run
    code, out, _ = run_cli(capsys, "runs", "--store", store, "--json")
    assert len(json.loads(out)) == 4
    # human output: a member table and a group table
    code, out, _ = run_cli(capsys, *grid, "--store", store)
    assert code == 0 and "median t_gen" in out and "wd=1.0" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--p", "31,37"], "p: only one value allowed"),
        (["--seeds", "0"], "seeds: must be at least 1"),
        (["--seeds", "2", "--seed", "1,2"], "either --seeds N or a list of --seed values"),
        (["--max-members", "0", "--seeds", "2"], "max-members: must be at least 1"),
    ],
)
def test_bad_ensemble_requests(argv, message, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", *argv, "--store", str(tmp_path / "r.db"))
    assert code == 2 and message in err and err.count("\n") == 1


def test_ctrl_c_checkpoints_and_the_same_command_resumes(tmp_path):
    """Independent of the machine's speed: the run is far longer than the test waits, each
    Ctrl-C is sent once the store shows the progress it needs, and the resumed process is
    interrupted too, once it has trained past the checkpoint."""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    store = str(tmp_path / "runs.db")
    cmd = [
        sys.executable,
        "-m",
        "phenolab",
        "run",
        *TINY_ARGS,
        "--steps",
        "1000000",
        "--eval-every",
        "200",
        "--checkpoint-seconds",
        "0",
        "--no-report",
        "--store",
        store,
        "--json",
    ]

    def wait_for(proc, query):
        """Poll the store until `query` gives a true value (the process still running)."""
        while True:
            time.sleep(0.2)
            assert proc.poll() is None, proc.communicate()[1]
            if os.path.exists(store):
                try:
                    with sqlite3.connect(store) as db:
                        value = db.execute(query).fetchone()
                except sqlite3.OperationalError:  # tables not created yet
                    continue
                if value and value[0]:
                    return value[0]

    def interrupt(proc):
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate()
        assert proc.returncode == 130, err
        assert "interrupted at step" in err and "Traceback" not in err
        return err

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(proc, "SELECT MAX(step) FROM checkpoints")
    interrupt(proc)
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (status,) = db.execute("SELECT status FROM runs").fetchone()
        (step,) = db.execute("SELECT step FROM checkpoints").fetchone()
    assert status == "interrupted" and step > 0
    # the same command resumes the same run from its checkpoint
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(proc, f"SELECT MAX(step) > {step} FROM metrics")
    err = interrupt(proc)
    assert "resuming run" in err and f"from step {step:,}" in err
    with sqlite3.connect(store) as db:
        steps = [s for (s,) in db.execute("SELECT DISTINCT step FROM metrics ORDER BY step")]
        rows = db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        names = db.execute("SELECT COUNT(DISTINCT name) FROM metrics").fetchone()[0]
    assert steps[-1] > step and rows == len(steps) * names  # no step recorded twice or lost


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--p", "100003"], "p 100003"),
        (["--width", "10000000"], "width 10000000"),
    ],
)
def test_sizes_beyond_memory_are_refused_before_allocating(argv, message, tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", *argv, "--store", str(tmp_path / "r.db"))
    assert code == 2 and "size: one member needs" in err and message in err
    assert "GiB free" in err and err.count("\n") == 1
