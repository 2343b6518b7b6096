r"""Whole λ-balanced two-layer linear networks from any λ-balanced start: QQ^T(t) and what it gives.

Model and conventions (Dominé, Anguita et al., ICLR 2025; Anguita 2024 thesis §2.2, Thm 3.3.1;
λ = 0 and unequal widths: Braun et al. 2022): ``f(x) = W2 W1 x`` with ``W1`` (Nh x Ni),
``W2`` (No x Nh); loss ``(1/2P)||W2 W1 X - Y||_F^2``; gradient flow with ``tau = 1`` (a GD
step k at rate eta is ``t = k eta``); whitened inputs ``(1/P) X X^T = I``, so the data
enter only through ``Syx = (1/P) Y X^T``; ``lam I = W2^T W2 - W1 W1^T`` (output layer minus
input layer; the paper's sign, some of the authors' older files use the opposite one),
measured from the start and conserved. ``Q = [W1^T; W2]``, so

.. math:: QQ^\top = \begin{pmatrix} W_1^\top W_1 & W_1^\top W_2^\top \\ W_2 W_1 & W_2 W_2^\top \end{pmatrix}.

The evaluator is the stable decaying-exponential form of :mod:`numerics._qqt` (thesis
Thm 3.3.1(3); unequal widths Nh = min(Ni, No): the research note's DERIVED+CHECKED
extension), factorised once per start. The display is that form written with matrix
symbols. The mpmath twin is the independent Fukumizu form ``e^{Ft} Q0 M^{-1} Q0^T e^{Ft}``
evaluated through the eigen-decomposition of ``F`` with enough extra digits for
``e^{2 Gamma t}``.

Observables (each a registered result on the same start): the blocks ``W2 W1``,
``W1^T W1``, ``W2 W2^T``; the loss ``L = (1/2)||W2 W1 - Syx||_F^2 + L*`` (research note
§1.6, C7); the NTK ``K = I_No ⊗ X^T W1^T W1 X + W2 W2^T ⊗ X^T X`` (thesis eq. 2.37 via
Braun et al. 2022; rows (output, sample), output-major) as an operator: its action
``K[V] = V X^T W1^T W1 X + W2 W2^T V X^T X`` on ``V`` (No x P), its trace ``P (No tr W1^T W1 + Ni tr W2 W2^T)`` and Frobenius inner
products ``<K, K'> = P^2 [No tr(R R') + tr B' tr R + tr B tr R' + Ni tr(B B')]``
(``R = W1^T W1``, ``B = W2 W2^T``, whitened X; research note §1.7, DERIVED+CHECKED C4),
never forming the (No P)^2 matrix; the kernel distance
``S(t1, t2) = 1 - <K1, K2>/(||K1|| ||K2||)``; and the representations as functions of
the network function (thesis Thm 4.1.1-4.1.2): ``W1^T W1 = (W^T W + lam^2/4)^{1/2} - lam/2``,
``W2 W2^T = (W W^T + lam^2/4)^{1/2} + lam/2`` on the Nh = min(Ni, No) leading singular
directions of ``W = W2 W1``.
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import sympy as sp

from numerics import _qqt

from ._domain import Param, nonnegative, positive, real
from ._registry import register
from ._result import Output, Result

REFS = ("domine2025lazy", "anguita2024thesis", "braun2022exact")
CONDITIONS = (
    "two-layer linear network f(x) = W2 W1 x trained by gradient flow (tau = 1) on (1/2P)||W2 W1 X - Y||_F^2",
    "whitened inputs: (1/P) X X^T = I (the data enter only through Syx = (1/P) Y X^T)",
    "lambda-balanced start: W2^T W2 - W1 W1^T = lam I, lam measured from W1, W2 (any real lam, also 0)",
    "Nh = min(Ni, No) (Nh > min(Ni, No) has no closed form here: use numerics.simulate.matrix_gradient_flow)",
    f"B = O_+^T Q0 invertible and well conditioned, cond(B) <= {_qqt.COND_B_MAX:g} "
    "(otherwise the balanced network would have to pass through a saddle)",
)

MP_EXTRA_DIGITS_MAX = 1500

P_W1 = Param("W1", real(), "W_1(0)", "input-layer weights at t = 0, shape (Nh, Ni)", ndim=2)
P_W2 = Param("W2", real(), "W_2(0)", "output-layer weights at t = 0, shape (No, Nh)", ndim=2)
P_SYX = Param("Syx", real(), r"\Sigma_{yx}", "input-output correlation (1/P) Y X^T, shape (No, Ni)", ndim=2)
P_T = Param("t", nonnegative(), "t", "gradient-flow time (tau = 1; GD step k at rate eta is t = k eta)")
P_T1 = Param("t1", nonnegative(), "t_1", "first time")
P_T2 = Param("t2", nonnegative(), "t_2", "second time")
P_X = Param("X", real(), "X", "whitened inputs, shape (Ni, P), (1/P) X X^T = I", ndim=2)
P_V = Param("V", real(), "V", "function-space direction the NTK acts on, shape (No, P)", ndim=2)
P_LSTAR = Param("Lstar", nonnegative(), r"\mathcal{L}^{*}", "irreducible loss (1/2)(tr Syy - ||Syx||_F^2)")
P_W = Param("W", real(), "W", "network function W2 W1, shape (No, Ni)", ndim=2)
P_LAM = Param("lam", real(), r"\lambda", "relative scale: W2^T W2 - W1 W1^T = lam I")


# -- display (matrix symbols) --------------------------------------------------------------
def _display():
    n, m = sp.Symbol("n", integer=True, positive=True), sp.Symbol("m", integer=True, positive=True)
    Z = sp.MatrixSymbol("Z", n, m)
    C = sp.MatrixSymbol("C", m, m)
    Op, Om, Operp = sp.MatrixSymbol("O_{+}", n, m), sp.MatrixSymbol("O_{-}", n, m), sp.MatrixSymbol(r"O_{\perp}", n, m)
    E, Pm, D, H, Psi = (sp.MatrixSymbol(x, m, m) for x in ("E", "P", "D", "H", r"\Psi"))
    Ep = sp.MatrixSymbol(r"E_{\perp}", m, m)
    b = sp.MatrixSymbol("B", m, m)
    Q0 = sp.MatrixSymbol("Q_0", n, m)
    Dp = sp.MatrixSymbol(r"D_{\perp}", n - 2 * m, m)
    lam = sp.Symbol(r"\lambda", real=True)  # measured from the start, not a parameter here
    t = P_T.symbol
    Gam, gp, s = sp.Symbol(r"\Gamma", positive=True), sp.Symbol(r"\gamma_{\perp}", real=True), sp.Symbol("s", positive=True)
    qqt = Z * C.I * Z.T
    defs = (
        (Z, Op + Om * E * Pm * E + Operp * D * Ep),
        (C, E * H * E + Psi + E * Pm.T * Psi * Pm * E + sp.Symbol(r"\phi_{\perp}") * E * D.T * D * E),
        (b, Op.T * Q0),
        (Pm, Om.T * Q0 * b.I),
        (H, b.I.T * b.I),
        (D, Dp * b.I),
        (Dp, Operp.T * Q0),
        (Op, sp.Symbol(r"\tfrac{1}{\sqrt{2}}\begin{bmatrix} V (1 - X) A \\ U (1 + X) A \end{bmatrix}")),
        (Om, sp.Symbol(r"\tfrac{1}{\sqrt{2}}\begin{bmatrix} V (1 + X) A \\ -U (1 - X) A \end{bmatrix}")),
        (Q0, sp.Symbol(r"\begin{bmatrix} W_1(0)^{\top} \\ W_2(0) \end{bmatrix}")),
        (E, sp.Function("diag")(sp.exp(-Gam * t))),
        (Psi, sp.Function("diag")((1 - sp.exp(-2 * Gam * t)) / (2 * Gam))),
        (Ep, sp.Function("diag")(sp.exp((gp - Gam) * t))),
        (sp.Symbol(r"\phi_{\perp}"), (sp.exp(2 * gp * t) - 1) / (2 * gp)),
        (Gam, sp.sqrt(s**2 + lam**2 / 4)),
        (sp.Symbol("X"), sp.Function("diag")(lam / (sp.sqrt(lam**2 + 4 * s**2) + 2 * s))),
        (sp.Symbol("A"), sp.Function("diag")(1 / sp.sqrt(1 + sp.Symbol("X") ** 2))),
        (sp.Symbol(r"\gamma_{\perp}"), sp.Symbol(r"\pm\lambda/2 \text{ on } U_{\perp} \text{ or } V_{\perp}")),
    )
    return qqt, defs, Q0


QQT_DISPLAY, QQT_DEFINITIONS, _Q0 = _display()


# -- evaluators ---------------------------------------------------------------------------------
def _factors(W1, W2, Syx):
    return _qqt.factorise(W1, W2, Syx)


def _qqt_eval(W1, W2, Syx, t):
    return _qqt.evaluate_qqt(_factors(W1, W2, Syx), t)


def _block_eval(name):
    def ev(W1, W2, Syx, t):
        return _qqt.evaluate_blocks(_factors(W1, W2, Syx), t, (name,))[name]
    return ev


def _mp_fukumizu(W1, W2, Syx, t):
    """QQ^T(t) at the caller's precision by the Fukumizu form (mpmath matrices), independent of the evaluator."""
    W1, W2, Syx = (mpmath.matrix(a) for a in (W1, W2, Syx))
    Nh, Ni = W1.rows, W1.cols
    No = W2.rows
    Lam = W2.T * W2 - W1 * W1.T
    lam = sum(Lam[i, i] for i in range(Nh)) / Nh
    n = Ni + No
    F = mpmath.zeros(n, n)
    for i in range(Ni):
        F[i, i] = -lam / 2
    for i in range(No):
        F[Ni + i, Ni + i] = lam / 2
    for i in range(No):
        for j in range(Ni):
            F[Ni + i, j] = Syx[i, j]
            F[j, Ni + i] = Syx[i, j]
    Q0 = mpmath.zeros(n, Nh)
    for h in range(Nh):
        for i in range(Ni):
            Q0[i, h] = W1[h, i]
        for o in range(No):
            Q0[Ni + o, h] = W2[o, h]
    mu, O = mpmath.eigsy(F)
    # e^{2 mu t} dwarfs the O(1) terms it is added to: carry those digits too
    grow = max(abs(mu[i]) for i in range(n)) * t
    extra = int(2 * grow / mpmath.log(10)) + 20
    if extra > MP_EXTRA_DIGITS_MAX:
        raise ValueError(f"t: the Fukumizu twin would need {extra} extra digits at max|eig F| t = {float(grow):.3g} "
                         f"(> {MP_EXTRA_DIGITS_MAX}); use the evaluator, whose form is stable at any t")
    with mpmath.extradps(extra):
        mu, O = mpmath.eigsy(F)
        expo = [mpmath.exp(mu[i] * t) for i in range(n)]
        phi = [mpmath.expm1(2 * mu[i] * t) / (2 * mu[i]) if mu[i] != 0 else mpmath.mpf(t) for i in range(n)]
        OtQ = O.T * Q0
        G = O * mpmath.matrix([[expo[i] * OtQ[i, h] for h in range(Nh)] for i in range(n)])
        M = mpmath.eye(Nh) + OtQ.T * mpmath.matrix([[phi[i] * OtQ[i, h] for h in range(Nh)] for i in range(n)])
        out = G * mpmath.inverse(M) * G.T
    return out


