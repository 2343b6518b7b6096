r"""The two-path diagonal linear network, its conserved quantities, and the potential phi_kappa.

Model (setting of Anguita, Locatello, Saxe, Mondelli, Mancini, Lippl, Dominé 2026;
research note diagonal-linear.md §2-3): per input coordinate two paths,

.. math:: \beta_i = w_{+,i} v_{+,i} - w_{-,i} v_{-,i},

``w`` the first-layer (input) weights, ``v`` the readout (output) weights, trained by
gradient flow on a loss ``L(beta)`` (squared loss ``(1/2n)||X beta - y||^2`` for the
registered results).

**Sign convention.** lazyrich's ``lam`` is always (output layer)^2 - (input layer)^2, so
here ``lam = v^2 - w^2``; the research note and the authors' code use
``lam_note = w^2 - v^2 = -lam``. Every public formula below is in the lazyrich sign; the
translation happens once, in :data:`NOTE_LAM` (``lam_note = -lam``), and each formula
was re-derived in that sign and checked (claims ``diagonal.*``). ``lam > 0`` is a
*smaller first layer*. The (c, lam) initialisation (``|lam| <= c``) is

    w_+ = w_- = sqrt((c - lam)/2),  v_+ = v_- = sqrt((c + lam)/2),

so ``c = w_+ w_- + v_+ v_-`` and ``beta(0) = 0``.

Conserved under gradient flow on any L(beta) (note §3.1, DERIVED+CHECKED D1, D2):
``lam_+ = v_+^2 - w_+^2``, ``lam_- = v_-^2 - w_-^2``, ``c = w_+ w_- + v_+ v_-``; with them
``(w_+^2 + v_+^2 + w_-^2 + v_-^2)^2 = 4 beta^2 + kappa^2`` and the reduced flow

.. math:: \dot\beta_i = -\sqrt{4\beta_i^2 + \kappa_i^2}\,\partial L/\partial\beta_i,
          \qquad \kappa_i^2 = 4c_i^2 + (\lambda_{+,i} - \lambda_{-,i})^2

(the difference ``lam_+ - lam_-`` is the same in either sign convention up to a sign that
is squared away). This is mirror flow for the potential (note §3.2)

.. math:: \phi_\kappa(b) = \tfrac{b}{2}\operatorname{asinh}\tfrac{2b}{\kappa}
          - \tfrac12\sqrt{b^2 + \kappa^2/4} + \tfrac{\kappa}{4},

which is Woodworth et al.'s (2020) ``(kappa/8) q(4b/kappa)``, ``q(z) = 2 - sqrt(4 + z^2) +
z asinh(z/2)``, and Azulay et al.'s (2021) ``q_k`` with ``sqrt(k) = kappa`` (symbolic claims).
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ._domain import Param, positive, real
from ._registry import register
from ._result import Output, Result

REFS = ("anguita2026pretraining", "woodworth2020kernel", "azulay2021implicit")
SETTING = "setting: Anguita, Locatello, Saxe et al. 2026 (arXiv 2602.20062)"

# -- symbols of the network ------------------------------------------------------------------
wp, wm, vp, vm = sp.symbols("w_+ w_- v_+ v_-", real=True)
c_sym, lam_sym = sp.symbols("c lambda", real=True)
BETA_OF_WEIGHTS = wp * vp - wm * vm
LAM_PLUS = vp**2 - wp**2           # lazyrich sign: output minus input layer
LAM_MINUS = vm**2 - wm**2
C_OF_WEIGHTS = wp * wm + vp * vm
KAPPA_SQ_OF_WEIGHTS = 4 * C_OF_WEIGHTS**2 + (LAM_PLUS - LAM_MINUS) ** 2
#: the one place where the research note's sign enters: lam_note = w^2 - v^2 = -lam
NOTE_LAM = -lam_sym
INIT_W = sp.sqrt((c_sym - lam_sym) / 2)
INIT_V = sp.sqrt((c_sym + lam_sym) / 2)


def network_flow(grad):
    """(dw_+, dw_-, dv_+, dv_-)/dt under gradient flow when dL/dbeta = ``grad``."""
    return (-grad * vp, grad * vm, -grad * wp, grad * wm)


# -- the potential ---------------------------------------------------------------------------
P_KAPPA = Param("kappa", positive(), r"\kappa", "scale of the implicit bias (kappa = 2c at pretraining)")
P_B = Param("beta", real(), r"\beta", "coefficient of the linear predictor")
kappa, b = P_KAPPA.symbol, P_B.symbol

PHI = b / 2 * sp.asinh(2 * b / kappa) - sp.sqrt(b**2 + kappa**2 / 4) / 2 + kappa / 4
DPHI = sp.asinh(2 * b / kappa) / 2
D2PHI = 1 / sp.sqrt(kappa**2 + 4 * b**2)


def woodworth_q(z):
    """Woodworth et al.'s q(z) = 2 - sqrt(4 + z^2) + z asinh(z/2)."""
    return 2 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2)


