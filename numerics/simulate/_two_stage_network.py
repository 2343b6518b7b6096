r"""Finite-width two-layer μP network trained in two stages: the network the two-stage DMFT describes.

Exactly the conventions of :mod:`numerics._two_stage_dmft` (read its docstring): width N,
:math:`h_i(x) = w_i\cdot x/\sqrt D`, :math:`f = \sum_i z_i\phi(h_i)/(N\gamma)` with the γ of the current
stage, mean half-squared loss over the P training points, full-batch gradient descent on (W, z) with step
:math:`\eta N\gamma^2` (η = ``dt``), stage one on the source task (γ₁, ``steps1`` steps), stage two on the
target (γ₂, ``steps2`` steps) with a fresh or continued readout. Unlike the Monte Carlo, it updates the
weights W (N, D) in weight space and recomputes h = W Xᵀ/√D; the draws for a seed are those of
:func:`numerics._two_stage_dmft.initial_draws`, so at N = S the two coincide to rounding.
"""

from __future__ import annotations

import numpy as np

from .._two_stage_dmft import TwoStageTask, _check, _losses, initial_draws
from ._kernel_regression import one_blas_thread

WIDTHS = (1000, 4000, 16000)


def _stage(W, z, task: TwoStageTask, train, gamma, dt, steps, relu):
    X, D = task.X, task.D
    Xtr, ytr, P = X[train], task.y[train], train.size
    N = W.shape[0]
    f = np.empty((steps + 1, X.shape[0]))
    for k in range(steps + 1):
        H = W @ X.T / np.sqrt(D)
        Phi = np.maximum(H, 0.0) if relu else H
        f[k] = z @ Phi / (N * gamma)
        if k == steps:
            break
        delta = (ytr - f[k, train]) / P
        dPhi = (H[:, train] > 0).astype(float) if relu else 1.0
        # gradient step with rate dt N gamma^2 on L = (1/2P) sum (f - y)^2
        grad_W = ((z[:, None] * dPhi) * delta[None, :]) @ Xtr / np.sqrt(D)
        z = z + dt * gamma * (Phi[:, train] @ delta)
        W = W + dt * gamma * grad_W
    return f, W, z


def two_stage_network(task: TwoStageTask, *, width: int, gamma1: float, gamma2: float, dt: float = 0.05,
                      steps1: int, steps2: int, readout: str = "fresh", activation: str = "relu",
                      seed: int = 0) -> dict:
    """Train the width-``width`` network through both stages; same return keys as
    :func:`numerics._two_stage_dmft.fields_two_stage` (loss trajectories, f over all points), with the final
    ``W`` and ``z``."""
    _check(gamma1, gamma2, dt, steps1, steps2, readout, activation)
    relu = activation == "relu"
    W, z, z_fresh = initial_draws(task.D, width, seed=seed)
    with one_blas_thread():
        f1, W, z = _stage(W, z, task, task.source_train, gamma1, dt, int(steps1), relu)
        if readout == "fresh":
            z = z_fresh
        f2, W, z = _stage(W, z, task, task.target_train, gamma2, dt, int(steps2), relu)
    s_tr, s_te = _losses(f1, task, task.source_train, task.source_test)
    t_tr, t_te = _losses(f2, task, task.target_train, task.target_test)
    return {"t1": dt * np.arange(int(steps1) + 1), "source_train": s_tr, "source_test": s_te,
            "t2": dt * np.arange(int(steps2) + 1), "target_train": t_tr, "target_test": t_te,
            "f1": f1, "f2": f2, "W": W, "z": z}
