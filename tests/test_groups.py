import itertools
import math

import pytest
import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.run.shards import parameter_count
from phenolab.store import Store
from phenolab.tasks import PAIRS, SEQUENCE, TaskConfig, build, describe, groups, task_of
from tests.conftest import run

GROUPS = ["S3", "S4", "S5", "D3", "D4", "D7", "D59"]


def sample_triples(n: int, k: int = 2000):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, n, (3, k), generator=g)


@pytest.mark.parametrize("op", GROUPS)
def test_every_table_is_a_group(op):
    t = groups.cayley_table(op)
    n = groups.group_order(op)
    assert t.shape == (n, n) and t.dtype == torch.int64
    assert 0 <= int(t.min()) and int(t.max()) < n  # closure
    assert torch.equal(t[0], torch.arange(n)) and torch.equal(t[:, 0], torch.arange(n))  # e = 0
    # a Latin square: each row and column is a permutation (cancellation, so inverses exist)
    assert torch.equal(t.sort(dim=1).values, torch.arange(n).expand(n, n))
    assert torch.equal(t.sort(dim=0).values, torch.arange(n)[:, None].expand(n, n))
    inv = groups.inverses(t)
    assert torch.all(t[torch.arange(n), inv] == 0) and torch.all(t[inv, torch.arange(n)] == 0)
    a, b, c = sample_triples(n)
    assert torch.equal(t[t[a, b], c], t[a, t[b, c]])  # associativity on a sample


def test_symmetric_group_order_convention_and_non_commutativity():
    assert groups.group_order("S5") == 120 and groups.group_order("S6") == 720
    perms = groups.permutations(4)
    assert perms.tolist() == [list(p) for p in itertools.permutations(range(4))]  # lexicographic
    t = groups.cayley_table("S4")
    for x, y in [(3, 17), (5, 9), (23, 1)]:
        composed = [perms[x][perms[y][i]].item() for i in range(4)]  # x after y
        assert perms[t[x, y]].tolist() == composed
    t5 = groups.cayley_table("S5")
    assert not torch.equal(t5, t5.T)  # non-abelian
    assert (t5 != t5.T).float().mean() > 0.5


@pytest.mark.parametrize("n", [3, 4, 7, 59])
def test_dihedral_relations(n):
    t = groups.cayley_table(f"D{n}")
    assert len(t) == 2 * n
    r, s, e = 1, n, 0

    def power(x, k):
        y = e
        for _ in range(k):
            y = int(t[y, x])
        return y

    assert power(r, n) == e and all(power(r, k) != e for k in range(1, n))
    assert power(s, 2) == e
    r_inv = power(r, n - 1)
    assert int(t[t[s, r], s]) == r_inv  # s r s = r⁻¹
    assert int(t[r, s]) == n + 1  # r s has index f·n + k = n + 1
    assert not torch.equal(t, t.T)


