"""Claims about ``lazy.*``: the ODE, 30-digit matrix functions, the linearised network, a wide ReLU network.

Bounds: exact zero for the SymPy ODE residual; for the closed form against 30-digit mpmath, the
backward error of a symmetric eigensolver, ``64 P u`` times the scale of what it multiplies; against
the linearised network stepped in parameter space, the rounding accumulated over ``n`` steps
(``16 n u`` relative); gradient descent -> flow as eta -> 0 at first order (slope of log error
against log eta within 0.1 of 1); the wide ReLU network approaches the closed form with the analytic
NTK as width^(-1/2) (slope within 4 standard errors, from seeds, of -1/2).
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp

import derive

from ._claim import Evidence, bounded, claim

UNIT = 2.0**-52


@claim("lazy.flow.ode", "in each eigenmode, f(t) = f0 + lambda psi(t) (y - f0) solves df/dt = -(lambda/P)(f - y) "
       "- ridge (f - f0) with f(0) = f0, and the n-step descent form solves its recursion",
       method="symbolic", results=["lazy.flow", "lazy.descent"])
def _ode():
    lam, P, rho, t, eta = sp.symbols("lambda P rho t eta", positive=True)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    f0, y = sp.symbols("f0 y", real=True)
    mu = lam / P + rho
    f = f0 + lam * (1 - sp.exp(-mu * t)) / (P * mu) * (y - f0)
    res = sp.simplify(sp.diff(f, t) - (-(lam / P) * (f - y) - rho * (f - f0)))
    g = lambda k: f0 + lam * (1 - (1 - eta * mu) ** k) / (P * mu) * (y - f0)
    rec = sp.simplify(g(n + 1) - (g(n) - eta * ((lam / P) * (g(n) - y) + rho * (g(n) - f0))))
    ok = res == 0 and rec == 0 and sp.simplify(f.subs(t, 0) - f0) == 0 and sp.simplify(g(0) - f0) == 0
    return Evidence(ok, 0.0 if ok else None, 0.0, f"flow residual {res}, descent residual {rec}")


@functools.cache
def ill_conditioned_problem():
    """A 7-point ReLU-NTK problem with two coincident and two nearly coincident inputs (K singular and cond ~1e12)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 3))
    X = np.vstack([X, X[0], X[1] + 1e-6 * rng.standard_normal(3)])
    Xt = rng.standard_normal((3, 3))
    Xall = np.vstack([X, Xt])
    n = np.linalg.norm(Xall, axis=1)
    rho = np.clip(Xall @ Xall.T / np.outer(n, n), -1.0, 1.0)
    G = np.asarray(derive.get("relu.ntk").evaluate(rho=rho, norm_x=n[:, None], norm_xp=n[None, :]))
    G = (G + G.T) / 2
    P = len(X)
    y = np.sin(X[:, :1] * 2.0) + X[:, 1:2]
    f0 = 0.1 * rng.standard_normal((P, 1))
    f0t = 0.1 * rng.standard_normal((3, 1))
    return G[:P, :P], G[P:, :P], y, f0, f0t


def mp_flow(K, Kt, y, f0, f0t, t, ridge, dps=30):
    """Flow predictions at ``dps`` digits by mpmath's symmetric eigensolver (the same formula, modes with
    lambda <= 1e-20 lambda_max dropped as in exact arithmetic's null space)."""
    with mpmath.workdps(dps):
        Km = mpmath.matrix(K.tolist())
        lam, V = mpmath.eigsy(Km)
        P = K.shape[0]
        r = mpmath.matrix((y - f0).tolist())
        b = V.T * r
        lmax = max(lam)
        tr = mpmath.matrix(f0.tolist())
        te = mpmath.matrix(f0t.tolist())
        A = mpmath.matrix(Kt.tolist()) * V
        for i in range(P):
            if lam[i] <= lmax * mpmath.mpf(10) ** -20:
                continue
            mu = lam[i] / P + ridge
            psi = 1 / (P * mu) if t == np.inf else -mpmath.expm1(-mu * t) / (P * mu)
            for c in range(r.cols):
                for a in range(P):
                    tr[a, c] += V[a, i] * lam[i] * psi * b[i, c]
                for a in range(Kt.shape[0]):
                    te[a, c] += A[a, i] * psi * b[i, c]
        return (np.array(tr.tolist(), dtype=float), np.array(te.tolist(), dtype=float))


