r"""``transfer.*``: the adapted kernel after rich pretraining and the fine-tuning loss.

Setting: Lauditi, Bordelon, Pehlevan (ICLR 2026), transfer learning in infinite-width feature-learning
networks, restricted to what research note infinite-width.md marks DERIVED+CHECKED (§1.4, §1.5).
**The paper's own equations were not available; no equation number of it is quoted.**

Conventions (lazyrich's; the mapping of ``gamma1`` to the paper's γ₁ is UNKNOWN, only the functional
forms are known to agree): a two-layer linear network in mean-field/μP form

.. math:: f(x) = \frac{1}{\gamma_1 N} a^\top W x, \qquad x \sim N(0, I_D),\ a_i, W_{ij} \sim N(0,1),

trained by gradient flow on the **population** source loss :math:`\tfrac12 E(f - u\cdot x)^2`
(:math:`\lVert u\rVert = 1`, the paper's :math:`\beta_s/\sqrt D`) with the learning rate scaled by
:math:`\gamma_1^2 N` (time ``t``), D fixed and N → ∞. Per neuron, with :math:`m_i = w_i\cdot u`, the
learned coefficient :math:`\rho = \langle a m\rangle/\gamma_1` obeys (derivation in the note, §1.4):

.. math::
   \dot\rho = 2\sqrt{1+\gamma_1^2\rho^2}\,(1-\rho),\ \rho(0) = 0, \qquad
   A_{uu} = \langle m^2\rangle = \sqrt{1+\gamma_1^2\rho^2},

while the weight second moment :math:`A = \langle w w^\top\rangle` stays the identity orthogonal to u.
Closed forms (lazyrich derivations, checked by SymPy and simulation): with :math:`s = \sqrt{1+\gamma_1^2}`,

.. math::
   t(\rho) = \frac{1}{2s}\ln\frac{1+\gamma_1^2\rho + s\sqrt{1+\gamma_1^2\rho^2}}{(1-\rho)(1+s)}, \qquad
   \rho(t) = \frac{1 - 2q - \gamma_1^2 q^2}{1 + 2\gamma_1^2 q - \gamma_1^2 q^2},\
   q = \frac{e^{-2st}}{1+s}

(SymPy integrates :math:`dt = d\rho/(2\sqrt{1+\gamma_1^2\rho^2}(1-\rho))` after :math:`u = 1/(1-\rho)`,
giving an asinh form equal to the log form above; the inverse solves a quadratic whose discriminant
factors as :math:`q^2 s^4`). The NTK of the network (same time scaling) is
:math:`x^\top(A + \langle a^2\rangle I)x'` with :math:`\langle a^2\rangle = A_{uu}`: eigenvalue
:math:`2A_{uu}` along u and :math:`1 + A_{uu}` orthogonal to it. At convergence
:math:`A = I + \chi u u^\top` with :math:`\chi = \sqrt{1+\gamma_1^2} - 1`.

Fine-tuning (the note's "setting (i)"): freeze W, fit a **fresh** readout by ridgeless (min-norm)
least squares on :math:`P_2 = \nu_2 D` samples of the target :math:`y = u_t\cdot x`,
:math:`u_t = \alpha u + \sqrt{1-\alpha^2}u_\perp`. This is kernel regression with the feature kernel
:math:`x^\top A x'`, i.e. ``learning_curve.error`` with eigenvalues :math:`\{1+\chi\ (\times 1),\ 1\ (\times D-1)\}`
and target powers :math:`\{\alpha^2, 1-\alpha^2\}` (``transfer.finetune_loss_finite_d``; the silent-alignment
paper's App. F formula with A = χ, research note §2.2, VERIFIED). Its D → ∞ limit at fixed ν₂ (SymPy):

.. math:: L = (1-\nu_2)\Big[1 - \alpha^2 + \frac{\alpha^2}{(1+\chi\nu_2)^2}\Big] \le 1 - \nu_2 \quad(\nu_2 < 1),
   \qquad L = 0 \quad (\nu_2 \ge 1).

Multi-spike (note §1.5, DERIVED+CHECKED): :math:`A = I + \sum_k s_k e_k e_k^\top`, overlaps
:math:`\tau_k = e_k\cdot u_t`: :math:`L = (1-\nu_2)[1 - \sum_k\tau_k^2(1 - (1+s_k\nu_2)^{-2})]`.

Infinitely rich pretraining on finite source data (note §1.4, "Result 4": the formula is SECONDARY,
its key step DERIVED+CHECKED): **if** the features collapse to the rank-one direction of the min-norm
source interpolator :math:`P_{X_1}u_s` (:math:`\nu_1 = P_1/D < 1`), whose unit vector is
:math:`\sqrt{\nu_1}u_s + \sqrt{1-\nu_1}\hat g` as D → ∞, then a one-dimensional readout reaches
:math:`1 - (\sqrt{\nu_1}\alpha_s + \sqrt{1-\nu_1}\alpha_g)^2` with :math:`\alpha_g = \hat g\cdot u_t`.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from sympy.codegen.cfunctions import expm1, log1p

from numerics._fixed_point import learning_curve as _solve

from ._domain import Constraint, Param, integer, interval, nonnegative
from ._registry import register
from ._result import Output, Result

REFS = ("lauditi2026transfer",)
REFS_SA = ("lauditi2026transfer", "atanasov2022silent")
REFS_LC = ("lauditi2026transfer", "atanasov2022silent", "bordelon2020spectrum", "canatar2021spectral")

PRETRAIN = (
    "two-layer linear network f = a^T W x/(gamma1 N), a_i, W_ij ~ N(0, 1) i.i.d., x ~ N(0, I_D), N -> inf at fixed D",
    "gradient flow on the population source loss (1/2) E (f - u.x)^2, ||u|| = 1, learning rate scaled by gamma1^2 N",
    "lazyrich convention; how gamma1 maps onto the paper's gamma_1 (x.x'/D, ||beta||^2 = D) is UNKNOWN",
)
FINETUNE = (
    "pretrained features frozen at convergence: feature kernel x^T (I + chi u u^T) x'",
    "fresh readout (trained from zero) by ridgeless min-norm least squares on P2 = nu2 D noiseless target samples",
    "target y = u_t . x, u_t = alpha u + sqrt(1 - alpha^2) u_perp (unit), loss = E_x (f - y)^2 (1 at P2 = 0)",
)
SOURCE_NOTE = ("research note infinite-width.md §1.4-1.5 (SECONDARY formula in the paper, DERIVED+CHECKED in lazyrich's "
               "convention); closed forms t(rho), rho(t): lazyrich derivations checked by SymPy")

P_G = Param("gamma1", nonnegative(), r"\gamma_{1}", "pretraining richness (lazyrich convention)")
P_T = Param("t", nonnegative(), "t", "pretraining gradient-flow time (learning rate scaled by gamma1^2 N)")
P_RHO = Param("rho", interval(0.0, 1.0, hi_open=True), r"\rho", "learned source coefficient, 0 <= rho < 1")
P_NU2 = Param("nu2", nonnegative(), r"\nu_{2}", "target samples per input dimension, P2/D")
P_ALPHA = Param("alpha", interval(-1.0, 1.0), r"\alpha", "source-target alignment u . u_t")
P_CHI = Param("chi", nonnegative(), r"\chi", "spike of the adapted feature kernel, A = I + chi u u^T")

g, t, rho = P_G.symbol, P_T.symbol, P_RHO.symbol
nu2, alpha, chi = P_NU2.symbol, P_ALPHA.symbol, P_CHI.symbol
s_ = sp.Symbol("s", positive=True)
q_ = sp.Symbol("q", positive=True)


# -- chi ------------------------------------------------------------------------------------
CHI_EXPR = sp.sqrt(1 + g**2) - 1
CHI_STABLE = g**2 / (sp.sqrt(1 + g**2) + 1)  # no cancellation at small gamma1

chi_result = register(Result(
    "transfer.chi",
    title="Spike of the adapted kernel after rich pretraining on the population source task",
    params=[P_G], expr=CHI_EXPR, output="chi", output_latex=r"\chi",
    kernel_exprs=[CHI_STABLE], rewrite=False,
    conditions=PRETRAIN + ("trained to convergence (rho -> 1): A = <w w^T> = I + chi u u^T",),
    source=SOURCE_NOTE, references=REFS,
))


# -- rho(t), t(rho), A_uu, NTK ------------------------------------------------------------------
S_EXPR = sp.sqrt(1 + g**2)
TIME_EXPR = sp.log((1 + g**2 * rho + s_ * sp.sqrt(1 + g**2 * rho**2)) / ((1 - rho) * (1 + s_))) / (2 * s_)
Q_EXPR = sp.exp(-2 * s_ * t) / (1 + s_)
RHO_EXPR = (1 - 2 * q_ - g**2 * q_**2) / (1 + 2 * g**2 * q_ - g**2 * q_**2)


RHO_DEFS = ((s_, S_EXPR), (q_, Q_EXPR))  # Result substitutes the last definition first

# Stable forms compiled into the kernels (equal to the display forms; claims compare them at 50 digits):
# with m = 1 - e^{-2st} = -expm1(-2st), the numerator of rho is m (2 + 2s + 2 gamma1^2 - gamma1^2 m)/(1 + s)^2
# (the display form's 1 - 2q - gamma1^2 q^2 cancels to O(t) at small t), and
# t(rho) = log1p(x)/(2s), x = [rho (1 + s + gamma1^2) + s gamma1^2 rho^2/(sqrt(1 + gamma1^2 rho^2) + 1)]/((1 - rho)(1 + s)).
_S = S_EXPR
_m = -expm1(-2 * _S * t)
_e = sp.exp(-2 * _S * t)
_den = (1 + _S) ** 2 + g**2 * _e * (2 + 2 * _S - _e)
# small t: the m-form (no cancellation in rho); large t: 1 - (1 - rho) with 1 - rho = 2 s^2 (1 + s) e/den, which
# keeps rho <= 1 after rounding
RHO_STABLE = sp.Piecewise((_m * (2 + 2 * _S + 2 * g**2 - g**2 * _m) / _den, _m < sp.Rational(1, 2)),
                          (1 - 2 * _S**2 * (1 + _S) * _e / _den, True))
AUU_STABLE = sp.sqrt(1 + g**2 * RHO_STABLE**2)
_x = ((rho * (1 + _S + g**2) + _S * g**2 * rho**2 / (sp.sqrt(1 + g**2 * rho**2) + 1))
      / ((1 - rho) * (1 + _S)))
TIME_STABLE = log1p(_x) / (2 * _S)

time_result = register(Result(
    "transfer.time_to_rho",
    title="Pretraining time for the learned source coefficient to reach rho",
    params=[P_G, P_RHO], expr=TIME_EXPR, output="t", output_latex=r"t(\rho)",
    definitions=((s_, S_EXPR),),
    kernel_exprs=[TIME_STABLE], rewrite=False,
    conditions=PRETRAIN + ("exact solution of drho/dt = 2 sqrt(1 + gamma1^2 rho^2)(1 - rho), rho(0) = 0",),
    source=SOURCE_NOTE, references=REFS,
))

rho_result = register(Result(
    "transfer.rho",
    title="Learned source coefficient rho(t) during rich pretraining",
    params=[P_G, P_T], expr=RHO_EXPR, output="rho", output_latex=r"\rho(t)",
    definitions=RHO_DEFS,
    kernel_exprs=[RHO_STABLE], rewrite=False,
    conditions=PRETRAIN + ("rho(t) = beta_hat . u, the network's end-to-end coefficient on the source direction",),
    source=SOURCE_NOTE, references=REFS,
))

a_uu_result = register(Result(
    "transfer.a_uu",
    title="Weight second moment A_uu = <(w.u)^2> along the pretraining trajectory",
    params=[P_G, P_T], expr=sp.sqrt(1 + g**2 * rho**2), output="A_uu", output_latex=r"A_{uu}(t)",
    definitions=RHO_DEFS + ((rho, RHO_EXPR),),
    kernel_exprs=[AUU_STABLE], rewrite=False,
    conditions=PRETRAIN + ("A = <w w^T> is I orthogonal to u at all times; A_uu -> 1 + chi as t -> inf",),
    source=SOURCE_NOTE, references=REFS,
))

ntk_result = register(Result(
    "transfer.ntk_eigenvalues",
    title="NTK eigenvalues along and orthogonal to the source direction during rich pretraining",
    params=[P_G, P_T],
    outputs=[Output("ntk_parallel", 2 * sp.Symbol("A_uu", positive=True), r"\Theta_{\parallel}"),
             Output("ntk_orthogonal", 1 + sp.Symbol("A_uu", positive=True), r"\Theta_{\perp}")],
    definitions=RHO_DEFS + ((rho, RHO_EXPR), (sp.Symbol("A_uu", positive=True), sp.sqrt(1 + g**2 * rho**2))),
    kernel_exprs=[2 * AUU_STABLE, 1 + AUU_STABLE], rewrite=False,
    conditions=PRETRAIN + ("NTK(x, x') = x^T (A + <a^2> I) x' with <a^2> = A_uu, in the time units above "
                           "(both 2 at t = 0)",),
    source=SOURCE_NOTE, references=REFS,
))


# -- fine-tuning loss, D -> inf -----------------------------------------------------------------
FT_EXPANDED = (1 - nu2) * (1 - 2 * chi * alpha**2 * nu2 / (1 + chi * nu2)
                           + chi**2 * alpha**2 * nu2**2 / (1 + chi * nu2) ** 2)
FT_SIMPLE = (1 - nu2) * (1 - alpha**2 + alpha**2 / (1 + chi * nu2) ** 2)
FT_EXPR = sp.Piecewise((FT_SIMPLE, nu2 < 1), (0, True))

finetune_loss = register(Result(
    "transfer.finetune_loss",
    title="Target loss of a fresh readout on the adapted (spiked) kernel, D -> inf",
    params=[P_NU2, P_ALPHA, P_CHI], expr=FT_EXPR, output="L", output_latex=r"\mathcal{L}(\nu_2, \alpha, \chi)",
    conditions=PRETRAIN[:1] + FINETUNE + ("D -> inf at fixed nu2 = P2/D; 0 for nu2 >= 1 (noiseless target)",
                                          "chi = transfer.chi(gamma1) for pretraining to convergence"),
    source=("D -> inf limit of the spiked-kernel learning curve (derived by SymPy from transfer.finetune_loss_finite_d); "
            "research note infinite-width.md §1.5: SECONDARY as the paper's formula, DERIVED+CHECKED"),
    references=REFS_LC,
))


# -- finite D -----------------------------------------------------------------------------------
P_P2 = Param("P2", nonnegative(), "P_{2}", "number of target samples")
P_D = Param("D", integer(min=2), "D", "input dimension")
P_RIDGE = Param("ridge", nonnegative(), r"\lambda", "ridge of the readout fit (kernel without 1/P2)")
kap = sp.Symbol("kappa", positive=True)
gov = sp.Symbol("gamma_overlap", nonnegative=True)
P2, D, lam_r = P_P2.symbol, P_D.symbol, P_RIDGE.symbol
FIN_EXPR = kap**2 / (1 - gov) * (alpha**2 / ((1 + chi) * P2 + kap) ** 2 + (1 - alpha**2) / (P2 + kap) ** 2)
FIN_KAPPA = lam_r + kap * ((1 + chi) / ((1 + chi) * P2 + kap) + (D - 1) / (P2 + kap))
FIN_GAMMA = P2 * ((1 + chi) ** 2 / ((1 + chi) * P2 + kap) ** 2 + (D - 1) / (P2 + kap) ** 2)


def _finite_eval(P2, D, alpha, chi, ridge):
    P2, D, alpha, chi, ridge = np.broadcast_arrays(P2, D, alpha, chi, ridge)
    out = np.empty(P2.shape)
    # the spectrum changes with (D, chi): one solver call per distinct pair, broadcasting P2 and ridge
    pairs = np.unique(np.stack([D.ravel(), chi.ravel()], axis=1), axis=0)
    for Dv, cv in pairs:
        sel = (D == Dv) & (chi == cv)
        lam = np.array([1.0 + cv, 1.0])
        mult = np.array([1.0, Dv - 1.0])
        a2 = alpha[sel] ** 2
        res = _solve(lam, mult, P2[sel], ridge[sel], modes=True)
        E = res["mode_errors"]
        out[sel] = a2 * E[:, 0] + (1 - a2) * E[:, 1]
    return out


def _finite_mp(P2, D, alpha, chi, ridge):
    from ._learning_curve import error_mp

    return error_mp([1 + chi, mpmath.mpf(1)], [mpmath.mpf(1), D - 1], P2, ridge, [alpha**2, 1 - alpha**2], 0)


finetune_loss_finite_d = register(Result(
    "transfer.finetune_loss_finite_d",
    title="Target loss of a fresh readout on the spiked kernel x^T(I + chi u u^T)x', finite D",
    params=[P_P2, P_D, P_ALPHA, P_CHI, P_RIDGE], expr=FIN_EXPR, output="L", output_latex=r"\mathcal{L}_D",
    definitions=((kap, FIN_KAPPA), (gov, FIN_GAMMA)),
    conditions=PRETRAIN[:1] + FINETUNE[:1] + (
        "fresh readout by kernel ridge regression (ridge >= 0; ridge = 0 is min-norm least squares) on P2 samples",
        FINETUNE[2],
        "kernel-regression deterministic equivalent (learning_curve.error with eigenvalues {1 + chi, 1}, "
        "multiplicities {1, D - 1}): O(1/P2) bias at finite P2"),
    source=("Silent-alignment paper App. F (Atanasov, Bordelon, Pehlevan 2022; research note §2.2, VERIFIED) with their "
            "A = chi; the Bordelon-Canatar-Pehlevan learning curve"),
    references=REFS_LC, mp=_finite_mp, evaluator=_finite_eval,
))


# -- multi-spike --------------------------------------------------------------------------------
P_SPIKES = Param("spikes", nonnegative(), "s", "spike heights s_k of A = I + sum_k s_k e_k e_k^T", vector=True)
P_OVERLAPS = Param("overlaps", interval(-1.0, 1.0), r"\tau", "target overlaps tau_k = e_k . u_t", vector=True)
_k = sp.Idx("k")
_sv, _tv = sp.IndexedBase("s", nonnegative=True), sp.IndexedBase("tau", real=True)
_K = sp.Symbol("K", integer=True, positive=True)
MULTI_DISPLAY = sp.Piecewise(((1 - nu2) * (1 - sp.Sum(_tv[_k] ** 2 * (1 - 1 / (1 + _sv[_k] * nu2) ** 2),
                                                      (_k, 0, _K - 1))), nu2 < 1), (0, True))


def _multi_eval(nu2, spikes, overlaps):
    # (checked here, not by a Constraint: Constraint.check reports the violating point by broadcasting the
    # parameters to the test's shape, which fails for a scalar test over 1-D parameters)
    if np.sum(overlaps**2) > 1 + 1e-12:
        raise ValueError(f"overlaps: the overlaps of a unit target with orthonormal e_k must have sum tau_k^2 <= 1 "
                         f"(got {float(np.sum(overlaps**2))!r})")
    nu = np.asarray(nu2, dtype=float)
    x = nu[..., None] * spikes
    # 1 - 1/(1 + x)^2 = x (2 + x)/(1 + x)^2: no cancellation at small s nu
    gain = np.sum(overlaps**2 * x * (2 + x) / (1 + x) ** 2, axis=-1)
    return np.where(nu < 1, (1 - nu) * (1 - gain), 0.0)


def _multi_mp(nu2, spikes, overlaps):
    if nu2 >= 1:
        return mpmath.mpf(0)
    return (1 - nu2) * (1 - mpmath.fsum(tk**2 * (1 - 1 / (1 + sk * nu2) ** 2) for sk, tk in zip(spikes, overlaps)))


finetune_loss_multispike = register(Result(
    "transfer.finetune_loss_multispike",
    title="Target loss of a fresh readout on a multi-spike kernel I + sum_k s_k e_k e_k^T, D -> inf",
    params=[P_NU2, P_SPIKES, P_OVERLAPS], expr=MULTI_DISPLAY, output="L", output_latex=r"\mathcal{L}",
    conditions=("feature kernel x^T (I + sum_k s_k e_k e_k^T) x' with orthonormal e_k, fixed number of spikes, "
                "x ~ N(0, I_D)", FINETUNE[1], "unit target u_t with tau_k = e_k . u_t", "D -> inf at fixed nu2 = P2/D",
                "sum_k tau_k^2 <= 1 (checked)", "display: s_k = spikes, tau_k = overlaps, K = number of spikes"),
    source="research note infinite-width.md §1.5 (multi-spike generalisation, DERIVED+CHECKED)",
    references=REFS_LC, mp=_multi_mp, evaluator=_multi_eval,
))


# -- gamma1 -> inf floor --------------------------------------------------------------------------
P_NU1 = Param("nu1", interval(0.0, 1.0), r"\nu_{1}", "source samples per dimension P1/D (< 1 regime)")
P_AS = Param("alpha_s", interval(-1.0, 1.0), r"\alpha_{s}", "target overlap with the source direction")
P_AG = Param("alpha_g", interval(-1.0, 1.0), r"\alpha_{g}",
             "target overlap with the normalised finite-sample direction g (orthogonal to u_s)")
nu1, a_s, a_g = P_NU1.symbol, P_AS.symbol, P_AG.symbol

floor = register(Result(
    "transfer.infinite_richness_floor",
    title="Fine-tuning loss floor after infinitely rich pretraining on nu1 D < D source samples",
    params=[P_NU1, P_AS, P_AG],
    expr=1 - (sp.sqrt(nu1) * a_s + sp.sqrt(1 - nu1) * a_g) ** 2, output="L", output_latex=r"\mathcal{L}_{\infty}",
    constraints=[Constraint(("alpha_s", "alpha_g"), "alpha_s^2 + alpha_g^2 <= 1 (overlaps of a unit vector with two "
                            "orthonormal directions)", lambda alpha_s, alpha_g: alpha_s**2 + alpha_g**2 <= 1 + 1e-12)],
    conditions=(
        "ASSUMES (paper's Result 4, SECONDARY): gamma1 -> inf collapses the features to the rank-one direction of the "
        "min-norm source interpolator P_X1 u_s",
        "D -> inf at fixed nu1 < 1: that direction is sqrt(nu1) u_s + sqrt(1 - nu1) g_hat (E||P_X1 u_s||^2 = nu1)",
        "one-dimensional readout fitted on enough noiseless target samples (independent of nu2 as P2 -> inf)",
    ),
    source=("research note infinite-width.md §1.4 ('Eq. 15' of the paper per a secondary summary; the rank-one "
            "reading and ||P_X u||^2 -> nu1 DERIVED+CHECKED)"),
    references=REFS,
))

__all__ = ["a_uu_result", "chi_result", "finetune_loss", "finetune_loss_finite_d", "finetune_loss_multispike",
           "floor", "ntk_result", "rho_result", "time_result"]
