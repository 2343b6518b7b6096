"""numerics._qqt: the stable QQ^T(t) against gradient flow, the Fukumizu oracle, its t -> inf limit; diagnostics."""

import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import _qqt
from numerics._init_lambda_balanced import lambda_balanced_init, rotated_aligned_init
from numerics.simulate._matrix_network import matrix_gradient_flow

widths = st.integers(1, 4)
lams = st.one_of(st.just(0.0), st.floats(-5, 5, allow_nan=False),
                 st.builds(lambda e, sg: sg * 10.0**e, st.floats(-8, 4), st.sampled_from([-1.0, 1.0])))
seeds = st.integers(0, 2**32 - 1)


def task(seed, Ni, No):
    """Syx with singular values in [0.2, 3] and Haar singular vectors."""
    rng = np.random.default_rng(seed)
    m = min(Ni, No)
    U = np.linalg.qr(rng.standard_normal((No, No)))[0][:, :m]
    V = np.linalg.qr(rng.standard_normal((Ni, Ni)))[0][:, :m]
    return (U * rng.uniform(0.2, 3.0, m)) @ V.T


def start(seed, lam, Ni, No):
    """A λ-balanced start with well-conditioned B by construction (rotated task-aligned frames)."""
    Syx = task(seed, Ni, No)
    a = np.exp(np.random.default_rng(seed + 1).uniform(np.log(1e-3), np.log(3.0), min(Ni, No)))
    W1, W2 = rotated_aligned_init(lam, Syx, a, angle=0.5, seed=seed)
    return W1, W2, Syx


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


@settings(max_examples=12)  # each draw integrates the flow at rtol 1e-11 (about a second)
@given(seed=seeds, Ni=widths, No=widths, lam=st.one_of(st.just(0.0), st.floats(-4, 4)))
@example(seed=1, Ni=3, No=3, lam=0.0)
@example(seed=2, Ni=2, No=4, lam=0.0)    # unequal widths, lam = 0: the 4 t E D^T D E term
@example(seed=3, Ni=4, No=2, lam=-3.0)
@example(seed=4, Ni=1, No=3, lam=2.5)
def test_matches_gradient_flow(seed, Ni, No, lam):
    """Gradient flow at rtol 1e-11 agrees to <= 1e-9 (relative to max(1, |QQ^T|))."""
    W1, W2, Syx = start(seed, lam, Ni, No)
    t = np.array([0.0, 0.1, 0.7, 3.0])
    f = _qqt.factorise(W1, W2, Syx)
    ref = matrix_gradient_flow(W1, W2, Syx, t, rtol=1e-11, atol=1e-13).qqt
    assert rel(_qqt.evaluate_qqt(f, t), ref) <= 1e-9


@settings(max_examples=40)
@given(seed=seeds, Ni=widths, No=widths, lam=lams, t=st.floats(0.0, 1.0))
@example(seed=5, Ni=3, No=3, lam=1e4, t=1e-3)
@example(seed=6, Ni=2, No=3, lam=-1e4, t=1e-3)
@example(seed=7, Ni=3, No=2, lam=1e-8, t=0.5)
def test_matches_fukumizu_oracle_at_small_t(seed, Ni, No, lam, t):
    W1, W2, Syx = start(seed, lam, Ni, No)
    t = min(t, 5.0 / (abs(lam) + 1.0))  # the oracle overflows once e^{F t} does
    f = _qqt.factorise(W1, W2, Syx)
    ref = _qqt.fukumizu_qqt(W1, W2, Syx, t)
    assert rel(_qqt.evaluate_qqt(f, t), ref) <= 1e-12 * (1.0 + f.cond_b) * (1.0 + abs(lam) * t)


