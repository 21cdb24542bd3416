"""`phenolab sweep`: a grid over any config fields (issue 17's first step), through the one
door; a sweep run again trains only what is missing."""

import json
import math

import pytest

from phenolab.cli import main
from phenolab.config import ensemble_groups, from_flat
from phenolab.config.presets import preset
from phenolab.errors import ConfigError
from phenolab.sweep.grid import grid_values, sweep_configs

TINY = ["--p", "23", "--frac", "0.6", "--steps", "60", "--eval-every", "20", "--no-report"]


@pytest.mark.parametrize(
    "text, values",
    [
        ("0.1,0.3,1", ["0.1", "0.3", "1"]),
        ("0.1:0.3:0.05", ["0.1", "0.15", "0.2", "0.25", "0.3"]),
        ("32:128:32", ["32", "64", "96", "128"]),
        ("1:1:1", ["1"]),
    ],
)
def test_grid_values(text, values):
    assert grid_values(text) == values


@pytest.mark.parametrize("text", ["1,,2", "a:b:c", "1:0:1", "0:1:0", "0:1:-1"])
def test_bad_grid_values_are_refused(text):
    with pytest.raises(ConfigError, match="grid"):
        grid_values(text)


def test_sweep_configs_are_the_product_in_order_with_the_usual_ids():
    base = preset("grokking").flat()
    grid = {"width": ["16", "32"], "wd": ["0.5", "1"]}
    configs = sweep_configs(base, grid, seeds=2)
    expected = [
        from_flat({**base, "width": w, "wd": wd, "seed": s})
        for w in ("16", "32")
        for wd in ("0.5", "1")
        for s in (0, 1)
    ]
    assert [c.run_id() for c in configs] == [c.run_id() for c in expected]
    # widths fix shapes: two ensemble groups, each batching its weight decays and seeds
    assert [len(g) for g in ensemble_groups(configs)] == [4, 4]


def test_interventions_are_not_a_grid():
    with pytest.raises(ConfigError, match="phenolab compare"):
        sweep_configs(preset("grokking").flat(), {"interventions": ["orthograd"]}, None)


