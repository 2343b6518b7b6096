"""Claims about ``hermite.*``: exact SymPy integrals, 30-digit quadrature, the Mehler-arc-cosine identity.

Bounds: exact zero for SymPy; for the compiled ReLU coefficients (a difference of log-gamma
values), ``4 u (1 + sum of |log-gamma terms|)`` relative, the rounding of that sum; for
quadrature, 1e-25 at 30 digits; for the truncated Mehler series, its tail bound (exact: the
series at rho = 1 sums to E max(0, z)^2 = 1/2) plus 64 u.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

import derive
from derive import _hermite as hm

from ._claim import Evidence, bounded, claim

UNIT = 2.0**-52


def sympy_relu_coefficient(jj: int) -> sp.Expr:
    """E[max(0, z) h_j(z)] by exact SymPy integration."""
    z = sp.Symbol("z", real=True)
    he = sp.hermite_prob(jj, z) / sp.sqrt(sp.factorial(jj))
    return sp.simplify(sp.integrate(z * he * sp.exp(-z**2 / 2), (z, 0, sp.oo)) / sp.sqrt(2 * sp.pi))


@claim("hermite.relu.sympy", "the closed form c_j of ReLU equals exact SymPy integration for j = 0..8",
       method="symbolic", results=["hermite.relu"])
def _relu_sympy():
    bad = [jj for jj in range(9) if sp.simplify(sympy_relu_coefficient(jj) - hm.RELU_DISPLAY.subs(hm.j, jj)) != 0]
    return Evidence(not bad, 0.0 if not bad else float(len(bad)), 0.0, f"mismatches at j = {bad}" if bad else "j = 0..8")


def relu_log_terms(jj: float) -> float:
    """Sum of the magnitudes of the log-gamma terms the kernel adds (its rounding scale)."""
    return (abs(math.lgamma(jj - 1)) + abs(math.lgamma(jj / 2)) + abs(math.lgamma(jj + 1)) / 2
            + (jj - 2) / 2 * math.log(2) + 1.0)


@claim("hermite.relu.precision",
       "the compiled ReLU coefficients match the mpmath twin ((j-3)!!/sqrt(2 pi j!) at 30 digits) for j up to 10^6 "
       "within the rounding of their log-gamma sum, and the twin matches 30-digit quadrature for j <= 8",
       method="high-precision", results=["hermite.relu"])
def _relu_precision():
    res = derive.get("hermite.relu")
    js = np.concatenate([np.arange(0, 64), [101, 1000, 10**4, 10**5, 10**6]]).astype(float)
    vals = np.asarray(res.evaluate(j=js))
    worst = 0.0
    for jj, v in zip(js, vals):
        ref = float(res.mp(dps=30, j=jj))
        bound = 4 * UNIT * (1 + (relu_log_terms(jj) if jj >= 2 else 0.0)) * abs(ref) + 1e-300
        worst = max(worst, abs(v - ref) / bound)
    quad, errs = hm.quadrature_coefficients(lambda z: max(z, 0), 8, dps=30)
    with mpmath.workdps(30):
        qerr = max(float(abs(q - res.mp(dps=30, j=k))) for k, q in enumerate(quad))
    return bounded(max(worst, qerr / 1e-25), 1.0, f"kernel error / bound {worst:.3g}; quadrature error {qerr:.2g}")


@claim("hermite.monomial.sympy",
       "z^n = sum_j c_{n,j} h_j(z) exactly for n = 0..9 (SymPy expansion), and the compiled kernel matches",
       method="symbolic", results=["hermite.monomial"])
def _monomial():
    z = sp.Symbol("z", real=True)
    res = derive.get("hermite.monomial")
    bad, worst = [], 0.0
    for nn in range(10):
        series = sum(hm.MONO_DISPLAY.subs({hm.n: nn, hm.j: jj}) * sp.hermite_prob(jj, z) / sp.sqrt(sp.factorial(jj))
                     for jj in range(nn + 1))
        if sp.expand(series - z**nn) != 0:
            bad.append(nn)
        for jj in range(nn + 1):
            exact = float(hm.MONO_DISPLAY.subs({hm.n: nn, hm.j: jj}))
            worst = max(worst, abs(float(res.evaluate(n=nn, j=jj)) - exact) / (64 * UNIT * max(abs(exact), 1.0)))
    ok = not bad and worst <= 1.0
    return Evidence(ok, worst, 1.0, f"expansion mismatches {bad}; kernel error / (64 u) {worst:.3g}")


@claim("hermite.mehler.arccos",
       "Mehler's series sum_j c_j^2 rho^j of ReLU equals the arc-cosine kernel kappa_1 (unit inputs) for rho in "
       "[-1, 1] within its tail bound, and its rho-derivative equals kappa_0 for |rho| <= 0.9",
       method="high-precision", results=["hermite.mehler", "hermite.relu", "relu.kappa1", "relu.kappa0"])
def _mehler():
    J = 4000
    c = np.asarray(derive.get("hermite.relu").evaluate(j=np.arange(J)))
    tail = 0.5 - math.fsum(c**2)  # sum_{j >= J} c_j^2: the series at rho = 1 is E relu^2 = 1/2
    rho = np.linspace(-1.0, 1.0, 41)
    mehler = np.asarray(derive.get("hermite.mehler").evaluate(c=c, rho=rho))
    k1 = np.asarray(derive.get("relu.kappa1").evaluate(rho=rho, norm_x=1.0, norm_xp=1.0))
    err1 = np.max(np.abs(mehler - k1)) / (tail + 64 * UNIT)
    # derivative: sum_j (j+1) c_{j+1}^2 rho^j, i.e. the Mehler series of c'_j = sqrt(j+1) c_{j+1}
    cd = np.sqrt(np.arange(1, J)) * c[1:]
    r9 = np.linspace(-0.9, 0.9, 19)
    dm = np.asarray(derive.get("hermite.mehler").evaluate(c=cd, rho=r9))
    k0 = np.asarray(derive.get("relu.kappa0").evaluate(rho=r9))
    dtail = 0.9 ** (J - 1) * J * 0.5 / (1 - 0.9)  # sum_{j >= J} j c_j^2 0.9^(j-1), with c_j^2 <= 1/2
    err0 = np.max(np.abs(dm - k0)) / (dtail + 256 * UNIT)
    return bounded(max(err1, err0), 1.0, f"kappa_1: error / (tail {tail:.2g} + 64u) {err1:.3g}; "
                                          f"kappa_0: error / bound {err0:.3g}")


@claim("hermite.information_exponent.examples",
       "information exponents: ReLU 1, ReLU minus its linear part 2, He_3 = z^3 - 3z 3, h_4 4, tanh 1 (quadrature), "
       "z^2 - 1 + z^3/10 1 (z^3 has a linear part)",
       method="high-precision", results=["hermite.information_exponent", "hermite.relu"])
def _info():
    ie = derive.get("hermite.information_exponent")
    relu = np.asarray(derive.get("hermite.relu").evaluate(j=np.arange(12)))
    relu_nolin = relu.copy()
    relu_nolin[1] = 0.0
    he3 = np.array([float(x) for x in hm.polynomial_coefficients([0, -3, 0, 1])])
    h4 = np.eye(6)[4]
    tanh, _ = hm.quadrature_coefficients(mpmath.tanh, 3, dps=15)
    poly = np.array([float(x) for x in hm.polynomial_coefficients([-1, 0, 1, sp.Rational(1, 10)])])
    got = [int(ie.evaluate(c=c, tol=1e-12)) for c in (relu, relu_nolin, he3, h4, np.array(tanh, dtype=float), poly)]
    want = [1, 2, 3, 4, 1, 1]
    ok = got == want
    return Evidence(ok, float(sum(g != w for g, w in zip(got, want))), 0.0, f"got {got}, want {want}")
