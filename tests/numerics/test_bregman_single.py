"""The float32 model of the dual Hessian (numerics._bregman_single): the scaled design, the
Hessian and its refresh against float64 products, the Cholesky factor's backward error, the
scaled solve, and the solver's fall-back to float64 where float32 cannot represent the model.

The design, the factor, the solves and the refresh work in 8-column register blocks ending at
column n, with the first ``n mod 8`` rows in scalar loops: sizes are drawn across every remainder
mod 8 (and pinned at 1, 7, 8, 9, 13, 80), and the entries below the diagonal, which the blocked
factor uses as scratch, are filled with NaN and infinities to show that none of them reaches the
factor or the solve (and that the refresh leaves them untouched)."""

import numba
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._bregman import _dual_state, bregman_projection
from numerics._bregman_single import (
    NO_SCALE,
    cholesky_upper_single,
    hessian_refresh_single,
    hessian_single,
    single_design,
    solve_upper_scaled,
)

U32 = float(np.finfo(np.float32).eps) / 2  # unit roundoff of float32
U64 = float(np.finfo(float).eps) / 2


def _design(seed, n, d, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((n, d)) / np.sqrt(n), rng


def _upper(H):
    """The symmetric matrix whose upper triangle is H's (as float64)."""
    T = np.triu(H).astype(float)
    return T + np.triu(T, 1).T


@pytest.mark.parametrize("scale", [1.0, 3e-120, 7e140])
def test_design_is_x_scaled_by_a_power_of_two_and_rounded_once(scale):
    X, _ = _design(0, 5, 9, scale)
    X32, XT32, e = single_design(X)
    norm = np.linalg.norm(X)
    assert 2.0 ** (e - 1) < norm <= 2.0**e
    np.testing.assert_array_equal(X32, (X * 2.0**-e).astype(np.float32))
    np.testing.assert_array_equal(XT32, X32.T)


@pytest.mark.parametrize("X", [np.zeros((2, 3)), np.full((2, 3), 1e200)])
def test_design_without_a_float32_model(X):
    assert single_design(X)[2] == NO_SCALE


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 11), extra=st.integers(0, 30))
@example(seed=0, n=9, extra=0)  # n % 4 = 1: the remainder rows of the 4 x 2 blocks
def test_hessian_matches_float64_products(seed, n, extra):
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    w = np.exp(rng.uniform(-4, 4, d))
    X32, _, e = single_design(X)
    wexp = int(np.frexp(w.max())[1])
    H32 = np.empty((n, n), np.float32)
    hessian_single(X32, w, wexp, np.empty(d, np.float32), np.empty((n, d), np.float32), H32)
    exact = (X * w) @ X.T * 2.0 ** -(2 * e + wexp)
    # X and w rounded to float32 (3 roundings per product) and float32 sums of d terms
    bound = (d + 4) * U32 * ((np.abs(X) * w) @ np.abs(X).T) * 2.0 ** -(2 * e + wexp)
    assert np.all(np.abs(np.triu(_upper(H32) - exact)) <= np.triu(bound))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 11), extra=st.integers(0, 30),
       moved_fraction=st.floats(0.0, 1.0))
@example(seed=0, n=9, extra=0, moved_fraction=1.0)  # every coordinate: groups of four and a rest
@example(seed=1, n=4, extra=3, moved_fraction=0.0)  # nothing moves: H must stay as it is
def test_refresh_gives_the_hessian_of_the_reference_weights(seed, n, extra, moved_fraction):
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    log_half_kappa = rng.uniform(-3, 1, d)
    u0 = rng.normal(0, 1, d)
    _, w0, _ = _dual_state(log_half_kappa, u0)
    X32, XT32, e = single_design(X)
    wexp = int(np.frexp(w0.max())[1])
    H32 = np.empty((n, n), np.float32)
    hessian_single(X32, w0, wexp, np.empty(d, np.float32), np.empty((n, d), np.float32), H32)
    before = H32.copy()
    moved = rng.random(d) < moved_fraction
    u1 = u0 + np.where(moved, rng.choice([-1.0, 1.0], d) * rng.uniform(0.05, 0.5, d), rng.uniform(-0.019, 0.019, d))
    _, w1, _ = _dual_state(log_half_kappa, u1)
    u_ref, w_ref = u0.copy(), w0.copy()
    k = hessian_refresh_single(XT32, u1, w1, u_ref, w_ref, 0.02, wexp, np.empty(d, np.float32),
                               np.empty(d, np.int64), H32)
    assert k == moved.sum()
    np.testing.assert_array_equal(u_ref, np.where(moved, u1, u0))
    np.testing.assert_array_equal(w_ref, np.where(moved, w1, w0))
    if k == 0:
        np.testing.assert_array_equal(np.triu(H32), np.triu(before))
    exact = (X * w_ref) @ X.T * 2.0 ** -(2 * e + wexp)
    # the build's bound for the old weights plus the update's (k <= d terms summed in order, one rounding of H)
    bound = ((d + 4) * U32 * ((np.abs(X) * (w0 + 2 * np.abs(w1 - w0))) @ np.abs(X).T)) * 2.0 ** -(2 * e + wexp)
    assert np.all(np.abs(np.triu(_upper(H32) - exact)) <= np.triu(bound))


