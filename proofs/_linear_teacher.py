"""Claims about ``linear_teacher.*``: fine-tuning linear regression from source weights.

Bounds follow from the method: exact polynomial identities (SymPy, after clearing
the determinant of X X^T); the working precision times the condition number of X
for the float64 evaluators against their 40-digit mpmath twins; the contraction
factor of gradient descent raised to the number of steps plus rounding for the
simulator; z standard errors for Monte Carlo over Gaussian designs.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp

import derive
from derive import _linear_teacher as lt
from numerics._blas_threads import one_blas_thread
from numerics.simulate._linear_teacher import (
    descent_contraction,
    linear_regression_descent,
)

from ._claim import Evidence, bounded, claim

ESTIMATOR, SAMPLE_RISK, RISK_ISO = "linear_teacher.estimator", "linear_teacher.sample_risk", \
    "linear_teacher.risk_isotropic"
UNIT = 2.0**-52
Z_MAX = 4.0  # Monte Carlo: |mean - theory| <= 4 standard errors (two-sided p ~ 6e-5 per check)


def _problem(n: int, d: int, seed: int):
    """A Gaussian design, teacher, source and a random covariance (fixed seed)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    wT, wS = rng.standard_normal(d), rng.standard_normal(d)
    A = rng.standard_normal((d, d))
    return X, wT, wS, A @ A.T / d


SIZES = ((1, 4), (3, 8), (6, 10), (10, 10), (12, 7))  # n < d, n = d and n > d (then w_ft = w_T)


# -- symbolic ---------------------------------------------------------------------------
@claim("linear_teacher.estimator.interpolator",
       "w_ft = P_X w_T + (I - P_X) w_S interpolates (X w_ft = X w_T), lies in w_S + row(X), P_X is an orthogonal "
       "projection, and w_ft - w_T = -(I - P_X) delta (symbolic 2 x 3 design)",
       method="symbolic", results=[ESTIMATOR, SAMPLE_RISK])
def _interpolator():
    X = sp.Matrix(2, 3, sp.symbols("x0:6", real=True))
    wT, wS = sp.Matrix(sp.symbols("t0:3", real=True)), sp.Matrix(sp.symbols("s0:3", real=True))
    G = X * X.T
    adj, det = G.adjugate(), G.det()
    Pd = X.T * adj * X  # det(X X^T) P_X: every identity below is polynomial after clearing det
    I3 = sp.eye(3)
    wd = Pd * wT + (det * I3 - Pd) * wS  # det * w_ft
    checks = {
        "X w_ft = X w_T": X * wd - det * X * wT,
        "w_ft - w_S = X^T c": wd - det * wS - X.T * (adj * X * (wT - wS)),
        "P^2 = P": Pd * Pd - det * Pd,
        "P = P^T": Pd - Pd.T,
        "w_ft - w_T = -(I - P) delta": wd - det * wT + (det * I3 - Pd) * (wT - wS),
    }
    bad = [k for k, m in checks.items() if m.expand() != sp.zeros(*m.shape)]
    # the registered display form, with P_X substituted, is the same matrix
    disp = lt.ESTIMATOR.subs(lt.P_m, lt.PROJECTION)
    ok_disp = isinstance(disp, sp.MatAdd) and lt.P_m not in disp.free_symbols
    return Evidence(not bad and ok_disp, 0.0 if not bad else None, 0.0,
                    "polynomial identities after multiplying by det(X X^T)" + (f"; failed: {bad}" if bad else ""))


@claim("linear_teacher.risk_isotropic.one_sample_exact",
       "n = 1: the sphere average of ||(I - u u^T) delta||^2 is (1 - 1/d)||delta||^2 (d = 2, 3), and "
       "E[1/chi^2_d] = 1/(d - 2), the noise term sigma2 n/(d - n - 1) at n = 1 (symbolic d)",
       method="symbolic", results=[RISK_ISO])
