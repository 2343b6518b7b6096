r"""λ-balanced two-layer linear networks: task-aligned modes, time to learn, loss.

Model (Dominé, Anguita et al., ICLR 2025; Anguita 2024 thesis §2.2): ``f(x) = W2 W1 x``
trained by gradient flow (``tau = 1``) on ``(1/2P) sum ||W2 W1 x - y||^2`` with
whitened inputs (``(1/P) X X^T = I``). The quantity ``W2^T W2 - W1 W1^T = lam I``
(output layer minus input layer) is conserved. When ``W2(0) W1(0)`` shares its
singular vectors with ``Syx = (1/P) Y X^T`` ("task-aligned"), every singular value
``a`` of ``W2 W1`` obeys, with ``s`` the matching singular value of ``Syx``,

.. math:: \dot a = \sqrt{\lambda^2 + 4a^2}\,(s - a)

(thesis Thm 3.2.1). ``lam = 0`` is Saxe, McClelland, Ganguli (2014).

Forms. The *display* form (``.expr``, ``.latex()``, and the mpmath twin) is the
Riccati form: with ``nu = s c/d`` the ratio of the layer singular values,
``dnu/dt = s^2 - lam nu - nu^2``, ``a = lam s nu / (s^2 - nu^2)``; at ``lam = 0`` Saxe's
logistic (and its time reversal for ``a0 < 0``: a negative mode decays to the
saddle at 0 and never crosses). The *compiled* form is derived from the matrix
Riccati solution projected on the eigenvectors ``v_pm`` of
``F = [[-lam/2, s], [s, lam/2]]`` (eigenvalues ``pm K/2``, ``K = sqrt(lam^2+4s^2)``):
with ``E = exp(-K t)``, ``b = sqrt(2) v_+.(c0, d0)/A`` and ``g = sqrt(2) v_-.(c0, d0)/A``,

.. math:: a(t) = \frac{s b^2 + \lambda b g E - s g^2 E^2}{\frac{4K^2}{K+2s} E + (b^2 + g^2 E)(1 - E)} ,

where every exponential decays; ``b`` and ``g`` are written without cancellation
for either sign of ``a0`` and ``lam`` (see ``_mode_steps``), and the fraction is
rescaled by ``E`` or by ``b^2`` according to which is safe, so it neither
overflows nor loses the crossing of a tiny ``b`` at large ``t``. The two forms
are independent derivations: the test suite compares them at 50 digits.

Sources: the ODE, its solution and the limits are the thesis's Thm 3.2.1 and
3.2.2 (VERIFIED in the research note); the ν-form, the decaying-exponential
form and the uniform time-to-learn are lazyrich derivations (DERIVED+CHECKED).
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ._domain import Constraint, Param, nonnegative, positive, real
from ._registry import register
from ._result import Result

REFS = ("domine2025lazy", "anguita2024thesis", "saxe2014exact")
ALIGNED = (
    "two-layer linear network W2 W1 trained by gradient flow (tau = 1) on (1/2P) sum ||W2 W1 x - y||^2",
    "whitened inputs: (1/P) X X^T = I",
    "lam-balanced: W2^T W2 - W1 W1^T = lam I (output minus input layer)",
    "task-aligned start: W2(0) W1(0) shares its singular vectors with Syx; s is the mode's singular value of Syx",
)

P_LAM = Param("lam", real(), r"\lambda", "relative scale: W2^T W2 - W1 W1^T = lam I")
P_S = Param("s", positive(), "s", "singular value of the input-output correlation Syx for this mode")
P_A0 = Param("a0", real(), "a_0", "initial singular value of W2 W1 along the mode")
P_T = Param("t", nonnegative(), "t", "gradient-flow time (tau = 1; GD step k at rate eta is t = k eta)")

lam, s, a0, t = P_LAM.symbol, P_S.symbol, P_A0.symbol, P_T.symbol

# -- display (Riccati) form -------------------------------------------------------
K, nu_p, nu_m, r0, c0, d0, nu = sp.symbols("K nu_+ nu_- r_0 c_0 d_0 nu", real=True)
_q0 = sp.sqrt(lam**2 + 4 * a0**2)
MODE_DEFINITIONS = (
    (K, sp.sqrt(lam**2 + 4 * s**2)),
    (c0, sp.Piecewise((-sp.sqrt((_q0 - lam) / 2), a0 < 0), (sp.sqrt((_q0 - lam) / 2), True))),
    (d0, sp.sqrt((_q0 + lam) / 2)),
    (nu_p, (-lam + K) / 2),
    (nu_m, (-lam - K) / 2),
    (r0, (s * c0 - nu_p * d0) / (s * c0 - nu_m * d0)),
    (nu, (nu_p - nu_m * r0 * sp.exp(-K * t)) / (1 - r0 * sp.exp(-K * t))),
)
_E2s = sp.exp(-2 * s * t)
MODE_DISPLAY = sp.Piecewise(
    (a0, sp.Eq(t, 0)),
    (s * a0 / (a0 + (s - a0) * _E2s), sp.Eq(lam, 0) & (a0 >= 0)),
    (s * a0 * _E2s / (s - a0 * (1 - _E2s)), sp.Eq(lam, 0)),
    (lam * s * nu / (s**2 - nu**2), True),
)


# -- stable (compiled) form ---------------------------------------------------------
def _pick(first, second):
    """The representation of a two-term sum with the smaller rounding error (|x1| + |x2|)."""
    (a1, a2), (b1, b2) = first, second
    return sp.Piecewise((a1 + a2, sp.Abs(a1) + sp.Abs(a2) <= sp.Abs(b1) + sp.Abs(b2)), (b1 + b2, True))


def _mode_steps(lam, s, a0, t):
    """a(t) in the decaying-exponential form, as a sequence of kernel steps ``(locals, value)``.

    With ``E = exp(-K t)``, ``y_pm = (lam pm K)/(2s)`` and ``b, g`` the projections of
    the initial layer singular values ``(c0, d0)`` on the eigenvectors of ``F``,
    ``a = F1 F2 / (s D)`` where ``F1 = s (y_+ b - g E) = K (1+X) d0 + s g (1-E)``
    (proportional to the output layer's singular value), ``F2 = s (g E - y_- b) =
    K (1-X) c0 - s g (1-E)`` (the input layer's), ``D = 4K^2/(K+2s) E + (b^2 + g^2 E)(1-E)``.
    Each factor is computed in whichever of its two forms rounds least, so a tiny
    mode keeps its relative accuracy at small t and a tiny ``b`` its crossing at
    large t; ``F1, F2, D`` are scaled by ``sigma = max(|b|, sqrt(E))`` (in logs) so
    nothing over- or underflows. Every intermediate is free of cancellation:
    ``c0^2, d0^2, K -+ lam`` by conjugates, ``b`` as a sum of same-sign terms, ``g``
    with its zero at ``a0 = s`` factored out.
    """
    S = sp.symbols("K q0 c0a d0a c0s Km Kp omX opX X b g w lb ib bb hK u h m omega hb isig bs Es Ess F1 F2 D",
                   real=True)
    (K, q0, c0a, d0a, c0s, Km, Kp, omX, opX, X, b, g, w, lb, ib, bb, hK, u, h, m, om, hb, isig, bs, Es, Ess, F1, F2,
     D) = S
    # sigma = max(|b|, h) with h = sqrt(E) = exp(-K t / 2): case A is sigma = |b| (lb >= -K t/2), case B
    # sigma = h. The time enters through h alone, and h and 1 - E = -m (2 + m), m = h - 1, come from one
    # transcendental u (expm1 below K t/2 = 1/2, where h = 1 + m keeps its digits; exp above, where m = h - 1
    # does), so a point costs one exp; 1/|b| and b/|b| depend on (lam, s, a0) only and are hoisted.
    # 1/sigma is capped at e^700 so it stays finite when sigma is subnormal (|lam| < 1e-300): the forms
    # that use it are then never picked, and b/sigma, E/sigma, E/sigma^2 take the exp routes.
    caseA = lb >= -hK
    small = hK < sp.S.Half
    steps = [
        (K, sp.sqrt(lam**2 + 4 * s**2)),
        (q0, sp.sqrt(lam**2 + 4 * a0**2)),
        (c0a, sp.sqrt(sp.Piecewise((2 * a0**2 / (q0 + lam), lam >= 0), ((q0 - lam) / 2, True)))),
        (d0a, sp.sqrt(sp.Piecewise(((q0 + lam) / 2, lam >= 0), (2 * a0**2 / (q0 - lam), True)))),
        (c0s, sp.Piecewise((-c0a, a0 < 0), (c0a, True))),
        (Km, sp.Piecewise((K - lam, lam <= 0), (4 * s**2 / (K + lam), True))),
        (Kp, sp.Piecewise((K + lam, lam >= 0), (4 * s**2 / (K - lam), True))),
        (omX, (Km + 2 * s) / (K + 2 * s)),
        (opX, (Kp + 2 * s) / (K + 2 * s)),
        (X, lam / (K + 2 * s)),
        (w, c0a + d0a),
        (b, sp.Piecewise((omX * c0a + opX * d0a, a0 >= 0), (lam / w + X * w, True))),
        (g, sp.Piecewise(
            (lam * (a0 - s) * (4 * (a0 + s) / (q0 + K) + 2) / ((K + 2 * s) * w), a0 >= 0),
            (-(4 * a0**2 / (q0 + sp.Abs(lam)) + sp.Abs(lam) * (4 * s**2 / (K + sp.Abs(lam)) + 2 * s) / (K + 2 * s)
               + 2 * sp.Abs(a0)) / w, True))),
        (lb, sp.log(sp.Abs(b))),
        (ib, sp.exp(-sp.Max(lb, -700))),  # 1/|b|, capped
        (bb, sp.Piecewise((b * ib, lb > -700), (sp.sign(b), True))),  # b/|b|
        (hK, K * t / 2),
        (u, sp.Piecewise((expm1(-hK), small), (sp.exp(-hK), True))),
        (h, sp.Piecewise((1 + u, small), (u, True))),  # sqrt(E)
        (m, sp.Piecewise((u, small), (u - 1, True))),  # sqrt(E) - 1
        (om, -m * (2 + m)),  # 1 - E
        (hb, h * ib),  # E/sigma / h in case A, <= 1; multiplied before h so E/sigma cannot underflow early
        (isig, sp.Piecewise((ib, caseA), (1 / h, hK < 700), (sp.exp(700), True))),  # 1/sigma
        (bs, sp.Piecewise((bb, caseA), (b / h, hK < 700), (sp.sign(b) * sp.exp(lb + hK), True))),  # b/sigma
        # E/sigma <= sqrt(E): in case A h * ib <= 1 and h is normal below K t/2 = 700
        (Es, sp.Piecewise((hb * h, caseA & (hK < 700)), (sp.exp(-K * t - lb), caseA), (h, True))),
        # E/sigma^2 <= 1: exactly 1 in case B
        (Ess, sp.Piecewise((Es * ib, caseA & (lb > -700)), (sp.exp(-K * t - 2 * lb), caseA), (1, True))),
        (F1, _pick((s * (Kp / (2 * s)) * bs, -s * g * Es), (K * opX * d0a * isig, s * g * om * isig))),
        (F2, _pick((s * g * Es, s * (Km / (2 * s)) * bs), (K * omX * c0s * isig, -s * g * om * isig))),
        (D, 4 * K**2 / (K + 2 * s) * Ess + (bs**2 + g**2 * Ess) * om),
    ]
    e2 = sp.exp(-2 * s * t)
    value = sp.Piecewise(
        (a0, sp.Eq(t, 0)),
        (s * a0 / (a0 + (s - a0) * e2), sp.Eq(lam, 0) & (a0 >= 0)),
        (s * a0 * e2 / (s + a0 * expm1(-2 * s * t)), sp.Eq(lam, 0)),
        (F1 * F2 / (s * D), True),
    )
    return tuple(steps), value


MODE_STEPS, MODE_STABLE = _mode_steps(lam, s, a0, t)

#: the smallest normal double: a nonzero lam below it is refused by the mode and the loss
LAM_TINY = 2.2250738585072014e-308
#: A mode that crosses zero does so through b = O(lam) (see _mode_steps); for a subnormal lam (fewer than 53
#: significant bits, one bit at 5e-324) b keeps too few of them: at lam = 1e-320 a crossing at t = 7.3e4 came
#: out 1.5e-5 off, at 5e-324 4 % off. Such inputs are refused (time_to_learn, computed from logarithms, takes them).
NORMAL_LAM = Constraint(
    ("lam",), "must be 0 or of magnitude >= 2.2250738585072014e-308 (the smallest normal double): a subnormal "
              "lam has too few significant bits to time the mode's crossing of zero",
    lambda lam: (lam == 0) | (abs(lam) >= LAM_TINY))

@functools.cache
def _mode_display_mp():
    return sp.lambdify([lam, s, a0, t], MODE_DISPLAY.subs(list(reversed(MODE_DEFINITIONS))), modules="mpmath")


def _mode_mp(lam, s, a0, t):
    """The Riccati display form at the caller's precision plus the digits it cancels.

    For a0 < 0 the display form subtracts quantities that agree to O(lam^2) relative,
    so it needs about 2 |log10 lam| extra digits; mpmath then returns the caller's
    precision.
    """
    extra = 10 + (int(-2 * mpmath.log10(abs(lam))) if lam != 0 and abs(lam) < 1 else 0)
    with mpmath.extradps(extra):
        return +_mode_display_mp()(lam, s, a0, t)


mode = register(Result(
    "lambda_balanced.mode",
    title="Aligned mode of a λ-balanced two-layer linear network",
    params=[P_LAM, P_S, P_A0, P_T],
    expr=MODE_DISPLAY, output="a", output_latex="a(t)",
    definitions=MODE_DEFINITIONS,
    kernel_exprs=[MODE_STABLE],
    kernel_locals=MODE_STEPS,
    mp=_mode_mp,
    rewrite=False,
    constraints=[NORMAL_LAM],
    conditions=ALIGNED + (
        "the mode may cross zero when lam != 0; at lam = 0 a negative mode decays to the saddle at 0",
        "display form: lam != 0 branch has a removable singularity where the mode crosses zero (nu = inf)",
    ),
    source=("ODE and solution: Anguita 2024 thesis, Thm 3.2.1 (setting of Dominé, Anguita et al. 2025); "
            "lam = 0: Saxe et al. 2014; nu-form and decaying-exponential form: lazyrich derivations, "
            "checked symbolically (ODE residual) and against simulation"),
    references=REFS,
))


# -- time to learn --------------------------------------------------------------------
P_AF = Param("af", real(), "a_f", "target value of the mode")


def _phi(lam, s, a, K):
    """ln(N(a)/|s - a|) for a >= 0 and ln(|s - a|/N'(a)) for a < 0 (ln 4 lam^2 split off)."""
    q = sp.sqrt(lam**2 + 4 * a**2)
    N = 4 * s * a + lam**2 + K * q
    Nbar = 4 * (lam**2 * a**2 + s**2 * lam**2 + 4 * s**2 * a**2) / (K * q + lam**2) - 4 * s * a
    return sp.Piecewise((sp.log(N / sp.Abs(s - a)), a >= 0), (sp.log(sp.Abs(s - a) / Nbar), True))


def _time_to_learn(lam, s, a0, af):
    """The uniform form as one expression: what the display shows and the mpmath twin evaluates."""
    Kx = sp.sqrt(lam**2 + 4 * s**2)
    # ln(4 lam^2) written so that lam^2 cannot underflow (|lam| down to 1e-308)
    crossing = sp.Piecewise((sp.log(4) + 2 * sp.log(sp.Abs(lam)), (a0 < 0) & (af >= 0)), (0, True))
    # at lam = 0 a crossing (a0 < 0 <= af) never happens: +inf (the general form is inf - inf there when af = 0)
    return sp.Piecewise((0, sp.Eq(a0, af)),
                        (sp.oo, sp.Eq(lam, 0) & (a0 < 0) & (af >= 0)),
                        ((_phi(lam, s, af, Kx) - _phi(lam, s, a0, Kx) - crossing) / Kx, True))


def _log_ratio(new, old, delta, log_new=None, log_old=None):
    """ln(new/old) from ``delta = new - old`` computed without cancellation: log1p near 1, logs far from it
    (``log_new``/``log_old``: the logarithms in a form that cannot underflow, where the caller has one)."""
    u = delta / old
    log_new = sp.log(new) if log_new is None else log_new
    log_old = sp.log(old) if log_old is None else log_old
    return sp.Piecewise((log1p(u), sp.Abs(u) <= sp.Rational(1, 2)), (log_new - log_old, True))


def _time_increment(lam, s, x, y, K, upper: bool):
    """Phi(y) - Phi(x) on one branch (both >= 0 if ``upper``, both <= 0 otherwise), without cancellation.

    ``N(y) - N(x) = (y - x)(4s + 4K(x + y)/(q(x) + q(y)))`` and
    ``N'(y) - N'(x) = (y - x)(4K(x + y)/(q(x) + q(y)) - 4s)`` have no cancelling terms on
    their branch, and ``|s - y| - |s - x| = x - y`` (same side of s): each log of a ratio
    is a ``log1p`` of an accurate small difference when the ratio is near 1, and a
    difference of logs of accurately computed values otherwise.
    """
    qx, qy = sp.sqrt(lam**2 + 4 * x**2), sp.sqrt(lam**2 + 4 * y**2)
    slope = 4 * K * (x + y) / (qx + qy)
    dist = _log_ratio(sp.Abs(s - y), sp.Abs(s - x), sp.sign(s - x) * (x - y))
    al = sp.Abs(lam)

    # At a = 0 (a literal 0, or an endpoint that is 0 at run time) N and N' are O(|lam|), in product form
    # (lam^2 alone may underflow), and even the products underflow for a subnormal lam (|lam| K < 2^-1074
    # at lam = 5e-324, s = 0.01): their logarithms are then sums of logs (ln|lam| is finite for any
    # lam != 0, and -inf at lam = 0, where a time from or across 0 is +inf as it must be).
    def _at_zero(a, zero_value, general):
        return zero_value if a == 0 else sp.Piecewise((zero_value, sp.Eq(a, 0)), (general, True))

    def N(a, q):
        return _at_zero(a, al * (al + K), 4 * s * a + lam**2 + K * q)

    def Nbar(a, q):
        return _at_zero(a, 4 * s**2 * al / (K + al),
                        4 * (lam**2 * a**2 + s**2 * lam**2 + 4 * s**2 * a**2) / (K * q + lam**2) - 4 * s * a)

    def log_N(a, q):
        return _at_zero(a, sp.log(al) + sp.log(al + K), sp.log(4 * s * a + lam**2 + K * q))

    def log_Nbar(a, q):
        return _at_zero(a, sp.log(4 * s**2) + sp.log(al) - sp.log(K + al), sp.log(
            4 * (lam**2 * a**2 + s**2 * lam**2 + 4 * s**2 * a**2) / (K * q + lam**2) - 4 * s * a))

    if upper:
        return _log_ratio(N(y, qy), N(x, qx), (y - x) * (4 * s + slope), log_N(y, qy), log_N(x, qx)) - dist
    return dist - _log_ratio(Nbar(y, qy), Nbar(x, qx), (y - x) * (slope - 4 * s), log_Nbar(y, qy), log_Nbar(x, qx))


def _time_kernel(lam, s, a0, af):
    """Kernel form: increments on each branch; a crossing of 0 is split at 0 (the ln 4 lam^2 terms cancel)."""
    Kx = sp.Symbol("K", positive=True)
    zero = sp.Integer(0)
    steps = ((Kx, sp.sqrt(lam**2 + 4 * s**2)),)
    value = sp.Piecewise(
        (0, sp.Eq(a0, af)),
        (_time_increment(lam, s, a0, af, Kx, True) / Kx, a0 >= 0),
        (_time_increment(lam, s, a0, af, Kx, False) / Kx, af < 0),
        (_time_increment(lam, s, a0, zero, Kx, False) / Kx, sp.Eq(af, 0)),  # to the saddle (+inf at lam = 0)
        ((_time_increment(lam, s, a0, zero, Kx, False) + _time_increment(lam, s, zero, af, Kx, True)) / Kx, True),
    )
    return steps, value


_N = sp.Function("N")
TIME_DISPLAY = (sp.log(_N(af := P_AF.symbol) / sp.Abs(s - af)) - sp.log(_N(a0) / sp.Abs(s - a0))) / K

@functools.cache
def _time_mp():
    return sp.lambdify([lam, s, a0, P_AF.symbol], _time_to_learn(lam, s, a0, P_AF.symbol), modules="mpmath")


time_to_learn = register(Result(
    "lambda_balanced.time_to_learn",
    title="Time for an aligned mode to go from a0 to af",
    params=[P_LAM, P_S, P_A0, P_AF],
    expr=TIME_DISPLAY, output="t", output_latex=r"t_{a_0 \to a_f}",
    definitions=((K, sp.sqrt(lam**2 + 4 * s**2)),),
    kernel=lambda: (lambda built: (built[0], [built[1]]))(_time_kernel(lam, s, a0, P_AF.symbol)),
    rewrite=False,
    # the twin evaluates the same uniform form at high precision; the claims check it
    # independently (it inverts the mode, and it is the quadrature of dt = da/adot)
    mp=lambda lam, s, a0, af: _time_mp()(lam, s, a0, af),
    constraints=[Constraint(
        ("af", "a0", "s"),
        "af must lie between a0 (inclusive) and s (exclusive): the mode moves monotonically from a0 "
        "towards s and never reaches it",
        lambda af, a0, s: ((a0 <= af) & (af < s)) | ((s < af) & (af <= a0)))],
    conditions=ALIGNED + (
        "N(a) = 4 s a + lam^2 + K sqrt(lam^2 + 4 a^2); for a < 0 evaluated through "
        "N(a) (K sqrt(lam^2+4a^2) - 4 s a - lam^2) = 4 lam^2 (s - a)^2, uniform in lam",
        "t = +inf when lam = 0 and a0 <= 0 < af or a0 < 0 <= af (the saddle at 0 is never crossed)",
    ),
    source=("Antiderivative of dt = da / (sqrt(lam^2 + 4a^2)(s - a)): lazyrich derivation (DERIVED+CHECKED), "
            "reducing to Saxe et al. 2014 at lam = 0; setting of Dominé, Anguita et al. 2025"),
    references=REFS,
))


# -- loss ----------------------------------------------------------------------------------
P_SV = Param("s", positive(), "s", "singular values of Syx, one per aligned mode", vector=True)
P_A0V = Param("a0", real(), "a_0", "initial mode strengths, one per mode", vector=True)
P_LSTAR = Param("Lstar", nonnegative(), r"\mathcal{L}^{*}",
                "irreducible loss (1/2)(tr Syy - ||Syx||_F^2)")
_i = sp.Idx("i")
_sv, _a0v, _av = P_SV.indexed, P_A0V.indexed, sp.IndexedBase("a", real=True)
_n = P_SV.length
LOSS_DISPLAY = sp.Sum((_sv[_i] - _av[_i]) ** 2, (_i, 0, _n - 1)) / 2 + P_LSTAR.symbol
_mode_fn = sp.Function("mode")  # compiled as a helper: lambda_balanced.mode's stable form
LOSS_KERNEL = sp.Sum((_sv[_i] - _mode_fn(lam, _sv[_i], _a0v[_i], t)) ** 2, (_i, 0, _n - 1)) / 2 + P_LSTAR.symbol


def _loss_mp(lam, s, a0, t, Lstar):
    return sum((si - _mode_mp(lam, si, ai, t)) ** 2 for si, ai in zip(s, a0)) / 2 + Lstar


loss = register(Result(
    "lambda_balanced.loss",
    title="Loss trajectory of a task-aligned λ-balanced network",
    params=[P_LAM, P_SV, P_A0V, P_T, P_LSTAR],
    expr=LOSS_DISPLAY, output="L", output_latex=r"\mathcal{L}(t)",
    kernel_exprs=[LOSS_KERNEL],
    helpers=[("mode", (lam, s, a0, t), MODE_STEPS, MODE_STABLE)],
    rewrite=False,
    mp=_loss_mp,
    constraints=[NORMAL_LAM],
    conditions=ALIGNED + (
        "a_i = a(t; lam, s_i, a0_i) is lambda_balanced.mode for mode i",
        "Lstar = (1/2)(tr Syy - ||Syx||_F^2) >= 0 is the loss at the global minimum",
    ),
    source=("L = (1/2)||W2 W1 - Syx||_F^2 + L* for whitened inputs (research note C7; same identity as "
            "Anguita 2024 thesis eq. 4.40), specialised to aligned modes"),
    references=REFS,
))

__all__ = ["loss", "mode", "time_to_learn"]
