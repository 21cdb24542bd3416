"""The closed-form solver (min-norm least squares, ridge) and its effective parameters."""

import pytest
import torch

from phenolab.train.closedform import ridge


def problem(e: int, n: int, p: int, k: int = 1, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    phi = torch.randn(e, n, p, generator=g, dtype=torch.float64)
    y = torch.randn(e, n, k, generator=g, dtype=torch.float64)
    return phi, y


@pytest.mark.parametrize("n, p", [(20, 5), (20, 20), (20, 60)])
def test_min_norm_is_the_pseudo_inverse_solution(n, p):
    phi, y = problem(3, n, p)
    beta = ridge(phi, y, torch.zeros(3)).beta
    torch.testing.assert_close(beta, torch.linalg.pinv(phi) @ y, rtol=1e-7, atol=1e-9)


def test_min_norm_interpolates_with_the_smallest_norm():
    phi, y = problem(2, 15, 40)
    beta = ridge(phi, y, torch.zeros(2)).beta  # [2, 40, 1]
    torch.testing.assert_close(phi @ beta, y, rtol=0, atol=1e-10)  # an interpolant
    g = torch.Generator().manual_seed(1)
    null = torch.eye(40, dtype=torch.float64) - torch.linalg.pinv(phi) @ phi  # [2, 40, 40]
    for _ in range(5):
        other = beta + null @ torch.randn(2, 40, 1, generator=g, dtype=torch.float64)
        torch.testing.assert_close(phi @ other, y, rtol=0, atol=1e-9)  # also interpolates …
        assert (other.norm(dim=(1, 2)) > beta.norm(dim=(1, 2))).all()  # … with a larger norm
    # the min-norm solution lies in the row space of Φ: orthogonal to its null space
    torch.testing.assert_close(null @ beta, torch.zeros_like(beta), rtol=0, atol=1e-10)


def test_min_norm_below_the_threshold_is_ordinary_least_squares():
    phi, y = problem(3, 50, 8, k=2)
    beta = ridge(phi, y, torch.zeros(3)).beta
    ols = torch.linalg.solve(phi.transpose(1, 2) @ phi, phi.transpose(1, 2) @ y)
    torch.testing.assert_close(beta, ols, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n, p", [(30, 10), (30, 80)])
def test_ridge_tends_to_min_norm_as_lambda_falls(n, p):
    phi, y = problem(1, n, p)
    min_norm = ridge(phi, y, torch.zeros(1)).beta
    gaps = [
        (ridge(phi, y, torch.tensor([lam])).beta - min_norm).norm().item()
        for lam in (1.0, 1e-2, 1e-4, 1e-6, 1e-8)
    ]
    assert all(b < a for a, b in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < 1e-6 * min_norm.norm().item()


def test_ridge_matches_scikit_learn_and_members_are_independent():
    from sklearn.linear_model import Ridge

    phi, y = problem(3, 25, 40)
    lams = torch.tensor([0.1, 3.0, 50.0])
    beta = ridge(phi, y, lams).beta
    for e, lam in enumerate(lams.tolist()):
        ref = Ridge(alpha=lam, fit_intercept=False).fit(phi[e].numpy(), y[e, :, 0].numpy())
        torch.testing.assert_close(beta[e, :, 0], torch.as_tensor(ref.coef_), rtol=1e-6, atol=1e-9)
        alone = ridge(phi[e : e + 1], y[e : e + 1], lams[e : e + 1]).beta
        torch.testing.assert_close(beta[e : e + 1], alone, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n, p, lam", [(20, 8, 0.0), (20, 50, 0.0), (20, 50, 2.0)])
def test_effective_parameters_against_the_explicit_smoother(n, p, lam):
    phi, y = problem(2, n, p)
    phi_test, _ = problem(2, 33, p, seed=5)
    sol = ridge(phi, y, torch.full((2,), lam))
    # the smoother matrix written out: ŷ(x) = φ(x)ᵀ (ΦᵀΦ + λI)⁺ Φᵀ y = ŝ(x)ᵀ y
    inverse = torch.linalg.pinv(phi.transpose(1, 2) @ phi + lam * torch.eye(p, dtype=phi.dtype))
    s_train = phi @ inverse @ phi.transpose(1, 2)  # [2, n, n]
    s_test = phi_test @ inverse @ phi.transpose(1, 2)  # [2, 33, n]
    torch.testing.assert_close(s_test @ y, phi_test @ sol.beta, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(sol.trace(), s_train.diagonal(dim1=1, dim2=2).sum(1))
    torch.testing.assert_close(sol.smoother_sq_norms(phi_test), s_test.pow(2).sum(2))
    train_sq = sol.smoother_sq_norms(phi).sum(1)  # Σ_i ‖ŝ(x_i)‖² = tr(SSᵀ)
    gram = s_train @ s_train.transpose(1, 2)
    torch.testing.assert_close(train_sq, gram.diagonal(dim1=1, dim2=2).sum(1))
    if lam == 0:  # a projection: both equal the rank, min(n, p)
        assert sol.trace().tolist() == pytest.approx([min(n, p)] * 2)
        assert train_sq.tolist() == pytest.approx([min(n, p)] * 2)


def test_rank_deficient_features_are_cut_off():
    phi, y = problem(1, 20, 6)
    phi = torch.cat([phi, phi[..., :2]], dim=2)  # two duplicated columns: rank 6 of 8
    sol = ridge(phi, y, torch.zeros(1))
    assert (sol.gain > 0).sum().item() == 6
    torch.testing.assert_close(sol.beta, torch.linalg.pinv(phi) @ y, rtol=1e-6, atol=1e-9)
