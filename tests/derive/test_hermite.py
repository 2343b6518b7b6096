"""hermite.*: ReLU coefficients (closed form, recurrence, large j), monomials, Mehler series, exponents."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from derive import _hermite as hm
from proofs._hermite import relu_log_terms

UNIT = 2.0**-52


@settings(max_examples=50)
@given(half=st.integers(1, 200_000))
@example(half=1)
@example(half=2)
def test_relu_ratio_of_consecutive_even_coefficients(half):
    """c_{j+2}/c_j = -(j - 1)/sqrt((j + 1)(j + 2)) for even j >= 2 (from (j-3)!! and j!)."""
    j = 2 * half
    c = derive.get("hermite.relu").evaluate(j=np.array([j, j + 2], dtype=float))
    ratio = -(j - 1) / math.sqrt((j + 1) * (j + 2))
    bound = 8 * UNIT * (1 + relu_log_terms(j + 2))  # both coefficients carry their log-gamma rounding
    assert abs(c[1] / c[0] - ratio) <= bound * abs(ratio)


@settings(max_examples=30)
@given(j=st.integers(0, 400))
@example(j=0)
@example(j=1)
@example(j=3)
def test_relu_matches_mpmath(j):
    res = derive.get("hermite.relu")
    ref = float(res.mp(dps=30, j=j))
    got = float(res.evaluate(j=j))
    assert abs(got - ref) <= 4 * UNIT * (1 + relu_log_terms(j)) * abs(ref) if j >= 2 else got == pytest.approx(ref, rel=UNIT)


def test_relu_parseval_and_odd_zeros():
    c = derive.get("hermite.relu").evaluate(j=np.arange(2000))
    assert np.all(c[3::2] == 0.0)
    s = math.fsum(c**2)
    assert 0.5 - 1e-5 < s < 0.5  # E relu(z)^2 = 1/2, tail positive


def test_relu_domain():
    with pytest.raises(ValueError, match="^j:"):
        derive.get("hermite.relu").evaluate(j=1.5)
    with pytest.raises(ValueError, match="^j:"):
        derive.get("hermite.relu").evaluate(j=-2)


def test_monomial_and_polynomial_coefficients():
    # z^3 = sqrt(6) h_3 + 3 h_1
    c = derive.get("hermite.monomial").evaluate(n=3, j=np.arange(5))
    np.testing.assert_allclose(c, [0, 3, 0, math.sqrt(6), 0], rtol=4 * UNIT, atol=0)
    assert [str(x) for x in hm.polynomial_coefficients([0, -3, 0, 1])] == ["0", "0", "0", "sqrt(6)"]


def test_quadrature_recovers_a_hermite_polynomial():
    f = lambda z: (z**3 - 3 * z) / mpmath.sqrt(6)  # h_3
    c, err = hm.quadrature_coefficients(f, 5, dps=25)
    want = [0, 0, 0, 1, 0, 0]
    assert max(abs(float(a - b)) for a, b in zip(c, want)) < 1e-20
    assert max(err) < 1e-20


def test_mehler_detects_a_wrong_coefficient():
    """Mutation: a 1% error in c_2 moves the Mehler series off kappa_1 beyond its tail bound."""
    c = derive.get("hermite.relu").evaluate(j=np.arange(4000))
    tail = 0.5 - math.fsum(c**2)
    rho = np.linspace(-1, 1, 21)
    k1 = derive.get("relu.kappa1").evaluate(rho=rho, norm_x=1.0, norm_xp=1.0)
    ok = derive.get("hermite.mehler").evaluate(c=c, rho=rho)
    assert np.max(np.abs(ok - k1)) <= tail + 64 * UNIT
    bad = c.copy()
    bad[2] *= 1.01
    assert np.max(np.abs(derive.get("hermite.mehler").evaluate(c=bad, rho=rho) - k1)) > 10 * tail


def test_information_exponent():
    ie = derive.get("hermite.information_exponent")
    assert ie.evaluate(c=[1.0, 0.0, 0.0, 2.0], tol=0.0) == 3
    np.testing.assert_array_equal(ie.evaluate(c=[0.0, 1e-9, 0.5], tol=[0.0, 1e-6]), [1, 2])
    with pytest.raises(ValueError, match="^c:"):
        ie.evaluate(c=[1.0, 0.0, 0.0], tol=0.0)
    with pytest.raises(ValueError, match="^tol:"):
        ie.evaluate(c=[1.0, 1.0], tol=-1.0)
