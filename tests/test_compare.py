"""`phenolab compare`: speed-up statistics, arm specs, matched controls, interventions as a member
field of ensembles, and the command end to end on a tiny config."""

import json
import math
import random

import pytest

from phenolab.analysis.speedup import median_t_gen, speedup
from phenolab.cli import main
from phenolab.compare import parse_arm, plan_arms
from phenolab.config import RunConfig, check_ensemble, ensemble_groups
from phenolab.errors import ConfigError
from phenolab.store import Store
from tests.conftest import TINY, run, run_ensemble
from tests.test_ensemble import MEMBERS, assert_same_curves

# -- speed-up statistics ------------------------------------------------------------------------


def test_speedup_of_known_medians_with_a_deterministic_interval():
    base, arm = [100, 200, 300, 400, 500], [10, 20, 30, 40, 50]
    s = speedup(base, arm, 1000, 1000)
    assert s.value == 10 and s.bound is None
    assert s.low <= 10 <= s.high
    assert speedup(base, arm, 1000, 1000) == s  # fixed RNG seed: the same interval
    constant = speedup([400] * 5, [100] * 5, 1000, 1000)
    assert (constant.value, constant.low, constant.high) == (4, 4, 4)


def test_bootstrap_interval_contains_the_true_ratio_of_medians():
    rng = random.Random(1)  # log-normal t_gen: medians 2,000 and 200, true speed-up 10
    base = [round(2000 * math.exp(rng.gauss(0, 0.3))) for _ in range(25)]
    arm = [round(200 * math.exp(rng.gauss(0, 0.3))) for _ in range(25)]
    s = speedup(base, arm, 10_000, 10_000)
    assert s.low < 10 < s.high
    assert 6 < s.low and s.high < 16  # and it is informative at 25 seeds
    assert s.low <= s.value <= s.high


def test_never_generalized_seeds_are_infinite_in_medians_and_bounds_in_ratios():
    m = median_t_gen([100, 200, None], 1000)  # one never: the median is still known
    assert (m.value, m.censored) == (200, False)
    m = median_t_gen([100, None, None], 1000)
    assert (m.value, m.censored) == (1000, True)  # at least the run's length
    base = [400, 500, 600]
    upper = speedup(base, [100, None, None], 3000, 1000)  # the arm's median never came
    assert upper.bound == "upper" and upper.value == 0.5  # 500 / 1000: at most ×0.5
    lower = speedup([None, None, 900], [100, 100, 100], 2000, 2000)
    assert lower.bound == "lower" and lower.value == 20
    neither = speedup([None] * 3, [None] * 3, 1000, 1000)
    assert neither.bound == "unknown" and neither.value is None  # unknown, not 1000 / 1000
    assert speedup(base, [100, 200, None], 3000, 1000).bound is None


def test_below_five_seeds_the_interval_is_the_seeds_range():
    s = speedup([400, 500, 600], [100, 200, 300], 1000, 1000)
    assert s.interval == "range" and (s.low, s.high) == (400 / 300, 600 / 100)
    assert (s.low_bound, s.high_bound) == (None, None)
    five = speedup([400, 500, 600, 700, 800], [100, 200, 300, 400, 500], 1000, 1000)
    assert five.interval == "percentile bootstrap"


def test_an_interval_end_that_a_censored_seed_decides_is_a_bound():
    # the baseline's slowest seed never generalized: the range's high end is at least 600 / 100
    s = speedup([400, 500, None], [100, 200, 300], 600, 1000)
    assert s.bound is None and s.value == 500 / 200
    assert (s.low, s.low_bound) == (400 / 300, None)
    assert (s.high, s.high_bound) == (600 / 100, "lower")
    # an arm seed never generalized: the low end is at most 400 / 3,000
    s = speedup([400, 500, 600], [100, 200, None], 1000, 3000)
    assert (s.low_bound, s.high_bound) == ("upper", None) and s.low == 400 / 3000
    # bootstrap from 5 seeds: an end that resamples with the censored seed reach is a bound
    s = speedup([400, 500, 600, 700, None], [100, 110, 120, 130, 140], 800, 1000)
    assert s.interval == "percentile bootstrap" and s.high_bound == "lower"
    assert "≥" in s.describe()


# -- arms ---------------------------------------------------------------------------------------


