r"""Bregman projection onto an affine set of interpolators, by Newton's method on the dual.

Problem (hypentropy / diagonal-network potential, per-coordinate scale ``kappa_i > 0``):

.. math:: \hat\beta = \arg\min_\beta \sum_i D_{\phi_{\kappa_i}}(\beta_i, \beta^0_i)
          \quad\text{s.t.}\quad X\beta = y,

with :math:`\phi_\kappa'(b) = \tfrac12 \operatorname{asinh}(2b/\kappa)` and
:math:`\phi_\kappa''(b) = 1/\sqrt{\kappa^2 + 4b^2}`. The optimality condition is
:math:`\phi'(\hat\beta) = \phi'(\beta^0) + X^\top\nu`, i.e.

.. math:: \hat\beta_i = \tfrac{\kappa_i}{2}\sinh(2u_i), \qquad u = p^0 + X^\top \nu, \qquad
          p^0_i = \tfrac12\operatorname{asinh}(2\beta^0_i/\kappa_i),

and ``nu`` minimises the strictly convex dual
:math:`h(\nu) = \sum_i \tfrac{\kappa_i}{4}\cosh(2u_i) - \nu^\top y`, whose gradient is
:math:`X\hat\beta(\nu) - y` and Hessian :math:`X\,\mathrm{diag}(\sqrt{\kappa^2 + 4\beta^2})\,X^\top`
(factorised by Cholesky, or as :math:`R^\top R` from the QR factors of :math:`\mathrm{diag}(\sqrt{\cdot})X^\top`)
(research note diagonal-linear.md §3.2, DERIVED+CHECKED D3).

Numerics. Everything is computed from ``l_i = log(kappa_i / 2)`` and ``|u_i|``:
``beta = -sign(u) exp(l + 2|u|) expm1(-4|u|) / 2``, ``sqrt(kappa^2 + 4 beta^2) = exp(l + 2|u|)
(2 + expm1(-4|u|))``, so tiny ``kappa`` (down to the smallest normal double) never
overflows or underflows an intermediate that matters: only ``exp(l + 2|u|)``, which
is of the size of ``beta`` itself. ``p0`` is computed as a logarithm when
``2|beta0|/kappa`` would overflow. Newton steps are capped so that no ``u_i`` moves by
more than ``MAX_DU`` (a trust region: far from the solution the dual is exponential
and the raw Newton step overshoots by ``~1/kappa``), followed by Armijo backtracking
that treats an infinite objective as a failed trial. The iteration stops when the
residual ``|X beta - y|`` is at the rounding level of the products ``|X| |beta|``.

Speed. The input checks, the start and the whole Newton loop are compiled (no Python per
iteration, no allocation of matrices per iteration). The Newton system is the n x n dual
Hessian. While the weights span at most ``GRADED`` it is modelled in float32
(:mod:`numerics._bregman_single`: twice the vector width, so the ``n^2 d / 2`` products take
~0.65x the float64 time; the float64 gradient and stopping test make the answer that of exact
Newton, the model only sets how fast the iteration contracts) and factorised by Cholesky; the
float64 normal equations (blocked dot products, Cholesky four rows at a time) take over where the
float32 model is not positive definite or makes slow progress, and Householder QR of the
weighted design where the weights span more than ``GRADED``. The Hessian is lazy (see
:func:`bregman_dual_newton`): near the optimum a step reuses the last factor (chord step, a
triangular solve) or refreshes only the coordinates whose ``u_i`` moved more than ``LAZY_DRIFT``
(``DAMPED_DRIFT`` after a step that the trust region cut), a rank-|S| update and a new Cholesky.
Reductions (dot products, sums of the residual) carry Numba's ``reassoc`` flag so that they
vectorise; nothing else does. The dual state (``beta`` and the weights, one ``exp`` and one
``expm1`` per coordinate) uses the libm-free :mod:`numerics._vexp`, so that its loop vectorises
(1.6 instead of 7.6 us at d = 200). A Newton step's trial points take ``u + t X^T step`` (``X^T step``
is formed anyway for the trust region) instead of a second pass ``p0 + X^T (nu + t step)``; chord
steps recompute ``u = p0 + X^T nu``, so ``u`` stays that of ``nu`` to a few roundings (a test checks
``beta = beta(p0 + X^T nu)``). Trial points live in preallocated buffers swapped on acceptance (no
allocation per step), and the scaled residual's second sum is skipped while a bound already decides
the stopping test (:func:`_residual_into`). At d = 200, n = 80 (``benchmarks/bench_diagonal.py``) a
projection is 10-12 steps: 2-4 fresh Hessians (float32), 1-3 refreshes and 4 chord steps. Per step
there: two passes over X (~2-2.8 us each, four rows at a time), the dual state (1.3 us) and two
triangular solves (1.65 us); per factorisation a float32 Hessian (~25 us) and its Cholesky (~5 us)
(in-loop figures). The solver alone and through ``evaluate``: see the benchmark's docstring.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._bregman_single import (
    NO_SCALE,
    cholesky_upper_single,
    hessian_refresh_single,
    hessian_single,
    single_design,
    solve_upper_scaled,
)
from ._vexp import vexp, vexpm1

MAX_DU = 2.0
MAX_ITER = 500
#: weights spanning more than this ratio use QR instead of the normal equations
GRADED = 1e6
#: lazy Hessian: coordinates whose u_i moved at most this far from their reference keep their old weight
LAZY_DRIFT = 0.02
#: ... and, after a damped step (t < 1: the trust region or the line search cut it), this far
DAMPED_DRIFT = 0.3
#: ... and likewise while the scaled residual is above this (far from the optimum, where steps are not yet
#: quadratically convergent and a rougher Hessian costs fewer factorisations than it adds steps)
GLOBAL_RESIDUAL = 1e-3
#: after this many iterations the float32 Hessian gives way to the float64 one (see bregman_dual_newton)
SINGLE_MAX_ITER = 60
#: ... or after this many chord steps with a float32 factor failed to halve the residual
SINGLE_MAX_REJECTED = 4
EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)
LOG2 = math.log(2.0)


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum(a):
    """sum_i a_i (``reassoc``: the sum vectorises; kept apart from the exponentials, which must not be reassociated)."""
    acc = 0.0
    for i in range(a.size):
        acc += a[i]
    return acc


@numba.njit(cache=True, error_model="numpy")
def _dual_state_into(log_half_kappa, u, beta, weight):
    """beta and the Hessian weights sqrt(kappa^2 + 4 beta^2) = kappa cosh(2u) at dual coordinates u
    (log-space), written into ``beta`` and ``weight``; returns sum_i weight_i / 4 = sum_i (kappa_i/4)
    cosh(2 u_i), the first term of the dual objective (infinite if a weight overflows).

    With ``big = exp(l + 2|u|)`` and ``em = expm1(-4|u|)``: ``beta = -sign(u) big em / 2`` (no
    cancellation as u -> 0) and ``weight = big (2 + em)`` (``2 + em = 1 + e^{-4|u|}`` to an
    absolute error of one rounding, i.e. to full relative accuracy as 1 + e^{-4|u|} >= 1).
    """
    for i in range(u.size):
        a = abs(u[i])
        big = vexp(log_half_kappa[i] + 2.0 * a)
        em = vexpm1(-4.0 * a)
        beta[i] = math.copysign(-0.5 * big * em, u[i])
        weight[i] = big * (2.0 + em)
    return 0.25 * _sum(weight)


@numba.njit(cache=True, error_model="numpy")
def _dual_state(log_half_kappa, u):
    """(beta, weight, sum_i (kappa_i/4) cosh(2 u_i)) at dual coordinates u, in new arrays."""
    beta = np.empty(u.size)
    weight = np.empty(u.size)
    quarter_sum = _dual_state_into(log_half_kappa, u, beta, weight)
    return beta, weight, quarter_sum


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _dot(a, b):
    acc = 0.0
    for j in range(a.size):
        acc += a[j] * b[j]
    return acc


@numba.njit(cache=True, error_model="numpy")
def _rmatvec_into(X, w, out):
    """``out = X^T w`` by loops over rows of X, four at a time (each pass over ``out`` adds four rows:
    a quarter of the loads and stores of ``out``; no reduction, so no ``reassoc`` is needed to vectorise)."""
    n, d = X.shape
    for i in range(d):
        out[i] = 0.0
    j = 0
    while j + 4 <= n:
        w0, w1, w2, w3 = w[j], w[j + 1], w[j + 2], w[j + 3]
        x0, x1, x2, x3 = X[j], X[j + 1], X[j + 2], X[j + 3]
        for i in range(d):
            out[i] += (x0[i] * w0 + x1[i] * w1) + (x2[i] * w2 + x3[i] * w3)
        j += 4
    for j in range(j, n):
        wj = w[j]
        xj = X[j]
        for i in range(d):
            out[i] += xj[i] * wj


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _matvec_into(X, v, out):
    """``out = X v``: dot products along the rows of X, four rows per pass over ``v`` (a quarter of its loads)."""
    n, d = X.shape
    j = 0
    while j + 4 <= n:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        x0, x1, x2, x3 = X[j], X[j + 1], X[j + 2], X[j + 3]
        for i in range(d):
            b = v[i]
            a0 += x0[i] * b
            a1 += x1[i] * b
            a2 += x2[i] * b
            a3 += x3[i] * b
        out[j] = a0
        out[j + 1] = a1
        out[j + 2] = a2
        out[j + 3] = a3
        j += 4
    for j in range(j, n):
        acc = 0.0
        for i in range(d):
            acc += X[j, i] * v[i]
        out[j] = acc


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _weighted_square(w, v):
    """sum_i w_i v_i^2."""
    acc = 0.0
    for i in range(v.size):
        acc += w[i] * v[i] * v[i]
    return acc


@numba.njit(cache=True, error_model="numpy")
def _mirror_target_into(beta, weight, du, log_half_kappa, p0, out):
    """``out_i = w_i (phi'(beta_i + w_i du_i) - p0_i)``, with ``phi'(b) = asinh(2b/kappa)/2`` taken in the
    log form of :func:`_dual_start` where ``2|b|/kappa`` is huge (``kappa/2 = exp(l)``): the right-hand
    side ``X out`` of the weighted projection of the dual target onto ``p0 + range(X^T)``."""
    for i in range(beta.size):
        b = beta[i] + weight[i] * du[i]
        ratio = b * math.exp(-log_half_kappa[i])  # 2b/kappa; exp(-l) <= 2/2.2e-308 is finite
        if abs(ratio) < 1e150:
            g = 0.5 * math.asinh(ratio)
        else:
            g = 0.5 * math.copysign(math.log(2.0 * abs(b)) - log_half_kappa[i], b)
        out[i] = weight[i] * (g - p0[i])


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _anderson_into(nu, step, prev_nu, prev_step, out):
    """Anderson(1) acceleration of the chord iteration ``nu -> nu + s(nu)``, ``s = -M^{-1} r(nu)`` with a
    fixed factor M: with ``df = s_k - s_{k-1}`` and ``dnu = nu_k - nu_{k-1}``,
    ``out = nu_k + s_k - gamma (dnu + df)``, ``gamma = (df . s_k) / (df . df)``. Near the optimum the chord
    error contracts by the linear map ``I - M^{-1} H``; where one eigenvalue lambda dominates it
    (``s_k ~ lambda s_{k-1}``, ``gamma ~ lambda / (lambda - 1)``), this removes that component in one step,
    where the plain step keeps a fraction lambda of it. ``out`` holds ``nu + step`` on entry and is left so
    when ``|gamma| > 1/2`` (no contraction to extrapolate: the plain step is the safe one)."""
    num = 0.0
    den = 0.0
    for k in range(nu.size):
        df = step[k] - prev_step[k]
        num += df * step[k]
        den += df * df
    if not (den > 0.0):
        return
    gamma = num / den
    if not (abs(gamma) <= 0.5):
        return
    for k in range(nu.size):
        out[k] -= gamma * ((nu[k] - prev_nu[k]) + (step[k] - prev_step[k]))


@numba.njit(cache=True, error_model="numpy")
def _axpy_into(x, t, y, out):
    """``out = x + t y`` elementwise (into a preallocated array: no allocation per Newton trial)."""
    for i in range(x.size):
        out[i] = x[i] + t * y[i]


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _factor_qr(X, sqrt_weight, B, v, F):
    """Householder QR of A^T = diag(sqrt w) X^T (H = A A^T = R^T R); writes R^T into the lower triangle of F.

    The rows of ``B = X diag(sqrt w)`` (a work array of X's shape) are the columns of ``A^T``;
    reflectors act along the coordinates (``v`` is a length-d work vector). Norms are scaled by
    the largest entry, so weights spanning hundreds of decades neither overflow nor underflow;
    the triangular solves keep the accuracy of R. Returns False if a column of A^T vanishes.
    """
    n, d = X.shape
    for j in range(n):
        for i in range(d):
            B[j, i] = X[j, i] * sqrt_weight[i]
    for k in range(n):
        m = 0.0
        for i in range(k, d):
            m = max(m, abs(B[k, i]))
        if m == 0.0:
            return False
        ss = 0.0
        for i in range(k, d):
            v[i] = B[k, i] / m
            ss += v[i] * v[i]
        norm = math.sqrt(ss)
        alpha = -norm if v[k] >= 0.0 else norm
        v[k] -= alpha
        vv = 0.0
        for i in range(k, d):
            vv += v[i] * v[i]
        F[k, k] = alpha * m
        for j in range(k + 1, n):
            sdot = 0.0
            for i in range(k, d):
                sdot += v[i] * B[j, i]
            f = 2.0 * sdot / vv
            for i in range(k, d):
                B[j, i] -= f * v[i]
            F[j, k] = B[j, k]  # R[k, j], stored transposed
    return True


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _lower_products(A, B, k, H, accumulate):
    """Lower triangle of ``H (+)= A[:, :k] B[:, :k]^T`` (A, B: n x m, m >= k, C-ordered).

    Four rows of A at a time: each row of B is loaded once per four dot products over contiguous
    rows; ``reassoc`` lets those sums vectorise (the rounding error bound of a dot product does
    not depend on its order). The few entries above the diagonal that a block also fills are
    never read.
    """
    n = A.shape[0]
    a0 = 0
    while a0 + 4 <= n:
        for b in range(a0 + 4):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for i in range(k):
                xb = B[b, i]
                s0 += A[a0, i] * xb
                s1 += A[a0 + 1, i] * xb
                s2 += A[a0 + 2, i] * xb
                s3 += A[a0 + 3, i] * xb
            if accumulate:
                H[a0, b] += s0
                H[a0 + 1, b] += s1
                H[a0 + 2, b] += s2
                H[a0 + 3, b] += s3
            else:
                H[a0, b] = s0
                H[a0 + 1, b] = s1
                H[a0 + 2, b] = s2
                H[a0 + 3, b] = s3
        a0 += 4
    for a in range(a0, n):
        for b in range(a + 1):
            acc = 0.0
            for i in range(k):
                acc += A[a, i] * B[b, i]
            if accumulate:
                H[a, b] += acc
            else:
                H[a, b] = acc


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _hessian_normal(X, weight, XW, H):
    """Lower triangle of H = X diag(w) X^T (n^2 d / 2 products; ``XW`` a work array of X's shape)."""
    n, d = X.shape
    for a in range(n):
        for i in range(d):
            XW[a, i] = X[a, i] * weight[i]
    _lower_products(XW, X, d, H, False)


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _hessian_refresh(X, u, weight, u_ref, w_ref, tau, G, GW, H):
    """Refresh the coordinates whose ``u_i`` moved more than ``tau`` from ``u_ref``:
    ``H += X_S diag(w_S - w_ref_S) X_S^T`` over that set S, then ``u_ref_S, w_ref_S = u_S, w_S``.

    ``G``, ``GW`` are n x d work arrays (the gathered columns X_S and their weighted copy).
    Returns |S|; n^2 |S| / 2 products instead of n^2 d / 2 for forming H afresh.
    """
    n, d = X.shape
    k = 0
    for i in range(d):
        if abs(u[i] - u_ref[i]) > tau:
            dw = weight[i] - w_ref[i]
            for a in range(n):
                G[a, k] = X[a, i]
                GW[a, k] = X[a, i] * dw
            u_ref[i] = u[i]
            w_ref[i] = weight[i]
            k += 1
    if k > 0:
        _lower_products(GW, G, k, H, True)
    return k


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _cholesky(H, F):
    """Cholesky factor L of the SPD matrix whose lower triangle is in H (H = L L^T), into the lower
    triangle of F (H is kept). Returns False if a pivot is not positive.

    Row by row (Cholesky-Banachiewicz: ``L[a, b] = (H[a, b] - L[a, :b] . L[b, :b]) / L[b, b]``),
    four rows of L at a time against two earlier rows (a 4 x 2 register block): the dot
    products run along contiguous rows and each loaded row serves several of them (1.6x the speed of the
    one-dot-at-a-time loop at n = 80).
    """
    n = H.shape[0]
    a0 = 0
    while a0 < n:
        m = min(4, n - a0)
        b = 0
        if m == 4:
            while b + 2 <= a0:  # columns left of the block, two at a time
                s0 = H[a0, b]
                s1 = H[a0 + 1, b]
                s2 = H[a0 + 2, b]
                s3 = H[a0 + 3, b]
                t0 = H[a0, b + 1]
                t1 = H[a0 + 1, b + 1]
                t2 = H[a0 + 2, b + 1]
                t3 = H[a0 + 3, b + 1]
                for j in range(b):
                    lb = F[b, j]
                    lc = F[b + 1, j]
                    x0 = F[a0, j]
                    x1 = F[a0 + 1, j]
                    x2 = F[a0 + 2, j]
                    x3 = F[a0 + 3, j]
                    s0 -= x0 * lb
                    s1 -= x1 * lb
                    s2 -= x2 * lb
                    s3 -= x3 * lb
                    t0 -= x0 * lc
                    t1 -= x1 * lc
                    t2 -= x2 * lc
                    t3 -= x3 * lc
                s0 /= F[b, b]
                s1 /= F[b, b]
                s2 /= F[b, b]
                s3 /= F[b, b]
                F[a0, b] = s0
                F[a0 + 1, b] = s1
                F[a0 + 2, b] = s2
                F[a0 + 3, b] = s3
                # column b + 1 also needs the term j = b, which was just computed
                lc = F[b + 1, b]
                F[a0, b + 1] = (t0 - s0 * lc) / F[b + 1, b + 1]
                F[a0 + 1, b + 1] = (t1 - s1 * lc) / F[b + 1, b + 1]
                F[a0 + 2, b + 1] = (t2 - s2 * lc) / F[b + 1, b + 1]
                F[a0 + 3, b + 1] = (t3 - s3 * lc) / F[b + 1, b + 1]
                b += 2
        # what is left: an odd last column, the rows of a short last block, and the diagonal block
        for a in range(a0, a0 + m):
            for c in range(b, a + 1):
                acc = H[a, c]
                for j in range(c):
                    acc -= F[a, j] * F[c, j]
                if c == a:
                    if not (acc > 0.0):
                        return False
                    F[a, a] = math.sqrt(acc)
                else:
                    F[a, c] = acc / F[c, c]
        a0 += m
    return True


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _solve_factored(F, r, z, step):
    """step = -(L L^T)^{-1} r with L the lower triangle of F (z: work vector, overwritten); forward then
    backward substitution, both along the rows of L."""
    n = r.size
    for k in range(n):
        acc = -r[k]
        for j in range(k):
            acc -= F[k, j] * z[j]
        z[k] = acc / F[k, k]
    # L^T step = z by columns of L^T, i.e. rows of L (contiguous): z[:k] -= step[k] L[k, :k]
    for k in range(n - 1, -1, -1):
        sk = z[k] / F[k, k]
        step[k] = sk
        for j in range(k):
            z[j] -= sk * F[k, j]


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _abs_products(X, beta):
    """|X| |beta| (row sums of |X_ji beta_i|; ``reassoc``: a sum of non-negative terms is accurate in any order)."""
    n, d = X.shape
    out = np.empty(n)
    for j in range(n):
        acc = 0.0
        for i in range(d):
            acc += abs(X[j, i] * beta[i])
        out[j] = acc
    return out


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _abs_row_sums(X):
    """``sum_i |X_ji|`` for every row j; not finite exactly when a row holds a NaN or an infinity
    (or its sum overflows, beyond ~1e306 per entry). One pass; ``reassoc``: non-negative terms."""
    n, d = X.shape
    out = np.empty(n)
    for j in range(n):
        acc = 0.0
        for i in range(d):
            acc += abs(X[j, i])
        out[j] = acc
    return out


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _max_abs(a):
    """max_i |a_i| (NaN if some entry is NaN: ``reassoc`` leaves the NaN semantics of the compares)."""
    m = 0.0
    for i in range(a.size):
        v = abs(a[i])
        m = v if not (v <= m) else m
    return m


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _residual_into(X, beta, y, floor, row_abs, rtol, r):
    """``r = X beta - y`` (into ``r``) and the scaled residual ``max_j |r_j| / (sum_i |X_ji beta_i| +
    floor_j + |y_j|)``, or, when that is certainly above ``rtol``, a lower bound of it.

    The scale needs a second sum per row; ``sum_i |X_ji beta_i| <= max_i |beta_i| sum_i |X_ji|``
    (``row_abs``) bounds it from above for free, so the bounded ratio is a lower bound of the scaled
    residual. Far from the optimum (every Newton step but the last one or two) that bound already
    exceeds ``rtol`` and the scale's pass is skipped: the stopping test only asks whether the scaled
    residual is <= rtol, which the bound then decides. Otherwise the exact value is computed.
    """
    n, d = X.shape
    _matvec_into(X, beta, r)
    bmax = _max_abs(beta)
    bound = 0.0
    for j in range(n):
        r[j] -= y[j]
        scale = bmax * row_abs[j] + abs(y[j]) + floor[j]
        if scale != 0.0:  # a zero row with y_j = 0 has nothing to scale; a NaN scale must propagate
            q = abs(r[j]) / scale
            bound = q if not (q <= bound) else bound  # a NaN residual propagates (and is never <= rtol)
    if bound > rtol:
        return bound
    res = 0.0
    for j in range(n):
        scale = 0.0
        for i in range(d):
            scale += abs(X[j, i] * beta[i])
        scale += abs(y[j]) + floor[j]
        if scale != 0.0:
            q = abs(r[j]) / scale
            res = q if not (q <= res) else res
    return res


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _max_abs_diff(a, b):
    """max_i |a_i - b_i| (a max is exact in any order, so ``reassoc`` changes nothing but speed)."""
    m = 0.0
    for i in range(a.size):
        m = max(m, abs(a[i] - b[i]))
    return m


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _norm2(r):
    acc = 0.0
    for j in range(r.size):
        acc += r[j] * r[j]
    return math.sqrt(acc)


@numba.njit(cache=True, error_model="numpy")
def bregman_dual_newton(X, y, log_half_kappa, p0, rtol, max_iter):
    """:func:`_dual_newton` with the row sums of |X| formed here."""
    return _dual_newton(X, y, log_half_kappa, p0, rtol, max_iter, _abs_row_sums(X))


@numba.njit(cache=True, error_model="numpy")
def _dual_newton(X, y, log_half_kappa, p0, rtol, max_iter, row_abs):
    """Newton on the dual, with a lazily refreshed Hessian (``row_abs``: the row sums of |X|).
    Returns (beta, nu, iterations, scaled_residual, converged, fresh): ``iterations`` counts steps
    of every kind, ``fresh`` the Hessians formed from scratch (the rest were refreshed or reused).

    ``scaled_residual = max_j |X beta - y|_j / (sum_i |X_ji| (|beta_i| + |beta0_i|) + |y_j|)`` with
    ``beta0`` the start (the Bregman centre; NaN if beta holds a NaN or an infinity, so such a point never
    passes the test); converged when it is <= ``rtol`` and a final
    (polishing) step has been taken. The start's term keeps the scale away from zero
    when the answer is beta = 0 (y = 0 with a square X), where |X beta| alone would shrink with
    the residual and the relative residual would never fall.

    Lazy Hessian. The Hessian weights are ``w_i = kappa_i cosh(2 u_i)``. The factorised matrix is
    ``X diag(w_ref) X^T`` with reference weights taken at reference points ``u_ref``; wherever
    every ``|u_i - u_ref_i| <= delta``, ``w_i / w_ref_i`` lies in ``[e^{-2 delta}, e^{2 delta}]``,
    so a step with that matrix contracts the gradient by at most ``e^{2 delta} - 1`` in its
    inverse norm (a quasi-Newton step; exact Newton when delta = 0). Hence:

    * chord step: when no ``u_i`` (before and after the step) is further than ``LAZY_DRIFT``
      (resp. twice that) from ``u_ref``, the last factor is reused (a triangular solve; the bound
      is then ``e^{4 LAZY_DRIFT} - 1 <= 0.083``); it is kept only if it at least halves
      ``|X beta - y|``, else an exact Newton step (H formed afresh at the current point) follows;
      from the second chord step in a row with one factor on, the step is Anderson(1)-accelerated
      (:func:`_anderson_into`: the chord error contracts steadily along one direction, ~1/135 per
      step at the benchmark's size, and the extrapolation removes that component: one step fewer);
    * refresh: otherwise only the coordinates that moved further than ``LAZY_DRIFT`` are updated,
      ``H += X_S diag(w_S - w_ref_S) X_S^T`` (``n^2 |S| / 2`` products instead of ``n^2 d / 2``), and H
      is factorised again; H is formed afresh when more than half of the coordinates moved, after a
      rejected chord step, or when a refreshed H is not numerically positive definite. After a
      damped step (the trust region or the line search cut it: far from the optimum, where the
      step is a descent direction rather than a quadratically convergent one) the threshold is
      ``DAMPED_DRIFT``, so that fewer Hessians are formed afresh there.

    Float32 model. While the weights span at most ``GRADED``, H is held and factorised in float32
    (:mod:`numerics._bregman_single`, scaled by powers of two; relative error ~``sqrt(d) 2^-24``,
    which adds ``O(2^-24 sqrt(d) cond(H))`` to the contraction above); the float64 normal equations
    take over for the rest of the solve if the float32 factor is not positive definite, after
    ``SINGLE_MAX_REJECTED`` rejected chord steps with it, or after ``SINGLE_MAX_ITER`` iterations.

    Far from the optimum:

    * mirror start: the first Newton step linearises beta at the start, and ``beta0 + w du`` is then the
      weighted-ridge interpolant, feasible but far from the answer where ``|du|`` is large (the dual is
      exponential there, the step overshoots). Instead its dual coordinates ``g = phi'(beta0 + w du) - p0``
      are projected onto ``range(X^T)`` in the Hessian's metric, ``nu = H^{-1} X diag(w) g`` (one pass over
      X and one solve with the factor just formed): large components are compressed logarithmically,
      small ones are kept. Taken when it is a descent direction of the dual; else Newton's step.
    * a step cut by the trust region starts its line search at one Newton step on ``t -> h(nu + t step)``
      from the cut (first and second derivatives ``du . beta - step . y`` and ``sum w du^2`` from one dual
      state), clamped to a factor 4 around it, instead of at the cut itself.
    * while the scaled residual is certainly above ``GLOBAL_RESIDUAL`` (the bound of
      :func:`_residual_into` exceeds it), refreshes use ``DAMPED_DRIFT`` even after full steps.

    On the benchmark's problems (d = 200, n = 80, rho = 0.1, six seeds, c from 0.005 to 0.5) the three
    together save 2-12 % of the solve time (0.3-0.8 fewer factorisations), measured interleaved.

    Every step is globalised as before (trust region on ``u``, Armijo / residual decrease), and the
    answer is always ``beta(p0 + X^T nu)`` with its residual evaluated exactly, so the lazy Hessian
    and the choices above change the path to the optimum, not the optimum or the stopping test.
    """
    n, d = X.shape
    nu = np.zeros(n)
    u = p0.copy()
    beta, weight, h = _dual_state(log_half_kappa, u)  # h(0): nu = 0
    # trial points (nu, u, beta, weights, residual), swapped with the current ones on acceptance:
    # no allocation per step
    nu_t = np.empty(n)
    u_t = np.empty(d)
    b_t = np.empty(d)
    w_t = np.empty(d)
    r = np.empty(n)
    r_t = np.empty(n)
    du = np.empty(d)
    xtw = np.empty(d)
    step_m = np.empty(n)
    prev_step = np.empty(n)  # the last accepted chord step and the point it started from (Anderson)
    prev_nu = np.empty(n)
    chord_run = 0
    # the start's term of the residual's scale (none for the common start beta0 = 0), and the
    # row sums of |X| that bound the rest of it (see _residual_into)
    floor = _abs_products(X, beta) if _max_abs(beta) != 0.0 else np.zeros(n)
    # work arrays, allocated once: H (lower triangle), its factor, two X-shaped and d-long scratch;
    # the float32 model's copies of X, H (upper triangle) and factor
    H = np.empty((n, n))
    factor = np.empty((n, n))
    work = np.empty((n, d))
    work2 = np.empty((n, d))
    work_d = np.empty(d)
    work_n = np.empty(n)
    step = np.empty(n)
    u_ref = np.empty(d)
    w_ref = np.empty(d)
    # the single-precision Hessian: X 2^-xexp in float32, H32 = X32 diag(w_ref 2^-wexp) X32^T
    X32, XT32, xexp = single_design(X)
    use_single = xexp != NO_SCALE
    H32 = np.empty((n, n), np.float32)
    factor32 = np.empty((n, n), np.float32)
    work32 = np.empty((n, d), np.float32)
    w32 = np.empty(d, np.float32)
    moved_idx = np.empty(d, np.int64)
    rejected_single = 0  # chord steps with a float32 factor that failed to halve the residual
    wexp = 0
    hexp = 0  # a float32 factor is that of 2^-hexp X diag(w_ref) X^T
    have_factor = False  # factor is that of X diag(w_ref) X^T, with w_ref the weights at u_ref
    have_normal = False  # H (or H32 if single) holds X diag(w_ref) X^T (normal equations; not after QR)
    single = False
    full_step = True  # the last Newton step was not cut (the chord and refresh tests use LAZY_DRIFT)
    res = _residual_into(X, beta, y, floor, row_abs, rtol, r)
    polished = False
    fresh = 0
    it = 0
    for it in range(1, max_iter + 1):
        if res <= rtol:
            if polished:
                return beta, nu, it, res, True, fresh
            polished = True
        rnorm = _norm2(r)
        chord_rejected = False
        if use_single and (it > SINGLE_MAX_ITER or rejected_single > SINGLE_MAX_REJECTED):
            # slow progress: the float32 model may be too inaccurate (an ill-conditioned X diag(w) X^T)
            use_single = False
        if have_factor and _max_abs_diff(u, u_ref) <= LAZY_DRIFT:
            if single:
                solve_upper_scaled(factor32, r, work_n, step, hexp)
            else:
                _solve_factored(factor, r, work_n, step)
            _axpy_into(nu, 1.0, step, nu_t)
            if chord_run > 0:
                _anderson_into(nu, step, prev_nu, prev_step, nu_t)
            _rmatvec_into(X, nu_t, xtw)
            _axpy_into(p0, 1.0, xtw, u_t)
            if _max_abs_diff(u_t, u_ref) <= 2.0 * LAZY_DRIFT:
                h_t = _dual_state_into(log_half_kappa, u_t, b_t, w_t) - _dot(nu_t, y)
                res_t = _residual_into(X, b_t, y, floor, row_abs, rtol, r_t)
                if _norm2(r_t) <= 0.5 * rnorm or res_t <= rtol:
                    prev_step[:] = step
                    prev_nu[:] = nu
                    chord_run += 1
                    h, res = h_t, res_t
                    nu, nu_t = nu_t, nu
                    u, u_t = u_t, u
                    r, r_t = r_t, r
                    beta, b_t = b_t, beta
                    weight, w_t = w_t, weight
                    continue
            chord_rejected = True
            chord_run = 0
            if single:
                rejected_single += 1
        # Normal equations and Cholesky when the weights span at most GRADED (in float32 while
        # that keeps making progress, see _bregman_single); otherwise (nested kappa) the QR
        # factors of diag(sqrt(weight)) X^T, which keep their accuracy when the weights span many decades
        ok = False
        wmax = np.max(weight)
        if wmax <= GRADED * np.min(weight):
            if have_factor and have_normal and not chord_rejected and single == use_single:
                tau = LAZY_DRIFT if full_step and res <= GLOBAL_RESIDUAL else DAMPED_DRIFT
                moved = 0
                for i in range(d):
                    if abs(u[i] - u_ref[i]) > tau:
                        moved += 1
                if moved == 0:
                    # nothing moved further than tau (possible after damped steps, tau = DAMPED_DRIFT): the
                    # refreshed matrix and its factor would be the ones at hand
                    ok = True
                elif 2 * moved <= d:
                    if single:
                        if wmax <= math.ldexp(1.0, wexp + 40):  # the scaled weights stay far from float32's overflow
                            hessian_refresh_single(XT32, u, weight, u_ref, w_ref, tau, wexp, w32, moved_idx, H32)
                            ok = cholesky_upper_single(H32, factor32)
                    else:
                        _hessian_refresh(X, u, weight, u_ref, w_ref, tau, work, work2, H)
                        ok = _cholesky(H, factor)
            if not ok and use_single:
                fresh += 1
                u_ref[:] = u
                w_ref[:] = weight
                wexp = math.frexp(wmax)[1]
                hessian_single(X32, weight, wexp, w32, work32, H32)
                ok = cholesky_upper_single(H32, factor32)
                single = True
                hexp = 2 * xexp + wexp
                have_normal = True
                # not positive definite in float32: X diag(w) X^T is too ill-conditioned for it
                use_single = ok
            if not ok:
                _hessian_normal(X, weight, work, H)
                fresh += 1
                u_ref[:] = u
                w_ref[:] = weight
                have_normal = True
                single = False
                ok = _cholesky(H, factor)
        if not ok:
            have_normal = False
            single = False
            u_ref[:] = u
            ok = _factor_qr(X, np.sqrt(weight), work, work_d, factor)
            fresh += 1
        if not ok:
            break
        have_factor = True
        chord_run = 0  # chord steps in a row with the factor at hand (Anderson needs the same operator)
        if single:
            solve_upper_scaled(factor32, r, work_n, step, hexp)
        else:
            _solve_factored(factor, r, work_n, step)
        _rmatvec_into(X, step, du)
        slope = _dot(step, r)  # directional derivative of h along step (negative for a descent direction)
        if it == 1:
            # the first Newton step's linearisation beta0 + w du is the weighted-ridge interpolant: map it
            # to dual coordinates and project onto u = p0 + X^T nu (least squares weighted by w, with the
            # factor just formed); this compresses the large components logarithmically, where the
            # Newton step overshoots them exponentially
            _mirror_target_into(beta, weight, du, log_half_kappa, p0, b_t)
            _matvec_into(X, b_t, work_n)
            if single:
                solve_upper_scaled(factor32, work_n, nu_t, step_m, hexp)
            else:
                _solve_factored(factor, work_n, nu_t, step_m)
            for k in range(n):
                step_m[k] = -step_m[k]  # the solves return -(H^-1) of their right-hand side
            slope_m = _dot(step_m, r)
            if slope_m < 0.0:  # a descent direction (else keep Newton's)
                step, step_m = step_m, step
                slope = slope_m
                _rmatvec_into(X, step, du)
        cap = 1.0
        m = _max_abs(du)  # NaN propagates, as through np.max
        if m > MAX_DU:
            cap = MAX_DU / m
        t = cap
        if cap < 1.0:
            # the trust region cut the step: one Newton step on t -> h(nu + t step) from t = cap (its
            # derivatives du . beta - step . y and sum_i w_i du_i^2 cost one dual state), kept within a
            # factor 4 of cap; the line search below still decides
            _axpy_into(u, cap, du, u_t)
            _dual_state_into(log_half_kappa, u_t, b_t, w_t)
            curvature = _weighted_square(w_t, du)
            if math.isfinite(curvature) and curvature > 0.0:
                t_newton = cap - (_dot(du, b_t) - _dot(step, y)) / curvature
                if math.isfinite(t_newton):
                    t = min(max(t_newton, 0.25 * cap), 4.0 * cap, 1.0)
        accepted = False
        have_residual = False
        for _ in range(80):
            _axpy_into(nu, t, step, nu_t)
            # u(nu + t step) = u(nu) + t X^T step: the pass over X that forming X^T nu_t would cost is saved;
            # the rounding this adds to u is that of forming it afresh (a few units per Newton step, and
            # every chord step recomputes u = p0 + X^T nu), so beta stays beta(p0 + X^T nu) to rounding
            _axpy_into(u, t, du, u_t)
            h_t = _dual_state_into(log_half_kappa, u_t, b_t, w_t) - _dot(nu_t, y)
            # Armijo on h far from the optimum; near it h changes below its own rounding, and the
            # step is judged by the residual (the gradient of h) instead, which Newton shrinks quadratically
            if h_t <= h + 1e-4 * t * slope:
                accepted = True
                break
            if math.isfinite(h_t):
                res_t = _residual_into(X, b_t, y, floor, row_abs, rtol, r_t)
                if _norm2(r_t) <= (1.0 - 1e-4 * t) * rnorm:
                    accepted = True
                    have_residual = True
                    break
            t *= 0.5
        if not accepted:
            break
        full_step = t == 1.0
        h = h_t
        nu, nu_t = nu_t, nu
        u, u_t = u_t, u
        beta, b_t = b_t, beta
        weight, w_t = w_t, weight
        if have_residual:
            res = res_t
            r, r_t = r_t, r
        else:
            res = _residual_into(X, beta, y, floor, row_abs, rtol, r)
    # not converged: the exact scaled residual for the message (the bound above rtol would do for the test)
    res = _residual_into(X, beta, y, floor, row_abs, math.inf, r)
    return beta, nu, it, res, res <= rtol, fresh


@numba.njit(cache=True, error_model="numpy")
def _dual_start(kappa, beta0):
    """Elementwise ``(log(kappa/2), (1/2) asinh(2 beta0 / kappa))`` of equal-length 1-D arrays."""
    d = kappa.size
    log_half_kappa = np.empty(d)
    p0 = np.empty(d)
    log_kappa = 0.0
    for i in range(d):
        # a uniform kappa (the common case) takes one logarithm, not d
        if i == 0 or kappa[i] != kappa[i - 1]:
            log_kappa = math.log(kappa[i])
        log_half_kappa[i] = log_kappa - LOG2
        ratio = 2.0 * beta0[i] / kappa[i]  # may overflow to inf: then the log form below is taken
        if ratio == 0.0:
            p0[i] = 0.5 * ratio  # asinh(+-0) = +-0, without the call
        elif abs(ratio) < 1e150:
            p0[i] = 0.5 * math.asinh(ratio)
        else:
            # asinh(x) = sign(x) (log 2|x| + O(x^-2)) for |x| >= 1e150: the correction is below rounding
            p0[i] = 0.5 * math.copysign(math.log(4.0 * abs(beta0[i])) - log_kappa, beta0[i])
    return log_half_kappa, p0


@numba.njit(cache=True, error_model="numpy")
def _start_code(X, y, kappa, beta0, row_abs):
    """0 if the input is valid, else 1 non-finite X or y, 2 kappa not finite or below the smallest
    normal double, 3 non-finite beta0 (``row_abs``: the row sums of |X|)."""
    n, d = X.shape
    for j in range(n):
        if not math.isfinite(y[j]):
            return 1
    for j in range(n):
        if not math.isfinite(row_abs[j]):  # finite exactly when the row is (one vectorised pass) ...
            for i in range(d):  # ... or when a row's sum overflows: then the entries decide
                if not math.isfinite(X[j, i]):
                    return 1
    for i in range(d):
        if not (math.isfinite(kappa[i]) and kappa[i] >= TINY):
            return 2
    for i in range(d):
        if not math.isfinite(beta0[i]):
            return 3
    return 0


@numba.njit(cache=True, error_model="numpy")
def _checked_projection(X, y, kappa, beta0, rtol, max_iter):
    """Checks, start and dual Newton in one compiled call (one dispatch from Python, one pass for the
    row sums of |X| that both the finiteness check and the residual bound read):
    (code, beta, iterations, scaled_residual, converged); beta is empty unless code is 0."""
    row_abs = _abs_row_sums(X)
    code = _start_code(X, y, kappa, beta0, row_abs)
    if code:
        return code, np.empty(0), 0, 0.0, False
    log_half_kappa, p0 = _dual_start(kappa, beta0)
    beta, _, iters, res, ok, _ = _dual_newton(X, y, log_half_kappa, p0, rtol, max_iter, row_abs)
    return 0, beta, iters, res, ok


_START_ERRORS = {1: "X: X and y must be finite",
                 2: "kappa: must be finite and >= 2.2e-308 (the smallest normal double)",
                 3: "beta0: must be finite"}


def dual_start(kappa: np.ndarray, beta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log(kappa/2), p0 = (1/2) asinh(2 beta0 / kappa))`` without overflow for tiny kappa
    (both of the broadcast shape of ``kappa`` and ``beta0``)."""
    kappa, beta0 = np.broadcast_arrays(np.asarray(kappa, dtype=np.float64), np.asarray(beta0, dtype=np.float64))
    log_half_kappa, p0 = _dual_start(np.ascontiguousarray(kappa).ravel(), np.ascontiguousarray(beta0).ravel())
    return log_half_kappa.reshape(kappa.shape), p0.reshape(kappa.shape)


def _per_coordinate(value, d: int) -> np.ndarray:
    """``value`` (a scalar or a length-d array) as a contiguous float64 (d,) array; ValueError if it does not
    broadcast to (d,). The common cases (a scalar, an array already of that form) skip ``np.broadcast_to``,
    which costs several microseconds per call."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return np.full(d, a)
    if a.shape == (d,) and a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(np.broadcast_to(a, (d,)))


def bregman_projection(X, y, kappa, beta0=0.0, *, rtol: float | None = None, max_iter: int = MAX_ITER):
    """The Bregman projection of ``beta0`` onto ``{beta : X beta = y}`` for the potential sum_i phi_{kappa_i}.

    ``X`` is (n, d) with full row rank n <= d; ``y`` (n,); ``kappa`` > 0 and ``beta0``
    are scalars or (d,) arrays. ``rtol`` is the residual tolerance relative to
    ``|X| |beta| + |y|`` (default ``16 d`` unit roundoffs). Raises ``ValueError`` for
    invalid input and ``ArithmeticError`` if Newton does not converge (ill-conditioned
    or rank-deficient ``X``). Returns ``beta`` (d,).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X: must be a 2-D (n, d) array, got shape {X.shape}")
    n, d = X.shape
    if y.shape != (n,):
        raise ValueError(f"y: must have shape ({n},) to match X {X.shape}, got {y.shape}")
    if n > d:
        raise ValueError(f"X: needs n <= d (an underdetermined system) for interpolators to form a set, got {X.shape}")
    try:
        kappa = _per_coordinate(kappa, d)
        beta0 = _per_coordinate(beta0, d)
    except ValueError:
        raise ValueError(f"kappa: kappa and beta0 must be scalars or length-{d} arrays (one per column of X), "
                         f"got shapes {np.shape(kappa)} and {np.shape(beta0)}") from None
    tol = 16 * d * EPS if rtol is None else float(rtol)
    code, beta, iters, res, ok = _checked_projection(X, y, kappa, beta0, tol, int(max_iter))
    if code:
        raise ValueError(_START_ERRORS[code])
    if not ok:
        # the rank is only computed here (an SVD costs more than the whole solve)
        if np.linalg.matrix_rank(X) < n:
            raise ValueError(f"X: must have full row rank {n}: otherwise X beta = y has no solution or a redundant one")
        raise ArithmeticError(f"bregman_projection: dual Newton stopped after {iters} iterations with scaled "
                              f"residual {res:.3g} > {tol:.3g} (X ill-conditioned, or kappa spans too many decades)")
    return beta