@settings(max_examples=30)
@given(seed=seeds, Ni=widths, No=widths, lam=lams, t=st.sampled_from([1e3, 1e4, 1e6]))
@example(seed=8, Ni=3, No=3, lam=1e4, t=1e4)
@example(seed=9, Ni=2, No=4, lam=-1e4, t=1e4)
@example(seed=10, Ni=4, No=2, lam=1e4, t=1e4)
def test_large_t_is_the_limit(seed, Ni, No, lam, t):
    """At large t QQ^T is finite and equals O_+ diag(2 Gamma) O_+^T: W2 W1 = Syx and the research
    note's converged representations V diag((K - lam)/2) V^T and U diag((K + lam)/2) U^T."""
    W1, W2, Syx = start(seed, lam, Ni, No)
    f = _qqt.factorise(W1, W2, Syx)
    K = np.hypot(lam, 2 * f.s)
    # slowest decay rate: Gamma - |g_perp| ~ s^2/|lam| on the extra directions (unequal widths)
    slowest = np.min(K) / 2 - abs(f.g_perp) if Ni != No else np.min(K)
    t = max(t, 50.0 / slowest)
    b = _qqt.evaluate_blocks(f, np.array([t]))
    R = (f.V * (0.5 * (K - lam))) @ f.V.T
    B = (f.U * (0.5 * (K + lam))) @ f.U.T
    scale = 1.0 + abs(lam)
    assert np.max(np.abs(b["W2W1"][0] - Syx)) <= 1e-12 * scale * 100
    assert np.max(np.abs(b["W1TW1"][0] - R)) <= 1e-12 * scale * 100
    assert np.max(np.abs(b["W2W2T"][0] - B)) <= 1e-12 * scale * 100


def test_blocks_agree_with_full_and_loops_with_blas(monkeypatch):
    W1, W2, Syx = start(11, 0.3, 3, 4)
    f = _qqt.factorise(W1, W2, Syx)
    t = np.array([[0.0, 0.4], [2.0, 30.0]])
    full = _qqt.evaluate_qqt(f, t)
    assert full.shape == (2, 2, 7, 7)
    b = _qqt.evaluate_blocks(f, t)
    assert np.array_equal(b["W2W1"], full[..., 3:, :3])
    assert np.allclose(full, np.swapaxes(full, -1, -2), rtol=0, atol=1e-15)
    monkeypatch.setattr(_qqt, "M_LOOPS", 1)  # force the BLAS-3 path
    assert rel(_qqt.evaluate_qqt(f, t), full) <= 1e-14
    assert rel(_qqt.evaluate_blocks(f, t, ("W2W1",))["W2W1"], b["W2W1"]) <= 1e-14


@pytest.mark.parametrize("Ni, No", [(14, 14), (13, 16), (17, 12)])
def test_mid_size_blas_calls_in_the_loop_kernel_agree_with_blas3_path(monkeypatch, Ni, No):
    """M_DOT <= m < M_LOOPS: the loop kernel calls BLAS for its output products (full and blocks)."""
    assert _qqt.M_DOT <= min(Ni, No) < _qqt.M_LOOPS
    W1, W2, Syx = start(21, 0.7, Ni, No)
    f = _qqt.factorise(W1, W2, Syx)
    t = np.array([0.0, 0.3, 2.0, 40.0])
    full = _qqt.evaluate_qqt(f, t)
    b = _qqt.evaluate_blocks(f, t)
    # different BLAS products of the same factor: equal to rounding
    assert rel(b["W2W1"], full[..., Ni:, :Ni]) <= 1e-14
    assert rel(b["W1TW1"], full[..., :Ni, :Ni]) <= 1e-14 and rel(b["W2W2T"], full[..., Ni:, Ni:]) <= 1e-14
    monkeypatch.setattr(_qqt, "M_LOOPS", 1)
    assert rel(_qqt.evaluate_qqt(f, t), full) <= 1e-13
    Q = np.vstack([W1.T, W2])
    assert rel(full[0], Q @ Q.T) <= 1e-13


