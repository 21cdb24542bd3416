import json
import os
import sqlite3
import subprocess
import sys

import pytest

from phenolab.cli import main
from phenolab.config.presets import preset
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


LONG_RUN = [*TINY_ARGS, "--steps", "1000000", "--eval-every", "200", "--checkpoint-seconds", "0"]


def _cli(store: str) -> list[str]:
    """`phenolab run` of a run far longer than any test waits, checkpointing at every eval."""
    return [
        sys.executable,
        "-m",
        "phenolab",
        "run",
        *LONG_RUN,
        "--no-report",
        "--store",
        store,
        "--json",
    ]


def _start(cmd: list[str]) -> subprocess.Popen:
    """The command in a child process that takes Ctrl-C as a terminal's process does: a test
    run started in the background (CI, `cmd &`) inherits SIGINT ignored, and Python then never
    raises KeyboardInterrupt, so the child gets SIGINT's default disposition back first."""
    import signal

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(proc: subprocess.Popen, store: str, query: str):
    """Poll the store until `query` gives a true value (the process still running): waits on
    progress, not on a clock, so that a slow or loaded machine only makes it slower."""
    import time

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


def _interrupt(proc: subprocess.Popen) -> str:
    import signal

    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted at step" in err and "Traceback" not in err
    return err


def test_ctrl_c_checkpoints_and_the_same_command_resumes(tmp_path):
    """Independent of the machine's speed: the run is far longer than the test waits, each
    Ctrl-C is sent once the store shows the progress it needs, and the resumed process is
    interrupted too, once it has trained past the checkpoint."""
    store = str(tmp_path / "runs.db")
    proc = _start(_cli(store))
    _wait_for(proc, store, "SELECT MAX(step) FROM checkpoints")
    _interrupt(proc)
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (status,) = db.execute("SELECT status FROM runs").fetchone()
        (step,) = db.execute("SELECT step FROM checkpoints").fetchone()
    assert status == "interrupted" and step > 0
    # the same command resumes the same run from its checkpoint
    proc = _start(_cli(store))
    _wait_for(proc, store, f"SELECT MAX(step) > {step} FROM metrics")
    err = _interrupt(proc)
    assert "resuming run" in err and f"from step {step:,}" in err
    with sqlite3.connect(store) as db:
        steps = [s for (s,) in db.execute("SELECT DISTINCT step FROM metrics ORDER BY step")]
        rows = db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        names = db.execute("SELECT COUNT(DISTINCT name) FROM metrics").fetchone()[0]
    assert steps[-1] > step and rows == len(steps) * names  # no step recorded twice or lost


