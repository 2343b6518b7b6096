r"""The once-per-start factorisation of :mod:`numerics._qqt`, compiled.

The maths is the one in :mod:`numerics._qqt`'s docstring (Dominé, Anguita et al., ICLR 2025;
Anguita 2024 thesis Thm 3.3.1, with the research note's unequal-width extension): the compact
SVD ``Syx = U diag(s) V^T``, the coefficients of F's ±Gamma eigenvectors, ``b = O_+^T Q0``, its
condition number, ``P = (O_-^T Q0) b^{-1}``, ``H = b^{-T} b^{-1}``, ``D = (O_perp^T Q0) b^{-1}``.

Why compiled: at n = 5 the same steps as two dozen NumPy calls on 5 x 5 arrays (SVDs, inverse,
products, stacking) cost 0.3-0.45 ms per evaluation, a third of the whole evaluation of 1000
times; here they are one call. The LAPACK routines are the ones Numba binds (SciPy's OpenBLAS:
``gesdd`` for the SVDs, ``getrf``/``getri`` for the inverse), so results agree with the NumPy
steps to rounding, not bitwise. The input checks and the error messages stay in Python
(:func:`numerics._qqt.check_start`); this module only computes.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def _eigen_coefficients(lam, s):
    # compiled: per mode a dozen scalar operations, which as NumPy calls on arrays of m cost tens of us
    m = s.size
    gamma, ap, bp, am, bm = np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    for i in range(m):
        si = s[i]
        K = math.hypot(lam, 2.0 * si)
        # K - lam and K + lam by conjugates where they cancel
        if lam <= 0:
            Km = K - lam
        else:
            Km = 4.0 * si * si / (K + lam) if K + lam > 0 else 0.0
        if lam >= 0:
            Kp = K + lam
        else:
            Kp = 4.0 * si * si / (K - lam) if K - lam > 0 else 0.0
        den = K + 2.0 * si
        if den > 0:
            one_m_X = (Km + 2.0 * si) / den
            one_p_X = (Kp + 2.0 * si) / den
        else:  # s = 0 and lam = 0: F vanishes on the mode, any basis will do (X = 0)
            one_m_X = 1.0
            one_p_X = 1.0
        r = 1.0 / math.hypot(one_m_X, one_p_X)  # (1 + X^2)^{-1/2} / sqrt2, as (1-X)^2 + (1+X)^2 = 2(1+X^2)
        gamma[i] = K / 2
        ap[i] = r * one_m_X
        bp[i] = r * one_p_X
        am[i] = r * one_p_X
        bm[i] = -r * one_m_X
    return gamma, ap, bp, am, bm


@numba.njit(cache=True, error_model="numpy")
def balance_stats(W1, W2):
    """(lam, imbalance, ||W1||_F^2 + ||W2||_F^2): lam = tr(W2^T W2 - W1 W1^T)/Nh and the largest
    |W2^T W2 - W1 W1^T - lam I| entry, as :func:`numerics._qqt.measured_lambda` (one pass, no temporaries
    but the Nh x Nh difference)."""
    Lam = np.dot(W2.T, W2) - np.dot(W1, W1.T)
    nh = Lam.shape[0]
    tr = 0.0
    for i in range(nh):
        tr += Lam[i, i]
    lam = tr / nh
    imb = 0.0
    for i in range(nh):
        for j in range(nh):
            d = abs(Lam[i, j] - lam) if i == j else abs(Lam[i, j])
            if d > imb or math.isnan(d):  # NaN (overflowed products) propagates, as np.max does
                imb = d
    sq = 0.0
    for x in W1.ravel():
        sq += x * x
    for x in W2.ravel():
        sq += x * x
    return lam, imb, sq


@numba.njit(cache=True, error_model="numpy")
def factor_arrays(W1, W2, Syx, lam, cond_max):
    """The factors of a checked start (W1: m x Ni, W2: No x m, m = min(Ni, No), all C-ordered).

    Returns ``(cond_b, s, U, V, gamma, g_perp, OD, P, H, DD, VUa, VUb, VUaT, ODT)``; when
    ``cond(b) > cond_max`` (or b is singular: ``cond_b = inf``) only ``cond_b`` is meaningful and the
    arrays are empty, so that the caller raises its own error.
    """
    Ni = W1.shape[1]
    No = W2.shape[0]
    m = min(Ni, No)
    n = Ni + No
    U_full, s, Vt_full = np.linalg.svd(Syx)
    U = np.ascontiguousarray(U_full[:, :m])
    V = np.ascontiguousarray(Vt_full[:m].T)
    gamma, ap, bp, am, bm = _eigen_coefficients(lam, s)
    W1TV = np.dot(V.T, W1.T)  # (m, Nh)
    W2TU = np.dot(U.T, W2)
    b = np.empty((m, m))
    c = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            b[i, j] = ap[i] * W1TV[i, j] + bp[i] * W2TU[i, j]
            c[i, j] = am[i] * W1TV[i, j] + bm[i] * W2TU[i, j]
    sv = np.linalg.svd(b)[1]
    cond_b = sv[0] / sv[-1] if sv[-1] > 0 else math.inf
    empty = np.empty((0, 0))
    if not cond_b <= cond_max:
        e1 = np.empty(0)
        return cond_b, e1, empty, empty, e1, 0.0, empty, empty, empty, empty, empty, empty, empty, empty
    binv = np.linalg.inv(b)
    P = np.dot(c, binv)
    H = np.dot(binv.T, binv)
    OD = np.zeros((n, m))
    if No > Ni:
        g_perp = lam / 2
        Uperp = np.ascontiguousarray(U_full[:, m:])
        D = np.dot(np.dot(Uperp.T, W2), binv)
        OD[Ni:] = np.dot(Uperp, D)
    elif Ni > No:
        g_perp = -lam / 2
        Vperp = np.ascontiguousarray(Vt_full[m:])
        D = np.dot(np.dot(Vperp, W1.T), binv)
        OD[:Ni] = np.dot(Vperp.T, D)
    else:
        g_perp = 0.0
        D = np.zeros((0, m))
    DD = np.dot(D.T, D) if D.shape[0] > 0 else np.zeros((m, m))
    VUa = np.empty((n, m))
    VUb = np.empty((n, m))
    for r in range(Ni):
        for j in range(m):
            VUa[r, j] = V[r, j] * ap[j]
            VUb[r, j] = V[r, j] * am[j]
    for r in range(No):
        for j in range(m):
            VUa[Ni + r, j] = U[r, j] * bp[j]
            VUb[Ni + r, j] = U[r, j] * bm[j]
    return (cond_b, s, U, V, gamma, g_perp, OD, np.ascontiguousarray(P), np.ascontiguousarray(H), DD, VUa, VUb,
            np.ascontiguousarray(VUa.T), np.ascontiguousarray(OD.T))
