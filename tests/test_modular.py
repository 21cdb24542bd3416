import pytest
import torch

from phenolab.errors import ConfigError
from phenolab.tasks import PAIRS, SEQUENCE, TaskConfig, build, task_of
from phenolab.tasks.arithmetic import OPERATIONS, is_prime, normalize_op
from phenolab.tasks.pairs import encode, split


def table(cfg):
    return task_of(cfg.op).table(cfg)


def n_pairs(cfg):
    return task_of(cfg.op).n_pairs(cfg)


REFERENCE = {
    "x+y": lambda x, y, p: (x + y) % p,
    "x-y": lambda x, y, p: (x - y) % p,
    "x*y": lambda x, y, p: (x * y) % p,
    "x/y": lambda x, y, p: (x * pow(y, -1, p)) % p,
    "x^2+y^2": lambda x, y, p: (x**2 + y**2) % p,
    "x^2+xy+y^2": lambda x, y, p: (x**2 + x * y + y**2) % p,
    "x^2+xy+y^2+x": lambda x, y, p: (x**2 + x * y + y**2 + x) % p,
    "x^3+xy": lambda x, y, p: (x**3 + x * y) % p,
    "x^3+xy^2+y": lambda x, y, p: (x**3 + x * y**2 + y) % p,
    "2x+y": lambda x, y, p: (2 * x + y) % p,  # Furuta et al. 2024
}


def test_every_operation_is_registered():
    assert set(OPERATIONS) == set(REFERENCE)


@pytest.mark.parametrize("op", sorted(REFERENCE))
@pytest.mark.parametrize("p", [7, 97])
def test_operation_table_matches_python_integers(op, p):
    pairs, answers = table(TaskConfig(op=op, p=p))
    expected = [REFERENCE[op](x, y, p) for x, y in pairs.tolist()]
    assert answers.tolist() == expected
    assert len(answers) == n_pairs(TaskConfig(op=op, p=p))
    assert answers.min() >= 0 and answers.max() < p


def test_division_inverts_multiplication_mod_97():
    p = 97
    pairs, quotients = table(TaskConfig(op="x/y", p=p))
    x, y = pairs[:, 0], pairs[:, 1]
    assert (y != 0).all()  # division is defined for y ≠ 0 only
    assert len(quotients) == p * (p - 1)
    assert torch.equal(quotients * y % p, x)


def test_large_cubic_terms_do_not_overflow():
    # x³ + x·y² + y for p = 1009 reaches ~2e9; int64 arithmetic must stay exact.
    pairs, answers = table(TaskConfig(op="x^3+xy^2+y", p=1009))
    x, y = pairs[-1].tolist()
    assert answers[-1].item() == (x**3 + x * y * y + y) % 1009


@pytest.mark.parametrize(
    "spelling, op",
    [
        ("x + y", "x+y"),
        ("x*y", "x*y"),
        ("x**2+y**2", "x^2+y^2"),
        ("x^2+x*y+y^2", "x^2+xy+y^2"),
        ("x−y", "x-y"),
        ("x÷y", "x/y"),
        ("x³+xy", "x^3+xy"),
    ],
)
def test_common_spellings_are_accepted(spelling, op):
    assert normalize_op(spelling) == op
    assert TaskConfig(op=spelling).op == op


def test_split_is_a_seeded_partition():
    tr, te = split(100, 0.3, seed=5)
    assert len(tr) == 30 and len(te) == 70
    assert sorted(torch.cat([tr, te]).tolist()) == list(range(100))
    tr2, _ = split(100, 0.3, seed=5)
    tr3, _ = split(100, 0.3, seed=6)
    assert torch.equal(tr, tr2) and not torch.equal(tr, tr3)


def test_encodings():
    pairs = torch.tensor([[3, 5], [0, 96]])
    assert torch.equal(encode(pairs, 97, PAIRS), pairs)
    tokens = encode(pairs, 97, SEQUENCE)
    assert tokens.tolist() == [[3, 97, 5, 98], [0, 97, 96, 98]]  # x op y =


def test_build_stacks_members_with_their_own_splits():
    cfg = TaskConfig(p=11, frac=0.5)
    data = build([cfg, cfg], SEQUENCE, seeds=[0, 1])
    assert data.x_train.shape == (2, 60, 4) and data.x_test.shape == (2, 61, 4)
    assert data.vocab == 13 and data.n_classes == 11
    assert not torch.equal(data.x_train[0], data.x_train[1])
    # labels agree with the table for every member
    x, y = data.x_train[1, :, 0], data.x_train[1, :, 2]
    assert torch.equal(data.y_train[1], (x + y) % 11)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(op="x%y"), "op: unknown operation 'x%y'"),
        (dict(op="x/y", p=96), "p: x/y needs a prime modulus"),
        (dict(frac=0.0), "frac: train fraction must be in (0, 1)"),
        (dict(frac=1.0), "frac: train fraction must be in (0, 1)"),
        (dict(frac=1.5), "frac: train fraction must be in (0, 1)"),
        (dict(p=1), "p: modulus must be at least 2"),
    ],
)
def test_bad_task_configs_name_the_field(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TaskConfig(**kwargs)


def test_non_prime_modulus_is_fine_without_division():
    assert TaskConfig(op="x+y", p=96).p == 96


def test_is_prime():
    assert [n for n in range(30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_nonzero_y_leaves_y_zero_out_of_the_table():
    cfg = TaskConfig(op="x*y", p=7, frac=0.5, nonzero_y=True)
    pairs, answers = task_of("x*y").table(cfg)
    assert len(answers) == 7 * 6 and (pairs[:, 1] != 0).all()
    assert torch.equal(answers, pairs[:, 0] * pairs[:, 1] % 7)
    plain = task_of("x*y").table(TaskConfig(op="x*y", p=7, frac=0.5))[1]
    assert len(plain) == 49
    with pytest.raises(ConfigError, match="nonzero_y"):
        TaskConfig(op="parity", nonzero_y=True)
