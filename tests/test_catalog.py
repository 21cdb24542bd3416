import json
from types import SimpleNamespace

import numpy as np
import pytest

from phenolab import catalog
from phenolab.catalog import Arm, Entry, Expectation, Measured, all_entries, get
from phenolab.catalog.readouts import fraction_generalized, median_t_gen, ratio
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from tests.conftest import TINY


def fake(t_gens, steps=1000):
    """An outcome arm made of stand-in results with the given t_gens (None: never)."""
    return [
        SimpleNamespace(
            events=SimpleNamespace(
                t_fit=10,
                t_gen=t,
                phase="grokking" if t else "memorization",
                final_train_acc=1.0,
                final_test_acc=1.0 if t else 0.01,
                ratio=t / 10 if t else None,
            ),
            record=SimpleNamespace(config={"train": {"steps": steps}}),
            metrics=None,
        )
        for t in t_gens
    ]


def expectation(measured: Measured, op=">=", threshold=2.0):
    return Expectation("x", "claim", lambda outcome: measured, op, threshold)


@pytest.mark.parametrize(
    "measured, op, verdict",
    [
        (Measured(3.0), ">=", "PASS"),
        (Measured(1.0), ">=", "FAIL"),
        (Measured(1.0), "<=", "PASS"),
        (Measured(None, lower=2.5), ">=", "PASS"),  # a lower bound that already clears the bar
        (Measured(None, lower=1.5), ">=", "INCONCLUSIVE"),  # could still go either way
        (Measured(None, upper=1.5), ">=", "FAIL"),  # even the largest possible value is short
        (Measured(None), ">=", "INCONCLUSIVE"),
    ],
)
def test_expectation_verdicts(measured, op, verdict):
    assert expectation(measured, op).judge({})[0] == verdict


def test_median_t_gen_treats_never_as_beyond_the_budget():
    outcome = {"a": fake([100, 200, 300]), "b": fake([100, None, None]), "c": fake([50, 60, None])}
    assert median_t_gen(outcome, "a") == Measured(200)
    b = median_t_gen(outcome, "b")
    assert b.value is None and b.lower == 1001 and "2 seed(s) never generalized" in b.note
    c = median_t_gen(outcome, "c")
    assert c.value is None and c.lower == 60
    r = ratio(median_t_gen(outcome, "b"), median_t_gen(outcome, "a"))
    assert r.value is None and r.lower == pytest.approx(1001 / 200)
    # the other way round only an upper bound is known: 200 / (≥ 1001)
    r = ratio(median_t_gen(outcome, "a"), median_t_gen(outcome, "b"))
    assert r.value is None and r.lower is None and r.upper == pytest.approx(200 / 1001)
    assert expectation(r, ">=", 1.0).judge({})[0] == "FAIL"  # the bound decides
    assert fraction_generalized(outcome, "c") == Measured(2 / 3)


def test_every_shipped_entry_is_complete_and_its_configs_are_valid():
    assert all_entries(), "the catalog is empty"
    for entry in all_entries():
        assert entry.paper and entry.reproduces and entry.description and entry.expectations
        assert entry.quick_seconds > 0 and entry.seeds >= 3
        for arm in entry.arms:
            for variant in (arm.config, arm.variant(True)):
                assert RunConfig().replace(**variant.canonical()) == variant
        # every expectation can be computed from an outcome shaped like the entry's arms
        outcome = {arm.name: fake([100, 200, 300]) for arm in entry.arms}
        for x in entry.expectations:
            assert x.judge(outcome)[0] in ("PASS", "FAIL", "INCONCLUSIVE"), x.id


def test_spearman_with_ties():
    from phenolab.catalog.readouts import average_ranks, spearman

    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) != spearman([1, 2, 3], [5, 5, 5])  # nan: constant


def test_unknown_entry_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown catalog entry 'nope'"):
        get("nope")


def _final_acc_figure(outcome):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    for arm, results in outcome.items():
        ax.plot([r.events.t_gen or 0 for r in results], label=arm)
    return fig


