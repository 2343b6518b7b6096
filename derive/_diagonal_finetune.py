r"""Pretraining -> fine-tuning in a diagonal network: weights after pretraining and the fine-tuning bias.

Pretraining starts from the (c, lam) initialisation (lazyrich sign ``lam = v^2 - w^2``; see
:mod:`derive._diagonal_model`), where ``lam_+ = lam_- = lam`` and ``beta(0) = 0``: the stage's
scale is ``kappa_PT = 2c`` **whatever lam is**, so the pretrained predictor does not depend on
lam (research note §3.4, DERIVED+CHECKED D3; claim ``diagonal.pretraining.lam_independent``).
lam acts only through the weights handed to fine-tuning.

Weights after pretraining (note §3.5, DERIVED+CHECKED D4, translated to lazyrich's sign
``lam = -lam_note``): with ``S = sqrt(c^2 + beta^2)``, ``A = arccosh(c/|lam|)``,
``B = asinh(beta/c)``, ``theta_pm = (A pm B)/2``,

* ``lam < 0`` (larger first layer): ``w_pm = sqrt|lam| cosh theta_pm``, ``v_pm = sqrt|lam| sinh theta_pm``;
* ``lam > 0`` (smaller first layer): ``w_pm = sqrt(lam) sinh theta_pm``, ``v_pm = sqrt(lam) cosh theta_pm``;
* ``lam = 0``: ``w_pm = v_pm = sqrt((S pm beta)/2)``.

Signs matter: when ``|B| > A`` the smaller layer's weight on the path opposing ``beta``
changes sign. The kernel uses the equivalent form without overflow for tiny ``|lam|``:
``sqrt|lam| e^{pm theta} = sqrt(c + R) e^{pm B/2}`` and ``|lam| / (sqrt(c+R) e^{pm B/2})``
with ``R = sqrt(c^2 - lam^2)``; the smaller layer as ``(R S / c pm beta) / (2 x larger)``.

Fine-tuning resets (note §3.6, re-derived in lazyrich's sign and checked against the
simulated pipeline):

* readout reset (protocol B: ``v_pm <- gamma``, first layer kept):
  ``kappa_F^2 = (c - lam S/c + 2 gamma^2)^2 + beta_PT^2 (c^2 - lam^2)/c^2``, centre
  ``gamma (w_+ - w_-) = gamma beta_PT sqrt((c + lam)/(c (c + S)))`` (zero iff gamma = 0 or
  beta_PT = 0 or lam = -c); at ``gamma = 0``, ``kappa_F = S - lam``;
* merged first layer (protocol A: ``w_pm <- w_+ + w_-``, ``v_pm <- gamma``):
  ``kappa_F = 2[(c - lam)(1 + S/c) + gamma^2]``, centre 0 (the authors' "Cosyne mapping"
  with readout gamma/sqrt 2, note D6).

Fine-tuning then converges to ``diagonal.implicit_bias`` with these ``kappa_F`` and centre.
"""

from __future__ import annotations

import sympy as sp

from ._diagonal_model import NOTE_LAM, REFS, SETTING, hypot_steps, lam_sym
from ._domain import Constraint, Param, positive, real
from ._registry import register
from ._result import Output, Result

P_C = Param("c", positive(), "c", "absolute scale of the initialisation: c = w_+ w_- + v_+ v_-")
P_LAM = Param("lam", real(), r"\lambda",
              "relative scale: lam = v^2 - w^2 (readout minus first layer; lazyrich sign), |lam| <= c")
P_BETA = Param("beta", real(), r"\beta", "pretrained coefficient of the coordinate")
P_BETA_PT = Param("beta_pt", real(), r"\beta_{\mathrm{PT}}", "pretrained coefficient of the coordinate")
P_GAMMA = Param("gamma", real(), r"\gamma", "value the readout is reset to before fine-tuning")

