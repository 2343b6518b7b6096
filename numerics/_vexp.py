r"""``exp`` and ``expm1`` for doubles without libm calls, so that loops calling them vectorise.

A libm call inside a loop stops LLVM's loop vectoriser; :func:`numerics._bregman._dual_state_into`
spends most of its time in 2 d scalar ``exp``/``expm1`` calls. These are branch-free (selects only)
versions, correct to about one ulp over the whole double range:

* **reduction** (Cody & Waite 1980): ``x = k log 2 + r``, ``k = round(x / log 2)`` by adding and
  subtracting ``1.5 * 2^52`` (round to nearest, and ``k``'s bits are then the low bits of the sum),
  ``r = (x - k ln2_hi) - k ln2_lo`` with fdlibm's split of ``log 2`` (``k ln2_hi`` is exact for
  ``|k| < 2^11``) by fused multiply-adds, ``|r| <= log(2)/2 (1 + 2^-40)``;
* **polynomial**: ``expm1(r) = r + r^2 Q(r)``, ``Q`` the Taylor series of ``(e^r - 1 - r) / r^2`` to
  degree 11 (``expm1`` to degree 13): the truncation ``r^13 / 14!`` is below ``1.3e-17 |r|``, and with
  the coefficients ``1/m!`` rounded to doubles the polynomial is within 0.114 ulp of ``expm1(r)`` (a test
  checks it in mpmath; degree 12 would be 5 ulps off); Horner with ``llvm.fma``.
  ``exp(x) = 2^k (1 + expm1(r))`` and ``expm1(x) = 2 (2^{k-1} expm1(r) + (2^{k-1} - 1/2))``, one
  fused multiply-add (halved so that ``k = 1024`` needs no
  ``2^1024``), and ``expm1(x) = expm1(r)`` when ``k = 0`` (selected), so tiny and subnormal arguments
  keep full relative accuracy;
* **scaling**: ``2^k`` is built from exponent bits; for ``exp`` as ``2^{k_1} 2^{k_2}``,
  ``k_1 = floor(k / 2)``, ``k_2 = k - k_1``, both normal doubles over ``k`` in [-1076, 1024], so the
  first product is exact and the second rounds once: overflow gives ``inf`` and gradual underflow a
  correctly rounded subnormal (or 0) of ``2^k (1 + expm1(r))``;
* **range**: arguments are clamped to [-746, 710] for ``exp`` (beyond, the answer is 0 or inf
  anyway) and to [-40, 709.79] for ``expm1`` (below -40 it rounds to -1; above ``log(DBL_MAX)`` it is
  selected as inf); NaN propagates.

Accuracy (tests against mpmath, over tiny, ordinary, huge, subnormal-producing and overflowing
arguments): ``vexp`` within 1 ulp of the correctly rounded value; ``vexpm1`` within 1 ulp for
``x <= 0`` (the Bregman solver's case) and within 2 ulps for ``x > 0`` (2 is seen at ``k = 1, 2``,
``0.35 < x < 1.8``, where ``2^k (1 + expm1(r)) - 1`` cancels up to one bit of ``expm1(r)``'s own
rounding). In a loop over 200 doubles each is ~1.5 us with the call (``vexp_array``), as fast as
NumPy's SIMD ``exp``; in
:func:`numerics._bregman._dual_state_into` (one of each per coordinate) they took the loop from
7.6 to 1.6 us at d = 200.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._llvm_intrinsics import _as_f64, _as_u64, _fma

_INV_LN2 = 1.0 / math.log(2.0)
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of log 2: k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer, which sits in the low bits
_SHIFT_BITS = np.uint64(0x4338000000000000)
_BIAS = np.uint64(1023)
_K_OFFSET = np.uint64(2048)  # k + 2048 >= 0 for every clamped argument: halved by a logical shift
_ONE_U = np.uint64(1)
_MANT_SHIFT = np.uint64(52)
#: log(DBL_MAX): expm1 above it is inf
_LOG_MAX = 709.782712893384
# Taylor coefficients 1/m!, m = 2..13 (rounded to doubles)
_C = tuple(1.0 / math.factorial(m) for m in range(2, 14))


@numba.njit(cache=True, error_model="numpy", inline="always")
def _reduce(x):
    """``(k as uint64 bits + 2048, expm1(r))`` with ``x = k log 2 + r`` (x already clamped)."""
    t = _fma(x, _INV_LN2, _SHIFT)
    kd = t - _SHIFT
    r = _fma(-kd, _LN2_HI, x)
    r = _fma(-kd, _LN2_LO, r)
    q = _C[11]
    q = _fma(q, r, _C[10])
    q = _fma(q, r, _C[9])
    q = _fma(q, r, _C[8])
    q = _fma(q, r, _C[7])
    q = _fma(q, r, _C[6])
    q = _fma(q, r, _C[5])
    q = _fma(q, r, _C[4])
    q = _fma(q, r, _C[3])
    q = _fma(q, r, _C[2])
    q = _fma(q, r, _C[1])
    q = _fma(q, r, _C[0])
    p = _fma(r * r, q, r)
    kb = _as_u64(t) - _SHIFT_BITS + _K_OFFSET  # k + 2048 (the sum's low bits are k in two's complement)
    return kb, p


@numba.njit(cache=True, error_model="numpy", inline="always")
def vexp(x):
    """``exp(x)`` to about one ulp for every double (0 and inf beyond the range, NaN propagated)."""
    # selects, not min/max: a NaN argument becomes a bound here (and is restored below), no branch
    xc = x if x > -746.0 else -746.0  # noqa: FURB136
    xc = xc if xc < 710.0 else 710.0  # noqa: FURB136
    kb, p = _reduce(xc)
    k1 = kb >> _ONE_U  # floor(k / 2) + 1024
    k2 = kb - k1  # k - floor(k / 2) + 1024
    s1 = _as_f64((k1 - np.uint64(1024) + _BIAS) << _MANT_SHIFT)
    s2 = _as_f64((k2 - np.uint64(1024) + _BIAS) << _MANT_SHIFT)
    out = ((1.0 + p) * s1) * s2
    return x if math.isnan(x) else out


@numba.njit(cache=True, error_model="numpy", inline="always")
def vexpm1(x):
    """``expm1(x) = e^x - 1`` to about one ulp for every double (-1 and inf beyond the range, NaN propagated)."""
    xc = x if x > -40.0 else -40.0  # noqa: FURB136
    xc = xc if xc < _LOG_MAX else _LOG_MAX  # noqa: FURB136
    kb, p = _reduce(xc)
    half_s = _as_f64((kb - np.uint64(2049) + _BIAS) << _MANT_SHIFT)  # 2^(k-1), a normal double for k in [-58, 1024]
    out = 2.0 * _fma(half_s, p, half_s - 0.5)
    out = p if kb == _K_OFFSET else out  # k = 0: expm1(x) = expm1(r) (halving would drop a subnormal's last bit)
    out = out if x <= _LOG_MAX else math.inf
    return x if math.isnan(x) else out


@numba.njit(cache=True, error_model="numpy")
def vexp_array(x):
    """Elementwise :func:`vexp` of a 1-D array (for tests and benchmarks)."""
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = vexp(x[i])
    return out


@numba.njit(cache=True, error_model="numpy")
def vexpm1_array(x):
    """Elementwise :func:`vexpm1` of a 1-D array (for tests and benchmarks)."""
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = vexpm1(x[i])
    return out
