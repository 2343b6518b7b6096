r"""Monte Carlo of kernel ridge regression with Gaussian features, and of min-norm fine-tuning.

**Kernel ridge regression** (:func:`krr_gaussian_features`). Features
:math:`\phi_\rho(x) = z_\rho` with :math:`z \sim N(0, I_N)` (orthonormal under the input law),
kernel :math:`K(x,x') = \sum_\rho \lambda_\rho z_\rho z'_\rho` (eigenvalue :math:`\lambda_k` repeated
``multiplicities[k]`` times, :math:`N = \sum_k m_k`), target :math:`\bar f = \sum_\rho v_\rho z_\rho`
with :math:`v_\rho = \sqrt{\text{target\_power}_k / m_k}` on eigenspace :math:`k` (the expected error
depends only on the power per eigenspace, by rotation invariance of :math:`z` inside it), labels
:math:`y = \bar f + \epsilon`, :math:`\epsilon \sim N(0, \sigma^2)`. The predictor
:math:`f = k(x)^\top(K + rI)^{-1}y` (Gram matrix without 1/P) has coefficients
:math:`\hat w = \Lambda Z^\top (Z\Lambda Z^\top + rI)^{-1} y`, and its test error is exact in :math:`x`:
:math:`E_g = \lVert \hat w - v\rVert^2` (no test-label noise). With :math:`F = Z\Lambda^{1/2}` this is
:math:`\Lambda^{1/2}F^\top(FF^\top + rI)^{-1}y = \Lambda^{1/2}(F^\top F + rI)^{-1}F^\top y`; the
solver uses the smaller of the two systems, and at :math:`r = 0` the min-norm limit
:math:`\Lambda^{1/2}F^{+}y` (interpolation for :math:`P < N`, least squares for :math:`P > N`).

**Min-norm fine-tuning** (:func:`finetune_min_norm`). Linear regression in :math:`d` dimensions
with covariance :math:`\Sigma = \mathrm{diag}(\lambda)` (its eigenbasis; the risk is invariant
under rotating the basis), source weights :math:`w_S`, target :math:`w_T = w_S + \delta`, ``n``
samples :math:`X` with rows :math:`N(0,\Sigma)`, labels :math:`y = Xw_T + \epsilon`. Gradient descent from
:math:`w_S` converges to :math:`w_{ft} = w_S + X^{+}(y - Xw_S)` (the interpolator closest to
:math:`w_S`), and the risk is :math:`(w_{ft}-w_T)^\top\Sigma(w_{ft}-w_T)`, computed literally from
:math:`X` (only :math:`\delta = w_T - w_S` matters; :math:`w_S` is drawn to exercise that).

Both return one value per trial (seeded, ``numpy.random.default_rng(seed)``), so callers form
means and standard errors. Dense linear algebra is LAPACK through NumPy (batched over trials).
"""

from __future__ import annotations

import contextlib

import numpy as np

try:  # pin BLAS to one thread: small batched solves on 2 shared cores (DESIGN.md)
    from numerics._blas_threads import one_blas_thread
except ImportError:  # pragma: no cover
    one_blas_thread = contextlib.nullcontext


def _expand(eigenvalues, multiplicities):
    lam = np.asarray(eigenvalues, dtype=np.float64)
    mult = np.asarray(multiplicities)
    if mult.shape != lam.shape or np.any(mult != np.round(mult)) or np.any(mult < 1):
        raise ValueError("multiplicities: must be positive integers, one per eigenvalue, for a simulation")
    if np.any(lam <= 0):
        raise ValueError("eigenvalues: must be > 0")
    mult = mult.astype(np.int64)
    return np.repeat(lam, mult), np.repeat(np.arange(lam.size), mult), mult


def _min_norm_coefficients(F, y, ridge):
    """Batched c = F^T (F F^T + r I)^-1 y = (F^T F + r I)^-1 F^T y (r = 0: the pseudo-inverse limit)."""
    T, P, N = F.shape
    # r = 0: F has full rank min(P, N) almost surely, so the smaller Gram matrix is invertible and
    # F^T (F F^T)^-1 (P < N) or (F^T F)^-1 F^T (P > N) is the pseudo-inverse; its squared condition
    # number (at most ~1e9 for the spectra simulated here) costs digits far below Monte Carlo error
    if P <= N:
        G = F @ F.transpose(0, 2, 1)
        G[:, np.arange(P), np.arange(P)] += ridge
        alpha = np.linalg.solve(G, y[..., None])[..., 0]
        return np.einsum("tpn,tp->tn", F, alpha)
    G = F.transpose(0, 2, 1) @ F
    G[:, np.arange(N), np.arange(N)] += ridge
    return np.linalg.solve(G, np.einsum("tpn,tp->tn", F, y)[..., None])[..., 0]


