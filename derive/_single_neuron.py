r"""The single-neuron model f(x) = a w^T x with layer-wise learning rates (Kunin et al., NeurIPS 2024).

Conventions: whitened inputs, so the loss in ``beta = a w`` is ``(1/2)||beta - beta*||^2 + const``
(the notebook's flow with ``XX = I``; the paper's loss normalisation is UNKNOWN to the research note);
gradient flow with rates ``eta_w`` (first layer ``w``) and ``eta_a`` (second layer ``a``):
``dw/dt = -eta_w a (beta - beta*)``, ``da/dt = -eta_a w^T (beta - beta*)``. The conserved quantity is
``delta = eta_w a^2 - eta_a ||w||^2`` (output layer minus input layer, the sign of λ;
research note §2.2, CHECKED C9). ``s = ||beta*|| > 0``.

Exact solution (research note §2.4, DERIVED+CHECKED C9, for unit rates; rates by rescaling, derived
here and checked against simulation): with ``eta = sqrt(eta_a eta_w)``, ``A = a/sqrt(eta_a)``,
``W = w/sqrt(eta_w)``, ``T = eta^2 t`` the pair (A, W) follows the unit-rate flow with target
``beta*/eta`` and ``delta/eta^2``. For the unit-rate flow, ``p = w . beta*`` and ``nu = p/a`` obey
``dnu/dt = s^2 - delta nu - nu^2``, and ``1/a^2`` a linear ODE; in branch-free form, with
``K = sqrt(delta^2 + 4 s^2)``, ``q = p0 + a0 (delta + K)/2``, ``g = p0 - a0 (K - delta)/2``,
``e = e^{-K t}``, ``ebar = e^{-(delta + K) t}``:

.. math:: a(t) = \frac{q - g e}{\sqrt{M}},\qquad
          w\cdot\hat\beta^* = \frac{(K - \delta) q + (K + \delta) g e}{2 s \sqrt M},\qquad
          w_\perp(t) = w_\perp(0)\,\frac{K \sqrt{\bar e}}{\sqrt M},

.. math:: M = K^2 \bar e + 2\Big[q^2 \frac{1 - \bar e}{\delta + K} - 2 g q \frac{e - \bar e}{\delta}
          + g^2 \frac{\bar e - e^2}{K - \delta}\Big],

every ratio evaluated without cancellation (``expm1``; ``(e - ebar)/delta -> t e`` at delta = 0;
``delta +- K`` by conjugates). ``a`` may cross zero. The function-space kernel is
``dbeta/dt = -M(beta) (beta - beta*)`` with ``M = eta_w a^2 I + eta_a w w^T =
(1/2)(sqrt(delta^2 + 4 eta_a eta_w n^2) + delta) I + (1/2)(sqrt(...) - delta) beta beta^T / n^2``,
``n = ||beta||`` (research note §2.3, DERIVED).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from ._domain import Param, nonnegative, positive, real
from ._registry import register
from ._result import Output, Result

REFS = ("kunin2024getrichquick",)
CONDITIONS = (
    "single neuron f(x) = a w^T x, gradient flow with rates eta_w (w) and eta_a (a)",
    "whitened inputs: the loss is (1/2)||a w - beta*||^2 + const",
    "delta = eta_w a^2 - eta_a ||w||^2 is conserved (computed from a0, w0)",
    "beta* != 0",
)

P_A0 = Param("a0", real(), "a_0", "initial second-layer weight")
P_W0 = Param("w0", real(), "w_0", "initial first-layer weights (length d)", vector=True)
P_BS = Param("beta_star", real(), r"\beta^{*}", "target regression vector (length d, nonzero)", vector=True)
P_EW = Param("eta_w", positive(), r"\eta_w", "learning rate of the first layer w")
P_EA = Param("eta_a", positive(), r"\eta_a", "learning rate of the second layer a")
P_T = Param("t", nonnegative(), "t", "gradient-flow time (a GD step k at rate eta is t = k eta)")
P_BETA = Param("beta", real(), r"\beta", "function-space parameter a w (length d)", vector=True)
P_DELTA = Param("delta", real(), r"\delta", "conserved eta_w a^2 - eta_a ||w||^2")



def _check_target(beta_star):
    # (in the evaluator: derive.Constraint cannot yet report a violation by a whole vector parameter)
    if not np.any(np.asarray(beta_star) != 0):
        raise ValueError("beta_star: must not be zero (s = ||beta*|| > 0; with beta* = 0 the flow has no target)")


def _conj_sum(delta, K, s):
    """(delta + K, K - delta), each by its conjugate 4 s^2/(K -+ delta) where it would cancel."""
    dpk = np.where(delta >= 0, delta + K, 4 * s**2 / np.where(delta >= 0, 1.0, K - delta))
    kmd = np.where(delta <= 0, K - delta, 4 * s**2 / np.where(delta <= 0, 1.0, K + delta))
    return dpk, kmd


def solution(a0, w0, beta_star, eta_w, eta_a, t):
    """(a, w, beta) at times t (any shape): a (t.shape), w and beta (t.shape + (d,))."""
    t = np.asarray(t, dtype=float)
    a0, eta_w, eta_a = (float(np.asarray(x)) for x in (a0, eta_w, eta_a))
    w0, bs = np.asarray(w0, dtype=float), np.asarray(beta_star, dtype=float)
    eta = np.sqrt(eta_a * eta_w)
    A0, W0, T = a0 / np.sqrt(eta_a), w0 / np.sqrt(eta_w), eta**2 * t
    snorm = np.linalg.norm(bs)
    bhat = bs / snorm
    s = snorm / eta
    p0 = s * float(W0 @ bhat)
    Wperp0 = W0 - float(W0 @ bhat) * bhat
    delta = A0**2 - float(W0 @ W0)
    K = np.hypot(delta, 2 * s)
    dpk, kmd = _conj_sum(delta, K, s)
    q = p0 + A0 * dpk / 2
    g = p0 - A0 * kmd / 2
    e = np.exp(-K * T)
    ebar = np.exp(-dpk * T)
    term_a = -np.expm1(-dpk * T) / dpk
    if delta == 0:
        term_b = e * T
    elif delta > 0:
        term_b = e * (-np.expm1(-delta * T)) / delta
    else:
        small = -delta * T <= 1.0
        term_b = np.where(small, e * (-np.expm1(-delta * np.where(small, T, 0.0))) / delta, (ebar - e) / -delta)
    term_c = ebar * (-np.expm1(-kmd * T)) / kmd
    M = K**2 * ebar + 2 * (q**2 * term_a - 2 * g * q * term_b + g**2 * term_c)
    rM = np.sqrt(M)
    A = (q - g * e) / rM
    W_par = (kmd * q + dpk * g * e) / (2 * s * rM)
    W_perp_scale = K * np.sqrt(ebar) / rM
    W = W_par[..., None] * bhat + W_perp_scale[..., None] * Wperp0
    a = np.sqrt(eta_a) * A
    w = np.sqrt(eta_w) * W
    return a, w, a[..., None] * w


def _traj_eval(a0, w0, beta_star, eta_w, eta_a, t):
    _check_target(beta_star)
    a, w, beta = solution(a0, w0, beta_star, eta_w, eta_a, t)
    return {"a": a, "w": w, "beta": beta}


def _traj_mp(a0, w0, beta_star, eta_w, eta_a, t):
    """Taylor-series integration of the flow (mpmath.odefun) at the working precision: independent of the form."""
    d = len(w0)

    def F(_, y):
        a, w = y[0], y[1:]
        g = [a * w[i] - beta_star[i] for i in range(d)]
        return [-eta_a * mpmath.fsum(w[i] * g[i] for i in range(d))] + [-eta_w * a * g[i] for i in range(d)]

    sol = mpmath.odefun(F, 0, [a0] + list(w0))
    y = sol(t)
    a, w = y[0], list(y[1:])
    return {"a": a, "w": w, "beta": [a * x for x in w]}


# display
_t, _d, _K, _q, _g, _e, _eb, _M = sp.symbols(r"t \delta K q g e \bar{e} M", real=True)
_s = sp.Symbol("s", positive=True)
_a0, _p0 = sp.Symbol("a_0", real=True), sp.Symbol("p_0", real=True)
_DISPLAY_DEFS = (
    (_M, _K**2 * _eb + 2 * (_q**2 * (1 - _eb) / (_d + _K) - 2 * _g * _q * (_e - _eb) / _d
                           + _g**2 * (_eb - _e**2) / (_K - _d))),
    (_q, _p0 + _a0 * (_d + _K) / 2),
    (_g, _p0 - _a0 * (_K - _d) / 2),
    (_e, sp.exp(-_K * _t)),
    (_eb, sp.exp(-(_d + _K) * _t)),
    (_K, sp.sqrt(_d**2 + 4 * _s**2)),
    (_p0, sp.Symbol(r"w_{0} \cdot \beta^{*}")),
    (_d, sp.Symbol(r"a_{0}^{2} - \|w_{0}\|^{2}")),
)
_wpar, _wperp = sp.Symbol(r"w_{\parallel}(t)"), sp.Symbol(r"w_{\perp}(t)")

trajectory = register(Result(
    "single_neuron.trajectory",
    title="Exact a(t), w(t), beta(t) of the single neuron with layer-wise rates",
    params=[P_A0, P_W0, P_BS, P_EW, P_EA, P_T],
    outputs=[Output("a", (_q - _g * _e) / sp.sqrt(_M), "a(t)"),
             Output("w", ((_K - _d) * _q + (_K + _d) * _g * _e) / (2 * _s * sp.sqrt(_M)) * sp.Symbol(r"\hat\beta^{*}")
                    + sp.Symbol(r"w_{\perp}(0)") * _K * sp.sqrt(_eb) / sp.sqrt(_M), "w(t)"),
             Output("beta", sp.Symbol("a(t)") * sp.Symbol("w(t)"), r"\beta(t)")],
    definitions=_DISPLAY_DEFS,
    evaluator=_traj_eval, mp=_traj_mp,
    conditions=CONDITIONS + (
        "display at unit rates (eta_w = eta_a = 1), s = ||beta*||; general rates by a = sqrt(eta_a) A, "
        "w = sqrt(eta_w) W with (A, W) the unit-rate solution at time eta_a eta_w t, target beta*/sqrt(eta_a eta_w)",
        "outputs: a with shape t.shape, w and beta with shape t.shape + (d,)",
    ),
    source=("Kunin et al. 2024 (model, conserved delta, nu-Riccati: their notebook); branch-free closed form: "
            "research note §2.4 (DERIVED+CHECKED C9); layer-wise rates by rescaling (lazyrich derivation, "
            "checked against simulation)"),
    references=REFS,
))


def kernel_matrix(beta, delta, eta_w, eta_a):
    """M(beta) = c1 I + c2 beta beta^T/n^2 with c1 = (r + delta)/2, c2 = (r - delta)/2, r = sqrt(delta^2 + 4 eta n^2)."""
    beta = np.asarray(beta, dtype=float)
    n2 = np.sum(beta**2, axis=-1)
    eta = eta_a * eta_w
    r = np.sqrt(delta**2 + 4 * eta * n2)
    c1 = np.where(delta >= 0, (r + delta) / 2, 2 * eta * n2 / np.where(delta >= 0, 1.0, r - delta))
    c2 = np.where(delta <= 0, (r - delta) / 2, 2 * eta * n2 / np.where(delta <= 0, 1.0, r + delta))
    bb = np.einsum("...i,...j->...ij", beta, beta) / np.where(n2 > 0, n2, 1.0)[..., None, None]
    d = beta.shape[-1]
    return c1[..., None, None] * np.eye(d) + c2[..., None, None] * bb


def _kernel_eval(beta, delta, eta_w, eta_a):
    if not np.any(beta != 0) and np.any(delta < 0):
        raise ValueError("beta: beta = 0 with delta < 0: the kernel's rank-one part lies along w, whose direction "
                         "beta does not determine")
    return kernel_matrix(beta, np.asarray(delta, dtype=float), eta_w, eta_a)


def _kernel_mp(beta, delta, eta_w, eta_a):
    n2 = mpmath.fsum(b**2 for b in beta)
    r = mpmath.sqrt(delta**2 + 4 * eta_a * eta_w * n2)
    d = len(beta)
    return mpmath.matrix([[(r + delta) / 2 * (i == j) + (r - delta) / 2 * beta[i] * beta[j] / n2 for j in range(d)]
                          for i in range(d)])


_n = sp.Symbol("n", positive=True)
_bb = sp.Symbol(r"\hat\beta\hat\beta^{\top}")
kernel = register(Result(
    "single_neuron.kernel",
    title="Function-space kernel M(beta) of the single neuron: dbeta/dt = -M(beta)(beta - beta*)",
    params=[P_BETA, P_DELTA, P_EW, P_EA],
    expr=(sp.sqrt(P_DELTA.symbol**2 + 4 * P_EA.symbol * P_EW.symbol * _n**2) + P_DELTA.symbol) / 2 * sp.Symbol("I")
    + (sp.sqrt(P_DELTA.symbol**2 + 4 * P_EA.symbol * P_EW.symbol * _n**2) - P_DELTA.symbol) / 2 * _bb,
    output="M", output_latex=r"M(\beta)",
    definitions=((_n, sp.Symbol(r"\|\beta\|")),),
    evaluator=_kernel_eval, mp=_kernel_mp,
    conditions=CONDITIONS[:3] + ("M = eta_w a^2 I + eta_a w w^T written in beta and delta; at beta = 0 "
                                 "needs delta >= 0",),
    source="research note §2.3 (DERIVED), from dbeta/dt = a dw/dt + w da/dt; setting of Kunin et al. 2024",
    references=REFS,
))


def _kd_eval(a0, w0, beta_star, eta_w, eta_a, t):
    _check_target(beta_star)
    if not np.any(a0 * w0 != 0) and eta_w * a0**2 - eta_a * float(np.sum(w0**2)) < 0:
        raise ValueError("a0: a0 w0 = 0 with delta < 0: M(beta_0) is 0 along every direction beta_0 "
                         "determines, so S(0, t) is undefined")
    _, _, beta = solution(a0, w0, beta_star, eta_w, eta_a, t)
    delta = eta_w * a0**2 - eta_a * float(np.sum(w0**2))
    M0 = kernel_matrix(np.asarray(a0 * w0), np.asarray(delta), eta_w, eta_a)
    Mt = kernel_matrix(beta, np.asarray(delta), eta_w, eta_a)
    inner = np.sum(M0 * Mt, axis=(-2, -1))
    return 1.0 - inner / np.sqrt(np.sum(M0 * M0) * np.sum(Mt * Mt, axis=(-2, -1)))


def _kd_mp(a0, w0, beta_star, eta_w, eta_a, t):
    beta = _traj_mp(a0, w0, beta_star, eta_w, eta_a, t)["beta"]
    delta = eta_w * a0**2 - eta_a * mpmath.fsum(x**2 for x in w0)
    M0 = _kernel_mp([a0 * x for x in w0], delta, eta_w, eta_a)
    Mt = _kernel_mp(beta, delta, eta_w, eta_a)
    d = len(w0)

    def ip(A, B):
        return mpmath.fsum(A[i, j] * B[i, j] for i in range(d) for j in range(d))
    return 1 - ip(M0, Mt) / mpmath.sqrt(ip(M0, M0) * ip(Mt, Mt))


kernel_distance = register(Result(
    "single_neuron.kernel_distance",
    title="Distance S(0, t) of the single neuron's kernel M(beta(t)) from its start",
    params=[P_A0, P_W0, P_BS, P_EW, P_EA, P_T],
    expr=1 - sp.Symbol(r"\langle M_{0}, M_{t}\rangle_{F}") / sp.Symbol(r"\|M_{0}\|_{F} \|M_{t}\|_{F}"),
    definitions=((sp.Symbol("M_{0}"), sp.Symbol(r"M(\beta(0))")), (sp.Symbol("M_{t}"), sp.Symbol(r"M(\beta(t))"))),
    output="S", output_latex="S(0, t)",
    evaluator=_kd_eval, mp=_kd_mp,
    conditions=CONDITIONS + ("beta(t) from single_neuron.trajectory, M from single_neuron.kernel",
                             "a0 w0 = 0 with delta < 0 leaves M(beta_0) undefined"),
    source="Kunin et al. 2024 (kernel distance as in their notebook, with M(beta(t)) at the current a(t))",
    references=REFS,
))

__all__ = ["kernel", "kernel_distance", "solution", "trajectory"]
