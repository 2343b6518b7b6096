r"""The kernel-regression kappa fixed point, shared by learning curves and deterministic equivalents.

For a spectrum of eigenvalues :math:`\lambda_k > 0` with multiplicities :math:`m_k > 0`,
a number of samples :math:`P \ge 0` and a ridge :math:`r \ge 0`, the P-scaled kappa of
Bordelon, Canatar and Pehlevan (kernel without 1/P) solves

.. math:: \kappa = r + \kappa \sum_k \frac{m_k \lambda_k}{\lambda_k P + \kappa}.

Write :math:`h(\kappa) = \kappa - r - \kappa S(\kappa)` with
:math:`S(\kappa) = \sum_k m_k\lambda_k/(\lambda_k P+\kappa)`. Then :math:`\kappa S(\kappa)` is
increasing and concave, so :math:`h` is **convex**, :math:`h(0) = -r \le 0` and
:math:`h'(\kappa) = 1 - P\sum_k m_k\lambda_k^2/(\lambda_k P+\kappa)^2 = 1 - \gamma(\kappa)`
(the overlap factor). Hence:

* for :math:`r > 0` there is exactly one positive root, in :math:`[r, r + \sum_k m_k\lambda_k]`;
* for :math:`r = 0` the positive root exists iff :math:`N = \sum_k m_k > P` (otherwise
  :math:`\kappa = 0`: ridgeless interpolation with at least as many samples as modes);
* Newton's iteration on a convex increasing function started at a point with
  :math:`h \ge 0` decreases monotonically to the largest root and never crosses it.
  The solver starts from the upper end of the bracket (or from the previous point of
  a sweep, which is an upper bound when :math:`P` increases at fixed ridge, since the
  root decreases with :math:`P`; the start is accepted only if :math:`h \ge 0` there)
  and clamps every iterate to :math:`[\text{lower bound}, \text{previous iterate}]`,
  so rounding cannot push it out of the bracket.

Derived quantities are computed in forms without cancellation: at the root
:math:`1 - \gamma = r/\kappa + \kappa T(\kappa)` with :math:`T = \sum_k m_k\lambda_k/(\lambda_kP+\kappa)^2`
(a sum of positive terms, instead of the subtraction :math:`1-\gamma`), so the mode error

.. math:: E_k = \frac{\kappa^2}{(1-\gamma)(\lambda_k P + \kappa)^2}
             = \frac{\kappa^3}{(r + \kappa^2 T)(\lambda_k P+\kappa)^2}

is accurate near the interpolation threshold; :math:`E_k = 1` at :math:`P = 0`.
At :math:`r = 0`, :math:`P \ge N`: :math:`\kappa = 0`, :math:`\gamma = N/P`, :math:`E_k = 0`.

The reductions use ``fastmath={'reassoc'}`` only (so they vectorise); their error
is bounded in ``tests/numerics/test_fixed_point.py`` against ``math.fsum`` and mpmath.

Sources: Bordelon, Canatar, Pehlevan, ICML 2020; Canatar, Bordelon, Pehlevan,
Nat. Commun. 2021 (the form with P-scaled kappa as in the group's public code).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_NEWTON = 200


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sums(lam, mult, P, kappa):
    """(S, T, G): S = sum m l/(lP+k), T = sum m l/(lP+k)^2, G = P sum m l^2/(lP+k)^2."""
    S = 0.0
    T = 0.0
    G = 0.0
    for i in range(lam.size):
        inv = 1.0 / (lam[i] * P + kappa)
        a = mult[i] * lam[i] * inv
        S += a
        T += a * inv
        G += a * lam[i] * inv
    return S, T, G * P


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sums_power(lam, mult, power, P, kappa):
    """(T, G, B): T, G as in ``_sums`` and B = sum power/(lP+k)^2, in one vectorised pass."""
    T = 0.0
    G = 0.0
    B = 0.0
    for i in range(lam.size):
        inv = 1.0 / (lam[i] * P + kappa)
        inv2 = inv * inv
        a = mult[i] * lam[i] * inv2
        T += a
        G += a * lam[i]
        B += power[i] * inv2
    return T, G * P, B


@njit(cache=True, error_model="numpy")
def _solve_one(lam, mult, P, ridge, start, n_modes, trace):
    """Root of h(kappa) = kappa - ridge - kappa S(kappa); ``start`` < 0 means no warm start.

    Returns (kappa, iterations). ``n_modes`` = sum(mult), ``trace`` = sum(mult*lam).
    """
    if ridge == 0.0 and n_modes <= P:
        return 0.0, 0
    hi = ridge + trace
    lo = ridge
    k = hi
    if start > lo and start < hi:
        S, T, G = _sums(lam, mult, P, start)
        if start - ridge - start * S >= 0.0:
            k = start
    it = 0
    while it < MAX_NEWTON:
        it += 1
        S, T, G = _sums(lam, mult, P, k)
        h = k - ridge - k * S
        if h <= 0.0:  # at the root to rounding (convexity: iterates approach from above)
            break
        dh = 1.0 - G
        if not dh > 0.0:  # only at the degenerate root kappa = 0 (ridge = 0, P = N)
            break
        step = h / dh
        new = k - step
        if new < lo:
            new = lo
        if new >= k:
            break
        k = new
        if step <= 2.2e-16 * k:
            break
    return k, it


@njit(cache=True, error_model="numpy")
def solve_kappa_sweep(lam, mult, P, ridge):
    """kappa at each (P[i], ridge[i]) (1-D arrays of equal length), visited in the given order.

    Warm-starts each point from the previous one when that is an upper bound
    (same ridge, larger or equal kappa), which holds along a sweep with P ascending
    and ridge fixed; other orders are still correct, only slower.
    Returns (kappa, iterations per point).
    """
    n = P.size
    out = np.empty(n)
    its = np.empty(n, dtype=np.int64)
    n_modes = 0.0
    trace = 0.0
    for i in range(lam.size):
        n_modes += mult[i]
        trace += mult[i] * lam[i]
    prev = -1.0
    for i in range(n):
        start = prev if (i > 0 and ridge[i] == ridge[i - 1]) else -1.0
        k, it = _solve_one(lam, mult, P[i], ridge[i], start, n_modes, trace)
        out[i] = k
        its[i] = it
        prev = k
    return out, its


@njit(cache=True, error_model="numpy")
def learning_curve_sweep(lam, mult, P, ridge, power, noise, want_modes):
    """Solve and evaluate at each point (1-D arrays P, ridge, noise of equal length).

    Returns (kappa, gamma, one_minus_gamma, error, modes) where ``error`` uses ``power``
    (target power per eigenvalue) and ``noise`` (sigma^2), and ``modes`` is (n, M) if
    ``want_modes`` else (0, M). ``error`` is +inf where ridge = 0, P = N and noise > 0
    (the interpolation peak), for the caller to reject.
    """
    n = P.size
    M = lam.size
    kappa, its = solve_kappa_sweep(lam, mult, P, ridge)
    n_modes = 0.0
    for i in range(M):
        n_modes += mult[i]
    gam = np.empty(n)
    omg = np.empty(n)
    err = np.empty(n)
    modes = np.empty((n if want_modes else 0, M))
    for j in range(n):
        k = kappa[j]
        if k == 0.0:  # ridgeless, P >= N: everything interpolated, gamma = N/P
            g, om, bias = n_modes / P[j], (P[j] - n_modes) / P[j], 0.0
            if want_modes:
                modes[j, :] = 0.0
        else:
            T, g, B = _sums_power(lam, mult, power, P[j], k)
            om = ridge[j] / k + k * T  # 1 - gamma without cancellation
            kE = k * k * k / (ridge[j] + k * k * T)
            bias = kE * B
            if want_modes:
                for i in range(M):
                    d = lam[i] * P[j] + k
                    modes[j, i] = kE / (d * d)
        gam[j] = g
        omg[j] = om
        if noise[j] == 0.0:
            err[j] = bias
        elif om > 0.0:
            err[j] = bias + noise[j] * g / om
        else:
            err[j] = np.inf
    return kappa, gam, omg, err, modes


def sweep_order(P: np.ndarray, ridge: np.ndarray) -> np.ndarray:
    """Visiting order for a warm-started sweep: by ridge, then P ascending."""
    return np.lexsort((P, ridge))


def learning_curve(eigenvalues, multiplicities, P, ridge, target_power=None, noise=0.0, *, modes=False,
                   kappa_only=False):
    """Vectorised driver: broadcast ``P``, ``ridge``, ``noise``; solve in sweep order; restore shape.

    Returns a dict with ``kappa``, ``gamma_overlap``, ``one_minus_gamma``, ``error`` (when
    ``target_power`` is given) and ``mode_errors`` (shape ``(*broadcast, M)``, when ``modes``);
    ``kappa_only`` returns just ``kappa`` (no pass for the derived quantities).
    Inputs are assumed valid (the registered results check domains first).
    """
    lam = np.ascontiguousarray(eigenvalues, dtype=np.float64)
    mult = np.ascontiguousarray(multiplicities, dtype=np.float64)
    power = np.zeros_like(lam) if target_power is None else np.ascontiguousarray(target_power, dtype=np.float64)
    Pb, rb, nb = np.broadcast_arrays(np.asarray(P, dtype=np.float64), np.asarray(ridge, dtype=np.float64),
                                     np.asarray(noise, dtype=np.float64))
    shape = Pb.shape
    order = sweep_order(Pb.ravel(), rb.ravel())
    Pf = np.ascontiguousarray(Pb.ravel()[order])
    rf = np.ascontiguousarray(rb.ravel()[order])
    nf = np.ascontiguousarray(nb.ravel()[order])
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    if kappa_only:
        return {"kappa": solve_kappa_sweep(lam, mult, Pf, rf)[0][inv].reshape(shape)}
    kappa, gam, omg, err, mo = learning_curve_sweep(lam, mult, Pf, rf, power, nf, modes)
    out = {"kappa": kappa[inv].reshape(shape), "gamma_overlap": gam[inv].reshape(shape),
           "one_minus_gamma": omg[inv].reshape(shape)}
    if target_power is not None:
        out["error"] = err[inv].reshape(shape)
    if modes:
        out["mode_errors"] = mo[inv].reshape(shape + (lam.size,))
    return out
