"""numerics._qqt_factor: the compiled once-per-start factorisation against the NumPy steps it replaced."""

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import _qqt
from numerics._init_lambda_balanced import rotated_aligned_init
from numerics._qqt_factor import balance_stats, factor_arrays

widths = st.integers(1, 6)
lams = st.one_of(st.just(0.0), st.floats(-4, 4, allow_nan=False))
seeds = st.integers(0, 2**32 - 1)


def start(seed, lam, Ni, No):
    """A λ-balanced start with well-conditioned b by construction (rotated task-aligned frames; as test_qqt)."""
    rng = np.random.default_rng(seed)
    m = min(Ni, No)
    U = np.linalg.qr(rng.standard_normal((No, No)))[0][:, :m]
    V = np.linalg.qr(rng.standard_normal((Ni, Ni)))[0][:, :m]
    Syx = (U * rng.uniform(0.2, 3.0, m)) @ V.T
    a = np.exp(np.random.default_rng(seed + 1).uniform(np.log(1e-3), np.log(3.0), m))
    W1, W2 = rotated_aligned_init(lam, Syx, a, angle=0.5, seed=seed)
    return W1, W2, Syx


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


def numpy_factors(W1, W2, Syx, lam) -> _qqt.QQTFactors:
    """The NumPy steps of the factorisation (as before it was compiled), for comparison."""
    Ni, No = W1.shape[1], W2.shape[0]
    m = min(Ni, No)
    U_full, s, Vt_full = np.linalg.svd(Syx, full_matrices=True)
    U, V = U_full[:, :m], Vt_full[:m].T
    gamma, ap, bp, am, bm = _qqt.eigen_coefficients(lam, s)
    W1TV, W2TU = V.T @ W1.T, U.T @ W2
    b = ap[:, None] * W1TV + bp[:, None] * W2TU
    c = am[:, None] * W1TV + bm[:, None] * W2TU
    sv = np.linalg.svd(b, compute_uv=False)
    binv = np.linalg.inv(b)
    n = Ni + No
    OD = np.zeros((n, m))
    if No > Ni:
        g_perp = lam / 2
        D = U_full[:, m:].T @ W2 @ binv
        OD[Ni:] = U_full[:, m:] @ D
    elif Ni > No:
        g_perp = -lam / 2
        D = Vt_full[m:] @ W1.T @ binv
        OD[:Ni] = Vt_full[m:].T @ D
    else:
        g_perp = 0.0
        D = np.zeros((0, m))
    VUa, VUb = np.vstack([V * ap, U * bp]), np.vstack([V * am, U * bm])
    cc = np.ascontiguousarray
    return _qqt.QQTFactors(lam=lam, Ni=Ni, No=No, m=m, s=s, U=U, V=V, gamma=gamma, g_perp=g_perp, OD=cc(OD),
                           P=cc(c @ binv), H=cc(binv.T @ binv), DD=cc(D.T @ D), cond_b=float(sv[0] / sv[-1]),
                           VUa=VUa, VUb=VUb, VUaT=cc(VUa.T), ODT=cc(OD.T))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, Ni=widths, No=widths, lam=lams)
@example(seed=1, Ni=3, No=3, lam=0.0)
@example(seed=2, Ni=2, No=5, lam=0.0)   # extra output directions, lam = 0
@example(seed=3, Ni=6, No=2, lam=-2.5)  # extra input directions
@example(seed=4, Ni=1, No=1, lam=1.0)
def test_compiled_factors_give_the_numpy_factorisation(seed, Ni, No, lam):
    """Sign-free quantities agree to rounding (the SVDs' signs may differ between the two LAPACKs: a sign
    flip of mode i turns P into S P S, H into S H S), and so does QQ^T evaluated from either."""
    W1, W2, Syx, lam_m = _qqt.check_start(*start(seed, lam, Ni, No))
    f = _qqt._factorise(W1, W2, Syx, lam_m)
    g = numpy_factors(W1, W2, Syx, lam_m)
    tol = 64 * np.finfo(float).eps * g.cond_b
    assert np.max(np.abs(f.s - g.s)) <= 8 * np.finfo(float).eps * max(1.0, g.s[0])
    assert np.array_equal(f.gamma, _qqt.eigen_coefficients(lam_m, f.s)[0])
    assert abs(f.cond_b - g.cond_b) <= tol * g.cond_b and f.g_perp == g.g_perp
    for name in ("P", "H", "DD"):
        assert rel(np.abs(getattr(f, name)), np.abs(getattr(g, name))) <= tol, name
    # the eigenvector blocks span the same spaces: O O^T is sign-free
    for name in ("VUa", "VUb"):
        a, b = getattr(f, name), getattr(g, name)
        assert rel(a @ a.T, b @ b.T) <= tol, name
    assert np.array_equal(f.VUaT, f.VUa.T) and np.array_equal(f.ODT, f.OD.T)
    assert all(getattr(f, k).flags.c_contiguous for k in ("P", "H", "DD", "OD", "VUa", "VUb", "VUaT", "ODT"))
    t = np.array([0.0, 0.3, 2.0, 25.0])
    assert rel(_qqt.evaluate_qqt(f, t), _qqt.evaluate_qqt(g, t)) <= tol


def test_ill_conditioned_b_returns_only_its_condition_number():
    """cond(b) above the bound (and exactly singular b) come back as cond_b with empty arrays, no exception
    from the inverse; the Python wrapper turns them into IllConditionedStart."""
    W1, W2, Syx, lam = _qqt.check_start(*start(5, 0.0, 3, 3))
    out = factor_arrays(W1, W2, Syx, lam, 1.0)  # every b has cond >= 1: refused
    assert out[0] >= 1.0 and all(a.size == 0 for a in out[1:] if isinstance(a, np.ndarray))
    sing = factor_arrays(np.zeros((3, 3)), np.zeros((3, 3)), Syx, 0.0, _qqt.COND_B_MAX)
    assert math.isinf(sing[0])


@settings(max_examples=30, deadline=None)
@given(seed=seeds, nh=st.integers(1, 6), ni=st.integers(1, 6), no=st.integers(1, 6))
def test_balance_stats_match_measured_lambda(seed, nh, ni, no):
    rng = np.random.default_rng(seed)
    W1, W2 = rng.standard_normal((nh, ni)), rng.standard_normal((no, nh))
    lam, imb, sq = balance_stats(W1, W2)
    lam_ref, imb_ref = _qqt.measured_lambda(W1, W2)
    scale = np.sum(W1**2) + np.sum(W2**2)
    assert abs(lam - lam_ref) <= 1e-14 * scale and abs(imb - imb_ref) <= 1e-14 * scale
    assert abs(sq - scale) <= 1e-14 * scale


def test_balance_stats_on_a_balanced_and_an_unbalanced_start():
    """W2^T W2 - W1 W1^T = 4 I exactly: lam = 4, imbalance 0 (a version without the shift by lam would
    report 4); with W2[0, 0] = 3 the difference is diag(9, 4, 4): lam = 17/3, imbalance 9 - 17/3."""
    W1 = np.zeros((3, 2))
    W2 = 2.0 * np.eye(3)
    assert balance_stats(W1, W2) == (4.0, 0.0, 12.0)
    W2[0, 0] = 3.0
    lam, imb, sq = balance_stats(W1, W2)
    assert abs(lam - 17 / 3) <= 1e-15 and abs(imb - (9 - 17 / 3)) <= 1e-14 and sq == 17.0
