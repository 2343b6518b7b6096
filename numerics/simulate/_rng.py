"""Fast per-run random numbers inside Numba loops: xoshiro256** with a ziggurat normal.

Numba's ``np.random.standard_normal`` costs about 50 ns here (polar method, shared thread
state); online SGD draws ``d`` normals per step, so it dominated. Each run owns a state array
(four uint64) seeded by SplitMix64 from its own seed, so results do not depend on threads.

* :func:`next_u64` - xoshiro256** (Blackman & Vigna 2018);
* :func:`uniform` - 53-bit uniform on (0, 1);
* :func:`normal` - Marsaglia & Tsang's (2000) ziggurat with 128 strips, using the low 7 bits for
  the strip and the high 32 bits for the abscissa (independent bits, avoiding the original's
  correlation between them);
* :func:`gamma` - Marsaglia & Tsang's (2000) gamma(shape, 1) method (shape < 1 by boosting);
* :func:`chi2` - ``2 gamma(k/2)``.

The tests check moments in z standard errors and the normal CDF by Kolmogorov-Smirnov.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def _ziggurat_tables():
    r, v = 3.442619855899, 9.91256303526217e-3
    m1 = 2147483648.0
    kn = np.zeros(128, dtype=np.int64)
    wn = np.zeros(128)
    fn = np.zeros(128)
    dn = tn = r
    q = v / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn, r


KN, WN, FN, ZIG_R = _ziggurat_tables()


@numba.njit(cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(cache=True)
def seed_state(seed):
    """Four uint64 of xoshiro256** state from an integer seed (SplitMix64)."""
    s = np.empty(4, dtype=np.uint64)
    z = np.uint64(seed)
    for i in range(4):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        x = z
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        s[i] = x ^ (x >> np.uint64(31))
    return s


@numba.njit(cache=True)
def next_u64(s):
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@numba.njit(cache=True)
def uniform(s):
    """Uniform on (0, 1): 53 random bits, offset by half a unit so 0 never occurs."""
    return ((next_u64(s) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, error_model="numpy")
def _normal_tail(s, hz, iz):
    kn, wn, fn, r = KN, WN, FN, ZIG_R
    while True:
        x = hz * wn[iz]
        if iz == 0:
            while True:
                x = -math.log(uniform(s)) / r
                y = -math.log(uniform(s))
                if y + y >= x * x:
                    break
            return r + x if hz > 0 else -r - x
        if fn[iz] + uniform(s) * (fn[iz - 1] - fn[iz]) < math.exp(-0.5 * x * x):
            return x
        u = next_u64(s)
        iz = np.int64(u & np.uint64(127))
        hz = np.int64(np.int32(np.uint32(u >> np.uint64(32))))
        if abs(hz) < kn[iz]:
            return hz * wn[iz]


@numba.njit(cache=True, error_model="numpy")
def normal(s):
    """A standard normal (the ziggurat tables are compile-time constants: passing arrays costs refcounts)."""
    kn, wn = KN, WN
    u = next_u64(s)
    iz = np.int64(u & np.uint64(127))
    hz = np.int64(np.int32(np.uint32(u >> np.uint64(32))))
    if abs(hz) < kn[iz]:
        return hz * wn[iz]
    return _normal_tail(s, hz, iz)


@numba.njit(cache=True, error_model="numpy")
def gamma(s, shape):
    """Gamma(shape, 1) by Marsaglia & Tsang; shape < 1 via Gamma(shape + 1) U^(1/shape)."""
    boost = 1.0
    a = shape
    if a < 1.0:
        boost = uniform(s) ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(s)
        if u < 1.0 - 0.0331 * x * x * x * x or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v * boost


@numba.njit(cache=True, error_model="numpy")
def chi2(s, k):
    """Chi-square with k > 0 degrees of freedom (0 for k = 0)."""
    if k <= 0.0:
        return 0.0
    return 2.0 * gamma(s, 0.5 * k)


@numba.njit(cache=True)
def normals(seed, n):
    """n standard normals from one seeded stream (for tests)."""
    s = seed_state(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = normal(s)
    return out


@numba.njit(cache=True)
def chi2s(seed, n, k):
    """n chi-square(k) variates from one seeded stream (for tests)."""
    s = seed_state(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = chi2(s, k)
    return out