def krr_gaussian_features(eigenvalues, multiplicities, P: int, ridge: float, target_power, noise: float, *,
                          trials: int, seed: int, batch: int = 32) -> dict:
    """Monte Carlo KRR test errors; see the module docstring.

    Returns ``{"error": (trials,), "eigenspace_error": (trials, M)}`` where ``eigenspace_error[:, k]``
    is the squared coefficient error summed over eigenspace k (divide by its target power for E_k).
    """
    lam_modes, owner, mult = _expand(eigenvalues, multiplicities)
    power = np.asarray(target_power, dtype=np.float64)
    if power.shape != mult.shape or np.any(power < 0):
        raise ValueError("target_power: must be >= 0, one per eigenvalue")
    if int(P) != P or P < 1:
        raise ValueError(f"P: must be a positive integer number of samples, got {P!r}")
    if ridge < 0 or noise < 0:
        raise ValueError("ridge: must be >= 0" if ridge < 0 else "noise: must be >= 0")
    P = int(P)
    N = lam_modes.size
    v = np.sqrt(power[owner] / mult[owner])
    sq = np.sqrt(lam_modes)
    rng = np.random.default_rng(seed)
    err = np.empty(trials)
    space = np.empty((trials, mult.size))
    with one_blas_thread():
        _krr_batches(rng, P, N, v, sq, float(ridge), float(noise), owner, mult.size, trials, batch, err, space)
    return {"error": err, "eigenspace_error": space}


def _krr_batches(rng, P, N, v, sq, ridge, noise, owner, M, trials, batch, err, space):
    for start in range(0, trials, batch):
        T = min(batch, trials - start)
        Z = rng.standard_normal((T, P, N))
        y = Z @ v + np.sqrt(noise) * rng.standard_normal((T, P))
        c = _min_norm_coefficients(Z * sq, y, ridge)
        diff2 = (sq * c - v) ** 2
        err[start:start + T] = diff2.sum(axis=1)
        for k in range(M):
            space[start:start + T, k] = diff2[:, owner == k].sum(axis=1)


def _hat(F, ridge):
    """Batched hat matrix in feature space H = F^T (F F^T + r I)^-1 F = (F^T F + r I)^-1 F^T F."""
    T, P, N = F.shape
    if P <= N:
        G = F @ F.transpose(0, 2, 1)
        G[:, np.arange(P), np.arange(P)] += ridge
        return F.transpose(0, 2, 1) @ np.linalg.solve(G, F)
    G = F.transpose(0, 2, 1) @ F
    A = G.copy()
    A[:, np.arange(N), np.arange(N)] += ridge
    return np.linalg.solve(A, G)


def krr_mode_errors(eigenvalues, multiplicities, P: int, ridge: float, *, trials: int, seed: int,
                    batch: int = 16) -> np.ndarray:
    r"""Monte Carlo of the per-eigenvalue errors E_k (noise-free, per unit target power), one row per trial.

    The coefficient error is :math:`A v` with :math:`A = \Lambda^{1/2} H \Lambda^{-1/2} - I`
    (:math:`H` the feature-space hat matrix); by the sign symmetry :math:`z_\rho \to -z_\rho` the
    expected error is :math:`\sum_\rho v_\rho^2 E[\lVert A e_\rho\rVert^2]`, so the error per unit
    power on eigenspace k is the mean of :math:`\lVert A e_\rho\rVert^2` over its modes. Returns
    ``(trials, M)``: that mean for each trial (exact in x; all modes at once).
    """
    lam_modes, owner, mult = _expand(eigenvalues, multiplicities)
    if int(P) != P or P < 1:
        raise ValueError(f"P: must be a positive integer number of samples, got {P!r}")
    if ridge < 0:
        raise ValueError("ridge: must be >= 0")
    P, N = int(P), lam_modes.size
    sq = np.sqrt(lam_modes)
    rng = np.random.default_rng(seed)
    out = np.empty((trials, mult.size))
    with one_blas_thread():
        for start in range(0, trials, batch):
            T = min(batch, trials - start)
            Z = rng.standard_normal((T, P, N))
            A = sq[:, None] * _hat(Z * sq, float(ridge)) / sq[None, :]
            A[:, np.arange(N), np.arange(N)] -= 1.0
            col = np.sum(A * A, axis=1)  # ||A e_rho||^2 for every mode rho
            for k in range(mult.size):
                out[start:start + T, k] = col[:, owner == k].mean(axis=1)
    return out


def finetune_min_norm(eigenvalues, delta, n: int, sigma2: float, *, trials: int, seed: int,
                      batch: int = 16) -> np.ndarray:
    """Risks (w_ft - w_T)^T Sigma (w_ft - w_T) of min-norm fine-tuning from w_S, one per trial."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    if lam.ndim != 1 or delta.shape != lam.shape:
        raise ValueError("delta: must be a 1-D array with one component per eigenvalue")
    if np.any(lam <= 0):
        raise ValueError("eigenvalues: must be > 0")
    if int(n) != n or n < 1:
        raise ValueError(f"n: must be a positive integer number of samples, got {n!r}")
    if sigma2 < 0:
        raise ValueError("sigma2: must be >= 0")
    rng = np.random.default_rng(seed)
    d, n = lam.size, int(n)
    sq = np.sqrt(lam)
    if n == d and sigma2 > 0:
        raise ValueError("n: n = d with label noise has infinite expected risk (the interpolation threshold)")
    out = np.empty(trials)
    with one_blas_thread():
        for start in range(0, trials, batch):
            T = min(batch, trials - start)
            w_S = rng.standard_normal((T, d))
            w_T = w_S + delta
            X = rng.standard_normal((T, n, d)) * sq
            y = np.einsum("tnd,td->tn", X, w_T) + np.sqrt(sigma2) * rng.standard_normal((T, n))
            resid = y - np.einsum("tnd,td->tn", X, w_S)
            # w_ft = w_S + X^+ (y - X w_S): the interpolator closest to w_S (GD's limit from w_S)
            w_ft = w_S + _min_norm_coefficients(X, resid, 0.0)
            e = w_ft - w_T
            out[start:start + T] = np.sum(lam * e * e, axis=1)
    return out
