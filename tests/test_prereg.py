"""Experiment files (catalog/experiment.py), their read-out vocabulary (vocabulary.py) and the
ledger (catalog/ledger.py): `phenolab prereg FILE`, `phenolab reproduce FILE`, a changed file,
built-in entries' hashes, and the signed-off export."""

import hashlib
import json
import pathlib
import shutil

import pytest

from phenolab.catalog import Arm, Entry, Expectation, get, ledger
from phenolab.catalog.experiment import load, parse, shipped
from phenolab.catalog.vocabulary import READOUTS
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.store import Store
from tests.test_catalog import fake

DATA = pathlib.Path(__file__).parent / "data" / "experiment.toml"

# -- experiment files ---------------------------------------------------------------------------

# The run ids of the entries moved from Python modules to experiment files (2026-12-07), as the
# Python entries gave them: the files must train the very same runs. lee2024-grokfast's canonical
# variant then changed on purpose (issue 15: the authors' code's model and optimizer, a new arm
# grokfast-ema): its canonical ids are those of the Python entry of that change, and its quick
# ids the four moved ones plus grokfast-ema's.
MOVED = {
    "tveit2025-muon": (["da8b787aa0f7", "d6d6b415d9b1"], ["e86bc66447c0", "81e998536a9b"]),
    "schaeffer2023-metrics": (["215288f8446b"], []),
    "lee2024-grokfast": (
        ["c03d736650cc", "3508bd7ab5f6", "54113c81b2e1", "f1fcc789210f", "4d9e3babcf23"],
        ["d0a53ed0de3f", "7cd90be0e37d", "f7f7c2285cd9", "c76e2c53c759", "3a8c6b6c542e"],
    ),
}


def test_shipped_experiment_files_keep_the_run_ids_of_the_entries_they_replace():
    assert {p.stem for p in shipped()} >= set(MOVED)
    for entry_id, (canonical, quick) in MOVED.items():
        entry = get(entry_id)  # registered from its file
        assert entry.file is not None and entry.file.endswith(f"{entry_id}.toml")
        assert [a.config.run_id() for a in entry.arms] == canonical
        assert [a.quick.run_id() for a in entry.arms if a.quick is not None] == quick


def test_an_experiment_file_loads_as_an_entry():
    entry = load(DATA)
    assert entry.id == "test-more-data" and entry.paper == "" and entry.motivation
    assert [a.name for a in entry.arms] == ["less", "more", "more-again"]
    assert entry.arms[2].parent == "more" and entry.arms[2].config.train.steps == 50
    assert entry.arms[0].quick is None  # no [quick]: the quick variant is the canonical one
    assert entry.expectations[1].declared == {
        "readout": "t_gen_ratio",
        "numerator": "less",
        "denominator": "more",
    }


BASE = DATA.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "change, message",
    [
        (("seeds = 2", "seed = 2"), "[experiment]: unknown key 'seed' (valid: id, title"),
        (("p = 47", "pp = 47"), "[[arm]] less (canonical): unknown config field 'pp'"),
        (('"share_generalized"', '"share"'), "unknown read-out 'share' (valid: "),
        (('arm = "more"\nop', 'arms = "more"\nop'), "share_generalized takes no parameter 'arms'"),
        (('arm = "more"\nop', 'arm = "most"\nop'), "arm: 'most' is not an arm (arms: less, more"),
        (('parent = "more"', 'parent = "most"'), "parent 'most' is not an arm of this file"),
        (('op = ">="', 'op = "=>"'), "op must be one of"),
        (("[[expect]]", "[[expects]]"), "unknown key 'expects'"),
        (('motivation = "A', 'reason = "A'), "unknown key 'reason'"),
        (("threshold = 1.0\n", 'threshold = "high"\n'), "threshold must be a number"),
        (("[canonical]", "[canonical\n"), "not valid TOML"),
    ],
)
def test_bad_experiment_files_are_one_line_errors_naming_the_place(change, message):
    text = BASE.replace(*change, 1)
    assert text != BASE
    with pytest.raises(ConfigError) as exc:
        parse(text, "exp.toml")
    assert message in str(exc.value) and str(exc.value).startswith("exp.toml")
    assert "\n" not in str(exc.value)