def test_arm_specs_parse_to_interventions_and_config_changes():
    arm = parse_arm(" grokfast-ema:lamb=5 + set:wd=0,lr=1e-3 ")
    assert arm.interventions == ("grokfast-ema:lamb=5.0",)
    assert arm.changes == (("wd", "0"), ("lr", "1e-3"))
    assert arm.name == "grokfast-ema:lamb=5.0+set:wd=0,lr=1e-3"
    cfg = arm.config(RunConfig())
    assert (cfg.train.wd, cfg.train.lr, cfg.train.interventions) == (0, 1e-3, arm.interventions)
    # a `+` inside a value or a number is no part boundary; tuple fields keep their commas
    assert parse_arm("set:op=x+y,lr=1e+3").changes == (("op", "x+y"), ("lr", "1e+3"))
    assert parse_arm("set:betas=0.9,0.99").config(RunConfig()).train.betas == (0.9, 0.99)
    assert parse_arm("grokfast-ma:window=10+orthograd").interventions == (
        "grokfast-ma:window=10",
        "orthograd",
    )
    # arms add their interventions after the baseline's
    base = RunConfig().replace(interventions="orthograd")
    assert parse_arm("grokfast-ema").config(base).train.interventions == (
        "orthograd",
        "grokfast-ema",
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("grokfast", "arm 'grokfast': interventions: unknown intervention 'grokfast' (valid: "),
        (
            "grokfast-ema:lamb",
            "arm 'grokfast-ema:lamb': interventions: 'grokfast-ema:lamb': "
            "expected name=value, got 'lamb'",
        ),
        ("grokfast-ema:lamb=x", "lamb must be a number, got 'x'"),
        ("set:wd", "arm 'set:wd': expected set:FIELD=VALUE[,...], got 'wd'"),
        ("set:wdd=1", "arm 'set:wdd=1': unknown config field 'wdd' (valid fields: "),
        ("set:seed=3", "set:seed is not allowed (seeds are the comparison's (--seeds))"),
        ("set:wd=1,wd=2", "wd set twice"),
        ("set:wd=-1", "arm 'set:wd=-1': wd: must be non-negative, got -1.0"),
        ("set:lr=fast", "arm 'set:lr=fast': lr: expected float, got 'fast'"),
        ("  ", "arm: empty"),
    ],
)
def test_bad_arms_are_one_line_config_errors_naming_the_arm(text, message):
    with pytest.raises(ConfigError) as err:
        plan_arms(RunConfig(), [text])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_arm_given_twice_is_an_error():
    with pytest.raises(ConfigError, match="arm 'grokfast-ema' given twice"):
        plan_arms(RunConfig(), ["grokfast-ema", "grokfast-ema:alpha=0.98"])


def test_grokfast_matched_control_divides_the_learning_rate_by_one_plus_lambda():
    base = RunConfig().replace(lr=1e-2, wd=0.5)
    arms = plan_arms(base, ["grokfast-ema:lamb=3", "grokfast-ma"], matched=True)
    adam = "lr/(1+λ): smaller step under adamw"  # labelled for what it is under Adam
    assert [a.name for a in arms] == [
        "baseline",
        "grokfast-ema:lamb=3.0",
        f"grokfast-ema:lamb=3.0 [{adam}]",
        "grokfast-ma",
        f"grokfast-ma [{adam}]",
    ]
    ema, ma = arms[2].config(base), arms[4].config(base)
    assert ema.train.lr == pytest.approx(1e-2 / 4) and ma.train.lr == pytest.approx(1e-2 / 6)
    # the control keeps the filter and the weight decay
    assert ema.train.interventions == ("grokfast-ema:lamb=3.0",) and ema.train.wd == 0.5
    assert arms[2].control_of == "grokfast-ema:lamb=3.0" and arms[2].matched == adam
    assert len(plan_arms(base, ["grokfast-ema:lamb=3"])) == 2  # no controls unless asked
    # under SGD the (1 + λ) gain is a larger step, and the control matches it
    sgd = plan_arms(base.replace(optimizer="sgd"), ["grokfast-ma"], matched=True)
    assert sgd[2].name == "grokfast-ma [lr/(1+λ)]"


def test_an_arm_with_interventions_and_changes_is_matched_by_its_changes_alone():
    arms = plan_arms(RunConfig(), ["grokfast-ema+set:wd=0.1", "set:wd=0.3"], matched=True)
    names = [a.name for a in arms]
    assert names == [
        "baseline",
        "grokfast-ema+set:wd=0.1",
        "set:wd=0.1",  # the same weight decay without the filter
        "grokfast-ema+set:wd=0.1 [lr/(1+λ): smaller step under adamw]",
        "set:wd=0.3",  # config changes alone: nothing to match
    ]
    control = arms[3].config(RunConfig())
    assert control.train.wd == 0.1 and control.train.lr == pytest.approx(1e-2 / 3)
    # a control that another arm already is appears once
    again = plan_arms(RunConfig(), ["set:wd=0.1", "grokfast-ema+set:wd=0.1"], matched=True)
    assert [a.name for a in again].count("set:wd=0.1") == 1