@pytest.mark.parametrize("Ni, No, lam", [(40, 40, 0.0), (41, 44, -0.8), (45, 42, 1.3)])
def test_large_m_blas_kernel_matches_loop_kernel_and_oracle(monkeypatch, Ni, No, lam):
    """m >= M_LOOPS: the compiled BLAS-3 kernel (the default there) against the loop kernel (forced) and
    the Fukumizu oracle, for full QQ^T and blocks, equal and unequal widths."""
    assert min(Ni, No) >= _qqt.M_LOOPS
    W1, W2, Syx = start(31, lam, Ni, No)
    f = _qqt.factorise(W1, W2, Syx)
    t = np.array([0.0, 0.05, 0.6, 7.0])
    full = _qqt.evaluate_qqt(f, t)
    b = _qqt.evaluate_blocks(f, t)
    assert np.array_equal(full, np.swapaxes(full, -1, -2))  # mirrored from one triangle: exactly symmetric
    assert rel(b["W2W1"], full[..., Ni:, :Ni]) <= 1e-14
    assert rel(b["W1TW1"], full[..., :Ni, :Ni]) <= 1e-14 and rel(b["W2W2T"], full[..., Ni:, Ni:]) <= 1e-14
    # the closed form's rounding error grows like cond(b) eps (factor about 5 measured at m = 40..45)
    tol = 32 * np.finfo(float).eps * f.cond_b
    Q = np.vstack([W1.T, W2])
    assert rel(full[0], Q @ Q.T) <= tol
    assert rel(full[1], _qqt.fukumizu_qqt(W1, W2, Syx, t[1])) <= tol
    monkeypatch.setattr(_qqt, "M_LOOPS", 10**9)
    assert rel(_qqt.evaluate_qqt(f, t), full) <= 1e-13


def test_result_does_not_depend_on_the_thread_split(monkeypatch):
    """Times are split over the driver's threads (at whole batches of the loop kernel); each time is
    computed by the same operations whatever the split: bitwise equal."""
    t = np.linspace(0.0, 5.0, 7 * _qqt.T_BATCH - 5)
    for Ni, No in [(3, 5), (42, 40)]:  # loop kernel and BLAS kernel
        f = _qqt.factorise(*start(32, 0.4, Ni, No)[:2], start(32, 0.4, Ni, No)[2])
        monkeypatch.setattr(_qqt, "PARALLEL_WORK", 10**18)
        one = _qqt.evaluate_qqt(f, t)
        monkeypatch.setattr(_qqt, "PARALLEL_WORK", 0)
        for k in (2, 3, 5):
            monkeypatch.setattr(_qqt._driver, "threads", lambda k=k: k)
            assert np.array_equal(_qqt.evaluate_qqt(f, t), one)
            assert np.array_equal(_qqt.evaluate_blocks(f, t, ("W2W1",))["W2W1"], one[:, Ni:, :Ni])


@pytest.mark.parametrize("Ni, No, lam", [(3, 3, 0.0), (2, 5, 1.2), (5, 4, -0.7), (14, 14, 0.4), (13, 16, -1.1)])
def test_batched_loop_kernel_agrees_with_per_time_blas_kernel(monkeypatch, Ni, No, lam):
    """The loop kernel hoists P^T psi P and (E P E)^T O_-^T into two products per batch of T_BATCH times;
    across several batches (the last one partial), with and without extra directions, below and above
    M_DOT, it must agree with the BLAS-3 kernel (per time, nothing hoisted) to rounding, give the same
    numbers for a time whatever its place in a batch, and match the oracle."""
    assert min(Ni, No) < _qqt.M_LOOPS
    W1, W2, Syx = start(41, lam, Ni, No)
    f = _qqt.factorise(W1, W2, Syx)
    t = np.concatenate([[0.0, 1e-9], np.linspace(0.01, 12.0, 2 * _qqt.T_BATCH + 3), [300.0]])
    full = _qqt.evaluate_qqt(f, t)
    b = _qqt.evaluate_blocks(f, t)
    assert rel(b["W2W1"], full[:, Ni:, :Ni]) <= 1e-14 and rel(b["W2W2T"], full[:, Ni:, Ni:]) <= 1e-14
    # one time alone sits first in its own batch: only the batched products' rounding may differ
    for k in (1, _qqt.T_BATCH + 1, t.size - 1):
        assert rel(_qqt.evaluate_qqt(f, t[k]), full[k]) <= 1e-14
    Q = np.vstack([W1.T, W2])
    assert rel(full[0], Q @ Q.T) <= 1e-14
    assert rel(full[2], _qqt.fukumizu_qqt(W1, W2, Syx, t[2])) <= 1e-12
    monkeypatch.setattr(_qqt, "M_LOOPS", 1)  # the BLAS-3 kernel: C and Z built per time
    assert rel(_qqt.evaluate_qqt(f, t), full) <= 1e-13


