"""Gradient flow of a deep linear network with scalar output, from balanced pretrained layers.

Network ``f(x) = W_L ... W_1 x`` with ``W_1`` (h x d), ``W_j`` (h x h) for
1 < j < L and ``W_L`` (1 x h) (L = 1: ``W_1`` is 1 x d); its end-to-end vector is
``w = (W_L ... W_1)^T``. Loss ``(1/2n) ||X w - y||^2`` on n target samples (rows
of X). Gradient flow (tau = 1):

    dW_j/dt = -(W_L ... W_{j+1})^T g^T (W_{j-1} ... W_1)^T,   g = X^T (X w - y) / n,

integrated with scipy's DOP853 at tight tolerance (finite-step gradient descent
breaks balancedness, research note teachers-lora.md §1.3). Layers listed in
``frozen`` do not move (fine-tuning only the others).

:func:`balanced_layers` builds pretrained layers with ``W_{j+1}^T W_{j+1} = W_j W_j^T``
whose product is a given ``w_S``: rank one, every layer with singular value
``||w_S||^{1/L}``, random orthonormal hidden directions. Gradient flow conserves
``W_{j+1}^T W_{j+1} - W_j W_j^T``; the returned fit reports its drift.

Setting: Shachaf, Brutzkus, Globerson, NeurIPS 2021 (deep linear networks
fine-tuned from pretrained weights).

Several independent networks can be integrated as one ODE (arrays with a
leading batch axis); each batch member has its own data and layers.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .._blas_threads import one_blas_thread


def _positive_int(value, name: str) -> int:
    try:
        k = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if k < 1:
        raise ValueError(f"{name} must be >= 1, got {k}")
    return k


def _unit(rng: np.random.Generator, k: int) -> np.ndarray:
    v = rng.standard_normal(k)
    return v / np.linalg.norm(v)


def balanced_layers(wS, L, *, width: int = 1, seed: int = 0) -> list[np.ndarray]:
    """Balanced rank-one layers (W_1, ..., W_L) whose product W_L ... W_1 is w_S^T.

    W_1 = sigma v_1 w_S^T/||w_S||, W_j = sigma v_j v_{j-1}^T, W_L = sigma v_{L-1}^T with
    sigma = ||w_S||^{1/L} and unit hidden vectors v_j drawn from default_rng(seed).
    """
    wS = np.asarray(wS, dtype=float)
    if wS.ndim != 1 or wS.size == 0 or not np.all(np.isfinite(wS)):
        raise ValueError(f"wS must be a non-empty finite 1-D array, got shape {wS.shape}")
    L, width = _positive_int(L, "L"), _positive_int(width, "width")
    norm = float(np.linalg.norm(wS))
    if norm == 0.0:
        raise ValueError("wS must be non-zero: the zero network is a saddle that gradient flow never leaves")
    if L == 1:
        return [wS[None, :].copy()]
    rng = np.random.default_rng(seed)
    sigma = norm ** (1.0 / L)
    v = [_unit(rng, width) for _ in range(L - 1)]
    layers = [sigma * np.outer(v[0], wS / norm)]
    layers += [sigma * np.outer(v[j], v[j - 1]) for j in range(1, L - 1)]
    layers.append(sigma * v[-1][None, :])
    return layers


def end_to_end(layers) -> np.ndarray:
    """w = (W_L ... W_1)^T as a 1-D array (a leading batch axis is kept)."""
    p = layers[0]
    for W in layers[1:]:
        p = W @ p
    return p[..., 0, :]


def imbalance(layers) -> float:
    """max over j of the max-abs entry of W_{j+1}^T W_{j+1} - W_j W_j^T (zero for balanced layers)."""
    out = 0.0
    for lo, hi in zip(layers[:-1], layers[1:]):
        D = np.swapaxes(hi, -1, -2) @ hi - lo @ np.swapaxes(lo, -1, -2)
        out = max(out, float(np.max(np.abs(D))))
    return out


@dataclass(frozen=True, eq=False)
class DeepLinearFit:
    """End of a gradient-flow run.

    layers: trained layers (leading batch axis if the input had one); w: end-to-end
    vector; t: time reached; loss: final (1/2n)||Xw - y||^2 per network; speed: final
    max-abs entry of dtheta/dt (convergence); imbalance_drift: change of the conserved
    quantities W_{j+1}^T W_{j+1} - W_j W_j^T over the run (integration error).
    """

    layers: list
    w: np.ndarray
    t: float
    loss: np.ndarray
    speed: float
    imbalance_drift: float


def _gradients(layers, X, y, frozen):
    """-dLoss/dW_j for every trainable layer (None for frozen ones); arrays have a batch axis."""
    L = len(layers)
    n = X.shape[1]
    prefix = [None, layers[0]]  # prefix[j] = W_j ... W_1 (1-based j), prefix[0] = I
    for W in layers[1:-1]:
        prefix.append(W @ prefix[-1])
    w = (layers[-1] @ prefix[-1]) if L > 1 else layers[0]  # (B, 1, d)
    r = (X @ w[:, 0, :, None])[..., 0] - y  # (B, n)
    g = (np.swapaxes(X, 1, 2) @ r[..., None])[..., 0][:, None, :] / n  # (B, 1, d)
    out = [None] * L
    suffix = np.ones((X.shape[0], 1, 1))  # W_L ... W_{j+1}
    for j in range(L - 1, -1, -1):
        if j not in frozen:
            left = np.swapaxes(suffix, 1, 2)  # (B, h_j, 1)
            right = g if j == 0 else g @ np.swapaxes(prefix[j], 1, 2)  # (B, 1, h_{j-1})
            out[j] = -(left @ right)
        suffix = suffix @ layers[j]
    return out, 0.5 * np.sum(r**2, axis=1) / n


def deep_linear_flow(X, y, layers, *, frozen=(), rtol=1e-12, atol=1e-15, speed_tol=None,
                     t_first=50.0, t_max=1e6) -> DeepLinearFit:
    """Integrate the gradient flow from ``layers`` until it has converged.

    X: (n, d) or (B, n, d); y: (n,) or (B, n); layers: [W_1, ..., W_L] (each with the
    same leading batch axis if X has one). Integrates over [0, t_first], then doubles
    the horizon until the largest entry of dtheta/dt is below ``speed_tol`` times
    max(1, largest weight); raises RuntimeError beyond ``t_max``. ``speed_tol`` defaults to
    10 rtol: the integrator keeps the state only to about rtol, so the speed it can show
    at the fixed point is about rtol times the largest rate of the linearised flow.
    """
    speed_tol = 10.0 * rtol if speed_tol is None else float(speed_tol)
    X = np.asarray(X, dtype=float)
    batched = X.ndim == 3
    if not batched:
        X = X[None]
        y = np.asarray(y, dtype=float)[None]
        layers = [np.asarray(W, dtype=float)[None] for W in layers]
    else:
        y = np.asarray(y, dtype=float)
        layers = [np.asarray(W, dtype=float) for W in layers]
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must be (n, d) or (B, n, d) and y (n,) or (B, n); got {X.shape} and {y.shape}")
    L = len(layers)
    if L < 1:
        raise ValueError("layers must hold at least one layer")
    if layers[0].shape[-1] != X.shape[2] or layers[-1].shape[-2] != 1:
        raise ValueError("layers must map d inputs (columns of X) to one output")
    frozen = frozenset(operator.index(j) for j in frozen)
    if any(not 0 <= j < L for j in frozen) or len(frozen) == L:
        raise ValueError(f"frozen must list layer indices in [0, {L}) and leave at least one layer trainable")
    shapes = [W.shape for W in layers]
    sizes = [math.prod(s) for s in shapes]
    offsets = np.cumsum([0] + sizes)
    train = [j for j in range(L) if j not in frozen]

    def unpack(theta):
        return [theta[offsets[j]:offsets[j + 1]].reshape(shapes[j]) for j in range(L)]

    def rhs(_, theta):
        grads, _loss = _gradients(unpack(theta), X, y, frozen)
        out = np.zeros_like(theta)
        for j in train:
            out[offsets[j]:offsets[j + 1]] = grads[j].ravel()
        return out

    theta = np.concatenate([W.ravel() for W in layers])
    imb0 = _imbalance_by_layer(layers)
    t, horizon = 0.0, float(t_first)
    with one_blas_thread():  # small matrices on shared cores: threaded BLAS is much slower
        while True:
            sol = solve_ivp(rhs, (t, t + horizon), theta, method="DOP853", rtol=rtol, atol=atol)
            if not sol.success:
                raise RuntimeError(f"deep linear gradient flow: integration failed: {sol.message}")
            theta, t = sol.y[:, -1], t + horizon
            speed = float(np.max(np.abs(rhs(t, theta))))
            if speed <= speed_tol * max(1.0, float(np.max(np.abs(theta)))):
                break
            if t >= t_max:
                raise RuntimeError(f"deep linear gradient flow: not converged at t = {t:g} "
                                   f"(max |dtheta/dt| = {speed:.3g})")
            horizon *= 2.0
    final = unpack(theta)
    _, loss = _gradients(final, X, y, frozen)
    drift = float(np.max(np.abs(_imbalance_by_layer(final) - imb0))) if L > 1 else 0.0
    if not batched:
        final = [W[0] for W in final]
        loss = loss[0]
    return DeepLinearFit(layers=final, w=end_to_end(final), t=t, loss=np.asarray(loss), speed=speed,
                         imbalance_drift=drift)


def _imbalance_by_layer(layers) -> np.ndarray:
    if len(layers) == 1:
        return np.zeros(1)
    return np.stack([np.swapaxes(hi, -1, -2) @ hi - lo @ np.swapaxes(lo, -1, -2)
                     for lo, hi in zip(layers[:-1], layers[1:])])


__all__ = ["DeepLinearFit", "balanced_layers", "deep_linear_flow", "end_to_end", "imbalance"]
