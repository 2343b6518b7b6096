r"""relu.*: the arc-cosine kernels and the two-layer ReLU neural tangent kernel.

Setting (Cho & Saul 2009 for the kernels; Jacot et al. 2018 for the NTK; the fine-tuning
setting of Shachaf et al. 2021 in the kernel regime). For inputs ``x, x'`` with norms
``norm_x = ||x||``, ``norm_xp = ||x'||`` and ``rho = cos(theta) = x.x'/(||x|| ||x'||)``, and
``w ~ N(0, I_d)``, ``sigma(z) = max(0, z)``:

.. math::
    \kappa_0 = E_w[1\{w\cdot x>0\}1\{w\cdot x'>0\}] = \frac{\pi-\theta}{2\pi},\qquad
    \kappa_1 = E_w[\sigma(w\cdot x)\sigma(w\cdot x')]
             = \|x\|\|x'\|\frac{\sin\theta + (\pi-\theta)\cos\theta}{2\pi}.

For the two-layer network ``f(x) = m^{-1/2} sum_r a_r sigma(w_r.x)`` with ``w_r ~ N(0, I_d)`` and
``a_r = +-1`` (or any ``a_r`` with ``a_r^2 = 1``), the neural tangent kernel as the width
``m -> inf`` is

* both layers trained: ``Theta = kappa_1 + (x.x') kappa_0`` (``kappa_1`` is the second layer's
  gradient, ``(x.x') kappa_0`` the first layer's);
* first layer only: ``(x.x') kappa_0``.

Convention (stated because it is the usual source of factor-2 errors): NO ``sqrt 2`` (He)
factor. With ``sigma(z) = sqrt(2) max(0, z)`` (He scaling, ``E sigma(z)^2 = E z^2``) every kernel
here is multiplied by 2 (``kappa_0`` counts the derivative ``sqrt 2 1{z>0}`` squared: also 2).

Stable forms: the kernels are compiled in terms of ``phi = pi - theta = arccos(-rho)``
(accurate near ``rho = -1``, where ``pi - arccos(rho)`` cancels), and
``sin(phi) - phi cos(phi)`` (which is ``O(phi^3)``) by its Taylor series for ``phi < 1/4``.

Sources: kernels: Cho & Saul 2009 (the formula for ``kappa_1`` is also quoted verbatim in later
work); the NTK of this network: derivation from the definition (DERIVED+CHECKED in the project's
research note, which also checked a width-2e5 empirical NTK to 0.7%); here checked
symbolically (``d kappa_1/d rho = kappa_0``), by 30-digit quadrature, and by Monte Carlo.
"""

from __future__ import annotations

import sympy as sp

from ._domain import Param, interval, positive
from ._registry import register
from ._result import Result

REFS = ("cho2009kernel", "jacot2018ntk", "shachaf2021theoretical")

P_RHO = Param("rho", interval(-1.0, 1.0), r"\rho", "cosine of the angle between x and x'")
P_NX = Param("norm_x", positive(), r"\|x\|", "norm of the first input")
P_NXP = Param("norm_xp", positive(), r"\|x'\|", "norm of the second input")

rho, nx, nxp = P_RHO.symbol, P_NX.symbol, P_NXP.symbol
theta = sp.Symbol("theta", nonnegative=True)

CONVENTION = ("no sqrt(2) (He) factor: sigma(z) = max(0, z), w ~ N(0, I); with sigma = sqrt(2) max(0, z) "
              "multiply the kernel by 2")
NETWORK = ("two-layer network f(x) = m^{-1/2} sum_r a_r max(0, w_r.x), w_r ~ N(0, I_d), a_r^2 = 1, "
           "in the infinite-width limit m -> inf")

