"""Claims about ``adaptive_kernel.*``: saddle points of the Bayesian action of deep linear networks.

Stationarity is checked two ways: symbolically on the action restricted to the span of y y^T (whitened data),
and on the full matrix action at 60 digits by central differences along random symmetric directions
(step 1e-20: truncation ~1e-40, rounding ~1e-40; bound 1e-30, while a relative error 1e-12 in the solution
already gives ~1e-12). The float64 solvers are compared with 50-digit bisection twins: the residual G has slope
>= 1 in x = c_L^(1/L), so x is accurate to a few u and c_L = x^L to ~L u.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

import derive
from derive import _adaptive_kernel as ak

from ._claim import Evidence, claim

SHALLOW, DEEP, RANK1 = "adaptive_kernel.shallow_gain", "adaptive_kernel.deep_gain", "adaptive_kernel.rank_one"
UNIT = 2.0**-52


def action_mp(Phis, Phihats, C, y, gamma0, beta):
    """The action S[Phi, Phi_hat] (module docstring of derive._adaptive_kernel) at the working precision."""
    P = C.rows
    b = 0 if beta == mpmath.inf else 1 / beta
    eye = mpmath.eye(P)
    L = len(Phis)
    S = mpmath.mpf(0)
    for k in range(L):
        S -= sum((Phis[k] * Phihats[k])[i, i] for i in range(P)) / 2
    S += gamma0**2 / 2 * (y.T * mpmath.lu_solve(Phis[-1] + b * eye, y))[0]
    S += mpmath.log(mpmath.det(eye + C * Phihats[0])) / 2
    for k in range(L - 1):
        S += mpmath.log(mpmath.det(eye + Phis[k] * Phihats[k + 1])) / 2
    return S


def max_gradient_mp(Phis, Phihats, C, y, gamma0, beta, *, seed: int, directions: int = 2):
    """Max |dS/de| over random symmetric unit directions of each Phi^l and Phi_hat^l (central differences)."""
    rng = np.random.default_rng(seed)
    P = C.rows
    eps = mpmath.mpf("1e-20")
    worst = mpmath.mpf(0)
    for which in range(2 * len(Phis)):
        for _ in range(directions):
            G = rng.standard_normal((P, P))
            E = mpmath.matrix(((G + G.T) / np.linalg.norm(G + G.T)).tolist())
            vals = []
            for sgn in (1, -1):
                Ph, Hh = [m.copy() for m in Phis], [m.copy() for m in Phihats]
                (Ph if which < len(Phis) else Hh)[which % len(Phis)] += sgn * eps * E
                vals.append(action_mp(Ph, Hh, C, y, gamma0, beta))
            worst = max(worst, abs(vals[0] - vals[1]) / (2 * eps))
    return worst


def whitened_saddle_mp(gamma0, beta, L, y, *, x=None):
    """Phi^l = I + (x^l - 1) y y^T, Phi_hat^l = x^-l (1 - x) y y^T at the root x (or a given x)."""
    x = ak.deep_root_mp(gamma0, beta, L) if x is None else x
    P = len(y)
    Y = y * y.T
    Phis = [mpmath.eye(P) + (x**ell - 1) * Y for ell in range(1, L + 1)]
    Phihats = [x ** (-ell) * (1 - x) * Y for ell in range(1, L + 1)]
    return Phis, Phihats


@claim("adaptive_kernel.shallow_gain.quadratic",
       "c = (1 + sqrt(1 + 4 gamma0^2))/2 is the root >= 1 of c^2 - c - gamma0^2 = 0, the L = 1, beta = inf case of "
       "the deep scalar equation c = 1 + gamma0^2 c/(1/beta + c)^2 (SymPy); the deep solver reproduces it to 4 u",
       method="symbolic", results=[SHALLOW, DEEP])
def _quadratic():
    g, c = ak.g, ak.SHALLOW
    b = sp.Symbol("b", nonnegative=True)
    deep_l1 = (c - 1 - g**2 * c / (b + c) ** 2).subs(b, 0)
    ok = all(sp.simplify(e) == 0 for e in (c**2 - c - g**2, deep_l1)) and sp.simplify(c.subs(g, 0) - 1) == 0
    gs = np.array([0.0, 1e-8, 0.3, 1.0, 7.0, 1e4])
    sh = derive.get(SHALLOW).evaluate(gamma0=gs)
    dp = derive.get(DEEP).evaluate(gamma0=gs, beta=np.inf, L=1, ell=1)["c_L"]
    err = float(np.max(np.abs(sh - dp) / sh))
    return Evidence(ok and err <= 4 * UNIT, err, 4 * UNIT, f"SymPy {ok}; measured = max relative |shallow - deep(L=1)|")


@claim("adaptive_kernel.deep_gain.reduced_action",
       "on whitened data the action restricted to Phi^l = I + (c_l - 1) y y^T, Phi_hat^l = h_l y y^T is "
       "-1/2 sum c_l h_l + gamma0^2/(2(c_L + 1/beta)) + 1/2 ln(1 + h_1) + 1/2 sum ln(1 + c_l h_{l+1}); its gradient "
       "vanishes at c_l = x^l, h_l = x^-l (1 - x) whenever x - 1 = gamma0^2 x^L/(1/beta + x^L)^2 (SymPy, L = 1..4)",
       method="symbolic", results=[DEEP, SHALLOW])
def _reduced():
    x, b = sp.Symbol("x", positive=True), sp.Symbol("b", nonnegative=True)
    g = ak.g
    ok = True
    for L in range(1, 5):
        cs, hs = sp.symbols(f"c1:{L + 1}", positive=True), sp.symbols(f"h1:{L + 1}", real=True)
        S = (-sum(c * h for c, h in zip(cs, hs)) / 2 + g**2 / (2 * (cs[-1] + b)) + sp.log(1 + hs[0]) / 2
             + sum(sp.log(1 + cs[k] * hs[k + 1]) for k in range(L - 1)) / 2)
        at = {**{cs[k]: x ** (k + 1) for k in range(L)}, **{hs[k]: x ** (-(k + 1)) * (1 - x) for k in range(L)}}
        g2 = (x - 1) * (b + x**L) ** 2 / x**L  # the scalar equation solved for gamma0^2
        for v in cs + hs:
            ok &= sp.simplify(sp.diff(S, v).subs(at).subs(g**2, g2)) == 0
    return Evidence(bool(ok), 0.0 if ok else None, 0.0, "all partial derivatives simplify to 0")


@claim("adaptive_kernel.deep_gain.stationarity",
       "the full matrix action (P = 3, C = I, random unit y) is stationary in every Phi^l and Phi_hat^l at "
       "Phi^l = I + (c_l - 1) y y^T with c_l from the 50-digit root (L = 1, 2, 3; beta = 1, 4, inf; gamma0 = 0.7, 3): "
       "|dS/de| <= 1e-30 along random symmetric directions (60 digits)",
       method="high-precision", results=[DEEP, SHALLOW])
def _deep_stationary():
    worst = mpmath.mpf(0)
    rng = np.random.default_rng(5)
    with mpmath.workdps(60):
        yv = rng.standard_normal(3)
        y = mpmath.matrix((yv / np.linalg.norm(yv)).tolist())
        y = y / mpmath.norm(y)
        for L in (1, 2, 3):
            for beta in (mpmath.mpf(1), mpmath.mpf(4), mpmath.inf):
                for g in (mpmath.mpf("0.7"), mpmath.mpf(3)):
                    Phis, Hats = whitened_saddle_mp(g, beta, L, y)
                    worst = max(worst, max_gradient_mp(Phis, Hats, mpmath.eye(3), y, g, beta, seed=L, directions=1))
    return Evidence(bool(worst <= 1e-30), float(worst), 1e-30, "measured = max |directional derivative|")


@claim("adaptive_kernel.deep_gain.mpmath",
       "the float64 bracketed-Newton solver for c_ell, c_L and chi matches 50-digit bisection to 8 (L + 1) u relative "
       "(gamma0 from 1e-6 to 1e100, beta = 1, 3, inf, L = 1, 2, 5, 40, 51)",
       method="high-precision", results=[DEEP])
def _deep_mp():
    worst = 0.0
    for L in (1, 2, 5, 40, 51):
        for beta in (1.0, 3.0, np.inf):
            for g in (1e-6, 0.1, 1.0, 4.0, 1e3, 1e100):
                val = derive.get(DEEP).evaluate(gamma0=g, beta=beta, L=L, ell=L // 2)
                ref = derive.get(DEEP).mp(dps=50, gamma0=g, beta=beta, L=L, ell=L // 2)
                for k in ("c_ell", "c_L"):
                    worst = max(worst, abs(float(val[k]) - float(ref[k])) / float(ref[k]) / (8 * (L + 1) * UNIT))
                # chi = 1 - x: relative to x (chi itself can be ~gamma0^2 small)
                worst = max(worst, abs(float(val["chi"]) - float(ref["chi"])) / float(1 - ref["chi"]) / (8 * UNIT))
    return Evidence(bool(worst <= 1.0), worst, 1.0, "measured = max relative error / bound")


def _general_data(seed: int, P: int, D: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, D)) @ np.diag(np.linspace(0.3, 2.0, D))  # non-whitened
    return X, rng.standard_normal(P)


@claim("adaptive_kernel.rank_one.stationarity",
       "for non-whitened data (P = 6, D = 10; gamma0 = 0.8, beta = 10 and inf; gamma0 = 2.5, beta = 0.5) the L = 1 "
       "action is stationary (|dS/de| <= 1e-30 at 60 digits) at Phi = X A X^T/D, Phi_hat = -gamma0^2 a a^T with A, a "
       "from the 50-digit twin; Phi = (C^-1 + Phi_hat)^-1 to 1e-40; the float64 evaluator matches the twin to 1e-12",
       method="high-precision", results=[RANK1])
def _rank_one_stationary():
    worst, worst_id, worst_f = mpmath.mpf(0), mpmath.mpf(0), 0.0
    for j, (g, beta) in enumerate(((0.8, 10.0), (0.8, np.inf), (2.5, 0.5))):
        X, y = _general_data(20 + j, 6, 10)
        val = derive.get(RANK1).evaluate(X=X, y=y, gamma0=g, beta=beta)
        with mpmath.workdps(60):
            sol = derive.get(RANK1).mp(dps=60, X=X, y=y, gamma0=g, beta=beta)
            Xm, ym = mpmath.matrix(X.tolist()), mpmath.matrix(y.tolist())
            C = Xm * Xm.T / 10
            G = mpmath.mpf(g)
            B = mpmath.inf if np.isinf(beta) else mpmath.mpf(beta)
            Phi = Xm * sol["A"] * Xm.T / 10
            hat = -G**2 * sol["a"] * sol["a"].T
            worst_id = max(worst_id, mpmath.mnorm(Phi - (C**-1 + hat) ** -1, 1), mpmath.mnorm(Phi - sol["Phi"], 1))
            worst = max(worst, max_gradient_mp([Phi], [hat], C, ym, G, B, seed=j, directions=3))
            for k in ("A", "Phi", "a"):
                ref = np.array(sol[k].tolist(), dtype=float).reshape(np.shape(val[k]))
                worst_f = max(worst_f, float(np.max(np.abs(val[k] - ref)) / np.max(np.abs(ref))))
            worst_f = max(worst_f, abs(float(val["z"]) - float(sol["z"])) / float(sol["z"]))
    ok = worst <= 1e-30 and worst_id <= 1e-40 and worst_f <= 1e-12
    return Evidence(bool(ok), float(worst), 1e-30,
                    f"measured = max |dS/de|; representation {float(worst_id):.1e}; float64 vs twin {worst_f:.1e}")


@claim("adaptive_kernel.rank_one.whitened_reduction",
       "at X = sqrt(D) I (C = I) with a unit y the general-data solution is the scalar one: z = c_L of deep_gain at "
       "L = 1 and A = Phi = I + (c - 1) y y^T (D = 5; beta = 1, 7, inf; gamma0 = 0, 0.4, 3): to 16 u",
       method="high-precision", results=[RANK1, DEEP])
def _reduction():
    D = 5
    rng = np.random.default_rng(11)
    y = rng.standard_normal(D)
    y /= np.linalg.norm(y)
    worst = 0.0
    for beta in (1.0, 7.0, np.inf):
        for g in (0.0, 0.4, 3.0):
            sol = derive.get(RANK1).evaluate(X=np.sqrt(D) * np.eye(D), y=y, gamma0=g, beta=beta)
            c = float(derive.get(DEEP).evaluate(gamma0=g, beta=beta, L=1, ell=1)["c_L"])
            spike = np.eye(D) + (c - 1) * np.outer(y, y)
            worst = max(worst, abs(float(sol["z"]) - c) / c, float(np.max(np.abs(sol["A"] - spike))) / c,
                        float(np.max(np.abs(sol["Phi"] - spike))) / c)
    return Evidence(bool(worst <= 16 * UNIT), worst, 16 * UNIT, "measured = max relative deviation")
