r"""Two-layer linear network from small initialisation: the silent-alignment setting.

Atanasov, Bordelon, Pehlevan (ICLR 2022), research note infinite-width.md §2.2 (VERIFIED). Network
:math:`f(x) = a^\top W x` in standard parametrisation, :math:`a \in R^N`, :math:`W \in R^{N\times D}`,
initialised small: :math:`a_i \sim N(0, \sigma^2/N)`, :math:`W_{ij} \sim N(0, \sigma^2/D)` (seeded). Loss
:math:`\tfrac12(\hat\beta - s\beta)^\top\Sigma(\hat\beta - s\beta)`, :math:`\hat\beta = W^\top a`, i.e. the
population (or sample, :math:`\Sigma = \tfrac1P\sum_\mu x^\mu x^{\mu\top}`) loss
:math:`\tfrac1{2P}\sum_\mu(f(x^\mu) - s\beta\cdot x^\mu)^2` with a unit teacher :math:`\beta`; gradient flow
(the paper's learning rate η set to 1: time ``t`` is the paper's ηt)

.. math:: \dot a = W\Sigma(s\beta - \hat\beta), \qquad \dot W = a(s\beta - \hat\beta)^\top\Sigma,

integrated by classical RK4 with a fixed step ``dt`` (global error O(dt^4)). Recorded: the NTK matrix
:math:`M = W^\top W + \lvert a\rvert^2 I` (the kernel is :math:`x^\top M x'`), :math:`q = \tfrac12\beta^\top M\beta`,
:math:`r = a^\top W\beta = \beta\cdot\hat\beta` and :math:`c = \lvert a\rvert^2`.

``zero_overlap=True`` (default) removes from a its component along Wβ, so that r(0) = 0 exactly: the
paper's matched solution starts from r(0) = 0 (its ⟨r₀⟩ = 0, with fluctuations r₀ ~ σ²/√D that would
otherwise enter the growing mode (q + r) at relative order √D/N).
"""

from __future__ import annotations

import numpy as np

from ._kernel_regression import one_blas_thread
from ._rk4 import rk4_two_layer


def small_init(D: int, N: int, sigma: float, beta, *, seed: int, zero_overlap: bool = True):
    """(a, W): a_i ~ N(0, sigma^2/N), W_ij ~ N(0, sigma^2/D); with ``zero_overlap`` a is made orthogonal to W beta."""
    if not sigma > 0:
        raise ValueError(f"sigma: must be > 0, got {sigma!r}")
    if int(D) != D or D < 1 or int(N) != N or N < 1:
        raise ValueError(f"D: D and N must be positive integers, got D={D!r}, N={N!r}")
    if zero_overlap and N < 2:
        raise ValueError("N: must be >= 2 with zero_overlap (for N = 1, r(0) = 0 forces a = 0, a saddle)")
    beta = np.asarray(beta, dtype=float)
    if beta.shape != (D,) or abs(np.linalg.norm(beta) - 1.0) > 1e-12:
        raise ValueError(f"beta: must be a unit vector of length D = {D}")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(N) * sigma / np.sqrt(N)
    W = rng.standard_normal((N, D)) * sigma / np.sqrt(D)
    if zero_overlap:
        v = W @ beta
        a = a - (a @ v) / (v @ v) * v
    return a, W


def train(a, W, s: float, beta, times, *, Sigma=None, dt: float = 1e-3) -> dict:
    """Integrate the gradient flow from (a, W); record at ``times`` (ascending, from 0).

    Returns arrays over ``times``: ``q``, ``r``, ``c`` (|a|^2), ``M`` (times, D, D), and the final ``a``, ``W``.
    """
    if not s > 0:
        raise ValueError(f"s: must be > 0 (teacher scale), got {s!r}")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times[0] != 0.0 or np.any(np.diff(times) < 0):
        raise ValueError("times: must be 1-D, start at 0 and be ascending")
    if not dt > 0:
        raise ValueError(f"dt: must be > 0, got {dt!r}")
    a, W = np.array(a, dtype=float), np.array(W, dtype=float)
    N, D = W.shape
    beta = np.asarray(beta, dtype=float)
    S = np.eye(D) if Sigma is None else np.asarray(Sigma, dtype=float)
    if S.shape != (D, D) or not np.allclose(S, S.T) or np.min(np.linalg.eigvalsh(S)) <= 0:
        raise ValueError(f"Sigma: must be a symmetric positive definite {D}x{D} matrix")
    target = s * beta

    def rhs(a, W):
        g = S @ (target - W.T @ a)
        return W @ g, np.outer(a, g)

    rec = {"q": np.empty(times.size), "r": np.empty(times.size), "c": np.empty(times.size),
           "M": np.empty((times.size, D, D))}

    def record(j, a, W):
        M = W.T @ W + (a @ a) * np.eye(D)
        rec["M"][j] = M
        rec["q"][j] = 0.5 * beta @ M @ beta
        rec["r"][j] = a @ (W @ beta)
        rec["c"][j] = a @ a

    with one_blas_thread():
        a, W = rk4_two_layer(rhs, a, W, times, dt, record)
    rec["a"], rec["W"] = a, W
    return rec