# shared defaults for the QQ^T family
def _common(**kw):
    base = dict(conditions=CONDITIONS, references=REFS,
                source=("Stable form: Anguita 2024 thesis Thm 3.3.1(3) (setting of Dominé, Anguita et al. 2025), "
                        "lam = 0: Braun et al. 2022; unequal widths Nh = min(Ni, No): lazyrich derivation "
                        "(DERIVED+CHECKED against the Fukumizu form and gradient flow)"))
    base.update(kw)
    return base


qqt = register(Result(
    "lambda_balanced.qqt",
    title="QQ^T(t) of a λ-balanced two-layer linear network from any λ-balanced start",
    params=[P_W1, P_W2, P_SYX, P_T],
    expr=QQT_DISPLAY, output="QQT", output_latex=r"Q Q^{\top}(t)",
    definitions=QQT_DEFINITIONS,
    evaluator=_qqt_eval, evaluator_checks_finite=True,  # the per-time kernels refuse NaN while it is in cache
    mp=_mp_fukumizu,
    **_common(notes="returns shape t.shape + (Ni+No, Ni+No); blocks [[W1^T W1, W1^T W2^T], [W2 W1, W2 W2^T]]"),
))


def _block_result(name, block, title, latex, rows, cols, note):
    Zr = sp.MatrixSymbol(rows, sp.Symbol("n_r"), sp.Symbol("m"))
    Zc = sp.MatrixSymbol(cols, sp.Symbol("n_c"), sp.Symbol("m"))
    return register(Result(
        name, title=title, params=[P_W1, P_W2, P_SYX, P_T],
        expr=Zr * sp.MatrixSymbol("C", sp.Symbol("m"), sp.Symbol("m")).I * Zc.T,
        output=block, output_latex=latex,
        definitions=QQT_DEFINITIONS + ((Zr, sp.Symbol(f"rows of Z ({note})")),),
        evaluator=_block_eval(block), evaluator_checks_finite=True,
        mp=lambda W1, W2, Syx, t, _b=block: _mp_block(W1, W2, Syx, t, _b),
        **_common(notes=f"the {block} block of lambda_balanced.qqt; shape t.shape + {note}"),
    ))


