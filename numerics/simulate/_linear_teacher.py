"""Full-batch gradient descent for linear regression started at source weights.

Fine-tuning a linear model ``f(x) = w . x`` from pretrained (source) weights
``w0 = w_S`` on target samples ``X`` (n x d, one sample per row), labels ``y``
(n,), with the loss ``(1/2n) ||X w - y||^2``:

    w_{k+1} = w_k - eta (G w_k - b),   G = X^T X / n,  b = X^T y / n.

Step k is gradient-flow time ``k eta``. The iterates stay in ``w0 + row(X)``; for
``eta < 2 / lambda_max(G)`` they converge to the interpolator closest to ``w0``
(when n <= d and X has full row rank), with the error contracting by
``max_i |1 - eta g_i|`` over the non-zero eigenvalues ``g_i`` of G (see
:func:`descent_contraction`). Setting: Shachaf, Brutzkus, Globerson, NeurIPS 2021
(fine-tuning with linear teachers).
"""

from __future__ import annotations

import math
import operator

import numba
import numpy as np


def _design(X, y, w0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    w0 = np.ascontiguousarray(w0, dtype=np.float64)
    if X.ndim != 2 or X.size == 0:
        raise ValueError(f"X must be a non-empty 2-D array (n samples x d features), got shape {X.shape}")
    n, d = X.shape
    if y.shape != (n,):
        raise ValueError(f"y must be 1-D with one label per row of X ({n}), got shape {y.shape}")
    if w0.shape != (d,):
        raise ValueError(f"w0 must be 1-D with one weight per column of X ({d}), got shape {w0.shape}")
    for name, a in (("X", X), ("y", y), ("w0", w0)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite")
    return X, y, w0


@numba.njit(cache=True, error_model="numpy")
def _descend(G, b, w, eta, steps):  # pragma: no cover - compiled
    d = w.shape[0]
    g = np.empty(d)
    for _ in range(steps):
        for i in range(d):
            acc = -b[i]
            for j in range(d):
                acc += G[i, j] * w[j]
            g[i] = acc
        for i in range(d):
            w[i] -= eta * g[i]
    return w


def linear_regression_descent(X, y, w0, eta, steps) -> np.ndarray:
    """The weights after ``steps`` full-batch GD steps at rate ``eta`` from ``w0``.

    Loss (1/2n) ||X w - y||^2 (X: n x d, one sample per row); returns a new (d,) array.
    """
    X, y, w0 = _design(X, y, w0)
    try:
        eta = float(eta)
    except (TypeError, ValueError):
        raise ValueError(f"eta must be a positive real number, got {eta!r}") from None
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be finite and > 0, got {eta}")
    try:
        steps = operator.index(steps)
    except TypeError:
        raise ValueError(f"steps must be an integer, got {steps!r}") from None
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    n = X.shape[0]
    G = X.T @ X / n
    b = X.T @ y / n
    return _descend(G, b, w0.copy(), eta, steps)


def descent_contraction(X, eta) -> float:
    """``max_i |1 - eta g_i|`` over the non-zero eigenvalues g_i of X^T X / n.

    The GD error in the row space of X shrinks by at least this factor per step
    (the null-space component never moves).
    """
    X = np.asarray(X, dtype=np.float64)
    sv = np.linalg.svd(X, compute_uv=False)
    g = sv**2 / X.shape[0]
    g = g[g > g.max() * max(X.shape) * np.finfo(float).eps]
    return float(np.max(np.abs(1.0 - eta * g)))


__all__ = ["descent_contraction", "linear_regression_descent"]