# -- interventions as a member field ------------------------------------------------------------


def test_members_may_differ_in_intervention_floats_not_in_ids_or_integers():
    base = RunConfig()
    check_ensemble(
        [
            base.replace(interventions="grokfast-ema:lamb=1,orthograd"),
            base.replace(interventions="grokfast-ema:lamb=5,alpha=0.9,orthograd", seed=1),
        ]
    )
    with pytest.raises(ConfigError, match=r"^interventions: members of an ensemble must name"):
        check_ensemble([base.replace(interventions="grokfast-ema"), base])
    with pytest.raises(ConfigError, match=r"grokfast-ma\(window=10\) vs grokfast-ma\(window=20\)"):
        check_ensemble(
            [
                base.replace(interventions="grokfast-ma:window=10"),
                base.replace(interventions="grokfast-ma:window=20,lamb=1"),
            ]
        )
    with pytest.raises(ConfigError, match="orthograd, grokfast-ema vs grokfast-ema, orthograd"):
        check_ensemble(
            [
                base.replace(interventions="orthograd,grokfast-ema"),
                base.replace(interventions="grokfast-ema,orthograd"),
            ]
        )


def test_grouping_puts_different_intervention_ids_in_different_ensembles():
    base = RunConfig()
    specs = ["", "grokfast-ema", "grokfast-ema:lamb=5", "grokfast-ma:window=10", "grokfast-ma"]
    configs = [base.replace(interventions=s, seed=i) for i, s in enumerate(specs)]
    configs.append(base.replace(wd=0.0))  # a member field: with the baseline
    groups = ensemble_groups(configs)
    assert [[configs.index(c) for c in g] for g in groups] == [[0, 5], [1, 2], [3], [4]]
    for group in groups:
        check_ensemble(group)


def test_ensemble_of_members_with_different_intervention_parameters_equals_them_alone(tmp_path):
    base = RunConfig().replace(p=23, frac=0.6, steps=40, eval_every=10)
    params = [(0.98, 2.0, 1.0), (0.9, 5.0, 0.5), (0.5, 0.0, 2.0), (0.99, 1.0, 0.0)]
    configs = [
        base.replace(
            **m, interventions=(f"grokfast-ema:alpha={a},lamb={lamb}", f"decay-to-init:wd={wd}")
        )
        for m, (a, lamb, wd) in zip(MEMBERS, params, strict=True)
    ]
    ens_store, solo_store = Store(tmp_path / "ens.db"), Store(tmp_path / "solo.db")
    run_ensemble(configs, ens_store, "cpu")
    for cfg in configs:
        run(cfg, solo_store, "cpu")
        assert_same_curves(ens_store.metrics(cfg.run_id()), solo_store.metrics(cfg.run_id()))


# -- the command --------------------------------------------------------------------------------

ARGS = [f"--{k.replace('_', '-')}={v}" for k, v in (TINY | {"steps": 500}).items()]


