"""The lazy-Hessian machinery of the dual-Newton Bregman solver: the refreshed Hessian, the
factorised solve, the fused dual state (against mpmath), and the whole solver against a plain
dense Newton iteration on the same dual."""

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._bregman import (
    LAZY_DRIFT,
    _cholesky,
    _dual_state,
    _dual_state_into,
    _hessian_normal,
    _hessian_refresh,
    _solve_factored,
    bregman_projection,
    dual_start,
)

U = np.finfo(float).eps


def _design(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) / np.sqrt(n), rng


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9), extra=st.integers(0, 30),
       moved_fraction=st.floats(0.0, 1.0))
@example(seed=0, n=9, extra=0, moved_fraction=1.0)  # n % 4 = 1: the remainder rows of the 4-row blocks
@example(seed=1, n=4, extra=3, moved_fraction=0.0)  # nothing moves: H must stay as it is
def test_refresh_gives_the_hessian_of_the_reference_weights(seed, n, extra, moved_fraction):
    """After a refresh, H = X diag(w_ref) X^T with w_ref updated exactly on the moved coordinates."""
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    log_half_kappa = rng.uniform(-3, 1, d)
    u0 = rng.normal(0, 1, d)
    _, w0, _ = _dual_state(log_half_kappa, u0)
    H = np.empty((n, n))
    _hessian_normal(X, w0, np.empty((n, d)), H)
    moved = rng.random(d) < moved_fraction
    u1 = u0 + np.where(moved, rng.choice([-1.0, 1.0], d) * rng.uniform(1.05 * LAZY_DRIFT, 4 * LAZY_DRIFT, d),
                       rng.uniform(-LAZY_DRIFT, LAZY_DRIFT, d) * 0.99)
    _, w1, _ = _dual_state(log_half_kappa, u1)
    u_ref, w_ref = u0.copy(), w0.copy()
    _hessian_refresh(X, u1, w1, u_ref, w_ref, LAZY_DRIFT, np.empty((n, d)), np.empty((n, d)), H)
    np.testing.assert_array_equal(u_ref, np.where(moved, u1, u0))
    np.testing.assert_array_equal(w_ref, np.where(moved, w1, w0))
    expected = (X * w_ref) @ X.T
    # one rounding per product in each of the two sums (the old and the update): ~2 d u |X|^T w |X|
    bound = 4 * d * U * ((np.abs(X) * (w0 + np.abs(w1 - w0))) @ np.abs(X).T)
    assert np.all(np.abs(np.tril(H - expected)) <= np.tril(bound))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), extra=st.integers(0, 20))
@example(seed=0, n=12, extra=0)
def test_cholesky_solve_has_small_backward_error(seed, n, extra):
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    w = np.exp(rng.uniform(-3, 3, d))
    H = np.empty((n, n))
    _hessian_normal(X, w, np.empty((n, d)), H)
    F = np.empty((n, n))
    assert _cholesky(H, F)
    r = rng.standard_normal(n)
    step = np.empty(n)
    _solve_factored(F, r, np.empty(n), step)
    Hs = np.tril(H) + np.tril(H, -1).T
    # Cholesky and the two substitutions are backward stable: |H step + r| <= c n u |L| |L^T| |step|
    L = np.tril(F)
    assert np.all(np.abs(Hs @ step + r) <= 8 * n * U * (np.abs(L) @ np.abs(L.T) @ np.abs(step) + np.abs(r)))


def test_cholesky_refuses_an_indefinite_matrix():
    H = np.array([[1.0, 0.0], [2.0, 1.0]])  # lower triangle of [[1, 2], [2, 1]]: eigenvalue -1
    assert not _cholesky(H, np.empty((2, 2)))


@pytest.mark.parametrize("log_half_kappa", [0.0, -5.0, -700.0])
def test_dual_state_matches_mpmath(log_half_kappa):
    """beta = (kappa/2) sinh(2u), weight = kappa cosh(2u) and sum(weight)/4 to a few units in the last place
    plus the rounding of the exponent l + 2|u| (absolute error (|l| + 2|u|) u, relative error of the exp)."""
    u = np.array([0.0, 1e-12, -3e-9, 1e-4, -0.3, 1.0, 7.5, -40.0, 300.0])
    lk = np.full(u.size, log_half_kappa)
    beta, weight = np.empty(u.size), np.empty(u.size)
    quarter_sum = _dual_state_into(lk, u, beta, weight)
    subnormal = 2.0**-1074  # below the smallest normal double only absolute accuracy is possible
    with mpmath.workdps(40):
        half_kappa = mpmath.exp(mpmath.mpf(log_half_kappa))
        for i, ui in enumerate(u):
            rel = (4 + abs(log_half_kappa) + 2 * abs(ui)) * U
            b = half_kappa * mpmath.sinh(2 * mpmath.mpf(ui))
            w = 2 * half_kappa * mpmath.cosh(2 * mpmath.mpf(ui))
            assert abs(beta[i] - b) <= rel * abs(b) + 2 * subnormal
            assert abs(weight[i] - w) <= rel * w + 2 * subnormal
        exact = sum(2 * half_kappa * mpmath.cosh(2 * mpmath.mpf(ui)) for ui in u) / 4
        assert abs(quarter_sum - exact) <= (u.size + 4 + abs(log_half_kappa) + 600) * U * exact + 2 * u.size * subnormal