def test_a_run_is_trained_by_one_process_and_a_killed_one_resumes(tmp_path):
    """A second command for a run another process is training says who holds it (exit 2)
    instead of writing the same run; after `kill -9` the run reads interrupted, not running,
    and the same command takes it over and resumes."""
    import signal

    store = str(tmp_path / "runs.db")
    first = _start(_cli(store))
    _wait_for(first, store, "SELECT MAX(step) FROM checkpoints")
    second = _start(_cli(store))
    _, err = second.communicate()
    assert second.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("phenolab: error: run") and "Traceback" not in err
    assert f"being trained by process {first.pid}" in last
    first.send_signal(signal.SIGKILL)
    first.communicate()
    listed = subprocess.run(
        [sys.executable, "-m", "phenolab", "runs", "--store", store, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert [r["status"] for r in json.loads(listed.stdout)] == ["interrupted"], listed.stdout
    with sqlite3.connect(store) as db:
        (step,) = db.execute("SELECT step FROM checkpoints").fetchone()
    third = _start(_cli(store))
    _wait_for(third, store, f"SELECT MAX(step) > {step} FROM metrics")
    err = _interrupt(third)
    assert f"from step {step:,}" in err


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _gone(pid: int) -> bool:
    """Exited (or a zombie nobody reaped yet: it trains no more)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")
def test_workers_of_a_killed_command_checkpoint_and_stop(tmp_path):
    """`kill -9` of a command training shards in worker processes: the workers notice that
    their parent is gone, checkpoint and stop (they do not train on for nobody), and the same
    command resumes both runs. Waits on the store and on the processes, not on a clock (the
    600 s bound only ends a test that would otherwise hang)."""
    import signal
    import time

    store = str(tmp_path / "runs.db")
    cmd = [*_cli(store), "--seeds", "2", "--workers", "2"]
    first = _start(cmd)
    _wait_for(first, store, "SELECT COUNT(DISTINCT run_id) = 2 FROM checkpoints")
    workers = [p for p in _children(first.pid) if p != first.pid]
    assert len(workers) >= 2
    first.send_signal(signal.SIGKILL)
    first.communicate()
    deadline = time.monotonic() + 600
    while not all(_gone(p) for p in workers):
        assert time.monotonic() < deadline, "the workers of a killed command kept training"
        time.sleep(0.2)
    with sqlite3.connect(store) as db:
        statuses = [s for (s,) in db.execute("SELECT status FROM runs")]
        steps = [s for (s,) in db.execute("SELECT step FROM checkpoints")]
    assert statuses == ["interrupted"] * 2 and all(s > 0 for s in steps)
    again = _start(cmd)
    _wait_for(again, store, f"SELECT MIN(step) > {max(steps)} FROM checkpoints")
    err = _interrupt(again)
    assert "resuming" in err


# -- one parser per command; shared options declared once ----------------------------------------

# A command line of every command, with the flags users have today, and what each must parse to.
OLD_COMMAND_LINES = [
    (
        "run nanda --config c.json --store s.db --device cpu --json --report r.html --fast "
        "--seeds 3 --max-members 2 --workers 1 --intervention grokfast-ema "
        "--checkpoint-seconds 5 --wd 0.1,1 --split_seed 4 --no-report",
        dict(
            preset_name="nanda",
            config="c.json",
            store="s.db",
            device="cpu",
            json=True,
            report="r.html",
            fast=True,
            seeds=3,
            max_members=2,
            workers=1,
            intervention=["grokfast-ema"],
            checkpoint_seconds=5.0,
            field_wd="0.1,1",
            field_split_seed="4",
            no_report=True,
        ),
    ),
    ("run --preset grokking", dict(preset_flag="grokking", seeds=None, checkpoint_seconds=30.0)),
    (
        "compare --arm grokfast-ema --arm set:wd=0.1 --baseline nanda --seeds 2 --matched "
        "--resamples 100 --config c.json --intervention x --store s.db --device cpu --json "
        "--report r.html --no-report --fast --workers 2 --max-members 4 --checkpoint-seconds 1 "
        "--lr 0.01",
        dict(
            arm=["grokfast-ema", "set:wd=0.1"],
            baseline="nanda",
            seeds=2,
            matched=True,
            resamples=100,
            intervention=["x"],
            workers=2,
            max_members=4,
            checkpoint_seconds=1.0,
            field_lr="0.01",
        ),
    ),
    ("compare --arm a", dict(baseline="grokking", seeds=5, resamples=2000, workers=None)),
    ("catalog show power2022 --json --store s.db", dict(action="show", entry_id="power2022")),
    (
        "reproduce power2022 --quick --seeds 2 --workers 1 --device cpu --fast --json "
        "--report r.html --no-report --store s.db",
        dict(entry_id="power2022", quick=True, seeds=2, workers=1, fast=True, no_report=True),
    ),
    (
        "imp lenet --config c.json --rounds 2 --rate 0.5 --scope layer --seeds 2 "
        "--controls none --figure f.png --store s.db --device cpu --workers 1 --fast "
        "--checkpoint-seconds 3 --json --steps 10",
        dict(
            preset_name="lenet",
            rounds=2,
            rate=0.5,
            field_prune_scope="layer",
            seeds=2,
            controls="none",
            figure="f.png",
            checkpoint_seconds=3.0,
            field_steps="10",
        ),
    ),
    ("imp", dict(rounds=5, rate=0.2, seeds=1, controls="reinit,random", checkpoint_seconds=30.0)),
    ("interventions --json", dict(json=True)),
    ("runs --store s.db --json", dict(store="s.db", json=True)),
    ("runs", dict(store="phenolab.db", json=False)),
    ("report abc --store s.db --out o.html", dict(run_id="abc", out="o.html")),
    (
        "interpolate aaa bbb --split train --points 5 --align --json --store s.db",
        dict(run_a="aaa", run_b="bbb", split="train", points=5, align=True, json=True),
    ),
]


@pytest.mark.parametrize("line, expected", OLD_COMMAND_LINES)
def test_every_command_parses_the_flags_it_always_took(line, expected):
    from phenolab.cli import build_parser

    argv = line.split()
    args = build_parser().parse_args(argv)
    assert args.command == argv[0] and args.handler.__name__ == f"cmd_{argv[0]}"
    assert {k: getattr(args, k) for k in expected} == expected


def test_shared_options_have_one_help_text_in_every_command():
    from phenolab.cli import build_parser

    helps: dict[str, set[str]] = {}
    commands = build_parser().commands
    for command in commands.values():
        for action in command._actions:
            for flag in action.option_strings:
                helps.setdefault(flag, set()).add(action.help)
    for flag in ("--device", "--workers", "--store", "--fast", "--json", "--report", "--lr"):
        assert len(helps[flag]) == 1, (flag, helps[flag])
    assert {"run", "compare", "catalog", "reproduce", "imp", "runs", "report"} <= set(commands)


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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--no-reprot"], "did you mean --no-report?"),
        (["run", "--wdd", "1"], "did you mean --wd?"),
        (["runs", "--jsn"], "unknown option: --jsn (did you mean --json? see `phenolab runs"),
        (["run", "--workers", "0"], "workers: must be at least 1, got 0"),
        (["compare", "--arm", "a", "--resamples", "x"], "resamples: expected an integer"),
    ],
)
def test_unknown_and_bad_options_name_the_command_and_the_closest_option(argv, message, capsys):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "content, kind",
    [("[1, 2]", "a list"), ('"p=97"', "a string"), ("97", "a number"), ("null", "null")],
)
def test_a_config_file_that_is_not_an_object_is_a_one_line_error(content, kind, tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(content)
    for command in (["run"], ["compare", "--arm", "set:wd=0.1"], ["imp"]):
        argv = [*command, "--config", str(path), "--store", str(tmp_path / "r.db")]
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and err.count("\n") == 1, err
        assert f"config: {str(path)!r} holds {kind}; expected a JSON object" in err


def test_a_list_field_given_a_number_in_a_config_file_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"train": {"betas": 5}}))
    code, _, err = run_cli(capsys, "run", "--config", str(path), "--store", str(tmp_path / "r.db"))
    assert code == 2 and "betas: expected a list or comma-separated values, got 5" in err


# -- large grids ----------------------------------------------------------------------------------


def test_grid_members_are_the_configs_from_flat_builds_with_the_same_ids():
    """expand() derives members from one validated template; each must equal (and hash like)
    the config built from its flat values, in the same order, whichever field varies first."""
    from phenolab.config import RunConfig, from_flat
    from phenolab.sweep.grid import expand, varying_fields

    base = RunConfig().flat() | {"steps": 10, "seed": 3}
    grid = {"seed": ["1", "2"], "frac": ["0.3", "0.5"], "wd": ["0", "1e-1"]}
    members = expand(base, grid, None)
    assert len(members) == 8 and len({c.run_id() for c in members}) == 8
    wanted = [
        from_flat({**base, "seed": s, "frac": f, "wd": w})
        for s in grid["seed"]
        for f in grid["frac"]
        for w in grid["wd"]
    ]
    assert members == wanted
    assert [c.run_id() for c in members] == [c.run_id() for c in wanted]
    assert varying_fields(members) == ["seed", "frac", "wd"]
    seeded = expand(base, {"lr": ["0.01", "0.001"]}, 3)
    assert [(c.train.lr, c.train.seed) for c in seeded] == [
        (lr, s) for lr in (0.01, 0.001) for s in (3, 4, 5)
    ]
    assert varying_fields(seeded) == ["seed", "lr"] and varying_fields(seeded[:1]) == []


def test_a_bad_value_in_any_grid_member_is_still_caught():
    from phenolab.config import RunConfig
    from phenolab.errors import ConfigError
    from phenolab.sweep.grid import expand

    with pytest.raises(ConfigError, match="lr: must be positive"):
        expand(RunConfig().flat(), {"lr": ["0.1", "-1"]}, 2)
    with pytest.raises(ConfigError, match="wd: expected float"):
        expand(RunConfig().flat(), {"wd": ["0.1", "heavy"]}, None)


def test_a_large_request_is_announced_before_its_members_are_built(tmp_path, capsys):
    """--steps 0 fails while the first member is built: the announcement came before it."""
    argv = ["run", "--seeds", "2000", "--lr", "0.1,1", "--steps", "0"]
    code, _, err = run_cli(capsys, *argv, "--store", str(tmp_path / "r.db"))
    lines = err.splitlines()
    assert code == 2 and len(lines) == 2
    assert lines[0].startswith("phenolab: 4,000 members (2 values of lr × 2,000 seeds)")
    assert lines[1] == "phenolab: error: steps: must be at least 1, got 0"
    code, _, err = run_cli(
        capsys, "run", "--seeds", "2", "--steps", "0", "--store", str(tmp_path / "r.db")
    )
    assert code == 2 and "members" not in err  # small requests say nothing extra


def test_the_grokking_preset_says_when_its_table_is_much_smaller_than_tuned(tmp_path, capsys):
    from phenolab.cli.run import small_table_note

    base = preset("grokking")
    assert small_table_note("grokking", [base]) is None  # p = 97: the table it was tuned on
    assert small_table_note("grokking", [base.replace(p=113)]) is None
    note = small_table_note("grokking", [base.replace(p=47)])
    assert note and "p = 47 at frac 0.3 trains on 663" in note and "--frac 0.45" in note
    assert small_table_note("grokking", [base.replace(p=47, frac=0.45)]) is None  # suffices
    assert small_table_note("nanda", [base.replace(p=47)]) is None  # not the preset it is about
    assert small_table_note("grokking", [base.replace(p=47, batch_size=512)]) is None
    store = str(tmp_path / "s.db")
    code, _, err = run_cli(
        capsys, "run", "--p", "47", "--steps", "1", "--no-report", "--store", store
    )
    assert "phenolab: note: the grokking preset was tuned on p = 97" in err
