"""The kappa fixed-point solver: residual at rounding level, bracket, warm starts, reductions, edge cases."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._fixed_point import _solve_one, _sums, learning_curve, solve_kappa_sweep

U = 2.0**-52


@st.composite
def spectra(draw, max_m=40):
    M = draw(st.integers(1, max_m))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    lam = 10.0 ** rng.uniform(-6, 3, M)
    mult = rng.integers(1, 20, M).astype(float)
    return lam, mult


def _h_terms(lam, mult, P, ridge, k):
    """(h, scale) with S summed exactly (math.fsum): h = k - ridge - k S, scale = k + ridge + k S."""
    S = math.fsum(m * l / (l * P + k) for l, m in zip(lam, mult))
    return k - ridge - k * S, k + ridge + k * S


@settings(max_examples=50)
@given(spectra(), st.floats(0.0, 3.0), st.one_of(st.just(0.0), st.floats(1e-8, 1e2)))
@example((np.array([1.0]), np.array([10.0])), 1.0, 0.0)  # P = N: kappa = 0 exactly
@example((np.array([1.0, 1e-6]), np.array([5.0, 5.0])), 0.999, 0.0)  # just below the threshold
@example((np.array([2.0]), np.array([1.0])), 0.0, 0.0)  # P = 0
def test_root_residual_and_bracket(spec, p_frac, ridge):
    lam, mult = spec
    N = mult.sum()
    P = p_frac * N
    k = float(learning_curve(lam, mult, P, ridge)["kappa"])
    trace = float(np.sum(lam * mult))
    if ridge == 0.0 and P >= N:
        assert k == 0.0
        return
    assert ridge <= k <= ridge + trace * (1 + 4 * U)
    h, scale = _h_terms(lam, mult, P, ridge, k)
    g = P * math.fsum(m * l * l / (l * P + k) ** 2 for l, m in zip(lam, mult))
    # the residual is at rounding level: |h| <= c M u scale (the float64 sums), i.e. one Newton step from exact
    assert abs(h) <= 8 * lam.size * U * scale
    assert g < 1.0 + 1e-12


@settings(max_examples=30)
@given(spectra(), st.one_of(st.just(0.0), st.floats(1e-6, 1.0)))
def test_warm_started_sweep_equals_cold_solves(spec, ridge):
    lam, mult = spec
    N = mult.sum()
    P = np.linspace(0.0, 2 * N, 37)
    warm, its = solve_kappa_sweep(lam, mult, P, np.full(P.size, ridge))
    trace, n_modes = float(np.sum(lam * mult)), float(N)
    cold = np.array([_solve_one(lam, mult, p, ridge, -1.0, n_modes, trace)[0] for p in P])
    gam = learning_curve(lam, mult, P, ridge)["gamma_overlap"]
    tol = 16 * lam.size * U / np.maximum(1 - np.minimum(gam, 0.999999), 1e-300)
    ok = np.where(cold == 0, warm == 0, np.abs(warm - cold) <= tol * cold)
    assert ok.all()
    # kappa decreases along P at fixed ridge (what makes the previous root an upper bound)
    assert np.all(np.diff(warm) <= 1e-15 * warm[:-1])


def test_sweep_order_does_not_change_values():
    lam = np.arange(1, 201) ** -1.3
    mult = np.ones(200)
    rng = np.random.default_rng(0)
    P = rng.uniform(0, 400, (7, 1))
    ridge = np.array([[0.0, 1e-3, 0.5]])
    a = learning_curve(lam, mult, P, ridge)["kappa"]
    for i in range(7):
        for j in range(3):
            b = float(learning_curve(lam, mult, P[i, 0], ridge[0, j])["kappa"])
            assert a[i, j] == pytest.approx(b, rel=1e-13, abs=0.0)


def test_kappa_increases_with_ridge():
    lam = np.arange(1, 101) ** -2.0
    k = learning_curve(lam, np.ones(100), 50.0, np.logspace(-8, 2, 30))["kappa"]
    assert np.all(np.diff(k) > 0)


def test_reassoc_sums_against_fsum():
    """fastmath={'reassoc'} reorders the sums: their error stays within M u of the exact (fsum) sums."""
    rng = np.random.default_rng(1)
    for M in (1, 7, 1000, 10000):
        lam = 10.0 ** rng.uniform(-8, 2, M)
        mult = rng.integers(1, 50, M).astype(float)
        for P, k in ((0.0, 1.0), (10.0, 1e-3), (1e4, 1e-7)):
            S, T, G = _sums(lam, mult, P, k)
            Se = math.fsum(mult * lam / (lam * P + k))
            Te = math.fsum(mult * lam / (lam * P + k) ** 2)
            Ge = P * math.fsum(mult * lam**2 / (lam * P + k) ** 2)
            for a, b in ((S, Se), (T, Te), (G, Ge)):
                assert abs(a - b) <= 4 * M * U * abs(b) + 1e-300


def test_newton_iterations_bounded_cold_and_warm():
    lam = np.arange(1, 10001) ** -1.5
    P = np.logspace(0, 4.5, 300)
    _, its = solve_kappa_sweep(lam, np.ones_like(lam), P, np.zeros_like(P))
    assert its.max() <= 12 and its.mean() <= 6


def test_threshold_exact_and_above():
    lam, mult = np.array([1.0, 0.1]), np.array([3.0, 2.0])
    out = learning_curve(lam, mult, np.array([5.0, 6.0, 10.0]), 0.0, np.array([1.0, 1.0]), 0.0, modes=True)
    assert np.all(out["kappa"] == 0.0)
    np.testing.assert_allclose(out["gamma_overlap"], [1.0, 5 / 6, 0.5], rtol=1e-15)
    assert np.all(out["mode_errors"] == 0.0) and np.all(out["error"] == 0.0)
    noisy = learning_curve(lam, mult, np.array([5.0, 10.0]), 0.0, np.array([1.0, 1.0]), 0.2)["error"]
    assert np.isinf(noisy[0]) and noisy[1] == pytest.approx(0.2 * 5 / 5, rel=1e-15)


def test_near_threshold_stable_one_minus_gamma():
    """1 - gamma from ridge/kappa + kappa T stays accurate where the subtraction 1 - gamma cancels."""
    lam, mult = np.array([1.0]), np.array([100.0])
    P = 100.0 - 1e-7  # kappa = lam (N - P) = 1e-7, 1 - gamma = (N - P)/P
    out = learning_curve(lam, mult, P, 0.0, modes=True)
    assert out["kappa"] == pytest.approx(1e-7, rel=1e-6)
    assert out["one_minus_gamma"] == pytest.approx(1e-7 / P, rel=1e-6)
    assert out["mode_errors"][0] == pytest.approx(1 - P / 100.0, rel=1e-6)