c, lam = P_C.symbol, P_LAM.symbol
beta, beta_pt, gamma = P_BETA.symbol, P_BETA_PT.symbol, P_GAMMA.symbol
_lam_bound = Constraint(("lam", "c"), "lam must satisfy |lam| <= c (the (c, lam) initialisation is real)",
                        lambda lam, c: abs(lam) <= c)

# -- display forms (in the research note's hyperbolic parametrisation, lazyrich sign) ----------
S_, A_, B_, tp, tm = sp.symbols("S A B theta_+ theta_-", real=True)
_ln = NOTE_LAM.subs(lam_sym, lam)  # lam_note = -lam: the note's formulas are read with this
WEIGHT_DEFINITIONS = (
    (S_, sp.sqrt(c**2 + beta**2)),
    (A_, sp.acosh(c / sp.Abs(lam))),
    (B_, sp.asinh(beta / c)),
    (tp, (A_ + B_) / 2),
    (tm, (A_ - B_) / 2),
)


def _weight(th, layer: str, sgn):
    """Display form of one weight; ``layer`` 'w' or 'v'; ``sgn`` +1 or -1 (the path)."""
    root = sp.sqrt(sp.Abs(lam))
    big, small = root * sp.cosh(th), root * sp.sinh(th)
    zero = sp.sqrt((S_ + sgn * beta) / 2)
    if layer == "w":  # first layer is the larger one when lam_note = -lam > 0
        return sp.Piecewise((zero, sp.Eq(lam, 0)), (big, _ln > 0), (small, True))
    return sp.Piecewise((zero, sp.Eq(lam, 0)), (small, _ln > 0), (big, True))


WEIGHTS_DISPLAY = [_weight(tp, "w", 1), _weight(tm, "w", -1), _weight(tp, "v", 1), _weight(tm, "v", -1)]


def _weight_steps(c, lam, beta):
    """Kernel locals for the four weights (no overflow for tiny |lam|, signed)."""
    R, Q, cml, gap, Ep, Em, Lp, Lm, sp_, sm_ = sp.symbols("R Q cml gap Ep Em Lp Lm sp_ sm_", real=True)
    ab = sp.Abs(beta)
    S = hypot_steps(ab, c, "S")[1]
    steps = (
        (R, sp.sqrt((c - lam) * (c + lam))),
        *hypot_steps(ab, c, "S")[0],
        (Q, sp.sqrt(c + R)),
        # c - |lam| S/c = (c - |lam|) - |lam| beta^2 / (c (S + c)): no cancellation of S against c
        # (c - |lam|) held in a local: SymPy would otherwise flatten the sum and add the small term to c first
        (cml, c - sp.Abs(lam)),
        (gap, cml - sp.Abs(lam) * (ab / c) * (ab / (S + c))),
        # e^{+B/2} and e^{-B/2}, each from the side without cancellation ((S+b)(S-b) = c^2)
        (Ep, sp.Piecewise((sp.sqrt((S + beta) / c), beta >= 0), (sp.sqrt(c / (S - beta)), True))),
        (Em, sp.Piecewise((sp.sqrt((S - beta) / c), beta <= 0), (sp.sqrt(c / (S + beta)), True))),
        # the larger layer: sqrt|lam| cosh theta_pm = (Q E + |lam| / (Q E)) / 2
        (Lp, (Q * Ep + sp.Abs(lam) / (Q * Ep)) / 2),
        (Lm, (Q * Em + sp.Abs(lam) / (Q * Em)) / 2),
        # the smaller layer: sqrt|lam| sinh theta_pm = (R S / c pm beta) / (2 x larger); where pm beta < 0
        # the difference is rewritten as (c - |lam| S/c)(c + |lam| S/c) / (R S/c + |beta|), which cancels
        # only where the weight is intrinsically 0 (|lam| S = c^2)
        (sp_, sp.Piecewise(((R * S / c + beta) / (2 * Lp), beta >= 0),
                           (gap * (c + sp.Abs(lam) * S / c) / ((R * S / c + ab) * 2 * Lp), True))),
        (sm_, sp.Piecewise(((R * S / c - beta) / (2 * Lm), beta <= 0),
                           (gap * (c + sp.Abs(lam) * S / c) / ((R * S / c + ab) * 2 * Lm), True))),
    )
    w = (sp.Piecewise((Lp, lam <= 0), (sp_, True)), sp.Piecewise((Lm, lam <= 0), (sm_, True)))
    v = (sp.Piecewise((sp_, lam <= 0), (Lp, True)), sp.Piecewise((sm_, lam <= 0), (Lm, True)))
    return steps, (w[0], w[1], v[0], v[1]), S


