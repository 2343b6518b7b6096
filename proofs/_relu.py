"""Claims about ``relu.*``: the derivative identity, 30-digit quadrature, and the empirical NTK.

Bounds: exact zero for the SymPy identity; for the compiled kernels against 30-digit
quadrature, a few float64 units of the value's condition (``16 u`` relative plus ``16 u`` of the
kernel's scale, the acos argument carrying one rounding); for the mpmath twin, 1e-25; for Monte
Carlo, ``Z_MC`` standard errors per entry (with 36 entries, a false alarm below 3e-4 per run).
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp

import derive
from derive import _relu as rl

from ._claim import Evidence, bounded, claim

UNIT = 2.0**-52
Z_MC = 4.5
NAMES = ("relu.kappa0", "relu.kappa1", "relu.ntk", "relu.ntk_first_layer")
RHOS = (-1.0, -0.999999, -0.7, -0.2, 0.0, 0.3, 0.8, 0.9999, 1.0)


@claim("relu.kappa1.derivative", "d kappa_1/d rho = kappa_0 for unit inputs (rho = cos theta)",
       method="symbolic", results=["relu.kappa1", "relu.kappa0"])
def _derivative():
    rho = rl.rho
    k1 = rl.KAPPA1_UNIT.subs(rl.theta, sp.acos(rho))
    k0 = rl.KAPPA0.subs(rl.theta, sp.acos(rho))
    diff = sp.simplify(sp.diff(k1, rho) - k0)
    return Evidence(diff == 0, 0.0 if diff == 0 else None, 0.0, f"d kappa_1/d rho - kappa_0 = {diff}")


def quadrature_kernels(rho, nx=1.0, nxp=1.0):
    """(kappa_0, kappa_1) by 1-D mpmath quadrature over the first Gaussian coordinate, at the current precision.

    With ``z ~ N(0,1)`` and ``z' = rho z + s xi`` (``s = sqrt(1 - rho^2)``):
    ``kappa_0 = int_0^inf phi(z) Phi(rho z/s) dz`` and
    ``kappa_1 = int_0^inf z phi(z) E[max(0, rho z + s xi)] dz``, ``E max(0, mu + s xi) = mu Phi(mu/s) + s phi(mu/s)``.
    An independent route from the closed forms (no angle, no arccos). Needs |rho| < 1.
    """
    rho = mpmath.mpf(rho)
    s = mpmath.sqrt(1 - rho**2)
    k0 = mpmath.quad(lambda z: mpmath.npdf(z) * mpmath.ncdf(rho * z / s), [0, 1, 4, mpmath.inf])
    k1 = mpmath.quad(lambda z: z * mpmath.npdf(z) * (rho * z * mpmath.ncdf(rho * z / s) + s * mpmath.npdf(rho * z / s)),
                     [0, 1, 4, mpmath.inf])
    return k0, mpmath.mpf(nx) * nxp * k1


@functools.cache
def _quadrature_table():
    out = []
    with mpmath.workdps(30):
        for rho in RHOS:
            if abs(rho) == 1.0:
                k0 = mpmath.mpf(1 / 2 if rho > 0 else 0)
                k1 = mpmath.mpf(1 / 2 if rho > 0 else 0)
            else:
                k0, k1 = quadrature_kernels(rho)
            for nx, nxp in ((1.0, 1.0), (0.3, 2.5)):
                g = mpmath.mpf(nx) * nxp
                out.append((rho, nx, nxp, {"relu.kappa0": k0, "relu.kappa1": g * k1,
                                           "relu.ntk": g * (k1 + rho * k0), "relu.ntk_first_layer": g * rho * k0}))
    return out


@claim("relu.kernels.quadrature",
       "kappa_0, kappa_1, the NTK and the first-layer NTK (compiled kernels and mpmath twins) match 30-digit "
       "Gaussian quadrature, rho in [-1, 1] including the endpoints",
       method="high-precision", results=list(NAMES))
def _quadrature():
    worst_k, worst_mp = 0.0, 0.0
    for rho, nx, nxp, ref in _quadrature_table():
        for name in NAMES:
            res = derive.get(name)
            kw = {"rho": rho} if name == "relu.kappa0" else {"rho": rho, "norm_x": nx, "norm_xp": nxp}
            scale = nx * nxp if name != "relu.kappa0" else 1.0
            err = abs(float(res.evaluate(**kw)) - float(ref[name])) / (16 * UNIT * (abs(float(ref[name])) + scale))
            worst_k = max(worst_k, err)
            worst_mp = max(worst_mp, float(abs(res.mp(dps=30, **kw) - ref[name])) / 1e-25)
    worst = max(worst_k, worst_mp)
    return bounded(worst, 1.0, f"kernel error / bound {worst_k:.3g}, mpmath twin error / 1e-25 {worst_mp:.3g}")


@functools.cache
def mc_inputs():
    """Six inputs in R^5 with assorted norms, two of them (anti)parallel to cover rho = +-1."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((4, 5)) * np.array([[0.5], [1.0], [1.7], [0.8]])
    return np.vstack([X, 2.0 * X[0], -0.7 * X[1]])


def theory_ntk(X, name="relu.ntk"):
    """The registered kernel between all rows of ``X``."""
    n = np.linalg.norm(X, axis=1)
    rho = np.clip(X @ X.T / np.outer(n, n), -1.0, 1.0)
    kw = {"rho": rho} if name == "relu.kappa0" else {"rho": rho, "norm_x": n[:, None], "norm_xp": n[None, :]}
    return np.asarray(derive.get(name).evaluate(**kw))


@claim("relu.ntk.empirical",
       "the empirical NTK of a random two-layer ReLU network of width 20000 (both layers; first layer only; "
       "second layer only = kappa_1) agrees with the closed forms within 4.5 standard errors per entry",
       method="simulation", results=["relu.ntk", "relu.ntk_first_layer", "relu.kappa1"])
def _empirical():
    from numerics.simulate._ntk import empirical_ntk

    X = mc_inputs()
    worst, where = 0.0, ""
    for layers, name in (("both", "relu.ntk"), ("first", "relu.ntk_first_layer"), ("second", "relu.kappa1")):
        mean, se = empirical_ntk(X, width=20000, seed=11, layers=layers)
        # the closed form's own rounding (rho of (anti)parallel inputs is +-1 only to a few ulp) floors the error
        z = np.abs(mean - theory_ntk(X, name)) / np.hypot(se, 1e-12 * np.abs(mean).max())
        if z.max() > worst:
            worst, where = float(z.max()), layers
    return bounded(worst, Z_MC, f"largest |z| {worst:.2f} ({where} layers)")
