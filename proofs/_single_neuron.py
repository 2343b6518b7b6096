"""Claims about ``single_neuron.*`` (Kunin et al. 2024 single neuron with layer-wise rates).

Bounds: the integrator's tolerance for gradient flow (rtol 1e-11 -> 1e-9); a small multiple of the
unit roundoff against the 30-digit Taylor-series twin (mpmath.odefun); the slope of log error
against log eta for gradient descent; measured orders and monotonicity for the regimes.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

import derive
from derive import _single_neuron as sn
from numerics.simulate._single_neuron import neuron_gradient_descent, neuron_gradient_flow

from ._claim import Evidence, bounded, claim

TRAJ, KERNEL, KD = "single_neuron.trajectory", "single_neuron.kernel", "single_neuron.kernel_distance"
BETA_STAR = np.array([0.0, 1.0])


def start(beta0, delta, eta_w=1.0, eta_a=1.0, sign=1.0):
    """(a0, w0) with a0 w0 = beta0, eta_w a0^2 - eta_a |w0|^2 = delta."""
    beta0 = np.asarray(beta0, dtype=float)
    n = np.linalg.norm(beta0)
    a0 = sign * math.sqrt((delta + math.sqrt(delta**2 + 4 * eta_w * eta_a * n**2)) / (2 * eta_w))
    return a0, beta0 / a0


# (beta0, delta, eta_w, eta_a): the notebook's App. Fig. 8 starts, both signs of delta, delta = 0, rates != 1
CASES = [((x, y), d, ew, ea) for (x, y) in ((0.0, -1.0), (0.5, -0.5), (0.5, 0.5), (-1.0, 0.0))
         for d in (-2.0, -0.2, 0.0, 0.2, 2.0) for ew, ea in ((1.0, 1.0), (2.0, 0.5))]


@functools.cache
def _flows():
    t = np.array([0.0, 0.4, 2.0, 8.0])
    out = []
    for b0, d, ew, ea in CASES:
        a0, w0 = start(b0, d, ew, ea)
        out.append((a0, w0, ew, ea, t, neuron_gradient_flow(a0, w0, BETA_STAR, t, eta_w=ew, eta_a=ea,
                                                             rtol=1e-11, atol=1e-13)))
    return out


@claim("single_neuron.trajectory.gradient_flow",
       "a(t), w(t), beta(t) agree with the gradient flow (DOP853 rtol 1e-11) to <= 1e-9, for beta0 in the "
       "notebook's starts, delta in {-2, -0.2, 0, 0.2, 2}, rates (1, 1) and (2, 0.5), including a crossing zero",
       method="simulation", results=[TRAJ])
def _vs_flow():
    worst, crossings = 0.0, 0
    for a0, w0, ew, ea, t, tr in _flows():
        got = derive.get(TRAJ).evaluate(a0=a0, w0=w0, beta_star=BETA_STAR, eta_w=ew, eta_a=ea, t=t)
        worst = max(worst, np.max(np.abs(got["a"] - tr.a)), np.max(np.abs(got["w"] - tr.w)))
        crossings += int(np.any(np.sign(tr.a) != np.sign(a0)))
    return bounded(worst, 1e-9, f"max abs deviation over {len(CASES)} starts; {crossings} with a crossing zero")


@claim("single_neuron.trajectory.conserved",
       "delta = eta_w a^2 - eta_a ||w||^2 of the closed form is constant in t (relative drift <= 1e-12)",
       method="high-precision", results=[TRAJ])
def _conserved():
    worst = 0.0
    for b0, d, ew, ea in CASES:
        a0, w0 = start(b0, d, ew, ea)
        got = derive.get(TRAJ).evaluate(a0=a0, w0=w0, beta_star=BETA_STAR, eta_w=ew, eta_a=ea,
                                        t=np.linspace(0.0, 20.0, 41))
        dl = ew * got["a"] ** 2 - ea * np.sum(got["w"] ** 2, axis=-1)
        worst = max(worst, np.max(np.abs(dl - d)) / max(1.0, abs(d)))
    return bounded(worst, 1e-12, "max |delta(t) - delta(0)| / max(1, |delta|)")


@claim("single_neuron.trajectory.taylor_twin",
       "the closed form equals the 30-digit Taylor-series integration of the flow (mpmath.odefun)",
       method="high-precision", results=[TRAJ, KD])
def _twin():
    worst = 0.0
    for k, (b0, d, ew, ea) in enumerate((((0.5, -0.5), -2.0, 2.0, 0.5), ((-1.0, 0.0), 1e-9, 1.0, 1.0))):
        a0, w0 = start(b0, d, ew, ea)
        kw = dict(a0=a0, w0=w0, beta_star=BETA_STAR, eta_w=ew, eta_a=ea, t=1.0)
        got, ref = derive.get(TRAJ).evaluate(**kw), derive.get(TRAJ).mp(dps=30, **kw)
        worst = max(worst, abs(got["a"] - float(ref["a"])), max(abs(g - float(r)) for g, r in zip(got["w"], ref["w"])))
        if k == 0:  # (the twin integrates again: once is enough)
            worst = max(worst, abs(float(derive.get(KD).evaluate(**kw)) - float(derive.get(KD).mp(dps=30, **kw))))
    return bounded(worst, 1e-13, "max abs difference")


@claim("single_neuron.trajectory.gradient_descent",
       "gradient descent approaches the closed form at first order in eta (slope in [0.9, 1.1])",
       method="simulation", results=[TRAJ])
def _gd():
    a0, w0 = start((0.5, -0.5), -1.0, 2.0, 0.5)
    ref = derive.get(TRAJ).evaluate(a0=a0, w0=w0, beta_star=BETA_STAR, eta_w=2.0, eta_a=0.5, t=3.0)["beta"]
    etas = np.array([0.02, 0.01, 0.005])
    errs = [np.max(np.abs(neuron_gradient_descent(a0, w0, BETA_STAR, e, int(round(3.0 / e)), eta_w=2.0,
                                                  eta_a=0.5).beta[-1] - ref)) for e in etas]
    slope = float(np.polyfit(np.log(etas), np.log(errs), 1)[0])
    return Evidence(bool(0.9 <= slope <= 1.1), abs(slope - 1), 0.1, f"slope {slope:.3f}")


@claim("single_neuron.kernel.identity",
       "M(beta) = eta_w a^2 I + eta_a w w^T: with q = sqrt(delta^2 + 4 eta_a eta_w n^2), (q + delta)/2 = eta_w a^2 and "
       "(q - delta)/2 = eta_a ||w||^2 when delta = eta_w a^2 - eta_a ||w||^2 and n = |a| ||w||",
       method="symbolic", results=[KERNEL])
def _kernel_identity():
    a, w, ew, ea = sp.symbols("a w eta_w eta_a", positive=True)
    delta = ew * a**2 - ea * w**2
    q = sp.sqrt(delta**2 + 4 * ea * ew * (a * w) ** 2)
    q_exact = ew * a**2 + ea * w**2  # q is this sum: (x - y)^2 + 4 x y = (x + y)^2
    ok = sp.simplify(q**2 - q_exact**2) == 0 and sp.simplify((q_exact + delta) / 2 - ew * a**2) == 0 \
        and sp.simplify((q_exact - delta) / 2 - ea * w**2) == 0
    M = sn.kernel_matrix(np.array([0.3, -0.4]) * 0.8, np.asarray(1.5 * 0.64 - 0.7 * 0.25), 1.5, 0.7)
    direct = 1.5 * 0.64 * np.eye(2) + 0.7 * np.outer([0.3, -0.4], [0.3, -0.4])
    err = float(np.max(np.abs(M - direct)))
    return Evidence(bool(ok and err <= 1e-15), err, 1e-15, "symbolic coefficients; numeric check at one point")


@claim("single_neuron.kernel_distance.regimes",
       "lazy for delta -> +inf: S(0, inf) -> 0 and beta(t) follows the straight line beta* + (beta0 - beta*) e^{-delta t} "
       "(deviation decaying at least like 1/delta); S(0, inf) is largest near delta <= 0 (rich) on the Fig. 2 task",
       method="high-precision", results=[KD, KERNEL, TRAJ])
def _regimes():
    b0 = np.array([-1.0, 0.0])
    S = {}
    for d in (-10.0, -2.0, 0.0, 2.0, 10.0, 100.0):
        a0, w0 = start(b0, d)
        S[d] = float(derive.get(KD).evaluate(a0=a0, w0=w0, beta_star=BETA_STAR, eta_w=1.0, eta_a=1.0, t=200.0))
    errs, ds = [], np.array([1e2, 1e3, 1e4])
    for d in ds:
        a0, w0 = start(b0, d)
        t = np.linspace(0.0, 10.0 / d, 101)
        beta = derive.get(TRAJ).evaluate(a0=a0, w0=w0, beta_star=BETA_STAR, eta_w=1.0, eta_a=1.0, t=t)["beta"]
        line = BETA_STAR + (b0 - BETA_STAR) * np.exp(-d * t)[:, None]
        errs.append(np.max(np.abs(beta - line)))
    order = -float(np.polyfit(np.log(ds), np.log(errs), 1)[0])
    ok = order >= 1.0 and S[100.0] < S[10.0] < S[2.0] < S[0.0] and S[100.0] < 1e-3
    return Evidence(ok, 1.0 / order, 1.0, f"order of the lazy deviation {order:.2f} (measured = 1/order); "
                    f"S(0, inf) = {S}")