_W_STEPS, _W_KERNEL, _ = _weight_steps(c, lam, beta)

weights_after_pretraining = register(Result(
    "diagonal.weights_after_pretraining",
    title="Weights of a diagonal network after pretraining from the (c, λ) initialisation",
    params=[P_C, P_LAM, P_BETA],
    outputs=[Output("w_plus", WEIGHTS_DISPLAY[0], "w_+"), Output("w_minus", WEIGHTS_DISPLAY[1], "w_-"),
             Output("v_plus", WEIGHTS_DISPLAY[2], "v_+"), Output("v_minus", WEIGHTS_DISPLAY[3], "v_-")],
    definitions=WEIGHT_DEFINITIONS,
    kernel_exprs=_W_KERNEL,
    kernel_locals=_W_STEPS,
    rewrite=False,
    constraints=[_lam_bound],
    conditions=(
        "two-path diagonal network beta = w_+ v_+ - w_- v_- from w_pm = sqrt((c - lam)/2), v_pm = sqrt((c + lam)/2)",
        "lazyrich sign: lam = v^2 - w^2 (readout minus first layer); the research note's lam is -lam",
        "gradient flow on any loss of beta that ends (or stops) at predictor coefficient beta",
        ("the weights are the unique point on the continuous branch from the start with the conserved "
         "lam_+ = lam_- = lam, c and the given beta; a weight of the smaller layer changes sign when |B| > A"),
    ),
    source=("Conservation laws solved for the weights: research note diagonal-linear.md §3.5 (DERIVED+CHECKED D4), "
            "translated to lazyrich's sign and checked against the simulated network; " + SETTING),
    references=REFS,
))


# -- fine-tuning ---------------------------------------------------------------------------
_S_pt = sp.sqrt(c**2 + beta_pt**2)
KAPPA_B_DISPLAY = sp.sqrt((c - lam * S_ / c + 2 * gamma**2) ** 2 + beta_pt**2 * (c**2 - lam**2) / c**2)
CENTRE_B_DISPLAY = gamma * beta_pt * sp.sqrt((c + lam) / (c * (c + S_)))
KAPPA_A_DISPLAY = 2 * ((c - lam) * (1 + S_ / c) + gamma**2)


def _kappa_b_kernel():
    """2 w_+ w_- = c - lam S/c computed as (c - lam) - lam beta^2/(c (S + c)) (cancellation only
    where a first-layer weight is intrinsically 0), then a scaled hypot."""
    cml, two_ww, a, bb = sp.symbols("cml two_ww a bb", real=True)
    ab = sp.Abs(beta_pt)
    S = hypot_steps(ab, c, "S")[1]
    kap_steps, kap = hypot_steps(a, bb, "kap")
    steps = (
        *hypot_steps(ab, c, "S")[0],
        (cml, c - lam),  # a local, so that the sum below is not reordered
        (two_ww, cml - lam * (ab / c) * (ab / (S + c))),
        (a, sp.Abs(two_ww + 2 * gamma**2)),
        (bb, ab * (sp.sqrt((c - lam) * (c + lam)) / c)),
        *kap_steps,
    )
    kappa = kap
    centre = gamma * beta_pt * sp.sqrt((c + lam) / c) / sp.sqrt(c + S)
    return steps, (kappa, centre)


