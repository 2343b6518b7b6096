"""Claims about ``mean_field.*``: the reduced flow's derivation, its agreement with the full d-dimensional
particle flow and with finite-d SGD, and its numerics.

Bounds follow from the method: finite differences (truncation O(h^2) plus rounding); mpmath at 30 digits
for the Gaussian identities; RK4 rounding for identities between two integrations of the same ODE; the
midpoint rule's J^-2 error; z = 4 standard errors of the median over seeds for SGD.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

import derive
from numerics import _mean_field as mf
from numerics.simulate._staircase_sgd import staircase_sgd

from ._claim import Evidence, bounded, claim

NAME = "mean_field.staircase"


@claim("mean_field.staircase.stein_reduction",
       "d/dS E_g sigma(u + S g) = E_g[sigma'(u + S g) g] = S E_g[sigma''(u + S g)] (the reduced dS/dt and the "
       "Stein step of the reduction), and 48-node Gauss-Hermite reproduces E_g at S <= 2",
       method="high-precision", results=[NAME])
def _stein():
    worst, worst_q = 0.0, 0.0
    g, wq = mf.gauss_hermite(48)
    with mpmath.workdps(30):
        def sig(z):
            return 1 / (1 + mpmath.exp(-(z - mpmath.mpf(1) / 2)))

        def ex(fun):
            return mpmath.quad(lambda x: mpmath.npdf(x) * fun(x), [-mpmath.inf, 0, mpmath.inf])

        for u, S in ((0.3, 1.0), (0.8, 2.0)):
            u, S = mpmath.mpf(u), mpmath.mpf(S)
            dS = mpmath.diff(lambda s, u=u: ex(lambda x: sig(u + s * x)), S)
            first = ex(lambda x, u=u, S=S: mpmath.diff(sig, u + S * x) * x)
            second = S * ex(lambda x, u=u, S=S: mpmath.diff(sig, u + S * x, 2))
            worst = max(worst, float(abs(dS - first)), float(abs(first - second)))
            q = np.sum(wq / (1 + np.exp(-(float(u) + float(S) * g - 0.5))))
            worst_q = max(worst_q, abs(q - float(ex(lambda x, u=u, S=S: sig(u + S * x)))))
    ok = worst <= 1e-25 and worst_q <= 1e-8
    return Evidence(ok, max(worst, worst_q), 1e-8, f"identities to {worst:.1e} (bound 1e-25); quadrature {worst_q:.1e}")


@claim("mean_field.staircase.gradient_flow",
       "the reduced drift is -J times the gradient of the reduced risk E(h - f_rho)^2/2 in (a, W, S)",
       method="high-precision", results=[NAME])
def _gradient_flow():
    rng = np.random.default_rng(7)
    J, h = 4, 1e-5
    a, W, S = rng.uniform(-1, 1, J), rng.normal(0, 0.7, (J, 3)), rng.uniform(0.3, 1.5, J)
    da, dW, dS = mf.reduced_drift(a, W, S)
    x0 = np.concatenate([a, W.ravel(), S])
    drift = np.concatenate([da, dW.ravel(), dS])

    def risk(x):
        return mf.reduced_risk(x[:J], x[J:4 * J].reshape(J, 3), x[4 * J:])

    worst = 0.0
    for i in range(x0.size):
        e = np.zeros_like(x0)
        e[i] = h
        worst = max(worst, abs(-J * (risk(x0 + e) - risk(x0 - e)) / (2 * h) - drift[i]))
    return bounded(worst, 1e-7, "max over the 5J coordinates")


@claim("mean_field.staircase.exact_without_off_support",
       "with no off-support coordinates (d = 3) the full particle flow is the reduced flow with S = 0",
       method="simulation", results=[NAME])
def _exact_d3():
    rng = np.random.default_rng(3)
    a, W = rng.uniform(-1, 1, 6), rng.normal(0, 0.7, (6, 3))
    full = mf.full_particle_flow(a, W, 20.0, dt=0.1, every=50)
    red = mf.solve_staircase(20.0, dt=0.1, every=50, a0=a, W0=W, S0=np.zeros(6))
    return bounded(np.abs(full["fourier"] - red["fourier"]).max(), 1e-12)


def _gap(d, seed, J=16, T=30.0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, J)
    w = np.zeros((J, d))
    w[:, 3:] = rng.standard_normal((J, d - 3)) / np.sqrt(d - 3)
    full = mf.full_particle_flow(a, w, T, dt=0.1, every=30)
    red = mf.solve_staircase(T, dt=0.1, every=30, a0=a, W0=w[:, :3], S0=np.linalg.norm(w[:, 3:], axis=1))
    return np.abs(full["fourier"] - red["fourier"]).max()


@claim("mean_field.staircase.reduction_vs_full_flow",
       "the reduced flow approaches the full d-dimensional particle flow (exact hypercube expectations) as d "
       "grows: the coefficient gap (t <= 30, J = 16) falls by >= 1.5x from d = 4 to d = 8 (1/d predicts 2)",
       method="simulation", results=[NAME])
def _reduction():
    g4 = np.mean([_gap(4, s) for s in range(3)])
    g8 = np.mean([_gap(8, s) for s in range(3)])
    return bounded(g8 / g4, 1 / 1.5, f"mean gap {g4:.2e} at d = 4, {g8:.2e} at d = 8")


@claim("mean_field.staircase.risk_decreases",
       "the mean-field risk decreases along the flow (a gradient flow) and the coefficients plateau in the "
       "order x1, then x1x2x3, then x1x2 (shifted sigmoid: sigma''' dominates sigma'' at the origin)",
       method="simulation", results=[NAME])
def _monotone():
    t = np.arange(0.0, 161.0, 4.0)
    r = derive.get(NAME).evaluate(t=t, a_scale=1.0, s0=1.0)

    def first(c, level):
        return t[np.argmax(c >= level)] if (c >= level).any() else np.inf

    order = first(r["c1"], 0.5) < first(r["c123"], 0.5) < first(r["c12"], 0.3) < np.inf
    rise = float(np.diff(r["risk"]).max())
    return Evidence(bool(order and rise < 0), rise, 0.0,
                    f"half-times c1 {first(r['c1'], 0.5)}, c123 {first(r['c123'], 0.5)}, c12(0.3) "
                    f"{first(r['c12'], 0.3)}; max risk increment {rise:.2e}")


@claim("mean_field.staircase.particle_convergence",
       "64 midpoint particles give the mean-field coefficients within 1e-4 of 256 (J^-2 convergence)",
       method="high-precision", results=[NAME])
def _particles():
    t = np.array([15.0, 30.0])
    coarse = derive.get(NAME).evaluate(t=t, a_scale=1.0, s0=1.0)
    fine = mf.staircase_mean_field(t, J=256, dt=0.1)
    worst = max(float(np.abs(coarse[k] - fine[k]).max()) for k in ("c1", "c12", "c123", "risk"))
    return bounded(worst, 1e-4)


@claim("mean_field.staircase.vs_sgd",
       "online SGD at d = 128, width 128 (batch 128, lr = 1, t = lr steps/k) follows the mean-field "
       "coefficient of x1: median over 4 seeds within 4 standard errors of the median at t = 3",
       method="simulation", results=[NAME])
def _vs_sgd():
    seeds, d = 4, 128
    F = np.array([staircase_sgd(d=d, k=128, batch=128, lr=1.0, T=3.0, n_records=1, n_eval=32, seed=s)
                  ["fourier"][-1, 0] for s in range(seeds)])
    mfl = float(derive.get(NAME).evaluate(t=3.0, a_scale=1.0, s0=math.sqrt((d - 3) / d))["c1"])
    se = 1.2533 * F.std(ddof=1) / math.sqrt(seeds)
    return bounded(abs(np.median(F) - mfl), 4 * se + 1e-4, f"SGD median {np.median(F):.4f}, mean field {mfl:.4f}")