def test_hoisted_operands_and_mutations_of_them_are_caught():
    """M1 and M2 are the products' time-independent operands; a wrong index layout must break the result."""
    W1, W2, Syx = start(42, 0.9, 3, 4)
    f = _qqt.factorise(W1, W2, Syx)
    M1, M2 = _qqt._hoisted_operands(f.P, f.VUb)
    m, n = f.m, f.Ni + f.No
    assert np.array_equal(M1, (f.P[:, :, None] * f.VUb.T[:, None, :]).reshape(m, m * n))
    rows, cols = np.tril_indices(m)
    assert np.array_equal(M2, f.P[:, rows] * f.P[:, cols])
    t = np.linspace(0.2, 3.0, 5)
    ref = np.stack([_qqt.fukumizu_qqt(W1, W2, Syx, tk) for tk in t])

    def run(A1, A2):
        out = np.empty((t.size, n, n))
        e = np.empty((0, 1, 1))
        assert _qqt._qqt_loops(t, f.gamma, f.g_perp, f.VUaT, f.ODT, A1, A2, f.H, f.DD, f.Ni, 0, out, e, e, e) == -1
        return out

    assert rel(run(M1, M2), ref) <= 1e-12
    # P^T in place of P in M1, and M2 packed in the upper triangle's row-major order (same entries, other places)
    M1_bad = (f.P.T[:, :, None] * f.VUb.T[:, None, :]).reshape(m, m * n)
    upper_rows, upper_cols = np.triu_indices(m)
    M2_bad = f.P[:, upper_rows] * f.P[:, upper_cols]
    assert rel(run(M1_bad, M2), ref) > 1e-3
    assert rel(run(M1, M2_bad), ref) > 1e-3


def test_nested_call_from_the_driver_pool_runs_serially(monkeypatch):
    """Called from every worker of the driver's pool at once, the evaluation must not wait on that pool."""
    monkeypatch.setattr(_qqt, "PARALLEL_WORK", 0)
    f = _qqt.factorise(*start(33, 0.2, 3, 3))
    t = np.linspace(0.0, 2.0, 9)
    ref = _qqt.evaluate_qqt(f, t)
    pool = _qqt._driver._pool()
    futures = [pool.submit(_qqt.evaluate_qqt, f, t) for _ in range(pool._max_workers)]
    for fut in futures:
        assert np.array_equal(fut.result(timeout=60), ref)


def test_initial_value_is_exact():
    W1, W2, Syx = start(12, -1.5, 4, 2)
    Q = np.vstack([W1.T, W2])
    assert rel(_qqt.evaluate_qqt(_qqt.factorise(W1, W2, Syx), 0.0), Q @ Q.T) <= 1e-14


def test_mutation_wrong_perp_rate_is_caught():
    """Flipping the sign of the extra directions' eigenvalue must break agreement with the oracle."""
    W1, W2, Syx = start(13, 1.5, 2, 4)
    f = _qqt.factorise(W1, W2, Syx)
    bad = _qqt.QQTFactors(**{**f.__dict__, "g_perp": -f.g_perp})
    ref = _qqt.fukumizu_qqt(W1, W2, Syx, 0.8)
    assert rel(_qqt.evaluate_qqt(f, 0.8), ref) <= 1e-12
    assert rel(_qqt.evaluate_qqt(bad, 0.8), ref) > 1e-3