def _refresh_emulated(XT32, coef, moved, H32):
    """The refresh's arithmetic in NumPy float32 (each operation correctly rounded, as in the
    kernel): the terms ``XT[i, b] * (c * XT[i, a])`` summed in the order of the moved coordinates
    from zero, the sum added to ``H[b, a]`` on and above the diagonal; below it H unchanged."""
    n = XT32.shape[1]
    total = np.zeros((n, n), np.float32)
    for c, i in zip(coef, moved):
        total = total + XT32[i][:, None] * (c * XT32[i])[None, :]
    return np.where(np.triu(np.ones((n, n), bool)), H32 + total, H32) if len(moved) else H32.copy()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), extra=st.integers(0, 30), k=st.integers(0, 70))
@example(seed=0, n=1, extra=0, k=1)
@example(seed=1, n=7, extra=3, k=4)  # no whole block: the scalar columns only
@example(seed=2, n=8, extra=0, k=5)  # one block (tiles on the diagonal only), no short panel
@example(seed=3, n=9, extra=5, k=0)  # nothing moves: H (with its scratch) stays as it is, bit for bit
@example(seed=4, n=13, extra=0, k=13)  # a short panel of 5 rows and one block: every coordinate
@example(seed=5, n=80, extra=120, k=81)  # the benchmark's size: five pairs of blocks
@example(seed=6, n=80, extra=120, k=200)  # every coordinate of it
@example(seed=7, n=27, extra=2, k=1)  # three blocks: a pair and a single one after a short panel
@example(seed=8, n=40, extra=0, k=7)  # five blocks, no short panel
@example(seed=9, n=15, extra=30, k=30)  # the longest short panel (7 rows): 28 scalar sums of 30 terms
def test_blocked_refresh_is_its_float32_arithmetic_and_keeps_the_lower_triangle(seed, n, extra, k):
    """The refresh gives, bit for bit, the float32 operations its docstring states (summation order
    included), moves exactly the coordinates beyond tau, and leaves every entry below the diagonal
    (NaN, infinities, huge numbers) as it was."""
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    k = min(k, d)
    X32, XT32, _ = single_design(X)
    u_ref, w_ref = rng.normal(0, 1, d), np.exp(rng.uniform(-2, 0, d))
    chosen = np.sort(rng.permutation(d)[:k])
    u = u_ref + rng.uniform(-0.019, 0.019, d)
    u[chosen] = u_ref[chosen] + rng.choice([-1.0, 1.0], k) * rng.uniform(0.021, 0.5, k)
    w = w_ref * np.exp(rng.uniform(-1, 1, d))
    wexp = int(rng.integers(-3, 4))
    H32 = np.triu(rng.standard_normal((n, n))).astype(np.float32)
    lower = np.tril_indices(n, -1)
    H32[lower] = _dirty(len(lower[0]), rng)
    H32[0, n - 1] = -0.0  # an update by zero would make it +0: k = 0 must leave it alone
    before = H32.copy()
    coef, moved = np.empty(d, np.float32), np.empty(d, np.int64)
    u_ref_out, w_ref_out = u_ref.copy(), w_ref.copy()
    assert hessian_refresh_single(XT32, u, w, u_ref_out, w_ref_out, 0.02, wexp, coef, moved, H32) == k
    np.testing.assert_array_equal(moved[:k], chosen)
    np.testing.assert_array_equal(coef[:k], np.ldexp(w[chosen] - w_ref[chosen], -wexp).astype(np.float32))
    is_moved = np.isin(np.arange(d), chosen)
    np.testing.assert_array_equal(u_ref_out, np.where(is_moved, u, u_ref))
    np.testing.assert_array_equal(w_ref_out, np.where(is_moved, w, w_ref))
    expected = _refresh_emulated(XT32, coef[:k], chosen, before)
    np.testing.assert_array_equal(H32.view(np.uint32), expected.view(np.uint32))
    np.testing.assert_array_equal(H32[lower].view(np.uint32), before[lower].view(np.uint32))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 13), extra=st.integers(0, 20))
