r"""Linear regression fine-tuned from source weights (``linear_teacher.*``).

Setting (Shachaf, Brutzkus, Globerson, NeurIPS 2021, "A theoretical analysis of
fine-tuning with linear teachers"; cited for the setting only, their theorem
statements were not available): inputs ``x`` in R^d with ``E[x x^T] = Sigma``,
a linear target (teacher) ``y = w_T . x`` (plus label noise where stated),
pretrained (source) weights ``w_S``, and ``n`` target samples, the rows of
``X`` (n x d). Fine-tuning is gradient descent or flow on
``(1/2n) ||X w - y||^2`` started at ``w_S``. Paper notation: theta_S, theta_T.

Results (all lazyrich derivations, DERIVED+CHECKED in the research note
teachers-lora.md §1.2; the claims re-check them):

* ``linear_teacher.estimator``: GD from ``w_S`` stays in ``w_S + row(X)`` and
  converges to the interpolator closest to ``w_S``,
  ``w_ft = w_S + X^+ (y - X w_S) = P_X w_T + (I - P_X) w_S`` for noiseless labels,
  ``P_X = X^T (X X^T)^{-1} X`` the projection on the row space of X;
* ``linear_teacher.sample_risk``: its exact risk for the given sample,
  ``R = E_x[(w_ft . x - w_T . x)^2] = delta^T (I - P_X) Sigma (I - P_X) delta``,
  ``delta = w_T - w_S`` (the "bias" term of min-norm interpolation applied to delta);
* ``linear_teacher.risk_isotropic``: for x ~ N(0, I_d) and labels with noise of
  variance ``sigma2``, ``E R = (1 - n/d) ||delta||^2 + sigma2 n / (d - n - 1)``
  (``E P_X = (n/d) I`` by rotational invariance; ``E (X X^T)^{-1} = I/(d - n - 1)``,
  the inverse-Wishart mean, which needs n <= d - 2).

Numerics: the projection uses an orthonormal basis of row(X) from the SVD; an X
whose row space is not determined to 1e-8 (singular values between the rank
cut-off and 1e-8 of the largest) is refused with a ValueError.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from numerics._blas_threads import one_blas_thread

from ._domain import Constraint, Param, integer, nonnegative, real
from ._registry import register
from ._result import Result

REFS = ("shachaf2021theoretical",)
SETTING = (
    "linear model w . x fine-tuned by gradient descent/flow on (1/2n) ||X w - y||^2 started at w_S "
    "(X: n x d, one target sample per row)",
    "noiseless teacher labels y = X w_T",
)
SOURCE = ("lazyrich derivation (research note teachers-lora.md §1.2, DERIVED+CHECKED) in the setting of "
          "Shachaf, Brutzkus, Globerson 2021; not a theorem quoted from the paper")
ROW_SPACE_RTOL = 1e-8

# -- parameters ----------------------------------------------------------------------
P_X = Param("X", real(), "X", "target design matrix, n samples x d features (one sample per row)", ndim=2)
P_WT = Param("wT", real(), "w_T", "target (teacher) weights, length d", vector=True)
P_WS = Param("wS", real(), "w_S", "source (pretrained) weights, length d", vector=True)
P_SIGMA = Param("Sigma", real(), r"\Sigma", "input covariance E[x x^T], d x d symmetric positive semidefinite",
                ndim=2)


# -- shared numerics ---------------------------------------------------------------------
def row_space_basis(X: np.ndarray) -> np.ndarray:
    """Orthonormal basis (d x r) of the row space of X, or ValueError if it is ill-determined."""
    n, d = X.shape
    with one_blas_thread():  # threaded OpenBLAS was 60x slower on the shared cores
        _, sv, Vt = np.linalg.svd(X, full_matrices=False)
    if sv[0] == 0.0:
        return np.zeros((d, 0))
    cut = sv[0] * max(n, d) * np.finfo(float).eps
    grey = (sv > cut) & (sv < ROW_SPACE_RTOL * sv[0])
    if grey.any():
        raise ValueError(f"X: ill-conditioned: singular values {sv[grey].min():.3g} .. {sv[0]:.3g}; the row space "
                         f"of X (hence P_X and the limit of gradient descent) is not determined to {ROW_SPACE_RTOL:g}")
    return Vt[sv > cut].T


def check_design(X: np.ndarray, *vectors: tuple[str, np.ndarray]) -> None:
    """X must be n x d with every named vector of length d."""
    d = X.shape[1]
    for name, v in vectors:
        if v.shape != (d,):
            raise ValueError(f"{name}: must have one entry per column of X (d = {d}), got shape {v.shape}")


def check_covariance(Sigma: np.ndarray, d: int) -> None:
    if Sigma.shape != (d, d):
        raise ValueError(f"Sigma: must be d x d with d = {d} the number of columns of X, got shape {Sigma.shape}")
    scale = float(np.max(np.abs(Sigma))) if Sigma.size else 0.0
    if np.max(np.abs(Sigma - Sigma.T)) > 1e-12 * scale:
        raise ValueError("Sigma: must be symmetric (a covariance matrix)")
    # positive semidefinite up to rounding: Cholesky of Sigma + (1e-12 d max|Sigma|) I (cheaper than eigenvalues)
    try:
        with one_blas_thread():
            np.linalg.cholesky(Sigma + (1e-12 * scale * d + np.finfo(float).tiny) * np.eye(d))
    except np.linalg.LinAlgError:
        raise ValueError("Sigma: must be positive semidefinite (a covariance matrix)") from None


def null_component(Q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(I - P_X) v with Q an orthonormal basis of row(X)."""
    return v - Q @ (Q.T @ v)