@claim("lazy.flow.precision",
       "for a singular, ill-conditioned ReLU-NTK kernel (two coincident and two nearly coincident inputs), the flow at "
       "t = 0.1, 10, 1e4, inf (ridge 0 and 1e-3) matches 30-digit mpmath within 64 P u of the scale",
       method="high-precision", results=["lazy.flow"])
def _precision():
    K, Kt, y, f0, f0t = ill_conditioned_problem()
    res = derive.get("lazy.flow")
    P = K.shape[0]
    worst = 0.0
    scale = np.abs(y - f0).max() * (1 + np.abs(Kt).max() / np.abs(K).max()) + np.abs(f0).max()
    for ridge in (0.0, 1e-3):
        for t in (0.1, 10.0, 1e4, np.inf):
            got = res.evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=t, ridge=ridge)
            tr, te = mp_flow(K, Kt, y, f0, f0t, t, ridge)
            # the eigensolver's backward error, amplified by psi (<= 1/(P mu_min) over the modes kept)
            err = max(np.abs(got["train"] - tr).max(), np.abs(got["test"] - te).max())
            worst = max(worst, err / (64 * P * UNIT * scale * _amplification(K, t, ridge)))
    return bounded(worst, 1.0, f"worst error / bound {worst:.3g}")


def _amplification(K, t, ridge):
    """max over kept modes of lambda_max psi_i (psi from the flow), the gain applied to rounding in K_test V."""
    lam = np.linalg.eigvalsh(K)
    P = len(K)
    keep = lam > P * UNIT * lam.max()
    mu = lam[keep] / P + ridge
    psi = 1 / (P * mu) if t == np.inf else -np.expm1(-mu * t) / (P * mu)
    return max(1.0, float(lam.max() * psi.max()))


@functools.cache
def network_problem(P=24, Q=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, d))
    Xt = rng.standard_normal((Q, d))
    y = np.tanh(2 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    return X, Xt, y


@claim("lazy.descent.linearised",
       "gradient descent of the linearised two-layer ReLU network (width 512), stepped in parameter space, equals "
       "the closed form with its empirical NTK after 0..400 steps (ridge 0 and 0.05) within 16 n u",
       method="simulation", results=["lazy.descent"])
def _linearised():
    from numerics.simulate._ntk import ReluNetwork, train_linearised

    X, Xt, y = network_problem()
    net = ReluNetwork.random(X.shape[1], 512, seed=2)
    K, Kt = net.kernel(X, X), net.kernel(Xt, X)
    f0, f0t = net(X)[:, None], net(Xt)[:, None]
    eta = 1.5 * len(X) / np.linalg.eigvalsh(K).max()
    rec = np.array([0, 1, 10, 100, 400])
    worst = 0.0
    for ridge in (0.0, 0.05):
        eta_r = eta / (1 + ridge * eta)  # keeps eta mu_max < 2
        tr, te = train_linearised(net, X, y, Xt, eta=eta_r, record=rec, ridge=ridge)
        cf = derive.get("lazy.descent").evaluate(K=K, K_test=Kt, y=y[:, None], f0=f0, f0_test=f0t,
                                                 steps=rec, eta=eta_r, ridge=ridge)
        scale = np.abs(y).max() + np.abs(f0).max()
        err = np.maximum(np.abs(tr - cf["train"][..., 0]).max(axis=1), np.abs(te - cf["test"][..., 0]).max(axis=1))
        worst = max(worst, float(np.max(err / (16 * np.maximum(rec, 1) * UNIT * scale))))
    return bounded(worst, 1.0, f"worst error / (16 n u scale) {worst:.3g}")


@claim("lazy.descent.flow_limit",
       "gradient descent at rate eta after t/eta steps approaches the flow at time t at first order: the slope of "
       "log error against log eta is within 0.1 of 1", method="high-precision", results=["lazy.descent", "lazy.flow"])
def _flow_limit():
    K, Kt, y, f0, f0t = ill_conditioned_problem()
    t = 2.0
    flow = derive.get("lazy.flow").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=t, ridge=0.0)
    etas = np.array([0.02, 0.01, 0.005, 0.0025])
    errs = []
    for eta in etas:
        gd = derive.get("lazy.descent").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, steps=round(t / eta),
                                                 eta=eta, ridge=0.0)
        errs.append(max(np.abs(gd["train"] - flow["train"]).max(), np.abs(gd["test"] - flow["test"]).max()))
    slope = np.polyfit(np.log(etas), np.log(errs), 1)[0]
    return bounded(abs(slope - 1.0), 0.1, f"slope {slope:.4f}, errors {np.array(errs)}")


