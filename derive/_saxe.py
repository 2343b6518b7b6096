r"""Balanced depth-N scalar chain (Saxe, McClelland, Ganguli 2014).

A chain of N scalar weights, all equal (balanced), learning a mode of strength
``s`` with whitened inputs: the product ``u`` obeys (tau = 1)

.. math:: \dot u = N u^{2 - 2/N} (s - u), \qquad u(0) = u_0 > 0

(research note deep-linear.md §3: DERIVED+CHECKED for N = 2, 3, 5).
N = 2 is the λ = 0 two-layer mode.

Time to reach ``u``: substitute ``u = v^N`` (``v`` is one weight) so that
``dt = v^{1-N} / (s - v^N) dv = (1/s)[v^{1-N} + v / (s - v^N)] dv``; with the roots
``r_k = rho e^{i theta_k}`` of ``v^N = s`` (``rho = s^{1/N}``, ``theta_k = 2 pi k/N``) the
partial fractions give, for every integer ``N >= 2``,

.. math:: T_N(v) = \frac{1}{s}\Big[\frac{v^{2-N}}{2-N} - \frac{\rho^2}{N s}\sum_{k=0}^{N-1}
   \big(\cos 2\theta_k \ln|v - r_k| - \sin 2\theta_k \arg(v - r_k)\big)\Big]

(``ln v`` replaces ``v^{2-N}/(2-N)`` at N = 2), and ``t = T_N(u^{1/N}) - T_N(u_0^{1/N})``.
This general-N antiderivative is a lazyrich derivation; the claims check that its
derivative is the integrand (SymPy, exactly) and that it agrees with SymPy's own
``integrate`` for small N. ``u(t)`` inverts it inside the kernel by a safeguarded
Newton iteration on ``v`` in the bracket between ``v_0`` and ``rho``.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from numerics import Implicit

from ._domain import Constraint, Param, integer, nonnegative, positive
from ._registry import register
from ._result import Result

REFS = ("saxe2014exact",)
CONDITIONS = (
    "balanced chain of N scalar weights (all equal), whitened inputs, gradient flow with tau = 1",
    "u0 > 0: the balanced chain cannot change sign (u = 0 is a saddle)",
    "u lies between u0 and s; u = s is reached only as t -> inf",
)

P_N = Param("N", integer(min=2), "N", "number of weight layers in the chain")
P_S = Param("s", positive(), "s", "strength of the mode (singular value of Syx)")
P_U0 = Param("u0", positive(), "u_0", "initial product of the weights")
P_U = Param("u", positive(), "u", "target product")
P_T = Param("t", nonnegative(), "t", "gradient-flow time (tau = 1)")

N, s, u0, u, t = P_N.symbol, P_S.symbol, P_U0.symbol, P_U.symbol, P_T.symbol
v = sp.Symbol("v", positive=True)
k = sp.Idx("k")


def antiderivative(v, N, s):
    """T_N(v) for symbolic or numeric N >= 2 (a Sum over the N roots of v^N = s)."""
    rho = s ** (1 / N)
    theta = 2 * sp.pi * k / N
    # |v - r_k|^2 as a sum of squares: never negative after rounding at v = rho
    log_mod = sp.log((v - rho * sp.cos(theta)) ** 2 + (rho * sp.sin(theta)) ** 2) / 2
    arg = sp.atan2(-rho * sp.sin(theta), v - rho * sp.cos(theta))
    roots = sp.Sum(sp.cos(2 * theta) * log_mod - sp.sin(2 * theta) * arg, (k, 0, N - 1))
    if isinstance(N, sp.Integer):
        power = sp.log(v) if N == 2 else v ** (2 - N) / (2 - N)
    else:
        power = sp.Piecewise((sp.log(v), sp.Eq(N, 2)), (v ** (2 - N) / (2 - N), True))
    return (power - rho**2 / (N * s) * roots) / s


def antiderivative_fixed(v, n: int, s):
    """T_n(v) for a concrete integer n, with the sum written out (for SymPy checks)."""
    return antiderivative(v, sp.Integer(n), s).doit()


T = sp.Function("T_N")
s_ = sp.Symbol("s_", positive=True)
TIME_DISPLAY = T(u ** (1 / N)) - T(u0 ** (1 / N))
_between = Constraint(
    ("u", "u0", "s"),
    "u must lie between u0 (inclusive) and s (exclusive): the product moves monotonically towards s",
    lambda u, u0, s: ((u0 <= u) & (u < s)) | ((s < u) & (u <= u0)),
)


# In kernels T_N is one compiled helper, so T(v0) inside the residual is bitwise the
# value at the bracket end v0 (two algebraically equal forms would round differently).
_T_kernel = sp.Function("T_chain")
HELPERS = [("T_chain", (v, N, s), (), antiderivative(v, N, s))]


def _time_kernel(N, s, u0, u):
    return sp.Piecewise((0, sp.Eq(u, u0)), (_T_kernel(u ** (1 / N), N, s) - _T_kernel(u0 ** (1 / N), N, s), True))


def _time_expr(N, s, u0, u):
    return sp.Piecewise((0, sp.Eq(u, u0)),
                        (antiderivative(u ** (1 / N), N, s) - antiderivative(u0 ** (1 / N), N, s), True))


def _time_mp(N, s, u0, u):
    n = int(N)
    expr = _time_expr(sp.Integer(n), P_S.symbol, P_U0.symbol, P_U.symbol).doit()
    return sp.lambdify([P_S.symbol, P_U0.symbol, P_U.symbol], expr, modules="mpmath")(s, u0, u)


depth_chain_time = register(Result(
    "saxe.depth_chain_time",
    title="Time for a balanced depth-N chain to learn a mode from u0 to u",
    params=[P_N, P_S, P_U0, P_U],
    expr=TIME_DISPLAY, output="t", output_latex="t",
    definitions=((T(v), antiderivative(v, N, s)),),
    kernel_exprs=[_time_kernel(N, s, u0, u)],
    helpers=HELPERS,
    constraints=[_between],
    conditions=CONDITIONS,
    source=("ODE: Saxe et al. 2014 (research note §3, DERIVED+CHECKED); general-N antiderivative by partial "
            "fractions over the roots of v^N = s: lazyrich derivation, checked against SymPy's integrate"),
    references=REFS,
    mp=_time_mp,
    rewrite=False,  # log1p rewriting would expand |v - r_k|^2 back into a cancelling polynomial
))


def _chain_mp(N, s, u0, t):
    n = int(N)
    if u0 == s:
        return s
    T_n = sp.lambdify([v, s_], antiderivative_fixed(v, n, s_), modules="mpmath")
    v0 = u0 ** (mpmath.mpf(1) / n)
    target = T_n(v0, s) + t
    dT = lambda x: x ** (1 - n) / (s - x**n)  # noqa: E731
    # the kernel's answer is only the starting point of Newton at high precision
    guess = mpmath.mpf(float(depth_chain.evaluate(N=n, s=float(s), u0=float(u0), t=float(t))))
    vg = guess ** (mpmath.mpf(1) / n)
    root = mpmath.findroot(lambda x: T_n(x, s) - target, vg, df=dT, solver="newton")
    return root**n


_lo, _hi = sp.Min(u0 ** (1 / N), s ** (1 / N)), sp.Max(u0 ** (1 / N), s ** (1 / N))
depth_chain = register(Result(
    "saxe.depth_chain",
    title="Product of a balanced depth-N chain at time t",
    params=[P_N, P_S, P_U0, P_T],
    expr=sp.Eq(T(u ** (1 / N)) - T(u0 ** (1 / N)), t), output="u", output_latex="u(t)",
    definitions=((T(v), antiderivative(v, N, s)),),
    # u0 within rounding of s: the bracket is empty and u stays between u0 and s, i.e. at u0
    kernel_exprs=[sp.Piecewise((u0, sp.Eq(t, 0) | sp.Eq(u0, s) | sp.Eq(u0 ** (1 / N), s ** (1 / N))),
                               (v**N, True))],
    helpers=HELPERS,
    implicit=Implicit(unknown=v, residual=_T_kernel(v, N, s) - _T_kernel(u0 ** (1 / N), N, s) - t,
                      lower=_lo, upper=_hi, derivative=v ** (1 - N) / (s - v**N)),
    conditions=CONDITIONS,
    source=("Inverse of saxe.depth_chain_time, solved in the kernel by safeguarded Newton on one weight v = u^(1/N) "
            "(Saxe et al. 2014 setting)"),
    references=REFS,
    mp=_chain_mp,
    rewrite=False,
))

__all__ = ["antiderivative", "antiderivative_fixed", "depth_chain", "depth_chain_time"]
