"""Claims about ``single_index.*``: antiderivatives, exact solutions, limits, integrators and SGD.

Bounds: exact zero for SymPy; ``64 u`` relative for kernels against 30-digit mpmath (every
compiled difference is a sum of non-negative terms); the integrators' tolerance for ODE checks;
for online SGD, z standard errors of the median over runs after removing the O(eta) bias by
Richardson extrapolation (medians at eta and eta/2; the bias is linear in eta, as the test suite
checks by its slope).
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

import derive
from derive import _single_index as si

from ._claim import Evidence, bounded, claim

UNIT = 2.0**-52
Z = 4.0


@claim("single_index.time_to_overlap.antiderivative",
       "dF_k/dm = 1/(m^(k-1) (1 - m^2)) for k = 1..12 (SymPy, from the generated F_k)",
       method="symbolic", results=["single_index.time_to_overlap", "single_index.escape_time"])
def _antiderivative():
    m = sp.Symbol("m", positive=True)
    bad = [k for k in range(1, 13)
           if sp.simplify(sp.diff(si.F(k, m).doit(), m) - 1 / (m ** (k - 1) * (1 - m**2))) != 0]
    return Evidence(not bad, float(len(bad)), 0.0, f"fails for k = {bad}" if bad else "k = 1..12")


@claim("single_index.overlap.ode", "m(t) for k = 1, 2 solves dm/dt = a m^(k-1)(1 - m^2), m(0) = m0, and inverts "
       "time_to_overlap", method="symbolic", results=["single_index.overlap", "single_index.time_to_overlap"])
def _overlap_ode():
    a, t = sp.Symbol("a", real=True), sp.Symbol("t", nonnegative=True)
    m0 = sp.Symbol("m0", positive=True)
    bad = []
    for k in (1, 2):
        mt = si.OVERLAP.args[k][0].subs({si.a: a, si.m0: m0, si.t: t})  # the k-th branch (after t = 0)
        res = sp.simplify(sp.diff(mt, t) - a * mt ** (k - 1) * (1 - mt**2))
        if res != 0 or sp.simplify(mt.subs(t, 0) - m0) != 0:
            bad.append(k)
        # a t = F_k(m(t)) - F_k(m0)
        inv = sp.simplify(sp.expand_log(si.F(k, mt).doit() - si.F(k, m0).doit(), force=True) - a * t)
        if inv != 0 and abs(float(inv.subs({a: 0.7, m0: 0.2, t: 1.3}))) > 1e-12:
            bad.append(-k)
    return Evidence(not bad, float(len(bad)), 0.0, f"fails {bad}" if bad else "k = 1, 2")


POINTS = [(k, a, m0, m) for k in (1, 2, 3, 4, 5, 8, 9) for a in (0.3, 2.0)
          for m0, m in ((1e-3, 0.5), (0.2, 0.2), (0.2, 0.2 + 1e-9), (0.01, 0.999), (0.5, 0.9))]


@claim("single_index.time_to_overlap.precision",
       "the compiled time_to_overlap and escape_time match 30-digit mpmath within 64 u relative (no cancellation, "
       "m close to m0 and m0 small included)",
       method="high-precision", results=["single_index.time_to_overlap", "single_index.escape_time",
                                         "single_index.predicted_steps"])
def _time_precision():
    res = derive.get("single_index.time_to_overlap")
    worst = 0.0
    for k, a, m0, m in POINTS:
        v = float(res.evaluate(k=k, a=a, m0=m0, m=m))
        ref = float(res.mp(dps=30, k=k, a=a, m0=m0, m=m))
        worst = max(worst, abs(v - ref) / (64 * UNIT * abs(ref)) if ref else abs(v))
    esc, steps = derive.get("single_index.escape_time"), derive.get("single_index.predicted_steps")
    for k in (1, 2, 3, 6):
        for d in (5.0, 512.0, 1e6):
            v = esc.evaluate(k=k, a=1.5, d=d)
            ref = esc.mp(dps=30, k=k, a=1.5, d=d)
            sv = steps.evaluate(k=k, a=1.5, d=d, c_eta=0.1)
            sref = steps.mp(dps=30, k=k, a=1.5, d=d, c_eta=0.1)
            for x, y in ((v["t_esc"], ref["t_esc"]), (v["t_leading"], ref["t_leading"]),
                         (sv["steps"], sref["steps"]), (sv["eta"], sref["eta"])):
                worst = max(worst, abs(float(x) - float(y)) / (64 * UNIT * abs(float(y))))
    return bounded(worst, 1.0, f"worst error / (64 u) {worst:.3g}")


@claim("single_index.time_to_overlap.quadrature",
       "the predicted time equals the quadrature of dt/dm = 1/(a m^(k-1)(1 - m^2)) from m0 to m (scipy quad, "
       "within its error estimate plus 16 u), k = 1..8", method="high-precision",
       results=["single_index.time_to_overlap"])
def _time_quad():
    from scipy.integrate import quad

    res = derive.get("single_index.time_to_overlap")
    worst = 0.0
    for k in range(1, 9):
        for a, m0, m in ((1.0, 0.05, 0.8), (0.4, 0.3, 0.95), (2.0, 0.01, 0.011)):
            T = float(res.evaluate(k=k, a=a, m0=m0, m=m))
            q, err = quad(lambda x: 1.0 / (a * x ** (k - 1) * (1 - x * x)), m0, m, epsabs=0.0, epsrel=1e-13,
                          limit=200)
            worst = max(worst, abs(T - q) / (err + 16 * UNIT * abs(q)))
    return bounded(worst, 1.0, f"|t - quad| / (quad error + 16 u): {worst:.3g}")


@claim("single_index.escape_time.leading",
       "t_esc / t_leading -> 1 as d -> inf for k = 1..5, so predicted steps ~ d, d log d, d^(k-1) (SymPy limits)",
       method="symbolic", results=["single_index.escape_time", "single_index.predicted_steps"])
def _leading():
    d = sp.Symbol("d", positive=True)
    a, c = sp.Symbol("a", positive=True), sp.Symbol("c", positive=True)
    bad = []
    for k in range(1, 6):
        m0 = 1 / sp.sqrt(d)
        tesc = (si.F(k, sp.Rational(1, 2)).doit() - si.F(k, m0).doit()) / a
        lead = si.ESC_LEADING.subs({si.kk: k, si.ap: a, si.dd: d})
        steps = tesc / (c * d ** (-sp.Rational(max(k, 2), 2)))
        scale = {1: d, 2: d * sp.log(d)}.get(k, d ** (k - 1))
        const = {1: sp.atanh(sp.Rational(1, 2)) / (a * c), 2: 1 / (2 * a * c)}.get(k, 1 / ((k - 2) * a * c))
        ok = sp.simplify(sp.limit(tesc / lead, d, sp.oo) - 1) == 0
        ok = ok and sp.simplify(sp.limit(steps / scale, d, sp.oo) - const) == 0
        if not ok:
            bad.append(k)
    return Evidence(not bad, float(len(bad)), 0.0, f"fails for k = {bad}" if bad else "k = 1..5")


@claim("single_index.relu_flow.precision",
       "the compiled ReLU flow matches an independent DOP853 integration (rtol 1e-13) and 20-digit mpmath Taylor "
       "integration within 1e-10", method="high-precision", results=["single_index.relu_flow"])
def _relu_precision():
    res = derive.get("single_index.relu_flow")
    worst = 0.0
    for th0, r0, u in ((np.pi / 2, 1.0, 1.0), (3.0, 0.2, 2.5), (0.3, 4.0, 0.5), (np.pi, 1.0, 1.0), (0.0, 0.5, 1.0)):
        ts = np.array([0.0, 0.7, 3.0, 20.0])
        got = res.evaluate(theta0=th0, r0=r0, u_norm=u, t=ts)
        rhs = lambda _, y: [u * (y[0] - np.pi) * np.sin(y[0]) / (np.pi * y[1]),
                            2 * u * (np.sin(y[0]) + (np.pi - y[0]) * np.cos(y[0])) / (2 * np.pi) - y[1]]
        sol = solve_ivp(rhs, (0, ts[-1]), [th0, r0], method="DOP853", rtol=1e-13, atol=1e-15, t_eval=ts)
        worst = max(worst, np.max(np.abs(got["theta"] - sol.y[0])), np.max(np.abs(got["r"] - sol.y[1])))
    with mpmath.workdps(20):
        ref = res.mp(dps=20, theta0=np.pi / 2, r0=1.0, u_norm=1.0, t=1.0)
    got = res.evaluate(theta0=np.pi / 2, r0=1.0, u_norm=1.0, t=1.0)
    worst = max(worst, abs(float(got["theta"]) - float(ref["theta"])), abs(float(got["r"]) - float(ref["r"])))
    return bounded(worst, 1e-10, f"max abs error {worst:.2g}")


def relu_sgd_medians(eta: float, *, times=(1.0, 2.0), runs: int = 100, seed: int = 5, d: int = 512):
    """Median (theta, r) over SGD runs (ReLU teacher/student, MSE without 1/2, batch 1, free update,
    w0 a random unit vector orthogonal to u) at ``times``, with the medians' standard errors."""
    from numerics.simulate._online_sgd import online_sgd

    every = int(round(min(times) / eta))
    steps = int(round(max(times) / eta))
    out = online_sgd(d=d, steps=steps, eta=eta, runs=runs, student="relu", loss="mse", update="free",
                     m0=0.0, every=every, seed=seed, method="reduced")
    idx = [int(round(t / eta)) // every for t in times]
    th = np.arccos(np.clip(out.m[:, idx], -1.0, 1.0))
    r = out.norm[:, idx]
    se = lambda x: 1.2533 * x.std(axis=0, ddof=1) / np.sqrt(runs)  # standard error of a median
    return np.median(th, axis=0), se(th), np.median(r, axis=0), se(r)


@claim("single_index.relu_flow.sgd",
       "online SGD of the ReLU single-index model at d = 512 (100 runs), Richardson-extrapolated to eta -> 0 from "
       "eta = 5e-5 and 2.5e-5, follows the ODE's theta and r at t = 1, 2 within 4 standard errors",
       method="simulation", results=["single_index.relu_flow"])
def _relu_sgd():
    times = (1.0, 2.0)
    th1, sth1, r1, sr1 = relu_sgd_medians(5e-5, times=times)
    th2, sth2, r2, sr2 = relu_sgd_medians(2.5e-5, times=times)
    ode = derive.get("single_index.relu_flow").evaluate(theta0=np.pi / 2, r0=1.0, u_norm=1.0, t=np.array(times))
    z_th = np.abs(2 * th2 - th1 - ode["theta"]) / np.hypot(2 * sth2, sth1)
    z_r = np.abs(2 * r2 - r1 - ode["r"]) / np.hypot(2 * sr2, sr1)
    worst = float(max(z_th.max(), z_r.max()))
    return bounded(worst, Z, f"|z| theta {np.round(z_th, 2)}, r {np.round(z_r, 2)}; raw bias at eta = 5e-5: "
                              f"theta {np.round(th1 - ode['theta'], 4)}")


@claim("single_index.drift.sgd",
       "spherical online SGD (sigma = sigma* = h_2, correlation loss, d = 1000, eta = 0.02/d, 64 runs) takes the time "
       "the drift ODE predicts (C(m) = 2 + 8 m^2) to go from m = 0.2 to 0.7, within 4 standard errors of the "
       "median plus (eta d)^2", method="simulation", results=["single_index.drift", "single_index.overlap"])
def _drift_sgd():
    from numerics.simulate._online_sgd import online_sgd

    d, eta, runs = 1000, 0.02 / 1000, 64
    c = np.array([0.0, 0.0, 1.0])
    drift = derive.get("single_index.drift")

    def rhs(_, y):
        return [float(drift.evaluate(c=c, c_star=c, m=min(y[0], 1.0), eta=eta, d=d, C=2 + 8 * y[0] ** 2))]

    hit = lambda _, y: y[0] - 0.7
    hit.terminal = True
    sol = solve_ivp(rhs, (0, 50), [0.2], events=hit, rtol=1e-10, atol=1e-12)
    t_ode = float(sol.t_events[0][0])
    out = online_sgd(d=d, steps=int(2 * t_ode / eta), eta=eta, runs=runs, student=c, loss="correlation",
                     update="spherical", m0=0.2, every=1, seed=17, method="reduced")
    t_sgd = out.hitting_steps(0.7, absolute=False) * eta
    med = float(np.median(t_sgd))
    se = 1.2533 * float(np.std(t_sgd, ddof=1)) / np.sqrt(runs)
    # and the noiseless k = 2 closed form (eta -> 0, a = 2 c_2^2 = 2) gives a lower-order check of overlap
    t0 = float(derive.get("single_index.time_to_overlap").evaluate(k=2, a=2.0, m0=0.2, m=0.7))
    bound = Z * se + (eta * d) ** 2 * t_ode
    return bounded(abs(med - t_ode), bound, f"SGD median {med:.4f} (se {se:.2g}), drift ODE {t_ode:.4f}, "
                                            f"noiseless closed form {t0:.4f}")
