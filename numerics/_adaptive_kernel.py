r"""Scalar root solvers for the Bayesian adaptive kernel (``adaptive_kernel.*``).

``deep_gain_root(gamma0, inv_beta, L)``: the root :math:`x = c_L^{1/L} \ge 1` of

.. math:: G(x) = x - 1 - \gamma_0^2\,\frac{w}{(1 + b w)^2}, \qquad w = x^{-L},\ b = 1/\beta \in [0, 1],

(the scalar saddle point :math:`c = (1 - \chi)^L`, :math:`\chi = -\gamma_0^2 c/(b + c)^2` written with
:math:`x^{-L}` so that nothing overflows for large L; computed by ``pow``, accurate to an ulp). For b ≤ 1 and x ≥ 1, bw ≤ 1, so
:math:`G'(x) = 1 + \gamma_0^2 L w(1 - bw)/(x(1 + bw)^3) \ge 1`: G increases, G(1) ≤ 0 and G ≥ 0
at :math:`1 + \min(\gamma_0^2/(1+b)^2, \gamma_0^{2/(L+1)})` (since :math:`x^L(x-1) \le \gamma_0^2`); the root is
unique in that bracket. Newton steps that leave the
current bracket, or that would not at least halve the previous step (Numerical Recipes' ``rtsafe`` rule: a
Newton iteration can oscillate across a steep residual), are replaced by bisection: the bracket at least halves
every two steps, so the iteration ends within a few hundred steps in the worst case.

``rank_one_root(e, y2, gamma0, inv_beta)``: the root :math:`z \ge 1` of

.. math:: F(z) = 1 - 1/z - \gamma_0^2 \sum_k \frac{e_k y_k^2}{(z e_k + b)^2}

(e_k: eigenvalues of the input Gram matrix C, y_k²: the label's power on them). F increases strictly
from F(1) ≤ 0, and :math:`z(z-1) \le \gamma_0^2\sum_{e_k>0} y_k^2/e_k` bounds the root: bracketed Newton on
:math:`[1, 1 + \gamma_0(\sum_{e_k>0} y_k^2/e_k)^{1/2}]` as above.
"""

from __future__ import annotations

import math

import numba
import numpy as np


_DEEP, _RANK_ONE = 0, 1


@numba.njit(cache=True, error_model="numpy")
def _deep_residual(x, g2, b, L):
    w = x ** (-L)  # pow is accurate to an ulp; exp(-L log x) would lose L log(x) ulps
    den = 1.0 + b * w
    return x - 1.0 - g2 * w / (den * den), 1.0 + g2 * L * w * (1.0 - b * w) / (x * den * den * den)


@numba.njit(cache=True, error_model="numpy")
def _rank_one_residual(z, e, y2, g2, b):
    m, dm = 0.0, 0.0
    for k in range(e.size):
        d = z * e[k] + b
        if d > 0.0:
            m += e[k] * y2[k] / (d * d)
            dm += 2.0 * e[k] * e[k] * y2[k] / (d * d * d)
    return 1.0 - 1.0 / z - g2 * m, 1.0 / (z * z) + g2 * dm


@numba.njit(cache=True, error_model="numpy")
def _residual(kind, x, g2, b, L, e, y2):
    # a switch, not a function argument: Numba does not cache functions that take functions
    if kind == _DEEP:
        return _deep_residual(x, g2, b, L)
    return _rank_one_residual(x, e, y2, g2, b)


@numba.njit(cache=True, error_model="numpy")
def _increasing_root(kind, hi, g2, b, L, e, y2):
    """The root in [1, hi] of the increasing residual ``kind`` (negative or zero at 1), by bracketed,
    safeguarded Newton; ``hi`` is widened first if rounding left the residual negative there."""
    lo = 1.0
    if hi == 1.0:  # the root is within half an ulp of 1
        return 1.0
    for _ in range(64):
        if _residual(kind, hi, g2, b, L, e, y2)[0] >= 0.0:
            break
        hi = 1.0 + 2.0 * (hi - 1.0)
    x = hi
    step_old = hi - lo
    for _ in range(2000):
        G, dG = _residual(kind, x, g2, b, L, e, y2)
        if G == 0.0:
            return x
        if G > 0.0:
            hi = x
        else:
            lo = x
        xn = x - G / dG
        if not (lo < xn < hi) or 2.0 * abs(G) > abs(step_old * dG):
            xn = 0.5 * (lo + hi)
        step_old = xn - x
        if abs(xn - x) <= 2e-16 * x or hi - lo <= 2e-16 * hi:
            return xn
        x = xn
    return math.nan  # not converged: the caller reports NaN as a bug instead of returning a wrong number


@numba.njit(cache=True, error_model="numpy")
def _deep_one(g2, b, L, none):
    if g2 == 0.0:
        return 1.0
    # x - 1 = g2 w/(1 + b w)^2 <= min(g2/(1 + b)^2, g2 x^-L), and x^L (x - 1) <= g2 gives x - 1 <= g2^(1/(L+1))
    # (the bound can be tight to within rounding: b = 0, huge g2)
    hi = 1.0 + min(g2 / (1.0 + b) ** 2, g2 ** (1.0 / (L + 1.0))) * (1.0 + 1e-12)
    return _increasing_root(_DEEP, hi, g2, b, L, none, none)


@numba.njit(cache=True, error_model="numpy")
def _deep_all(g2, b, L, out):
    none = np.empty(0)
    for i in range(g2.size):
        out[i] = _deep_one(g2[i], b[i], L[i], none)


def deep_gain_root(gamma0, inv_beta, L) -> np.ndarray:
    """x = c_L^{1/L} over the broadcast of gamma0 >= 0, inv_beta in [0, 1], L >= 1 (not checked here)."""
    g, b, L = np.broadcast_arrays(np.asarray(gamma0, float), np.asarray(inv_beta, float), np.asarray(L, float))
    out = np.empty(g.size)
    _deep_all(np.ascontiguousarray(g.ravel() ** 2), np.ascontiguousarray(b.ravel()),
              np.ascontiguousarray(L.ravel()), out)
    return out.reshape(g.shape)


@numba.njit(cache=True, error_model="numpy")
def rank_one_root(e, y2, g2, b):
    """Bracketed Newton for z >= 1 (see the module docstring); e, y2 1-D float64 arrays."""
    up = 0.0
    for k in range(e.size):
        if e[k] > 0.0:
            up += y2[k] / e[k]
    if g2 == 0.0 or up == 0.0:
        return 1.0
    # z - 1 <= z g2 m(z) <= g2 up/z, so (z - 1)^2 <= z (z - 1) <= g2 up
    hi = 1.0 + math.sqrt(g2) * math.sqrt(up) * (1.0 + 1e-12)
    return _increasing_root(_RANK_ONE, hi, g2, b, 0.0, e, y2)
