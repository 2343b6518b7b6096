r"""``adaptive_kernel.*``: the Bayesian adaptive kernel of deep linear networks (saddle point of the posterior action).

**This is the Bayesian posterior (a saddle point of the action of the weight posterior at temperature 1/β),
not the gain of gradient-flow training.** Its shallow gain :math:`c = (1 + \sqrt{1+4\gamma_0^2})/2` differs from
the gradient-flow spike :math:`1 + \chi = \sqrt{1+\gamma_1^2}` of ``transfer.chi``, and the normalisations of γ
differ; the two must not be conflated.

Source: Lauditi, Bordelon, Pehlevan, "Adaptive kernel predictors from feature-learning infinite limits of neural
networks" (ICML 2025), as implemented in the first author's public code (research note infinite-width.md §2.4:
the action VERIFIED as code, the closed forms DERIVED+CHECKED; **the paper's equation numbers are not known and
none is quoted**). Conventions (the code's, adopted unchanged): P inputs :math:`X \in R^{P\times D}`, input Gram
matrix :math:`C = XX^\top/D`, labels y, richness γ₀ (the code's ``gamma0``), inverse temperature β, L hidden
layers of a deep linear network in mean-field scaling, order parameters the layer kernels :math:`\Phi^\ell`
(P × P) and their conjugates :math:`\hat\Phi^\ell`; the action

.. math::
   S = -\tfrac12\sum_{\ell=1}^L \mathrm{Tr}\,\Phi^\ell\hat\Phi^\ell
       + \tfrac{\gamma_0^2}{2} y^\top(\Phi^L + \beta^{-1}I)^{-1}y
       + \tfrac12\ln\det(I + C\hat\Phi^1) + \tfrac12\sum_{\ell=1}^{L-1}\ln\det(I + \Phi^\ell\hat\Phi^{\ell+1})

is made stationary (minimised over Φ, maximised over Φ̂). Stationarity in :math:`\hat\Phi^\ell` gives
:math:`\Phi^\ell = ((\Phi^{\ell-1})^{-1} + \hat\Phi^\ell)^{-1}` (:math:`\Phi^0 = C`), in :math:`\Phi^L`
:math:`\hat\Phi^L = -\gamma_0^2 a a^\top`, :math:`a = (\Phi^L + \beta^{-1}I)^{-1}y`, and in :math:`\Phi^{\ell<L}`
:math:`\hat\Phi^\ell = \hat\Phi^{\ell+1}(I + \Phi^\ell\hat\Phi^{\ell+1})^{-1}`.

* **Whitened data** (:math:`C = I`, ``|y| = 1``): :math:`\Phi^\ell = I + (c_\ell - 1)yy^\top` with
  :math:`c_\ell = (1-\chi)^\ell`, :math:`\chi = -\gamma_0^2 c_L/(\beta^{-1} + c_L)^2`
  (``adaptive_kernel.deep_gain``), i.e. :math:`x = c_L^{1/L}` solves
  :math:`x - 1 = \gamma_0^2 x^L/(\beta^{-1} + x^L)^2`. Solved by a bracketed Newton iteration
  (:mod:`numerics._adaptive_kernel`); unique for β ≥ 1 (then the right side decreases in x ≥ 1; for β < 1 and
  L ≥ 2 several roots can exist and the saddle would have to be selected: not covered, refused).
* **L = 1, β → ∞** (``adaptive_kernel.shallow_gain``): :math:`c^2 - c - \gamma_0^2 = 0`,
  :math:`c = (1 + \sqrt{1 + 4\gamma_0^2})/2`.
* **General data, L = 1** (``adaptive_kernel.rank_one``): by Sherman–Morrison
  :math:`\Phi = (C^{-1} - \gamma_0^2aa^\top)^{-1} = XAX^\top/D` with

  .. math:: A = I + \frac{\gamma_0^2\, v v^\top}{1 - \gamma_0^2 a^\top C a}, \quad v = X^\top a/\sqrt D, \quad
            a = (\Phi + \beta^{-1}I)^{-1}y \ \text{(self-consistent)}.

  lazyrich reduces the self-consistency to one scalar: :math:`\Phi + \beta^{-1}I` acts on a as
  :math:`zC + \beta^{-1}I` with :math:`z = 1/(1 - \gamma_0^2 a^\top C a)`, so :math:`a = (zC + \beta^{-1}I)^{-1}y`
  and z ≥ 1 is the unique root of :math:`1 - 1/z = \gamma_0^2\sum_k e_k\tilde y_k^2/(ze_k + \beta^{-1})^2`
  (eigenpairs :math:`e_k` of C, :math:`\tilde y` = y in that basis); then :math:`A = I + \gamma_0^2 z\,vv^\top`.
  At :math:`X = \sqrt D I`, ``|y| = 1`` this is the L = 1 scalar gain (z = c).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from numerics._adaptive_kernel import deep_gain_root, rank_one_root

from ._domain import Constraint, Domain, Param, integer, interval, real
from ._registry import register
from ._result import Output, Result

REFS = ("lauditi2025adaptive",)
SOURCE = ("Lauditi, Bordelon, Pehlevan (ICML 2025), the first author's public code (action VERIFIED as code); "
          "research note infinite-width.md §2.4 (closed forms DERIVED+CHECKED)")
POSTERIOR = ("Bayesian posterior of a deep linear network in the feature-learning (mean-field) infinite-width limit: "
             "saddle point of the action S[Phi, Phi_hat] (min over Phi, max over Phi_hat) -- NOT gradient-flow "
             "training (whose spike is transfer.chi)",)
WHITENED = "whitened data: C = X X^T/D = I (X = sqrt(D) I), unit label vector |y| = 1"

P_G = Param("gamma0", interval(0.0, 1e100), r"\gamma_{0}",
            "richness (the code's gamma0); <= 1e100 keeps gamma0^2 and the gains finite in float64")
P_BETA = Param("beta", Domain(lo=1.0, lo_open=False, allow_inf=True), r"\beta",
               "inverse temperature of the posterior, beta >= 1 (inf allowed: the zero-temperature limit)")
P_L = Param("L", integer(min=1), "L", "number of hidden layers")
P_ELL = Param("ell", integer(min=0), r"\ell", "layer index 0 <= ell <= L (ell = 0: the input kernel)")

g, beta, L, ell = P_G.symbol, P_BETA.symbol, P_L.symbol, P_ELL.symbol

# -- L = 1, beta -> inf ---------------------------------------------------------------------------
SHALLOW = (1 + sp.sqrt(1 + 4 * g**2)) / 2

shallow_gain = register(Result(
    "adaptive_kernel.shallow_gain",
    title="Bayesian adaptive-kernel gain of a one-hidden-layer linear network, zero temperature",
    params=[P_G], expr=SHALLOW, output="c", output_latex="c",
    conditions=POSTERIOR + (WHITENED, "L = 1 hidden layer, beta -> inf: Phi = I + (c - 1) y y^T",
                            "c is the root >= 1 of c^2 - c - gamma0^2 = 0"),
    source=SOURCE, references=REFS,
))

# -- deep scalar equation -------------------------------------------------------------------------
cL, chi = sp.Symbol("c_L", positive=True), sp.Symbol("chi", real=True)
CHI_DEF = -g**2 * cL / (1 / beta + cL) ** 2


def _deep_eval(gamma0, beta, L, ell):
    x = deep_gain_root(gamma0, 1.0 / beta, L)
    # power, not exp(ell log x): that would lose ell log(x) ulps; c_L <~ gamma0^2 stays finite for gamma0 <= 1e100
    return {"c_ell": np.power(x, ell), "c_L": np.power(x, L), "chi": 1.0 - x}


def deep_root_mp(gamma0, beta, L):
    """x = c_L^{1/L} by bisection at the working precision (independent of the float64 Newton solver)."""
    b = 1 / beta if beta != mpmath.inf else mpmath.mpf(0)
    g2 = gamma0**2
    if g2 == 0:
        return mpmath.mpf(1)
    lo, hi = mpmath.mpf(1), 1 + min(g2 / (1 + b) ** 2, g2 ** (mpmath.mpf(1) / (L + 1)))
    for _ in range(mpmath.mp.prec + 10 + int(mpmath.log(hi, 2))):  # relative precision from hi - lo < hi
        mid = (lo + hi) / 2
        w = mid ** (-L)
        if mid - 1 - g2 * w / (1 + b * w) ** 2 < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _deep_mp(gamma0, beta, L, ell):
    x = deep_root_mp(gamma0, beta, int(L))
    return {"c_ell": x**ell, "c_L": x**L, "chi": 1 - x}


_ell_le_L = Constraint(("ell", "L"), "ell <= L (layer index within the network)", lambda ell, L: ell <= L)

deep_gain = register(Result(
    "adaptive_kernel.deep_gain",
    title="Bayesian adaptive-kernel gains c_ell of a deep linear network on whitened data",
    params=[P_G, P_BETA, P_L, P_ELL],
    outputs=[Output("c_ell", (1 - chi) ** ell, r"c_{\ell}"),
             Output("c_L", (1 - chi) ** L, r"c_{L} \text{ solves } c_{L}"),
             Output("chi", CHI_DEF, r"\chi")],
    conditions=POSTERIOR + (WHITENED, "Phi^ell = I + (c_ell - 1) y y^T for ell = 0..L (c_0 = 1, the input kernel)",
                            "implicit: c_L = (1 - chi)^L with chi = -gamma0^2 c_L/(1/beta + c_L)^2 < 0; solved for "
                            "x = c_L^(1/L) by bracketed Newton in [1, 1 + gamma0^2/(1 + 1/beta)^2]",
                            "beta >= 1: the root is unique (for beta < 1, L >= 2 several saddles can exist: refused)",
                            "L = 1, beta = inf gives adaptive_kernel.shallow_gain"),
    constraints=[_ell_le_L],
    source=SOURCE, references=REFS, mp=_deep_mp, evaluator=_deep_eval,
))

# -- general data, L = 1 ---------------------------------------------------------------------------
P_X = Param("X", real(), "X", "inputs, P x D (rows are samples)", ndim=2)
P_Y = Param("y", real(), "y", "labels, length P", vector=True)
P_BETA1 = Param("beta", Domain(lo=0.0, lo_open=True, allow_inf=True), r"\beta",
                "inverse temperature beta > 0 (inf: needs X of full row rank)")
_P, _D = sp.Symbol("P", integer=True, positive=True), sp.Symbol("D", integer=True, positive=True)
_Xm, _vm, _am = sp.MatrixSymbol("X", _P, _D), sp.MatrixSymbol("v", _D, 1), sp.MatrixSymbol("a", _P, 1)
_Cm, _ym, _Phim = sp.MatrixSymbol("C", _P, _P), sp.MatrixSymbol("y", _P, 1), sp.MatrixSymbol(r"\Phi", _P, _P)
_zs = sp.Symbol("z", positive=True)
_aCa = sp.Symbol(r"a^{\top} C a", nonnegative=True)
A_DISPLAY = sp.Identity(_D) + g**2 * _zs * _vm * _vm.T


def rank_one_solution(X, y, gamma0, beta) -> dict:
    """A (D x D), Phi (P x P), a (P,), z: the L = 1 saddle point for general data (see the module docstring).

    ``gamma0`` and ``beta`` broadcast (outputs have their broadcast shape in front); C is diagonalised once.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    P, D = X.shape
    if y.shape != (P,):
        raise ValueError(f"y: must have one label per row of X (length {P}), got shape {y.shape}")
    g, B = np.broadcast_arrays(np.asarray(gamma0, dtype=float), np.asarray(beta, dtype=float))
    C = X @ X.T / D
    e, U = np.linalg.eigh(C)
    tol = P * np.finfo(float).eps * max(float(e[-1]), 1e-300)
    e = np.where(e > tol, e, 0.0)
    yt = U.T @ y
    if np.any(np.isinf(B)) and np.any((e == 0.0) & (np.abs(yt) > 1e-12 * np.linalg.norm(y))):
        raise ValueError("beta: beta = inf needs X X^T/D to be invertible on y (X of full row rank); "
                         "the zero-temperature saddle is singular here -- use a finite beta")
    shape = g.shape
    out = {"A": np.empty(shape + (D, D)), "Phi": np.empty(shape + (P, P)), "a": np.empty(shape + (P,)),
           "z": np.empty(shape)}
    y2 = yt**2
    for idx in np.ndindex(shape):
        b = 0.0 if np.isinf(B[idx]) else 1.0 / float(B[idx])
        g2 = float(g[idx]) ** 2
        z = rank_one_root(e, y2, g2, b)
        den = z * e + b
        coef = np.divide(yt, den, out=np.zeros(P), where=den > 0)  # den = 0 only where yt = 0 (checked above)
        a = U @ coef
        Ca = C @ a
        v = X.T @ a / np.sqrt(D)
        out["A"][idx] = np.eye(D) + g2 * z * np.outer(v, v)
        out["Phi"][idx] = C + g2 * z * np.outer(Ca, Ca)
        out["a"][idx], out["z"][idx] = a, z
    if not shape:
        out["z"] = out["z"][()]
    return out


