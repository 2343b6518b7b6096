r"""QQ^T(t) of a λ-balanced two-layer linear network: factorise once per start, then cheap per time.

Setting (Dominé, Anguita et al., ICLR 2025; Anguita 2024 thesis Thm 3.3.1; λ = 0 and
unequal widths: Braun et al. 2022): ``f(x) = W2 W1 x``, ``W1`` (Nh x Ni), ``W2``
(No x Nh), gradient flow (tau = 1) on ``(1/2P)||W2 W1 X - Y||^2`` with whitened
inputs, so the flow only sees ``Syx = (1/P) Y X^T``. With ``Q = [W1^T; W2]`` and the
conserved ``W2^T W2 - W1 W1^T = lam I``,

.. math:: \dot Q = F Q - \tfrac12 Q Q^\top Q, \qquad
          F = \begin{pmatrix} -\tfrac\lambda2 I & S_{yx}^\top \\ S_{yx} & \tfrac\lambda2 I\end{pmatrix}.

Its solution is ``QQ^T(t) = G M^{-1} G^T`` with ``G = e^{Ft} Q0`` and
``M = I + int_0^t Q0^T e^{2Fs} Q0 ds`` (Fukumizu form: overflows, test oracle only).
``F = O diag(Gamma, -Gamma, g_perp) O^T`` with ``Gamma = sqrt(s^2 + lam^2/4)`` per
singular value ``s`` of ``Syx = U diag(s) V^T`` (compact, m = min(Ni, No) columns),
eigenvectors ``O_+ = [V a_+; U b_+]``, ``O_- = [V a_-; U b_-]`` with
``a_+ = A(1-X)/sqrt2``, ``b_+ = A(1+X)/sqrt2``, ``a_- = A(1+X)/sqrt2``,
``b_- = -A(1-X)/sqrt2``, ``X = lam/(K + 2s)``, ``K = 2 Gamma``, ``A = (1+X^2)^{-1/2}``,
and the |No - Ni| extra directions ``O_perp = [0; U_perp]`` (``g_perp = lam/2``) or
``[V_perp; 0]`` (``g_perp = -lam/2``). With ``b = O_+^T Q0`` (m x Nh, invertible),
``P = (O_-^T Q0) b^{-1}``, ``D = (O_perp^T Q0) b^{-1}``, ``H = b^{-T} b^{-1}`` and
``E = e^{-Gamma t}``, factoring ``e^{Gamma t} b`` out of ``G`` gives (every
exponential decays, since ``|g_perp| <= Gamma``):

.. math:: QQ^\top(t) = Z\,C^{-1} Z^\top,\quad
   Z = O_+ + O_- E P E + O_\perp D\,e^{(g_\perp - \Gamma)t},\quad
   C = E H E + \psi + E P^\top \psi P E + E D^\top D E\,\phi_\perp ,

``psi = (1 - E^2)/(2 Gamma)`` (``= t`` at Gamma = 0), ``phi_perp = expm1(2 g_perp t)/(2 g_perp)``
(``= t`` at lam = 0), with ``E_i E_j phi_perp`` evaluated as
``(e_i e_j - E_i E_j)/(2 g_perp)``, ``e = e^{(g_perp - Gamma)t}``, when ``2 g_perp t > 1``.
This is the thesis's Thm 3.3.1(3) for Ni = No (the research note's §1.4, with its
``B = sqrt2 b^T``) and the note's DERIVED+CHECKED unequal-width extension.

Cost: the factorisation (SVD of Syx, inverse of b) once; each time then costs
about 5.8 n^3 multiply-adds for Ni = Nh = No = n (C and its Cholesky factor on m x m,
Z, the rotation, the triangular solve and the requested blocks only, symmetric ones
by halves), in one compiled loop over the times that writes into the preallocated
output. For small m (the loop kernel) the two parts of C and Z that are linear in the
time factors (``P^T psi P`` and ``(E P E)^T O_-^T``) are hoisted: a batch of 32 times
costs two matrix products with time-independent operands instead of 64 small ones;
the Cholesky factor, the triangular solve and the output product stay per time (loops,
or BLAS ``syrk`` from m = 12). For large m each time is direct BLAS-3/LAPACK calls
(syrk, potrf, gemm, trsm; :mod:`numerics._blas_nopython`) on one BLAS thread. The
times are independent, so runs of whole batches go to the grid driver's threads
(:func:`numerics._driver.threads`), the calling thread included, which take pieces from a
shared queue (a thread the shared machine starts late takes fewer); the result is bitwise the
same for any split. The factorisation is one compiled call (:mod:`numerics._qqt_factor`), and
the kernels check each time's output for NaN while it is in cache (a FloatingPointError
naming the time), so the caller need not scan the whole result again.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass

import numba
import numpy as np

from . import _driver
from ._blas_nopython import (
    gemm_acc,
    gemm_rows_nt,
    potrf_lower,
    syrk_lower,
    syrk_rows_lower,
    trsm_right_lower_t,
)
from ._blas_threads import one_blas_thread
from ._qqt_factor import _eigen_coefficients, balance_stats, factor_arrays

COND_B_MAX = 1e8
"""Largest cond(b) accepted: the closed form's relative error grows like cond(b) * 2^-52."""