def _dense_newton(X, y, kappa, beta0, iters=100):
    """Reference: plain Newton on the dual (same trust region, no line search) with the exact Hessian
    formed and solved by NumPy at every step, until u moves at its rounding level."""
    log_half_kappa, p0 = dual_start(kappa, beta0)
    nu = np.zeros(X.shape[0])
    for _ in range(iters):
        u = p0 + X.T @ nu
        beta, w, _ = _dual_state(log_half_kappa, u)
        r = X @ beta - y
        step = -np.linalg.solve((X * w) @ X.T, r)
        du = np.abs(X.T @ step).max()
        t = min(1.0, 2.0 / max(du, 1e-300))
        nu = nu + t * step
        if du <= 1e-13 * max(1.0, np.abs(u).max()):  # u moved at its rounding level: converged
            break
    return _dual_state(log_half_kappa, p0 + X.T @ nu)[0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), extra=st.integers(1, 60),
       log_kappa=st.floats(-4, 2), centred=st.booleans())
@example(seed=0, n=30, extra=45, log_kappa=-2.0, centred=False)  # lazy refreshes and chord steps both taken
def test_lazy_solver_agrees_with_dense_newton(seed, n, extra, log_kappa, centred):
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    beta_star = np.where(rng.random(d) < 0.3, rng.standard_normal(d), 0.0)
    y = X @ beta_star
    kappa = 10.0 ** (log_kappa + rng.uniform(-0.5, 0.5, d))
    beta0 = rng.standard_normal(d) * 0.3 if centred else np.zeros(d)
    beta = bregman_projection(X, y, kappa, beta0)
    ref = _dense_newton(X, y, kappa, beta0)
    # both are converged to the rounding level of the dual: the answers differ by the conditioning of
    # the projection times a few hundred units (the same bound as the optimality test of test_bregman)
    assert np.abs(beta - ref).max() <= 1e3 * U * np.linalg.cond(X) * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("c", [0.5, 0.05, 0.005])
def test_lazy_steps_are_taken_and_change_nothing_at_the_benchmark_size(c):
    """d = 200, n = 80 (benchmarks/bench_diagonal.py): most steps reuse or refresh the Hessian, and the
    answer is the dense-Newton one to the rounding level (measured: <= 1e-13)."""
    from numerics._bregman import EPS, bregman_dual_newton
    from numerics.simulate._diagonal import bernoulli_gaussian_task

    X, y, _ = bernoulli_gaussian_task(80, 200, 0.1, seed=0)
    log_half_kappa, p0 = dual_start(np.full(200, 2 * c), np.zeros(200))
    beta, _, iterations, res, ok, fresh = bregman_dual_newton(X, y, log_half_kappa, p0, 16 * 200 * EPS, 500)
    assert ok and res <= 16 * 200 * EPS
    assert 2 * fresh <= iterations  # at least half of the steps are chord or refreshed-Hessian steps
    ref = _dense_newton(X, y, np.full(200, 2 * c), np.zeros(200))
    assert np.abs(beta - ref).max() <= 1e3 * U * np.linalg.cond(X) * np.abs(ref).max()


@settings(max_examples=40, deadline=None)
@given(log_half_kappa=st.floats(-700, 5), b=st.floats(-1e200, 1e200), w=st.floats(1e-3, 1e3),
       du=st.floats(-50, 50), p0=st.floats(-5, 5))