@example(seed=0, n=13, extra=0)  # a short last panel (13 = 3 * 4 + 1)
def test_cholesky_and_scaled_solve_have_small_backward_errors(seed, n, extra):
    X, rng = _design(seed, n, n + extra)
    d = X.shape[1]
    w = np.exp(rng.uniform(-2, 2, d))
    X32, _, _ = single_design(X)
    H32 = np.empty((n, n), np.float32)
    hessian_single(X32, w, int(np.frexp(w.max())[1]), np.empty(d, np.float32), np.empty((n, d), np.float32), H32)
    F32 = np.empty((n, n), np.float32)
    assert cholesky_upper_single(H32, F32)
    U = np.triu(F32).astype(float)
    H = _upper(H32)
    # Cholesky is backward stable: |U^T U - H| <= c n u |U^T| |U| (float32 arithmetic)
    assert np.all(np.abs(U.T @ U - H) <= 4 * (n + 1) * U32 * (np.abs(U.T) @ np.abs(U)))
    r = rng.standard_normal(n)
    step = np.empty(n)
    hexp = int(rng.integers(-60, 60))
    solve_upper_scaled(F32, r, np.empty(n), step, hexp)
    # the two substitutions in float64 with U's (exact) float32 entries, then an exact power of two
    s = step * 2.0**hexp
    assert np.all(np.abs(U.T @ (U @ s) + r) <= 8 * n * U64 * (np.abs(U.T) @ (np.abs(U) @ np.abs(s)) + np.abs(r)))


def test_cholesky_refuses_an_indefinite_matrix():
    H = np.array([[1.0, 2.0], [0.0, 1.0]], dtype=np.float32)  # upper triangle of [[1, 2], [2, 1]]
    assert not cholesky_upper_single(H, np.empty((2, 2), np.float32))


@pytest.mark.parametrize("row_scale", [1e-25, 1e-120])
def test_solver_falls_back_to_float64_where_float32_loses_a_row(row_scale):
    """A row of X ~1e-25 of the others: its float32 Hessian entries (~1e-50) underflow, the float32
    model is singular, and the solver must still reach the float64 answer (feasible to rtol, KKT)."""
    X, rng = _design(5, 12, 40)
    X[3] *= row_scale
    beta_star = np.where(rng.random(40) < 0.3, rng.standard_normal(40), 0.0)
    y = X @ beta_star
    kappa = 0.1
    beta = bregman_projection(X, y, kappa)
    scale = np.abs(X) @ np.abs(beta) + np.abs(y)
    assert np.all(np.abs(X @ beta - y) <= 16 * 40 * 2 * U64 * scale)
    g = 0.5 * np.arcsinh(2 * beta / kappa)
    # phi'(beta) in the row space of X: the rows rescaled to unit norm keep the test well conditioned
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    coef, *_ = np.linalg.lstsq(Xn.T, g, rcond=None)
    assert np.abs(g - Xn.T @ coef).max() <= 1e3 * 2 * U64 * max(1.0, np.abs(g).max()) * np.linalg.cond(Xn)


def _hessian32(seed, n, d, log_w_span=2.0):
    """A float32 model H32 (upper triangle; the rest NaN) of X diag(w) X^T as the solver forms it.

    X has random singular vectors and singular values in [1, 2], so ``cond(H) <= 4 e^(2 log_w_span)``:
    within float32's reach by construction (a square Gaussian X can be too ill-conditioned for a
    float32 factor, e.g. cond(H) ~ 8e9 at n = d = 38, and the solver then uses float64)."""
    X, rng = _design(seed, n, d)
    left, _, right = np.linalg.svd(X, full_matrices=False)
    X = (left * np.linspace(1.0, 2.0, n)) @ right / np.sqrt(n)
    w = np.exp(rng.uniform(-log_w_span, log_w_span, d))
    X32, _, _ = single_design(X)
    H32 = np.full((n, n), np.nan, np.float32)
    hessian_single(X32, w, int(np.frexp(w.max())[1]), np.empty(d, np.float32), np.empty((n, d), np.float32), H32)
    H32[np.tril_indices(n, -1)] = np.nan
    return H32, rng


