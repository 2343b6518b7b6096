"""Recorded trajectory of a two-layer linear network W2 W1 (see ._task)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._task import AlignedTask


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Quantities recorded at times t (shape (T,)).

    product: (T, No, Ni) W2 W1.  modes: (T, m) a_k = U[:, k]^T W2 W1 V[:, k].
    loss: (T,) (1/2P) ||W2 W1 X - Y||_F^2 evaluated on the data.
    conserved: (T, Nh, Nh) W2^T W2 - W1 W1^T.  imbalance: (T,) max-abs entry of
    conserved - lam I (drift of the conserved quantity).  W1, W2: final weights.
    """

    t: np.ndarray
    modes: np.ndarray
    loss: np.ndarray
    imbalance: np.ndarray
    conserved: np.ndarray
    product: np.ndarray
    W1: np.ndarray
    W2: np.ndarray


def record(task: AlignedTask, t: np.ndarray, W1s: np.ndarray, W2s: np.ndarray) -> Trajectory:
    """Build a Trajectory from stacked weights W1s (T, Nh, Ni), W2s (T, No, Nh)."""
    product = W2s @ W1s
    modes = np.einsum("ik,tij,jk->tk", task.U, product, task.V)
    residual = product @ task.X - task.Y
    loss = 0.5 * np.sum(residual**2, axis=(1, 2)) / task.P
    conserved = np.swapaxes(W2s, 1, 2) @ W2s - W1s @ np.swapaxes(W1s, 1, 2)
    imbalance = np.max(np.abs(conserved - task.lam * np.eye(task.Nh)), axis=(1, 2))
    fields = dict(t=np.array(t, dtype=float), modes=modes, loss=loss, imbalance=imbalance,
                  conserved=conserved, product=product, W1=W1s[-1].copy(), W2=W2s[-1].copy())
    for a in fields.values():
        a.flags.writeable = False
    return Trajectory(**fields)


def data_moments(task: AlignedTask) -> tuple[np.ndarray, np.ndarray]:
    """(1/P) X X^T and (1/P) Y X^T computed from the data (not from U, s, V).

    The gradient (1/P) W2^T (Y - W2 W1 X) X^T equals W2^T (Syx - W2 W1 Sxx)
    exactly, so precomputing these moments only makes each gradient cheaper.
    """
    return task.X @ task.X.T / task.P, task.Y @ task.X.T / task.P


def negative_gradient(W1, W2, Sxx, Syx):
    """(-dL/dW1, -dL/dW2) = (W2^T E, E W1^T) with E = Syx - W2 W1 Sxx."""
    E = Syx - W2 @ W1 @ Sxx
    return W2.T @ E, E @ W1.T