IMBALANCE_RTOL = 1e-9
"""A start is λ-balanced when max|W2^T W2 - W1 W1^T - lam I| <= IMBALANCE_RTOL (||W1||_F^2 + ||W2||_F^2 + 1)."""

WHITE_RTOL = 1e-9
"""Inputs are whitened when max|(1/P) X X^T - I| <= WHITE_RTOL."""

SIMULATOR = "numerics.simulate.matrix_gradient_flow"

BLOCKS = ("W1TW1", "W2W1", "W2W2T")


class IllConditionedStart(ValueError):
    """The start's matrix b = O_+^T Q0 is singular or ill-conditioned (see :func:`factorise`)."""


def _as_matrix(value, name: str, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    x = np.asarray(value, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name}: must be a 2-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: must be finite")
    if rows is not None and x.shape[0] != rows:
        raise ValueError(f"{name}: must have {rows} rows, got shape {x.shape}")
    if cols is not None and x.shape[1] != cols:
        raise ValueError(f"{name}: must have {cols} columns, got shape {x.shape}")
    return x


def measured_lambda(W1, W2) -> tuple[float, float]:
    """(lam, imbalance): lam = tr(W2^T W2 - W1 W1^T)/Nh and max|W2^T W2 - W1 W1^T - lam I|."""
    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float)
    Lam = W2.T @ W2 - W1 @ W1.T
    lam = float(np.trace(Lam) / Lam.shape[0])
    return lam, float(np.max(np.abs(Lam - lam * np.eye(Lam.shape[0]))))


