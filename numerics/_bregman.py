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
:math:`X\hat\beta(\nu) - y` and Hessian :math:`X\,\mathrm{diag}(\sqrt{\kappa^2 + 4\beta^2})\,X^\top` (factorised as :math:`R^\top R` from the QR
factors of :math:`\mathrm{diag}(\sqrt{\cdot})X^\top`)
(research note diagonal-linear.md §3.2, DERIVED+CHECKED D3).

Numerics. Everything is computed from ``l_i = log(kappa_i / 2)`` and ``|u_i|``:
``beta = sign(u) exp(l + 2|u|) (1 - e^{-4|u|}) / 2``, ``sqrt(kappa^2 + 4 beta^2) = exp(l + 2|u|)
(1 + e^{-4|u|})``, so tiny ``kappa`` (down to the smallest normal double) never
overflows or underflows an intermediate that matters: only ``exp(l + 2|u|)``, which
is of the size of ``beta`` itself. ``p0`` is computed as a logarithm when
``2|beta0|/kappa`` would overflow. Newton steps are capped so that no ``u_i`` moves by
more than ``MAX_DU`` (a trust region: far from the solution the dual is exponential
and the raw Newton step overshoots by ``~1/kappa``), followed by Armijo backtracking
that treats an infinite objective as a failed trial. The iteration stops when the
residual ``|X beta - y|`` is at the rounding level of the products ``|X| |beta|``.

Speed. The input checks, the start and the whole Newton loop are compiled (no Python per
iteration). The Newton system is the n x n dual Hessian: formed as blocked dot products (four
rows at a time) and factorised by Cholesky when the weights span at most ``GRADED``, by
Householder QR of the weighted design otherwise. Reductions (dot products, sums of the residual)
carry Numba's ``reassoc`` flag so that they vectorise; nothing else does. At d = 200, n = 80 a
projection is about 7-10 Newton steps of ~0.1 ms each (``benchmarks/bench_diagonal.py``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

MAX_DU = 2.0
MAX_ITER = 500
#: weights spanning more than this ratio use QR instead of the normal equations
GRADED = 1e6
EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)
LOG2 = math.log(2.0)


@numba.njit(cache=True, error_model="numpy")
def _dual_state(log_half_kappa, u):
    """beta and the Hessian weights sqrt(kappa^2 + 4 beta^2) at dual coordinates u (log-space)."""
    d = u.size
    beta = np.empty(d)
    weight = np.empty(d)
    for i in range(d):
        a = abs(u[i])
        big = math.exp(log_half_kappa[i] + 2.0 * a)
        small = math.exp(-4.0 * a)
        beta[i] = math.copysign(0.5 * big * (-math.expm1(-4.0 * a)), u[i])
        weight[i] = big * (1.0 + small)
    return beta, weight


@numba.njit(cache=True, error_model="numpy")
def _dual_objective(log_half_kappa, u, nu, y):
    """h(nu) = sum_i (kappa_i/4) cosh(2 u_i) - nu.y, with (kappa/4) cosh(2u) = exp(l + 2|u|)(1 + e^{-4|u|})/4."""
    h = 0.0
    for i in range(u.size):
        a = abs(u[i])
        h += 0.25 * math.exp(log_half_kappa[i] + 2.0 * a) * (1.0 + math.exp(-4.0 * a))
    for j in range(nu.size):
        h -= nu[j] * y[j]
    return h


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _matvec(X, v):
    """X @ v by loops (no BLAS: threaded BLAS on small matrices is slow on shared cores)."""
    n, d = X.shape
    out = np.zeros(n)
    for j in range(n):
        acc = 0.0
        for i in range(d):
            acc += X[j, i] * v[i]
        out[j] = acc
    return out


