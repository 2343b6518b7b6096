r"""``linear_teacher.risk``: the anisotropic deterministic equivalent of min-norm fine-tuning.

Setting (Shachaf, Brutzkus, Globerson 2021, linear regression fine-tuned from :math:`w_S`):
inputs :math:`x \in \mathbb{R}^d` with covariance :math:`\Sigma = \sum_i \lambda_i v_i v_i^\top`,
noisy labels :math:`y = w_T\cdot x + \epsilon`, :math:`\langle\epsilon^2\rangle = \sigma^2`, :math:`n` samples.
Gradient descent from :math:`w_S` converges to the interpolator closest to :math:`w_S`
(:math:`w_S + X^{+}(y - Xw_S)`), whose risk is
:math:`\delta^\top(I-P_X)\Sigma(I-P_X)\delta` plus a noise term, :math:`\delta = w_T - w_S`.
Its proportional-limit deterministic equivalent (Hastie-Montanari-Rosset-Tibshirani type; **not**
a formula of Shachaf et al., research note teachers-lora.md §1.2, DERIVED+CHECKED) is, with
:math:`\delta_i = \langle v_i, \delta\rangle` (the parameter ``delta``) and :math:`\kappa > 0` solving
:math:`n = \sum_i \lambda_i/(\lambda_i+\kappa)` (for :math:`n < d`),

.. math::
   R = \frac{\kappa^2\sum_i \lambda_i\delta_i^2/(\lambda_i+\kappa)^2 + \sigma^2 S_2}{1 - S_2},
   \qquad S_2 = \frac1n\sum_i\frac{\lambda_i^2}{(\lambda_i+\kappa)^2}.

Convention: this :math:`\kappa` is per sample, :math:`\kappa = \kappa_{\rm lc}/n` where
:math:`\kappa_{\rm lc}` is ``learning_curve.kappa`` (P-scaled) at :math:`P = n`, ridge 0, multiplicities 1:
the risk is ``learning_curve.error`` with target power :math:`\lambda_i\delta_i^2` (the kernel
:math:`x\cdot x'` has eigenvalues :math:`\lambda_i` and eigenfunctions :math:`v_i\cdot x/\sqrt{\lambda_i}`),
and it is solved by the same fixed-point solver (``numerics._fixed_point``). For :math:`n > d`,
:math:`\kappa = 0` and :math:`R = \sigma^2 d/(n-d)` (least squares); :math:`n = d` with
:math:`\sigma^2 > 0` diverges and is refused.

Isotropic reduction (claim): :math:`\Sigma = I_d` gives :math:`\kappa = (d-n)/n`, :math:`S_2 = n/d`, and
:math:`R = (1 - n/d)\lVert\delta\rVert^2 + \sigma^2 n/(d-n)`, the large-:math:`d` form of the exact
finite-:math:`n` ``linear_teacher.risk_isotropic`` (noise term :math:`\sigma^2 n/(d-n-1)`).
Finite-size bias: against Monte Carlo at :math:`d \approx 400` the equivalent is off by about
1-2% (research note check A3); the claims bound it by 2% of the value.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from numerics._fixed_point import learning_curve as _solve

from ._domain import Param, nonnegative, positive, real
from ._learning_curve import error_mp
from ._registry import register
from ._result import Result

REFS = ("shachaf2021theoretical",)

P_EIG = Param("eigenvalues", positive(), r"\lambda", "eigenvalues of the input covariance Sigma", vector=True)
P_DELTA = Param("delta", real(), r"\delta",
                "components of delta = w_T - w_S in the eigenbasis of Sigma (one per eigenvalue)", vector=True)
P_N = Param("n", positive(), "n", "number of target samples (real values interpolate)")
P_SIGMA2 = Param("sigma2", nonnegative(), r"\sigma^{2}", "label-noise variance")

_i = sp.Idx("i")
_lam, _dl = sp.IndexedBase("lambda", positive=True), sp.IndexedBase("delta", real=True)
_d = sp.Symbol("d", integer=True, positive=True)
n, sigma2 = P_N.symbol, P_SIGMA2.symbol
kappa = sp.Symbol("kappa", positive=True)
S2 = sp.Symbol("S_2", positive=True)

RISK_EXPR = (kappa**2 * sp.Sum(_lam[_i] * _dl[_i] ** 2 / (_lam[_i] + kappa) ** 2, (_i, 0, _d - 1))
             + sigma2 * S2) / (1 - S2)
S2_EXPR = sp.Sum(_lam[_i] ** 2 / (_lam[_i] + kappa) ** 2, (_i, 0, _d - 1)) / n
KAPPA_EXPR = kappa * sp.Sum(_lam[_i] / (_lam[_i] + kappa), (_i, 0, _d - 1)) / n


def _risk_eval(eigenvalues, delta, n, sigma2):
    mult = np.ones_like(eigenvalues)
    d = eigenvalues.size
    out = _solve(eigenvalues, mult, n, 0.0, eigenvalues * delta * delta, sigma2)["error"]
    bad = np.isinf(out)
    if bad.any():
        raise ValueError(f"n: n = d = {d} samples with sigma2 > 0: the min-norm estimator's noise term diverges at "
                         "the interpolation threshold; use n != d")
    return out


def _risk_mp(eigenvalues, delta, n, sigma2):
    lam = list(eigenvalues)
    return error_mp(lam, [mpmath.mpf(1)] * len(lam), n, 0, [li * di**2 for li, di in zip(lam, delta)], sigma2)


risk = register(Result(
    "linear_teacher.risk",
    title="Min-norm fine-tuning from w_S: anisotropic deterministic equivalent of the risk, with label noise",
    params=[P_EIG, P_DELTA, P_N, P_SIGMA2],
    expr=RISK_EXPR, output="R", output_latex=r"\mathbb{E}\,R",
    definitions=((S2, S2_EXPR), (kappa, KAPPA_EXPR)),
    conditions=(
        "rows of X i.i.d. with covariance Sigma = sum_i lambda_i v_i v_i^T (Gaussian in the checks); "
        "delta_i = <v_i, w_T - w_S>; label noise of variance sigma2",
        "estimator: the interpolator closest to w_S (limit of gradient descent from w_S); least squares for n > d",
        "proportional-limit deterministic equivalent: exact as n, d -> inf with n/d fixed; about 1-2% bias at d ~ 400",
        "kappa > 0 solves n = sum_i lambda_i/(lambda_i + kappa) for n < d (per-sample kappa = learning_curve kappa "
        "/ n); kappa = 0 for n >= d; n = d with sigma2 > 0 is refused (diverges)",
        "display: d = len(eigenvalues)",
    ),
    source=("Standard ridgeless deterministic equivalent (Hastie-Montanari-Rosset-Tibshirani type) applied to "
            "delta = w_T - w_S: research note teachers-lora.md §1.2 (DERIVED+CHECKED); not a formula of Shachaf et "
            "al., whose setting (fine-tuning with linear teachers) it serves"),
    references=REFS,
    mp=_risk_mp, evaluator=_risk_eval,
))

__all__ = ["risk"]