def _mp_block(W1, W2, Syx, t, block):
    Q = _mp_fukumizu(W1, W2, Syx, t)
    Ni = mpmath.matrix(W1).cols
    n = Q.rows
    rows = range(Ni) if block == "W1TW1" else range(Ni, n)
    cols = range(Ni, n) if block == "W2W2T" else range(Ni)
    return mpmath.matrix([[Q[i, j] for j in cols] for i in rows])


product = _block_result("lambda_balanced.product", "W2W1", "Network function W2 W1(t) of a λ-balanced network",
                        r"W_2 W_1(t)", "Z_{o}", "Z_{i}", "(No, Ni): rows Ni.. of Z times rows ..Ni")
input_representation = _block_result(
    "lambda_balanced.input_representation", "W1TW1", "Input representation W1^T W1(t) of a λ-balanced network",
    r"W_1^{\top} W_1(t)", "Z_{i}", "Z_{i}", "(Ni, Ni): the first Ni rows of Z")
output_representation = _block_result(
    "lambda_balanced.output_representation", "W2W2T", "Output representation W2 W2^T(t) of a λ-balanced network",
    r"W_2 W_2^{\top}(t)", "Z_{o}", "Z_{o}", "(No, No): the last No rows of Z")


# -- loss ---------------------------------------------------------------------------------------
def _loss_eval(W1, W2, Syx, t, Lstar):
    W = _qqt.evaluate_blocks(_factors(W1, W2, Syx), t, ("W2W1",))["W2W1"]
    return 0.5 * np.sum((W - Syx) ** 2, axis=(-2, -1)) + Lstar


