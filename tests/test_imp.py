"""IMP on image tasks, as `imp()`, as catalog arms and as `phenolab imp`: masks that shrink round
after round by the scheduled amount (per tensor in layer scope, conv kernels included), rewinding
to the first start, controls that share the mask's counts, one set of run ids for all three
paths, and the lottery-ticket read-outs on constructed curves."""

import json
import math
from types import SimpleNamespace

import pytest
import torch

from phenolab.analysis.tickets import early_stop_step, matching_depth, standard_error
from phenolab.catalog import Entry, Expectation, get
from phenolab.catalog.imp import arm_name, as_outcome, dense_arm, imp, imp_arms
from phenolab.catalog.imp_measures import (
    accuracy_gap,
    early_stop_ratio,
    imp_figures,
    matching_remaining,
    matching_rounds_gap,
    mean_accuracy_gap,
)
from phenolab.catalog.reproduce import arm_configs, reproduce, stages
from phenolab.cli import main
from phenolab.config import RunConfig
from phenolab.config.presets import preset
from phenolab.errors import ConfigError
from phenolab.interventions.masks import layer_sparsity, sparsity_of
from phenolab.run.start import imp_sparsity, run_mask
from phenolab.store import Store

# a tiny LeNet-shaped MLP on scikit-learn's digits (1,232 prunable weights): seconds per round
DIGITS = RunConfig().replace(
    op="digits",
    model="dense",
    widths=(16, 8),
    optimizer="adamw",
    lr=1e-2,
    wd=0.0,
    warmup=0,
    batch_size=50,
    n_train=200,
    steps=20,
    eval_every=10,
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


# -- read-outs on constructed curves -----------------------------------------------------------


def test_early_stop_is_the_first_minimum_of_the_test_loss():
    assert early_stop_step([0, 10, 20, 30], [2.0, 1.0, 1.0, 1.5]) == 10  # the first of a tie
    assert early_stop_step([0, 10, 20], [float("nan"), 3.0, 2.0]) == 20  # NaN never wins
    with pytest.raises(ValueError, match="no evaluations"):
        early_stop_step([], [])


def test_standard_error_and_matching_depth():
    assert standard_error(0.8, 100) == pytest.approx(0.04)
    assert standard_error(1.0, 10) == 0.0
    assert matching_depth([0.9, 0.8, 0.7, 0.9], bar=0.75) == 2  # round 3 breaks the run
    assert matching_depth([0.7, 0.9], bar=0.75) == 0
    assert matching_depth([0.8, float("nan")], bar=0.75) == 1
    assert matching_depth([0.8, 0.8], bar=0.75) == 2


def fake_run(acc: float, step: int = 100, sparsity: float = 0.0):
    """A stand-in result whose test loss is lowest at `step`, with test accuracy `acc` there."""
    config = DIGITS.replace(sparsity=sparsity).to_json()
    steps = [0, step, 2 * step]
    return SimpleNamespace(
        record=SimpleNamespace(config=config),
        metrics={"test/loss": (steps, [2.3, 1.0, 1.4]), "test/acc": (steps, [0.1, acc, acc])},
    )


def fake_imp(dense, chains, rate=0.2, steps=None):
    """{"dense": …, "kind rN": …}: every arm three seeds with the same accuracy."""
    out = {"dense": [fake_run(dense, step=200)] * 3}
    for kind, accs in chains.items():
        for r, acc in enumerate(accs, start=1):
            step = steps[r - 1] if steps else 100
            out[arm_name(kind, r)] = [fake_run(acc, step, imp_sparsity(rate, r))] * 3
    return out


def test_matching_is_judged_against_one_standard_error_of_the_dense_accuracy():
    se = math.sqrt(0.8 * 0.2 / 297)  # digits: 297 test images
    outcome = fake_imp(
        0.8, {"ticket": [0.82, 0.8 - 0.9 * se, 0.79, 0.70, 0.85], "reinit": [0.76, 0.7]}
    )
    m = matching_remaining(outcome, "ticket")
    assert m.value == pytest.approx(0.8**3) and "round 3 of 5" in m.note  # round 4 breaks it
    assert matching_remaining(outcome, "reinit").value == 1.0  # not even round 1
    assert matching_rounds_gap(outcome, "ticket", "reinit").value == 3
    every = fake_imp(0.8, {"ticket": [0.81, 0.8], "reinit": [0.8, 0.5]})
    censored = matching_remaining(every, "ticket")  # the last round still matches: a bound
    assert censored.value is None and censored.upper == pytest.approx(0.64)
    assert matching_rounds_gap(every, "ticket", "reinit").lower == 1


def test_accuracy_and_early_stop_comparisons():
    outcome = fake_imp(0.8, {"ticket": [0.82, 0.84], "random": [0.7, 0.6]}, steps=[100, 50])
    assert accuracy_gap(outcome, "random r2", "dense").value == pytest.approx(-0.2)
    assert mean_accuracy_gap(outcome, ["ticket r1", "ticket r2"], "dense").value == (
        pytest.approx(0.03)
    )
    assert early_stop_ratio(outcome, "ticket r2", "dense").value == 0.25  # 50 / 200
    outcome["dense"] = [SimpleNamespace(record=outcome["dense"][0].record, metrics=None)]
    m = matching_remaining(outcome, "ticket")  # no curves: unknown, hence INCONCLUSIVE
    assert m.value is None and "without test loss" in m.note
    (caption, fig), *_ = imp_figures(fake_imp(0.8, {"ticket": [0.82, 0.84]}), ["ticket"])
    assert "early-stopping" in caption and len(fig.axes) == 2


# -- IMP runs ------------------------------------------------------------------------------------


def test_imp_per_layer_masks_shrink_on_schedule_rewind_to_init_and_controls_share_counts(
    tmp_path,
):
    store = Store(tmp_path / "runs.db")
    base = DIGITS.replace(keep_checkpoint_at=(0,))  # every run keeps its start, to compare
    rounds = imp(base, store, rounds=3, rate=0.5, scope="layer", device="cpu", workers=1)
    init = store.kept_weights(rounds[0].runs["ticket"][0].record.id, 0)
    previous = None
    for r in rounds[1:]:
        (ticket,), (reinit,), (random,) = (r.runs[k] for k in ("ticket", "reinit", "random"))
        mask = run_mask(store, ticket.record.id)
        assert set(mask) == {"W_in", "W_hidden.0", "W_out"}  # weight matrices, never biases
        for name, pruned in layer_sparsity(mask).items():  # each tensor, up to one weight
            assert abs(pruned.item() - imp_sparsity(0.5, r.round)) <= 1 / mask[name][0].numel()
        assert r.sparsity == [pytest.approx(float(sparsity_of(mask)[0]))]
        if previous is not None:
            assert all(not (mask[w] & ~previous[w]).any() for w in mask)  # masks only shrink
        previous = mask
        # rewound to round 0's initialisation, pruned
        start = store.kept_weights(ticket.record.id, 0)
        assert all(torch.equal(start[w], init[w] * mask[w]) for w in mask)
        assert torch.equal(start["b_in"], init["b_in"])
        # reinit: the same mask on a fresh initialisation
        assert all(torch.equal(m, mask[w]) for w, m in run_mask(store, reinit.record.id).items())
        fresh = store.kept_weights(reinit.record.id, 0)
        assert not torch.equal(fresh["W_in"], start["W_in"])
        # random: as many weights per tensor, elsewhere
        shuffled = run_mask(store, random.record.id)
        for w in mask:
            assert int(shuffled[w].sum()) == int(mask[w].sum())
            assert not torch.equal(shuffled[w], mask[w])
        for run in (ticket, reinit, random):  # pruned weights still zero after training
            final = store.load_checkpoint(run.record.id)[2]
            assert all((final["model"][w][~m] == 0).all() for w, m in final["mask"].items())
    table = rounds[3].as_dict()["arms"]["ticket"]
    assert len(table["early_stop_step"]) == 1 and 0 <= table["early_stop_acc"][0] <= 1


def test_cnn_tickets_prune_conv_kernels_and_rewind_to_step_k(tmp_path):
    store = Store(tmp_path / "runs.db")
    cnn = DIGITS.replace(model="cnn", widths=(4, 4), keep_checkpoint_at=(0,))
    rounds = imp(cnn, store, rounds=2, rate=0.5, rewind=5, controls=(), device="cpu", workers=1)
    dense = rounds[0].runs["ticket"][0].record.id
    theta_5 = store.kept_weights(dense, 5)
    for r in rounds[1:]:
        run_id = r.runs["ticket"][0].record.id
        mask = run_mask(store, run_id)
        assert set(mask) == {"W_conv.0", "W_conv.1", "W_out"}  # [E, C_out, C_in, 3, 3] kernels
        assert r.sparsity[0] == pytest.approx(imp_sparsity(0.5, r.round), abs=1e-3)
        start = store.kept_weights(run_id, 0)  # every round rewinds to the dense run's θ_5
        assert all(torch.equal(start[w], theta_5[w] * mask[w]) for w in mask)
        final = store.load_checkpoint(run_id)[2]["model"]
        assert all((final[w][~m] == 0).all() for w, m in mask.items())


def tiny_entry(rewind="init") -> Entry:
    def matches(outcome):
        return matching_remaining(outcome, "ticket")

    return Entry(
        id="test-imp",
        phenomenon="lottery tickets",
        paper="Test (2026)",
        title="tiny IMP",
        description="d",
        reproduces="r",
        arms=(dense_arm(DIGITS, None, (rewind,)), *imp_arms(DIGITS, None, 2, 0.5, rewind=rewind)),
        expectations=(Expectation("match", "c", matches, "<=", 0.5),),
        seeds=3,
        quick_seeds=2,
    )


def test_imp_arms_are_a_parent_chain_with_the_run_ids_of_imp(tmp_path):
    entry = tiny_entry(rewind=5)
    assert stages(entry) == [
        ["dense"],
        ["ticket r1", "reinit r1", "random r1"],
        ["ticket r2", "reinit r2", "random r2"],
    ]
    arms = arm_configs(entry, quick=True, n=2)
    assert arms["dense"][0].start.keep_checkpoint_at == (5,)
    assert [c.start.rewind for c in (arms["ticket r1"][0], arms["ticket r2"][0])] == ["5", "init"]
    assert arms["reinit r1"][0].start.reinit and arms["reinit r1"][0].start.rewind == "init"
    assert arms["random r2"][0].start.ticket_from == arms["ticket r1"][0].run_id()
    # IMP run by the command first: reproducing the entry finds every run in the store
    store = Store(tmp_path / "runs.db")
    rounds = imp(DIGITS, store, rounds=2, rate=0.5, rewind=5, seeds=(0, 1), workers=1)
    mine = as_outcome(rounds)
    result = reproduce(entry, store, torch.device("cpu"), quick=True, seeds=2, workers=1)
    assert set(result.outcome) == set(mine)
    for name, runs in result.outcome.items():
        assert [r.record.id for r in runs] == [r.record.id for r in mine[name]], name
        assert all(r.cached for r in runs)
    assert result.verdicts[0].verdict in ("PASS", "FAIL", "INCONCLUSIVE")


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(rounds=0), "rounds: must be at least 1"),
        (dict(rate=1.0), "rate: the fraction pruned per round must be in (0, 1)"),
        (dict(controls=("shuffle",)), "controls: unknown ['shuffle']"),
        (dict(rewind="early"), "rewind: expected init or a step k"),
        (dict(rewind=50), "rewind: step 50 is beyond the run's 20 steps"),
    ],
)
def test_bad_imp_requests_are_config_errors(fields, message, tmp_path):
    args = dict(rounds=2) | fields
    with pytest.raises(ConfigError) as err:
        imp(DIGITS, Store(tmp_path / "r.db"), device="cpu", **args)
    assert message in str(err.value)
    with pytest.raises(ConfigError):
        imp_arms(DIGITS, None, **args)


