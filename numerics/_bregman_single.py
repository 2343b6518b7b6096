r"""Single-precision (float32) dual Hessians for :mod:`numerics._bregman`.

Newton's method on the dual converges to the float64 answer with any sufficiently accurate
symmetric positive definite model of the Hessian :math:`X\,\mathrm{diag}(w)\,X^\top`: the
gradient :math:`X\beta(\nu) - y` and the stopping test stay in float64, and a model with relative
error :math:`\epsilon` only turns a quadratically convergent step into one that contracts the
gradient by :math:`O(\epsilon\,\mathrm{cond}(H))` (as the lazy Hessian does with its stale weights).
In float32 (:math:`\epsilon \approx \sqrt{d}\,2^{-24}` for the products, :math:`n 2^{-24}` for the
Cholesky factor) the vector units hold twice as many numbers: at the benchmark's size (d = 200,
n = 80) forming the model takes ~0.65x the float64 time (28 vs 43 us), its Cholesky about the same
as the blocked float64 one (~15 us: at n = 80 short rows, not arithmetic, set its cost), and the
contraction it costs (``cond(H) <= 700`` there: ``~4e-3``) is below that of the lazy weights.

Scaling. The design is stored as :math:`X 2^{-e_X}` and the weights as :math:`w 2^{-e_w}`, with
powers of two chosen so that the largest entries lie in [1/2, 1): the float32 copies are the
float64 numbers rounded once, far from float32's overflow, and the model is that of
:math:`2^{-(2e_X + e_w)} H`, undone exactly after the solve (:func:`numerics._bregman._solve_scaled`).

The solver falls back to float64 when the float32 model is not positive definite or makes
slow progress (see :func:`numerics._bregman.bregman_dual_newton`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: the design's power-of-two exponent when X has no float32 copy (X = 0, or an extreme scale)
NO_SCALE = -(10**6)


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_squares(X):
    """sum_ji X_ji^2 (``reassoc``: a sum of non-negative terms; only its size is used)."""
    n, d = X.shape
    acc = 0.0
    for j in range(n):
        for i in range(d):
            acc += X[j, i] * X[j, i]
    return acc


@numba.njit(cache=True, error_model="numpy")
def single_design(X):
    """``(X32, XT32, e)``: ``X32 = X 2^-e`` in float32 and its transpose ``XT32`` (d x n, for gathering
    columns), with ``2^e`` the least power of two >= the Frobenius norm of X, so every entry is
    at most 1 in size (the scaling is exact: X32 is X rounded once to float32). ``e = NO_SCALE``
    when that norm is zero or not a finite double (|X| beyond ~1e154): no float32 model then."""
    n, d = X.shape
    X32 = np.empty((n, d), np.float32)
    XT32 = np.empty((d, n), np.float32)
    norm = math.sqrt(_sum_squares(X))
    if norm == 0.0 or not math.isfinite(norm):
        return X32, XT32, NO_SCALE
    e = math.frexp(norm)[1]
    scale = math.ldexp(1.0, -e)  # a normal double (|e| < 520): the products are exact until the rounding
    for j in range(n):
        for i in range(d):
            X32[j, i] = X[j, i] * scale
    for i in range(d):
        for j in range(n):
            XT32[i, j] = X32[j, i]
    return X32, XT32, e


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _upper_products_single(A, B, H):
    """Upper triangle of ``H = A B^T`` for symmetric ``A B^T`` (A, B, H float32; A, B n x d, C-ordered).

    Register blocks of four rows of A by two of B (eight float32 dot products per pass over six
    rows), as :func:`numerics._bregman._lower_products`; ``reassoc`` lets the sums vectorise.
    Entries below the diagonal that a block also fills are never read.
    """
    n, k = A.shape
    zero = np.float32(0.0)
    a0 = 0
    while a0 + 4 <= n:
        for b in range(0, a0 + 4, 2):
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            t0 = zero
            t1 = zero
            t2 = zero
            t3 = zero
            for i in range(k):
                xb = B[b, i]
                xc = B[b + 1, i]
                x0 = A[a0, i]
                x1 = A[a0 + 1, i]
                x2 = A[a0 + 2, i]
                x3 = A[a0 + 3, i]
                s0 += x0 * xb
                s1 += x1 * xb
                s2 += x2 * xb
                s3 += x3 * xb
                t0 += x0 * xc
                t1 += x1 * xc
                t2 += x2 * xc
                t3 += x3 * xc
            # stored transposed, into the upper triangle: four contiguous entries of rows b and b + 1
            H[b, a0] = s0
            H[b, a0 + 1] = s1
            H[b, a0 + 2] = s2
            H[b, a0 + 3] = s3
            H[b + 1, a0] = t0
            H[b + 1, a0 + 1] = t1
            H[b + 1, a0 + 2] = t2
            H[b + 1, a0 + 3] = t3
        a0 += 4
    for a in range(a0, n):
        for b in range(a + 1):
            acc = zero
            for i in range(k):
                acc += A[a, i] * B[b, i]
            H[b, a] = acc


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def hessian_single(X32, weight, wexp, w32, XW32, H32):
    """Upper triangle of ``H32 = X32 diag(w 2^-wexp) X32^T`` in float32 (``n^2 d / 2`` products);
    ``w32`` (d) and ``XW32`` (n x d) are float32 work arrays."""
    n, d = X32.shape
    for i in range(d):
        w32[i] = math.ldexp(weight[i], -wexp)
    for a in range(n):
        for i in range(d):
            XW32[a, i] = X32[a, i] * w32[i]
    _upper_products_single(XW32, X32, H32)


@numba.njit(cache=True, error_model="numpy")
def hessian_refresh_single(XT32, u, weight, u_ref, w_ref, tau, wexp, coef, moved, H32):
    """The float32 counterpart of :func:`numerics._bregman._hessian_refresh`: for the coordinates S
    whose ``u_i`` moved more than ``tau`` from ``u_ref``, ``H32 += X32_S diag((w_S - w_ref_S) 2^-wexp)
    X32_S^T`` (upper triangle), then ``u_ref_S, w_ref_S = u_S, w_S``. Returns |S|.

    As rank-4 updates of the rows of the upper triangle, ``H[b, b:] += sum_q c_q X[b, i_q] X[b:, i_q]``
    over four coordinates at a time, along contiguous rows of ``XT32`` (the transposed design of
    :func:`single_design`): each row of H is loaded and stored once per four coordinates, and a
    refresh of a few coordinates pays no dot products over a few terms. ``coef`` (float32) and
    ``moved`` (int64) are d-long work vectors. The inner loops run over row views from index 0:
    Numba's negative-index check on an index that starts elsewhere keeps LLVM from vectorising.
    """
    d, n = XT32.shape
    k = 0
    for i in range(d):
        if abs(u[i] - u_ref[i]) > tau:
            coef[k] = math.ldexp(weight[i] - w_ref[i], -wexp)
            moved[k] = i
            u_ref[i] = u[i]
            w_ref[i] = weight[i]
            k += 1
    for q in range(k, min(k + 3, d)):  # pad the last group of four with zero coefficients
        coef[q] = 0.0
        moved[q] = moved[0] if k > 0 else 0
    for q in range(0, k, 4):
        c0 = coef[q]
        c1 = coef[q + 1] if q + 1 < d else np.float32(0.0)
        c2 = coef[q + 2] if q + 2 < d else np.float32(0.0)
        c3 = coef[q + 3] if q + 3 < d else np.float32(0.0)
        g0 = XT32[moved[q]]
        g1 = XT32[moved[min(q + 1, d - 1)]]
        g2 = XT32[moved[min(q + 2, d - 1)]]
        g3 = XT32[moved[min(q + 3, d - 1)]]
        for b in range(n):
            f0 = c0 * g0[b]
            f1 = c1 * g1[b]
            f2 = c2 * g2[b]
            f3 = c3 * g3[b]
            h = H32[b, b:]
            r0 = g0[b:]
            r1 = g1[b:]
            r2 = g2[b:]
            r3 = g3[b:]
            for a in range(h.size):
                h[a] += (f0 * r0[a] + f1 * r1[a]) + (f2 * r2[a] + f3 * r3[a])
    return k


@numba.njit(cache=True, error_model="numpy")
def cholesky_upper_single(H32, U32):
    """Cholesky factor U (upper triangular, ``H = U^T U``) of the SPD matrix whose upper triangle
    is in ``H32``, into the upper triangle of ``U32`` (float32; H32 is kept). Returns False if a
    pivot is not positive (not positive definite to float32 accuracy).

    Right-looking, four rows at a time: a panel of four rows of U is finished (square root, scaling,
    the in-panel updates), then every later row is updated by all four at once,
    ``U[a, a:] -= sum_q U[q, a] U[q, a:]``, a contiguous rank-4 update that vectorises without any
    reduction (half the time of the dot-product form at n = 80).
    """
    n = H32.shape[0]
    for a in range(n):
        # row views from index 0 (see hessian_refresh_single): the copy vectorises (4x the indexed loop)
        dst = U32[a, a:]
        src = H32[a, a:]
        for j in range(dst.size):
            dst[j] = src[j]
    k0 = 0
    while k0 < n:
        kb = min(4, n - k0)
        for k in range(k0, k0 + kb):
            piv = U32[k, k]
            if not (piv > 0.0):
                return False
            root = math.sqrt(piv)
            U32[k, k] = root
            inv = np.float32(1.0 / root)
            row = U32[k, k + 1:]
            for j in range(row.size):
                row[j] *= inv
            for a in range(k + 1, k0 + kb):  # the panel's later rows
                f = U32[k, a]
                dst = U32[a, a:]
                src = U32[k, a:]
                for j in range(dst.size):
                    dst[j] -= f * src[j]
        if kb == 4:
            for a in range(k0 + 4, n):
                f0 = U32[k0, a]
                f1 = U32[k0 + 1, a]
                f2 = U32[k0 + 2, a]
                f3 = U32[k0 + 3, a]
                # row views from index 0 (see hessian_refresh_single)
                dst = U32[a, a:]
                u0 = U32[k0, a:]
                u1 = U32[k0 + 1, a:]
                u2 = U32[k0 + 2, a:]
                u3 = U32[k0 + 3, a:]
                for j in range(dst.size):
                    dst[j] -= (f0 * u0[j] + f1 * u1[j]) + (f2 * u2[j] + f3 * u3[j])
        k0 += kb
    return True


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def solve_upper_scaled(U32, r, z, step, hexp):
    """``step = -(2^hexp U^T U)^{-1} r`` in float64 arithmetic with the float32 factor U of
    :func:`cholesky_upper_single` (``z`` a work vector): ``U^T z = -r`` by columns of U^T (rows of
    U, contiguous updates), then ``U step = z`` by rows; the power of two is applied after the solve
    (exact, and no intermediate over- or underflows)."""
    n = r.size
    for k in range(n):
        z[k] = -r[k]
    for k in range(n):
        zk = z[k] / U32[k, k]
        z[k] = zk
        row = U32[k, k + 1:]
        rest = z[k + 1:]
        for j in range(row.size):
            rest[j] -= row[j] * zk
    for k in range(n - 1, -1, -1):
        acc = z[k]
        row = U32[k, k + 1:]
        rest = step[k + 1:]
        for j in range(row.size):
            acc -= row[j] * rest[j]
        step[k] = acc / U32[k, k]
    for k in range(n):
        step[k] = math.ldexp(step[k], -hexp)