@pytest.mark.parametrize("n", [5, 6, 59])
def test_dihedral_irrep_projectors_decompose_functions_on_the_group(n):
    chars = groups.dihedral_characters(n)
    assert sum(d * d for d, _ in chars.values()) == 2 * n
    assert len(chars) == ((n + 3) // 2 if n % 2 else (n + 6) // 2)  # 1-d ones, then ρ_k
    P = groups.dihedral_irreps(n)
    eye = torch.eye(2 * n, dtype=torch.float64)
    assert torch.allclose(sum(P.values()), eye, atol=1e-10)  # complete
    for name, p in P.items():
        d = chars[name][0]
        assert torch.allclose(p @ p, p, atol=1e-10) and torch.allclose(p, p.T, atol=1e-12)
        assert round(float(p.trace())) == d * d  # dimension of the isotypic component
    # a matrix coefficient of ρ_2 (ρ(r^k s^f)_00 = cos(2π·2k/n)) lies entirely in rho2
    k = torch.arange(2 * n) % n
    w = torch.stack([torch.cos(2 * math.pi * 2 * k / n), torch.sin(2 * math.pi * 2 * k / n)], 1)
    shares = groups.irrep_shares(w, P)
    assert shares["rho2"] == pytest.approx(1.0) and sum(shares.values()) == pytest.approx(1.0)
    sign = (1 - 2 * (torch.arange(2 * n) // n)).double()[:, None]
    assert groups.irrep_shares(sign, P)["sign"] == pytest.approx(1.0)
    rand = torch.randn(2 * n, 16, generator=torch.Generator().manual_seed(0))
    assert sum(groups.irrep_shares(rand, P).values()) == pytest.approx(1.0)


def test_group_ops_in_task_config_and_tables():
    cfg = TaskConfig(op="S5", frac=0.4)
    assert task_of(cfg.op).n_pairs(cfg) == 14_400 and describe(cfg.op, cfg.p) == "S5"
    pairs, answers = task_of(cfg.op).table(cfg)
    assert torch.equal(answers, groups.cayley_table("S5")[pairs[:, 0], pairs[:, 1]])
    for spelling, name in [("s5", "S5"), ("S_5", "S5"), ("d_59", "D59"), ("D 7", "D7")]:
        assert TaskConfig(op=spelling).op == name
    assert describe("x+y", 97) == "x+y mod 97"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(op="S7"), "op: S<n> needs"),
        (dict(op="S1"), "op: S<n> needs"),
        (dict(op="D2"), "op: D<n> needs"),
        (dict(op="Q8"), "op: unknown operation"),
        (dict(op="S5", p=113), "p: not used by the group op S5"),
        (dict(op="D3", frac=0.01), "frac:"),  # 0.01 of 36 pairs rounds to no data
    ],
)
def test_invalid_group_configs_are_one_line_errors(kwargs, field):
    with pytest.raises(ConfigError, match=field) as err:
        TaskConfig(**kwargs)
    assert "\n" not in str(err.value)


def test_group_data_for_mlp_and_transformer():
    cfgs = [TaskConfig(op="D5", frac=0.5), TaskConfig(op="D5", frac=0.3)]
    mlp = build(cfgs, PAIRS, seeds=[0, 1])
    assert mlp.n_classes == 10 and mlp.vocab == 10 and mlp.x_train.shape == (2, 50, 2)
    assert mlp.train_sizes() == [50, 30]
    seq = build(cfgs[:1], SEQUENCE, seeds=[0])
    assert seq.vocab == 12 and seq.x_train.shape == (1, 50, 4)
    assert set(seq.x_train[0, :, 1].tolist()) == {10} and set(seq.x_train[0, :, 3].tolist()) == {11}
    t = groups.cayley_table("D5")
    assert torch.equal(seq.y_train[0], t[seq.x_train[0, :, 0], seq.x_train[0, :, 2]])
    # the same split as a modular task of the same size and seed: the split depends on n only
    assert RunConfig().replace(op="D5").canonical() == {"op": "D5"}
    assert parameter_count(RunConfig().replace(op="D5")) < parameter_count(RunConfig())


def test_a_group_run_trains_and_classifies_against_its_own_chance(tmp_path):
    cfg = RunConfig().replace(op="S3", frac=0.5, steps=40, eval_every=20)
    result = run(cfg, Store(tmp_path / "runs.db"), device="cpu")
    assert result.record.status == "finished" and result.events.t_fit is not None
    assert result.record.config["task"]["op"] == "S3"


def context_with_embedding(w: torch.Tensor, group: str | None):
    from types import SimpleNamespace

    from phenolab.measures import Context

    data = SimpleNamespace(group=group, n_classes=w.shape[1])
    return Context(model=SimpleNamespace(embedding=lambda: w), data=data, loss_fn=None)