# -- the command ---------------------------------------------------------------------------------

TINY_IMP = [
    "--op=digits",
    "--widths=16,8",
    "--n-train=200",
    "--batch-size=50",
    "--steps=20",
    "--eval-every=10",
    "--workers=1",
]


def test_phenolab_imp_prints_a_row_per_round_and_json(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    argv = ["imp", *TINY_IMP, "--rounds=2", "--rate=0.5", "--seeds=2", "--store", store]
    assert main([*argv, "--figure", str(tmp_path / "imp.png")]) == 0
    out = capsys.readouterr().out
    dense_id = (
        preset("lenet")
        .replace(op="digits", widths=(16, 8), n_train=200, batch_size=50, steps=20, eval_every=10)
        .run_id()
    )
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["round", "sparsity"])
    assert lines[header].split()[3:6] == ["ticket", "reinit", "random"]
    rows = [line.split() for line in lines[header + 1 : header + 4]]
    assert [row[0] for row in rows] == ["0", "1", "2"]
    assert [row[1] for row in rows] == ["0.0%", "50.0%", "75.0%"]
    assert "matches dense down to" in out and (tmp_path / "imp.png").stat().st_size > 0

    assert main([*argv, "--scope", "layer", "--controls", "none", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scope"] == "layer" and result["seeds"] == [0, 1]
    assert [r["round"] for r in result["rounds"]] == [0, 1, 2]
    assert set(result["rounds"][2]["arms"]) == {"ticket"}
    assert result["rounds"][2]["sparsity"] == pytest.approx([0.75, 0.75], abs=0.01)
    assert result["rounds"][0]["arms"]["ticket"]["run_ids"][0] == dense_id  # found, not retrained
    assert {"value", "upper", "note"} <= set(result["matching_remaining"]["ticket"])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--controls", "shuffle"], "controls: unknown ['shuffle']"),
        (["--scope", "row"], "prune_scope: unknown 'row'"),
        (["--rewind", "500"], "rewind: step 500 is beyond the run's 20 steps"),
        (["--sparsity", "0.5"], "sparsity: imp sets the ticket fields of each round"),
        (["--rate", "1.5"], "rate: the fraction pruned per round must be in (0, 1)"),
        (["--lr", "0.1,0.2"], "lr: imp takes one value per field"),
        (["--seeds", "0"], "seeds: must be at least 1"),
    ],
)
def test_phenolab_imp_bad_input_is_one_line_and_exit_2(extra, message, tmp_path, capsys):
    code = main(["imp", *TINY_IMP, "--store", str(tmp_path / "r.db"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


# -- the catalog entry ---------------------------------------------------------------------------


def test_frankle2019_is_twenty_rounds_of_tickets_and_controls():
    entry = get("frankle2019-lenet")
    assert len(entry.arms) == 1 + 20 * 3 and len(stages(entry)) == 21
    quick = arm_configs(entry, quick=True, n=1)
    assert quick["ticket r20"][0].start.sparsity == pytest.approx(1 - 0.8**20)
    assert quick["dense"][0].model.widths == (300, 100) and quick["dense"][0].task.op == "mnist1d"


def lenet_outcome(ticket, reinit, random, ticket_steps):
    """A constructed frankle2019 outcome: dense at 0.62 stopping at step 500."""
    out = {"dense": [fake_run(0.62, step=500)] * 3}
    for r in range(1, 21):
        for kind, accs in (("ticket", ticket), ("reinit", reinit), ("random", random)):
            step = ticket_steps[r - 1] if kind == "ticket" else 500
            out[arm_name(kind, r)] = [fake_run(accs[r - 1], step, imp_sparsity(0.2, r))] * 3
    return out


def test_frankle2019_expectations_read_the_published_pattern_and_its_opposite():
    entry = get("frankle2019-lenet")
    published = lenet_outcome(
        ticket=[0.64] * 18 + [0.6, 0.5],
        reinit=[0.62, 0.61] + [0.5] * 18,
        random=[0.6] * 10 + [0.4] * 10,
        ticket_steps=[400] * 20,
    )
    assert {x.id: x.judge(published)[0] for x in entry.expectations} == dict.fromkeys(
        (x.id for x in entry.expectations), "PASS"
    )
    opposite = lenet_outcome(
        ticket=[0.60] * 3 + [0.5] * 17,
        reinit=[0.62] * 20,
        random=[0.62] * 20,
        ticket_steps=[600] * 20,
    )
    assert {x.id: x.judge(opposite)[0] for x in entry.expectations} == dict.fromkeys(
        (x.id for x in entry.expectations), "FAIL"
    )


def test_frankle2020_reads_late_rewinding_against_init_and_random_pruning():
    entry = get("frankle2020-rewind")
    assert len(entry.arms) == 1 + 10 * 3 and len(stages(entry)) == 11
    quick = arm_configs(entry, quick=True, n=1)
    assert quick["dense"][0].start.keep_checkpoint_at == (40,)
    assert quick["rewind-k r1"][0].start.rewind == "40"
    assert quick["rewind-0 r1"][0].start.rewind == "init"
    assert quick["rewind-k/random r3"][0].start.ticket_from == quick["rewind-k r2"][0].run_id()

    def outcome(accs):
        out = {"dense": [fake_run(0.9, step=500)] * 3}
        for kind, values in accs.items():
            for r, acc in enumerate(values, start=1):
                out[arm_name(kind, r)] = [fake_run(acc, 400, imp_sparsity(0.2, r))] * 3
        return out

    published = outcome(
        {
            "rewind-k": [0.9] * 9 + [0.8],
            "rewind-0": [0.9] * 3 + [0.8] * 7,
            "rewind-k/random": [0.9, 0.8] + [0.7] * 8,
        }
    )
    verdicts = {x.id: x.judge(published)[0] for x in entry.expectations}
    assert set(verdicts.values()) == {"PASS"}, verdicts
    init_as_good = outcome(
        {"rewind-k": [0.9] * 10, "rewind-0": [0.9] * 10, "rewind-k/random": [0.9] * 10}
    )
    verdicts = {x.id: x.judge(init_as_good) for x in entry.expectations}
    assert verdicts["rewind-k-matches-to-16.8%"][0] == "PASS"  # matches to the last round
    # both chains match to the end: the gap is unknown (both censored), not a FAIL
    assert verdicts["late-rewinding-beats-init"][0] == "INCONCLUSIVE"