@numba.njit(cache=True, error_model="numpy")
def _rmatvec(X, w):
    """X^T @ w by loops."""
    n, d = X.shape
    out = np.zeros(d)
    for j in range(n):
        wj = w[j]
        for i in range(d):
            out[i] += X[j, i] * wj
    return out


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _newton_step(X, sqrt_weight, r):
    """Solve (X diag(w) X^T) step = -r through Householder QR of A^T = diag(sqrt w) X^T (H = R^T R).

    The rows of ``B = X diag(sqrt w)`` are the columns of ``A^T``; reflectors act along the
    coordinates. Norms are scaled by the largest entry, so weights spanning hundreds of
    decades neither overflow nor underflow; the triangular solves keep the accuracy of R.
    """
    n, d = X.shape
    B = np.empty((n, d))
    for j in range(n):
        for i in range(d):
            B[j, i] = X[j, i] * sqrt_weight[i]
    v = np.empty(d)
    R = np.zeros((n, n))
    for k in range(n):
        m = 0.0
        for i in range(k, d):
            m = max(m, abs(B[k, i]))
        if m == 0.0:
            R[k, k] = 0.0
            continue
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
        R[k, k] = alpha * m
        for j in range(k + 1, n):
            sdot = 0.0
            for i in range(k, d):
                sdot += v[i] * B[j, i]
            f = 2.0 * sdot / vv
            for i in range(k, d):
                B[j, i] -= f * v[i]
            R[k, j] = B[j, k]
    # R^T z = -r (forward), then R step = z (backward)
    z = np.empty(n)
    for k in range(n):
        acc = -r[k]
        for j in range(k):
            acc -= R[j, k] * z[j]
        z[k] = acc / R[k, k]
    step = np.empty(n)
    for k in range(n - 1, -1, -1):
        acc = z[k]
        for j in range(k + 1, n):
            acc -= R[k, j] * step[j]
        step[k] = acc / R[k, k]
    return step


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _newton_step_normal(X, weight, r):
    """Solve (X diag(w) X^T) step = -r by forming H (n^2 d / 2 products) and Cholesky; used when the
    weights span at most GRADED decades, so H is as well conditioned as X X^T up to that factor.
    Returns (step, ok); ok is False if a pivot is not positive (then the caller uses QR).

    Every innermost loop is a dot product over contiguous rows; ``reassoc`` lets those sums
    vectorise (the rounding error bound of a dot product does not depend on its order).
    """
    n, d = X.shape
    XW = np.empty((n, d))
    for a in range(n):
        for i in range(d):
            XW[a, i] = X[a, i] * weight[i]
    # lower triangle of H = XW X^T, four rows at a time: each row of X is loaded once per four dots
    # (the few entries above the diagonal that a block also fills are never read)
    H = np.empty((n, n))
    a0 = 0
    while a0 + 4 <= n:
        for b in range(a0 + 4):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for i in range(d):
                xb = X[b, i]
                s0 += XW[a0, i] * xb
                s1 += XW[a0 + 1, i] * xb
                s2 += XW[a0 + 2, i] * xb
                s3 += XW[a0 + 3, i] * xb
            H[a0, b] = s0
            H[a0 + 1, b] = s1
            H[a0 + 2, b] = s2
            H[a0 + 3, b] = s3
        a0 += 4
    for a in range(a0, n):
        for b in range(a + 1):
            acc = 0.0
            for i in range(d):
                acc += XW[a, i] * X[b, i]
            H[a, b] = acc
    for k in range(n):  # in-place Cholesky, lower triangle
        piv = H[k, k]
        for j in range(k):
            piv -= H[k, j] * H[k, j]
        if not (piv > 0.0):
            return np.zeros(n), False
        H[k, k] = math.sqrt(piv)
        for a in range(k + 1, n):
            acc = H[a, k]
            for j in range(k):
                acc -= H[a, j] * H[k, j]
            H[a, k] = acc / H[k, k]
    z = np.empty(n)
    for k in range(n):
        acc = -r[k]
        for j in range(k):
            acc -= H[k, j] * z[j]
        z[k] = acc / H[k, k]
    step = np.empty(n)
    for k in range(n - 1, -1, -1):
        acc = z[k]
        for j in range(k + 1, n):
            acc -= H[j, k] * step[j]
        step[k] = acc / H[k, k]
    return step, True


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _residual(X, beta, y, floor):
    """(r = X beta - y, max_j |r_j| / (sum_i |X_ji beta_i| + floor_j + |y_j|)) in one pass over X."""
    n, d = X.shape
    r = np.empty(n)
    res = 0.0
    for j in range(n):
        acc = 0.0
        scale = 0.0
        for i in range(d):
            p = X[j, i] * beta[i]
            acc += p
            scale += abs(p)
        r[j] = acc - y[j]
        scale += abs(y[j]) + floor[j]
        if scale > 0.0:
            res = max(res, abs(r[j]) / scale)
    return r, res


@numba.njit(cache=True, error_model="numpy")
def bregman_dual_newton(X, y, log_half_kappa, p0, rtol, max_iter):
    """Newton on the dual. Returns (beta, nu, iterations, scaled_residual, converged).

    ``scaled_residual = max_j |X beta - y|_j / (sum_i |X_ji| (|beta_i| + |beta0_i|) + |y_j|)`` with
    ``beta0`` the start (the Bregman centre); converged when it is <= ``rtol`` and a final
    (polishing) Newton step has been taken. The start's term keeps the scale away from zero
    when the answer is beta = 0 (y = 0 with a square X), where |X beta| alone would shrink with
    the residual and the relative residual would never fall.
    """
    n, d = X.shape
    nu = np.zeros(n)
    u = p0.copy()
    beta, weight = _dual_state(log_half_kappa, u)
    floor = np.zeros(n)
    for j in range(n):
        for i in range(d):
            floor[j] += abs(X[j, i] * beta[i])
    h = _dual_objective(log_half_kappa, u, nu, y)
    res = np.inf
    polished = False
    it = 0
    for it in range(1, max_iter + 1):
        r, res = _residual(X, beta, y, floor)
        if res <= rtol:
            if polished:
                return beta, nu, it, res, True
            polished = True
        # Newton system H step = -r with H = A A^T, A = X diag(sqrt(weight)): through the QR factors of
        # A^T (H = R^T R), which keep their accuracy when the weights span many decades (nested kappa)
        ok = False
        if np.max(weight) <= GRADED * np.min(weight):
            step, ok = _newton_step_normal(X, weight, r)
        if not ok:
            step = _newton_step(X, np.sqrt(weight), r)
        du = _rmatvec(X, step)
        cap = 1.0
        m = np.max(np.abs(du))
        if m > MAX_DU:
            cap = MAX_DU / m
        slope = step @ r  # directional derivative of h along step (negative for a descent direction)
        rnorm = math.sqrt(r @ r)
        t = cap
        accepted = False
        for _ in range(80):
            nu_t = nu + t * step
            u_t = p0 + _rmatvec(X, nu_t)
            h_t = _dual_objective(log_half_kappa, u_t, nu_t, y)
            # Armijo on h far from the optimum; near it h changes below its own rounding, and the
            # step is judged by the residual (the gradient of h) instead, which Newton shrinks quadratically
            if h_t <= h + 1e-4 * t * slope:
                accepted = True
                break
            if math.isfinite(h_t):
                b_t, _w = _dual_state(log_half_kappa, u_t)
                r_t = _matvec(X, b_t) - y
                if math.sqrt(r_t @ r_t) <= (1.0 - 1e-4 * t) * rnorm:
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            break
        nu, u, h = nu_t, u_t, h_t
        beta, weight = _dual_state(log_half_kappa, u)
    return beta, nu, it, res, res <= rtol