def test_compare_end_to_end_json_table_report_and_store(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    argv = ["compare", "--baseline", "grokking", "--arm", "grokfast-ema", "--arm", "set:wd=0"]
    argv += ["--seeds", "2", *ARGS, "--store", store, "--workers", "1"]
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["baseline"]["name"] == "grokking" and result["seeds"] == 2
    assert [a["arm"] for a in result["arms"]] == ["grokking", "grokfast-ema", "set:wd=0"]
    keys = {"arm", "median_t_gen", "iqr", "speedup", "ci_low", "ci_high", "not_generalized"}
    for arm in result["arms"]:
        assert keys | {"seconds", "median_t95", "t_gen", "run_ids"} <= set(arm)
        assert arm["seeds"] == [0, 1] and len(arm["run_ids"]) == 2 and arm["seconds"] > 0
    baseline, _, no_wd = result["arms"]
    assert baseline["speedup"] == 1 and baseline["not_generalized"] == 0
    assert baseline["median_t95"] <= baseline["median_t_gen"] <= 500
    # the same splits: seed s of every arm trains on the same pairs; runs are distinct
    assert len({i for a in result["arms"] for i in a["run_ids"]}) == 6
    assert no_wd["not_generalized"] == 2 and no_wd["median_t_gen"] is None
    assert no_wd["speedup_bound"] == "upper"  # never generalized: at most baseline / 500
    html = open(result["report"], encoding="utf-8").read()
    assert "data:image/png;base64," in html and "grokfast-ema" in html and "speed-up" in html
    assert "2 ensemble group(s)" in err  # the baseline and set:wd=0 share one

    # everything is found in the store; the human table names every arm
    assert main([*argv, "--no-report"]) == 0
    out, _ = capsys.readouterr()
    assert "6 of 6 runs found finished" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("arm "))
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == [
        "grokking",
        "grokfast-ema",
        "set:wd=0",
    ]
    assert "≤ " in lines[header + 3] and "> 500" in lines[header + 3]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--arm", "grokfast"], "unknown intervention 'grokfast'"),
        (["--arm", "set:wd=0", "--wd", "0.1,1"], "wd: compare takes one value per field"),
        (["--arm", "set:wd=0", "--seeds", "0"], "seeds: must be at least 1"),
        (["--arm", "set:wd=0", "--baseline", "grok"], "unknown preset 'grok'"),
    ],
)
def test_compare_mistakes_are_one_line_errors(tmp_path, capsys, extra, message):
    assert main(["compare", "--store", str(tmp_path / "r.db"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# -- arms linked to other arms' runs (@K) -------------------------------------------------------


def test_linked_arms_take_the_run_of_the_named_arm_with_the_same_seed():
    base = RunConfig().replace(**TINY)
    arms = plan_arms(
        base,
        ["set:d_embed=4,width=16", "set:embed_rank=4,embed_from=@1", "set:ticket_from=@0,wd=0"],
    )
    weak, transfer, ticket = arms[1:]
    assert transfer.links == (("embed_from", weak.name),) and transfer.name.endswith("=@1")
    parents = {weak.name: weak.config(base.replace(seed=3)), "baseline": base.replace(seed=3)}
    cfg = transfer.config(base.replace(seed=3), parents)
    assert cfg.start.embed_from == weak.config(base.replace(seed=3)).run_id()
    assert ticket.config(base, {"baseline": base}).start.ticket_from == base.run_id()
    # controls keep the links
    matched = plan_arms(base, ["set:ticket_from=@0,wd=0+grokfast-ema"], matched=True)
    assert all(a.links == (("ticket_from", "baseline"),) for a in matched[1:])
    assert matched[2].name == "set:ticket_from=@0,wd=0"


@pytest.mark.parametrize("ref", ["@2", "@x", "@-1"])
def test_a_link_must_name_an_earlier_arm(ref):
    with pytest.raises(ConfigError, match=f"embed_from={ref} must name an earlier arm"):
        plan_arms(RunConfig(), ["set:d_embed=4", f"set:embed_rank=4,embed_from={ref}"])


def test_compare_trains_linked_arms_after_their_parents(tmp_path, capsys):
    store = str(tmp_path / "runs.db")
    argv = ["compare", "--arm", "set:d_embed=4,width=16", "--arm", "set:embed_rank=4,embed_from=@1"]
    argv += ["--arm", "set:ticket_from=@0,sparsity=0.5", "--seeds", "2", *ARGS, "--steps", "100"]
    assert main([*argv, "--store", store, "--workers", "1", "--json", "--no-report"]) == 0
    result = json.loads(capsys.readouterr().out)
    baseline, weak, transfer, ticket = result["arms"]
    runs = Store(store)
    for child, parent, field in ((transfer, weak, "embed_from"), (ticket, baseline, "ticket_from")):
        for child_id, parent_id in zip(child["run_ids"], parent["run_ids"], strict=True):
            assert runs.get_run(child_id).config["start"][field] == parent_id


def test_tickets_and_grok_transfer_get_their_controls_when_matched():
    base = RunConfig().replace(**TINY)
    arms = plan_arms(
        base,
        ["set:ticket_from=@0,sparsity=0.6", "set:d_embed=4", "set:embed_rank=4,embed_from=@2"],
        matched=True,
    )
    names = [a.name for a in arms]
    assert names == [
        "baseline",
        "set:ticket_from=@0,sparsity=0.6",
        "set:ticket_from=@0,sparsity=0.6 [random mask]",
        "set:ticket_from=@0,sparsity=0.6 [initial norm]",
        "set:d_embed=4",
        "set:embed_rank=4,embed_from=@2",
        "set:embed_rank=4,embed_from=@2 [random A·B]",
    ]
    parents = {"baseline": base, "set:d_embed=4": base.replace(d_embed=4)}
    random_mask, norm, low_rank = (arms[i].config(base, parents) for i in (2, 3, 6))
    assert random_mask.start.mask_kind == "random" and norm.start.mask_kind == "norm-matched"
    assert random_mask.start.ticket_from == base.run_id() and random_mask.start.sparsity == 0.6
    assert low_rank.model.embed_rank == 4 and low_rank.start.embed_from is None
    assert arms[6].control_of == "set:embed_rank=4,embed_from=@2"