def check_start(W1, W2, Syx) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate a start for the closed form; return (W1, W2, Syx, lam) or raise ``ValueError``.

    Refuses (message naming the parameter): shapes that do not chain; ``lam != 0``
    with ``Nh`` outside ``[min(Ni, No), max(Ni, No)]`` (rank argument); ``Nh !=
    min(Ni, No)`` (no closed form: use the simulator); a start that is not
    λ-balanced (its measured imbalance).
    """
    W1 = _as_matrix(W1, "W1")
    Nh, Ni = W1.shape
    W2 = _as_matrix(W2, "W2", cols=Nh)
    No = W2.shape[0]
    Syx = _as_matrix(Syx, "Syx", rows=No, cols=Ni)
    m = min(Ni, No)
    W1, W2, Syx = np.ascontiguousarray(W1), np.ascontiguousarray(W2), np.ascontiguousarray(Syx)
    lam, imbalance, sumsq = balance_stats(W1, W2)  # compiled: the NumPy steps cost tens of us at n = 5
    tol = IMBALANCE_RTOL * (sumsq + 1.0)
    if Nh > Ni and lam < -tol:
        raise ValueError(f"W1: lam = {lam:.6g} < 0 is impossible with Nh = {Nh} > Ni = {Ni}: W1 W1^T is "
                         "rank-deficient (rank <= Ni), so W1 W1^T = W2^T W2 - lam I would need lam >= 0")
    if Nh > No and lam > tol:
        raise ValueError(f"W2: lam = {lam:.6g} > 0 is impossible with Nh = {Nh} > No = {No}: W2^T W2 is "
                         "rank-deficient (rank <= No), so W2^T W2 = lam I + W1 W1^T would need lam <= 0")
    if Nh != m:
        why = ("Nh > min(Ni, No): the network is over-parameterised and b is not square"
               if Nh > m else "Nh < min(Ni, No): a bottleneck, and b is not square")
        raise ValueError(f"W1: the closed form needs Nh = min(Ni, No) = {m}, got Nh = {Nh} ({why}); "
                         f"no closed form is known here: integrate the flow with {SIMULATOR}")
    if imbalance > tol:
        raise ValueError(f"W1: the start is not lambda-balanced: W2^T W2 - W1 W1^T = lam I fails by "
                         f"{imbalance:.3g} (max abs entry, lam = tr/Nh = {lam:.6g}; tolerance {tol:.3g}); "
                         f"for an arbitrary start integrate the flow with {SIMULATOR}")
    return W1, W2, Syx, lam


def check_whitened(X, name: str = "X") -> np.ndarray:
    """Return X (Ni x P) if (1/P) X X^T = I to WHITE_RTOL, else raise ``ValueError`` naming ``name``."""
    X = _as_matrix(X, name)
    Sxx = X @ X.T / X.shape[1]
    dev = float(np.max(np.abs(Sxx - np.eye(X.shape[0]))))
    if dev > WHITE_RTOL:
        raise ValueError(f"{name}: inputs are not whitened: max|(1/P) X X^T - I| = {dev:.3g} > {WHITE_RTOL:g}; "
                         "the closed form assumes whitened inputs (use numerics.whiten(X, Y) to whiten them)")
    return X


@dataclass(frozen=True)
class Whitening:
    """Whitened data and what was changed: ``X_white = T (X - mean)``, ``T = Sxx^{-1/2}``."""

    X: np.ndarray
    Y: np.ndarray
    transform: np.ndarray
    mean: np.ndarray
    centred: bool
    max_deviation_before: float
    report: str


def whiten(X, Y, *, centre: bool = False, rcond: float = 1e-12) -> Whitening:
    """Whiten inputs: ``X -> Sxx^{-1/2} X`` (optionally centred first), ``Y`` unchanged.

    Refuses (``ValueError`` naming ``X``) rank-deficient inputs (an eigenvalue of
    ``Sxx = (1/P) X X^T`` below ``rcond`` times the largest): whitening would divide by
    zero. The function learned changes: a network on the whitened inputs computes
    ``W2 W1 T x``; map a learned ``W`` back with ``W T``. ``report`` says what changed.
    """
    X = _as_matrix(X, "X")
    Y = _as_matrix(Y, "Y", cols=X.shape[1])
    P = X.shape[1]
    mean = X.mean(axis=1, keepdims=True) if centre else np.zeros((X.shape[0], 1))
    Xc = X - mean
    Sxx = Xc @ Xc.T / P
    w, Q = np.linalg.eigh(Sxx)
    if w[0] <= rcond * max(w[-1], 0.0) or w[-1] <= 0:
        raise ValueError(f"X: (1/P) X X^T is singular (eigenvalues {w[0]:.3g} .. {w[-1]:.3g}); inputs cannot be "
                         "whitened (P < Ni or linearly dependent features): drop dependent features first")
    T = (Q / np.sqrt(w)) @ Q.T
    dev = float(np.max(np.abs(Sxx - np.eye(X.shape[0]))))
    report = (f"X whitened: max|(1/P) X X^T - I| was {dev:.3g}; Sxx eigenvalues in [{w[0]:.3g}, {w[-1]:.3g}]"
              + ("; inputs centred" if centre else "")
              + "; a network trained on T X computes W T on the original inputs")
    return Whitening(T @ Xc, Y.copy(), T, mean[:, 0], centre, dev, report)


# -- factorisation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class QQTFactors:
    """Everything the per-time evaluator needs; built by :func:`factorise` once per start."""

    lam: float
    Ni: int
    No: int
    m: int
    s: np.ndarray        # (m,) singular values of Syx
    U: np.ndarray        # (No, m)
    V: np.ndarray        # (Ni, m)
    gamma: np.ndarray    # (m,) sqrt(s^2 + lam^2/4)
    g_perp: float        # eigenvalue of F on the extra directions
    OD: np.ndarray       # (Ni + No, m) O_perp D (zero when Ni = No)
    P: np.ndarray        # (m, m)
    H: np.ndarray        # (m, m) b^{-T} b^{-1}
    DD: np.ndarray       # (m, m) D^T D
    cond_b: float
    VUa: np.ndarray      # (Ni + No, m) O_+ = [V diag(a_+); U diag(b_+)]
    VUb: np.ndarray      # (Ni + No, m) O_- = [V diag(a_-); U diag(b_-)]
    VUaT: np.ndarray     # (m, Ni + No) O_+^T, the loop kernel's row-major operands
    ODT: np.ndarray      # (m, Ni + No) (O_perp D)^T


@numba.njit(cache=True, error_model="numpy")
def _hoisted_operands(P, VUb):
    """(M1, M2): the time-independent parts of the loop kernel's two products, so that for a batch of
    times they are two matrix products (``E @ M1``, ``psi @ M2``; see :func:`_qqt_loops`).

    ``M1[i, j n + r] = P_ij O_-[r, i]`` (m x m n) and ``M2[k, i(i+1)/2 + j] = P_ki P_kj`` for j <= i
    (m x m(m+1)/2). Built per evaluation (microseconds, compiled) for the loop kernel only (small m).
    """
    m = P.shape[0]
    n = VUb.shape[0]
    M1 = np.empty((m, m * n))
    M2 = np.empty((m, m * (m + 1) // 2))
    for i in range(m):
        for j in range(m):
            pij = P[i, j]
            for r in range(n):
                M1[i, j * n + r] = pij * VUb[r, i]
    for k in range(m):
        idx = 0
        for i in range(m):
            for j in range(i + 1):  # row-major order of the lower triangle: index i(i+1)/2 + j
                M2[k, idx] = P[k, i] * P[k, j]
                idx += 1
    return M1, M2


def eigen_coefficients(lam: float, s: np.ndarray):
    """(gamma, a_+, b_+, a_-, b_-) of F's ±gamma eigenvectors, without cancellation for either sign of lam."""
    return _eigen_coefficients(float(lam), np.ascontiguousarray(s, dtype=np.float64))