# display forms (theta = arccos rho)
THETA_DEF = ((theta, sp.acos(rho)),)
KAPPA0 = (sp.pi - theta) / (2 * sp.pi)
KAPPA1_UNIT = (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / (2 * sp.pi)

# compiled forms: phi = pi - theta = arccos(-rho); sin(phi) - phi cos(phi) by series for small phi
_phi, _sc = sp.symbols("phi sc", real=True)


def _sin_minus_phi_cos(phi: sp.Symbol) -> sp.Expr:
    """sin(phi) - phi cos(phi), by its Taylor series sum_n (-1)^(n+1) 2n phi^(2n+1)/(2n+1)! below 1/4.

    The series truncated after n = 6 has relative error < phi^12 * 14/15! * 3 < 1e-17 at phi = 1/4.
    """
    series = sum(sp.Integer((-1) ** (n + 1) * 2 * n) / sp.factorial(2 * n + 1) * phi ** (2 * n + 1)
                 for n in range(1, 7))
    return sp.Piecewise((series, phi < sp.Rational(1, 4)), (sp.sin(phi) - phi * sp.cos(phi), True))


STEPS = ((_phi, sp.acos(-rho)), (_sc, _sin_minus_phi_cos(_phi)))
KAPPA0_STABLE = _phi / (2 * sp.pi)
KAPPA1_STABLE = nx * nxp * _sc / (2 * sp.pi)


def _result(name, title, display, stable, params, output, output_latex, conditions, source):
    return register(Result(
        name, title=title, params=params, expr=display, output=output, output_latex=output_latex,
        definitions=THETA_DEF, kernel_exprs=[stable], kernel_locals=STEPS, rewrite=False,
        conditions=(CONVENTION,) + tuple(conditions), source=source, references=REFS))


kappa0 = _result(
    "relu.kappa0", "Arc-cosine kernel of degree 0 (ReLU derivative kernel)",
    KAPPA0, KAPPA0_STABLE, [P_RHO], "kappa0", r"\kappa_0",
    ["w ~ N(0, I_d); kappa_0 = E_w[1{w.x>0} 1{w.x'>0}] depends on the angle only"],
    "Cho & Saul 2009 (arc-cosine kernel of degree 0); checked by quadrature and Monte Carlo")

kappa1 = _result(
    "relu.kappa1", "Arc-cosine kernel of degree 1 (ReLU kernel)",
    nx * nxp * KAPPA1_UNIT, KAPPA1_STABLE, [P_RHO, P_NX, P_NXP], "kappa1", r"\kappa_1",
    ["w ~ N(0, I_d); kappa_1 = E_w[max(0, w.x) max(0, w.x')]"],
    "Cho & Saul 2009 (arc-cosine kernel of degree 1); checked by quadrature and Monte Carlo")

ntk = _result(
    "relu.ntk", "Neural tangent kernel of a two-layer ReLU network (both layers trained)",
    nx * nxp * (KAPPA1_UNIT + rho * KAPPA0), nx * nxp * (_sc / (2 * sp.pi) + rho * KAPPA0_STABLE),
    [P_RHO, P_NX, P_NXP], "Theta", r"\Theta",
    [NETWORK, "both layers trained: Theta = kappa_1 + (x.x') kappa_0"],
    "NTK (Jacot et al. 2018) of the two-layer ReLU network, from the arc-cosine kernels (Cho & Saul 2009); "
    "derived from the definition and checked against the empirical NTK of a wide random network")

ntk_first_layer = _result(
    "relu.ntk_first_layer", "Neural tangent kernel of a two-layer ReLU network (first layer only)",
    nx * nxp * rho * KAPPA0, nx * nxp * rho * KAPPA0_STABLE,
    [P_RHO, P_NX, P_NXP], "Theta1", r"\Theta_1",
    [NETWORK, "only the first layer trained (second layer frozen at a_r = +-1): Theta_1 = (x.x') kappa_0"],
    "NTK (Jacot et al. 2018) restricted to the first layer (the Gram matrix studied by Du et al. and Arora et al.); "
    "derived from the definition and checked against the empirical NTK of a wide random network")