def _one_sample():
    a, b, c = sp.symbols("a b c", real=True)
    th, ph = sp.symbols("theta phi", real=True)
    # d = 2: u uniform on the circle
    u2 = sp.Matrix([sp.cos(th), sp.sin(th)])
    v2 = sp.Matrix([a, b])
    r2 = sp.integrate(sp.expand((v2.T * v2)[0] - (u2.T * v2)[0] ** 2), (th, 0, 2 * sp.pi)) / (2 * sp.pi)
    # d = 3: u uniform on the sphere, area element sin(theta)
    u3 = sp.Matrix([sp.sin(th) * sp.cos(ph), sp.sin(th) * sp.sin(ph), sp.cos(th)])
    v3 = sp.Matrix([a, b, c])
    integrand = sp.expand(((v3.T * v3)[0] - (u3.T * v3)[0] ** 2) * sp.sin(th))
    r3 = sp.integrate(sp.integrate(integrand, (ph, 0, 2 * sp.pi)), (th, 0, sp.pi)) / (4 * sp.pi)
    iso = derive.get(RISK_ISO)
    bias = iso.expr.subs(iso.symbols["sigma2"], 0)
    N, D, DEL = (iso.symbols[k] for k in ("n", "d", "delta_norm2"))
    ok2 = sp.simplify(r2 - bias.subs({N: 1, D: 2, DEL: a**2 + b**2})) == 0
    ok3 = sp.simplify(r3 - bias.subs({N: 1, D: 3, DEL: a**2 + b**2 + c**2})) == 0
    # noise at n = 1: eps^2 / ||x||^2 with ||x||^2 ~ chi^2_d
    dd, x = sp.Symbol("d", positive=True), sp.Symbol("x", positive=True)
    pdf = x ** (dd / 2 - 1) * sp.exp(-x / 2) / (2 ** (dd / 2) * sp.gamma(dd / 2))
    inv_mean = sp.integrate(pdf / x, (x, 0, sp.oo), conds="none")
    noise = (iso.expr - bias).subs({N: 1, D: dd, iso.symbols["sigma2"]: 1})
    okn = sp.simplify(inv_mean - noise) == 0
    ok = ok2 and ok3 and okn
    return Evidence(ok, 0.0 if ok else None, 0.0, f"d=2: {ok2}, d=3: {ok3}, noise (all d > 2): {okn}")


# -- high precision ------------------------------------------------------------------------
@claim("linear_teacher.estimator.mpmath",
       "the float64 evaluators (SVD basis of row(X)) agree with 40-digit mpmath twins (normal equations)",
       method="high-precision", results=[ESTIMATOR, SAMPLE_RISK])
def _mpmath_twins():
    est, risk = derive.get(ESTIMATOR), derive.get(SAMPLE_RISK)
    worst, bound_used = 0.0, 0.0
    for seed, (n, d) in enumerate(s for s in SIZES if s[0] <= s[1]):
        X, wT, wS, Sigma = _problem(n, d, seed)
        cond = np.linalg.cond(X)
        bound = 64 * cond * UNIT * d
        with mpmath.workdps(40):
            ref = np.array([float(v) for v in est.mp(dps=40, X=X, wT=wT, wS=wS)])
            rref = float(risk.mp(dps=40, X=X, Sigma=Sigma, wT=wT, wS=wS))
        scale = np.linalg.norm(wT) + np.linalg.norm(wS)
        err = np.max(np.abs(est.evaluate(X=X, wT=wT, wS=wS) - ref)) / scale
        rerr = abs(float(risk.evaluate(X=X, Sigma=Sigma, wT=wT, wS=wS)) - rref) / (scale**2 * np.linalg.norm(Sigma, 2))
        worst = max(worst, err / bound, rerr / bound)
        bound_used = max(bound_used, bound)
    return bounded(worst, 1.0, f"max error / (64 d cond(X) u), cond-scaled bounds up to {bound_used:.1e}")


@claim("linear_teacher.risk_isotropic.mpmath",
       "the compiled kernel of the isotropic risk agrees with its 30-digit mpmath twin (noise branch and sigma2 = 0)",
       method="high-precision", results=[RISK_ISO])