def factorise(W1, W2, Syx) -> QQTFactors:
    """Check and factorise a λ-balanced start once (see the module docstring).

    Raises ``ValueError`` for starts :func:`check_start` refuses, and :class:`IllConditionedStart`
    (a ``ValueError``) when cond(b) > COND_B_MAX.
    """
    with one_blas_thread():  # multi-threaded LAPACK on these sizes only spins on the shared cores
        return _factorise(*check_start(W1, W2, Syx))


def _factorise(W1, W2, Syx, lam) -> QQTFactors:
    Ni = W1.shape[1]
    No = W2.shape[0]
    cond_b, s, U, V, gamma, g_perp, OD, P, H, DD, VUa, VUb, VUaT, ODT = factor_arrays(W1, W2, Syx, lam, COND_B_MAX)
    if not cond_b <= COND_B_MAX:
        raise IllConditionedStart(
            f"W1: the start's matrix B = O_+^T Q0 (projection of [W1^T; W2] on F's growing eigenvectors) is "
            f"{'singular' if math.isinf(cond_b) else 'ill-conditioned'}, cond(B) = {cond_b:.3g} > {COND_B_MAX:g}: "
            "some mode of W2 W1 starts on (or next to) the wrong side of a saddle, so the balanced network would "
            "have to pass through a saddle (at lam = 0 it never converges, e.g. det(W2 W1) det(Syx) < 0 for "
            f"square nets); the closed form is undefined or inaccurate there: integrate the flow with {SIMULATOR}")
    return QQTFactors(lam=lam, Ni=Ni, No=No, m=min(Ni, No), s=s, U=U, V=V, gamma=gamma, g_perp=float(g_perp),
                      OD=OD, P=P, H=H, DD=DD, cond_b=float(cond_b), VUa=VUa, VUb=VUb, VUaT=VUaT, ODT=ODT)


# -- per-time kernels ------------------------------------------------------------------------
# Below M_LOOPS (mode count m) the loop kernel: per batch of times two hoisted matrix products,
# then per time a Numba loop nest (a BLAS call costs about a microsecond, as much as the small
# products themselves; BLAS syrk for the output from M_DOT on); above it each time is a few BLAS-3
# calls (syrk, potrf, gemm, trsm) on one thread, whose flop rate the loops cannot reach, made from
# compiled code (a Python call around each cost about 100 us per time at m = 100). Measured (thread
# CPU time per time point, square nets): loop kernel 10.1 vs 12.9 us at m = 20, 24.0 vs 25.6 at
# m = 28, 37.5 vs 38.0 at m = 34, equal at m = 40, BLAS 20% faster at m = 50.
M_LOOPS = 36
PSI_FROM_E = 1.0
"""From 2 Gamma t = PSI_FROM_E on, psi = (1 - E^2)/(2 Gamma) reuses E instead of calling expm1 (see :func:`_time_factors`)."""
M_DOT = 12  # from this m on, the loop kernel's output product calls BLAS (syrk) instead
T_BATCH = 32
"""Times per batch in the loop kernel (its two hoisted products have T_BATCH rows); thread pieces start at multiples of it."""
PIECES_PER_THREAD = 4
"""Pieces of the times per thread (taken from a shared queue, whole batches each), so that the work
follows the threads that actually get a core on a shared machine."""
PIECE_WORK = 150_000
"""At least this many multiply-adds per piece (about 0.15 ms): each piece costs a Python call of some 10 us."""
PARALLEL_WORK = 300_000
"""Below this many multiply-adds (times x (m^3 + (Ni+No)^2 m)) one thread does all times: a hand-off
through the pool costs 30-60 us, and this much work takes about 0.3 ms (1000 times at n = 5 take 0.7 ms)."""


