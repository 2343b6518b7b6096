"""Initialisations of two-layer linear networks ``f(x) = W2 W1 x`` for the λ-balanced theory.

* :func:`lambda_balanced_init`: a random start with ``W2^T W2 - W1 W1^T = lam I`` exactly, for any
  widths the rank argument allows (``lam != 0`` needs ``min(Ni, No) <= Nh <= max(Ni, No)``;
  ``Nh > Ni`` forces ``lam >= 0``, ``Nh > No`` forces ``lam <= 0``; research note §1.2, thesis
  Thm 3.4.1): ``W1 = R S1 V^T``, ``W2 = U S2 R^T`` with Haar ``U, V, R`` and ``S2^2 - S1^2 = lam``.
* :func:`task_aligned_init`: the same with ``U, V`` the singular vectors of ``Syx`` (the modes
  decouple: ``lambda_balanced.mode``).
* :func:`gaussian_lambda`: the λ of i.i.d. Gaussian layers, ``E[W2^T W2/eta2 - W1 W1^T/eta1] =
  (No s2^2/eta2 - Ni s1^2/eta1) I`` (thesis Thm 3.1.1 for eta1 = eta2; the conserved quantity with
  layer-wise rates is ``W2^T W2/eta2 - W1 W1^T/eta1``, research note §1.2, DERIVED+CHECKED C7).
* :func:`unbalanced_control`: Gaussian directions with the Frobenius norms of given layers (same
  absolute scale, no λ-balance), the control reviewer 3 asked for.

Singular values are computed without cancellation (``S1^2 = 2 a^2/(q + lam)`` for lam >= 0).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ._blas_threads import one_blas_thread

__all__ = ["gaussian_lambda", "lambda_balanced_init", "layerwise_lambda", "rotated_aligned_init", "task_aligned_init",
           "unbalanced_control"]


def _int(v, name, lo=1):
    try:
        n = operator.index(v)
    except TypeError:
        raise ValueError(f"{name}: must be an integer, got {v!r}") from None
    if n < lo:
        raise ValueError(f"{name}: must be >= {lo}, got {n}")
    return n


def _haar(n: int, k: int, rng) -> np.ndarray:
    """n x k matrix with Haar-random orthonormal columns."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.where(np.diag(r) < 0, -1.0, 1.0))[:, :k]


def _check_widths(lam: float, Ni: int, Nh: int, No: int) -> None:
    if Nh > Ni and lam < 0:
        raise ValueError(f"lam: lam = {lam} < 0 is impossible with Nh = {Nh} > Ni = {Ni}: W1 W1^T has rank <= Ni < Nh, "
                         "so W1 W1^T = W2^T W2 - lam I would need lam >= 0")
    if Nh > No and lam > 0:
        raise ValueError(f"lam: lam = {lam} > 0 is impossible with Nh = {Nh} > No = {No}: W2^T W2 has rank <= No < Nh, "
                         "so W2^T W2 = W1 W1^T + lam I would need lam <= 0")


def _factors(lam: float, a: np.ndarray):
    """(S1, S2) with S1 S2 = |a|, S2^2 - S1^2 = lam, S1, S2 >= 0."""
    q = np.hypot(lam, 2.0 * a)
    if lam >= 0:
        s1sq = np.divide(2 * a**2, q + lam, out=np.zeros_like(q), where=q + lam > 0)
        s2sq = (q + lam) / 2
    else:
        s1sq = (q - lam) / 2
        s2sq = 2 * a**2 / (q - lam)
    return np.sqrt(s1sq), np.sqrt(s2sq)


def _build(lam, a, U, V, R, Ni, Nh, No):
    """W1 = R [S1 on the first min(Nh, Ni) rows] V^T, W2 = U [S2] R^T, completing the hidden directions."""
    m = a.size
    S1, S2 = _factors(lam, a)
    d1 = np.zeros(Nh)
    d2 = np.zeros(Nh)
    d1[:m], d2[:m] = S1, S2
    # hidden directions beyond m: in W2 only (lam >= 0, Nh <= No) or in W1 only (lam <= 0, Nh <= Ni)
    if Nh > m:
        if lam >= 0:
            d2[m:] = math.sqrt(lam)
        else:
            d1[m:] = math.sqrt(-lam)
    W1 = (R[:, :Nh] * d1) @ V[:, :Nh].T if Nh <= Ni else (R[:, :Ni] * d1[:Ni]) @ V[:, :Ni].T
    W2 = (U[:, :Nh] * d2) @ R.T if Nh <= No else (U[:, :No] * d2[:No]) @ R[:, :No].T
    return W1, W2


