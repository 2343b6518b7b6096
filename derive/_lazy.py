r"""lazy.*: lazy (kernel) training in closed form: gradient flow and gradient descent with a fixed kernel.

Setting (Jacot et al. 2018; Chizat, Oyallon & Bach 2019; the lazy regime of Dayi's 2025 thesis):
a model linear in its parameters around ``theta_0``, ``f = f_0 + J (theta - theta_0)``, trained on
``(1/2P) sum_mu (f(x_mu) - y_mu)^2 + (ridge/2) ||theta - theta_0||^2`` (the project's loss), has
kernel ``K = J J^T`` (train, P x P, no 1/P) and ``K_test = J_test J^T`` (Q x P). Gradient flow
(``tau = 1``) gives

.. math:: f_{\rm train}(t) = f_0 + K (K + P\rho I)^{-1} \big(I - e^{-(K/P + \rho) t}\big)(y - f_0),

and the same with ``K_test``, ``f_0^test`` for test predictions (``rho`` = ridge); ``n`` steps of
gradient descent at rate ``eta`` replace ``e^{-(K/P+rho)t}`` by ``(I - eta (K/P + rho))^n``. At
``t = inf``: kernel ridge regression, ``f_0 + K_test (K + P rho I)^{-1} (y - f_0)`` (ridgeless:
the interpolant). For an infinitely wide two-layer ReLU network the kernel is ``relu.ntk``.

Numerics (``numerics._lazy.KernelDynamics``, reusable as a closure): one symmetric
eigendecomposition per call, any number of times from it; decaying exponentials via ``expm1``;
eigenvalues ``<= P eps lambda_max`` are exact zeros (their modes are neither learned nor move the
test predictions); ``t = inf`` by a Cholesky solve (or the minimum-norm interpolant when the kernel
is numerically singular and ``ridge = 0``). Outputs have shape ``t.shape + (P, c)`` and
``t.shape + (Q, c)`` (``c`` output columns).

Sources: the closed form is the standard solution of the linear ODE (derived here; checked
against the linearised network trained step by step, to rounding, and against a wide two-layer
ReLU network trained by gradient descent, whose error shrinks as width^(-1/2)).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from numerics._lazy import KernelDynamics

from ._domain import Param, integer, nonnegative, positive, real
from ._registry import register
from ._result import Output, Result

REFS = ("jacot2018ntk", "chizat2019lazy", "dayi2025thesis")

P_K = Param("K", real(), "K", "train kernel K(x_mu, x_nu), P x P symmetric positive semidefinite", ndim=2)
P_KT = Param("K_test", real(), r"K_{\ast}", "test-train kernel K(x*_i, x_mu), Q x P", ndim=2)
P_Y = Param("y", real(), "y", "train targets, P x c", ndim=2)
P_F0 = Param("f0", real(), "f_0", "initial train predictions, P x c", ndim=2)
P_F0T = Param("f0_test", real(), r"f_0^{\ast}", "initial test predictions, Q x c", ndim=2)
P_T = Param("t", nonnegative(allow_inf=True), "t", "gradient-flow time (inf allowed)")
P_RIDGE = Param("ridge", nonnegative(), r"\rho", "ridge (weight decay towards theta_0)")
P_STEPS = Param("steps", integer(0), "n", "number of gradient-descent steps")
P_ETA = Param("eta", positive(), r"\eta", "learning rate")

_nc = dict(commutative=False)
K, Ks, y, f0, f0s, I = (sp.Symbol(n, **_nc) for n in ("K", "K_*", "y", "f_0", "f_0^*", "I"))
t, rho, Psym, eta, n = sp.symbols("t rho P eta n", positive=True)
_res = y - f0
_gain = (K + Psym * rho * I) ** -1
FLOW_TRAIN = f0 + K * _gain * (I - sp.exp(-(K / Psym + rho * I) * t)) * _res
FLOW_TEST = f0s + Ks * _gain * (I - sp.exp(-(K / Psym + rho * I) * t)) * _res
GD_TRAIN = f0 + K * _gain * (I - (I - eta * (K / Psym + rho * I)) ** n) * _res
GD_TEST = f0s + Ks * _gain * (I - (I - eta * (K / Psym + rho * I)) ** n) * _res

CONDITIONS = (
    "loss (1/2P) sum (f - y)^2 + (ridge/2) ||theta - theta_0||^2 of a model linear in theta (lazy regime); "
    "K = J J^T without 1/P",
    "K symmetric positive semidefinite; eigenvalues <= P eps lambda_max are treated as exact zeros "
    "(documented threshold: the rounding level of the eigensolver)",
    "one eigendecomposition per call (ridge a single value); for repeated calls use numerics._lazy.KernelDynamics",
)


def _check_shapes(K, K_test, y, f0, f0_test):
    P = K.shape[0]
    if K.shape != (P, P):
        raise ValueError(f"K: must be square, got shape {K.shape}")
    if K_test.shape[1] != P:
        raise ValueError(f"K_test: must have P = {P} columns, got shape {K_test.shape}")
    if y.shape[0] != P or f0.shape != y.shape:
        raise ValueError(f"f0: y and f0 must both be P x c with P = {P}, got {y.shape} and {f0.shape}")
    if f0_test.shape != (K_test.shape[0], y.shape[1]):
        raise ValueError(f"f0_test: must be Q x c = {(K_test.shape[0], y.shape[1])}, got {f0_test.shape}")


def _single(name, v):
    v = np.asarray(v)
    if v.size != 1:
        raise ValueError(f"{name}: must be a single value (one factorisation per call), got shape {v.shape}")
    return float(v.reshape(()))


def _flow(K, K_test, y, f0, f0_test, t, ridge):
    _check_shapes(K, K_test, y, f0, f0_test)
    return KernelDynamics(K, K_test, ridge=_single("ridge", ridge)).flow(t, y, f0, f0_test)


def _descent(K, K_test, y, f0, f0_test, steps, eta, ridge):
    _check_shapes(K, K_test, y, f0, f0_test)
    return KernelDynamics(K, K_test, ridge=_single("ridge", ridge)).descent(steps, _single("eta", eta), y, f0, f0_test)


flow = register(Result(
    "lazy.flow", title="Kernel gradient flow (lazy training): train and test predictions at time t",
    params=[P_K, P_KT, P_Y, P_F0, P_F0T, P_T, P_RIDGE],
    outputs=[Output("train", FLOW_TRAIN, r"f_{\mathrm{train}}(t)"), Output("test", FLOW_TEST, r"f_{\mathrm{test}}(t)")],
    evaluator=_flow, conditions=CONDITIONS + ("gradient flow, tau = 1; t = inf gives kernel (ridge) regression",),
    source="solution of the linear ODE of the linearised model (derived here); lazy regime of Jacot et al. 2018 and "
           "Chizat et al. 2019",
    references=REFS,
))

descent = register(Result(
    "lazy.descent", title="Kernel gradient descent (lazy training): predictions after n steps at rate eta",
    params=[P_K, P_KT, P_Y, P_F0, P_F0T, P_STEPS, P_ETA, P_RIDGE],
    outputs=[Output("train", GD_TRAIN, r"f_{\mathrm{train}}(n)"), Output("test", GD_TEST, r"f_{\mathrm{test}}(n)")],
    evaluator=_descent,
    conditions=CONDITIONS + ("full-batch gradient descent; requires eta (lambda_max/P + ridge) < 2 (else it diverges)",),
    source="solution of the linear recursion of the linearised model (derived here); setting of Jacot et al. 2018",
    references=REFS,
))