def _loss_mp(W1, W2, Syx, t, Lstar):
    W = _mp_block(W1, W2, Syx, t, "W2W1")
    S = mpmath.matrix(Syx)
    return sum((W[i, j] - S[i, j]) ** 2 for i in range(W.rows) for j in range(W.cols)) / 2 + Lstar


_Wt = sp.MatrixSymbol("W_{2}W_{1}(t)", sp.Symbol("N_o"), sp.Symbol("N_i"))
_S = sp.MatrixSymbol(r"\Sigma_{yx}", sp.Symbol("N_o"), sp.Symbol("N_i"))
loss = register(Result(
    "lambda_balanced.matrix_loss",
    title="Loss L(t) of a λ-balanced network from any λ-balanced start",
    params=[P_W1, P_W2, P_SYX, P_T, P_LSTAR],
    expr=sp.Trace((_Wt - _S).T * (_Wt - _S)) / 2 + P_LSTAR.symbol, output="L", output_latex=r"\mathcal{L}(t)",
    evaluator=_loss_eval, mp=_loss_mp,
    **_common(conditions=CONDITIONS + ("Lstar = (1/2)(tr Syy - ||Syx||_F^2) >= 0, the loss at the global minimum",
                                       "W2 W1(t) is lambda_balanced.product"),
              source=("L = (1/2)||W2 W1 - Syx||_F^2 + L* for whitened inputs (research note §1.6, C7; "
                      "Anguita 2024 thesis eq. 4.40), with W2 W1(t) the exact solution")),
))


