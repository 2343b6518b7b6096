"""Gradient flow and gradient descent of a two-layer linear network from ANY start (balanced or not).

``f(x) = W2 W1 x``, loss ``(1/2P)||W2 W1 X - Y||_F^2``. The flow depends on the data only
through ``Sxx = (1/P) X X^T`` and ``Syx = (1/P) Y X^T``:

    dW1/dt = W2^T (Syx - W2 W1 Sxx),   dW2/dt = (Syx - W2 W1 Sxx) W1^T,

``tau = 1``; a GD step k at rate eta is time ``k eta``. Any widths (also Nh > min(Ni, No),
where no closed form is known), any Sxx (default: whitened, Sxx = I). BLAS is pinned to
one thread inside the right-hand side and the GD loop. Setting: Saxe et al. 2014;
Dominé, Anguita et al., ICLR 2025.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .._blas_threads import one_blas_thread


@dataclass(frozen=True, eq=False)
class MatrixTrajectory:
    """Weights recorded at times ``t`` (T,): ``W1`` (T, Nh, Ni), ``W2`` (T, No, Nh)."""

    t: np.ndarray
    W1: np.ndarray
    W2: np.ndarray

    @property
    def product(self) -> np.ndarray:
        """W2 W1, (T, No, Ni)."""
        return self.W2 @ self.W1

    @property
    def input_representation(self) -> np.ndarray:
        """W1^T W1, (T, Ni, Ni)."""
        return np.swapaxes(self.W1, 1, 2) @ self.W1

    @property
    def output_representation(self) -> np.ndarray:
        """W2 W2^T, (T, No, No)."""
        return self.W2 @ np.swapaxes(self.W2, 1, 2)

    @property
    def qqt(self) -> np.ndarray:
        """QQ^T with Q = [W1^T; W2], (T, Ni+No, Ni+No)."""
        Q = np.concatenate([np.swapaxes(self.W1, 1, 2), self.W2], axis=1)
        return Q @ np.swapaxes(Q, 1, 2)

    @property
    def conserved(self) -> np.ndarray:
        """W2^T W2 - W1 W1^T, (T, Nh, Nh) (constant under gradient flow)."""
        return np.swapaxes(self.W2, 1, 2) @ self.W2 - self.W1 @ np.swapaxes(self.W1, 1, 2)

    def loss(self, Syx, Lstar=0.0, Sxx=None) -> np.ndarray:
        """(1/2P)||W2 W1 X - Y||^2 = (1/2) tr(W Sxx W^T) - tr(W Syx^T) + (1/2)||Syx||^2 + Lstar (whitened: Sxx = I)."""
        W = self.product
        Syx = np.asarray(Syx, dtype=float)
        Sxx = np.eye(W.shape[2]) if Sxx is None else np.asarray(Sxx, dtype=float)
        return (0.5 * np.einsum("toi,ij,toj->t", W, Sxx, W) - np.einsum("toi,oi->t", W, Syx)
                + 0.5 * np.sum(Syx**2) + Lstar)


def _weights(W1, W2, Syx, Sxx):
    W1 = np.array(W1, dtype=float)
    W2 = np.array(W2, dtype=float)
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
        raise ValueError(f"W2: shapes do not chain: W1 {W1.shape} (Nh x Ni), W2 {W2.shape} (No x Nh)")
    Nh, Ni = W1.shape
    No = W2.shape[0]
    Syx = np.array(Syx, dtype=float)
    if Syx.shape != (No, Ni):
        raise ValueError(f"Syx: must have shape (No, Ni) = {(No, Ni)}, got {Syx.shape}")
    Sxx = np.eye(Ni) if Sxx is None else np.array(Sxx, dtype=float)
    if Sxx.shape != (Ni, Ni):
        raise ValueError(f"Sxx: must have shape (Ni, Ni) = {(Ni, Ni)}, got {Sxx.shape}")
    for name, a in (("W1", W1), ("W2", W2), ("Syx", Syx), ("Sxx", Sxx)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: must be finite")
    return W1, W2, Syx, Sxx


def _times(t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError(f"t: must be a non-empty 1-D nondecreasing array of finite times >= 0, got {t!r}")
    return t


def matrix_gradient_flow(W1, W2, Syx, t, *, Sxx=None, rtol=1e-12, atol=1e-14) -> MatrixTrajectory:
    """Integrate the flow (DOP853 at ``rtol``, ``atol``) from ``W1, W2`` and record at times ``t``."""
    W1, W2, Syx, Sxx = _weights(W1, W2, Syx, Sxx)
    t = _times(t)
    n1 = W1.size
    s1, s2 = W1.shape, W2.shape

    def rhs(_, w):
        a, b = w[:n1].reshape(s1), w[n1:].reshape(s2)
        E = Syx - b @ a @ Sxx
        return np.concatenate([(b.T @ E).ravel(), (E @ a.T).ravel()])

    w0 = np.concatenate([W1.ravel(), W2.ravel()])
    tu, inverse = np.unique(t, return_inverse=True)
    pos = tu[tu > 0]
    states = [w0[:, None]] if tu[0] == 0 else []
    if pos.size:
        with one_blas_thread():
            sol = solve_ivp(rhs, (0.0, pos[-1]), w0, method="DOP853", t_eval=pos, rtol=rtol, atol=atol)
        if not sol.success:
            raise RuntimeError(f"gradient flow integration failed: {sol.message}")
        states.append(sol.y)
    w = np.concatenate(states, axis=1).T[inverse]
    return MatrixTrajectory(t.copy(), w[:, :n1].reshape(-1, *s1), w[:, n1:].reshape(-1, *s2))


def matrix_gradient_descent(W1, W2, Syx, eta, steps, *, Sxx=None, record_every=1) -> MatrixTrajectory:
    """``steps`` full-batch GD steps at rate ``eta`` (both layers at once); records k = 0, record_every, ..., steps."""
    W1, W2, Syx, Sxx = _weights(W1, W2, Syx, Sxx)
    eta = float(eta)
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta: must be finite and > 0, got {eta}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps: must be an integer >= 0, got {steps!r}")
    if int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every: must be an integer >= 1, got {record_every!r}")
    steps, record_every = int(steps), int(record_every)
    ks, W1s, W2s = [0], [W1.copy()], [W2.copy()]
    with one_blas_thread():
        for k in range(1, steps + 1):
            E = Syx - W2 @ W1 @ Sxx
            W1, W2 = W1 + eta * (W2.T @ E), W2 + eta * (E @ W1.T)
            if k % record_every == 0 or k == steps:
                ks.append(k)
                W1s.append(W1.copy())
                W2s.append(W2.copy())
    return MatrixTrajectory(eta * np.array(ks, dtype=float), np.stack(W1s), np.stack(W2s))