_KB_STEPS, _KB_KERNEL = _kappa_b_kernel()

kappa_ft_readout_reset = register(Result(
    "diagonal.kappa_ft_readout_reset",
    title="Fine-tuning bias scale and centre after resetting the readout to γ (first layer kept)",
    params=[P_C, P_LAM, P_BETA_PT, P_GAMMA],
    outputs=[Output("kappa", KAPPA_B_DISPLAY, r"\kappa_{\mathrm{FT}}"),
             Output("centre", CENTRE_B_DISPLAY, r"\beta_{\mathrm{FT}}(0)")],
    definitions=((S_, _S_pt),),
    kernel_exprs=_KB_KERNEL,
    kernel_locals=_KB_STEPS,
    rewrite=False,
    constraints=[_lam_bound],
    conditions=(
        "pretraining from the (c, lam) initialisation (lazyrich sign lam = v^2 - w^2) to coefficient beta_pt",
        "reset before fine-tuning: v_+ = v_- = gamma, first layer w_pm kept (protocol B of the research note)",
        "fine-tuning converges to diagonal.implicit_bias with this kappa and centre (Bregman projection)",
        ("gamma = 0: kappa = sqrt(c^2 + beta_pt^2) - lam and centre 0; kappa = 0 (coordinate frozen) iff "
         "gamma = 0, beta_pt = 0 and lam = c"),
    ),
    source=("kappa^2 = 4c'^2 + (lam'_+ - lam'_-)^2 of the reset weights: research note diagonal-linear.md §3.6 "
            "(DERIVED+CHECKED D5), in lazyrich's sign; centre in closed form gamma (w_+ - w_-) (lazyrich derivation); "
            "checked against the simulated pretrain -> reset -> fine-tune pipeline; " + SETTING),
    references=REFS,
))


def _kappa_a_kernel():
    ab = sp.Abs(beta_pt)
    steps, S = hypot_steps(ab, c, "S")
    return steps, (2 * ((c - lam) * (1 + S / c) + gamma**2), sp.Integer(0) * gamma)


_KA_STEPS, _KA_KERNEL = _kappa_a_kernel()

kappa_ft_merged = register(Result(
    "diagonal.kappa_ft_merged",
    title="Fine-tuning bias scale after merging the first-layer paths and resetting the readout to γ",
    params=[P_C, P_LAM, P_BETA_PT, P_GAMMA],
    outputs=[Output("kappa", KAPPA_A_DISPLAY, r"\kappa_{\mathrm{FT}}"),
             Output("centre", sp.Integer(0) * gamma, r"\beta_{\mathrm{FT}}(0)")],
    definitions=((S_, _S_pt),),
    kernel_exprs=_KA_KERNEL,
    kernel_locals=_KA_STEPS,
    rewrite=False,
    constraints=[_lam_bound],
    conditions=(
        "pretraining from the (c, lam) initialisation (lazyrich sign lam = v^2 - w^2) to coefficient beta_pt",
        "reset before fine-tuning: w_+ = w_- = w_+ + w_-, v_+ = v_- = gamma (protocol A of the research note)",
        "the centre is 0: beta(0) = W gamma - W gamma",
        "fine-tuning converges to diagonal.implicit_bias with this kappa and centre 0",
        "kappa = 0 (coordinate frozen) iff lam = c and gamma = 0",
    ),
    source=("Research note diagonal-linear.md §3.6 (DERIVED+CHECKED D6; equals the authors' 'Cosyne mapping' "
            "2 c_ft with readout gamma/sqrt 2), in lazyrich's sign; checked against the simulated pipeline; " + SETTING),
    references=REFS,
))

__all__ = ["kappa_ft_merged", "kappa_ft_readout_reset", "weights_after_pretraining"]
