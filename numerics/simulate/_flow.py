"""Gradient flow (tau = 1) of a two-layer linear network on its data.

dW1/dt = (1/P) W2^T (Y - W2 W1 X) X^T,  dW2/dt = (1/P) (Y - W2 W1 X) X^T W1^T,
integrated with scipy's DOP853.  Conserves W2^T W2 - W1 W1^T.  Setting: Saxe,
McClelland & Ganguli 2014 (arXiv:1312.6120); Domine, Anguita et al., ICLR 2025
(arXiv:2409.14623).
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy.integrate import solve_ivp

from ._task import AlignedTask
from ._trajectory import Trajectory, data_moments, negative_gradient, record

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional: only pins BLAS threads when available
    threadpool_limits = None


def _check_times(t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"t must be a non-empty 1-D array of times, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError("t must be finite, >= 0 and nondecreasing")
    return t


def gradient_flow(task: AlignedTask, t, *, rtol=1e-12, atol=1e-14) -> Trajectory:
    """Integrate the gradient flow from task.W1, task.W2 and record at times t.

    t: 1-D, nondecreasing, >= 0 (repeats allowed; t = 0 gives the initial
    weights exactly).  The right-hand side uses (1/P) X X^T and (1/P) Y X^T,
    precomputed from the data; the gradient is the same as from X, Y directly.
    """
    t = _check_times(t)
    Sxx, Syx = data_moments(task)
    shape1, shape2 = task.W1.shape, task.W2.shape
    n1 = task.W1.size

    def rhs(_, w):
        g1, g2 = negative_gradient(w[:n1].reshape(shape1), w[n1:].reshape(shape2), Sxx, Syx)
        return np.concatenate([g1.ravel(), g2.ravel()])

    w0 = np.concatenate([task.W1.ravel(), task.W2.ravel()])
    tu, inverse = np.unique(t, return_inverse=True)
    positive = tu[tu > 0]
    states = [w0[:, None]] if tu[0] == 0 else []
    if positive.size:
        limits = threadpool_limits(limits=1, user_api="blas") if threadpool_limits else contextlib.nullcontext()
        with limits:
            sol = solve_ivp(rhs, (0.0, positive[-1]), w0, method="DOP853",
                            t_eval=positive, rtol=rtol, atol=atol)
        if not sol.success:
            raise RuntimeError(f"gradient flow integration failed: {sol.message}")
        states.append(sol.y)
    w = np.concatenate(states, axis=1).T[inverse]
    W1s = w[:, :n1].reshape(-1, *shape1)
    W2s = w[:, n1:].reshape(-1, *shape2)
    return record(task, t, W1s, W2s)
