r"""Deep linear networks fine-tuned from balanced pretrained weights (``deep_linear.*``).

Setting (Shachaf, Brutzkus, Globerson, NeurIPS 2021; cited for the setting only:
their theorem statements were not available, and that the results below are the
paper's is plausible but UNKNOWN): a scalar-output linear network
``f(x) = W_L ... W_1 x`` with end-to-end vector ``w``, pretrained layers that are
balanced (``W_{j+1}^T W_{j+1} = W_j W_j^T``, hence rank one, product ``w_S``),
fine-tuned by gradient flow on ``(1/2n) ||X w - y||^2`` with noiseless teacher
labels ``y = X w_T`` (n samples, rows of X).

Derivation (lazyrich, research note teachers-lora.md §1.3, DERIVED+CHECKED; the
claims re-check each step). From balanced layers the end-to-end vector obeys
``dw/dt = -||w||^{2-2/L} [g + (L-1)(w^.g) w^]`` with ``g`` in row(X) (Arora,
Cohen, Hazan 2018; the layer-wise flow is integrated in the claims), so the
null-space part ``b = (I - P_X) w`` only rescales: ``d log||b|| = ((L-1)/L) d log||w||``.
The limit is

.. math:: w_{ft} = P_X w_T + s\,(I - P_X) w_S,\qquad s = (r/\|w_S\|)^{(L-1)/L},

where ``r = ||w_ft||`` is the unique positive root of
``r^2 = ||P_X w_T||^2 + (r/||w_S||)^{2-2/L} ||(I - P_X) w_S||^2``. With
``z = (r/||w_S||)^{2/L}`` (the squared singular value of one layer, relative) this
is the polynomial ``z^L - beta z^{L-1} - alpha = 0``, ``alpha = ||P_X w_T||^2/||w_S||^2``,
``beta = ||(I - P_X) w_S||^2/||w_S||^2``: quadratic, cubic, quartic for L = 2, 3, 4
(solved by SymPy in the claims). The kernel solves for ``t = log(r/||w_S||)``,

.. math:: \frac{2(L-1)}{L} t + \log\big(e^{2t/L} - \beta\big) - \log\alpha = 0,

increasing in t, by safeguarded Newton on the bracket
``(L/2) max(log beta - 8u(1 + |log beta|), log(alpha)/L - log 2) <= t <= (L/2)(max(log beta, log(alpha)/L) + log 2)``
(the residual is negative and positive at its ends for every integer L >= 2), with
explicit branches at L = 1 (s = 1: the shallow estimator), alpha = 0 and beta = 0.
Working in t keeps ``r = ||w_S|| e^t`` and ``s = e^{t (L-1)/L}`` accurate for any depth; ``z - beta`` is
computed as ``expm1(2t/L) + (1 - beta)`` when beta > 1/2 (no cancellation near z = 1), and ``log alpha`` as a
sum of logarithms (alpha may underflow).

Risk ``R = ||(I - P_X)(w_T - s w_S)||_Sigma^2``. Isotropic high-dimensional limit
(rho = n/d fixed, x ~ N(0, I)): ``||P_X v||^2 -> rho ||v||^2``, so alpha = rho ||w_T||^2/||w_S||^2,
beta = 1 - rho and ``R -> (1 - rho) ||w_T - s w_S||^2``, evaluated as
``(1 - rho)[(||w_T|| - s||w_S||)^2 + 2 s ||w_T|| ||w_S|| (1 - cos)]`` (no cancellation).
As L -> inf, s -> ||w_T||/||w_S|| and R -> 2(1 - rho)||w_T||^2 (1 - cos): only the
direction of w_S matters.

Frozen layers: training only the last layer of a balanced (rank-one) pretrained
net keeps ``w`` in span(w_S), so (Sigma = I) its risk is at least
``||w_T||^2 sin^2 angle(w_T, w_S)`` (total failure when w_T is orthogonal to w_S).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1

from numerics import Implicit
from numerics._blas_threads import one_blas_thread

from . import _linear_teacher as lt
from ._domain import Constraint, Domain, Param, integer, interval, nonnegative, positive
from ._registry import register
from ._result import Output, Result

REFS = ("shachaf2021theoretical",)
SOURCE = ("lazyrich derivation (research note teachers-lora.md §1.3, DERIVED+CHECKED) in the setting of Shachaf, "
          "Brutzkus, Globerson 2021; not a theorem quoted from the paper")
SETTING = (
    "scalar-output linear network W_L ... W_1 x with balanced pretrained layers (W_{j+1}^T W_{j+1} = W_j W_j^T, "
    "rank one, end-to-end vector w_S != 0)",
    "fine-tuned by gradient flow (or gradient descent with steps small enough to keep balancedness) on "
    "(1/2n) ||X w - y||^2 until convergence",
)
INF_DEPTH = 1e300  # L above this is evaluated as L = inf (the finite-L value differs by O(1/L))

# -- the root r = ||w_ft|| ---------------------------------------------------------------------
P_L = Param("L", integer(min=1), "L", "depth: number of weight layers")
P_A2 = Param("interp_norm2", nonnegative(), r"\|P_X w_T\|^{2}",
             "||P_X w_T||^2 = ||X^+ y||^2, squared norm of the minimum-norm interpolator of the target labels")
P_C2 = Param("source_row_norm2", nonnegative(), r"\|P_X w_S\|^{2}", "||P_X w_S||^2, source weights in row(X)")
P_B2 = Param("source_null_norm2", nonnegative(), r"\|(I - P_X) w_S\|^{2}",
             "||(I - P_X) w_S||^2, source weights outside row(X)")
L, a2, c2, b2 = P_L.symbol, P_A2.symbol, P_C2.symbol, P_B2.symbol
t_ = sp.Symbol("t", real=True)  # log(r / ||w_S||), the kernel's unknown
r_, S_ = sp.Symbol("r", positive=True), sp.Symbol(r"\|w_S\|", positive=True)


def _root_parts(L, log_alpha, beta, one_minus_beta, small_beta):
    """(residual, derivative, lower, upper) of the equation for t = log(r/||w_S||) (see the module docstring).

    ``log_alpha`` is passed as a sum of logarithms: alpha itself may underflow (a tiny target) where its
    logarithm is perfectly representable. ``z - beta`` is ``exp(2t/L) - beta`` when ``small_beta``
    (beta <= 1/2) and ``expm1(2t/L) + (1 - beta)`` otherwise: either way its absolute rounding error is a few
    ulps of z (the other form would cancel two numbers near 1 when beta is small).
    """
    la, lb = log_alpha / L, sp.log(beta)
    # z = beta (the residual's pole) pushed down by a few roundings of its logarithm: when alpha is so small
    # that z - beta underflows at the root, z - beta computed at exactly beta could round to a positive
    # value and hide the sign change; below beta the clamp makes the residual -inf for sure
    lower = L / 2 * sp.Max(lb - sp.Float(2.0**-49) * (1 + sp.Abs(lb)), la - sp.log(2))
    upper = L / 2 * (sp.Max(la, lb) + sp.log(2))
    z = sp.exp(2 * t_ / L)
    z_minus_beta = sp.Max(sp.Piecewise((z - beta, small_beta), (expm1(2 * t_ / L) + one_minus_beta, True)), 0)
    residual = 2 * (L - 1) / L * t_ + sp.log(z_minus_beta) - log_alpha
    derivative = 2 * (L - 1) / L + 2 / L * z / z_minus_beta
    return residual, derivative, lower, upper


_S2 = b2 + c2
_beta, _omb = b2 / _S2, c2 / _S2
_res, _dres, _lo, _hi = _root_parts(L, sp.log(a2) - sp.log(_S2), _beta, _omb, b2 <= c2)
# t in each branch: L = 1: r^2 = a^2 + b^2; alpha = 0: z = beta; beta = 0: r = a; otherwise the root
# (logs of sums and quotients taken apart: a tiny target must not underflow to r = 0)
_T_BRANCHES = (((sp.log(a2 + b2) - sp.log(_S2)) / 2, sp.Eq(L, 1)), (L / 2 * sp.log(_beta), sp.Eq(a2, 0)),
               ((sp.log(a2) - sp.log(_S2)) / 2, sp.Eq(b2, 0)), (t_, True))
NORM_KERNEL = sp.Piecewise(*((sp.sqrt(_S2) * sp.exp(tb), cond) for tb, cond in _T_BRANCHES))
SCALE_KERNEL = sp.Piecewise((1, sp.Eq(L, 1)), *((sp.exp(tb * (L - 1) / L), cond) for tb, cond in _T_BRANCHES[1:]))
NORM_DISPLAY = a2 + (r_ / S_) ** (2 - 2 / L) * b2
SCALE_DISPLAY = (r_ / S_) ** ((L - 1) / L)


def _root_mp(L, alpha, beta):
    """t = log(r/||w_S||) at the working precision (bracketing solver on the same equation)."""
    if L == 1:
        return mpmath.log(alpha + beta) / 2
    if alpha == 0:
        return L / 2 * mpmath.log(beta) if beta > 0 else mpmath.mpf("-inf")
    if beta == 0:
        return mpmath.log(alpha) / 2
    # z = (r/||w_S||)^(2/L) solves z^(L-1) (z - beta) = alpha on (max(beta, alpha^(1/L)/2), 2 max(beta, alpha^(1/L)))
    m = max(beta, alpha ** (mpmath.mpf(1) / L))
    # bisection on the sign of the polynomial form (increasing on z > beta, -alpha < 0 at z = beta):
    # independent of the kernel's log form and Newton iteration
    lo, hi = max(beta, m / 2), 2 * m
    for _ in range(mpmath.mp.prec + 8):  # hi/lo <= 4: prec + 2 halvings reach the working precision
        mid = (lo + hi) / 2
        if mid ** (L - 1) * (mid - beta) < alpha:
            lo = mid
        else:
            hi = mid
    z = (lo + hi) / 2
    return L / 2 * mpmath.log(z)


def _finetune_norm_mp(L, interp_norm2, source_row_norm2, source_null_norm2):
    L = int(L)
    S2 = source_row_norm2 + source_null_norm2
    t = _root_mp(L, interp_norm2 / S2, source_null_norm2 / S2)
    return {"norm": mpmath.sqrt(S2) * mpmath.exp(t), "scale": mpmath.mpf(1) if L == 1 else mpmath.exp(t * (L - 1) / L)}


_source_nonzero = Constraint(("source_row_norm2", "source_null_norm2"),
                             "source_row_norm2 + source_null_norm2 = ||w_S||^2 must be > 0 (w_S = 0 is a saddle)",
                             lambda source_row_norm2, source_null_norm2: source_row_norm2 + source_null_norm2 > 0)

finetune_norm = register(Result(
    "deep_linear.finetune_norm",
    title="Norm of the fine-tuned end-to-end vector and the rescaling of the source's null-space part",
    params=[P_L, P_A2, P_C2, P_B2],
    outputs=[Output("norm", NORM_DISPLAY, r"r = \|w_{\mathrm{ft}}\| \text{ solves } r^{2}"),
             Output("scale", SCALE_DISPLAY, "s")],
    definitions=((S_, sp.sqrt(c2 + b2)),),
    kernel_exprs=[NORM_KERNEL, SCALE_KERNEL],
    implicit=Implicit(unknown=t_, residual=_res, derivative=_dres, lower=_lo, upper=_hi),
    constraints=[_source_nonzero],
    conditions=SETTING + (
        "r is the unique positive root (the left side minus the right side increases with r); "
        "L = 1 gives r^2 = ||P_X w_T||^2 + ||(I - P_X) w_S||^2 and s = 1 (the shallow estimator)",
        "with label noise, ||P_X w_T||^2 is replaced by ||X^+ y||^2",
        "degenerate ||P_X w_T|| = 0 and w_S in row(X): r = 0 (the flow tends to the saddle w = 0), s = 0 for L > 1",
    ),
    source=SOURCE,
    references=REFS,
    mp=_finetune_norm_mp,
    rewrite=False,
))


def closed_form_root(depth: int) -> list[sp.Expr]:
    """SymPy's closed-form roots z of z^L - beta z^(L-1) - alpha = 0 for L = 2, 3, 4 (all of them).

    ``z = (r/||w_S||)^(2/L)``; the fine-tuned norm is the real root > beta (exactly one exists).
    """
    if depth not in (2, 3, 4):
        raise ValueError(f"depth: closed forms are provided for L = 2, 3, 4, got {depth}")
    z = sp.Symbol("z")
    alpha, beta = sp.symbols("alpha beta", positive=True)
    return sp.solve(z**depth - beta * z ** (depth - 1) - alpha, z)


# -- the fine-tuned vector and its risk for a given sample ----------------------------------------
P_LS = Param("L", integer(min=1), "L", "depth: number of weight layers (an array of depths broadcasts)")


def _finetuned(X, wT, wS, L):
    """w_ft for every depth in L: shape L.shape + (d,); one projection for all depths."""
    lt.check_design(X, ("wT", wT), ("wS", wS))
    if not np.any(wS):
        raise ValueError("wS: must be non-zero (w_S = 0 is a saddle of the balanced network)")
    Q = lt.row_space_basis(X)
    rowT = Q @ (Q.T @ wT)
    nullS = lt.null_component(Q, wS)
    out = finetune_norm.evaluate(L=L, interp_norm2=float(rowT @ rowT),
                                 source_row_norm2=float(np.sum((wS - nullS) ** 2)), source_null_norm2=float(nullS @ nullS))
    return rowT + np.asarray(out["scale"])[..., None] * nullS


def _sample_risk(X, Sigma, wT, wS, L):
    lt.check_covariance(Sigma, X.shape[1])
    e = _finetuned(X, wT, wS, L) - wT
    with one_blas_thread():
        return np.maximum(np.einsum("...i,ij,...j->...", e, Sigma, e), 0.0)


def _finetuned_mp(X, wT, wS, L):
    P = lt.mp_projection(X)
    wT, wS = mpmath.matrix(list(wT)), mpmath.matrix(list(wS))
    rowT, nullS = P * wT, (mpmath.eye(X.cols) - P) * wS
    a2, b2 = mpmath.fsum(v**2 for v in rowT), mpmath.fsum(v**2 for v in nullS)
    c2 = mpmath.fsum(v**2 for v in wS) - b2
    s = _finetune_norm_mp(L, a2, c2, b2)["scale"]
    return rowT + s * nullS


def _sample_risk_mp(X, Sigma, wT, wS, L):
    e = _finetuned_mp(X, wT, wS, L) - mpmath.matrix(list(wT))
    return (e.T * Sigma * e)[0]


s_m = sp.Symbol("s")
FINETUNED = lt.P_m * lt.wT_m + s_m * (lt.I_d - lt.P_m) * lt.wS_m
_SCALE_DEF = (s_m, sp.Symbol(r"(\|w_{\mathrm{ft}}\|/\|w_S\|)") ** ((P_LS.symbol - 1) / P_LS.symbol))

finetuned_weights = register(Result(
    "deep_linear.finetuned_weights",
    title="End-to-end vector of a balanced deep linear network fine-tuned from w_S",
    params=[lt.P_X, lt.P_WT, lt.P_WS, P_LS],
    expr=FINETUNED, output="w_ft", output_latex=r"w_{\mathrm{ft}}",
    definitions=(_SCALE_DEF, (lt.P_m, lt.PROJECTION)),
    conditions=SETTING + (
        "noiseless labels y = X w_T; ||w_ft|| is deep_linear.finetune_norm with ||P_X w_T||^2, ||P_X w_S||^2, "
        "||(I - P_X) w_S||^2 of this sample",
        "L = 1 is linear_teacher.estimator",
        "refused when the row space of X is not determined to 1e-8 (nearly dependent samples)",
    ),
    source=SOURCE,
    references=REFS,
    evaluator=_finetuned,
    mp=_finetuned_mp,
))

sample_risk = register(Result(
    "deep_linear.sample_risk",
    title="Exact risk of the fine-tuned balanced deep linear network for a given sample",
    params=[lt.P_X, lt.P_SIGMA, lt.P_WT, lt.P_WS, P_LS],
    expr=(lt.wT_m - s_m * lt.wS_m).T * (lt.I_d - lt.P_m) * lt.Sigma_m * (lt.I_d - lt.P_m) * (lt.wT_m - s_m * lt.wS_m),
    output="R", output_latex=r"\mathcal{R}(w_{\mathrm{ft}})",
    definitions=(_SCALE_DEF, (lt.P_m, lt.PROJECTION)),
    conditions=SETTING + (
        "risk R = E_x[(w_ft . x - w_T . x)^2] with E[x x^T] = Sigma; w_ft = deep_linear.finetuned_weights",
    ),
    source=SOURCE,
    references=REFS,
    evaluator=_sample_risk,
    mp=_sample_risk_mp,
))

# -- isotropic high-dimensional limit --------------------------------------------------------------
P_RHO = Param("rho", interval(0.0, 1.0, lo_open=True), r"\rho", "n/d, samples per dimension")
P_LINF = Param("L", Domain(lo=1.0, lo_open=False, allow_inf=True), "L", "depth: integer >= 1, or inf")
P_TN = Param("wT_norm", nonnegative(), r"\|w_T\|", "norm of the target weights")
P_SN = Param("wS_norm", positive(), r"\|w_S\|", "norm of the source weights")
P_COS = Param("cos_angle", interval(-1.0, 1.0), r"\cos\angle(w_T, w_S)", "cosine of the angle between w_T and w_S")
rho, Ld, T, S, cs = P_RHO.symbol, P_LINF.symbol, P_TN.symbol, P_SN.symbol, P_COS.symbol

_res_l, _dres_l, _lo_l, _hi_l = _root_parts(Ld, sp.log(rho) + 2 * sp.log(T) - 2 * sp.log(S), 1 - rho, rho, rho >= sp.Rational(1, 2))


def risk_of_scale(s, rho, T, S, cs):
    """(1 - rho) ||w_T - s w_S||^2 written without cancellation."""
    return (1 - rho) * ((T - s * S) ** 2 + 2 * s * T * S * (1 - cs))


RISK_INF = 2 * (1 - rho) * T**2 * (1 - cs)
RISK_LIMIT_KERNEL = sp.Piecewise(
    (RISK_INF, Ld > INF_DEPTH),
    (risk_of_scale(1, rho, T, S, cs), sp.Eq(Ld, 1)),
    (0, sp.Eq(rho, 1)),
    (risk_of_scale(sp.exp((Ld - 1) / 2 * sp.log(1 - rho)), rho, T, S, cs), sp.Eq(T, 0)),
    (risk_of_scale(sp.exp(t_ * (Ld - 1) / Ld), rho, T, S, cs), True),
)
_r, _s = sp.Symbol("r", positive=True), sp.Symbol("s", positive=True)
RISK_LIMIT_DISPLAY = (1 - rho) * (T**2 - 2 * _s * T * S * cs + _s**2 * S**2)


def _risk_limit_mp(rho, L, wT_norm, wS_norm, cos_angle):
    if mpmath.isinf(L):
        return 2 * (1 - rho) * wT_norm**2 * (1 - cos_angle)
    L = int(L)
    if rho == 1:
        return mpmath.mpf(0)
    t = _root_mp(L, rho * wT_norm**2 / wS_norm**2, 1 - rho)
    s = mpmath.mpf(1) if L == 1 else mpmath.exp(t * (L - 1) / L)
    return (1 - rho) * ((wT_norm - s * wS_norm) ** 2 + 2 * s * wT_norm * wS_norm * (1 - cos_angle))


risk_limit = register(Result(
    "deep_linear.risk_limit",
    title="Risk of a balanced deep linear network fine-tuned from w_S, isotropic limit n, d -> inf at n/d = rho",
    params=[P_RHO, P_LINF, P_TN, P_SN, P_COS],
    expr=RISK_LIMIT_DISPLAY, output="R", output_latex=r"\mathcal{R}_{\infty}",
    definitions=((_s, (_r / S) ** ((Ld - 1) / Ld)),
                 (_r**2, rho * T**2 + (1 - rho) * _r ** (2 - 2 / Ld) * S ** (2 / Ld))),
    kernel_exprs=[RISK_LIMIT_KERNEL],
    implicit=Implicit(unknown=t_, residual=_res_l, derivative=_dres_l, lower=_lo_l, upper=_hi_l),
    constraints=[Constraint(("L",), "L must be an integer >= 1 or inf", lambda L: L == np.round(L))],
    conditions=SETTING + (
        "x ~ N(0, I_d), n, d -> inf with n/d = rho; noiseless labels; R = E||w_ft - w_T||^2 in that limit",
        "r > 0 is the unique positive root of its equation (the second definition); L = 1: s = 1",
        f"L = inf (any L > {INF_DEPTH:g}): s = ||w_T||/||w_S|| and R = 2(1 - rho)||w_T||^2 (1 - cos angle); "
        "the limits L -> inf and rho -> 0 do not commute (at rho = 0, s = 1 for every L)",
    ),
    source=SOURCE,
    references=REFS,
    mp=_risk_limit_mp,
    rewrite=False,
))

# -- frozen layers ---------------------------------------------------------------------------------
FROZEN_BOUND = T**2 * (1 - cs**2)
frozen_risk_bound = register(Result(
    "deep_linear.frozen_risk_bound",
    title="Lower bound on the risk when only the last layer of a balanced pretrained network is fine-tuned",
    params=[P_TN, P_COS],
    expr=FROZEN_BOUND, output="R_min", output_latex=r"\mathcal{R}_{\min}",
    kernel_exprs=[T**2 * (1 - cs) * (1 + cs)],
    conditions=(
        "balanced scalar-output pretrained layers (rank one): the frozen features W_{L-1} ... W_1 x are "
        "proportional to w_S . x, so any trained last layer gives w in span(w_S)",
        "Sigma = I: the risk of w = c w_S/||w_S|| is ||w_T - c w_S/||w_S||||^2 >= ||w_T||^2 sin^2 angle(w_T, w_S)",
        "holds for any number of samples and any training of the last layer; total failure when w_T is orthogonal "
        "to w_S",
    ),
    source=("lazyrich derivation (research note teachers-lora.md §1.3, DERIVED); the 'freezing layers can fail "
            "completely' statement is attributed to Shachaf et al. 2021 only by a secondary summary"),
    references=("shachaf2021theoretical",),
))

__all__ = ["closed_form_root", "finetune_norm", "finetuned_weights", "frozen_risk_bound", "risk_limit",
           "risk_of_scale", "sample_risk"]