def test_irreps_measure_finds_a_planted_representation():
    from phenolab.measures import MEASURES
    from phenolab.measures.irreps import key_count

    n = 7
    k = torch.arange(2 * n) % n
    reflect = 1 - 2 * (torch.arange(2 * n) // n)
    theta = 2 * math.pi * 3 * k / n
    # the 4 matrix coefficients of ρ_3 as embedding columns (+ 2 padding tokens, ignored)
    planted = torch.stack(
        [theta.cos(), theta.sin(), theta.sin() * reflect, -theta.cos() * reflect], dim=1
    )
    w = torch.cat([planted, torch.full((2, 4), 9.0)])[None]  # [1, 2n + 2, 4]
    out = MEASURES["irreps"](context_with_embedding(w, "D7"))
    assert out["irrep/rho3"].item() == pytest.approx(1.0, abs=1e-6)
    assert out["irrep/key"].item() == 1 and out["irrep/top"].item() == pytest.approx(1.0)
    rand = torch.randn(3, 2 * n, 64, generator=torch.Generator().manual_seed(0))
    spread = MEASURES["irreps"](context_with_embedding(rand, "D7"))
    assert torch.all(spread["irrep/key"] >= 4)  # of 5 irreps: no concentration
    shares = torch.tensor([[0.5, 0.3, 0.15, 0.05], [0.25, 0.25, 0.25, 0.25]])
    assert key_count(shares).tolist() == [3, 4]


@pytest.mark.parametrize("op", ["S5", "x+y"])
def test_irreps_measure_is_refused_at_config_time_for_other_tasks(op):
    from phenolab.config import RunConfig

    with pytest.raises(ConfigError, match="irreps needs a dihedral group"):
        RunConfig().replace(op=op, measures="irreps")


def fake_results(events, op="D7", key=None, steps=1000):
    from types import SimpleNamespace

    return [
        SimpleNamespace(
            events=SimpleNamespace(t_fit=t_fit, t_gen=t_gen, phase="grokking"),
            record=SimpleNamespace(
                id=f"run{i}", config={"train": {"steps": steps}, "task": {"op": op}}
            ),
            metrics=None if key is None else {"irrep/key": ([0, steps], [9, key[i]])},
        )
        for i, (t_fit, t_gen) in enumerate(events)
    ]


def test_chughtai_delay_ratio_and_irrep_fraction():
    from phenolab.catalog.entries.chughtai2023 import delay_ratio, irrep_key_fraction
    from phenolab.catalog.entry import MissingCurves

    done = {"a": fake_results([(100, 2000), (100, 500), (50, 1000)])}
    assert delay_ratio(done, "a").value == pytest.approx(20.0)  # ratios 20, 5, 20
    late = {"a": fake_results([(100, 2000), (100, None), (50, None)])}
    m = delay_ratio(late, "a")  # never generalized: t_gen > 1000, ratios ≥ 10.01, ≥ 20.02
    assert m.value is None and m.lower == pytest.approx(20.0) and "2 seed(s)" in m.note
    assert delay_ratio({"a": fake_results([(None, None)])}, "a").value is None
    keys = {"a": fake_results([(1, 2)] * 3, op="D7", key=[3, 5, 2])}  # D7 has 5 irreps
    assert irrep_key_fraction(keys, "a").value == pytest.approx(0.6)
    with pytest.raises(MissingCurves, match="^a: "):  # not recorded: judged INCONCLUSIVE
        irrep_key_fraction(done, "a")


def test_chughtai_figures_draw_irrep_shares():
    import matplotlib.pyplot as plt

    from phenolab.catalog import get

    names = list(groups.dihedral_characters(59))
    steps = [0, 10, 100, 1000]
    metrics = {
        f"irrep/{n}": (steps, [1 / len(names)] * 3 + [0.5 if n == "rho3" else 0.01]) for n in names
    }
    metrics.update({"irrep/key": (steps, [27, 27, 20, 3]), "test/acc": (steps, [0, 0, 0.5, 1])})
    results = fake_results([(10, 500)] * 2, op="D59")
    for r in results:
        r.metrics = metrics
    entry = get("chughtai2023-groups")
    figures = entry.figures({"S5": [], "D59": results}, store=None)
    assert len(figures) == 1 and "irreducible representation" in figures[0][0]
    plt.close(figures[0][1])
    no_irreps = fake_results([(10, 500)])
    no_irreps[0].metrics = {"test/acc": (steps, [0, 0, 0.5, 1])}
    assert entry.figures({"S5": [], "D59": no_irreps}, store=None) == []


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["S5", "D59"])
def test_quick_group_arms_grok_on_cpu(tmp_path, arm):
    """chughtai2023-groups, quick arms, seed 0: train fits early, test generalizes ≥ 5× later
    (pilots: S5 t_fit ≈ 100, t_gen ≈ 5,000; D59 t_fit ≈ 100, t_gen ≈ 1,400)."""
    from phenolab.catalog.entries.chughtai2023 import QUICK

    ev = run(QUICK[arm], Store(tmp_path / "r.db"), device="cpu").events
    assert ev.phase == "grokking" and ev.t_gen is not None and ev.t_gen >= 5 * ev.t_fit, ev