@numba.njit(cache=True, error_model="numpy")
def _tmatmul_into(A, B, out, symmetric):
    """out = A^T @ B with loops, one output row at a time (the inner loop runs along rows of B and of
    out, which stays in cache); ``symmetric`` (A is B) fills the lower triangle and mirrors it. Each
    entry is sum_q A[q, i] B[q, j] accumulated in order q = 0, 1, ..., whichever of the two is asked."""
    k, n = A.shape
    p = B.shape[1]
    for i in range(n):
        row = out[i]
        jn = i + 1 if symmetric else p
        for j in range(jn):
            row[j] = 0.0
        for q in range(k):
            a = A[q, i]
            src = B[q]
            for j in range(jn):
                row[j] += a * src[j]
    if symmetric:
        for i in range(n):
            for j in range(i):
                out[j, i] = out[i, j]


@numba.njit(cache=True, error_model="numpy")
def _cholesky_inplace(C):
    """Lower Cholesky factor of the SPD matrix C, in place (reads the lower part); False if not SPD."""
    m = C.shape[0]
    for j in range(m):
        d = C[j, j]
        for k in range(j):
            d -= C[j, k] * C[j, k]
        if not d > 0.0:
            return False
        d = math.sqrt(d)
        C[j, j] = d
        for i in range(j + 1, m):
            v = C[i, j]
            for k in range(j):
                v -= C[i, k] * C[j, k]
            C[i, j] = v / d
    return True


@numba.njit(cache=True, error_model="numpy")
def _forward_rows(L, FT):
    """Solve L Y^T = F^T in place on FT (m x n)."""
    m, n = FT.shape
    for j in range(m):
        for k in range(j):
            lv = L[j, k]
            if lv != 0.0:
                for r in range(n):
                    FT[j, r] -= lv * FT[k, r]
        inv = 1.0 / L[j, j]
        for r in range(n):
            FT[j, r] *= inv


@numba.njit(cache=True, error_model="numpy")
def _time_factors(tt, gamma, g_perp, has_perp, E, psi, ep):
    """E = e^{-Gamma t}, psi = (1 - E^2)/(2 Gamma) (= t at Gamma = 0) and, only where there are
    extra directions, ep = e^{(g_perp - Gamma) t}.

    psi: ``-expm1(-2 Gamma t)`` where ``2 Gamma t < PSI_FROM_E`` (1 - E^2 would cancel there), else
    ``1 - E E`` from the E already computed, one transcendental call fewer: E^2 <= e^-1 there, so
    ``1 - E E`` >= 0.63 loses nothing (relative error within 3 ulp of the exact value)."""
    for i in range(gamma.size):
        g = gamma[i]
        Ei = math.exp(-g * tt)
        E[i] = Ei
        x = 2.0 * g * tt
        if not g > 0.0:
            psi[i] = tt
        elif x < PSI_FROM_E:
            psi[i] = -math.expm1(-x) / (2.0 * g)
        else:
            psi[i] = (1.0 - Ei * Ei) / (2.0 * g)
        if has_perp:
            ep[i] = math.exp((g_perp - g) * tt)