def _rank_one_eval(X, y, gamma0, beta):
    return rank_one_solution(X, y, gamma0, beta)


def rank_one_mp(X, y, gamma0, beta):
    """50-digit twin: bisection for z, then the same closed forms with mpmath matrices."""
    X = mpmath.matrix(X) if not isinstance(X, mpmath.matrix) else X
    y = mpmath.matrix(y) if not isinstance(y, mpmath.matrix) else y
    P, D = X.rows, X.cols
    C = X * X.T / D
    b = 0 if beta == mpmath.inf else 1 / beta
    g2 = gamma0**2

    def solve(z):
        return mpmath.lu_solve(z * C + b * mpmath.eye(P), y)

    def F(z):
        a = solve(z)
        return 1 - 1 / z - g2 * (a.T * C * a)[0]

    lo, hi = mpmath.mpf(1), mpmath.mpf(2)
    while F(hi) < 0:
        hi *= 2
    for _ in range(mpmath.mp.prec + 10 + int(mpmath.log(hi, 2))):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if F(mid) < 0 else (lo, mid)
    z = (lo + hi) / 2
    a = solve(z)
    v = X.T * a / mpmath.sqrt(D)
    return {"A": mpmath.eye(D) + g2 * z * v * v.T, "Phi": C + g2 * z * (C * a) * (C * a).T, "a": a, "z": z}