def _dirty(shape, rng):
    """float32 scratch full of NaN, +-inf and huge numbers: what np.empty may hold."""
    return rng.choice(np.array([np.nan, np.inf, -np.inf, 3e38, -1e-45], np.float32), size=shape)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), extra=st.integers(0, 20))
@example(seed=0, n=1, extra=0)
@example(seed=1, n=7, extra=3)  # one short panel, no blocks
@example(seed=2, n=8, extra=0)  # one block, no short panel
@example(seed=3, n=9, extra=5)  # a one-row short panel, then one block
@example(seed=4, n=13, extra=0)
@example(seed=5, n=80, extra=120)  # the benchmark's size: ten panels
def test_blocked_cholesky_is_backward_stable_and_reads_only_the_upper_triangle(seed, n, extra):
    H32, rng = _hessian32(seed, n, n + extra)
    F32 = _dirty((n, n), rng)
    assert cholesky_upper_single(H32, F32)
    U = np.triu(F32).astype(float)
    assert np.all(np.isfinite(U)) and np.all(np.diag(U) > 0)
    H = _upper(H32)
    # the bound of the unblocked factor (test_cholesky_and_scaled_solve_have_small_backward_errors)
    assert np.all(np.abs(U.T @ U - H) <= 4 * (n + 1) * U32 * (np.abs(U.T) @ np.abs(U)))
    # nothing below the diagonal (NaN in H32, NaN, inf and huge numbers in F32's scratch) reaches the factor
    clean = np.where(np.isnan(H32), np.float32(0), H32)
    F_clean = np.zeros((n, n), np.float32)
    assert cholesky_upper_single(clean, F_clean)
    np.testing.assert_array_equal(np.triu(F_clean), np.triu(F32))
    # and the scratch below the diagonal stays finite (no overflow or NaN there either)
    assert np.all(np.isfinite(F_clean))


@pytest.mark.parametrize("n", [5, 13, 80])
@pytest.mark.parametrize("where", ["first", "panel_start", "panel_end", "last"])
@pytest.mark.parametrize("value", [-1.0, 0.0, np.nan])
def test_cholesky_refuses_a_nonpositive_pivot_in_every_part(n, where, value):
    """A pivot <= 0 or NaN in the short first panel, at either end of an 8 x 8 diagonal block, or
    at the last row is refused (H[p, p] <= 0 makes pivot p <= 0 whatever comes before it)."""
    H32, _ = _hessian32(7, n, n + 10)
    r = n % 8
    p = {"first": 0, "panel_start": min(r, n - 1), "panel_end": min(r + 7, n - 1), "last": n - 1}[where]
    if value == 0.0:
        H32[p, :] = 0.0  # the pivot at p is then -|earlier terms|^2 <= 0
        H32[:p + 1, p] = 0.0
    else:
        H32[p, p] = value
    assert not cholesky_upper_single(H32, np.empty((n, n), np.float32))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), extra=st.integers(0, 20),
       hexp=st.integers(-60, 60))
@example(seed=0, n=1, extra=0, hexp=0)
@example(seed=1, n=7, extra=3, hexp=1)
@example(seed=2, n=8, extra=0, hexp=-3)
@example(seed=3, n=9, extra=5, hexp=7)
@example(seed=4, n=13, extra=0, hexp=0)
@example(seed=5, n=80, extra=120, hexp=-41)
def test_blocked_solve_is_backward_stable_and_reads_only_the_upper_triangle(seed, n, extra, hexp):
    H32, rng = _hessian32(seed, n, n + extra)
    F32 = _dirty((n, n), rng)
    assert cholesky_upper_single(H32, F32)
    r = rng.standard_normal(n)
    step = np.empty(n)
    solve_upper_scaled(F32, r, np.empty(n), step, hexp)
    U = np.triu(F32).astype(float)
    s = step * 2.0**hexp
    assert np.all(np.abs(U.T @ (U @ s) + r) <= 8 * n * U64 * (np.abs(U.T) @ (np.abs(U) @ np.abs(s)) + np.abs(r)))
    # the same numbers from the factor with zeros below the diagonal
    clean = np.triu(F32)
    again = np.empty(n)
    solve_upper_scaled(clean, r, np.empty(n), again, hexp)
    np.testing.assert_array_equal(again, step)