def test_the_cli_reports_a_bad_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.replace('parent = "more"', 'parent = "nope"'), encoding="utf-8")
    assert main(["prereg", str(bad), "--store", str(tmp_path / "r.db")]) == 2
    err = capsys.readouterr().err
    assert "parent 'nope' is not an arm" in err and err.count("\n") == 1
    assert main(["prereg", str(tmp_path / "missing.toml"), "--store", str(tmp_path / "r.db")]) == 2
    assert "no such experiment file" in capsys.readouterr().err


# -- the read-out vocabulary, both directions -----------------------------------------------------


def _curves(values_by_metric):
    steps = list(range(0, 10 * len(next(iter(values_by_metric.values()))), 10))
    return {m: (steps, v) for m, v in values_by_metric.items()}


def _outcome():
    fast, slow = fake([100, 120, 140]), fake([400, 500, None])
    for r in fast:
        r.metrics = _curves({"test/acc": [0.0, 0.5, 0.96, 0.99], "norm/total": [4, 3, 2, 1]})
    for r in slow:
        r.metrics = _curves({"test/acc": [0.0, 0.1, 0.2, 0.3], "norm/total": [1, 2, 3, 4]})
    return {"fast": fast, "slow": slow}


@pytest.mark.parametrize(
    "readout, params, op, threshold, verdict",
    [
        ("median_t_gen", {"arm": "fast"}, "<=", 150, "PASS"),
        ("median_t_gen", {"arm": "fast"}, ">=", 150, "FAIL"),
        ("t_gen_ratio", {"numerator": "slow", "denominator": "fast"}, ">=", 3, "PASS"),  # 500/120
        # a censored seed bounds the ratio: fast / slow is at most 120 / 500
        ("t_gen_ratio", {"numerator": "fast", "denominator": "slow"}, ">=", 0.5, "FAIL"),
        ("share_generalized", {"arm": "slow"}, ">=", 0.6, "PASS"),
        ("share_generalized", {"arm": "slow"}, ">=", 0.8, "FAIL"),
        ("steps_to", {"arm": "fast", "level": 0.95}, "<=", 20, "PASS"),
        ("steps_to", {"arm": "fast", "level": 0.95}, "<=", 10, "FAIL"),
        ("final_metric", {"arm": "slow"}, "<=", 0.5, "PASS"),
        ("final_metric", {"arm": "slow"}, ">=", 0.5, "FAIL"),
        (
            "rank_correlation",
            {"arm": "fast", "a": "test/acc", "b": "norm/total"},
            ">=",
            0.9,
            "PASS",
        ),
        ("rank_correlation", {"arm": "fast", "a": "test/acc", "b": "norm/total"}, "<", 0.9, "FAIL"),
        ("phase_count", {"arm": "slow", "phase": "memorization"}, ">=", 1, "PASS"),
        ("phase_count", {"arm": "slow", "phase": "memorization"}, ">=", 2, "FAIL"),
        ("delay_ratio", {"arm": "fast"}, ">=", 10, "PASS"),  # t_fit 10: median 120 / 10
        ("delay_ratio", {"arm": "fast"}, ">=", 20, "FAIL"),
    ],
)
def test_vocabulary_readouts_pass_and_fail_on_constructed_outcomes(
    readout, params, op, threshold, verdict
):
    outcome = _outcome()
    fn, _ = READOUTS[readout].bind(params, outcome, "test")
    x = Expectation("x", "claim", fn, op, threshold)
    assert x.judge(outcome)[0] == verdict


