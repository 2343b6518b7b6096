"""Gradient flow and gradient descent of the single-neuron model f(x) = a w^T x (Kunin et al. 2024).

Loss ``(1/2) beta^T Sxx beta - beta^T Sxy + const`` in ``beta = a w`` (whitened: ``Sxx = I``, so
``L = (1/2)||beta - beta*||^2 + const``), layer-wise rates:

    dw/dt = -eta_w a (Sxx beta - Sxy),   da/dt = -eta_a w^T (Sxx beta - Sxy),

which conserves ``delta = eta_w a^2 - eta_a ||w||^2``. A GD step k at rate ``eta`` (both rates scaled
by it) is time ``k eta``. BLAS is pinned to one thread (tiny vectors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .._blas_threads import one_blas_thread


@dataclass(frozen=True, eq=False)
class NeuronTrajectory:
    """``t`` (T,), ``a`` (T,), ``w`` (T, d); ``beta = a w`` and ``delta`` as properties."""

    t: np.ndarray
    a: np.ndarray
    w: np.ndarray
    eta_w: float
    eta_a: float

    @property
    def beta(self) -> np.ndarray:
        return self.a[:, None] * self.w

    @property
    def delta(self) -> np.ndarray:
        return self.eta_w * self.a**2 - self.eta_a * np.sum(self.w**2, axis=1)


def _inputs(a0, w0, beta_star, eta_w, eta_a, Sxx):
    a0 = float(a0)
    w0 = np.array(w0, dtype=float)
    bs = np.array(beta_star, dtype=float)
    if w0.ndim != 1 or bs.shape != w0.shape:
        raise ValueError(f"beta_star: must be a 1-D array of the length of w0 ({w0.shape}), got {bs.shape}")
    for name, v in (("eta_w", eta_w), ("eta_a", eta_a)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: must be finite and > 0, got {v}")
    Sxx = np.eye(w0.size) if Sxx is None else np.array(Sxx, dtype=float)
    return a0, w0, Sxx @ bs, Sxx


def neuron_gradient_flow(a0, w0, beta_star, t, *, eta_w=1.0, eta_a=1.0, Sxx=None, rtol=1e-12, atol=1e-14):
    """Integrate the flow (DOP853) to the nondecreasing times ``t``; ``Sxy = Sxx beta_star``."""
    a0, w0, Sxy, Sxx = _inputs(a0, w0, beta_star, eta_w, eta_a, Sxx)
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(t < 0) or np.any(np.diff(t) < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t: must be a non-empty 1-D nondecreasing array of finite times >= 0")

    def rhs(_, y):
        a, w = y[0], y[1:]
        g = Sxx @ (a * w) - Sxy
        return np.concatenate([[-eta_a * (w @ g)], -eta_w * a * g])

    y0 = np.concatenate([[a0], w0])
    tu, inv = np.unique(t, return_inverse=True)
    pos = tu[tu > 0]
    states = [y0[:, None]] if tu[0] == 0 else []
    if pos.size:
        with one_blas_thread():
            sol = solve_ivp(rhs, (0.0, pos[-1]), y0, method="DOP853", t_eval=pos, rtol=rtol, atol=atol)
        if not sol.success:
            raise RuntimeError(f"single-neuron flow failed: {sol.message}")
        states.append(sol.y)
    y = np.concatenate(states, axis=1).T[inv]
    return NeuronTrajectory(t.copy(), y[:, 0].copy(), y[:, 1:].copy(), float(eta_w), float(eta_a))


def neuron_gradient_descent(a0, w0, beta_star, eta, steps, *, eta_w=1.0, eta_a=1.0, Sxx=None, record_every=1):
    """``steps`` GD steps with step sizes ``eta * eta_w``, ``eta * eta_a``; records at times k eta."""
    a, w, Sxy, Sxx = _inputs(a0, w0, beta_star, eta_w, eta_a, Sxx)
    eta = float(eta)
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta: must be finite and > 0, got {eta}")
    ks, As, Ws = [0], [a], [w.copy()]
    for k in range(1, int(steps) + 1):
        g = Sxx @ (a * w) - Sxy
        a, w = a - eta * eta_a * (w @ g), w - eta * eta_w * a * g
        if k % record_every == 0 or k == steps:
            ks.append(k)
            As.append(a)
            Ws.append(w.copy())
    return NeuronTrajectory(eta * np.array(ks, dtype=float), np.array(As), np.array(Ws), float(eta_w), float(eta_a))