@numba.njit(cache=True, error_model="numpy")
def _perp_weight(tt, g_perp, Ei, Ej, epi, epj):
    """E_i E_j expm1(2 g t)/(2 g) without overflow (exp((g - Gamma) t) <= 1 carries the growth)."""
    if g_perp == 0.0:
        return Ei * Ej * tt
    if 2.0 * g_perp * tt <= 1.0:
        return Ei * Ej * math.expm1(2.0 * g_perp * tt) / (2.0 * g_perp)
    return (epi * epj - Ei * Ej) / (2.0 * g_perp)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _qqt_loops(t, gamma, g_perp, VUaT, ODT, M1, M2, H, DD, Ni, mode, out_full, out11, out21, out22):
    """Per-time loops (small m). mode 0: full QQ^T into out_full; mode 1: the blocks whose out has T rows.
    Returns -1, the index of a time where the centre matrix was not positive definite, or ``_NAN_AT - index``
    of a time whose output holds a NaN.

    Works on the transposed factor Z^T = O_+^T + diag(ep) (O_perp D)^T + (E P E)^T O_-^T (m x n), so that
    the triangular solve and the products run along contiguous rows. The two parts linear in the time
    factors are hoisted out of the per-time loop: for each batch of T_BATCH consecutive times,
    ``G1 = E @ M1`` gives ``sum_i E_i P_ij O_-[r, i]`` and ``G2 = psi @ M2`` gives ``(P^T psi P)_ij``
    (lower triangle), two matrix products of T_BATCH rows instead of 2 T_BATCH small ones. Batches start at
    multiples of T_BATCH from the first time, and callers split the times only there, so each time is
    computed by the same operations whatever the split."""
    m = gamma.size
    n = VUaT.shape[1]
    nt = t.size
    Eb = np.empty((T_BATCH, m))
    psib = np.empty((T_BATCH, m))
    epb = np.empty((T_BATCH, m))
    G1 = np.empty((T_BATCH, m * n))
    G2 = np.empty((T_BATCH, M2.shape[1]))
    C = np.empty((m, m))
    FT = np.empty((m, n))
    Y1 = np.empty((m, Ni))
    Y2 = np.empty((m, n - Ni))
    has_perp = n != 2 * m or Ni != m
    use_dot = m >= M_DOT
    for b0 in range(0, nt, T_BATCH):
        nb = min(T_BATCH, nt - b0)
        for k in range(nb):
            _time_factors(t[b0 + k], gamma, g_perp, has_perp, Eb[k], psib[k], epb[k])
        np.dot(Eb[:nb], M1, G1[:nb])
        np.dot(psib[:nb], M2, G2[:nb])
        for k in range(nb):
            it = b0 + k
            tt = t[it]
            E = Eb[k]
            psi = psib[k]
            ep = epb[k]
            # C = E (H + P^T psi P) E + psi + E D^T D E phi_perp, lower triangle (all the Cholesky reads)
            for i in range(m):
                Ei = E[i]
                off = i * (i + 1) // 2
                for j in range(i + 1):
                    c = Ei * E[j] * (H[i, j] + G2[k, off + j])
                    if has_perp:
                        c += DD[i, j] * _perp_weight(tt, g_perp, Ei, E[j], ep[i], ep[j])
                    C[i, j] = c
                C[i, i] += psi[i]
            if not _cholesky_inplace(C):
                return it
            # Z^T[j] = O_+^T[j] + ep_j (O_perp D)^T[j] + E_j G1[j-th block]; Y^T = L^{-1} Z^T in place
            for j in range(m):
                Ej = E[j]
                off = j * n
                if has_perp:
                    epj = ep[j]
                    for r in range(n):
                        FT[j, r] = VUaT[j, r] + ODT[j, r] * epj + Ej * G1[k, off + r]
                else:
                    for r in range(n):
                        FT[j, r] = VUaT[j, r] + Ej * G1[k, off + r]
            _forward_rows(C, FT)
            if mode == 0:
                if use_dot:
                    syrk_lower(FT, out_full[it], 0.0)  # half the work of np.dot(FT.T, FT)
                    _mirror_lower(out_full[it])
                else:
                    _tmatmul_into(FT, FT, out_full[it], True)
            elif use_dot:  # BLAS needs contiguous operands: copy the two column blocks (m x Ni, m x No)
                Y1[:] = FT[:, :Ni]
                Y2[:] = FT[:, Ni:]
                if out11.shape[0] > 0:
                    syrk_lower(Y1, out11[it], 0.0)
                    _mirror_lower(out11[it])
                if out21.shape[0] > 0:
                    np.dot(Y2.T, Y1, out21[it])
                if out22.shape[0] > 0:
                    syrk_lower(Y2, out22[it], 0.0)
                    _mirror_lower(out22[it])
            else:
                if out11.shape[0] > 0:
                    _tmatmul_into(FT[:, :Ni], FT[:, :Ni], out11[it], True)
                if out21.shape[0] > 0:
                    _tmatmul_into(FT[:, Ni:], FT[:, :Ni], out21[it], False)
                if out22.shape[0] > 0:
                    _tmatmul_into(FT[:, Ni:], FT[:, Ni:], out22[it], True)
            if _output_has_nan(it, mode, out_full, out11, out21, out22):
                return _NAN_AT - it
    return -1


