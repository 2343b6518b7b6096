r"""A wide random two-layer ReLU network: its empirical NTK, and its training (nonlinear and linearised).

Network: ``f(x) = m^{-1/2} sum_r a_r max(0, w_r.x)`` with ``w_r ~ N(0, I_d)`` and ``a_r = +-1``
(no sqrt(2) He factor). Its empirical neural tangent kernel is a mean over neurons,

.. math:: \hat\Theta(x, x') = \frac1m\sum_r \big[\sigma(w_r\cdot x)\sigma(w_r\cdot x')
          + a_r^2 (x\cdot x')\,1\{w_r\cdot x>0\}1\{w_r\cdot x'>0\}\big],

an average of ``m`` i.i.d. terms whose mean is the infinite-width NTK ``kappa_1 + (x.x') kappa_0``:
:func:`empirical_ntk` returns the mean and its standard error (Monte Carlo tolerances in z
standard errors follow). :func:`train_network` trains the network itself by full-batch gradient
descent on ``(1/2P) sum (f(x) - y)^2`` (plus ``ridge/2 ||theta - theta_0||^2``); :func:`train_linearised`
trains its linearisation ``f_lin = f_0 + J (theta - theta_0)`` step by step in parameter space.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numba
import numpy as np

try:  # pin BLAS to one thread: many small products per step on 2 shared cores (DESIGN.md)
    from numerics._blas_threads import one_blas_thread
except ImportError:  # pragma: no cover
    one_blas_thread = contextlib.nullcontext


@numba.njit(cache=True, error_model="numpy")
def _ntk_sums(X, Xp, width, seed, first, second):
    n, d = X.shape
    q = Xp.shape[0]
    np.random.seed(seed)
    G = X @ Xp.T
    s1 = np.zeros((n, q))
    s2 = np.zeros((n, q))
    w = np.empty(d)
    for _ in range(width):
        for k in range(d):
            w[k] = np.random.standard_normal()
        z = X @ w
        zp = Xp @ w
        for i in range(n):
            for j in range(q):
                v = 0.0
                if second:
                    v += max(z[i], 0.0) * max(zp[j], 0.0)
                if first and z[i] > 0.0 and zp[j] > 0.0:
                    v += G[i, j]
                s1[i, j] += v
                s2[i, j] += v * v
    return s1, s2


def empirical_ntk(X, Xp=None, *, width: int, seed: int = 0, layers: str = "both"):
    """Monte Carlo estimate of the NTK between the rows of ``X`` and of ``Xp`` from ``width`` neurons.

    ``layers``: ``"both"`` (the NTK), ``"first"`` (first layer only, ``(x.x') kappa_0``) or
    ``"second"`` (second layer only, ``kappa_1``). Returns ``(mean, standard_error)``, each of shape
    ``(len(X), len(Xp))``; the standard error is the sample standard deviation over neurons / sqrt(width).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    Xp = X if Xp is None else np.ascontiguousarray(Xp, dtype=np.float64)
    if X.ndim != 2 or Xp.ndim != 2 or X.shape[1] != Xp.shape[1]:
        raise ValueError(f"X: X and Xp must be 2-D with the same number of columns, got {X.shape}, {Xp.shape}")
    if width < 2:
        raise ValueError(f"width: must be >= 2 for a standard error, got {width}")
    if layers not in ("both", "first", "second"):
        raise ValueError(f"layers: must be 'both', 'first' or 'second', got {layers!r}")
    s1, s2 = _ntk_sums(X, Xp, int(width), int(seed), layers != "second", layers != "first")
    mean = s1 / width
    var = np.maximum(s2 / width - mean**2, 0.0) * width / (width - 1)
    return mean, np.sqrt(var / width)


@dataclass(frozen=True)
class ReluNetwork:
    """Parameters of ``f(x) = m^{-1/2} sum_r a_r max(0, w_r.x)``: ``W`` (m, d) and ``a`` (m,)."""

    W: np.ndarray
    a: np.ndarray

    @staticmethod
    def random(d: int, width: int, seed: int = 0) -> "ReluNetwork":
        """``w_r ~ N(0, I_d)``, ``a_r = +-1`` with equal probability."""
        rng = np.random.default_rng(seed)
        return ReluNetwork(rng.standard_normal((width, d)), rng.choice([-1.0, 1.0], size=width))

    @property
    def width(self) -> int:
        return self.W.shape[0]

    def __call__(self, X) -> np.ndarray:
        return np.maximum(X @ self.W.T, 0.0) @ self.a / np.sqrt(self.width)

    def jacobian(self, X) -> np.ndarray:
        """``d f(x_i)/d theta`` for ``theta = (vec W, a)``: shape (n, m d + m)."""
        m = self.width
        Z = X @ self.W.T
        dW = ((Z > 0) * self.a)[:, :, None] * X[:, None, :] / np.sqrt(m)
        da = np.maximum(Z, 0.0) / np.sqrt(m)
        return np.concatenate([dW.reshape(len(X), -1), da], axis=1)

    def kernel(self, X, Xp) -> np.ndarray:
        """The empirical NTK ``J(X) J(Xp)^T`` at these parameters (exact, not Monte Carlo)."""
        Z, Zp = X @ self.W.T, Xp @ self.W.T
        m = self.width
        second = np.maximum(Z, 0.0) @ np.maximum(Zp, 0.0).T / m
        first = ((Z > 0) * self.a**2) @ (Zp > 0).T.astype(float) / m * (X @ Xp.T)
        return first + second


def _record_steps(steps, record) -> np.ndarray:
    rec = np.asarray(record, dtype=np.int64)
    if rec.ndim != 1 or (rec < 0).any() or (rec > steps).any() or (np.diff(rec) < 0).any():
        raise ValueError(f"record: must be non-decreasing step numbers in [0, {steps}]")
    return rec


def train_network(net: ReluNetwork, X, y, X_test, *, eta: float, record, ridge: float = 0.0):
    """Full-batch gradient descent on ``(1/2P) sum_mu (f(x_mu) - y_mu)^2 + ridge/2 ||theta - theta_0||^2``.

    Both layers are trained. Returns ``(train, test)`` predictions at the step numbers ``record``
    (shapes (len(record), P) and (len(record), Q)).
    """
    rec = _record_steps(int(np.max(record)), record)
    W, a = net.W.copy(), net.a.copy()
    W0, a0 = net.W, net.a
    P, m = len(X), net.width
    c = 1.0 / np.sqrt(m)
    with one_blas_thread():
        return _gd_loop(rec, X, y, X_test, W, a, W0, a0, P, c, eta, ridge)


def _gd_loop(rec, X, y, X_test, W, a, W0, a0, P, c, eta, ridge):
    tr, te = [], []
    step = 0
    for target in rec:
        while step < target:
            Z = X @ W.T
            H = np.maximum(Z, 0.0)
            r = (H @ a * c - y) / P
            gW = ((Z > 0) * (r[:, None] * a[None, :] * c)).T @ X
            ga = H.T @ r * c
            W -= eta * (gW + ridge * (W - W0))
            a -= eta * (ga + ridge * (a - a0))
            step += 1
        cur = ReluNetwork(W, a)
        tr.append(cur(X))
        te.append(cur(X_test))
    return np.array(tr), np.array(te)


def train_linearised(net: ReluNetwork, X, y, X_test, *, eta: float, record, ridge: float = 0.0):
    """Gradient descent on the linearised network ``f_0 + J (theta - theta_0)``, step by step in parameter space.

    Same loss as :func:`train_network`; returns ``(train, test)`` predictions at ``record``.
    """
    rec = _record_steps(int(np.max(record)), record)
    J, Jt = net.jacobian(X), net.jacobian(X_test)
    f0, f0t = net(X), net(X_test)
    delta = np.zeros(J.shape[1])
    P = len(X)
    tr, te = [], []
    step = 0
    with one_blas_thread():
        for target in rec:
            while step < target:
                r = f0 + J @ delta - y
                delta -= eta * (J.T @ r / P + ridge * delta)
                step += 1
            tr.append(f0 + J @ delta)
            te.append(f0t + Jt @ delta)
    return np.array(tr), np.array(te)