def sweep(capsys, store, *grid):
    argv = ["sweep", *(a for g in grid for a in ("--grid", g)), *TINY, "--store", store]
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_sweep_run_again_trains_only_what_is_missing(tmp_path, capsys):
    store = str(tmp_path / "sweep.db")
    first = sweep(capsys, store, "width=16,32", "wd=0.5,1")
    assert len(first["members"]) == 4 and first["varying"] == ["width", "wd"]
    assert not any(m["cached"] for m in first["members"])
    # the plan, printed before training: two ensemble groups (widths), memory per member
    plan = first["plan"]
    assert plan["runs"] == 4 and plan["groups"] == 2 and sum(plan["shards"]) == 4
    assert 0 < plan["bytes_per_member"] < plan["free_bytes"] and plan["fit_per_shard"] >= 1
    assert [g["values"] for g in first["groups"]] == [
        {"width": 16, "wd": 0.5},
        {"width": 16, "wd": 1.0},
        {"width": 32, "wd": 0.5},
        {"width": 32, "wd": 1.0},
    ]
    grown = sweep(capsys, store, "width=16,32,48", "wd=0.5,1")
    cached = {(m["width"], m["wd"]): m["cached"] for m in grown["members"]}
    assert cached == {(w, wd): w != 48 for w in (16, 32, 48) for wd in (0.5, 1.0)}
    assert grown["plan"]["runs"] == 2 and grown["plan"]["found"] == 4
    ids = {(m["width"], m["wd"]): m["run_id"] for m in grown["members"]}
    assert all(ids[(m["width"], m["wd"])] == m["run_id"] for m in first["members"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--grid", "nope=1,2"], "grid: unknown config field 'nope'"),
        (["--grid", "wd"], "grid: expected FIELD=VALUES"),
        (["--grid", "wd=1", "--grid", "wd=2"], "grid: wd given twice"),
        (["--grid", "wd=1", "--lr", "0.1,0.2"], "lr: give a sweep's lists with --grid"),
    ],
)
def test_bad_sweeps_are_one_line(argv, message, tmp_path, capsys):
    code = main(["sweep", *argv, "--store", str(tmp_path / "r.db")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_sweep_draws_its_phase_diagram(tmp_path, capsys):
    store, out = str(tmp_path / "sweep.db"), tmp_path / "diagram.svg"
    argv = ["--grid", "width=16,32", "--grid", "wd=0.5,1", "--seeds", "2"]
    argv += ["--diagram", "wd,width", "--diagram-out", str(out)]
    assert main(["sweep", *argv, *TINY, "--store", store]) == 0
    assert f"diagram {out}" in capsys.readouterr().out
    svg = out.read_text()
    for title in ("phase (majority over seeds)", "median t_gen", "median final test accuracy"):
        assert title in svg


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--diagram", "wd"], "diagram: expected two grid fields"),
        (["--diagram", "wd,lr"], "diagram: lr is not a --grid field"),
        (["--diagram", "wd,width", "--diagram-out", "x.gif"], "must end in .png, .svg or .pdf"),
    ],
)
def test_bad_diagrams_are_refused_before_training(argv, message, tmp_path, capsys):
    grid = ["--grid", "wd=0.5,1", "--grid", "width=16,32"]
    code = main(["sweep", *grid, *argv, *TINY, "--store", str(tmp_path / "r.db")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.db").exists() or "training" not in err


def test_ray_without_ray_installed_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = main(["sweep", "--grid", "wd=0.5,1", "--ray", *TINY, "--store", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install "phenolab[ray]"' in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "a, b, log, mid",
    [
        (0.1, 0.5, False, 0.3),
        (0.1, 1.0, True, 0.3162),
        (32, 64, False, 48),
        (32, 128, True, 64),
        (3, 4, False, None),  # neighbouring integers: nothing between
        ("x+y", "x-y", False, None),  # not numbers
        (0.0, 1.0, True, None),  # a log axis must be positive
    ],
)
def test_midpoints(a, b, log, mid):
    from phenolab.sweep.refine import midpoint

    assert midpoint(a, b, log) == mid


def test_boundary_points_bisect_between_cells_of_different_phases():
    from phenolab.sweep.refine import boundary_points

    g, m = "grokking", "memorization"
    # frac across, wd up: memorization left of a boundary that moves right at low wd
    majority = {(0.2, 0.1): m, (0.4, 0.1): m, (0.6, 0.1): g, (0.2, 1.0): m, (0.4, 1.0): g}
    majority[(0.6, 1.0)] = g
    assert boundary_points(majority) == [(0.3, 1.0), (0.4, 0.55), (0.5, 0.1)]
    assert boundary_points(majority, log=(False, True)) == [(0.3, 1.0), (0.4, 0.3162), (0.5, 0.1)]
    # the grown diagram: no duplicates of cells, rounds go on between the new neighbours
    grown = majority | {(0.3, 1.0): g, (0.5, 0.1): m, (0.4, 0.55): g}
    assert boundary_points(grown) == [(0.25, 1.0), (0.4, 0.325), (0.55, 0.1)]
    assert boundary_points({(0.2, 0.1): m, (0.4, 0.1): m}) == []


def test_refine_adds_the_bisection_points_of_the_grid(tmp_path, capsys):
    """p 23, 200 steps: frac 0.3 memorizes, frac 0.95 at wd 1 semi-groks (recorded, not
    assumed: the expected points come from the grid's own phases, and there must be some)."""
    from phenolab.sweep.refine import boundary_points

    store = str(tmp_path / "r.db")
    grid = ["--grid", "frac=0.3,0.95", "--grid", "wd=0.3,1"]
    tiny = ["--p", "23", "--steps", "200", "--eval-every", "20", "--no-report", "--workers", "1"]
    argv = ["sweep", *grid, *tiny, "--store", store, "--json"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    phases = {(m["frac"], m["wd"]): m["phase"] for m in plain["members"]}
    points = boundary_points(phases)
    assert points, f"the grid has one phase only: {phases}"
    refine = ["--diagram", "frac,wd", "--refine", "1", "--diagram-out", str(tmp_path / "d.png")]
    assert main([*argv, *refine]) == 0
    refined = json.loads(capsys.readouterr().out)
    added = {(m["frac"], m["wd"]) for m in refined["members"]} - set(phases)
    assert added == set(points) and len(refined["members"]) == 4 + len(points)
    # `phenolab diagram` of the same grid finds the refined points in the store too
    fields = ["--p", "23", "--steps", "200", "--eval-every", "20", "--no-report"]
    assert main(["diagram", *grid, *fields, "--store", store, "--json"]) == 0
    drawn = json.loads(capsys.readouterr().out)
    assert drawn["runs"] == 4 + len(points) and drawn["missing"] == 0
    assert {(c["frac"], c["wd"]) for c in drawn["cells"]} == set(phases) | set(points)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--refine", "1"], "refine: needs --diagram X,Y"),
        (["--diagram", "wd,width", "--refine", "9"], "refine: 1 to 8 rounds"),
        (["--log", "nope"], "log: unknown config field 'nope'"),
    ],
)
def test_bad_refines_are_one_line(argv, message, tmp_path, capsys):
    grid = ["--grid", "wd=0.5,1", "--grid", "width=16,32"]
    code = main(["sweep", *grid, *argv, *TINY, "--store", str(tmp_path / "r.db")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_latin_hypercube_puts_one_point_in_every_stratum_of_every_field():
    from phenolab.sweep.spec import parse_box, sample_box

    box = parse_box({"frac": "0.1:0.9", "wd": "0.01:1", "width": "16:256"}, log={"wd"})
    points = sample_box(box, 8, "lhs", seed=0, log={"wd"})
    assert len(points) == 8 and points == sample_box(box, 8, "lhs", seed=0, log={"wd"})
    assert points != sample_box(box, 8, "lhs", seed=1, log={"wd"})
    strata = {
        "frac": [int((p["frac"] - 0.1) / 0.8 * 8) for p in points],
        "wd": [int((math.log10(p["wd"]) + 2) / 2 * 8) for p in points],  # uniform in log10
    }
    for name, cells in strata.items():
        assert sorted(cells) == list(range(8)), name
    assert all(isinstance(p["width"], int) and 16 <= p["width"] <= 256 for p in points)
    uniform = sample_box(box, 8, "random", seed=0, log=set())
    assert all(0.1 <= p["frac"] <= 0.9 and 0.01 <= p["wd"] <= 1 for p in uniform)


def test_a_sweep_file_is_the_same_sweep_as_its_options(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    (tmp_path / "sweep.toml").write_text(
        'preset = "grokking"\nseeds = 2\n'
        "[fields]\np = 23\nfrac = 0.6\nsteps = 60\neval_every = 20\n"
        '[grid]\nwidth = [16, 32]\nwd = "0.5:1:0.5"\n'
    )
    argv = ["sweep", "--file", str(tmp_path / "sweep.toml"), "--no-report", "--store", store]
    assert main([*argv, "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    grid = ["--grid", "width=16,32", "--grid", "wd=0.5,1", "--seeds", "2"]
    assert main(["sweep", *grid, *TINY, "--store", store, "--json"]) == 0
    options = json.loads(capsys.readouterr().out)
    assert len(from_file["members"]) == 8
    assert [m["run_id"] for m in from_file["members"]] == [m["run_id"] for m in options["members"]]
    assert all(m["cached"] for m in options["members"])


def test_a_sampled_sweep_is_the_same_points_again(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    argv = ["sweep", "--sample", "3", "--box", "frac=0.4:0.9", "--box", "wd=0.1:1", "--log"]
    argv += [*TINY, "--store", store, "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    fracs = [m["frac"] for m in first["members"]]
    assert len(fracs) == 3 and all(0.4 <= f <= 0.9 for f in fracs)
    svg = tmp_path / "d.svg"
    assert main([*argv, "--diagram", "frac,wd", "--diagram-out", str(svg)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert [m["run_id"] for m in again["members"]] == [m["run_id"] for m in first["members"]]
    assert all(m["cached"] for m in again["members"])
    # scattered points are drawn where they lie: one marker per point in each panel
    assert "median final test accuracy" in svg.read_text()


@pytest.mark.parametrize(
    "text, message",
    [
        ("seeds = 2\n[grids]\nwd = [1]\n", "unknown key grids"),
        ("[grid\nwd = 1\n", "is not valid TOML"),
        ("[sample]\nn = 2\nbox = { wd = [0.1, 1] }\nmethod = 'sobol'\n", "sampler: 'sobol'"),
        ("[fields]\nnope = 1\n[grid]\nwd = [1]\n", "nope: unknown config field"),
    ],
)
def test_bad_sweep_files_are_one_line(text, message, tmp_path, capsys):
    (tmp_path / "s.toml").write_text(text)
    code = main(["sweep", "--file", str(tmp_path / "s.toml"), "--store", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "nothing to sweep"),
        (["--sample", "3"], "give --sample N and --box"),
        (["--sample", "3", "--box", "wd=1:0.1"], "needs LO < HI"),
        (["--sample", "3", "--box", "wd=0:1", "--log"], "LO is 0 ≤ 0"),
        (["--grid", "wd=0.1,1", "--sample", "2", "--box", "wd=0.1:1"], "wd is a --grid field"),
    ],
)
def test_bad_samples_are_one_line(argv, message, tmp_path, capsys):
    code = main(["sweep", *argv, *TINY, "--store", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_the_sweep_report_shows_the_phase_diagram(tmp_path, capsys):
    store, report = str(tmp_path / "s.db"), tmp_path / "sweep.html"
    argv = ["sweep", "--grid", "width=16,32", "--grid", "wd=0.5,1", "--diagram", "wd,width"]
    tiny = [a for a in TINY if a != "--no-report"]
    argv += [*tiny, "--store", store, "--report", str(report)]
    argv += ["--diagram-out", str(tmp_path / "d.png")]
    assert main(argv) == 0
    text = report.read_text()
    assert "<h2>Phase diagram</h2>" in text and text.count("data:image/png;base64") == 2


def test_diagram_of_a_stored_sweep(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    sweep(capsys, store, "width=16,32", "wd=0.5,1")
    fields = ["--p", "23", "--frac", "0.6", "--steps", "60", "--eval-every", "20"]
    argv = ["diagram", "--grid", "width=16,32", "--grid", "wd=0.5,1,2", *fields, "--store", store]
    assert main([*argv, "--json", "--report", str(tmp_path / "d.html")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 4 and out["missing"] == 2 and out["axes"] == ["width", "wd"]
    assert len(out["cells"]) == 4 and "Cells" in (tmp_path / "d.html").read_text()
    # nothing of a sweep stored: one line, and nothing drawn
    code = main(["diagram", "--grid", "width=8,9", "--grid", "wd=3,4", *fields, "--store", store])
    err = capsys.readouterr().err
    assert code == 2 and "none of the sweep's 4 runs is finished" in err and err.count("\n") == 1
    code = main(["diagram", "--grid", "width=8,9", "--grid", "wd=3,4", "--grid", "lr=1,2"])
    assert code == 2 and "name the axes with --diagram X,Y" in capsys.readouterr().err


def test_the_example_sweep_file_is_the_readmes_300_run_diagram():
    from pathlib import Path

    from phenolab.cli import build_parser
    from phenolab.cli.sweep import sweep_of

    path = Path(__file__).parent.parent / "examples" / "sweeps" / "frac-wd.toml"
    if not path.exists():
        pytest.skip("no examples beside the tests")
    sweep = sweep_of(build_parser().parse_args(["sweep", "--file", str(path)]))
    configs = sweep.configs()
    assert len(configs) == 300 and len({c.run_id() for c in configs}) == 300
    assert sweep.axes == ("frac", "wd")
    assert len(ensemble_groups(configs)) == 1  # frac and wd vary between ensemble members