_NAN_AT = -2
"""The kernels return -1 (all times fine), the index of a time whose centre matrix was not positive definite,
or ``_NAN_AT - index`` for a time whose output holds a NaN (the evaluator checks its own output, in cache)."""


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _has_nan(G):
    # an or-reduction without early exit, which the compiler vectorises
    bad = False
    for i in range(G.shape[0]):
        row = G[i]
        for j in range(G.shape[1]):
            bad |= row[j] != row[j]
    return bad


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _output_has_nan(it, mode, out_full, out11, out21, out22):
    """Whether time ``it``'s output (the full QQ^T, or the blocks asked for) holds a NaN."""
    if mode == 0:
        return _has_nan(out_full[it])
    return ((out11.shape[0] > 0 and _has_nan(out11[it])) or (out21.shape[0] > 0 and _has_nan(out21[it]))
            or (out22.shape[0] > 0 and _has_nan(out22[it])))


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _mirror_lower(G):
    """Copy the lower triangle of the square G onto its upper one (syrk fills only the lower)."""
    n = G.shape[0]
    for i in range(n):
        for j in range(i):
            G[j, i] = G[i, j]


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _qqt_blas(t, gamma, g_perp, VUa, VUb, OD, P, H, DD, Ni, mode, out_full, out11, out21, out22):
    """Per-time BLAS-3 calls (large m), same algebra and outputs as :func:`_qqt_loops`: syrk for
    C's R^T R, potrf, one gemm for F, trsm for Y = F L^{-T}, syrk for Y Y^T (or the blocks), all
    called from compiled code (no Python between them) and writing into preallocated arrays."""
    m = gamma.size
    n = OD.shape[0]
    E = np.empty(m)
    psi = np.empty(m)
    ep = np.empty(m)
    EPE = np.empty((m, m))
    R = np.empty((m, m))
    C = np.empty((m, m))
    F = np.empty((n, m))
    has_perp = n != 2 * m or Ni != m
    for it in range(t.size):
        tt = t[it]
        _time_factors(tt, gamma, g_perp, has_perp, E, psi, ep)
        for i in range(m):
            sp_i = math.sqrt(psi[i])
            for j in range(m):
                EPE[i, j] = E[i] * P[i, j] * E[j]
                R[i, j] = sp_i * P[i, j] * E[j]
        # C = R^T R + E H E + psi + E D^T D E phi_perp (lower triangle only), R = sqrt(psi) P E
        syrk_lower(R, C, 0.0)
        for i in range(m):
            for j in range(i + 1):
                c = C[i, j] + E[i] * H[i, j] * E[j]
                if has_perp:
                    c += DD[i, j] * _perp_weight(tt, g_perp, E[i], E[j], ep[i], ep[j])
                C[i, j] = c
            C[i, i] += psi[i]
        if potrf_lower(C) != 0:
            return it
        # F = O_+ + O_- EPE + OD diag(ep); Y = F L^{-T} in place
        for r in range(n):
            for j in range(m):
                F[r, j] = VUa[r, j] + OD[r, j] * ep[j] if has_perp else VUa[r, j]
        gemm_acc(VUb, EPE, F)
        trsm_right_lower_t(C, F)
        if mode == 0:
            syrk_rows_lower(F, out_full[it])
            _mirror_lower(out_full[it])
        else:
            if out11.shape[0] > 0:
                syrk_rows_lower(F[:Ni], out11[it])
                _mirror_lower(out11[it])
            if out21.shape[0] > 0:
                gemm_rows_nt(F[Ni:], F[:Ni], out21[it])
            if out22.shape[0] > 0:
                syrk_rows_lower(F[Ni:], out22[it])
                _mirror_lower(out22[it])
        if _output_has_nan(it, mode, out_full, out11, out21, out22):
            return _NAN_AT - it
    return -1


def _chunk(f: QQTFactors, t: np.ndarray, mode: int, outs, hoisted=None) -> int:
    """Evaluate the times ``t`` into ``outs`` (same length); the kernels' code (-1, a failed time, or a NaN one).
    ``hoisted``: :func:`_hoisted_operands` of ``f`` where the caller has them (small m only)."""
    if f.m < M_LOOPS:
        M1, M2 = _hoisted_operands(f.P, f.VUb) if hoisted is None else hoisted
        return _qqt_loops(t, f.gamma, f.g_perp, f.VUaT, f.ODT, M1, M2, f.H, f.DD, f.Ni, mode, *outs)
    return _qqt_blas(t, f.gamma, f.g_perp, f.VUa, f.VUb, f.OD, f.P, f.H, f.DD, f.Ni, mode, *outs)


