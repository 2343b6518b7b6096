r"""Kernel-regression learning curves (Bordelon, Canatar, Pehlevan 2020; Canatar et al. 2021).

Setting. A kernel with Mercer eigenvalues :math:`\lambda_k` (each with multiplicity
:math:`m_k`, i.e. :math:`m_k` orthonormal eigenfunctions share :math:`\lambda_k`) under the
input distribution; a target :math:`\bar f = \sum v_\rho \phi_\rho` whose total power on the
eigenspace of :math:`\lambda_k` is ``target_power``\ :math:`_k = \sum_{\rho\in k} v_\rho^2`;
labels :math:`y = \bar f(x) + \epsilon` with :math:`\langle\epsilon^2\rangle = \sigma^2` (``noise``);
kernel ridge regression :math:`f = k(x)^\top (K + r I)^{-1} y` on :math:`P` samples with the
Gram matrix :math:`K_{\mu\nu} = K(x_\mu, x_\nu)` **without 1/P** and ridge :math:`r` (``ridge``).

Conventions (lazyrich DESIGN): P-scaled :math:`\kappa`,

.. math::
   \kappa = r + \kappa \sum_k \frac{m_k\lambda_k}{\lambda_k P + \kappa}, \qquad
   \gamma = P\sum_k \frac{m_k \lambda_k^2}{(\lambda_k P + \kappa)^2} \ (\texttt{gamma\_overlap}), \\
   E_k = \frac{\kappa^2}{(1-\gamma)(\lambda_k P+\kappa)^2}, \qquad
   E_g = \sum_k (\text{target\_power})_k E_k + \frac{\sigma^2 \gamma}{1-\gamma}.

:math:`E_k` is the error on the eigenspace per unit target power, normalised so
:math:`E_k = 1` at :math:`P = 0`. The noise term is the estimator's variance; the test error
excludes the label noise of the test point. The equivalent form with :math:`\tilde\kappa = \kappa/P`
(:math:`\tilde\kappa = r/P + (\tilde\kappa/P)\sum_k m_k\lambda_k/(\lambda_k+\tilde\kappa)`) is a claim.
Mapping: BCP write :math:`\bar f = \sum \bar w_k \psi_k` with :math:`\psi_k = \sqrt{\lambda_k}\phi_k`,
so :math:`v_k^2 = \lambda_k \bar w_k^2`; their "degeneracy" :math:`g` is ``multiplicities``; their
:math:`\gamma` is ``gamma_overlap`` here (never bare gamma, which names richness).

Ridgeless limit (:math:`r = 0`): with :math:`N = \sum_k m_k` modes, :math:`\kappa > 0` solves
:math:`1 = \sum_k m_k\lambda_k/(\lambda_kP+\kappa)` for :math:`P < N`; for :math:`P \ge N`,
:math:`\kappa = 0`, :math:`\gamma = N/P`, :math:`E_k = 0` and :math:`E_g = \sigma^2 N/(P - N)`
(infinite at :math:`P = N`, which ``learning_curve.error`` refuses when :math:`\sigma^2 > 0`).

Numerics: ``numerics._fixed_point`` (safeguarded Newton on the convex residual, warm-started
along sorted sweeps). The formula is derived from a replica / continuum argument and is exact
in the limit of many modes and samples; at finite P it carries an O(1/P) bias (claims and
tests allow for it when comparing with Monte Carlo).

Sources: research note infinite-width.md §2.1 (VERIFIED in Karakida & Akaho 2022 Eqs. (8)-(9),
Atanasov et al. 2022 App. F, and the Pehlevan group's code); BibTeX bordelon2020spectrum,
canatar2021spectral. Equation numbers of those papers are not quoted (not verified).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from numerics._fixed_point import learning_curve as _solve

from ._domain import Param, nonnegative, positive
from ._registry import register
from ._result import Output, Result

REFS = ("bordelon2020spectrum", "canatar2021spectral")

P_EIG = Param("eigenvalues", positive(), r"\lambda", "kernel eigenvalues (distinct values)", vector=True)
P_MULT = Param("multiplicities", positive(), "m",
               "multiplicity of each eigenvalue (number of eigenfunctions sharing it; real values allowed "
               "for continuum approximations)", vector=True)
P_P = Param("P", nonnegative(), "P", "number of training samples (real values interpolate)")
P_RIDGE = Param("ridge", nonnegative(), "r", "ridge added to the Gram matrix K (kernel without 1/P)")
P_POWER = Param("target_power", nonnegative(), "v^{2}",
                "target's total power on each eigenvalue's eigenspace", vector=True)
P_NOISE = Param("noise", nonnegative(), r"\sigma^{2}", "label-noise variance sigma^2")

PARAMS = [P_EIG, P_MULT, P_P, P_RIDGE]

_k = sp.Idx("k")
# display symbols (the evaluator, not these expressions, computes the numbers)
_lam, _m = sp.IndexedBase("lambda", positive=True), sp.IndexedBase("m", positive=True)
_v2 = sp.IndexedBase("v", real=True)
_M = sp.Symbol("M", integer=True, positive=True)
P, r, sigma2 = P_P.symbol, P_RIDGE.symbol, P_NOISE.symbol
kappa = sp.Symbol("kappa", positive=True)
gamma_overlap = sp.Symbol("gamma_overlap", nonnegative=True)
E = sp.IndexedBase("E", real=True)

FIXED_POINT_RHS = r + kappa * sp.Sum(_m[_k] * _lam[_k] / (_lam[_k] * P + kappa), (_k, 0, _M - 1))
GAMMA_EXPR = P * sp.Sum(_m[_k] * _lam[_k] ** 2 / (_lam[_k] * P + kappa) ** 2, (_k, 0, _M - 1))
MODE_EXPR = kappa**2 / ((1 - gamma_overlap) * (_lam[_k] * P + kappa) ** 2)
ERROR_EXPR = (sp.Sum(_v2[_k] ** 2 * kappa**2 / (_lam[_k] * P + kappa) ** 2, (_k, 0, _M - 1))
              + sigma2 * gamma_overlap) / (1 - gamma_overlap)

DEF_KAPPA = (kappa, FIXED_POINT_RHS)
DEF_GAMMA = (gamma_overlap, GAMMA_EXPR)

CONDITIONS = (
    "kernel ridge regression f = k(x)^T (K + ridge I)^-1 y with K_{mu nu} = K(x_mu, x_nu) (no 1/P)",
    "kappa is the unique positive root for ridge > 0; for ridge = 0 the positive root when "
    "P < N = sum(multiplicities), and kappa = 0 when P >= N",
    "replica / continuum approximation: exact for many modes and samples, O(1/P) bias at finite P",
    "E_k is per unit target power on eigenvalue k's eigenspace, E_k = 1 at P = 0",
    "display: lambda_k = eigenvalues, m_k = multiplicities, v_k^2 = target_power, M = number of distinct "
    "eigenvalues, r = ridge, sigma^2 = noise",
)
SOURCE = ("Bordelon, Canatar, Pehlevan 2020; Canatar, Bordelon, Pehlevan 2021, in the P-scaled kappa form of the "
          "Pehlevan group's code (research note infinite-width.md §2.1, VERIFIED); equation numbers not quoted")


# -- numerics ---------------------------------------------------------------------------
def _kappa_eval(eigenvalues, multiplicities, P, ridge):
    return _solve(eigenvalues, multiplicities, P, ridge, kappa_only=True)["kappa"]


def _gamma_eval(eigenvalues, multiplicities, P, ridge):
    return _solve(eigenvalues, multiplicities, P, ridge)["gamma_overlap"]


def _modes_eval(eigenvalues, multiplicities, P, ridge):
    return _solve(eigenvalues, multiplicities, P, ridge, modes=True)["mode_errors"]


def _error_eval(eigenvalues, multiplicities, P, ridge, target_power, noise):
    out = _solve(eigenvalues, multiplicities, P, ridge, target_power, noise)["error"]
    bad = np.isinf(out)
    if bad.any():
        Pb = np.broadcast_to(P, out.shape)[bad].flat[0]
        raise ValueError(f"noise: the noise term sigma^2 gamma/(1 - gamma) diverges at the ridgeless interpolation "
                         f"threshold P = sum(multiplicities) = {float(Pb)!r} with ridge = 0 and noise > 0; "
                         "use ridge > 0 or P != sum(multiplicities)")
    return out


# -- mpmath twins (an independent formulation: bracketed root of 1 - S - r/kappa) ------------
def kappa_mp(eigenvalues, multiplicities, P, ridge):
    """kappa at the working precision: Anderson-Bjorck bracketing on g = 1 - S(kappa) - ridge/kappa."""
    lam, m = list(eigenvalues), list(multiplicities)
    P, ridge = mpmath.mpf(P), mpmath.mpf(ridge)
    trace = mpmath.fsum(mi * li for mi, li in zip(m, lam))
    n_modes = mpmath.fsum(m)
    if P == 0:
        return ridge + trace
    if ridge == 0 and n_modes <= P:
        return mpmath.mpf(0)

    def g(k):
        return 1 - mpmath.fsum(mi * li / (li * P + k) for mi, li in zip(m, lam)) - ridge / k

    lo = ridge if ridge > 0 else trace * mpmath.mpf(10) ** (-2 * mpmath.mp.dps)
    hi = ridge + trace
    return mpmath.findroot(g, (lo, hi), solver="anderson")


def _gamma_mp_at(lam, m, P, k):
    if k == 0:
        return mpmath.fsum(m) / P
    return P * mpmath.fsum(mi * li**2 / (li * P + k) ** 2 for mi, li in zip(m, lam))


def gamma_mp(eigenvalues, multiplicities, P, ridge):
    k = kappa_mp(eigenvalues, multiplicities, P, ridge)
    return _gamma_mp_at(list(eigenvalues), list(multiplicities), mpmath.mpf(P), k)


def mode_errors_mp(eigenvalues, multiplicities, P, ridge):
    lam, m, P = list(eigenvalues), list(multiplicities), mpmath.mpf(P)
    k = kappa_mp(lam, m, P, ridge)
    if k == 0:
        return [mpmath.mpf(0) for _ in lam]
    g = _gamma_mp_at(lam, m, P, k)
    return [k**2 / ((1 - g) * (li * P + k) ** 2) for li in lam]


def error_mp(eigenvalues, multiplicities, P, ridge, target_power, noise):
    lam, m, P = list(eigenvalues), list(multiplicities), mpmath.mpf(P)
    k = kappa_mp(lam, m, P, ridge)
    g = _gamma_mp_at(lam, m, P, k)
    bias = mpmath.mpf(0) if k == 0 else mpmath.fsum(
        v * k**2 / ((1 - g) * (li * P + k) ** 2) for v, li in zip(target_power, lam))
    return bias + (noise * g / (1 - g) if noise != 0 else 0)


kappa_result = register(Result(
    "learning_curve.kappa",
    title="Kernel-regression learning curve: the kappa fixed point (P-scaled)",
    params=PARAMS,
    expr=FIXED_POINT_RHS, output="kappa", output_latex=r"\kappa",
    conditions=CONDITIONS, source=SOURCE, references=REFS,
    mp=kappa_mp, evaluator=_kappa_eval,
    notes="Safeguarded Newton (numerics._fixed_point), warm-started along P ascending at fixed ridge.",
))

gamma_result = register(Result(
    "learning_curve.gamma_overlap",
    title="Kernel-regression learning curve: the overlap factor gamma_overlap",
    params=PARAMS,
    expr=GAMMA_EXPR, output="gamma_overlap", output_latex=r"\gamma_{\mathrm{overlap}}",
    definitions=(DEF_KAPPA,),
    conditions=CONDITIONS + ("0 <= gamma_overlap < 1, except gamma_overlap = 1 at the ridgeless threshold P = N "
                             "(N/P < 1 beyond it)",),
    source=SOURCE, references=REFS,
    mp=gamma_mp, evaluator=_gamma_eval,
))

mode_errors = register(Result(
    "learning_curve.mode_errors",
    title="Kernel-regression learning curve: error per eigenvalue (E_k = 1 at P = 0)",
    params=PARAMS,
    outputs=[Output("E", MODE_EXPR, r"E_{k}")],
    definitions=(DEF_GAMMA, DEF_KAPPA),
    conditions=CONDITIONS + ("returns an array of shape (*broadcast(P, ridge), len(eigenvalues))",
                             "1 - gamma is evaluated as ridge/kappa + kappa sum m lam/(lam P + kappa)^2 "
                             "(no cancellation near the interpolation threshold)"),
    source=SOURCE, references=REFS,
    mp=mode_errors_mp, evaluator=_modes_eval,
))

error = register(Result(
    "learning_curve.error",
    title="Kernel-regression learning curve: generalization error E_g with label noise",
    params=PARAMS + [P_POWER, P_NOISE],
    outputs=[Output("E_g", ERROR_EXPR, r"E_{g}")],
    definitions=(DEF_GAMMA, DEF_KAPPA),
    conditions=CONDITIONS + ("test error without the test label's noise: E_x (f(x) - fbar(x))^2, averaged over "
                             "training sets", "ridge = 0, P = sum(multiplicities), noise > 0 is refused (diverges)"),
    source=SOURCE, references=REFS,
    mp=error_mp, evaluator=_error_eval,
))

__all__ = ["error", "gamma_result", "kappa_result", "mode_errors"]