@numba.njit(cache=True, error_model="numpy")
def _dual_start(kappa, beta0):
    """Elementwise ``(log(kappa/2), (1/2) asinh(2 beta0 / kappa))`` of equal-length 1-D arrays."""
    d = kappa.size
    log_half_kappa = np.empty(d)
    p0 = np.empty(d)
    for i in range(d):
        log_kappa = math.log(kappa[i])
        log_half_kappa[i] = log_kappa - LOG2
        ratio = 2.0 * beta0[i] / kappa[i]  # may overflow to inf: then the log form below is taken
        if abs(ratio) < 1e150:
            p0[i] = 0.5 * math.asinh(ratio)
        else:
            # asinh(x) = sign(x) (log 2|x| + O(x^-2)) for |x| >= 1e150: the correction is below rounding
            p0[i] = 0.5 * math.copysign(math.log(4.0 * abs(beta0[i])) - log_kappa, beta0[i])
    return log_half_kappa, p0


@numba.njit(cache=True, error_model="numpy")
def _checked_start(X, y, kappa, beta0):
    """Domain checks and the dual start in one pass: (code, log(kappa/2), p0); code 0 is valid,
    1 non-finite X or y, 2 kappa not finite or below the smallest normal double, 3 non-finite beta0."""
    n, d = X.shape
    for j in range(n):
        if not math.isfinite(y[j]):
            return 1, kappa, beta0
        for i in range(d):
            if not math.isfinite(X[j, i]):
                return 1, kappa, beta0
    for i in range(d):
        if not (math.isfinite(kappa[i]) and kappa[i] >= TINY):
            return 2, kappa, beta0
    for i in range(d):
        if not math.isfinite(beta0[i]):
            return 3, kappa, beta0
    log_half_kappa, p0 = _dual_start(kappa, beta0)
    return 0, log_half_kappa, p0


_START_ERRORS = {1: "X: X and y must be finite",
                 2: "kappa: must be finite and >= 2.2e-308 (the smallest normal double)",
                 3: "beta0: must be finite"}


def dual_start(kappa: np.ndarray, beta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log(kappa/2), p0 = (1/2) asinh(2 beta0 / kappa))`` without overflow for tiny kappa
    (both of the broadcast shape of ``kappa`` and ``beta0``)."""
    kappa, beta0 = np.broadcast_arrays(np.asarray(kappa, dtype=np.float64), np.asarray(beta0, dtype=np.float64))
    log_half_kappa, p0 = _dual_start(np.ascontiguousarray(kappa).ravel(), np.ascontiguousarray(beta0).ravel())
    return log_half_kappa.reshape(kappa.shape), p0.reshape(kappa.shape)


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
        kappa = np.ascontiguousarray(np.broadcast_to(np.asarray(kappa, dtype=np.float64), (d,)))
        beta0 = np.ascontiguousarray(np.broadcast_to(np.asarray(beta0, dtype=np.float64), (d,)))
    except ValueError:
        raise ValueError(f"kappa: kappa and beta0 must be scalars or length-{d} arrays (one per column of X)") from None
    code, log_half_kappa, p0 = _checked_start(X, y, kappa, beta0)
    if code:
        raise ValueError(_START_ERRORS[code])
    tol = 16 * d * EPS if rtol is None else float(rtol)
    beta, _, iters, res, ok = bregman_dual_newton(X, y, log_half_kappa, p0, tol, int(max_iter))
    if not ok:
        # the rank is only computed here (an SVD costs more than the whole solve)
        if np.linalg.matrix_rank(X) < n:
            raise ValueError(f"X: must have full row rank {n}: otherwise X beta = y has no solution or a redundant one")
        raise ArithmeticError(f"bregman_projection: dual Newton stopped after {iters} iterations with scaled "
                              f"residual {res:.3g} > {tol:.3g} (X ill-conditioned, or kappa spans too many decades)")
    return beta
