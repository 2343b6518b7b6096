"""Task-aligned, lambda-balanced initialisation of a two-layer linear network.

Network f(x) = W2 W1 x with W1 (Nh x Ni), W2 (No x Nh); data X (Ni x P),
Y (No x P); loss L = (1/2P) ||W2 W1 X - Y||_F^2.  Inputs are whitened,
(1/P) X X^T = I exactly, and Syx = (1/P) Y X^T = U diag(s) V^T.

With W1(0) = R diag(c0) V^T, W2(0) = U diag(d0) R^T, c0 d0 = a0 and
d0^2 - c0^2 = lam, the conserved quantity W2^T W2 - W1 W1^T equals lam * I and
every mode a = U[:, k]^T W2 W1 V[:, k] obeys da/dt = sqrt(lam^2 + 4 a^2)(s - a)
under gradient flow; the loss is L = 1/2 sum_k (s_k - a_k)^2 + Lstar.

Setting: Saxe, McClelland & Ganguli 2014 (arXiv:1312.6120); Domine, Anguita
et al., "From Lazy to Rich: Exact Learning Dynamics in Deep Linear Networks",
ICLR 2025 (arXiv:2409.14623).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class AlignedTask:
    """Weights and data of an aligned two-layer problem (arrays are read-only).

    U (No x m) and V (Ni x m) hold the singular vectors of Syx, s its m
    singular values; lam is the conserved imbalance W2^T W2 - W1 W1^T = lam I;
    Lstar the irreducible loss 1/2 (tr Syy - ||Syx||_F^2).
    """

    W1: np.ndarray
    W2: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    U: np.ndarray
    V: np.ndarray
    s: np.ndarray
    lam: float
    Lstar: float

    @property
    def Ni(self) -> int:
        return self.W1.shape[1]

    @property
    def Nh(self) -> int:
        return self.W1.shape[0]

    @property
    def No(self) -> int:
        return self.W2.shape[0]

    @property
    def P(self) -> int:
        return self.X.shape[1]

    @property
    def Syx(self) -> np.ndarray:
        """Input-output correlation U diag(s) V^T (= (1/P) Y X^T up to rounding)."""
        return (self.U * self.s) @ self.V.T


def haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random n x n orthogonal matrix (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def balanced_factors(lam: float, a0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (c0, d0) with c0 d0 = a0, d0^2 - c0^2 = lam, d0 >= 0, sign c0 = sign a0.

    With q0 = sqrt(lam^2 + 4 a0^2): c0^2 = (q0 - lam)/2, d0^2 = (q0 + lam)/2,
    the smaller of the two computed as 2 a0^2 / (q0 +- lam) to avoid cancellation.
    """
    q0 = np.hypot(lam, 2.0 * a0)
    if lam >= 0:
        den = q0 + lam
        c2 = np.divide(2.0 * a0**2, den, out=np.zeros_like(a0), where=den > 0)
        d2 = 0.5 * den
    else:
        d2 = 2.0 * a0**2 / (q0 - lam)
        c2 = 0.5 * (q0 - lam)
    sign = np.where(a0 < 0, -1.0, 1.0)  # a0 = 0, lam < 0: d0 = 0, c0 = +sqrt(-lam)
    return sign * np.sqrt(c2), np.sqrt(d2)


def _positive_int(value, name: str) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return n


def _check_Nh(Nh: int, Ni: int, No: int, lam: float) -> None:
    m = min(Ni, No)
    if Nh == m:
        return
    msg = f"Nh={Nh}: the aligned closed form needs Nh = min(Ni, No) = {m}"
    if lam > 0 and Nh > No:
        msg += (f"; moreover lam={lam} > 0 is impossible with Nh > No: W2^T W2 is "
                "rank-deficient, and W2^T W2 = lam I + W1 W1^T forces lam <= 0")
    elif lam < 0 and Nh > Ni:
        msg += (f"; moreover lam={lam} < 0 is impossible with Nh > Ni: W1 W1^T is "
                "rank-deficient, and W1 W1^T = W2^T W2 - lam I forces lam >= 0")
    raise ValueError(msg)


def _whitened_data(Syx, Ni, No, P, Lstar, rng):
    """X = sqrt(P) Q[:Ni], Y = Syx X + N with N X^T = 0 and ||N||^2 / (2P) = Lstar."""
    Q = haar_orthogonal(P, rng)
    X = math.sqrt(P) * Q[:Ni]
    Y = Syx @ X
    if Lstar > 0:
        B = rng.standard_normal((No, P - Ni))
        B *= math.sqrt(2.0 * P * Lstar) / np.linalg.norm(B)
        Y = Y + B @ Q[Ni:]
    return X, Y


def aligned_init(lam, s, a0, *, Ni, No, Nh=None, P=None, Lstar=0.0, seed=0) -> AlignedTask:
    """Task-aligned lambda-balanced network and whitened data.

    lam: real imbalance, W2^T W2 - W1 W1^T = lam I.  s: m = min(Ni, No)
    positive singular values of Syx.  a0: m real initial mode strengths.
    Nh must equal m (default).  P >= Ni samples (default 2 Ni; P > Ni when
    Lstar > 0).  Lstar >= 0 is the irreducible loss, carried by a noise part
    of Y orthogonal to the rows of X.  U (No x No), V (Ni x Ni), R (Nh x Nh)
    and the data are drawn from numpy.random.default_rng(seed).
    """
    Ni, No = _positive_int(Ni, "Ni"), _positive_int(No, "No")
    m = min(Ni, No)
    try:
        lam = float(lam)
    except (TypeError, ValueError):
        raise ValueError(f"lam must be a real number, got {lam!r}") from None
    if not math.isfinite(lam):
        raise ValueError(f"lam must be finite, got {lam}")
    s = np.asarray(s, dtype=float)
    if s.shape != (m,) or not np.all(np.isfinite(s)) or not np.all(s > 0):
        raise ValueError(f"s must be a 1-D array of {m} = min(Ni, No) positive finite values, got {s!r}")
    a0 = np.asarray(a0, dtype=float)
    if a0.shape != (m,) or not np.all(np.isfinite(a0)):
        raise ValueError(f"a0 must be a 1-D array of {m} = min(Ni, No) finite values, got {a0!r}")
    _check_Nh(m if Nh is None else _positive_int(Nh, "Nh"), Ni, No, lam)
    P = 2 * Ni if P is None else _positive_int(P, "P")
    if P < Ni:
        raise ValueError(f"P={P} must be >= Ni={Ni} for whitened inputs")
    Lstar = float(Lstar)
    if not (math.isfinite(Lstar) and Lstar >= 0):
        raise ValueError(f"Lstar must be finite and >= 0, got {Lstar}")
    if Lstar > 0 and P == Ni:
        raise ValueError(f"Lstar={Lstar} > 0 needs P > Ni (room for noise orthogonal to X); got P = Ni = {P}")

    rng = np.random.default_rng(seed)
    U = haar_orthogonal(No, rng)[:, :m]
    V = haar_orthogonal(Ni, rng)[:, :m]
    R = haar_orthogonal(m, rng)
    c0, d0 = balanced_factors(lam, a0)
    W1 = (R * c0) @ V.T
    W2 = (U * d0) @ R.T
    X, Y = _whitened_data((U * s) @ V.T, Ni, No, P, Lstar, rng)
    arrays = dict(W1=W1, W2=W2, X=X, Y=Y, U=U, V=V, s=s.copy())
    for a in arrays.values():
        a.flags.writeable = False
    return AlignedTask(**arrays, lam=lam, Lstar=Lstar)
