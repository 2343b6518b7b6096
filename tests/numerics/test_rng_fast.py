"""Lane-parallel normals (xoshiro256+ lanes, branch-free Box-Muller): the elementary functions in ulps
against libm, the normal law (moments in z standard errors, Kolmogorov-Smirnov at alpha = 1e-4, pair
and lag independence), seeding, and a mutation that the distribution checks must catch."""

import math

import numba
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from numerics.simulate import _rng_fast

EPS = np.finfo(float).eps
Z = 4.5  # z-score bound for Monte Carlo checks (two-sided p ~ 7e-6 each)
KS_ALPHA = 1e-4


@numba.njit
def _log_many(u):
    out = np.empty_like(u)
    for i in range(u.size):
        out[i] = _rng_fast.log_unit(u[i])
    return out


@numba.njit
def _sincos_many(phi):
    s = np.empty_like(phi)
    c = np.empty_like(phi)
    for i in range(phi.size):
        s[i], c[i] = _rng_fast.sincos_quarter(phi[i])
    return s, c


@numba.njit
def _box_muller_many(o1, o2):
    a = np.empty(o1.size)
    b = np.empty(o1.size)
    for i in range(o1.size):
        a[i], b[i] = _rng_fast.box_muller(o1[i], o2[i])
    return a, b


def _ulps(got, ref):
    """|got - ref| in units of the spacing at ref (ref from libm, itself within 1 ulp)."""
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_log_unit_within_two_ulps():
    rng = np.random.default_rng(0)
    k = rng.integers(1, 2**52, size=200_000, dtype=np.uint64)
    u = 1.0 - k.astype(float) * 2.0**-52  # the generator's grid, (0, 1]
    edges = np.array([2.0**-52, 2.0**-26, 0.5, 1 / math.sqrt(2), np.nextafter(1 / math.sqrt(2), 1), 1 - 2.0**-52,
                      0.75, 0.25, np.nextafter(0.5, 0), 1.0])
    u = np.concatenate([u[u < 1.0], edges[edges < 1.0]])
    assert _ulps(_log_many(u), np.log(u)).max() <= 2.0
    assert _log_many(np.array([1.0]))[0] == 0.0


def test_sincos_within_two_ulps_on_the_quarter():
    phi = np.concatenate([np.linspace(-math.pi / 4, math.pi / 4, 200_001), [1e-300, -1e-8, 1e-5]])
    s, c = _sincos_many(phi)
    nz = phi != 0.0
    assert _ulps(s[nz], np.sin(phi[nz])).max() <= 2.0
    assert _ulps(c, np.cos(phi)).max() <= 2.0
    # the truncated Taylor series would fail beyond the interval it was built for: a check that can fail
    s2, _ = _sincos_many(np.array([3.0]))
    assert abs(s2[0] - math.sin(3.0)) > 1e-10


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
@example(0, 0)
@example(2**64 - 1, 2**64 - 1)
@example(2**63, 2**62)
@example(0, 2**63 + 2**62)
def test_box_muller_is_the_formula_on_the_bits(o1, o2):
    """(x, y) = sqrt(-2 log U) (cos, sin)(q pi/2 + phi) with U, q, phi read from the bits as documented."""
    a, b = _box_muller_many(np.array([o1], dtype=np.uint64), np.array([o2], dtype=np.uint64))
    u = 1.0 - (o1 >> 12) * 2.0**-52
    r = math.sqrt(-2.0 * math.log(u))
    v = ((o2 >> 10) & (2**52 - 1)) * 2.0**-52
    theta = (o2 >> 62) * math.pi / 2 + (v - 0.5) * math.pi / 2
    # log/sin/cos within 2 ulp, sqrt halves the relative error of its argument, one product: 4 eps
    tol = 4 * EPS * r + 1e-300
    assert abs(a[0] - r * math.cos(theta)) <= tol + 2 * EPS * r
    assert abs(b[0] - r * math.sin(theta)) <= tol + 2 * EPS * r


def _law_z_scores(x):
    """z-scores of the sample mean, variance, 4th moment and P(|x| > 2) against N(0, 1), and the KS p-value."""
    n = x.size
    p2 = 2 * stats.norm.sf(2.0)
    return {
        "mean": x.mean() / math.sqrt(1 / n),
        "var": (x.var() - 1) / math.sqrt(2 / n),
        "m4": (np.mean(x**4) - 3) / math.sqrt(96 / n),  # Var x^4 = 105 - 9
        "tail2": (np.mean(np.abs(x) > 2.0) - p2) / math.sqrt(p2 * (1 - p2) / n),
    }, stats.kstest(x, "norm").pvalue


