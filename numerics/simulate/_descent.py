"""Full-batch gradient descent of a two-layer linear network on its data.

W <- W - eta dL/dW for both layers simultaneously, L = (1/2P) ||W2 W1 X - Y||^2;
step k is recorded at time t = k eta, so GD approximates the tau = 1 gradient
flow to first order in eta.  Setting: Saxe, McClelland & Ganguli 2014
(arXiv:1312.6120); Domine, Anguita et al., ICLR 2025 (arXiv:2409.14623).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ._task import AlignedTask
from ._trajectory import Trajectory, data_moments, negative_gradient, record


def _nonnegative_int(value, name: str, minimum: int) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return n


def gradient_descent(task: AlignedTask, eta, steps, *, record_every=1) -> Trajectory:
    """Run `steps` full-batch GD steps at rate eta from task.W1, task.W2.

    Records steps k = 0, record_every, 2 record_every, ... and always the last
    step, at times k * eta.  The gradient uses (1/P) X X^T and (1/P) Y X^T,
    precomputed from the data.
    """
    try:
        eta = float(eta)
    except (TypeError, ValueError):
        raise ValueError(f"eta must be a positive real number, got {eta!r}") from None
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be finite and > 0, got {eta}")
    steps = _nonnegative_int(steps, "steps", 0)
    record_every = _nonnegative_int(record_every, "record_every", 1)

    Sxx, Syx = data_moments(task)
    W1, W2 = task.W1.copy(), task.W2.copy()
    ks, W1s, W2s = [0], [W1], [W2]
    for k in range(1, steps + 1):
        g1, g2 = negative_gradient(W1, W2, Sxx, Syx)
        W1, W2 = W1 + eta * g1, W2 + eta * g2
        if k % record_every == 0 or k == steps:
            ks.append(k)
            W1s.append(W1)
            W2s.append(W2)
    return record(task, eta * np.array(ks, dtype=float), np.stack(W1s), np.stack(W2s))
