r"""``silent_alignment.*``: two-layer linear network from small initialisation (Atanasov, Bordelon, Pehlevan 2022).

Setting (research note infinite-width.md §2.2, VERIFIED from the paper's text; **equation numbers are not
quoted**): :math:`f(x) = a^\top W x` in standard parametrisation, :math:`a_i \sim N(0,\sigma^2/N)`,
:math:`W_{ij} \sim N(0,\sigma^2/D)` with small σ, loss :math:`\tfrac1{2P}\sum_\mu (f(x^\mu) - y^\mu)^2` with a
linear teacher :math:`y = s\,\beta\cdot x` (:math:`\lVert\beta\rVert = 1`, s > 0), whitened inputs
(:math:`\Sigma = \tfrac1P\sum_\mu x^\mu x^{\mu\top} = I`) unless stated. Gradient flow with the paper's
learning rate η set to 1 (lazyrich time ``t`` = the paper's ηt). The NTK is :math:`K(x,x') = x^\top M x'`,
:math:`M = W^\top W + \lvert a\rvert^2 I`; the paper's order parameters are :math:`q = \tfrac12\beta^\top M\beta`
and :math:`r = a^\top W\beta`.

* **Phase II logistic** (``silent_alignment.phase2_logistic``): once the kernel has aligned,
  :math:`M = c(t)(\beta\beta^\top + I)` with :math:`c = \lvert a\rvert^2` solving :math:`\dot c = 2c(s - c)`:

  .. math:: c(t) = \frac{s e^{2st}}{e^{2st} - 1 + s/c_0} = \frac{s c_0}{c_0 + (s - c_0)e^{-2st}}

  (the second, decaying-exponential form is compiled).
* **Whole trajectory** (``silent_alignment.trajectory``), the paper's matched solution up to O(σ²):

  .. math:: r(t) = \frac{2s\sinh(2st)}{e^{2st} - 1 + 2s/q_0}, \qquad q(t) = \frac{2s\cosh(2st)}{e^{2st} - 1 + 2s/q_0},

  from :math:`q(0) = q_0`, :math:`r(0) = 0`. It is the exact solution (SymPy, a claim) of
  :math:`\dot q = 2sr - q(q+r)`, :math:`\dot r = 2sq - r(q+r)`: the Phase I linear system
  :math:`\tfrac{d}{dt}(q,r) = 2s(r,q)` (q ~ q₀ cosh 2st, r ~ q₀ sinh 2st as q₀ → 0) with the saturation that
  makes :math:`(q+r)/2` the Phase II logistic from :math:`c_0 = q_0/2` (this ODE form is a lazyrich
  observation, checked symbolically). Compiled with :math:`E = e^{-2st}`: :math:`r = s(1 - E^2)/D`,
  :math:`q = s(1 + E^2)/D`, :math:`D = (1 - E) + (2s/q_0)E`.
* **Final NTK** (``silent_alignment.final_ntk``): :math:`M_\infty = s(\beta\beta^\top + I)` (the kernel
  :math:`K_\infty(x,x') = s\,x^\top(\beta\beta^\top + I)x'`), for any full-rank input covariance, up to O(σ²):
  returned as the D × D matrix (eigenvalue 2s along β, s orthogonal to it).

Error of the theory (what the simulation claims use as tolerance): all three are leading order as σ → 0.
The conserved imbalance :math:`WW^\top - aa^\top` and the unmoving orthogonal part of :math:`W^\top W` are of
the order of the initial kernel :math:`k_0 = \lambda_{\max}(M(0)) \approx \sigma^2(1 + \sqrt{N/D})^2`, so the
deviations are O(k₀) = O(σ²(1 + N/D)).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1

from ._domain import Param, nonnegative, positive, real
from ._registry import register
from ._result import Output, Result

REFS = ("atanasov2022silent",)
SETTING = (
    "two-layer linear network f = a^T W x, standard parametrisation, small initialisation a_i ~ N(0, sigma^2/N), "
    "W_ij ~ N(0, sigma^2/D); leading order as sigma -> 0 (errors O(sigma^2 (1 + N/D)))",
    "loss (1/2P) sum_mu (f(x_mu) - s beta.x_mu)^2, unit teacher beta, gradient flow with eta = 1 (t = paper's eta t)",
)
WHITENED = "whitened inputs: (1/P) sum_mu x_mu x_mu^T = I"
SOURCE = "Atanasov, Bordelon, Pehlevan (ICLR 2022), silent alignment; research note infinite-width.md §2.2 (VERIFIED)"

P_S = Param("s", positive(), "s", "teacher scale: y = s beta.x with a unit beta")
P_T = Param("t", nonnegative(), "t", "gradient-flow time (paper's eta t)")
P_C0 = Param("c0", positive(), "c_{0}", "|a|^2 at the start of Phase II (t = 0 here)")
P_Q0 = Param("q0", positive(), "q_{0}", "initial q = beta^T M beta/2 (O(sigma^2))")
P_BETA = Param("beta", real(), r"\beta", "unit teacher direction", vector=True)

s, t, c0, q0 = P_S.symbol, P_T.symbol, P_C0.symbol, P_Q0.symbol

# -- Phase II logistic ---------------------------------------------------------------------------
LOGISTIC = s * sp.exp(2 * s * t) / (sp.exp(2 * s * t) - 1 + s / c0)
LOGISTIC_STABLE = s * c0 / (c0 + (s - c0) * sp.exp(-2 * s * t))  # decaying exponential only

logistic = register(Result(
    "silent_alignment.phase2_logistic",
    title="Phase II of silent alignment: the logistic growth of the kernel scale |a|^2",
    params=[P_S, P_C0, P_T], expr=LOGISTIC, output="c", output_latex=r"c(t) = \lvert a\rvert^{2}",
    kernel_exprs=[LOGISTIC_STABLE], rewrite=False,
    conditions=SETTING + (WHITENED, "Phase II: the kernel has aligned, M = c (beta beta^T + I), c = |a|^2; "
                          "t is counted from the time where c = c0 (c0 >> sigma^2)",
                          "exact solution of dc/dt = 2 c (s - c); c -> s"),
    source=SOURCE, references=REFS,
))

# -- whole trajectory ----------------------------------------------------------------------------
_den = sp.exp(2 * s * t) - 1 + 2 * s / q0
Q_EXPR = 2 * s * sp.cosh(2 * s * t) / _den
R_EXPR = 2 * s * sp.sinh(2 * s * t) / _den
_E = sp.exp(-2 * s * t)
_Ds = -expm1(-2 * s * t) + 2 * s / q0 * _E
Q_STABLE = s * (1 + _E**2) / _Ds
R_STABLE = s * (-expm1(-4 * s * t)) / _Ds

trajectory = register(Result(
    "silent_alignment.trajectory",
    title="Whole-trajectory silent-alignment solution: q(t) = beta^T M beta/2 and r(t) = a^T W beta",
    params=[P_S, P_Q0, P_T],
    outputs=[Output("q", Q_EXPR, r"q(t)"), Output("r", R_EXPR, r"r(t)")],
    kernel_exprs=[Q_STABLE, R_STABLE], rewrite=False,
    conditions=SETTING + (WHITENED, "matched solution from q(0) = q0, r(0) = 0 (the paper's <r0> = 0); "
                          "exact solution of dq/dt = 2sr - q(q + r), dr/dt = 2sq - r(q + r)",
                          "Phase I (t << log(s/sigma^2)/s): q ~ q0 cosh 2st, r ~ q0 sinh 2st; then q, r -> s"),
    source=SOURCE + "; the closed ODE form is a lazyrich observation checked by SymPy", references=REFS,
))

# -- final NTK -----------------------------------------------------------------------------------
_Dim = sp.Symbol("D", integer=True, positive=True)
_bm = sp.MatrixSymbol(r"\beta", _Dim, 1)
FINAL_DISPLAY = s * (_bm * _bm.T + sp.Identity(_Dim))


def _unit(beta: np.ndarray) -> None:
    n = float(np.linalg.norm(beta))
    if abs(n - 1.0) > 1e-12:
        raise ValueError(f"beta: must be a unit vector (||beta|| = 1 to 1e-12), got norm {n!r}")


def _final_eval(s, beta):
    _unit(beta)
    base = np.outer(beta, beta) + np.eye(beta.size)
    return np.asarray(s)[..., None, None] * base


def _final_mp(s, beta):
    b = mpmath.matrix(beta)
    return s * (b * b.T + mpmath.eye(len(beta)))


final_ntk = register(Result(
    "silent_alignment.final_ntk",
    title="Final NTK after silent alignment: M = s (beta beta^T + I), K(x, x') = x^T M x'",
    params=[P_S, P_BETA], expr=FINAL_DISPLAY, output="M", output_latex=r"M_{\infty}",
    conditions=SETTING + ("any full-rank input covariance (whitened or not): converged beta_hat = s beta, balanced "
                          "weights W = a beta^T with |a|^2 = s",
                          "returns the D x D matrix (shape s.shape + (D, D)); eigenvalues 2s along beta, s orthogonal",
                          "beta must be a unit vector (checked)"),
    source=SOURCE, references=REFS, mp=_final_mp, evaluator=_final_eval,
))

__all__ = ["final_ntk", "logistic", "trajectory"]