def _estimator(X, wT, wS):
    check_design(X, ("wT", wT), ("wS", wS))
    Q = row_space_basis(X)
    return wT - null_component(Q, wT - wS)


def _sample_risk(X, Sigma, wT, wS):
    check_design(X, ("wT", wT), ("wS", wS))
    check_covariance(Sigma, X.shape[1])
    e = null_component(row_space_basis(X), wT - wS)
    with one_blas_thread():
        return np.asarray(max(float(e @ Sigma @ e), 0.0))


# -- mpmath twins (independent route: the normal equations, not the SVD) --------------------
def mp_projection(X: mpmath.matrix) -> mpmath.matrix:
    """P_X = X^T (X X^T)^{-1} X at the working precision (X of full row rank)."""
    return X.T * mpmath.inverse(X * X.T) * X


def _mp_vec(v) -> mpmath.matrix:
    return mpmath.matrix(list(v))


def _estimator_mp(X, wT, wS):
    P = mp_projection(X)
    wT, wS = _mp_vec(wT), _mp_vec(wS)
    return P * wT + (mpmath.eye(X.cols) - P) * wS


def _sample_risk_mp(X, Sigma, wT, wS):
    e = (mpmath.eye(X.cols) - mp_projection(X)) * (_mp_vec(wT) - _mp_vec(wS))
    return (e.T * Sigma * e)[0]


# -- display -------------------------------------------------------------------------------
_n, _d = sp.symbols("n d", integer=True, positive=True)
X_m = sp.MatrixSymbol("X", _n, _d)
P_m = sp.MatrixSymbol("P_X", _d, _d)
wT_m, wS_m = sp.MatrixSymbol("w_T", _d, 1), sp.MatrixSymbol("w_S", _d, 1)
Sigma_m = sp.MatrixSymbol("Sigma", _d, _d)
delta_m = sp.MatrixSymbol("delta", _d, 1)
I_d = sp.Identity(_d)
PROJECTION = X_m.T * (X_m * X_m.T).inverse() * X_m
ESTIMATOR = P_m * wT_m + (I_d - P_m) * wS_m
SAMPLE_RISK = delta_m.T * (I_d - P_m) * Sigma_m * (I_d - P_m) * delta_m

estimator = register(Result(
    "linear_teacher.estimator",
    title="Limit of gradient descent from the source weights: the interpolator closest to w_S",
    params=[P_X, P_WT, P_WS],
    expr=ESTIMATOR, output="w_ft", output_latex=r"w_{\mathrm{ft}}",
    definitions=((P_m, PROJECTION),),
    conditions=SETTING + (
        "step size eta < 2 / lambda_max(X^T X / n) (or gradient flow), run to convergence",
        "P_X is the orthogonal projection on the row space of X (X^T (X X^T)^{-1} X for full row rank; "
        "the formula w_S + X^+(y - X w_S) holds for any rank); n < d makes the fit an interpolation",
        "refused when the row space of X is not determined to 1e-8 (nearly dependent samples)",
    ),
    source=SOURCE,
    references=REFS,
    evaluator=_estimator,
    mp=_estimator_mp,
))