# -- NTK as an operator --------------------------------------------------------------------------
def _reps(W1, W2, Syx, t):
    b = _qqt.evaluate_blocks(_factors(W1, W2, Syx), t, ("W1TW1", "W2W2T"))
    return b["W1TW1"], b["W2W2T"]


def _ntk_eval(W1, W2, Syx, t, X, V):
    X = _qqt.check_whitened(X)
    if V.shape != (W2.shape[0], X.shape[1]):
        raise ValueError(f"V: must have shape (No, P) = {(W2.shape[0], X.shape[1])}, got {V.shape}")
    if X.shape[0] != W1.shape[1]:
        raise ValueError(f"X: must have Ni = {W1.shape[1]} rows, got shape {X.shape}")
    R, B = _reps(W1, W2, Syx, t)
    P = X.shape[1]
    XtRX_V = np.einsum("op,ip,...ij,jq->...oq", V, X, R, X, optimize=True)
    BVXtX = np.einsum("...ab,bp,ip,iq->...aq", B, V, X, X, optimize=True)
    No, Ni = W2.shape[0], W1.shape[1]
    trace = P * (No * np.trace(R, axis1=-2, axis2=-1) + Ni * np.trace(B, axis1=-2, axis2=-1))
    return {"action": XtRX_V + BVXtX, "trace": trace}


def _ntk_mp(W1, W2, Syx, t, X, V):
    Q = _mp_fukumizu(W1, W2, Syx, t)
    Ni = W1.cols
    No = W2.rows
    R = mpmath.matrix([[Q[i, j] for j in range(Ni)] for i in range(Ni)])
    B = mpmath.matrix([[Q[Ni + i, Ni + j] for j in range(No)] for i in range(No)])
    G = X.T * R * X
    XtX = X.T * X
    action = V * G + B * V * XtX
    P = X.cols
    trace = P * (No * sum(R[i, i] for i in range(Ni)) + Ni * sum(B[i, i] for i in range(No)))
    return {"action": action, "trace": trace}


_R = sp.MatrixSymbol(r"W_1^{\top}W_1(t)", sp.Symbol("N_i"), sp.Symbol("N_i"))
_B = sp.MatrixSymbol(r"W_2W_2^{\top}(t)", sp.Symbol("N_o"), sp.Symbol("N_o"))
_Xs = sp.MatrixSymbol("X", sp.Symbol("N_i"), sp.Symbol("P"))
_Vs = sp.MatrixSymbol("V", sp.Symbol("N_o"), sp.Symbol("P"))
ntk = register(Result(
    "lambda_balanced.ntk",
    title="Neural tangent kernel of a λ-balanced network as an operator (action and trace)",
    params=[P_W1, P_W2, P_SYX, P_T, P_X, P_V],
    outputs=[Output("action", _Vs * _Xs.T * _R * _Xs + _B * _Vs * _Xs.T * _Xs, r"\mathcal{K}(t)[V]"),
             Output("trace", sp.Symbol("P") * (sp.Symbol("N_o") * sp.Trace(_R) + sp.Symbol("N_i") * sp.Trace(_B)),
                    r"\operatorname{tr}\mathcal{K}(t)")],
    evaluator=_ntk_eval, mp=_ntk_mp,
    **_common(conditions=CONDITIONS + (
        "K = I_No (x) X^T W1^T W1 X + W2 W2^T (x) X^T X, rows (output o, sample p), output-major; "
        "the action on V (No x P) is K vec(V) reshaped; the (No P)^2 matrix is never formed",
        "X whitened: (1/P) X X^T = I (refused otherwise)"),
        source=("NTK of a two-layer linear network: Anguita 2024 thesis eq. 2.37 (from Braun et al. 2022), "
                "evaluated on the exact W1^T W1(t), W2 W2^T(t); trace by tr(A (x) B) = tr A tr B")),
))