def test_first_steps_to_reads_the_first_crossing_and_steps_to_the_sustained_one():
    runs = fake([30, 30, 30])
    for r in runs:  # reaches 0.95 at step 10, falls back, holds it from step 30
        r.metrics = _curves({"test/acc": [0.0, 0.96, 0.5, 0.97, 0.98]})
    outcome = {"flicker": runs}
    first, values = READOUTS["first_steps_to"].bind({"arm": "flicker"}, outcome, "t")
    sustained, _ = READOUTS["steps_to"].bind({"arm": "flicker"}, outcome, "t")
    assert values == {"arm": "flicker", "level": 0.95}
    assert first(outcome).value == 10 and sustained(outcome).value == 30
    x = Expectation("x", "claim", first, "<=", 10)
    assert x.judge(outcome)[0] == "PASS"
    assert Expectation("x", "claim", sustained, "<=", 10).judge(outcome)[0] == "FAIL"


def test_sweep_readouts_find_the_peak_over_a_config_field():
    def arm(width, losses):
        runs = fake([None] * len(losses))
        for r, loss in zip(runs, losses, strict=True):
            r.record.config = {"model": {"width": width}, "train": {"steps": 1000}}
            r.metrics = {"test/loss": ([1], [loss])}
        return runs

    outcome = {"w4": arm(4, [1.0, 1.0]), "w8": arm(8, [5.0, 5.0]), "w16": arm(16, [0.5, 0.5])}
    params = {"arms": ["w16", "w4", "w8"], "x": "width"}
    judged = {}
    for name in ("peak_location", "peak_height", "second_descent"):
        fn, _ = READOUTS[name].bind(params, outcome, "test")
        judged[name] = fn(outcome).value
    assert judged == {"peak_location": 8.0, "peak_height": 4.0, "second_descent": 4.5 / 4.0}


# -- the ledger ---------------------------------------------------------------------------------


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "mine.toml"
    shutil.copy(DATA, path)
    return path, str(tmp_path / "runs.db")


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_prereg_reproduce_change_and_export(experiment, capsys):
    path, store = experiment
    run = ["--store", store]
    assert main(["prereg", str(path), *run, "--json"]) == 0
    first = _json(capsys)
    assert first["new"] and first["existing_runs"] == []  # a true preregistration
    assert main(["prereg", str(path), *run]) == 0  # the same file again: no new registration
    assert "already registered" in capsys.readouterr().out

    assert main(["reproduce", str(path), "--workers", "1", *run, "--json"]) == 0
    result = _json(capsys)
    assert result["registration"]["hash"] == first["hash"]
    assert {v["registration"] for v in result["verdicts"]} == {first["hash"]}
    verdicts = {v["expectation"]: v["verdict"] for v in result["verdicts"]}
    assert verdicts["more-generalizes"] == "PASS"
    html = pathlib.Path(result["report"]).read_text(encoding="utf-8")
    assert first["hash"] in html and "a preregistration" in html
    # the self-assessment checklist, answered from the registration and the runs
    assert "Was it preregistered?" in html and "before any of its runs" in html
    assert "Does the explanation predict anything else?" in html and "Open" in html

    # the file changes: reproduce refuses it until the change is registered
    path.write_text(BASE.replace('threshold = 1.0\nunit = "×"', 'threshold = 1.5\nunit = "×"'))
    assert main(["reproduce", str(path), *run]) == 2
    err = capsys.readouterr().err
    assert "changed since its registration" in err and f"phenolab prereg {path}" in err
    assert err.count("\n") == 1
    assert main(["prereg", str(path), *run]) == 0
    out = capsys.readouterr().out
    assert "registered: test-more-data" in out
    assert "expectations[less-is-later].threshold: 1.0 → 1.5" in out
    assert "not a preregistration of those 6 runs" in out  # they exist now

    assert main(["reproduce", str(path), "--workers", "1", *run, "--no-report"]) == 0
    out = capsys.readouterr().out
    assert f"earlier registration {first['hash'][:12]}" in out
    assert "changed since: expectations[less-is-later].threshold: 1.0 → 1.5" in out
    seen = next(line for line in out.splitlines() if "seen then: canonical" in line)
    assert "PASS" in seen  # the verdicts judged under the first registration

    # the export: one signed-off text with the hash, the time and the full file
    assert main(["prereg", str(path), *run, "--export"]) == 0
    text = capsys.readouterr().out
    body, signed = text.rstrip("\n").rsplit("\n", 1)
    assert signed == "signed-off: sha256 of the text above = " + (
        hashlib.sha256(body.encode()).hexdigest()
    )
    assert "threshold = 1.5" in text and "registered:" in text and "hash:        sha256:" in text