sample_risk = register(Result(
    "linear_teacher.sample_risk",
    title="Exact risk of the fine-tuned linear regressor for a given sample",
    params=[P_X, P_SIGMA, P_WT, P_WS],
    expr=SAMPLE_RISK, output="R", output_latex=r"\mathcal{R}(w_{\mathrm{ft}})",
    definitions=((delta_m, wT_m - wS_m), (P_m, PROJECTION)),
    conditions=SETTING + (
        "risk R = E_x[(w_ft . x - w_T . x)^2] with E[x x^T] = Sigma (any distribution with that covariance)",
        "w_ft = linear_teacher.estimator, so w_ft - w_T = -(I - P_X) delta",
    ),
    source=SOURCE,
    references=REFS,
    evaluator=_sample_risk,
    mp=_sample_risk_mp,
))

# -- isotropic expected risk -----------------------------------------------------------------
P_N = Param("n", integer(min=0), "n", "number of target samples")
P_D = Param("d", integer(min=1), "d", "input dimension")
P_DELTA2 = Param("delta_norm2", nonnegative(), r"\|\delta\|^{2}", "||w_T - w_S||^2")
P_SIGMA2 = Param("sigma2", nonnegative(), r"\sigma^{2}", "variance of the label noise")
n, d, delta2, sigma2 = P_N.symbol, P_D.symbol, P_DELTA2.symbol, P_SIGMA2.symbol

BIAS_ISO = (1 - n / d) * delta2
NOISE_ISO = sigma2 * n / (d - n - 1)
# (d - n)/d is exact for integers; 1 - n/d cancels when n is close to d
_BIAS_STABLE = sp.Mul(d - n, 1 / d, delta2, evaluate=False)
RISK_ISO = sp.Piecewise((_BIAS_STABLE, sp.Eq(sigma2, 0)), (_BIAS_STABLE + NOISE_ISO, True))


def _risk_iso_mp(n, d, delta_norm2, sigma2):
    bias = (1 - n / d) * delta_norm2
    return bias if sigma2 == 0 else bias + sigma2 * n / (d - n - 1)


risk_isotropic = register(Result(
    "linear_teacher.risk_isotropic",
    title="Expected risk of fine-tuned linear regression, isotropic Gaussian inputs, exact at finite n and d",
    params=[P_N, P_D, P_DELTA2, P_SIGMA2],
    expr=BIAS_ISO + NOISE_ISO, output="R", output_latex=r"\mathbb{E}_{X,\varepsilon}\,\mathcal{R}",
    kernel_exprs=[RISK_ISO],
    constraints=[
        Constraint(("n", "d"), "n must be <= d (interpolation regime)", lambda n, d: n <= d),
        Constraint(("n", "d", "sigma2"),
                   "n must be <= d - 2 when sigma2 > 0 (the noise term sigma2 n/(d - n - 1) is the inverse-Wishart "
                   "mean, infinite at n = d - 1)",
                   lambda n, d, sigma2: (sigma2 == 0) | (n <= d - 2)),
    ],
    conditions=(
        "inputs x ~ N(0, I_d) (the bias term needs only a rotation-invariant design; the noise term needs "
        "Gaussian inputs with identity covariance)",
        "labels y = X w_T + eps with eps ~ N(0, sigma2 I_n) independent of X",
        "estimator: limit of gradient descent from w_S (linear_teacher.estimator with X^+ y); delta = w_T - w_S",
        "expectation over the design X and the noise; R = ||w_ft - w_T||^2",
    ),
    source=("lazyrich derivation (research note teachers-lora.md §1.2, DERIVED+CHECKED): E P_X = (n/d) I by "
            "rotational invariance, E (X X^T)^{-1} = I/(d - n - 1) (inverse Wishart); setting of Shachaf et al. 2021"),
    references=REFS,
    mp=_risk_iso_mp,
))

__all__ = ["check_covariance", "check_design", "estimator", "mp_projection", "null_component", "risk_isotropic",
           "row_space_basis", "sample_risk"]
