"""The fidelity table: published numbers beside the canonical runs found in the store."""

import json
import pathlib
import shlex

import pytest

from phenolab.catalog import fidelity, get
from phenolab.catalog.fidelity import PUBLISHED, Published, fidelity_rows, markdown
from phenolab.cli import build_parser, main
from phenolab.cli.run import _configs_from_args
from phenolab.store import Store

MA = PUBLISHED[0]
README = pathlib.Path(__file__).parents[1] / "README.md"


def test_every_row_names_a_real_entry_arm_and_an_empty_store_has_nothing_run(tmp_path):
    for p in PUBLISHED:
        names = {a.name for a in get(p.entry).arms}
        assert set(p.arms) <= names, p
    rows = fidelity_rows(Store(tmp_path / "s.db"))
    assert [r.status for r in rows] == ["not run"] * len(PUBLISHED)
    for r in rows:
        assert r.commands[0] == f"phenolab reproduce {r.published.entry} --device cuda"


def test_the_probe_command_trains_exactly_the_probe_configs():
    row = fidelity_rows()[0]
    command = row.commands[1]
    args = build_parser().parse_args(shlex.split(command)[1:])
    configs = _configs_from_args(args)
    arm = next(a for a in get(MA.entry).arms if a.name == "grokfast-ma")
    expected = [arm.config.replace(steps=MA.probe_steps, seed=s) for s in range(3)]
    assert [c.run_id() for c in configs] == [c.run_id() for c in expected]


def store_run(
    store: Store, config, curve: list[tuple[int, float]], seconds=100.0, gpu="H100", env=None
):
    rid = config.run_id()
    store.create_run(rid, config.to_json(), env or {"device": "cuda", "gpu": gpu})
    for step, acc in curve:
        store.append_metrics(step, {rid: {"test/acc": acc}})
    store.set_status(rid, "finished", seconds=seconds)


def curve_first_at(step: int, last: int = 2000) -> list[tuple[int, float]]:
    """Test accuracy 0.5 until `step`, then 0.96, one flicker back down, then 1.0."""
    grid = list(range(0, last + 1, 10))
    return [
        (s, 0.5 if s < step else (0.2 if s == step + 10 else 1.0 if s > step else 0.96))
        for s in grid
    ]


def test_probe_runs_measure_the_first_crossing_with_median_and_range(tmp_path):
    store = Store(tmp_path / "s.db")
    arm = next(a for a in get(MA.entry).arms if a.name == "grokfast-ma")
    for seed, first in enumerate((700, 900, 1300)):
        store_run(store, arm.config.replace(steps=2000, seed=seed), curve_first_at(first))
    row = fidelity_rows(store)[0]
    assert (row.status, row.median, row.low, row.high, row.seeds) == (
        "reproduced",
        900,
        700,
        1300,
        3,
    )
    assert row.device == "H100" and row.seconds == 300
    # beside the paper's first crossing, phenolab's sustained t_gen: 1.0 from first + 20 on
    assert row.t_gen == 920
    assert row.variant == "canonical cut at 2,000 steps"
    assert "900 [700–1,300]" in markdown([row])


def test_members_of_one_shard_share_its_seconds_and_the_cpu_is_named(tmp_path):
    store = Store(tmp_path / "s.db")
    arm = next(a for a in get(MA.entry).arms if a.name == "grokfast-ma")
    # seeds 0 and 1 trained together in one shard of 880 s, seed 2 alone in another of 540 s
    for seed, (members, seconds) in enumerate(((2, 880.0), (2, 880.0), (1, 540.0))):
        env = {"device": "cpu", "layout": {"members": members, "cpu": "AMD EPYC"}}
        config = arm.config.replace(steps=2000, seed=seed)
        store_run(store, config, curve_first_at(800), seconds=seconds, env=env)
    row = fidelity_rows(store)[0]
    assert row.seconds == pytest.approx(880 + 540)
    assert row.device == "AMD EPYC CPU"


def test_a_loss_row_takes_the_first_step_at_or_below_its_level(tmp_path):
    """Nanda's reference-notebook row: the notebook logs its test loss, not an accuracy; the
    crossing is read from the loss falling to the level, and t_gen is shown beside it."""
    store = Store(tmp_path / "s.db")
    p = next(p for p in PUBLISHED if p.series == "test/loss")
    config = next(a for a in get(p.entry).arms if a.name == p.arms[0]).config.replace(seed=0)
    rid = config.run_id()
    store.create_run(rid, config.to_json(), {"device": "cpu"})
    # the loss climbs to 30 while memorizing, falls through 1 at 9,000 and on below it
    for step, loss, acc in (
        (0, 4.7, 0.0),
        (1000, 30.0, 0.0),
        (8900, 1.3, 0.6),
        (9000, 0.9, 0.9),
        (9100, 0.1, 0.995),
        (9200, 0.01, 1.0),
    ):
        store.append_metrics(step, {rid: {"test/loss": loss, "test/acc": acc}})
    store.set_status(rid, "finished", seconds=10.0)
    row = next(r for r in fidelity_rows(store) if r.published is p)
    assert (row.median, row.t_gen) == (9000, 9100)
    assert row.status == "not reproduced"  # 13,800 / 1.5 = 9,200
    assert row.as_dict()["metric"] == "first step at test/loss ≤ 1.0"