def test_reproducing_an_unregistered_file_says_to_register_it(experiment, capsys):
    path, store = experiment
    assert main(["reproduce", str(path), "--store", store]) == 2
    err = capsys.readouterr().err
    assert "not registered" in err and "phenolab prereg" in err and err.count("\n") == 1


def _entry(threshold: float) -> Entry:
    def share(outcome):
        from phenolab.catalog.readouts import fraction_generalized

        return fraction_generalized(outcome, "a")

    return Entry(
        id="test-builtin",
        phenomenon="p",
        paper="Test (2026)",
        title="t",
        description="d",
        reproduces="r",
        arms=(Arm("a", RunConfig().replace(p=47, steps=400)),),
        expectations=(Expectation("gen", "claim", share, ">=", threshold),),
    )


def test_a_built_in_entry_keeps_its_hash_each_time_and_shows_earlier_verdicts(tmp_path):
    store = Store(tmp_path / "r.db")
    old, _ = ledger.register(store, _entry(0.8), ledger.REPRODUCED)
    again, new = ledger.register(store, _entry(0.8), ledger.REPRODUCED)
    assert new and again.hash == old.hash  # kept each time it is reproduced
    verdicts = [{"expectation": "gen", "verdict": "FAIL", "registration": old.hash}]
    store.add_verdicts("test-builtin", "quick", verdicts, [])
    changed, _ = ledger.register(store, _entry(0.5), ledger.REPRODUCED)
    assert changed.hash != old.hash
    (earlier,) = ledger.earlier(store, _entry(0.5), changed)
    assert earlier.registration.hash == old.hash
    assert earlier.differences == ["expectations[gen].threshold: 0.8 → 0.5"]
    assert [row["verdicts"][0]["verdict"] for row in earlier.seen] == ["FAIL"]


def test_a_redefined_python_readout_changes_a_built_in_entry_hash():
    a = _entry(0.8)
    b = Entry(
        **{
            **a.__dict__,
            "expectations": (Expectation("gen", "claim", lambda o: None, ">=", 0.8),),
        }
    )
    assert ledger.entry_hash(a) != ledger.entry_hash(b)
    assert ledger.entry_hash(a) == ledger.entry_hash(_entry(0.8))


def test_catalog_lists_the_readouts(capsys):
    assert main(["catalog", "--readouts"]) == 0
    out = capsys.readouterr().out
    for name in ("median_t_gen", "t_gen_ratio", "share_generalized", "steps_to", "final_metric"):
        assert f"\n{name}(" in "\n" + out
    assert "rank_correlation(arm, a, b)" in out and "peak_location(arms, x" in out
    assert "phase_count(arm, phase)" in out and "second_descent(" in out


def test_a_copied_shipped_file_must_get_its_own_id(tmp_path, capsys):
    copy = tmp_path / "copy.toml"
    shutil.copy(next(p for p in shipped() if p.stem == "tveit2025-muon"), copy)
    assert main(["prereg", str(copy), "--store", str(tmp_path / "r.db")]) == 2
    err = capsys.readouterr().err
    assert "'tveit2025-muon' is a catalog entry's; give your experiment its own id" in err
    text = copy.read_text(encoding="utf-8").replace('id = "tveit2025-muon"', 'id = "mine"')
    copy.write_text(text, encoding="utf-8")
    assert main(["prereg", str(copy), "--store", str(tmp_path / "r.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["existing_runs"] == []