@pytest.fixture
def tiny_entry():
    base = RunConfig().replace(**TINY)

    def slowdown(outcome):
        return ratio(median_t_gen(outcome, "less"), median_t_gen(outcome, "more"))

    entry = Entry(
        id="test-tiny",
        phenomenon="grokking",
        paper="Test (2026). A tiny entry",
        title="tiny",
        description="Less data, later generalization, in seconds.",
        reproduces="nothing",
        arms=(Arm("less", base.replace(frac=0.5)), Arm("more", base.replace(frac=0.7))),
        expectations=(
            Expectation(
                "slower-with-less", "t_gen(less) ≥ 1.2 × t_gen(more)", slowdown, ">=", 1.2, "×"
            ),
            Expectation(
                "all-generalize",
                "every seed of 'more' generalizes",
                lambda o: fraction_generalized(o, "more"),
                ">=",
                1.0,
            ),
        ),
        seeds=3,
        quick_seeds=2,
        quick_seconds=5,
        figures=lambda outcome, store: [("the entry's own figure", _final_acc_figure(outcome))],
    )
    catalog.register(entry)
    yield entry
    del catalog.ENTRIES[entry.id]


def test_tiny_entry_end_to_end(tmp_path, capsys, tiny_entry):
    store = str(tmp_path / "runs.db")
    code = main(["reproduce", "test-tiny", "--quick", "--workers", "1", "--store", store, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert {"id", "seconds", "verdicts"} <= set(result)
    verdicts = {v["expectation"]: v for v in result["verdicts"]}
    assert set(verdicts) == {"slower-with-less", "all-generalize"}
    for v in verdicts.values():
        assert {"expectation", "verdict", "measured", "threshold"} <= set(v)
        assert v["verdict"] in ("PASS", "FAIL", "INCONCLUSIVE")
    assert verdicts["all-generalize"]["verdict"] == "PASS"
    report = open(result["report"], encoding="utf-8").read()
    assert report.count("data:image/png;base64,") == 2  # the common figure and the entry's own
    assert "the entry&#x27;s own figure" in report
    # a quick verdict carries what the quick variant changes (computed: here only the seeds)
    assert result["variant"] == "quick" and result["differences"] == ["seeds 3 → 2"]
    assert "quick (differs from canonical: seeds 3 → 2)" in report
    # a built-in entry's hash goes to the ledger each time; every verdict names it
    reg = result["registration"]
    assert reg["kind"] == "reproduced" and reg["existing_runs"] == []
    assert {v["registration"] for v in result["verdicts"]} == {reg["hash"]}
    assert "Registration" in report and reg["hash"] in report

    code = main(["catalog", "--json", "--store", store])
    rows = {r["id"]: r for r in json.loads(capsys.readouterr()[0])}
    assert {"id", "paper", "phenomenon", "quick_seconds"} <= set(rows["test-tiny"])
    assert rows["test-tiny"]["last_verdict"] is not None
    assert main(["catalog", "show", "test-tiny"]) == 0
    assert "slower-with-less" in capsys.readouterr()[0]


def test_too_short_runs_are_inconclusive(tmp_path, capsys, tiny_entry):
    short = Entry(
        **{
            **tiny_entry.__dict__,
            "id": "test-short",
            "arms": tuple(
                Arm(a.name, a.config.replace(steps=30, eval_every=10)) for a in tiny_entry.arms
            ),
        }
    )
    catalog.register(short)
    try:
        code = main(
            [
                "reproduce",
                "test-short",
                "--workers",
                "1",
                "--seeds",
                "2",
                "--no-report",
                "--store",
                str(tmp_path / "r.db"),
                "--json",
            ]
        )
        verdicts = {v["expectation"]: v for v in json.loads(capsys.readouterr()[0])["verdicts"]}
    finally:
        del catalog.ENTRIES["test-short"]
    assert code == 0
    assert verdicts["slower-with-less"]["verdict"] == "INCONCLUSIVE"  # nobody generalized
    assert verdicts["all-generalize"]["verdict"] == "FAIL"
