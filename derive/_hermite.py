r"""hermite.*: normalised Hermite coefficients of activations, information exponents, Mehler series.

Convention: probabilists' Hermite polynomials ``He_j`` normalised, ``h_j = He_j / sqrt(j!)``, so
that ``E[h_j(z) h_k(z)] = delta_jk`` for ``z ~ N(0, 1)``. An activation ``sigma`` in ``L^2(N(0,1))``
has the expansion ``sigma = sum_j c_j h_j`` with ``c_j = E[sigma(z) h_j(z)]``.

* ``hermite.relu`` (integer ``j >= 0``): the coefficients of ``max(0, z)``, exactly:
  ``c_0 = 1/sqrt(2 pi)``, ``c_1 = 1/2``, ``c_j = 0`` for odd ``j >= 3`` and, for even ``j >= 2``,

  .. math:: c_j = \frac{(-1)^{j/2+1} (j-3)!!}{\sqrt{2\pi\, j!}} .

  Derivation (for every ``j >= 2``): ``z He_j = He_{j+1} + j He_{j-1}`` and
  ``int_0^inf He_n phi = He_{n-1}(0) phi(0)`` (``n >= 1``) give
  ``sqrt(j!) c_j = phi(0) (He_j(0) + j He_{j-2}(0))``, and ``He_n(0) = (-1)^{n/2} (n-1)!!`` for even n.
  Compiled with ``lgamma`` (``(j-3)!! = (j-2)!/(2^{(j-2)/2} ((j-2)/2)!)``), so large ``j`` neither
  overflows nor loses digits. No sqrt(2) (He-initialisation) factor: for ``sqrt(2) max(0, z)``
  multiply every coefficient by ``sqrt 2``.
* ``hermite.monomial`` (integers ``n, j >= 0``): the coefficient of ``h_j`` in ``z^n``,
  ``n! / (sqrt(j!) 2^{(n-j)/2} ((n-j)/2)!)`` for ``n - j`` even and ``>= 0``, else 0; any polynomial's
  coefficients follow by linearity (:func:`polynomial_coefficients`, exact in SymPy).
* other activations: :func:`quadrature_coefficients` (mpmath Gauss-Hermite-free quadrature on the
  real line at a stated number of digits, with the quadrature's error estimate).
* ``hermite.information_exponent``: the first ``j >= 1`` with ``|c_j| > tol`` (Ben Arous, Gheissari &
  Jagannath 2021: with matched student and teacher activations it sets online SGD's sample complexity).
* ``hermite.mehler``: ``sum_j c_j^2 rho^j = E[sigma(z) sigma(z')]`` for unit-variance Gaussians with
  correlation ``rho`` (Mehler's formula); for ReLU this is the arc-cosine kernel ``kappa_1``
  (a claim), and its derivative in ``rho`` is ``kappa_0``.

Sources: the ReLU coefficients and the Mehler identity: DERIVED+CHECKED in the research note
(exact quadrature to 1e-8; here proved by SymPy integration for j <= 12 and by the derivation
above for every j); the information exponent: Ben Arous et al. 2021 (definition, setting).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from ._domain import Param, integer, interval, nonnegative, real
from ._registry import register
from ._result import Result

REFS = ("benarous2021online", "dayi2025thesis")
NORMALISATION = "normalised probabilists' Hermite polynomials h_j = He_j / sqrt(j!), z ~ N(0, 1)"

P_J = Param("j", integer(0), "j", "index of the normalised Hermite polynomial h_j")
j = P_J.symbol

# -- ReLU ------------------------------------------------------------------------------
RELU_DISPLAY = sp.Piecewise(
    (1 / sp.sqrt(2 * sp.pi), sp.Eq(j, 0)),
    (sp.Rational(1, 2), sp.Eq(j, 1)),
    (0, sp.Eq(sp.Mod(j, 2), 1)),
    ((-1) ** (j / 2 + 1) * sp.factorial2(j - 3) / sp.sqrt(2 * sp.pi * sp.factorial(j)), True),
)
# (j-3)!! = (j-2)! / (2^((j-2)/2) ((j-2)/2)!) for even j >= 2; the sign (-1)^(j/2+1) is +1 iff j = 2 mod 4
# log|c_j| as a kernel local, so that SymPy cannot fold exp(loggamma) back into an overflowing gamma
# (and j as a plain real local: SymPy rewrites loggamma of an integer symbol as log(gamma), which overflows)
_log_mag, _jr, _nr = sp.symbols("log_mag j_r n_r", real=True)
RELU_LOCALS = ((_jr, j), (_log_mag, sp.loggamma(_jr - 1) - (_jr - 2) / 2 * sp.log(2) - sp.loggamma(_jr / 2)
                          - sp.log(2 * sp.pi) / 2 - sp.loggamma(_jr + 1) / 2))
RELU_STABLE = sp.Piecewise(
    (1 / sp.sqrt(2 * sp.pi), sp.Eq(j, 0)),
    (sp.Rational(1, 2), sp.Eq(j, 1)),
    (0, sp.Eq(sp.Mod(j, 2), 1)),
    (sp.exp(_log_mag), sp.Eq(sp.Mod(j, 4), 2)),
    (-sp.exp(_log_mag), True),
)


def _relu_mp(j):
    j = int(j)
    if j == 0:
        return 1 / mpmath.sqrt(2 * mpmath.pi)
    if j == 1:
        return mpmath.mpf(1) / 2
    if j % 2:
        return mpmath.mpf(0)
    return (-1) ** (j // 2 + 1) * mpmath.fac2(j - 3) / mpmath.sqrt(2 * mpmath.pi * mpmath.factorial(j))


relu = register(Result(
    "hermite.relu", title="Normalised Hermite coefficients of ReLU",
    params=[P_J], expr=RELU_DISPLAY, output="c", output_latex="c_j",
    kernel_exprs=[RELU_STABLE], kernel_locals=RELU_LOCALS, rewrite=False, mp=_relu_mp,
    conditions=(NORMALISATION, "activation max(0, z) without the sqrt(2) He factor",
                "(-3)!! = (-1)!! = 1"),
    source="derived for every j from z He_j = He_{j+1} + j He_{j-1} (research note: DERIVED+CHECKED); "
           "checked by exact SymPy integration and 30-digit quadrature",
    references=REFS,
))

# -- monomials -------------------------------------------------------------------------
P_N = Param("n", integer(0), "n", "degree of the monomial z^n")
n = P_N.symbol
MONO_DISPLAY = sp.Piecewise(
    (sp.factorial(n) / (sp.sqrt(sp.factorial(j)) * 2 ** ((n - j) / 2) * sp.factorial((n - j) / 2)),
     (n >= j) & sp.Eq(sp.Mod(n - j, 2), 0)),
    (0, True),
)
_log_mono = sp.Symbol("log_mono", real=True)
MONO_LOCALS = ((_jr, j), (_nr, n), (_log_mono, sp.loggamma(_nr + 1) - sp.loggamma(_jr + 1) / 2
                                    - (_nr - _jr) / 2 * sp.log(2) - sp.loggamma((_nr - _jr) / 2 + 1)))
MONO_STABLE = sp.Piecewise(
    (sp.exp(_log_mono), (n >= j) & sp.Eq(sp.Mod(n - j, 2), 0)),
    (0, True),
)


def _mono_mp(n, j):
    n, j = int(n), int(j)
    if n < j or (n - j) % 2:
        return mpmath.mpf(0)
    return mpmath.factorial(n) / (mpmath.sqrt(mpmath.factorial(j)) * mpmath.mpf(2) ** ((n - j) // 2)
                                  * mpmath.factorial((n - j) // 2))


monomial = register(Result(
    "hermite.monomial", title="Normalised Hermite coefficients of a monomial",
    params=[P_N, P_J], expr=MONO_DISPLAY, output="c", output_latex=r"c_{n,j}",
    kernel_exprs=[MONO_STABLE], kernel_locals=MONO_LOCALS, rewrite=False, mp=_mono_mp,
    conditions=(NORMALISATION, "z^n = sum_j c_{n,j} h_j(z); zero unless n - j is even and >= 0"),
    source="inversion of the Hermite series (z^n = sum_k n!/(k! 2^k (n-2k)!) He_{n-2k}); checked by exact "
           "SymPy expansion",
    references=REFS,
))

# -- Mehler series ---------------------------------------------------------------------
P_C = Param("c", real(), "c", "normalised Hermite coefficients c_0, c_1, ... of the activation", vector=True)
P_RHO = Param("rho", interval(-1.0, 1.0), r"\rho", "correlation of the two unit-variance pre-activations")
_k = sp.Symbol("k", integer=True, nonnegative=True)
_c = P_C.indexed
MEHLER = sp.Sum(_c[_k] ** 2 * P_RHO.symbol ** _k, (_k, 0, P_C.length - 1))

mehler = register(Result(
    "hermite.mehler", title="Mehler series: correlation kernel of an activation",
    params=[P_C, P_RHO], expr=MEHLER, output="K", output_latex=r"E[\sigma(z)\sigma(z')]",
    conditions=(NORMALISATION, "z, z' standard Gaussians with correlation rho",
                "c truncates the expansion: the omitted tail is at most sum_{j >= len(c)} c_j^2"),
    source="Mehler's formula (E[h_j(z) h_k(z')] = delta_jk rho^j); its ReLU case is the arc-cosine kernel "
           "(research note check B4, here a claim)",
    references=REFS + ("cho2009kernel",),
))

# -- information exponent --------------------------------------------------------------
P_TOL = Param("tol", nonnegative(), r"\epsilon", "coefficients with |c_j| <= tol count as zero")


def _information_exponent(c, tol):
    if c.ndim != 1:
        raise ValueError(f"c: must be 1-D, got shape {c.shape}")
    tol = np.asarray(tol)
    nz = np.abs(c[1:, None]) > tol.reshape(1, -1)
    if not nz.any(axis=0).all():
        raise ValueError(f"c: no coefficient c_j with j >= 1 exceeds tol (the activation is constant up to tol); "
                         "the information exponent is undefined")
    return (np.argmax(nz, axis=0) + 1).astype(np.float64).reshape(tol.shape)


information_exponent = register(Result(
    "hermite.information_exponent", title="Information exponent of an activation",
    params=[P_C, P_TOL],
    expr=sp.Symbol(r"\min\{j \geq 1 : |c_j| > \epsilon\}"), output="k", output_latex=r"k^\ast",
    evaluator=_information_exponent,
    conditions=(NORMALISATION, "k* = min{j >= 1 : |c_j| > tol}; matched student and teacher activations",
                "for a teacher sigma* != sigma, use the coefficients c_j c*_j of the population correlation"),
    source="definition: Ben Arous, Gheissari & Jagannath 2021 (sample complexity of online SGD: d, d log d, "
           "d^(k*-1) steps for k* = 1, 2, >= 3)",
    references=REFS,
))


# -- library functions (exact polynomials, quadrature for anything else) ---------------
def polynomial_coefficients(coeffs: Sequence) -> list[sp.Expr]:
    """Exact normalised Hermite coefficients of ``sum_n coeffs[n] z^n`` (SymPy numbers)."""
    coeffs = [sp.nsimplify(a) for a in coeffs]
    deg = len(coeffs) - 1
    out = []
    for jj in range(deg + 1):
        out.append(sp.nsimplify(sum(a * MONO_DISPLAY.subs({n: nn, j: jj}) for nn, a in enumerate(coeffs))))
    return out


def quadrature_coefficients(f: Callable, jmax: int, *, dps: int = 30, breakpoints: Sequence[float] = (0.0,)):
    """``c_j = E[f(z) h_j(z)]``, j = 0..jmax, by mpmath quadrature at ``dps`` digits.

    ``f`` takes and returns mpmath numbers; give the points where ``f`` is not smooth in
    ``breakpoints`` (the quadrature splits there). Returns ``(coefficients, error_estimates)`` as
    lists of mpf; the error estimate is mpmath's (difference between two quadrature degrees),
    and the result should be trusted to ``max(error_estimates)``.
    """
    if jmax < 0:
        raise ValueError(f"jmax: must be >= 0, got {jmax}")
    with mpmath.workdps(dps + 10):
        pts = [-mpmath.inf] + sorted(mpmath.mpf(b) for b in breakpoints) + [mpmath.inf]
        coefs, errs = [], []
        for jj in range(jmax + 1):
            norm = 1 / mpmath.sqrt(mpmath.factorial(jj))
            val, err = mpmath.quad(lambda z: f(z) * mpmath.hermite(jj, z / mpmath.sqrt(2)) * 2 ** (-mpmath.mpf(jj) / 2)
                                   * norm * mpmath.npdf(z), pts, error=True)
            coefs.append(+val)
            errs.append(+err)
    return coefs, errs