@pytest.mark.parametrize("g", [1e-6, 0.37, 2.5, 40.0])
def test_time_factors_psi_on_both_sides_of_the_switch_against_mpmath(g):
    """psi = -expm1(-x)/(2 Gamma) below x = 2 Gamma t = PSI_FROM_E, (1 - E^2)/(2 Gamma) from there on: within
    4 ulp of the 40-digit value on both sides (E: 1 ulp plus the rounding of its argument). Mutation: the (1 - E^2) form used below the
    switch loses digits to cancellation and fails that bound."""
    import mpmath

    mpmath.mp.dps = 40
    xs = np.concatenate([np.logspace(-12, 2.5, 60), _qqt.PSI_FROM_E * np.array([1 - 1e-15, 1.0, 1 + 1e-15])])
    gamma = np.array([g])
    E, psi, ep = np.empty(1), np.empty(1), np.empty(1)
    eps = np.finfo(float).eps
    for x in xs:
        t = x / (2 * g)
        _qqt._time_factors(t, gamma, 0.0, False, E, psi, ep)
        ref_E = mpmath.exp(-mpmath.mpf(g) * mpmath.mpf(t))
        ref_psi = -mpmath.expm1(-2 * mpmath.mpf(g) * mpmath.mpf(t)) / (2 * mpmath.mpf(g))
        # exp's own rounding plus that of the argument Gamma t (relative eps/2, amplified by Gamma t)
        assert abs(E[0] - ref_E) <= (1 + x) * eps * ref_E, x
        assert abs(psi[0] - ref_psi) <= 4 * eps * ref_psi, x
    t = 1e-7 / (2 * g)  # x = 1e-7, far below the switch
    E1 = np.exp(-g * t)
    ref = -mpmath.expm1(-2 * mpmath.mpf(g) * mpmath.mpf(t)) / (2 * mpmath.mpf(g))
    assert abs((1 - E1 * E1) / (2 * g) - ref) > 4 * eps * ref


def _with_nan(a):
    a = a.copy()
    a[0, -1] = np.nan
    return a


@pytest.mark.parametrize("m_loops", [None, 1])  # loop kernel, BLAS-3 kernel
def test_nan_in_the_output_is_refused_with_its_time(monkeypatch, m_loops):
    """The kernels check each time's output for NaN themselves (in cache, instead of a scan of the whole
    result): a NaN planted in the factors must surface as FloatingPointError, full QQ^T and each block."""
    if m_loops is not None:
        monkeypatch.setattr(_qqt, "M_LOOPS", m_loops)
    f = _qqt.factorise(*start(15, 0.6, 3, 4))
    t = np.array([0.5, 1.0, 2.0])
    assert np.all(np.isfinite(_qqt.evaluate_qqt(f, t)))
    bad = _qqt.QQTFactors(**{**f.__dict__, "VUaT": _with_nan(f.VUaT), "VUa": _with_nan(f.VUa.T).T.copy()})
    with pytest.raises(FloatingPointError, match=r"t: QQ\^T came out NaN at t = 0.5 "):
        _qqt.evaluate_qqt(bad, t)
    for block in _qqt.BLOCKS:  # the NaN sits in the last row of O_+: it reaches W2W1 and W2W2T
        if block == "W1TW1":
            assert np.all(np.isfinite(_qqt.evaluate_blocks(bad, t, (block,))[block]))
        else:
            with pytest.raises(FloatingPointError, match="NaN at t = 0.5 "):
                _qqt.evaluate_blocks(bad, t, (block,))