def azulay_qk(bb, k):
    """Azulay et al.'s q_k(b) = (sqrt k / 4)(1 - sqrt(1 + t^2) + t asinh t), t = 2b/sqrt k."""
    t = 2 * bb / sp.sqrt(k)
    return sp.sqrt(k) / 4 * (1 - sp.sqrt(1 + t**2) + t * sp.asinh(t))


def hypot_steps(x, y, name: str):
    """Kernel locals for ``sqrt(x^2 + y^2)`` (x, y >= 0) that neither overflow nor underflow:
    ``m sqrt(1 + q^2)`` with ``m = max(x, y)`` and ``q = min(x, y)/m`` held in a local, so that
    SymPy cannot fold the squares back into ``y^2/x^2``. Returns ``(steps, value_symbol)``."""
    m, q, h = sp.symbols(f"{name}_m {name}_q {name}", real=True)
    steps = ((m, sp.Max(x, y)),
             (q, sp.Piecewise((0, sp.Eq(m, 0)), (sp.Min(x, y) / m, True))),
             (h, m * sp.sqrt(1 + q * q)))
    return steps, h


def _potential_kernel():
    """Stable forms: asinh in log form when 2|b|/kappa > 1e150 (tiny kappa), the root
    sqrt(b^2 + kappa^2/4) by :func:`hypot_steps` (no overflow or underflow of the squares), and
    sqrt(b^2 + kappa^2/4) - kappa/2 = b^2 / (root + kappa/2) (no cancellation at small b)."""
    ab = sp.Symbol("ab", nonnegative=True)
    ash, frac = sp.symbols("ash frac", real=True)
    root = hypot_steps(ab, kappa / 2, "root")[1]
    steps = (
        (ab, sp.Abs(b)),
        (ash, sp.Piecewise((sp.sign(b) * (sp.log(4 * ab) - sp.log(kappa)), ab > 5e149 * kappa),
                           (sp.asinh(2 * b / kappa), True))),
        *hypot_steps(ab, kappa / 2, "root")[0],
        # |b| / (root + kappa/2) <= 1 as its own local, so |b| * frac never forms b^2
        (frac, ab / (root + kappa / 2)),
    )
    phi = sp.Piecewise((0, sp.Eq(b, 0)), (ab * (sp.Abs(ash) - frac) / 2, True))
    return steps, (phi, ash / 2, 1 / (2 * root))


_POT_STEPS, _POT_KERNEL = _potential_kernel()
_POT_FNS = [sp.lambdify([kappa, b], e, modules="mpmath") for e in (PHI, DPHI, D2PHI)]


def _potential_mp(kappa, beta):
    """The display forms at the caller's precision plus the digits phi's display form cancels:
    kappa/4 - sqrt(b^2 + kappa^2/4)/2 loses about 2 log10(kappa/|b|) digits for |b| << kappa."""
    extra = 10
    if beta != 0 and abs(beta) < kappa:
        extra += int(2 * mpmath.log10(kappa / abs(beta))) + 1
    with mpmath.extradps(extra):
        vals = [f(kappa, beta) for f in _POT_FNS]
    return dict(zip(("phi", "dphi", "d2phi"), (+v for v in vals)))

potential = register(Result(
    "diagonal.potential",
    title="Implicit-bias potential φ_κ of a diagonal linear network and its derivatives",
    params=[P_KAPPA, P_B],
    outputs=[Output("phi", PHI, r"\phi_\kappa(\beta)"),
             Output("dphi", DPHI, r"\phi_\kappa'(\beta)"),
             Output("d2phi", D2PHI, r"\phi_\kappa''(\beta)")],
    kernel_exprs=_POT_KERNEL,
    kernel_locals=_POT_STEPS,
    mp=_potential_mp,
    rewrite=False,
    conditions=(
        "two-path diagonal network beta = w_+ v_+ - w_- v_- trained by gradient flow (tau = 1)",
        "kappa^2 = 4c^2 + (lam_+ - lam_-)^2 from the conserved quantities of the stage's start",
        "the flow is mirror flow: d phi'(beta)/dt = -dL/dbeta; phi(0) = phi'(0) = 0",
        "equals Woodworth et al.'s (kappa/8) q(4 beta/kappa) and Azulay et al.'s q_k with sqrt(k) = kappa",
    ),
    source=("Reduced flow and potential: research note diagonal-linear.md §3.1-3.2 (DERIVED+CHECKED D1, D2, D7), "
            "re-derived symbolically in lazyrich's claims; " + SETTING),
    references=REFS,
))

__all__ = ["azulay_qk", "network_flow", "potential", "woodworth_q"]