@example(log_half_kappa=-700.0, b=1.0, w=1.0, du=0.0, p0=0.0)  # 2b/kappa ~ 1e304: the log form
@example(log_half_kappa=0.0, b=0.0, w=1.0, du=0.0, p0=0.0)
def test_mirror_target_matches_mpmath(log_half_kappa, b, w, du, p0):
    """w (asinh(2 (b + w du) / kappa) / 2 - p0), kappa = 2 e^l, to a few ulp of each term (40 digits)."""
    from numerics._bregman import _mirror_target_into

    out = np.empty(1)
    _mirror_target_into(np.array([b]), np.array([w]), np.array([du]), np.array([log_half_kappa]), np.array([p0]), out)
    with mpmath.workdps(40):
        bl = mpmath.mpf(b) + mpmath.mpf(w) * mpmath.mpf(du)
        g = mpmath.asinh(bl / mpmath.exp(mpmath.mpf(log_half_kappa))) / 2
        exact = mpmath.mpf(w) * (g - mpmath.mpf(p0))
        scale = mpmath.mpf(w) * (abs(g) + abs(mpmath.mpf(p0)))
    # b + w du rounds once (relative u), asinh's argument twice more; asinh(x)' = 1 / sqrt(1 + x^2) <= 1 / |x|
    assert abs(out[0] - float(exact)) <= 8 * U * float(scale) + 8 * U * float(mpmath.mpf(w))


@pytest.mark.parametrize("c", [0.5, 0.005])
def test_first_step_is_the_mirror_projection_at_the_benchmark_size(c):
    """With the mirror start the first iterate is the weighted projection of the weighted-ridge
    interpolant's dual coordinates: at c = 0.5 it is accepted whole (no trust-region cut), where Newton's
    own step is cut to 0.62; the answer is the same (to the stopping test's rounding)."""
    import numerics._bregman as B
    from numerics.simulate._diagonal import bernoulli_gaussian_task

    X, y, _ = bernoulli_gaussian_task(80, 200, 0.1, seed=0)
    log_half_kappa, p0 = dual_start(np.full(200, 2 * c), np.zeros(200))
    beta, nu, _, _, ok, _ = B.bregman_dual_newton(X, y, log_half_kappa, p0, 16 * 200 * U, 1)
    assert not ok
    # one iteration: nu is the first iterate; rebuild the mirror step from its definition
    w = 2 * c * np.ones(200)
    H = (X * w) @ X.T
    du = X.T @ np.linalg.solve(H, y)
    g = 0.5 * np.arcsinh(2 * (w * du) / (2 * c))
    nu_mirror = np.linalg.solve(H, X @ (w * g))
    cap = min(1.0, B.MAX_DU / np.abs(X.T @ nu_mirror).max())
    if c == 0.5:
        assert cap == 1.0
        # float32 Hessian model: its relative error ~ sqrt(d) 2^-24 cond(H)
        np.testing.assert_allclose(nu, nu_mirror, rtol=0, atol=1e-3 * np.abs(nu_mirror).max())
    else:
        assert np.abs(nu).max() <= 4 * cap * np.abs(nu_mirror).max()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), lam=st.floats(-0.3, 0.3).filter(lambda v: abs(v) > 1e-3))
@example(seed=0, n=80, lam=0.0074)  # the contraction seen at the benchmark's size
def test_anderson_step_removes_a_dominant_contraction(seed, n, lam):
    """Chord iteration e_{k+1} = E e_k in its steady regime: the error along the dominant eigenvector v of
    E = lam v v^T (the other directions converged). One Anderson(1) step from two plain ones lands on the
    fixed point (to rounding), where the plain step keeps a fraction lam of the error."""
    from numerics._bregman import _anderson_into

    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    E = lam * np.outer(v, v)
    nu_star = rng.standard_normal(n)
    nu0 = nu_star - rng.uniform(0.5, 2.0) * v
    s0 = (np.eye(n) - E) @ (nu_star - nu0)
    nu1 = nu0 + s0
    s1 = (np.eye(n) - E) @ (nu_star - nu1)
    out = nu1 + s1
    plain = np.abs(out - nu_star).max()
    _anderson_into(nu1, s1, nu0, s0, out)
    assert np.abs(out - nu_star).max() <= 64 * U * (np.abs(nu_star).max() + np.abs(nu0).max())
    assert plain >= 0.5 * abs(lam) * np.abs(nu1 - nu_star).max()


def test_anderson_step_is_skipped_without_contraction():
    """No change of step (df = 0: nothing to extrapolate) and a growing step (gamma = 3/2 > 1/2) leave the
    plain chord point."""
    from numerics._bregman import _anderson_into

    nu, prev = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    for step, prev_step in (([1.0, 1.0], [1.0, 1.0]), ([3.0, 0.0], [1.0, 0.0])):
        out = nu + np.array(step)
        before = out.copy()
        _anderson_into(nu, np.array(step), prev, np.array(prev_step), out)
        np.testing.assert_array_equal(out, before)
