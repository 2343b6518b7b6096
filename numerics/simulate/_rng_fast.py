r"""Blocks of standard normals generated in SIMD lanes: xoshiro256+ per lane and a branch-free Box-Muller.

The online-SGD simulator needs ``d`` fresh N(0, 1) per step. One scalar stream (``_rng``: xoshiro256**
with a ziggurat) cannot be vectorised: the ziggurat's table look-ups are gathers, which LLVM does not
emit on every CPU, and its rejections branch. Here the ``4 L`` normals of one call come from ``L``
independent lanes laid out so that the loop over lanes vectorises:

* **uniform bits**: lane ``p`` is a xoshiro256+ generator (Blackman & Vigna 2018) whose state is the
  column ``state[:, p]``; it advances four times per call. Only the upper 54 bits of an output are used
  (xoshiro256+'s low bits have low linear complexity; its authors recommend the upper bits for
  floating point). The ``4 L`` state words are consecutive SplitMix64 outputs from the seed (the
  seeding its authors recommend), so a seed fixes every lane and results do not depend on threads.
* **normals**: Box-Muller (1958) from two outputs ``o1, o2``: ``U = 1 - k 2^-52`` with ``k`` the top
  52 bits of ``o1`` (so ``U`` in ``(0, 1]`` exactly, ``-2 log U <= 104 log 2``, i.e. ``|x| <= 8.49``: the
  law is cut at probability ``< 2^-52``), ``R = sqrt(-2 log U)``; the angle ``theta = q pi/2 + phi`` with
  the quadrant ``q`` from the top 2 bits of ``o2`` and ``phi = (v - 1/2) pi/2``, ``v`` from its next 52
  bits; ``(x, y) = R (cos theta, sin theta)``, two independent N(0, 1).
* **elementary functions without libm calls** (a libm call stops vectorisation): ``log U = e log 2 +
  log m`` with ``m`` in ``[1/sqrt 2, sqrt 2)`` and the exponent ``e`` read from the bits (adding the
  constant ``bits(1) - bits(1/sqrt 2)`` carries into the exponent field exactly when the mantissa is at
  least that of ``1/sqrt 2``: musl's reduction, no compare or blend), ``log m = 2 atanh s = 2s + 2s t T(t)``,
  ``s = (m-1)/(m+1)``, ``t = s^2 <= (3 - 2 sqrt 2)^2``, the exact leading ``2s`` added last and ``log 2``
  split in two (fdlibm's ``ln2_hi + ln2_lo``); ``sin phi = phi + phi z P(z)``, ``cos phi = 1 - z C(z)``,
  ``z = phi^2``, ``|phi| <= pi/4``. ``T, P, C`` are near-minimax polynomials of degrees 6, 5, 6
  (Chebyshev interpolation in 50 digits, ``numerics.simulate._rng_fast_fit``, which regenerates the
  coefficients below; relative errors 4.7e-16, 2.0e-16, 1.5e-18, i.e. at most 0.05, 0.2, 0.006 ulp of
  ``log m, sin, cos``) where the Taylor series used before needed degrees 9, 7, 8 for the same accuracy;
  polynomials by Estrin's scheme (short dependency chains) with fused multiply-adds (``llvm.fma``);
  ``sqrt`` by ``llvm.sqrt``. The tests bound the error of ``log``, ``cos``, ``sin`` in ulps against
  libm (at most 2; 1 observed), the moments in z standard errors and the CDF by Kolmogorov-Smirnov.

The bit reinterpretations (``double <-> uint64``), ``fma`` and ``sqrt`` are Numba intrinsics shared with
:mod:`numerics._vexp` (:mod:`numerics._llvm_intrinsics`).

Why Box-Muller and not a vectorised ziggurat (measured on the project's AVX2 machine, AMD EPYC,
2 vCPUs): LLVM does not vectorise the ziggurat's table look-ups there (it treats AVX2 gathers as slow
on this CPU, rightly: the two ``vgatherqpd`` per 4 normals alone take 3.5 ns per normal, emulated
gathers 1.4 ns), and a ziggurat first pass with scalar look-ups was no faster than this Box-Muller in
the same run, before any fix-up. Marsaglia's polar method (no sin/cos; rejections compacted by a scalar
pass) took 1.5x as long (two divisions and a square root per candidate pair). The vectorised loop is
throughput-bound: with the Taylor series it was 276 instructions per 16 normals (about 2.3 ns per
normal); the minimax polynomials, the compare-free log reduction and sign-bit quadrant selection bring
it to 231 (2 ``vdivpd``, 2 ``vsqrtpd``, 42 FMAs; about 58 are loads, stores and spills of the 16 ymm
registers), 1.17-1.21x faster in interleaved A/B runs. Splitting the two Box-Muller pairs of a lane
into two loops (fewer live registers) was not faster.

Lanes are independent streams: ``fill_block`` fills any range of lanes for a block of calls, so two
threads can draw disjoint lane ranges of the same calls and get the numbers one thread would.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._llvm_intrinsics import _as_f64, _as_u64, _fma, _sqrt

_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_ONE = np.uint64(0x3FF0000000000000)  # bits of 1.0
_TWO52 = np.uint64(0x4330000000000000)  # bits of 2^52: (2^52 | k) as a double is 2^52 + k, exactly
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of log 2: e * _LN2_HI is exact for |e| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_PIO2 = math.pi / 2.0
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SIGN = np.uint64(0x8000000000000000)
_QUARTER = np.uint64(0x4000000000000000)  # 2^62: adds 1 to the quadrant q = o2 >> 62
_INV_SQRT2_BITS = np.uint64(0x3FE6A09E667F3BCD)  # bits of fl(1/sqrt 2)
_LOG_OFF = _ONE - _INV_SQRT2_BITS

# Near-minimax polynomial coefficients (ascending powers), from ``python -m numerics.simulate._rng_fast_fit``
# (Chebyshev interpolation in 50 digits, rounded to doubles; a test regenerates them).
# sin phi = phi + phi z P(z), z = phi^2 <= (pi/4)^2: relative error of P 2.0e-16 (0.2 ulp of sin)
_SIN_COEFFS = (
    -0.16666666666666666,
    0.008333333333330948,
    -0.00019841269836758574,
    2.755731610255244e-06,
    -2.5051131845003624e-08,
    1.5918129294866608e-10,
)
# cos phi = 1 - z C(z): relative error of C 1.5e-18
_COS_COEFFS = (
    0.5,
    -0.04166666666666664,
    0.0013888888888880775,
    -2.480158729369346e-05,
    2.7557315566341895e-07,
    -2.0875886738047052e-09,
    1.1367998654022494e-11,
)
# atanh(s)/s = 1 + t T(t), t = s^2 <= (3 - 2 sqrt 2)^2: relative error of T 4.7e-16 (0.05 ulp of log m)
_LOG_COEFFS = (
    0.3333333333333335,
    0.19999999999949752,
    0.14285714312987743,
    0.1111110556739754,
    0.09091444562630861,
    0.07665860800278021,
    0.07308224842521703,
)


@numba.njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(cache=True, inline="always")
def _xoshiro_plus(s0, s1, s2, s3):
    """One xoshiro256+ step: (output, new state)."""
    out = s0 + s3
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return out, s0, s1, s2, s3


@numba.njit(cache=True, error_model="numpy", inline="always")
def log_unit(u):
    """``log u`` for a normal double ``u`` in ``(0, 1]`` without a libm call (see the module docstring)."""
    # adding _LOG_OFF carries into the exponent exactly when the mantissa is >= that of 1/sqrt 2: the
    # exponent field is then that of m in [1/sqrt 2, sqrt 2) with u = 2^e m (no compare, no blend)
    b = _as_u64(u) + _LOG_OFF
    m = _as_f64((b & _MANT) + _INV_SQRT2_BITS)  # m - 1 is exact (Sterbenz)
    ef = _as_f64(_TWO52 | (b >> np.uint64(52))) - 4503599627371519.0  # e as a double (2^52 + 1023), exactly
    s = (m - 1.0) / (m + 1.0)
    t = s * s
    t2 = t * t
    t4 = t2 * t2
    # log m = 2s + 2s t T(t): the leading 2s is exact, the tail (< 1 % of it) by Estrin's scheme
    p01 = _fma(t, _LOG_COEFFS[1], _LOG_COEFFS[0])
    p23 = _fma(t, _LOG_COEFFS[3], _LOG_COEFFS[2])
    p45 = _fma(t, _LOG_COEFFS[5], _LOG_COEFFS[4])
    p46 = _fma(t2, _LOG_COEFFS[6], p45)
    tail = _fma(t4, p46, _fma(t2, p23, p01))
    two_s = 2.0 * s
    log_m = _fma(two_s * t, tail, two_s)
    return ef * _LN2_HI + _fma(ef, _LN2_LO, log_m)


@numba.njit(cache=True, error_model="numpy", inline="always")
def sincos_quarter(phi):
    """``(sin phi, cos phi)`` for ``|phi| <= pi/4`` by near-minimax polynomials (Estrin, fma)."""
    z = phi * phi
    z2 = z * z
    z4 = z2 * z2
    # sin phi = phi + phi z P(z)
    a01 = _fma(z, _SIN_COEFFS[1], _SIN_COEFFS[0])
    a23 = _fma(z, _SIN_COEFFS[3], _SIN_COEFFS[2])
    a45 = _fma(z, _SIN_COEFFS[5], _SIN_COEFFS[4])
    sn = _fma(phi * z, _fma(z4, a45, _fma(z2, a23, a01)), phi)
    # cos phi = 1 - z C(z)
    b01 = _fma(z, _COS_COEFFS[1], _COS_COEFFS[0])
    b23 = _fma(z, _COS_COEFFS[3], _COS_COEFFS[2])
    b45 = _fma(z, _COS_COEFFS[5], _COS_COEFFS[4])
    b46 = _fma(z2, _COS_COEFFS[6], b45)
    cs = _fma(-z, _fma(z4, b46, _fma(z2, b23, b01)), 1.0)
    return sn, cs


@numba.njit(cache=True, error_model="numpy", inline="always")
def box_muller(o1, o2):
    """Two independent N(0, 1) from two uniform 64-bit words (see the module docstring)."""
    u = 2.0 - _as_f64(_ONE | (o1 >> np.uint64(12)))  # 1 - k 2^-52, k = top 52 bits of o1: in (0, 1]
    r = _sqrt(-2.0 * log_unit(u))
    phi = (_as_f64(_ONE | ((o2 >> np.uint64(10)) & _MANT)) - 1.5) * _PIO2  # in [-pi/4, pi/4)
    sn, cs = sincos_quarter(phi)
    # quadrant q = top 2 bits of o2, theta = q pi/2 + phi: (cos, sin) theta = (c, s) with
    # (c, s) = (cos phi, sin phi) for even q, (sin phi, cos phi) for odd q (bit 62 of o2, moved to the
    # sign bit, which is what a vector blend tests), cos theta < 0 for q = 1, 2 (bit 63 of o2 + 2^62),
    # sin theta < 0 for q = 2, 3 (bit 63 of o2); signs are applied by flipping the sign bit
    odd = np.int64(o2 << np.uint64(1)) < 0
    c = sn if odd else cs
    s = cs if odd else sn
    c = _as_f64(_as_u64(c) ^ ((o2 + _QUARTER) & _SIGN))
    s = _as_f64(_as_u64(s) ^ (o2 & _SIGN))
    return r * c, r * s


@numba.njit(cache=True, error_model="numpy")
def lane_state(seed, lanes):
    """The (4, lanes) xoshiro256+ states: consecutive SplitMix64 outputs from ``seed``."""
    st = np.empty((4, lanes), dtype=np.uint64)
    z = np.uint64(seed)
    for p in range(lanes):
        for k in range(4):
            z = z + _GOLDEN
            x = z
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            st[k, p] = x ^ (x >> np.uint64(31))
    return st


@numba.njit(cache=True, error_model="numpy", inline="always")
def _lane_normals(state, p):
    """The next four normals of lane ``p``, advancing its state ``state[:, p]`` four xoshiro256+ steps.

    Two Box-Muller pairs per lane and call: two independent dependency chains per iteration, which
    the out-of-order core overlaps.
    """
    s0, s1, s2, s3 = state[0, p], state[1, p], state[2, p], state[3, p]
    o1, s0, s1, s2, s3 = _xoshiro_plus(s0, s1, s2, s3)
    o2, s0, s1, s2, s3 = _xoshiro_plus(s0, s1, s2, s3)
    o3, s0, s1, s2, s3 = _xoshiro_plus(s0, s1, s2, s3)
    o4, s0, s1, s2, s3 = _xoshiro_plus(s0, s1, s2, s3)
    state[0, p] = s0
    state[1, p] = s1
    state[2, p] = s2
    state[3, p] = s3
    a, b = box_muller(o1, o2)
    c, e = box_muller(o3, o4)
    return a, b, c, e


@numba.njit(cache=True, error_model="numpy")
def fill_normals(state, out):
    """Overwrite ``out`` (4, lanes) with iid N(0, 1), advancing every lane of ``state`` (4, lanes) 4 steps."""
    _fill_lanes(state, out, 0, state.shape[1])


@numba.njit(cache=True, error_model="numpy")
def _fill_lanes(state, out, p0, p1):
    """``fill_normals`` for the lanes ``p0 <= p < p1`` only."""
    # unsigned lane indices: with a signed start LLVM keeps numba's negative-index wraparound branch
    # and does not vectorise the loop (5x slower)
    for p in range(np.uint64(p0), np.uint64(p1)):
        a, b, c, e = _lane_normals(state, p)
        out[0, p] = a
        out[1, p] = b
        out[2, p] = c
        out[3, p] = e


@numba.njit(cache=True, error_model="numpy", nogil=True)
def fill_block(state, out, rows, p0, p1):
    """Rows ``0 .. rows-1`` of ``out`` (block, 4, lanes): ``out[t]`` is what the ``t``-th next call of
    ``fill_normals`` would write, for the lanes ``p0 <= p < p1`` only.

    Lanes are independent streams, so disjoint lane ranges can be filled by different threads at the
    same time, in any split, and give the same numbers as one thread filling them all. Releases the GIL.
    """
    for t in range(rows):
        _fill_lanes(state, out[t], p0, p1)


def lanes_for(n: int) -> int:
    """Lanes needed for ``n`` normals per call (4 per lane)."""
    return (n + 3) // 4


@numba.njit(cache=True, error_model="numpy")
def normals(seed, n, lanes=128):
    """``n`` standard normals from the lanes seeded with ``seed`` (for tests), in generation order."""
    st = lane_state(seed, lanes)
    buf = np.empty((4, lanes))
    flat = buf.reshape(-1)
    out = np.empty(n)
    k = 0
    while k < n:
        fill_normals(st, buf)
        m = min(n - k, 4 * lanes)
        out[k:k + m] = flat[:m]
        k += m
    return out