rank_one = register(Result(
    "adaptive_kernel.rank_one",
    title="Bayesian adaptive kernel of a one-hidden-layer linear network on general data: a rank-one spike",
    params=[P_X, P_Y, P_G, P_BETA1],
    outputs=[Output("A", A_DISPLAY, "A"),
             Output("Phi", _Xm * A_DISPLAY * _Xm.T / _D, r"\Phi"),
             Output("a", (_Phim + sp.Identity(_P) / beta).I * _ym, "a"),
             Output("z", 1 / (1 - g**2 * _aCa), "z")],
    definitions=((_vm, _Xm.T * _am / sp.sqrt(_D)), (_Cm, _Xm * _Xm.T / _D)),
    conditions=POSTERIOR + ("L = 1 hidden layer, any inputs X (P x D) and labels y; C = X X^T/D",
                            "self-consistent: a = (Phi + I/beta)^{-1} y with Phi = X A X^T/D; equivalently "
                            "a = (zC + I/beta)^{-1} y, z >= 1 the unique root of 1 - 1/z = gamma0^2 a^T C a",
                            "gamma0 and beta broadcast (outputs carry their shape in front); beta = inf needs C "
                            "invertible on y",
                            "outputs: A (D x D), Phi (P x P), a (P), z (the spike gain 1/(1 - gamma0^2 a^T C a))"),
    source=SOURCE + "; the scalar reduction to z is a lazyrich derivation (checked by the stationarity claim)",
    references=REFS, mp=rank_one_mp, evaluator=_rank_one_eval,
))

__all__ = ["deep_gain", "deep_root_mp", "rank_one", "rank_one_mp", "rank_one_solution", "shallow_gain"]