def frobenius_inner(R1, B1, R2, B2, Ni: int, No: int, P: float = 1.0):
    """<K1, K2>_F = P^2 [No tr(R1 R2) + tr B2 tr R1 + tr B1 tr R2 + Ni tr(B1 B2)] (whitened X)."""
    tr = functools.partial(np.trace, axis1=-2, axis2=-1)
    return P**2 * (No * np.sum(R1 * R2, axis=(-2, -1)) + tr(B2) * tr(R1) + tr(B1) * tr(R2)
                   + Ni * np.sum(B1 * B2, axis=(-2, -1)))


def _inner_eval(W1, W2, Syx, t1, t2):
    f = _factors(W1, W2, Syx)
    t1, t2 = np.broadcast_arrays(t1, t2)
    a = _qqt.evaluate_blocks(f, t1, ("W1TW1", "W2W2T"))
    b = _qqt.evaluate_blocks(f, t2, ("W1TW1", "W2W2T"))
    return a, b, f


def _kd_eval(W1, W2, Syx, t1, t2):
    a, b, f = _inner_eval(W1, W2, Syx, t1, t2)
    Ni, No = f.Ni, f.No
    k12 = frobenius_inner(a["W1TW1"], a["W2W2T"], b["W1TW1"], b["W2W2T"], Ni, No)
    k11 = frobenius_inner(a["W1TW1"], a["W2W2T"], a["W1TW1"], a["W2W2T"], Ni, No)
    k22 = frobenius_inner(b["W1TW1"], b["W2W2T"], b["W1TW1"], b["W2W2T"], Ni, No)
    return {"S": 1.0 - k12 / np.sqrt(k11 * k22), "inner": k12}


def _kd_mp(W1, W2, Syx, t1, t2):
    def reps(t):
        Q = _mp_fukumizu(W1, W2, Syx, t)
        Ni = W1.cols
        n = Q.rows
        return (mpmath.matrix([[Q[i, j] for j in range(Ni)] for i in range(Ni)]),
                mpmath.matrix([[Q[i, j] for j in range(Ni, n)] for i in range(Ni, n)]))
    R1, B1 = reps(t1)
    R2, B2 = reps(t2)
    Ni, No = W1.cols, W2.rows

    def tr(M):
        return sum(M[i, i] for i in range(M.rows))

    def inner(Ra, Ba, Rb, Bb):
        return No * tr(Ra * Rb) + tr(Bb) * tr(Ra) + tr(Ba) * tr(Rb) + Ni * tr(Ba * Bb)
    k12 = inner(R1, B1, R2, B2)
    return {"S": 1 - k12 / mpmath.sqrt(inner(R1, B1, R1, B1) * inner(R2, B2, R2, B2)), "inner": k12}


_K1, _K2 = (sp.MatrixSymbol(f"K_{{t_{i}}}", sp.Symbol("M"), sp.Symbol("M")) for i in (1, 2))
kernel_distance = register(Result(
    "lambda_balanced.kernel_distance",
    title="Kernel distance S(t1, t2) of the NTK of a λ-balanced network (and <K(t1), K(t2)>_F / P^2)",
    params=[P_W1, P_W2, P_SYX, P_T1, P_T2],
    outputs=[Output("S", 1 - sp.Trace(_K1.T * _K2) / sp.sqrt(sp.Trace(_K1.T * _K1) * sp.Trace(_K2.T * _K2)),
                    "S(t_1, t_2)"),
             Output("inner", sp.Symbol("N_o") * sp.Trace(_R * _R) + 2 * sp.Trace(_B) * sp.Trace(_R)
                    + sp.Symbol("N_i") * sp.Trace(_B * _B), r"\langle K(t_1), K(t_2)\rangle_F / P^2")],
    evaluator=_kd_eval, mp=_kd_mp,
    **_common(conditions=CONDITIONS + (
        "whitened X: <K1, K2>_F = P^2 [No tr(R1 R2) + tr B2 tr R1 + tr B1 tr R2 + Ni tr(B1 B2)], "
        "R = W1^T W1, B = W2 W2^T (the display's inner product is written at t1 = t2); S does not depend on X",),
        source=("Kernel distance as in Dominé, Anguita et al. 2025 and Kunin et al. 2024 code; the trace form "
                "for whitened inputs is a lazyrich derivation (research note §1.7, DERIVED+CHECKED C4)")),
))


