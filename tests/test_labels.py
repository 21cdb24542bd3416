"""Honest labels: a quick verdict carries what the quick variant changes from the paper's
settings, computed from the two configs (catalog/labels.py) — in `catalog`, `catalog show`,
`reproduce`, reports and the README's catalog table."""

import json

import pytest

from phenolab import catalog
from phenolab.catalog import Arm, Entry, Expectation, Measured, all_entries
from phenolab.catalog.labels import label, quick_differences
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.store import Store
from tests import readme_catalog

PAPER = RunConfig().replace(model="transformer", p=113, lr=1e-3, steps=20_000, eval_every=100)
CPU = RunConfig().replace(steps=3000)


def _entry(**kw) -> Entry:
    fields = dict(
        id="test-labels",
        phenomenon="grokking",
        paper="Test (2026)",
        title="labels",
        description="d",
        reproduces="Fig. 1",
        arms=(
            Arm("a", PAPER, CPU),
            Arm("b", PAPER.replace(wd=0.0), CPU.replace(wd=0.0, steps=1000)),
            Arm("c", PAPER.replace(frac=0.5), in_quick=False),
        ),
        expectations=(Expectation("x", "claim", lambda o: Measured(1.0), ">=", 0.0),),
        seeds=5,
        quick_seeds=3,
    )
    return Entry(**(fields | kw))


def test_differences_are_computed_from_the_configs():
    diffs = quick_differences(_entry())
    assert diffs == [
        "model transformer → mlp",  # d_model, which the MLP does not read, is not listed
        "p 113 → 97",
        "lr 0.001 → 0.01",
        "steps (a: 20,000 → 3,000; b: 20,000 → 1,000)",  # changed differently: each arm named
        "eval_every 100 → 25",
        "seeds 5 → 3",
        "arms left out: c",
    ]
    assert label(_entry(), quick=False) == "canonical"
    assert label(_entry(), quick=True).startswith("quick (differs from canonical: model ")
    same = _entry(arms=(Arm("a", CPU),), quick_seeds=5)
    assert quick_differences(same) == [] and label(same, True) == "quick (the canonical settings)"


def test_every_shipped_entry_has_a_label():
    for entry in all_entries():
        assert label(entry, True).startswith("quick")


def test_the_readme_catalog_table_carries_the_computed_differences():
    rows = readme_catalog.rows(readme_catalog.README.read_text(encoding="utf-8"))
    assert len(rows) >= 25
    for _, cells in rows:
        entry_id = cells[0].strip("`")
        assert cells[2] == readme_catalog.differences_cell(entry_id), (
            f"{entry_id}: run `python -m tests.readme_catalog` to rewrite the computed column"
        )


@pytest.fixture
def labelled(tmp_path):
    entry = catalog.register(_entry())
    store = Store(str(tmp_path / "r.db"))
    store.add_verdicts(entry.id, "quick", [{"expectation": "x", "verdict": "PASS"}], [])
    yield entry, str(tmp_path / "r.db")
    del catalog.ENTRIES[entry.id]


def test_catalog_shows_a_quick_verdict_with_its_differences(labelled, capsys):
    entry, store = labelled
    assert main(["catalog", "--store", store]) == 0
    out = capsys.readouterr().out
    line = next(i for i, s in enumerate(out.splitlines()) if s.startswith("test-labels"))
    assert "quick: 1 PASS" in out.splitlines()[line]
    assert "quick differs from canonical: model transformer → mlp" in out.splitlines()[line + 1]
    assert main(["catalog", "--json", "--store", store]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["id"] == entry.id)
    assert row["last_variant"] == "quick" and "p 113 → 97" in row["quick_differences"]
    assert main(["catalog", "show", entry.id]) == 0
    assert "quick (differs from canonical: model transformer → mlp" in capsys.readouterr().out
