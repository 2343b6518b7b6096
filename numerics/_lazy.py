r"""Kernel gradient flow and gradient descent on the squared loss, in closed form, factorised once.

Lazy training (Jacot et al. 2018; Chizat, Oyallon & Bach 2019): a network that stays close to its
linearisation ``f(x; theta) = f_0(x) + J(x)(theta - theta_0)`` trained on
``(1/2P) sum_mu (f(x_mu) - y_mu)^2 + (ridge/2) ||theta - theta_0||^2`` moves in function space as
kernel gradient descent with ``K = J J^T`` (no 1/P in the kernel). Writing
``theta - theta_0 = J^T alpha``, ``d alpha/dt = -(K/P + ridge) alpha + (y - f_0)/P``, so with the
eigendecomposition ``K = V diag(lambda) V^T`` (``mu_i = lambda_i/P + ridge``):

.. math::
    f_{\rm train}(t) = f_0 + V\,\mathrm{diag}(\lambda_i\psi_i)\,V^\top (y - f_0),\qquad
    f_{\rm test}(t) = f_0^{\rm test} + K_{\rm test} V\,\mathrm{diag}(\psi_i)\,V^\top (y - f_0),

with ``psi_i = (1 - e^{-mu_i t})/(P mu_i)`` for gradient flow and
``psi_i = (1 - (1 - eta mu_i)^n)/(P mu_i)`` after ``n`` gradient-descent steps at rate ``eta``.
Stable forms: ``psi = (t/P) (-expm1(-x)/x)`` with ``x = mu t`` (the limit ``t/P`` at ``x = 0``), and
``1 - (1 - eta mu)^n = -expm1(n log1p(-eta mu))`` for ``eta mu < 1`` (signed powers for
``1 <= eta mu < 2``; ``eta mu_max >= 2`` diverges and is refused).

Ill-conditioning (the documented threshold): eigenvalues with ``lambda_i <= tol = P eps lambda_max``
(``eps`` = float64 unit roundoff, the rounding level of a symmetric eigensolver) are treated as exact
zeros: their modes are not learned and do not move the test predictions, as for an exactly
positive semidefinite kernel (for which ``K_test v = 0`` on the null space). An eigenvalue below
``-tol`` means ``K`` is not positive semidefinite: refused. ``t = inf`` is the ridge (or, at
``ridge = 0``, the interpolating) solution, computed by a Cholesky solve of ``K + P ridge I`` when its
smallest eigenvalue exceeds ``tol``, and otherwise by the eigendecomposition restricted to the
modes above ``tol`` (the minimum-norm interpolant).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

EPS = np.finfo(np.float64).eps


def _as_matrix(name, a, rows=None, cols=None):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name}: must be a matrix (2-D array), got shape {a.shape}")
    if rows is not None and a.shape[0] != rows:
        raise ValueError(f"{name}: must have {rows} rows, got shape {a.shape}")
    if cols is not None and a.shape[1] != cols:
        raise ValueError(f"{name}: must have {cols} columns, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: must be finite")
    return a


class KernelDynamics:
    """Factorise the train kernel once; evaluate flow or descent predictions at any times.

    ``K`` (P, P) symmetric positive semidefinite train kernel, ``K_test`` (Q, P) test-train kernel
    (optional), ``ridge >= 0``. Use :meth:`flow` and :meth:`descent`; see the module docstring.
    """

    def __init__(self, K, K_test=None, *, ridge: float = 0.0):
        K = _as_matrix("K", K)
        P = K.shape[0]
        if K.shape != (P, P):
            raise ValueError(f"K: must be square, got shape {K.shape}")
        scale = np.max(np.abs(K))
        if np.max(np.abs(K - K.T)) > 64 * EPS * scale:
            raise ValueError(f"K: must be symmetric (max |K - K^T| = {np.max(np.abs(K - K.T)):.3g})")
        if not (np.isfinite(ridge) and ridge >= 0):
            raise ValueError(f"ridge: must be a finite number >= 0, got {ridge}")
        self.K = (K + K.T) / 2
        self.P = P
        self.ridge = float(ridge)
        lam, V = scipy.linalg.eigh(self.K, driver="evr")  # MRRR: the fastest symmetric driver here
        lam_max = max(lam[-1], 0.0)
        self.tol = P * EPS * lam_max
        if lam[0] < -self.tol:
            raise ValueError(f"K: must be positive semidefinite (smallest eigenvalue {lam[0]:.3g} < -tol = "
                             f"-{self.tol:.3g}, tol = P eps lambda_max)")
        self.active = lam > self.tol  # modes that are learned; the others are exact zeros
        self.lam = np.where(self.active, lam, 0.0)
        self.V = V
        self.mu = self.lam / P + self.ridge
        self.K_test = None if K_test is None else _as_matrix("K_test", K_test, cols=P)
        self.A = None if self.K_test is None else self.K_test @ V

    @property
    def condition_number(self) -> float:
        lam = self.lam[self.active]
        return float(lam[-1] / lam[0]) if lam.size else np.inf

    # -- psi for the flow and for descent ------------------------------------------------------
    def psi_flow(self, t) -> np.ndarray:
        """psi_i(t) for gradient flow, shape t.shape + (P,)."""
        t = np.asarray(t, dtype=np.float64)[..., None]
        mu = self.mu
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            x = mu * t
            psi = np.where(x > 0, -np.expm1(-x) / np.where(x > 0, x, 1.0), 1.0) * (t / self.P)
            psi = np.where(np.isinf(t), np.where(mu > 0, 1.0 / (self.P * np.where(mu > 0, mu, 1.0)), 0.0), psi)
        return np.where(self.active, psi, 0.0)

    def psi_descent(self, steps, eta: float) -> np.ndarray:
        """psi_i after ``steps`` gradient-descent steps at rate ``eta``, shape steps.shape + (P,)."""
        n = np.asarray(steps, dtype=np.float64)[..., None]
        if not eta > 0:
            raise ValueError(f"eta: must be > 0, got {eta}")
        emu = eta * self.mu
        if emu.max() >= 2.0:
            raise ValueError(f"eta: gradient descent diverges: eta * mu_max = {emu.max():.6g} >= 2 "
                             f"(mu_max = lambda_max/P + ridge = {self.mu.max():.6g})")
        with np.errstate(invalid="ignore", divide="ignore"):
            small = emu < 1.0
            # 1 - (1 - eta mu)^n, without cancellation for eta mu < 1
            one_minus = np.where(small, -np.expm1(n * np.log1p(-np.where(small, emu, 0.0))),
                                 1.0 - np.where(np.mod(n, 2) == 1, -1.0, 1.0) * np.abs(1.0 - emu) ** n)
            psi = np.where(self.mu > 0, one_minus / (self.P * np.where(self.mu > 0, self.mu, 1.0)), n * eta / self.P)
        return np.where(self.active, psi, 0.0)

    # -- predictions -----------------------------------------------------------------------
    def _predict(self, psi, y, f0, f0_test):
        y = _as_matrix("y", y, rows=self.P)
        f0 = _as_matrix("f0", f0, rows=self.P, cols=y.shape[1])
        b = self.V.T @ (y - f0)  # (P, c)
        shape = psi.shape[:-1]
        psi2 = psi.reshape(-1, self.P)  # (T, P)
        out = {"train": self._apply(self.V, self.lam * psi2, b, f0, shape)}
        if self.A is not None:
            f0_test = _as_matrix("f0_test", f0_test, rows=self.A.shape[0], cols=y.shape[1])
            out["test"] = self._apply(self.A, psi2, b, f0_test, shape)
        return out

    @staticmethod
    def _apply(M, weights, b, offset, shape):
        """offset + M diag(weights_t) b for every row t of weights, as one matrix product (T, rows, c)."""
        T, P = weights.shape
        c = b.shape[1]
        rhs = (weights.T[:, :, None] * b[:, None, :]).reshape(P, T * c)  # (P, T c)
        res = (M @ rhs).reshape(M.shape[0], T, c).transpose(1, 0, 2)
        return (offset[None] + res).reshape(shape + (M.shape[0], c))

    def flow(self, t, y, f0, f0_test=None) -> dict:
        """Gradient-flow predictions ``{"train": (..., P, c), "test": (..., Q, c)}`` at times ``t`` (inf allowed)."""
        t = np.asarray(t, dtype=np.float64)
        if np.isnan(t).any() or (t < 0).any():
            raise ValueError("t: must be >= 0 (inf allowed)")
        if np.isinf(t).any() and self._can_solve():
            out = self._predict(self.psi_flow(np.where(np.isinf(t), 0.0, t)), y, f0, f0_test)
            inf = self.solve_infinity(y, f0, f0_test)
            mask = np.isinf(t)
            for key in out:
                out[key][mask] = inf[key]
            return out
        return self._predict(self.psi_flow(t), y, f0, f0_test)

    def descent(self, steps, eta: float, y, f0, f0_test=None) -> dict:
        """Predictions after ``steps`` (array) gradient-descent steps at rate ``eta``."""
        steps = np.asarray(steps, dtype=np.float64)
        if np.isnan(steps).any() or (steps < 0).any() or (steps != np.round(steps)).any():
            raise ValueError("steps: must be non-negative integers")
        return self._predict(self.psi_descent(steps, eta), y, f0, f0_test)

    def _can_solve(self) -> bool:
        return bool(self.P * self.mu.min() > self.tol)

    def solve_infinity(self, y, f0, f0_test=None) -> dict:
        """t = inf by a Cholesky solve of K + P ridge I (needs it to be numerically nonsingular)."""
        if not self._can_solve():
            raise ValueError("K: K + P ridge I is numerically singular (smallest eigenvalue <= P eps lambda_max); "
                             "use ridge > 0 or flow(t=inf), which returns the minimum-norm interpolant")
        y = _as_matrix("y", y, rows=self.P)
        f0 = _as_matrix("f0", f0, rows=self.P, cols=y.shape[1])
        c = scipy.linalg.cho_factor(self.K + self.P * self.ridge * np.eye(self.P))
        alpha = scipy.linalg.cho_solve(c, y - f0)
        out = {"train": f0 + self.K @ alpha}
        if self.K_test is not None:
            f0_test = _as_matrix("f0_test", f0_test, rows=self.K_test.shape[0], cols=y.shape[1])
            out["test"] = f0_test + self.K_test @ alpha
        return out


def step_function_space(K, K_test, y, f0, f0_test, *, eta: float, record, ridge: float = 0.0):
    """Gradient descent of the linearised model stepped in function space (the stepping baseline).

    ``alpha <- alpha - eta ((K/P + ridge) alpha - (y - f0)/P)``; returns ``{"train", "test"}`` at the
    step numbers ``record`` (non-decreasing).
    """
    K = np.asarray(K, dtype=np.float64)
    P = K.shape[0]
    y, f0 = _as_matrix("y", y, rows=P), _as_matrix("f0", f0, rows=P)
    f0_test = _as_matrix("f0_test", f0_test)
    r0 = (y - f0) / P
    alpha = np.zeros_like(r0)
    tr, te = [], []
    step = 0
    for target in np.asarray(record, dtype=np.int64):
        while step < target:
            alpha -= eta * (K @ alpha / P + ridge * alpha - r0)
            step += 1
        tr.append(f0 + K @ alpha)
        te.append(f0_test + K_test @ alpha)
    return {"train": np.array(tr), "test": np.array(te)}