@pytest.mark.parametrize("hexp", [-1100, -1030, -1024, -1023, -1022, -1, 0, 1, 1021, 1022, 1023, 1074, 1080, 1100])
def test_solve_applies_the_power_of_two_as_ldexp(hexp):
    """``2^-hexp`` is applied as one product where it is a normal double and by ldexp beyond:
    the same numbers either way, including results that overflow or are subnormal, and results
    that are finite and nonzero although ``2^-hexp`` itself is not (hexp = -1030, 1080)."""
    H32, rng = _hessian32(11, 13, 20)
    F32 = np.empty((13, 13), np.float32)
    assert cholesky_upper_single(H32, F32)
    r = rng.standard_normal(13) * 2.0 ** (-40 if hexp < 0 else 40)  # steps that survive the power of two
    base, step = np.empty(13), np.empty(13)
    solve_upper_scaled(F32, r, np.empty(13), base, 0)
    solve_upper_scaled(F32, r, np.empty(13), step, hexp)
    with np.errstate(over="ignore", under="ignore"):
        expected = np.ldexp(base, -hexp)
    if hexp in (-1030, 1080):
        assert np.any(np.isfinite(expected) & (expected != 0))
    np.testing.assert_array_equal(step, expected)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20), d=st.integers(1, 40))
@example(seed=0, n=80, d=200)  # the benchmark's design: whole 8 x 8 tiles only
@example(seed=1, n=9, d=17)  # a row and a column beyond the tiles
@example(seed=2, n=7, d=7)  # no whole tile
def test_design_tiles_round_once_and_transpose(seed, n, d):
    X = np.random.default_rng(seed).standard_normal((n, d)) * 3.0
    X32, XT32, e = single_design(X)
    np.testing.assert_array_equal(X32, (X * 2.0**-e).astype(np.float32))
    np.testing.assert_array_equal(XT32, X32.T)


@pytest.mark.parametrize("layout", ["fortran", "strided"])
def test_block_kernels_take_any_input_layout_and_refuse_other_outputs(layout):
    """The blocks load 8 consecutive entries of a row: inputs in another layout are copied first
    (the same numbers), and an output array in another layout must not compile (it would
    otherwise be filled wrongly)."""
    H32, rng = _hessian32(3, 9, 12)
    relaid = (lambda A: np.asfortranarray(A)) if layout == "fortran" else (lambda A: np.repeat(A, 2, axis=-1)[..., ::2])
    F32, F_relaid = np.empty((9, 9), np.float32), np.empty((9, 9), np.float32)
    assert cholesky_upper_single(H32, F32) and cholesky_upper_single(relaid(H32), F_relaid)
    np.testing.assert_array_equal(np.triu(F_relaid), np.triu(F32))
    r = rng.standard_normal(9)
    step, step_relaid = np.empty(9), np.empty(9)
    solve_upper_scaled(F32, r, np.empty(9), step, 0)
    solve_upper_scaled(relaid(np.triu(F32)), relaid(r), np.empty(9), step_relaid, 0)
    np.testing.assert_array_equal(step_relaid, step)
    X, _ = _design(4, 9, 17)
    for a, b in zip(single_design(X), single_design(relaid(X))):
        np.testing.assert_array_equal(a, b)
    # the refresh: a transposed design in another layout gives the same H; H itself must be C-ordered
    X32, XT32, _ = single_design(X)
    u_ref, w_ref = np.zeros(17), np.ones(17)
    u, w = np.where(np.arange(17) % 3 == 0, 1.0, 0.0), np.linspace(0.5, 2.0, 17)
    H_c, H_relaid_xt = np.triu(H32), np.triu(H32)
    for XT, H in ((XT32, H_c), (relaid(XT32), H_relaid_xt)):
        assert hessian_refresh_single(XT, u, w, u_ref.copy(), w_ref.copy(), 0.5, 0, np.empty(17, np.float32),
                                      np.empty(17, np.int64), H) == 6
    np.testing.assert_array_equal(H_relaid_xt, H_c)
    with pytest.raises(numba.core.errors.TypingError):
        hessian_refresh_single(XT32, u, w, u_ref.copy(), w_ref.copy(), 0.5, 0, np.empty(17, np.float32),
                               np.empty(17, np.int64), relaid(np.triu(H32)))
    with pytest.raises(numba.core.errors.TypingError):
        cholesky_upper_single(H32, relaid(np.empty((9, 9), np.float32)))
    with pytest.raises(numba.core.errors.TypingError):
        solve_upper_scaled(F32, r, np.empty(9), np.empty(18)[::2], 0)