def _iso_mp():
    iso = derive.get(RISK_ISO)
    pts = [(n, d, dl, s2) for d in (1, 3, 50, 10**6) for n in sorted({0, 1, d // 2, max(d - 2, 0), d})
           for dl in (0.0, 2.5) for s2 in (0.0, 0.7) if n <= d and (s2 == 0 or n <= d - 2)]
    worst = 0.0
    for p in pts:
        kw = dict(zip(("n", "d", "delta_norm2", "sigma2"), p))
        ref = iso.mp(dps=30, **kw)
        val = float(iso.evaluate(**kw))
        worst = max(worst, abs(val - float(ref)) / max(abs(float(ref)), 1e-300))
    return bounded(worst, 8 * UNIT, f"{len(pts)} points, relative error")


# -- simulation ---------------------------------------------------------------------------
def descent_run(X, wT, wS, *, y=None, tol=1e-15):
    """GD from wS at eta = 1/lambda_max(X^T X/n) until the contraction bound reaches ``tol`` (relative)."""
    n = X.shape[0]
    eta = n / np.linalg.norm(X, 2) ** 2
    q = descent_contraction(X, eta)
    # q = 0 when X^T X/n has a single non-zero eigenvalue (n = 1): one step is exact
    steps = 1 if q == 0.0 else int(np.ceil(np.log(tol) / np.log(q)))
    w = linear_regression_descent(X, X @ wT if y is None else y, wS, eta, steps)
    return w, q, steps


@claim("linear_teacher.estimator.gradient_descent",
       "gradient descent from w_S converges to linear_teacher.estimator, and the risk of the trained weights "
       "(w - w_T)^T Sigma (w - w_T) is linear_teacher.sample_risk",
       method="simulation", results=[ESTIMATOR, SAMPLE_RISK])
def _gradient_descent():
    est, risk = derive.get(ESTIMATOR), derive.get(SAMPLE_RISK)
    worst, details = 0.0, []
    for seed, (n, d) in enumerate(SIZES):
        X, wT, wS, Sigma = _problem(n, d, 100 + seed)
        w, q, steps = descent_run(X, wT, wS)
        wf = est.evaluate(X=X, wT=wT, wS=wS)
        scale = np.linalg.norm(wT) + np.linalg.norm(wS)
        # contraction^steps times the initial row-space error, plus rounding accumulated over the steps
        bound = q**steps * np.linalg.norm(wS - wf) + 16 * UNIT * d * np.sqrt(steps) * scale
        err = np.linalg.norm(w - wf)
        e = w - wT
        rbound = 2 * np.linalg.norm(Sigma, 2) * np.linalg.norm(e) * bound + bound**2 * np.linalg.norm(Sigma, 2)
        rerr = abs(float(e @ Sigma @ e) - float(risk.evaluate(X=X, Sigma=Sigma, wT=wT, wS=wS)))
        worst = max(worst, err / bound, rerr / max(rbound, 64 * UNIT * scale**2))
        details.append(f"({n},{d}): {err:.1e}")
    return bounded(worst, 1.0, "error / (contraction^steps + rounding) bound; errors " + ", ".join(details))


@functools.cache
def monte_carlo_isotropic(n: int, d: int, delta_norm2: float, sigma2: float, draws: int, seed: int):
    """Mean and standard error of ||w_ft - w_T||^2 over Gaussian designs and label noise.

    w_ft = w_S + X^+ (y - X w_S) is the limit of GD (checked by the gradient-descent claim), computed
    in batch by the normal equations; delta is a fixed vector of squared norm delta_norm2.
    """
    rng = np.random.default_rng(seed)
    delta = rng.standard_normal(d)
    delta *= np.sqrt(delta_norm2) / np.linalg.norm(delta)
    X = rng.standard_normal((draws, n, d))
    eps = np.sqrt(sigma2) * rng.standard_normal((draws, n))
    # w_ft - w_T = -(I - P_X) delta + X^+ eps; X^+ = X^T (X X^T)^{-1}
    with one_blas_thread():
        G = X @ np.swapaxes(X, 1, 2)
        c = np.linalg.solve(G, (X @ delta + eps)[..., None])[..., 0]
    err = (np.swapaxes(X, 1, 2) @ c[..., None])[..., 0] - delta
    r = np.sum(err**2, axis=1)
    return float(r.mean()), float(r.std(ddof=1) / np.sqrt(draws))


MC_CASES = ((10, 30, 2.0, 0.5), (5, 8, 1.0, 0.0), (3, 40, 0.5, 2.0))


@claim("linear_teacher.risk_isotropic.monte_carlo",
       "Monte Carlo over Gaussian designs and label noise (20000 draws each) agrees with "
       "linear_teacher.risk_isotropic within 4 standard errors",
       method="simulation", results=[RISK_ISO])
def _monte_carlo():
    iso = derive.get(RISK_ISO)
    worst, details = 0.0, []
    for k, (n, d, dl, s2) in enumerate(MC_CASES):
        mean, se = monte_carlo_isotropic(n, d, dl, s2, 20000, 7 + k)
        theory = float(iso.evaluate(n=n, d=d, delta_norm2=dl, sigma2=s2))
        z = abs(mean - theory) / se
        worst = max(worst, z)
        details.append(f"(n={n},d={d}): {mean:.4f}±{se:.4f} vs {theory:.4f}")
    return bounded(worst, Z_MAX, "z = |MC - theory|/SE; " + "; ".join(details))
