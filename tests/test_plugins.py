"""Plugins: measures, interventions, tasks and catalog entries from another installed package,
through entry points (groups phenolab.measures, phenolab.interventions, phenolab.tasks,
phenolab.models, phenolab.catalog). The test writes a small package and its dist-info (with
entry_points.txt) to a temporary folder, puts it on sys.path — as pip would install it — and
finds everything in phenolab's registries, listed by `phenolab catalog` beside the built-ins."""

import importlib
import json
import sys
import textwrap

import pytest

from phenolab.catalog import ENTRIES, all_entries
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.interventions import INTERVENTIONS
from phenolab.measures import MEASURES
from phenolab.models import MODELS
from phenolab.store import Store
from phenolab.tasks import TASKS
from tests.conftest import run

MODULE = '''
"""A lab's phenolab plugin."""
import pathlib

import torch

from phenolab.catalog import Arm, Entry, Expectation
from phenolab.catalog.readouts import fraction_generalized
from phenolab.config import RunConfig
from phenolab.interventions.base import Intervention, Param
from phenolab.tasks.arithmetic import Arithmetic
from phenolab.tasks.pairs import all_pairs
from phenolab.train.members import per_member

EXPERIMENTS = str(pathlib.Path(__file__).parent / "experiments")


def demo_size(ctx):
    """The number of parameters of each member (a plugin's progress measure)."""
    n = sum(p[0].numel() for p in ctx.model.parameters())
    members = next(ctx.model.parameters()).shape[0]
    return {"demo/size": torch.full((members,), float(n))}


class GradScale(Intervention):
    """g ← factor · g (a plugin's intervention)."""

    id = "demo-grad-scale"
    summary = "scale every gradient by a factor (a plugin's intervention)"
    params = (Param("factor", 1.0, "the factor", lambda v: v > 0, "> 0"),)

    def after_backward(self, state):
        for p in self.parameters:
            if p.grad is not None:
                p.grad.mul_(per_member(self.values["factor"], p))


class XPlus3Y(Arithmetic):
    """x + 3y mod p (a plugin's task)."""

    def claim(self, op):
        return "x+3y" if op.replace(" ", "") == "x+3y" else None

    def table(self, cfg):
        x, y = all_pairs(cfg.p)
        return torch.stack([x, y], dim=1), (x + 3 * y) % cfg.p


def entries():
    base = RunConfig().replace(op="x+3y", p=23, steps=200)
    return Entry(
        id="demo-lab2026-plugin",
        phenomenon="grokking (plugin)",
        paper="Lab (2026). A phenomenon published as a pip package",
        title="a plugin's catalog entry",
        description="d",
        reproduces="Fig. 1",
        arms=(Arm("a", base),),
        expectations=(
            Expectation("gen", "c", lambda o: fraction_generalized(o, "a"), ">=", 0.5),
        ),
    )
'''

TOML = """
[experiment]
id = "demo-lab2026-file"
title = "a plugin's experiment file"
phenomenon = "grokking (plugin)"
motivation = "shipped by a plugin as a TOML file"

[canonical]
set = { op = "x+3y", p = 23, steps = 200 }

[[arm]]
name = "a"

[[expect]]
id = "gen"
claim = "c"
readout = "share_generalized"
arm = "a"
op = ">="
threshold = 0.5
"""

ENTRY_POINTS = """
[phenolab.measures]
demo-size = phenolab_demo:demo_size

[phenolab.interventions]
demo-grad-scale = phenolab_demo:GradScale

[phenolab.tasks]
x+3y = phenolab_demo:XPlus3Y

[phenolab.catalog]
demo = phenolab_demo:entries
demo-files = phenolab_demo:EXPERIMENTS
broken = phenolab_demo:missing
"""

REGISTRIES = (MEASURES, INTERVENTIONS, TASKS, MODELS, ENTRIES)


@pytest.fixture
def plugin(tmp_path):
    """The package `phenolab-demo-plugin` installed (on sys.path) for one test."""
    package = tmp_path / "phenolab_demo"
    (package / "experiments").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(MODULE), encoding="utf-8")
    (package / "experiments" / "demo.toml").write_text(TOML, encoding="utf-8")
    info = tmp_path / "phenolab_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: phenolab-demo-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    all_entries()  # the built-ins first
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    for registry in REGISTRIES:
        registry._plugins_loaded = False  # look again: the package is installed now
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("phenolab_demo", None)
    for registry in REGISTRIES:
        for name in [n for n, d in registry.origin.items() if d == "phenolab-demo-plugin"]:
            registry.unregister(name)
            del registry.origin[name]
        registry.plugin_errors.clear()
        registry._plugins_loaded = False


def test_a_plugin_package_adds_to_every_registry(plugin, tmp_path):
    with pytest.warns(UserWarning, match="plugin 'broken'"):
        assert "demo-lab2026-plugin" in ENTRIES  # a plugin that fails to load is skipped
    assert "demo-lab2026-file" in ENTRIES and "broken" in ENTRIES.plugin_errors
    assert ENTRIES.origin["demo-lab2026-plugin"] == "phenolab-demo-plugin"
    assert "demo-size" in MEASURES and MEASURES.origin["demo-size"] == "phenolab-demo-plugin"
    assert "demo-grad-scale" in INTERVENTIONS and "x+3y" in TASKS

    # a run uses the plugin's task, measure and intervention through the one door
    cfg = RunConfig().replace(
        op="x+3y",
        p=23,
        steps=30,
        eval_every=10,
        measures=("demo-size",),
        interventions=("demo-grad-scale:factor=0.5",),
    )
    result = run(cfg, Store(tmp_path / "r.db"))
    steps, sizes = result.metrics["demo/size"]
    assert steps[-1] == 30 and sizes[0] > 0


def test_catalog_lists_plugin_entries_beside_the_built_ins(plugin, capsys, tmp_path):
    with pytest.warns(UserWarning):
        assert main(["catalog", "--json", "--store", str(tmp_path / "r.db")]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["demo-lab2026-plugin"]["source"] == "phenolab-demo-plugin"
    assert rows["demo-lab2026-file"]["source"] == "phenolab-demo-plugin"
    assert rows["power2022-data-fraction"]["source"] == "built-in"
    assert main(["catalog", "--store", str(tmp_path / "r.db")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("demo-lab2026-f"))
    assert "phenolab-demo-plugin" in line
