r"""Finite-width μP two-layer linear network: rich pretraining on the population source loss, then a fresh readout.

Network :math:`f(x) = a^\top W x/(\gamma_1 N)`, :math:`x \sim N(0, I_D)`, source target :math:`u\cdot x` with
:math:`u = e_1`. Population loss :math:`\tfrac12 E(f - u\cdot x)^2 = \tfrac12\lVert\hat\beta - u\rVert^2` with
:math:`\hat\beta = W^\top a/(\gamma_1 N)`; gradient flow with the learning rate scaled by :math:`\gamma_1^2 N`:

.. math:: \dot a = \gamma_1 W (u - \hat\beta), \qquad \dot W = \gamma_1 a (u - \hat\beta)^\top,

integrated by classical RK4 with a fixed step (``dt``; the global error is O(dt^4)).

Initialisation: ``"gaussian"`` draws :math:`a_i, W_{ij} \sim N(0, 1)`; ``"orthonormal"`` rescales the
N × (D+1) matrix [a, W] to √N times orthonormal columns, so that the sample second moments
:math:`\tfrac1N\sum_i [a_i; w_i][a_i; w_i]^\top` are exactly the identity: the dynamics are linear in each
neuron with a common matrix that depends on the sample only through these moments, so the network
then follows the N → ∞ theory exactly at any N ≥ D + 1 ("theory at the sample's own second moments").

Fine-tuning (:func:`fresh_readout_losses`): freeze W, draw P2 target samples, fit a fresh readout
c (from zero) by min-norm least squares on the features h = W x, and return the exact population loss
:math:`\lVert W^\top c - u_t\rVert^2` per trial.
"""

from __future__ import annotations

import numpy as np

from ._kernel_regression import _min_norm_coefficients, one_blas_thread
from ._rk4 import rk4_two_layer


def init_network(D: int, N: int, *, seed: int, kind: str = "orthonormal"):
    """(a, W) with a of shape (N,), W of shape (N, D)."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((N, D + 1))
    if kind == "orthonormal":
        if N < D + 1:
            raise ValueError(f"N: must be >= D + 1 = {D + 1} for an orthonormal initialisation, got {N}")
        Q, R = np.linalg.qr(G)
        G = np.sqrt(N) * Q * np.sign(np.diag(R))
    elif kind != "gaussian":
        raise ValueError(f"kind: must be 'orthonormal' or 'gaussian', got {kind!r}")
    return G[:, 0].copy(), G[:, 1:].copy()


def pretrain(a, W, gamma1: float, times, *, dt: float = 1e-3) -> dict:
    """Integrate the population gradient flow; record at ``times`` (ascending, from 0).

    Returns ``rho`` (beta_hat . u), ``beta_perp`` (norm of beta_hat orthogonal to u), ``A_uu``, ``A_perp_dev``
    (max |A_perp - I| over the orthogonal block of A = W^T W/N), ``a2`` (<a^2>), ``A_ua`` (max |A_{u,perp}|),
    and the final (a, W).
    """
    if not gamma1 > 0:
        raise ValueError(f"gamma1: must be > 0 for the mean-field network (got {gamma1!r}); gamma1 -> 0 is the lazy limit")
    times = np.asarray(times, dtype=float)
    if times[0] != 0.0 or np.any(np.diff(times) < 0):
        raise ValueError("times: must start at 0 and be ascending")
    a, W = np.array(a, dtype=float), np.array(W, dtype=float)
    N, D = W.shape
    u = np.zeros(D)
    u[0] = 1.0

    def rhs(a, W):
        r = u - W.T @ a / (gamma1 * N)
        return gamma1 * (W @ r), gamma1 * np.outer(a, r)

    rec = {k: np.empty(times.size) for k in ("rho", "beta_perp", "A_uu", "A_perp_dev", "a2", "A_ua")}

    def record(j, a, W):
        beta = W.T @ a / (gamma1 * N)
        A = W.T @ W / N
        rec["rho"][j] = beta[0]
        rec["beta_perp"][j] = np.linalg.norm(beta[1:])
        rec["A_uu"][j] = A[0, 0]
        rec["A_perp_dev"][j] = np.max(np.abs(A[1:, 1:] - np.eye(D - 1))) if D > 1 else 0.0
        rec["A_ua"][j] = np.max(np.abs(A[0, 1:])) if D > 1 else 0.0
        rec["a2"][j] = a @ a / N

    with one_blas_thread():
        a, W = rk4_two_layer(rhs, a, W, times, dt, record)
    rec["a"], rec["W"] = a, W
    return rec


def fresh_readout_losses(W, u_t, P2: int, *, trials: int, seed: int, batch: int = 16) -> np.ndarray:
    """Population losses ||W^T c - u_t||^2 of min-norm readouts c fitted on P2 noiseless samples y = u_t . x."""
    W = np.asarray(W, dtype=float)
    u_t = np.asarray(u_t, dtype=float)
    if int(P2) != P2 or P2 < 1:
        raise ValueError(f"P2: must be a positive integer number of samples, got {P2!r}")
    rng = np.random.default_rng(seed)
    N, D = W.shape
    out = np.empty(trials)
    with one_blas_thread():
        for start in range(0, trials, batch):
            T = min(batch, trials - start)
            X = rng.standard_normal((T, int(P2), D))
            H = X @ W.T  # features h = W x, (T, P2, N)
            c = _min_norm_coefficients(H, X @ u_t, 0.0)
            err = c @ W - u_t
            out[start:start + T] = np.sum(err * err, axis=1)
    return out