def lambda_balanced_init(lam, Ni, Nh, No, *, a=None, scale=1.0, seed=0):
    """Random λ-balanced start ``(W1, W2)``; ``a`` (m = min(Ni, No, Nh) values) are the singular values of
    ``W2 W1`` (default ``scale * U(0.5, 1.5)``). Raises ``ValueError`` for widths the rank argument forbids."""
    Ni, Nh, No = _int(Ni, "Ni"), _int(Nh, "Nh"), _int(No, "No")
    lam = float(lam)
    if not math.isfinite(lam):
        raise ValueError(f"lam: must be finite, got {lam}")
    _check_widths(lam, Ni, Nh, No)
    if Nh > max(Ni, No) and lam != 0:
        raise ValueError(f"lam: Nh = {Nh} > max(Ni, No) forces lam = 0, got {lam}")
    rng = np.random.default_rng(seed)
    m = min(Ni, No, Nh)
    a = scale * rng.uniform(0.5, 1.5, m) if a is None else np.abs(np.asarray(a, dtype=float))
    if a.shape != (m,):
        raise ValueError(f"a: must have {m} = min(Ni, Nh, No) entries, got shape {a.shape}")
    U, V, R = _haar(No, No, rng), _haar(Ni, Ni, rng), _haar(Nh, Nh, rng)
    return _build(lam, a, U, V, R, Ni, Nh, No)


def task_aligned_init(lam, Syx, a0, *, Nh=None, seed=0):
    """λ-balanced start whose product ``W2 W1 = U diag(a0) V^T`` shares the singular vectors of ``Syx``
    (signed ``a0``: a negative entry flips that mode); ``Nh`` defaults to ``min(Ni, No)``."""
    Syx = np.asarray(Syx, dtype=float)
    No, Ni = Syx.shape
    m = min(Ni, No)
    Nh = m if Nh is None else _int(Nh, "Nh")
    lam = float(lam)
    _check_widths(lam, Ni, Nh, No)
    a0 = np.asarray(a0, dtype=float)
    if a0.shape != (m,):
        raise ValueError(f"a0: must have {m} = min(Ni, No) entries, got shape {a0.shape}")
    Uf, _, Vt = np.linalg.svd(Syx, full_matrices=True)
    V = Vt.T.copy()
    V[:, :m] *= np.where(a0 < 0, -1.0, 1.0)
    rng = np.random.default_rng(seed)
    return _build(lam, np.abs(a0), Uf, V, _haar(Nh, Nh, rng), Ni, Nh, No)


def gaussian_lambda(Ni, Nh, No, sigma1, sigma2, eta1=1.0, eta2=1.0) -> float:
    """Expected λ of i.i.d. N(0, sigma1^2) W1 and N(0, sigma2^2) W2 with layer-wise rates:
    ``No sigma2^2/eta2 - Ni sigma1^2/eta1`` (conserved quantity ``W2^T W2/eta2 - W1 W1^T/eta1``)."""
    _int(Nh, "Nh")
    for name, v in (("sigma1", sigma1), ("sigma2", sigma2), ("eta1", eta1), ("eta2", eta2)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: must be finite and > 0, got {v}")
    return _int(No, "No") * sigma2**2 / eta2 - _int(Ni, "Ni") * sigma1**2 / eta1


def layerwise_lambda(W1, W2, eta1=1.0, eta2=1.0) -> tuple[float, float]:
    """(lam, max deviation) of ``W2^T W2/eta2 - W1 W1^T/eta1`` from ``lam I`` (lam = its mean diagonal)."""
    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float)
    C = W2.T @ W2 / eta2 - W1 @ W1.T / eta1
    lam = float(np.trace(C) / C.shape[0])
    return lam, float(np.max(np.abs(C - lam * np.eye(C.shape[0]))))


def unbalanced_control(W1, W2, *, seed=0):
    """Gaussian layers with the Frobenius norms of ``W1``, ``W2`` (same absolute scale, not λ-balanced)."""
    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float)
    rng = np.random.default_rng(seed)
    G1, G2 = rng.standard_normal(W1.shape), rng.standard_normal(W2.shape)
    return G1 * (np.linalg.norm(W1) / np.linalg.norm(G1)), G2 * (np.linalg.norm(W2) / np.linalg.norm(G2))


def rotated_aligned_init(lam, Syx, a, *, angle=0.5, seed=0):
    """λ-balanced start whose singular frames are those of ``Syx`` rotated by ``exp(K)``, ``K`` skew with
    entries in ``[-angle/2, angle/2]`` (``a`` > 0: the singular values of ``W2 W1``).

    For a small ``angle`` every mode starts on the side of its saddle the task pulls towards, so the
    closed form's matrix B is well conditioned by construction (cond(B) < 60 over 3000 draws with
    ``angle = 0.5``, ``a`` in [1e-3, 3], Ni, No <= 4, any lam): a generator for property tests that
    rejects singular B by construction rather than by filtering.
    """
    from scipy.linalg import expm

    Syx = np.asarray(Syx, dtype=float)
    No, Ni = Syx.shape
    m = min(Ni, No)
    a = np.asarray(a, dtype=float)
    if a.shape != (m,) or not np.all(a > 0):
        raise ValueError(f"a: must be {m} = min(Ni, No) positive values, got {a!r}")
    rng = np.random.default_rng(seed)
    Uf, _, Vt = np.linalg.svd(Syx, full_matrices=True)

    def rot(n):
        A = rng.uniform(-0.5, 0.5, (n, n)) * angle
        return expm(A - A.T)

    with one_blas_thread():  # expm of a tiny matrix: threaded BLAS was 10x slower on the shared machine
        return _build(float(lam), a, Uf @ rot(No), Vt.T @ rot(Ni), _haar(m, m, rng), Ni, m, No)