def test_not_reproduced_and_censored_medians(tmp_path):
    store = Store(tmp_path / "s.db")
    arm = next(a for a in get(MA.entry).arms if a.name == "grokfast-ma")
    far = [(s, 0.5) for s in range(0, 2001, 10)]  # never reaches 0.95 within 2,000 steps
    for seed in range(3):
        store_run(store, arm.config.replace(steps=2000, seed=seed), far)
    row = fidelity_rows(store)[0]
    # the median is beyond the budget (≥ 2,001), more than 1.5 × 790: decided
    assert (row.status, row.median, row.lower) == ("not reproduced", None, 2001)
    # a published value the budget cannot decide (1.5 × 2,000 > 2,001)
    short = Published(MA.entry, MA.arms, "q", 2000, "s", level=0.95, first=True, probe_steps=2000)
    assert fidelity._status(short, None, 2001) == "not decided"
    assert fidelity._status(MA, 1200, None) == "not reproduced"  # 1.5 × 790 = 1,185
    assert fidelity._status(MA, 1185, None) == "reproduced"


def test_a_ratio_whose_denominator_never_crossed_is_an_upper_bound(tmp_path):
    """Tveit's AdamW / Muon: AdamW's probes first reach 95 % at 1,000, Muon's not within their
    2,000 steps, so the ratio is at most 1,000 / 2,001 — below 1.49 / 1.5: decided."""
    store = Store(tmp_path / "s.db")
    p = next(p for p in PUBLISHED if p.entry == "tveit2025-muon")
    arms = {a.name: a for a in get(p.entry).arms}
    never = [(s, 0.5) for s in range(0, 2001, 100)]
    for seed in range(3):
        config = arms["adamw"].config.replace(steps=2000, seed=seed)
        store_run(store, config, curve_first_at(1000))
        store_run(store, arms["muon"].config.replace(steps=2000, seed=seed), never)
    row = next(r for r in fidelity_rows(store) if r.published is p)
    assert (row.median, row.lower, row.upper) == (None, None, pytest.approx(1000 / 2001))
    assert (row.status, row.measured_text()) == ("not reproduced", "≤ 0.50")
    # a bound that still reaches the tolerance band decides nothing
    assert fidelity._status(p, None, None, 2000 / 2001) == "not decided"


def test_the_cli_prints_the_table_as_json(tmp_path, capsys):
    assert main(["catalog", "--fidelity", "--json", "--store", str(tmp_path / "s.db")]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["published"] for r in rows] == [p.value for p in PUBLISHED]
    assert rows[0]["metric"] == "first step at test/acc ≥ 0.95"


@pytest.mark.skipif(not README.exists(), reason="no README beside the tests")
def test_readme_table_has_every_published_row_with_its_command():
    """The README's block is `catalog --fidelity --markdown` on the store of the measured runs
    (not in the repository): the same rows, in order, as generated here, each with its published
    value and a status; the rows not run carry the commands generated here."""
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- fidelity:start -->\n", "\n<!-- fidelity:end -->"
    block = text[text.index(start) + len(start) : text.index(end)]
    generated = markdown(fidelity_rows())

    def rows(table: str) -> list[list[str]]:
        return [line.split(" | ") for line in table.splitlines() if line.startswith("| `")]

    readme_rows = rows(block)
    assert [r[:2] for r in readme_rows] == [r[:2] for r in rows(generated)], "regenerate it"
    assert block.splitlines()[:2] == generated.splitlines()[:2]
    for row, line in zip(fidelity_rows(), readme_rows, strict=True):
        status = line[-1].rstrip(" |")
        assert status in fidelity.STATUSES
        if status == "not run":
            assert all(f"`{c}`" in block for c in row.commands)


def test_the_cli_prints_the_markdown_table(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    assert main(["catalog", "--fidelity", "--markdown", "--store", store]) == 0
    assert capsys.readouterr().out.strip() == markdown(fidelity_rows(Store(store)))
    assert main(["catalog", "--markdown", "--store", store]) == 2
    assert "--markdown goes with --fidelity" in capsys.readouterr().err


def test_jeffares_dd_readout_ranks_prime_counts_against_test_error():
    from types import SimpleNamespace

    from phenolab.catalog.entries.jeffares2025 import PRIMES_DD, primes_track_test_error
    from phenolab.catalog.entries.nakkiran2021_model_wise import WIDTH_ARMS

    def result(test_error: float, primes: dict[int, float]):
        events = SimpleNamespace(final_train_acc=1.0, final_test_acc=1 - test_error)
        metrics = {f"control/primes_x{s}": ([0, 100], [0.0, v]) for s, v in primes.items()}
        return SimpleNamespace(events=events, metrics=metrics)

    # a double-descent test error over three widths; ×100 follows it, ×10 rises, ×1000 falls
    errors = {9: 0.3, 16: 0.5, 27: 0.2}
    outcome = {
        WIDTH_ARMS[h]: [result(err, {10: h, 100: 10 * err, 1000: -h})] for h, err in errors.items()
    }
    measured = primes_track_test_error(outcome)
    assert measured.value == pytest.approx(1.0)
    assert "×10: ρ = -0.50" in measured.note and "×1000: ρ = 0.50" in measured.note
    verdict, _ = PRIMES_DD.expectations[0].judge(outcome)
    assert verdict == "PASS"