def wide_network_deviation(width: int, seed: int, *, steps=(0, 25, 100, 400)):
    """Max |network - closed form with the analytic NTK| over train and test predictions at ``steps``
    of gradient descent (both layers, eta = P / lambda_max of the analytic kernel)."""
    from numerics.simulate._ntk import ReluNetwork, train_network

    X, Xt, y = network_problem()
    Xall = np.vstack([X, Xt])
    n = np.linalg.norm(Xall, axis=1)
    rho = np.clip(Xall @ Xall.T / np.outer(n, n), -1.0, 1.0)
    G = np.asarray(derive.get("relu.ntk").evaluate(rho=rho, norm_x=n[:, None], norm_xp=n[None, :]))
    P = len(X)
    K, Kt = (G[:P, :P] + G[:P, :P].T) / 2, G[P:, :P]
    eta = P / np.linalg.eigvalsh(K).max()
    net = ReluNetwork.random(X.shape[1], width, seed=seed)
    rec = np.array(steps)
    tr, te = train_network(net, X, y, Xt, eta=eta, record=rec)
    cf = derive.get("lazy.descent").evaluate(K=K, K_test=Kt, y=y[:, None], f0=net(X)[:, None],
                                             f0_test=net(Xt)[:, None], steps=rec, eta=eta, ridge=0.0)
    return max(np.abs(tr - cf["train"][..., 0]).max(), np.abs(te - cf["test"][..., 0]).max())


WIDTHS = (256, 1024, 4096)
SEEDS = tuple(range(6))


@functools.cache
def wide_network_table():
    return np.array([[wide_network_deviation(w, s) for s in SEEDS] for w in WIDTHS])


@claim("lazy.flow.wide_network",
       "a two-layer ReLU network trained by gradient descent (both layers) approaches the closed form with the "
       "analytic NTK as its width grows: log deviation against log width has slope -1/2 within 4 standard errors "
       "(6 seeds, widths 256, 1024, 4096)", method="simulation",
       results=["lazy.descent", "lazy.flow", "relu.ntk"])
def _wide():
    dev = np.log(wide_network_table())
    x = np.log(np.array(WIDTHS, dtype=float))
    slopes = [np.polyfit(x, dev[:, s], 1)[0] for s in range(dev.shape[1])]
    mean = float(np.mean(slopes))
    se = float(np.std(slopes, ddof=1) / np.sqrt(len(slopes)))
    return bounded(abs(mean + 0.5), 4 * se, f"slope {mean:.3f} +- {se:.3f} (se over seeds); median deviation at "
                                             f"width 4096: {np.exp(np.median(dev[-1])):.3g}")