def test_normals_follow_the_standard_normal_law():
    x = _rng_fast.normals(12345, 1_000_000)
    z, p = _law_z_scores(x)
    assert max(abs(v) for v in z.values()) < Z, z
    assert p > KS_ALPHA
    # Box-Muller partners (out[0, p], out[1, p]) and consecutive normals of a lane are independent:
    # E[x y] = 0 and E[x^2 y^2] = 1 (Var(x y) = 1, Var(x^2 y^2) = 9*9 - 1 = 80)
    buf = x[: (x.size // 512) * 512].reshape(-1, 4, 128)
    for a, b in ((buf[:, 0], buf[:, 1]), (buf[:, 1], buf[:, 2]), (buf[:-1, 3], buf[1:, 0])):
        a, b = a.ravel(), b.ravel()
        assert abs(np.mean(a * b)) / math.sqrt(1 / a.size) < Z
        assert abs(np.mean(a * a * b * b) - 1) / math.sqrt(80 / a.size) < Z


def test_the_law_checks_catch_a_wrong_scale_and_a_wrong_quadrant():
    """Mutations: 1% too wide, or the sign of one quadrant's sine flipped (breaks pair independence)."""
    x = _rng_fast.normals(12345, 1_000_000)
    z, _ = _law_z_scores(1.01 * x)
    assert abs(z["var"]) > Z
    # a generator whose angle stays in the upper half plane: y >= 0 for every pair (law of y is |N|)
    y = np.abs(x[: (x.size // 512) * 512].reshape(-1, 4, 128)[:, 1].ravel())
    z, p = _law_z_scores(y)
    assert abs(z["mean"]) > Z and p < KS_ALPHA


def test_seeding_is_reproducible_and_lanes_differ():
    a = _rng_fast.normals(7, 4096)
    np.testing.assert_array_equal(a, _rng_fast.normals(7, 4096))
    assert not np.array_equal(a, _rng_fast.normals(8, 4096))
    st = _rng_fast.lane_state(7, 128)
    assert len({tuple(col) for col in st.T}) == 128  # distinct lane states
    buf = np.empty((4, 128))
    _rng_fast.fill_normals(st, buf)
    np.testing.assert_array_equal(buf.ravel(), a[:512])  # normals() is fill_normals in order


@pytest.mark.parametrize("n", [1, 3, 513])
def test_normals_length(n):
    assert _rng_fast.normals(1, n).shape == (n,)
    assert _rng_fast.lanes_for(n) * 4 >= n


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**63 - 1), st.integers(1, 40), st.data())
@example(3, 33, None)
def test_fill_block_on_lane_ranges_is_fill_normals(seed, lanes, data):
    """Disjoint lane ranges filled in any order give what successive fill_normals calls give, and
    leave the lane states where they leave them."""
    cut = lanes // 2 if data is None else data.draw(st.integers(0, lanes))
    rows = 3
    ref_state = _rng_fast.lane_state(seed, lanes)
    ref = np.empty((rows, 4, lanes))
    for t in range(rows):
        _rng_fast.fill_normals(ref_state, ref[t])
    state = _rng_fast.lane_state(seed, lanes)
    out = np.empty((rows, 4, lanes))
    _rng_fast.fill_block(state, out, rows, cut, lanes)  # the upper part first
    _rng_fast.fill_block(state, out, rows, 0, cut)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(state, ref_state)


@pytest.mark.parametrize("name, coeffs", [("sin", _rng_fast._SIN_COEFFS), ("cos", _rng_fast._COS_COEFFS),
                                          ("log", _rng_fast._LOG_COEFFS)])
def test_polynomial_coefficients_regenerate_and_meet_their_error_bound(name, coeffs):
    """The stored coefficients are what the fitting script gives; their relative error is within the
    budget the module states (and one degree less would not be)."""
    from numerics.simulate import _rng_fast_fit

    assert _rng_fast_fit.fit(name) == coeffs
    bound = {"sin": 3e-16, "cos": 3e-18, "log": 6e-16}[name]
    assert _rng_fast_fit.relative_error(name, coeffs, points=201) <= bound
    lower = _rng_fast_fit.fit(name, _rng_fast_fit.DEGREES[name] - 1)
    assert _rng_fast_fit.relative_error(name, lower, points=201) > 100 * bound
