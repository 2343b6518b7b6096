"""The dual-Newton Bregman projection: feasibility, optimality, limits, tiny kappa, bad input."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._bregman import bregman_projection, dual_start

U = np.finfo(float).eps


def _problem(seed, n, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / np.sqrt(n)
    beta = np.where(rng.random(d) < 0.4, rng.standard_normal(d), 0.0)
    return X, X @ beta, rng


def _optimality_gap(X, kappa, beta0, beta):
    """|| (I - P_row(X)) (phi'(beta) - phi'(beta0)) ||_inf: zero at the projection (KKT)."""
    g = 0.5 * (np.arcsinh(2 * beta / kappa) - np.arcsinh(2 * beta0 / kappa))
    coef, *_ = np.linalg.lstsq(X.T, g, rcond=None)
    return np.abs(g - X.T @ coef).max(), np.abs(g).max()


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8), extra=st.integers(0, 12),
       log_kappa=st.floats(-3, 3), centred=st.booleans())
@example(seed=0, n=8, extra=0, log_kappa=0.0, centred=True)  # square X: the unique solution
@example(seed=1, n=1, extra=12, log_kappa=-3.0, centred=False)
@example(seed=0, n=2, extra=0, log_kappa=0.0, centred=True)  # y = 0, square X: the answer is beta = 0
def test_projection_is_feasible_and_optimal(seed, n, extra, log_kappa, centred):
    X, y, rng = _problem(seed, n, n + extra)
    d = X.shape[1]
    kappa = 10.0 ** (log_kappa + rng.uniform(-1, 1, d))
    beta0 = rng.standard_normal(d) * 0.5 if centred else np.zeros(d)
    beta = bregman_projection(X, y, kappa, beta0)
    scale = np.abs(X) @ (np.abs(beta) + np.abs(beta0)) + np.abs(y)  # the solver's scale (start included)
    assert np.all(np.abs(X @ beta - y) <= 16 * d * U * scale + 1e-300)
    gap, size = _optimality_gap(X, kappa, beta0, beta)
    # phi' is recovered from beta with relative error ~ u |beta| phi''(beta) <= u / 2 per coordinate,
    # amplified by the condition number of the projection: a few hundred units at most here
    assert gap <= 1e3 * U * max(1.0, size) * np.linalg.cond(X)


def test_lazy_limit_is_weighted_ridge():
    X, y, rng = _problem(3, 5, 11)
    K = 1e6 * np.geomspace(0.5, 2, 11)
    beta0 = rng.standard_normal(11) * 0.1
    ridge = beta0 + K * (X.T @ np.linalg.solve((X * K) @ X.T, y - X @ beta0))
    # phi(b) = b^2/(2 kappa) (1 + O(b^2/kappa^2)): the relative deviation is O(1/kappa^2) = 1e-12
    assert np.abs(bregman_projection(X, y, K, beta0) - ridge).max() <= 1e-9


@pytest.mark.parametrize("kappa", [1e-16, 1e-100, 1e-300, np.finfo(float).tiny])
def test_tiny_kappa_does_not_overflow(kappa):
    X, y, _ = _problem(4, 6, 15)
    with np.errstate(all="raise"):
        log_half_kappa, p0 = dual_start(np.full(15, kappa), np.full(15, 1.0))
    assert np.all(np.isfinite(p0)) and np.all(np.isfinite(log_half_kappa))
    beta = bregman_projection(X, y, kappa)
    assert np.all(np.isfinite(beta))
    assert np.abs(X @ beta - y).max() <= 1e-12 * (np.abs(X) @ np.abs(beta)).max()


def test_start_in_log_form_matches_asinh():
    kappa = np.array([1e-160, 1e-155, 1.0])
    beta0 = np.array([3.0, -3.0, 0.5])
    _, p0 = dual_start(kappa, beta0)
    with np.errstate(over="ignore"):
        exact = 0.5 * np.arcsinh(2 * beta0 / kappa)
    np.testing.assert_allclose(p0, exact, rtol=4 * U)


def test_graded_kappa_spanning_64_decades():
    X, y, _ = _problem(1, 8, 20)
    kappa = np.where(np.arange(20) % 3 == 0, 1e-32, 1e-64)
    beta = bregman_projection(X, y, kappa)
    assert np.abs(X @ beta - y).max() <= 1e-12 * (np.abs(X) @ np.abs(beta) + np.abs(y)).max()


@pytest.mark.parametrize("args, match", [
    ((np.ones((3, 2)), np.ones(3), 1.0), "^X: needs n <= d"),
    ((np.ones((2, 3)), np.ones(3), 1.0), "^y: must have shape"),
    ((np.ones((2, 3)), np.ones(2), 0.0), "^kappa: must be finite and >="),
    ((np.ones((2, 3)), np.ones(2), np.ones(2)), "^kappa: kappa and beta0 must be"),
    ((np.ones((2, 3)), np.array([1.0, 2.0]), 1.0), "^X: must have full row rank"),  # inconsistent
    ((np.full((1, 3), np.nan), np.ones(1), 1.0), "^X: X and y must be finite"),
    ((np.eye(2, 3), np.array([1.0, np.inf]), 1.0), "^X: X and y must be finite"),
    ((np.eye(2, 3), np.ones(2), np.array([1.0, np.nan, 1.0])), "^kappa: must be finite and >="),
    ((np.eye(2, 3), np.ones(2), 1.0, np.array([0.0, 0.0, np.inf])), "^beta0: must be finite"),
])
def test_bad_input_names_the_parameter(args, match):
    with pytest.raises(ValueError, match=match):
        bregman_projection(*args)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 10), extra=st.integers(0, 25), log_kappa=st.floats(-3, 2))
@example(seed=0, n=10, extra=25, log_kappa=-3.0)  # small kappa: many damped Newton steps before the chord steps
def test_answer_is_beta_of_the_returned_dual_point(seed, n, extra, log_kappa):
    """Newton steps update u as u + t X^T step (not p0 + X^T nu afresh): the answer must still be
    beta(p0 + X^T nu) to rounding, |delta u| <= (iterations + 2) * 4 u (|p0| + |X|^T |nu|) per coordinate,
    and beta = (kappa/2) sinh(2u) turns that into |delta beta| <= 2 |delta u| (kappa/2) cosh(2u) (+ rounding)."""
    from numerics._bregman import EPS, bregman_dual_newton

    X, y, rng = _problem(seed, n, n + extra)
    d = X.shape[1]
    kappa = 10.0 ** (log_kappa + rng.uniform(-0.5, 0.5, d))
    beta0 = rng.standard_normal(d) * 0.3
    log_half_kappa, p0 = dual_start(kappa, beta0)
    beta, nu, iters, _, ok, _ = bregman_dual_newton(X, y, log_half_kappa, p0, 16 * d * EPS, 500)
    assert ok
    u = p0 + X.T @ nu
    du = (iters + 2) * 4 * U * (np.abs(p0) + np.abs(X).T @ np.abs(nu))
    half_kappa = kappa / 2
    exact = half_kappa * np.sinh(2 * u)
    assert np.all(np.abs(beta - exact) <= 2 * du * half_kappa * np.cosh(2 * np.abs(u) + 2 * du) + 8 * U * np.abs(exact))


@pytest.mark.parametrize("value", [0.7, np.float64(0.7), np.array(0.7), np.array([0.7]), [0.1, 0.2, 0.3, 0.4],
                                   np.arange(8.0)[::2], np.arange(4), np.array([0.1, 0.2, 0.3, 0.4])])
def test_per_coordinate_values_broadcast_like_numpy(value):
    from numerics._bregman import _per_coordinate

    got = _per_coordinate(value, 4)
    np.testing.assert_array_equal(got, np.broadcast_to(np.asarray(value, dtype=float), (4,)))
    assert got.dtype == np.float64 and got.flags.c_contiguous and got.shape == (4,)
    with pytest.raises(ValueError):
        _per_coordinate(np.ones(3), 4)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9), extra=st.integers(0, 12),
       log_rtol=st.floats(-16, 0), spread=st.floats(0, 8))
@example(seed=0, n=8, extra=4, log_rtol=-14.0, spread=0.0)  # n % 4 = 0: only the four-row blocks
@example(seed=1, n=5, extra=0, log_rtol=-3.0, spread=6.0)  # a remainder row; a graded beta
def test_residual_bound_decides_the_stopping_test_as_the_exact_scale(seed, n, extra, log_rtol, spread):
    """``_residual_into`` returns the scaled residual max_j |r_j| / (|X_j| |beta| + floor_j + |y_j|), or a
    lower bound of it (from |X_j| |beta| <= max|beta| sum_i |X_ji|) when that bound already exceeds rtol:
    so ``res <= rtol`` is decided exactly as by the exact scale, and r = X beta - y either way."""
    from numerics._bregman import _abs_row_sums, _residual_into

    rng = np.random.default_rng(seed)
    d = n + extra
    X = rng.standard_normal((n, d))
    beta = rng.standard_normal(d) * 10.0 ** rng.uniform(-spread, 0, d)
    y = X @ beta + rng.standard_normal(n) * 10.0 ** rng.uniform(-17, -1, n) * (np.abs(X) @ np.abs(beta))
    floor = np.abs(rng.standard_normal(n)) * 1e-3
    rtol = 10.0 ** log_rtol
    exact = np.max(np.abs(X @ beta - y) / (np.abs(X) @ np.abs(beta) + floor + np.abs(y)))
    r = np.empty(n)
    got_exact = _residual_into(X, beta, y, floor, _abs_row_sums(X), np.inf, r)
    # the dot products' rounding: d units of |X||beta| against the residual's own size
    tol = 2 * d * U * (np.abs(X) @ np.abs(beta)) / (np.abs(X) @ np.abs(beta) + floor + np.abs(y))
    assert abs(got_exact - exact) <= tol.max()
    np.testing.assert_allclose(r, X @ beta - y, rtol=0, atol=(2 * d * U * (np.abs(X) @ np.abs(beta))).max())
    got = _residual_into(X, beta, y, floor, _abs_row_sums(X), rtol, r)
    assert got <= got_exact * (1 + 4 * U)
    if abs(exact - rtol) > tol.max():
        assert (got <= rtol) == (exact <= rtol)


def test_residual_propagates_nan():
    from numerics._bregman import _abs_row_sums, _residual_into

    X = np.eye(4, 6)
    beta = np.array([1.0, np.nan, 0.0, 0.0, 0.0, 0.0])
    r = np.empty(4)
    for rtol in (1e-14, np.inf):
        assert np.isnan(_residual_into(X, beta, np.zeros(4), np.zeros(4), _abs_row_sums(X), rtol, r))


def test_start_accepts_finite_rows_whose_sums_overflow():
    """The finiteness check reads row sums of |X|; a row of huge finite entries overflows its sum and must
    still be accepted (the entries decide), an infinite entry refused."""
    from numerics._bregman import _abs_row_sums, _start_code

    X = np.full((2, 3), 1.5e308)
    ones = np.ones(3)
    assert not np.isfinite(_abs_row_sums(X)).any()
    assert _start_code(X, np.ones(2), ones, ones, _abs_row_sums(X)) == 0
    X[1, 2] = np.inf
    assert _start_code(X, np.ones(2), ones, ones, _abs_row_sums(X)) == 1


def test_start_takes_one_logarithm_per_run_of_equal_kappa_exactly():
    kappa = np.array([1.0, 1.0, 3e-300, 3e-300, 1.0, 7.5, 7.5])
    beta0 = np.array([0.0, -0.0, 1e-310, 2.0, -3.0, 0.0, 1e300])
    log_half_kappa, p0 = dual_start(kappa, beta0)
    for k, b, lhk, p in zip(kappa, beta0, log_half_kappa, p0):
        assert lhk == np.log(k) - np.log(2.0)
        ratio = 2 * b / k
        want = 0.5 * np.arcsinh(ratio) if abs(ratio) < 1e150 else 0.5 * np.copysign(np.log(4 * abs(b)) - np.log(k), b)
        assert p == want and np.signbit(p) == np.signbit(want)


def test_a_nan_answer_never_counts_as_converged():
    """``diagonal.implicit_bias`` skips evaluate's NaN scan (``evaluator_checks_finite``) on the strength of
    this: a NaN planted in the start's scale makes beta NaN, and the solver must report no convergence."""
    from numerics._bregman import EPS, bregman_dual_newton

    X, y, _ = _problem(3, 4, 9)
    log_half_kappa, p0 = dual_start(np.ones(9), np.zeros(9))
    log_half_kappa[5] = np.nan
    beta, _, _, res, ok, _ = bregman_dual_newton(X, y, log_half_kappa, p0, 16 * 9 * EPS, 50)
    assert not ok and np.isnan(res) and np.isnan(beta[5])


def test_redundant_consistent_rows_give_the_projection_or_name_x():
    """Two equal rows with equal targets: the interpolators still form a set, whose Bregman projection is
    beta = 1/3 by symmetry; the singular Hessian may stop Newton, which must then say why (X's rank)."""
    try:
        beta = bregman_projection(np.ones((2, 3)), np.ones(2), 1.0)
    except ValueError as exc:
        assert str(exc).startswith("X: must have full row rank")
    else:
        np.testing.assert_allclose(beta, np.full(3, 1 / 3), rtol=16 * 3 * U)