# -- representations as functions of W2 W1 ------------------------------------------------------
def representations_of(W, lam):
    """(W1^T W1, W2 W2^T) from W = W2 W1 and lam (Nh = min(Ni, No)); refuses ambiguous rank-deficient W."""
    No, Ni = W.shape
    m = min(Ni, No)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)  # m singular triples
    if Ni != No and s[-1] <= 1e-12 * max(s[0], 1e-300) * max(Ni, No) and lam != 0:
        raise ValueError("W: rank-deficient W with Ni != No and lam != 0: which null directions carry the hidden "
                         "units is not determined by W; use lambda_balanced.input_representation/"
                         "output_representation on the start instead")
    q = np.sqrt(s**2 + lam**2 / 4)
    # q -+ lam/2 without cancellation: s^2/(q +- lam/2) where it would cancel
    r1 = np.where(lam <= 0, q - lam / 2, np.divide(s**2, q + lam / 2, out=np.zeros_like(q), where=q + lam / 2 > 0))
    r2 = np.where(lam >= 0, q + lam / 2, np.divide(s**2, q - lam / 2, out=np.zeros_like(q), where=q - lam / 2 > 0))
    V, U = Vt[:m].T, U[:, :m]
    return (V * r1) @ V.T, (U * r2) @ U.T


def _rep_eval(W, lam):
    lam = np.asarray(lam, dtype=float)
    if lam.ndim:
        raise ValueError(f"lam: must be a scalar here, got shape {lam.shape}")
    R, B = representations_of(W, float(lam))
    return {"W1TW1": R, "W2W2T": B}


def _rep_mp(W, lam):
    W = mpmath.matrix(W)
    No, Ni = W.rows, W.cols

    def sqrt_psd(M, shift):
        ev, O = mpmath.eigsy(M)
        n = M.rows
        D = mpmath.diag([mpmath.sqrt(max(ev[i], 0) + shift) for i in range(n)])
        return O * D * O.T
    R = sqrt_psd(W.T * W, lam**2 / 4) - lam / 2 * mpmath.eye(Ni)
    B = sqrt_psd(W * W.T, lam**2 / 4) + lam / 2 * mpmath.eye(No)
    return {"W1TW1": R, "W2W2T": B}


_Ws = sp.MatrixSymbol("W", sp.Symbol("N_o"), sp.Symbol("N_i"))
_lam = P_LAM.symbol
representations = register(Result(
    "lambda_balanced.representations_from_function",
    title="Representations W1^T W1, W2 W2^T of a λ-balanced network as functions of W = W2 W1",
    params=[P_W, P_LAM],
    outputs=[Output("W1TW1", sp.MatPow(_Ws.T * _Ws + _lam**2 / 4 * sp.Identity(sp.Symbol("N_i")), sp.Rational(1, 2))
                    - _lam / 2 * sp.Identity(sp.Symbol("N_i")), r"W_1^{\top} W_1"),
             Output("W2W2T", sp.MatPow(_Ws * _Ws.T + _lam**2 / 4 * sp.Identity(sp.Symbol("N_o")), sp.Rational(1, 2))
                    + _lam / 2 * sp.Identity(sp.Symbol("N_o")), r"W_2 W_2^{\top}")],
    evaluator=_rep_eval, mp=_rep_mp,
    conditions=(
        "lambda-balanced network with W2^T W2 - W1 W1^T = lam I and Nh = min(Ni, No); holds at every time",
        "for Ni != No the identities hold on the m = min(Ni, No) leading singular directions of W "
        "(the other eigenvalues are 0); W must then have rank m when lam != 0",
        "display form as written holds exactly for Ni = No (for Ni != No restrict to range(W^T), range(W))",
    ),
    source="Anguita 2024 thesis Thm 4.1.1-4.1.2 (setting of Dominé, Anguita et al. 2025); research note §1.7",
    references=REFS,
))

__all__ = ["input_representation", "kernel_distance", "loss", "ntk", "output_representation", "product", "qqt",
           "representations"]

from . import _lambda_balanced_sequential  # noqa: E402,F401  (registers lambda_balanced.forgetting)