def _run(f: QQTFactors, flat: np.ndarray, mode: int, outs) -> None:
    # Times are independent: contiguous runs of them go to the driver's threads (the kernels
    # release the GIL). Each time is computed by the same code whatever the split, so the
    # result does not depend on the thread count.
    n = f.Ni + f.No
    work = flat.size * (f.m**3 + n * n * f.m)
    # a caller already on one of the pool's threads runs serially: waiting on the pool from inside it could deadlock
    nested = threading.current_thread().name.startswith("lazyrich-grid")
    nthreads = min(_driver.threads(), flat.size) if work >= PARALLEL_WORK and not nested else 1
    # pieces start at multiples of T_BATCH: the loop kernel's batches (and so its operations) are then
    # the same for every split
    batches = -(-flat.size // T_BATCH)
    npieces = 1 if nthreads == 1 else max(nthreads, min(batches, PIECES_PER_THREAD * nthreads, work // PIECE_WORK))
    bounds = np.minimum(np.linspace(0, batches, npieces + 1).astype(int) * T_BATCH, flat.size)
    pieces = [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]
    if not pieces:
        return
    hoisted = _hoisted_operands(f.P, f.VUb) if f.m < M_LOOPS else None  # once, not in each thread
    codes = [-1] * len(pieces)
    queue = iter(range(len(pieces)))
    lock = threading.Lock()

    def worker():
        # takes pieces until none is left: a thread the OS starts late (the cores are shared) takes fewer,
        # instead of the caller waiting idle for a fixed share
        while True:
            with lock:
                k = next(queue, None)
            if k is None:
                return
            lo, hi = pieces[k]
            sub = [o[lo:hi] if o.shape[0] else o for o in outs]
            bad = _chunk(f, flat[lo:hi], mode, sub, hoisted)
            codes[k] = bad + lo if bad >= 0 else (bad - lo if bad <= _NAN_AT else -1)

    with one_blas_thread():
        # the calling thread works too: one hand-off fewer, and no idle waiting
        futures = [_driver._pool().submit(worker) for _ in range(min(nthreads, len(pieces)) - 1)]
        try:
            worker()
        finally:
            for fu in futures:  # waited for even on error: the pieces write into outs
                fu.result()
    bad = next((b for b in codes if b >= 0), -1)  # pieces are in time order: the first failed time
    if bad >= 0:
        raise FloatingPointError(f"t: the centre matrix lost positive definiteness at t = {flat[bad]!r} "
                                 f"(cond(B) = {f.cond_b:.3g}); this is a lazyrich bug, please report it")
    nan = next((_NAN_AT - b for b in codes if b <= _NAN_AT), -1)
    if nan >= 0:
        raise FloatingPointError(f"t: QQ^T came out NaN at t = {float(flat[nan])!r} for a valid start (cond(B) = "
                                 f"{f.cond_b:.3g}); this is a lazyrich bug, please report it")


def _times(t) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("t: must be finite and >= 0")
    return t, np.ascontiguousarray(t.ravel())


def evaluate_blocks(f: QQTFactors, t, blocks=BLOCKS) -> dict[str, np.ndarray]:
    """The requested blocks of QQ^T at times ``t`` (any shape, >= 0): ``{"W1TW1": (..., Ni, Ni),
    "W2W1": (..., No, Ni), "W2W2T": (..., No, No)}``. BLAS is pinned to one thread meanwhile."""
    unknown = set(blocks) - set(BLOCKS)
    if unknown:
        raise ValueError(f"blocks: unknown block(s) {sorted(unknown)}; choose from {BLOCKS}")
    t, flat = _times(t)
    shapes = [(f.Ni, f.Ni), (f.No, f.Ni), (f.No, f.No)]
    outs = [np.empty((flat.size if b in blocks else 0,) + sh) for b, sh in zip(BLOCKS, shapes)]
    _run(f, flat, 1, [np.empty((0, 1, 1))] + outs)
    return {b: o.reshape(t.shape + sh) for b, o, sh in zip(BLOCKS, outs, shapes) if b in blocks}


def evaluate_qqt(f: QQTFactors, t) -> np.ndarray:
    """QQ^T(t), shape ``t.shape + (Ni + No, Ni + No)``, ordered ``[[W1^T W1, W1^T W2^T], [W2 W1, W2 W2^T]]``."""
    t, flat = _times(t)
    n = f.Ni + f.No
    out = np.empty((flat.size, n, n))
    empty = np.empty((0, 1, 1))
    _run(f, flat, 0, [out, empty, empty, empty])
    return out.reshape(t.shape + (n, n))


def fukumizu_qqt(W1, W2, Syx, t) -> np.ndarray:
    """Test oracle only (overflows as e^{Ft} grows): e^{Ft} Q0 [I + Q0^T (int_0^t e^{2Fs} ds) Q0]^{-1} Q0^T e^{Ft}.

    Works for any λ-balanced start (any Nh) by diagonalising the symmetric F; small t only.
    """
    W1, W2, Syx = (np.asarray(a, dtype=float) for a in (W1, W2, Syx))
    lam = measured_lambda(W1, W2)[0]
    Ni, No = W1.shape[1], W2.shape[0]
    F = np.block([[-lam / 2 * np.eye(Ni), Syx.T], [Syx, lam / 2 * np.eye(No)]])
    mu, O = np.linalg.eigh(F)
    Q0 = np.vstack([W1.T, W2])
    phi = np.where(mu != 0, np.expm1(2 * mu * t) / np.where(mu != 0, 2 * mu, 1.0), t)
    G = (O * np.exp(mu * t)) @ O.T @ Q0
    M = np.eye(Q0.shape[1]) + Q0.T @ (O * phi) @ O.T @ Q0
    return G @ np.linalg.solve(M, G.T)
