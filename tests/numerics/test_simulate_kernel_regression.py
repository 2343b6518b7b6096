"""Monte Carlo simulators: exact finite-size expectations, interpolation, seeding, validation."""

import numpy as np
import pytest
from scipy import stats

from numerics.simulate._kernel_regression import (
    _min_norm_coefficients,
    finetune_min_norm,
    krr_gaussian_features,
    krr_mode_errors,
)

Z = float(stats.norm.isf(0.01 / 2))  # one comparison per test, false-alarm rate 1%


def test_min_norm_coefficients_are_the_pseudo_inverse():
    rng = np.random.default_rng(0)
    for P, N in ((5, 9), (9, 5), (6, 6)):
        F = rng.standard_normal((3, P, N))
        y = rng.standard_normal((3, P))
        c = _min_norm_coefficients(F, y, 0.0)
        ref = np.stack([np.linalg.pinv(F[t]) @ y[t] for t in range(3)])
        np.testing.assert_allclose(c, ref, rtol=1e-10, atol=1e-12)
        r = 0.3
        ref_r = np.stack([np.linalg.solve(F[t].T @ F[t] + r * np.eye(N), F[t].T @ y[t]) for t in range(3)])
        np.testing.assert_allclose(_min_norm_coefficients(F, y, r), ref_r, rtol=1e-10, atol=1e-12)


def test_ridgeless_with_more_samples_than_modes_recovers_the_target():
    out = krr_gaussian_features([1.0, 0.1], [3, 2], 9, 0.0, [0.7, 0.3], 0.0, trials=4, seed=1)
    assert out["error"].max() < 1e-20


def test_isotropic_krr_matches_the_exact_finite_size_expectation():
    """One eigenvalue of multiplicity N, ridgeless, P < N: E_g = (1 - P/N) ||v||^2 exactly
    (E[P_X] = (P/N) I by rotation invariance), so the simulator has no bias to hide behind."""
    N, P = 60, 25
    e = krr_gaussian_features([0.5], [N], P, 0.0, [2.0], 0.0, trials=200, seed=3)["error"]
    assert abs(e.mean() - 2.0 * (1 - P / N)) <= Z * e.std(ddof=1) / np.sqrt(e.size)
    Ek = krr_mode_errors([0.5], [N], P, 0.0, trials=50, seed=4)[:, 0]
    assert abs(Ek.mean() - (1 - P / N)) <= Z * Ek.std(ddof=1) / np.sqrt(Ek.size) + 1e-12


def test_finetune_isotropic_matches_the_exact_finite_n_risk():
    """Sigma = I: E R = (1 - n/d) ||delta||^2 + sigma^2 n/(d - n - 1) exactly (Gaussian design)."""
    d, n, s2 = 40, 15, 0.3
    delta = np.random.default_rng(5).standard_normal(d)
    r = finetune_min_norm(np.ones(d), delta, n, s2, trials=400, seed=6)
    ref = (1 - n / d) * np.sum(delta**2) + s2 * n / (d - n - 1)
    assert abs(r.mean() - ref) <= Z * r.std(ddof=1) / np.sqrt(r.size)
    # a wrong noise term (the proportional limit's n/(d - n)) is outside the error bar at this size
    r2 = finetune_min_norm(np.ones(d), np.zeros(d), n, 1.0, trials=400, seed=7)
    assert abs(r2.mean() - n / (d - n - 1)) <= Z * r2.std(ddof=1) / 20


def test_seeded_and_validated():
    a = krr_gaussian_features([1.0], [4], 3, 0.1, [1.0], 0.1, trials=5, seed=9)["error"]
    b = krr_gaussian_features([1.0], [4], 3, 0.1, [1.0], 0.1, trials=5, seed=9)["error"]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="^multiplicities:"):
        krr_gaussian_features([1.0], [2.5], 3, 0.0, [1.0], 0.0, trials=2, seed=0)
    with pytest.raises(ValueError, match="^P:"):
        krr_gaussian_features([1.0], [2], 0, 0.0, [1.0], 0.0, trials=2, seed=0)
    with pytest.raises(ValueError, match="^delta:"):
        finetune_min_norm([1.0, 2.0], [1.0], 1, 0.0, trials=2, seed=0)
    with pytest.raises(ValueError, match="^n:"):
        finetune_min_norm([1.0, 2.0], [1.0, 0.0], 2, 0.1, trials=2, seed=0)
