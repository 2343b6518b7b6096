r"""Implicit bias of any training stage of a diagonal network: a Bregman projection.

Gradient flow of the two-path diagonal network (see :mod:`derive._diagonal_model`) on the
squared loss ``(1/2n)||X beta - y||^2`` with an underdetermined full-row-rank ``X`` is mirror
flow for ``sum_i phi_{kappa_i}``, so it converges to (research note diagonal-linear.md §3.2,
DERIVED+CHECKED D3, D5, D6; re-checked here against the simulated network)

.. math:: \hat\beta = \arg\min_\beta \sum_i D_{\phi_{\kappa_i}}(\beta_i, \beta^0_i)
          \ \text{s.t.}\ X\beta = y,

where ``beta0`` is the predictor at the stage's start (the Bregman centre) and ``kappa_i``
comes from the conserved quantities of that start. Solved by Newton on the dual
(:func:`numerics._bregman.bregman_projection`): ``beta_i = (kappa_i/2) sinh(asinh(2 beta0_i /
kappa_i) + 2 (X^T nu)_i)`` with ``nu`` fixed by ``X beta = y``.

Limits (claims): ``kappa -> inf``: weighted ridge ``min sum (beta_i - beta0_i)^2 / kappa_i``;
uniform ``kappa -> 0``: minimum-l1 interpolant, approached only logarithmically slowly;
``kappa_i = s^{w_i}, s -> 0``: weighted l1 ``min sum w_i |beta_i|`` (nested feature selection).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from numerics._bregman import bregman_projection

from ._diagonal_model import REFS, SETTING
from ._domain import Param, positive, real
from ._registry import register
from ._result import Result

P_X = Param("X", real(), "X", "design matrix (n, d), full row rank n <= d", ndim=2)
P_Y = Param("y", real(), "y", "targets (n,)", vector=True)
P_KAPPA = Param("kappa", positive(), r"\kappa",
                "per-coordinate scale: a scalar or a length-d array (broadcast over the d coordinates)")
P_BETA0 = Param("beta0", real(), r"\beta^{0}",
                "Bregman centre (the predictor at the stage's start): a scalar or a length-d array")

_i, _j = sp.symbols("i j", integer=True)
_Xb, _nu, _kb, _b0 = (sp.IndexedBase(s, real=True) for s in ("X", "nu", "kappa", r"\beta^{0}"))
_n = sp.Symbol("n", integer=True, positive=True)
DISPLAY = _kb[_i] / 2 * sp.sinh(sp.asinh(2 * _b0[_i] / _kb[_i]) + 2 * sp.Sum(_Xb[_j, _i] * _nu[_j], (_j, 1, _n)))


def _evaluate(X, y, kappa, beta0):
    d = X.shape[1]
    # single values (possibly shaped (1, 1) by a caller's broadcasting, as the CLI does) are uniform
    # scalars; the answer then carries that shape in front of its d entries, as the CLI expects
    lead = (1,) * max(kappa.ndim, beta0.ndim) if kappa.size == 1 and beta0.size == 1 else ()  # their broadcast shape
    kappa = kappa.reshape(()) if kappa.size == 1 else kappa
    beta0 = beta0.reshape(()) if beta0.size == 1 else beta0
    beta = bregman_projection(X, y, kappa, beta0)  # it broadcasts scalars over the d coordinates, refuses other shapes
    return beta.reshape(lead + (d,)) if lead else beta


def implicit_bias_mp(X, y, kappa, beta0, dps: int = 40, start=None):
    """The same projection at ``dps`` digits: Newton on the dual optimality conditions in mpmath.

    ``start`` (a float64 solution) seeds the dual variable by least squares on
    ``phi'(beta) - phi'(beta0) = X^T nu``; Newton then converges quadratically. Returns a
    list of mpf of length d.
    """
    with mpmath.workdps(dps + 10):
        Xm = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in np.asarray(X)])
        n, d = Xm.rows, Xm.cols
        ym = mpmath.matrix([mpmath.mpf(float(v)) for v in np.ravel(y)])
        k = [mpmath.mpf(float(v)) for v in np.broadcast_to(kappa, (d,))]
        b0 = [mpmath.mpf(float(v)) for v in np.broadcast_to(beta0, (d,))]
        p0 = [mpmath.asinh(2 * b0[i] / k[i]) / 2 for i in range(d)]
        if start is None:
            nu = mpmath.matrix(n, 1)
        else:
            dp = mpmath.matrix([mpmath.asinh(2 * mpmath.mpf(float(start[i])) / k[i]) / 2 - p0[i] for i in range(d)])
            nu = mpmath.lu_solve(Xm * Xm.T, Xm * dp)
        for _ in range(200):
            u = [p0[i] + sum(Xm[j, i] * nu[j] for j in range(n)) for i in range(d)]
            beta = [k[i] / 2 * mpmath.sinh(2 * u[i]) for i in range(d)]
            w = [k[i] * mpmath.cosh(2 * u[i]) for i in range(d)]
            r = Xm * mpmath.matrix(beta) - ym
            H = mpmath.matrix(n, n)
            for a in range(n):
                for c in range(n):
                    H[a, c] = sum(Xm[a, i] * w[i] * Xm[c, i] for i in range(d))
            step = mpmath.lu_solve(H, -r)
            nu = nu + step
            if mpmath.norm(step, mpmath.inf) < mpmath.mpf(10) ** (-(dps + 5)):
                break
        u = [p0[i] + sum(Xm[j, i] * nu[j] for j in range(n)) for i in range(d)]
        return [+(k[i] / 2 * mpmath.sinh(2 * u[i])) for i in range(d)]


implicit_bias = register(Result(
    "diagonal.implicit_bias",
    title="Implicit bias of a training stage of a diagonal network (Bregman projection onto the interpolators)",
    params=[P_X, P_Y, P_KAPPA, P_BETA0],
    expr=DISPLAY, output="beta", output_latex=r"\hat\beta_i",
    definitions=((sp.Symbol(r"\nu"), sp.Symbol(r"\text{the solution of } X\hat\beta = y")),),
    # the solver returns only a converged answer, and its convergence test propagates NaN (a NaN or infinite
    # beta makes the residual NaN, never <= rtol: ArithmeticError instead), so evaluate's scan is redundant
    evaluator=_evaluate, evaluator_checks_finite=True,
    mp=lambda X, y, kappa, beta0: implicit_bias_mp(
        np.array(X.tolist(), dtype=float), [float(v) for v in y], float(kappa), float(beta0)),
    conditions=(
        "two-path diagonal network trained to interpolation by gradient flow on (1/2n)||X beta - y||^2",
        "X has full row rank n <= d (underdetermined, consistent)",
        "kappa_i and beta0_i are those of the stage's start: kappa^2 = 4c^2 + (lam_+ - lam_-)^2, beta0 = beta(0)",
        "beta = argmin sum_i D_phi_kappa_i(beta_i, beta0_i) subject to X beta = y (diagonal.potential)",
        "gradient descent converges to the same point up to O(eta)",
    ),
    source=("Mirror-flow / Bregman-projection characterisation: research note diagonal-linear.md §3.2 (DERIVED+CHECKED "
            "D3, D5, D6), checked here against the simulated network; potential as in Woodworth et al. 2020 and "
            "Azulay et al. 2021; " + SETTING),
    references=REFS,
))

__all__ = ["implicit_bias", "implicit_bias_mp"]