def test_kernel_codes_are_decoded_per_thread_piece(monkeypatch):
    """_run maps a piece's local failure index back to the global time, for both kinds of failure."""
    f = _qqt.factorise(*start(16, 0.1, 3, 3))
    t = np.linspace(0.0, 1.0, 4 * _qqt.T_BATCH)
    monkeypatch.setattr(_qqt, "PARALLEL_WORK", 0)
    monkeypatch.setattr(_qqt._driver, "threads", lambda: 2)
    lo2 = 2 * _qqt.T_BATCH  # the second piece's first time
    for code, kind in ((3, "positive definiteness"), (_qqt._NAN_AT - 3, "NaN")):
        def fake(f_, tt, mode, outs, hoisted=None, code=code):
            return code if tt[0] == t[lo2] else -1
        monkeypatch.setattr(_qqt, "_chunk", fake)
        with pytest.raises(FloatingPointError, match=re.escape(f"{kind} at t = ") + ".*" + re.escape(repr(float(t[lo2 + 3])))):
            _qqt.evaluate_qqt(f, t)


# -- diagnostics -----------------------------------------------------------------------------
def test_refuses_unbalanced_start_with_its_imbalance():
    W1, W2, Syx = start(14, 1.0, 3, 3)
    W1 = W1.copy()
    W1[0, 0] += 1e-3
    with pytest.raises(ValueError, match=r"^W1: the start is not lambda-balanced.*fails by"):
        _qqt.factorise(W1, W2, Syx)


def test_rank_argument():
    W1, W2 = lambda_balanced_init(0.0, 2, 3, 4, seed=0)
    W1 = np.sqrt(2.0) * W1  # now W2^T W2 - W1 W1^T has negative trace with Nh = 3 > Ni = 2
    with pytest.raises(ValueError, match=r"^W1: lam = .* < 0 is impossible with Nh = 3 > Ni = 2.*rank"):
        _qqt.factorise(W1, W2, np.ones((4, 2)))


def test_overparameterised_points_to_simulator():
    W1, W2 = lambda_balanced_init(1.0, 2, 3, 4, seed=0)
    with pytest.raises(ValueError, match=r"^W1: the closed form needs Nh = min\(Ni, No\) = 2.*matrix_gradient_flow"):
        _qqt.factorise(W1, W2, np.ones((4, 2)))


def test_singular_B_is_refused_with_its_condition_number():
    # lam = 0, square: det(W2 W1) det(Syx) < 0 makes B singular (a mode must cross the saddle at 0)
    W1 = np.diag([1.0, 1.0])
    W2 = np.diag([1.0, 1.0])
    Syx = np.diag([2.0, -1.0])
    with pytest.raises(_qqt.IllConditionedStart, match=r"^W1: .*cond\(B\) = .*saddle"):
        _qqt.factorise(W1, W2, Syx)
    assert issubclass(_qqt.IllConditionedStart, ValueError)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="^Syx: must have 2 rows"):
        _qqt.factorise(np.eye(2), np.eye(2), np.ones((3, 2)))
    with pytest.raises(ValueError, match="^W2: must have 2 columns"):
        _qqt.factorise(np.eye(2), np.eye(3), np.ones((3, 2)))
    f = _qqt.factorise(np.eye(2), np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="^t: must be finite and >= 0"):
        _qqt.evaluate_qqt(f, -1.0)


def test_whitening_helper_and_check():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 50)) * np.array([[1.0], [3.0], [0.2]])
    Y = rng.standard_normal((2, 50))
    with pytest.raises(ValueError, match="^X: inputs are not whitened"):
        _qqt.check_whitened(X)
    w = _qqt.whiten(X, Y)
    assert np.max(np.abs(w.X @ w.X.T / 50 - np.eye(3))) <= 1e-13
    assert "was" in w.report and w.max_deviation_before > 1
    _qqt.check_whitened(w.X)
    with pytest.raises(ValueError, match="^X: .*singular"):
        _qqt.whiten(np.vstack([X, X[:1]]), Y)
