r"""single_index.*: online SGD on single-index models, as an ODE for the overlap.

Setting (Ben Arous, Gheissari & Jagannath 2021; surveyed in Dayi's 2025 thesis). Inputs
``x ~ N(0, I_d)``, teacher ``y = sigma_*(w_*.x)``, student ``sigma(w.x)`` with ``||w|| = ||w_*|| = 1``,
overlap ``m = <w, w_*>``. Normalised Hermite expansions ``sigma = sum_j c_j h_j``,
``sigma_* = sum_j c*_j h_j`` (``h_j = He_j/sqrt(j!)``) give the population correlation
``phi(m) = E[y sigma(w.x)] = sum_j c_j c*_j m^j``. Spherical online SGD
``w <- (w - eta (I - w w^T) grad l)/||...||`` at time ``t = eta * steps`` follows, to leading order,

.. math:: \frac{dm}{dt} = (1 - m^2)\,\varphi'(m) - \frac{\eta d C}{2} m,

(``single_index.drift``) where ``C ~ E[(dl/dz)^2]`` (``E[y^2 sigma'(w.x)^2]`` for the correlation loss
``-y sigma``; for the square loss ``(sigma - y)^2/2`` the drift has the same ``phi`` because
``||w|| = 1`` fixes ``E sigma(w.x)^2``, and ``C = E[(sigma - y)^2 sigma'^2]``); ``C`` is treated as a
constant. Near ``m = 0`` the noiseless drift is ``a m^(k-1)(1 - m^2)``, ``a = k c_k c*_k`` with ``k`` the
information exponent. Its exact solutions:

* ``single_index.overlap`` (``k = 1, 2``): ``m = tanh(a t + artanh m0)``;
  ``m = m0 / sqrt(m0^2 + (1 - m0^2) e^{-2at})``;
* ``single_index.time_to_overlap`` (every integer ``k >= 1``): ``a t = F_k(m) - F_k(m0)`` with

  .. math:: F_k(m) = -\sum_{i=0}^{\lfloor (k-3)/2\rfloor} \frac{m^{-(k-2-2i)}}{k-2-2i}
            + \begin{cases} \operatorname{artanh} m & k \text{ odd}\\ \log m - \tfrac12\log(1-m^2) & k \text{ even}\end{cases}

  (``dF_k/dm = 1/(m^{k-1}(1-m^2))``, proved symbolically for each k the claims test); compiled
  without cancellation: every difference ``F(m) - F(m0)`` is a sum of non-negative terms
  (``-expm1``, ``log1p``, ``artanh((m - m0)/(1 - m m0))``).
* ``single_index.escape_time``: the time from ``m0 = d^{-1/2}`` to ``m = 1/2``, and its leading order
  (``artanh(1/2)/a``, ``log(d)/(2a)``, ``d^{(k-2)/2}/((k-2)a)``);
* ``single_index.predicted_steps``: steps ``= t_esc/eta`` at the largest rate the normalisation
  drift allows, ``eta = c_eta d^{-max(k,2)/2}`` (from ``eta d C/2 <~ a m0^(k-2)``): of order ``d``,
  ``d log d`` and ``d^(k-1)`` for ``k = 1, 2, >= 3`` (a heuristic scaling, not a theorem's constant).
* ``single_index.relu_flow``: the thesis's ReLU single-index gradient flow in polar coordinates
  (teacher ``relu(u.x)``, student ``relu(w.x)``, loss ``E[(relu(w.x) - relu(u.x))^2]`` WITHOUT the 1/2,
  as in the thesis's code; ``theta`` = angle between ``w`` and ``u``, ``r = ||w||``, ``t`` = learning
  rate x iterations), solved by a compiled Dormand-Prince 5(4) integrator to 1e-10.

Sources: the drift-martingale form, the closed forms and F_k: DERIVED+CHECKED in the research
note (SymPy and solve_ivp to 1e-9; SGD at d = 1000); the thresholds d, d log d, d^(k-1): Ben Arous
et al. 2021 (setting; the note recalls them from memory and checks them heuristically); the ReLU
flow: the thesis's companion code (``single_index_ode.ipynb``), re-derived from
``L = r^2/2 + ||u||^2/2 - 2 r ||u|| g(theta)``.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from numerics._ode import relu_flow as _relu_flow_solve

from ._domain import Constraint, Param, integer, interval, nonnegative, positive, real
from ._registry import register
from ._result import Output, Result

REFS = ("benarous2021online", "dayi2025thesis")
SPHERICAL = ("x ~ N(0, I_d); spherical online SGD, one fresh sample per step, t = eta * steps",
             "normalised Hermite coefficients (h_j = He_j/sqrt(j!))")

# -- drift ---------------------------------------------------------------------------
P_C = Param("c", real(), "c", "student's normalised Hermite coefficients c_0, c_1, ...", vector=True)
P_CS = Param("c_star", real(), "c^*", "teacher's normalised Hermite coefficients", vector=True)
P_M = Param("m", interval(-1.0, 1.0), "m", "overlap <w, w*> of unit vectors")
P_ETA = Param("eta", nonnegative(), r"\eta", "SGD step size")
P_D = Param("d", positive(), "d", "input dimension")
P_CC = Param("C", nonnegative(), "C", "second moment of the loss derivative, E[(dl/dz)^2] (a constant)")
_i = sp.Symbol("i", integer=True, nonnegative=True)
c, cs, m = P_C.indexed, P_CS.indexed, P_M.symbol
eta, d, C = P_ETA.symbol, P_D.symbol, P_CC.symbol
PHI_PRIME = sp.Sum(_i * c[_i] * cs[_i] * m ** (_i - 1), (_i, 1, P_C.length - 1))
DRIFT = (1 - m**2) * PHI_PRIME - eta * d * C / 2 * m

drift = register(Result(
    "single_index.drift", title="Drift of the overlap under spherical online SGD",
    params=[P_C, P_CS, P_M, P_ETA, P_D, P_CC], expr=DRIFT, output="dm_dt", output_latex=r"\frac{dm}{dt}",
    conditions=SPHERICAL + (
        "correlation loss -y sigma(w.x), or square loss (sigma - y)^2/2 (same phi on the sphere)",
        "leading order in eta; martingale fluctuations of size sqrt(eta) omitted (valid once |m| >> sqrt(eta))",
        "C = E[(dl/dz)^2] treated as constant (its value near the current m)"),
    source="drift-martingale decomposition (research note, DERIVED+CHECKED against SGD at d = 1000); "
           "setting of Ben Arous, Gheissari & Jagannath 2021",
    references=REFS,
))

# -- exact overlap for k = 1, 2 ---------------------------------------------------------
P_K12 = Param("k", integer(1, 2), "k", "information exponent (1 or 2)")
P_A = Param("a", real(), "a", "drift coefficient a = k c_k c*_k")
P_M0 = Param("m0", interval(-1.0, 1.0, lo_open=True, hi_open=True), "m_0", "initial overlap")
P_T = Param("t", nonnegative(), "t", "time (eta * steps)")
k, a, m0, t = P_K12.symbol, P_A.symbol, P_M0.symbol, P_T.symbol
OVERLAP = sp.Piecewise(
    (m0, sp.Eq(t, 0)),
    (sp.tanh(a * t + sp.atanh(m0)), sp.Eq(k, 1)),
    (m0 / sp.sqrt(m0**2 + (1 - m0**2) * sp.exp(-2 * a * t)), True),
)

overlap = register(Result(
    "single_index.overlap", title="Overlap of the noiseless single-index ODE (k = 1, 2)",
    params=[P_K12, P_A, P_M0, P_T], expr=OVERLAP, output="m", output_latex="m(t)",
    rewrite=False,
    conditions=("solves dm/dt = a m^(k-1) (1 - m^2), m(0) = m0 (the drift without the eta d C term)",
                "k = 1, 2; for k >= 3 use single_index.time_to_overlap (implicit)"),
    source="exact solution (research note, DERIVED+CHECKED symbolically); setting of Ben Arous et al. 2021",
    references=REFS,
))

# -- time to reach an overlap, any k ---------------------------------------------------------
P_K = Param("k", integer(1), "k", "information exponent (integer >= 1)")
P_AP = Param("a", positive(), "a", "drift coefficient a = k c_k c*_k > 0")
P_M0P = Param("m0", interval(0.0, 1.0, lo_open=True, hi_open=True), "m_0", "initial overlap")
P_MT = Param("m", interval(0.0, 1.0, lo_open=True, hi_open=True), "m", "target overlap, m0 <= m < 1")
kk, ap, m0p, mt = P_K.symbol, P_AP.symbol, P_M0P.symbol, P_MT.symbol


def F(kv, mv):
    """F_k(m): an antiderivative of 1/(m^(k-1) (1 - m^2)) (SymPy; k symbolic or an integer)."""
    ii = sp.Symbol("i", integer=True, nonnegative=True)
    power = sp.Sum(mv ** (-(kv - 2 - 2 * ii)) / (kv - 2 - 2 * ii), (ii, 0, sp.floor((kv - 3) / 2)))
    parity = sp.Piecewise((sp.atanh(mv), sp.Eq(sp.Mod(kv, 2), 1)),
                          (sp.log(mv) - sp.log(1 - mv**2) / 2, True))
    return -power + parity


_Fm, _Fm0 = sp.Symbol("F_{k}(m)", real=True), sp.Symbol("F_{k}(m_0)", real=True)
TIME_DISPLAY = (_Fm - _Fm0) / ap
TIME_DEFINITIONS = ((_Fm, F(kk, mt)), (_Fm0, F(kk, m0p)))

# stable: sum of non-negative increments
_L, _ii = sp.Symbol("L", real=True), sp.Symbol("i", integer=True, nonnegative=True)
_p1 = kk - 2 - 2 * _ii  # p - 1 = k - 2 - 2i >= 1
TIME_LOCALS = ((_L, log1p((mt - m0p) / m0p)),)  # log(m/m0) >= 0
TIME_STABLE = (sp.Sum(m0p ** (-_p1) * (-expm1(-_p1 * _L)) / _p1, (_ii, 0, sp.floor((kk - 3) / 2)))
               + sp.Piecewise((sp.atanh((mt - m0p) / (1 - mt * m0p)), sp.Eq(sp.Mod(kk, 2), 1)),
                              (_L - log1p(-(mt - m0p) * (mt + m0p) / (1 - m0p**2)) / 2, True))) / ap


def _time_mp(k, a, m0, m):
    kv = int(k)
    with mpmath.extradps(20):
        def Fk(x):
            s = -sum(x ** (-(kv - 2 - 2 * i)) / (kv - 2 - 2 * i) for i in range(0, (kv - 3) // 2 + 1))
            return s + (mpmath.atanh(x) if kv % 2 else mpmath.log(x) - mpmath.log(1 - x**2) / 2)
        return +((Fk(m) - Fk(m0)) / a)


time_to_overlap = register(Result(
    "single_index.time_to_overlap", title="Time for the single-index ODE to reach an overlap (any k)",
    params=[P_K, P_AP, P_M0P, P_MT], expr=TIME_DISPLAY, output="t", output_latex="t",
    definitions=TIME_DEFINITIONS, kernel_exprs=[TIME_STABLE], kernel_locals=TIME_LOCALS, rewrite=False,
    mp=_time_mp,
    constraints=[Constraint(("m", "m0"), "m must be >= m0 (the overlap increases when a > 0)",
                            lambda m, m0: m >= m0)],
    conditions=("dm/dt = a m^(k-1) (1 - m^2), a > 0, 0 < m0 <= m < 1 (the drift without the eta d C term)",
                "F_k: dF_k/dm = 1/(m^(k-1) (1 - m^2))"),
    source="exact antiderivative (research note, DERIVED+CHECKED with SymPy and solve_ivp); here generated by "
           "SymPy for every integer k and proved by differentiation",
    references=REFS,
))

# -- escape time and predicted steps ------------------------------------------------------
P_DD = Param("d", interval(4.0, np.inf, lo_open=True), "d", "input dimension (m0 = d^(-1/2) < 1/2)")
dd = P_DD.symbol
M_ESC = sp.Rational(1, 2)
ESC_LEADING = sp.Piecewise((sp.atanh(M_ESC) / ap, sp.Eq(kk, 1)),
                           (sp.log(dd) / (2 * ap), sp.Eq(kk, 2)),
                           (dd ** ((kk - 2) / 2) / ((kk - 2) * ap), True))
_esc_sub = {m0p: 1 / sp.sqrt(dd), mt: M_ESC}


def _esc_mp(k, a, d):
    return _time_mp(k, a, 1 / mpmath.sqrt(d), mpmath.mpf(1) / 2)


def _esc_mp_both(k, a, d):
    kv = int(k)
    lead = (mpmath.atanh(0.5) / a if kv == 1 else mpmath.log(d) / (2 * a) if kv == 2
            else d ** (mpmath.mpf(kv - 2) / 2) / ((kv - 2) * a))
    return {"t_esc": _esc_mp(k, a, d), "t_leading": lead}


escape_time = register(Result(
    "single_index.escape_time", title="Escape time of the single-index ODE from m0 = d^(-1/2) to m = 1/2",
    params=[P_K, P_AP, P_DD],
    outputs=[Output("t_esc", TIME_DISPLAY.subs(_esc_sub), r"t_{\mathrm{esc}}"),
             Output("t_leading", ESC_LEADING, r"t_{\mathrm{esc}}^{(0)}")],
    definitions=tuple((s, e.subs(_esc_sub)) for s, e in TIME_DEFINITIONS),
    kernel_exprs=[TIME_STABLE.subs(_esc_sub), ESC_LEADING],
    kernel_locals=tuple((s, e.subs(_esc_sub)) for s, e in TIME_LOCALS), rewrite=False,
    mp=_esc_mp_both,
    conditions=("noiseless ODE dm/dt = a m^(k-1) (1 - m^2) from the typical random start m0 = d^(-1/2)",
                "t_leading: leading order as d -> inf (artanh(1/2)/a, log(d)/(2a), d^((k-2)/2)/((k-2) a))"),
    source="from single_index.time_to_overlap (research note, DERIVED+CHECKED)",
    references=REFS,
))

P_CETA = Param("c_eta", positive(), r"c_\eta", "step-size constant: eta = c_eta d^(-max(k,2)/2)")
ceta = P_CETA.symbol
ETA_SCALED = ceta * dd ** (-sp.Max(kk, 2) / 2)

predicted_steps = register(Result(
    "single_index.predicted_steps", title="Predicted online-SGD steps to escape (d, d log d, d^(k-1))",
    params=[P_K, P_AP, P_DD, P_CETA],
    outputs=[Output("steps", TIME_DISPLAY.subs(_esc_sub) / ETA_SCALED, "n"),
             Output("eta", ETA_SCALED, r"\eta")],
    definitions=tuple((s, e.subs(_esc_sub)) for s, e in TIME_DEFINITIONS),
    kernel_exprs=[TIME_STABLE.subs(_esc_sub) / ETA_SCALED, ETA_SCALED],
    kernel_locals=tuple((s, e.subs(_esc_sub)) for s, e in TIME_LOCALS), rewrite=False,
    mp=lambda k, a, d, c_eta: {"steps": _esc_mp(k, a, d) / (c_eta * d ** (-mpmath.mpf(max(int(k), 2)) / 2)),
                               "eta": c_eta * d ** (-mpmath.mpf(max(int(k), 2)) / 2)},
    conditions=("heuristic: eta chosen as large as the normalisation drift eta d C/2 <~ a m0^(k-2) allows",
                "steps ~ d (k = 1), d log d (k = 2), d^(k-1) (k >= 3) as d -> inf; constants are not a theorem's"),
    source="heuristic version of Ben Arous, Gheissari & Jagannath 2021 (research note; thresholds from memory, "
           "consistent with the derivation and with simulation)",
    references=REFS,
))

# -- ReLU single-index gradient flow --------------------------------------------------------
P_TH0 = Param("theta0", interval(0.0, float(np.pi)), r"\theta_0", "initial angle between w and u")
P_R0 = Param("r0", positive(), "r_0", "initial norm of w")
P_U = Param("u_norm", positive(), r"\|u\|", "teacher's norm")
P_TT = Param("t", nonnegative(), "t", "time: learning rate x iterations")
th, r, un = sp.symbols("theta r u", positive=True)
G_THETA = (sp.sin(th) + (sp.pi - th) * sp.cos(th)) / (2 * sp.pi)
RELU_THETA_DOT = P_U.symbol * (th - sp.pi) * sp.sin(th) / (sp.pi * r)
RELU_R_DOT = 2 * P_U.symbol * G_THETA - r
RELU_LOSS = r**2 / 2 + P_U.symbol**2 / 2 - 2 * r * P_U.symbol * G_THETA


def _relu_flow_eval(theta0, r0, u_norm, t):
    theta, rr = _relu_flow_solve(theta0, r0, u_norm, t)
    return {"theta": theta[()] if theta.ndim == 0 else theta, "r": rr[()] if rr.ndim == 0 else rr}


def relu_flow_mp(theta0, r0, u_norm, t):
    """30-digit (at the caller's precision) Taylor-series integration by ``mpmath.odefun``."""
    pi = mpmath.pi

    def rhs(_, y):
        th_, r_ = y
        g = (mpmath.sin(th_) + (pi - th_) * mpmath.cos(th_)) / (2 * pi)
        return [u_norm * (th_ - pi) * mpmath.sin(th_) / (pi * r_), 2 * u_norm * g - r_]

    sol = mpmath.odefun(rhs, 0, [mpmath.mpf(theta0), mpmath.mpf(r0)])
    y = sol(t)
    return {"theta": y[0], "r": y[1]}


relu_flow = register(Result(
    "single_index.relu_flow", title="ReLU single-index gradient flow (angle and norm)",
    params=[P_TH0, P_R0, P_U, P_TT],
    outputs=[Output("theta", RELU_THETA_DOT, r"\dot\theta"), Output("r", RELU_R_DOT, r"\dot r")],
    definitions=(),
    evaluator=_relu_flow_eval, mp=relu_flow_mp,
    conditions=("teacher relu(u.x), student relu(w.x), x ~ N(0, I_d); gradient flow of "
                "L = E[(relu(w.x) - relu(u.x))^2] (no 1/2) = r^2/2 + |u|^2/2 - 2 r |u| g(theta)",
                "g(theta) = (sin theta + (pi - theta) cos theta)/(2 pi) (the arc-cosine kernel kappa_1)",
                "t = learning rate x iterations of SGD with batch 1 (the SGD mean follows the flow as eta d -> 0)",
                "evaluate() returns theta(t), r(t) (the display shows their ODE); Dormand-Prince 5(4), "
                "rtol 1e-13: global error below 1e-10"),
    source="Dayi 2025 thesis companion code (single_index_ode.ipynb: d = 512, lr = 1e-4, 5e4 iterations); "
           "re-derived from the loss (research note, DERIVED+CHECKED)",
    references=REFS + ("cho2009kernel",),
))
