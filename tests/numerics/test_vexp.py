"""The libm-free exp and expm1 (numerics._vexp): ulps against mpmath over the whole double range,
special values, the polynomial's truncation bound, and that the loop calling them vectorises."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._vexp import _C, vexp_array, vexpm1_array

SUBNORMAL = 2.0**-1074
LOG_MAX = math.log(np.finfo(float).max)


def _ulps(got, exact):
    """|got - exact| in units of the last place of the correctly rounded exact value (subnormals: of 2^-1074)."""
    ref = float(exact)
    if math.isinf(ref):
        return 0.0 if got == ref else math.inf
    return float(abs(mpmath.mpf(got) - exact)) / max(math.ulp(ref), SUBNORMAL)


def _check(fn, mp_fn, xs, bound):
    got = fn(np.asarray(xs, dtype=float))
    with mpmath.workdps(50):
        for g, x in zip(got, xs):
            err = _ulps(g, mp_fn(mpmath.mpf(x)))
            assert err <= bound, (x, g, err)


EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 2.0**-60, -2.0**-60, 0.34657359027997264,
         -0.34657359027997264, 1.0, -1.0, 36.7, -36.7, -40.0, -40.5, LOG_MAX, math.nextafter(LOG_MAX, 0),
         709.0, -708.39, -708.4, -720.0, -744.4, -745.13, -745.14, -1000.0, 1e300, -1e300]


@settings(max_examples=300, deadline=None)
@given(x=st.floats(-760.0, 720.0) | st.floats(allow_nan=False, allow_infinity=False)
       | st.floats(-1e-3, 1e-3))
@example(x=EDGES[0])
def test_exp_within_one_ulp(x):
    # exp(x) = 2^k (1 + expm1(r)): 1 + expm1(r) rounds once (half an ulp) on top of the polynomial's
    # ~0.1 ulp; a subnormal result rounds once more, absolutely, by at most half of 2^-1074
    _check(vexp_array, mpmath.exp, [x], 1.0)


@pytest.mark.parametrize("x", EDGES)
def test_exp_edges(x):
    _check(vexp_array, mpmath.exp, [x], 1.0)


@settings(max_examples=300, deadline=None)
@given(x=st.floats(-60.0, 0.0) | st.floats(-1e-3, 0.0) | st.floats(max_value=0.0, allow_nan=False))
@example(x=-0.0)
def test_expm1_within_one_ulp_for_nonpositive_arguments(x):
    # the solver's case: for k <= 0 the result 2 (2^(k-1) p + 2^(k-1) - 1/2) has no cancellation beyond one rounding
    _check(vexpm1_array, mpmath.expm1, [x], 1.0)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(0.0, 720.0) | st.floats(allow_nan=False, allow_infinity=False))
def test_expm1_within_two_ulps(x):
    # for k = 1, 2 (0.35 < x < 1.8) 2^k (1 + expm1(r)) - 1 cancels up to one bit of expm1(r)'s own rounding
    _check(vexpm1_array, mpmath.expm1, [x], 2.0)


@pytest.mark.parametrize("x", EDGES)
def test_expm1_edges(x):
    _check(vexpm1_array, mpmath.expm1, [x], 1.0 if x <= 0.0 else 2.0)


def test_tiny_arguments_keep_full_relative_accuracy():
    x = np.array([1e-300, -1e-300, 5e-324, -2.0**-1000, 1e-20])
    np.testing.assert_array_equal(vexpm1_array(x), x)  # expm1(x) = x (1 + x/2 + ...) rounds to x
    np.testing.assert_array_equal(vexp_array(x), np.ones(x.size))


def test_special_values_and_overflow():
    x = np.array([np.inf, -np.inf, np.nan, 710.0, 1e308, math.nextafter(LOG_MAX, math.inf), -746.0, -1e308])
    e = vexp_array(x)
    assert e[0] == math.inf and e[1] == 0.0 and math.isnan(e[2])
    assert np.all(e[3:6] == math.inf)  # the Bregman solver relies on inf when exp overflows
    assert np.all(e[6:] == 0.0)
    m = vexpm1_array(x)
    assert m[0] == math.inf and m[1] == -1.0 and math.isnan(m[2])
    assert np.all(m[3:6] == math.inf) and np.all(m[6:] == -1.0)
    assert vexp_array(np.array([LOG_MAX]))[0] < math.inf  # the largest finite result stays finite


def test_polynomial_degree_is_needed_and_sufficient():
    """The Taylor polynomial of expm1 on |r| <= log(2)/2 (1 + 2^-40): degree 13 is within
    expm1(r) to 0.15 ulp (0.114 with its coefficients rounded to doubles), degree 12 is not within 2 ulps (5: so a
    dropped term fails)."""
    with mpmath.workdps(40):
        rmax = mpmath.log(2) / 2 * (1 + mpmath.mpf(2) ** -40)
        grid = [rmax * mpmath.mpf(j) / 64 for j in range(-64, 65) if j]

        def rel_err(deg):
            coeffs = [mpmath.mpf(c) for c in _C[: deg - 1]]  # the doubles actually used, 1/m! for m = 2..deg
            worst = 0
            for r in grid:
                p = r + r**2 * sum(c * r**m for m, c in enumerate(coeffs))
                worst = max(worst, abs(p / mpmath.expm1(r) - 1))
            return float(worst)

        u = 2.0**-53
        assert rel_err(13) <= 0.15 * u
        assert rel_err(12) > 2 * u


def test_dual_state_loop_vectorises():
    """The point of the module: _dual_state_into's loop compiles to packed (ymm/xmm) arithmetic, not libm calls."""
    import numba

    from numerics._bregman import _dual_state_into

    # a fresh, uncached compilation of the same source (Numba cannot inspect code loaded from its cache)
    fresh = numba.njit(error_model="numpy")(_dual_state_into.py_func)
    u = np.linspace(-3, 3, 16)
    fresh(np.zeros(16), u, np.empty(16), np.empty(16))
    asm = fresh.inspect_asm(fresh.signatures[0])
    # libm's exp/expm1 would appear as symbol addresses (``movabsq $exp, %r14``; calls are indirect)
    assert not any("$exp" in line for line in asm.splitlines())
    # packed-double arithmetic (``...pd``; scalar code would use ``...sd`` only)
    mnemonics = {line.split()[0] for line in asm.splitlines() if line.strip() and not line.startswith((".", "#"))}
    assert any(m.endswith("pd") and ("fmadd" in m or "mul" in m) for m in mnemonics)
