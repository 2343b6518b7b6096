"""single_index.*: time_to_overlap and overlap (mpmath, round trips), escape times, the ReLU flow."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive

UNIT = 2.0**-52


@st.composite
def overlaps(draw):
    m0 = draw(st.floats(1e-4, 0.99))
    m = m0 + (0.999 - m0) * draw(st.floats(0.0, 1.0))
    return m0, m


@settings(max_examples=40)
@given(k=st.integers(1, 10), a=st.floats(0.01, 100.0), mm=overlaps())
@example(k=1, a=1.0, mm=(0.3, 0.3))
@example(k=7, a=1.0, mm=(1e-3, 1e-3 * (1 + 1e-12)))
def test_time_to_overlap_matches_mpmath(k, a, mm):
    m0, m = mm
    res = derive.get("single_index.time_to_overlap")
    ref = float(res.mp(dps=30, k=k, a=a, m0=m0, m=m))
    got = float(res.evaluate(k=k, a=a, m0=m0, m=m))
    assert abs(got - ref) <= 64 * UNIT * abs(ref)


@settings(max_examples=40)
@given(k=st.integers(1, 2), a=st.floats(0.05, 20.0), m0=st.floats(1e-3, 0.9), t=st.floats(0.0, 3.0))
@example(k=2, a=1.0, m0=0.5, t=0.0)
def test_overlap_inverts_time_to_overlap(k, a, m0, t):
    m = float(derive.get("single_index.overlap").evaluate(k=k, a=a, m0=m0, t=t))
    if m >= 1.0 - 1e-6:  # saturated: the inverse is ill-conditioned there
        return
    m = max(m, m0)  # tanh(artanh m0 + tiny) may round below m0
    back = float(derive.get("single_index.time_to_overlap").evaluate(k=k, a=a, m0=m0, m=m))
    # dt/dm = 1/(a m^(k-1)(1-m^2)) amplifies the rounding of m
    assert abs(back - t) <= 8 * UNIT * (t + m / (a * m ** (k - 1) * (1 - m * m)))


def test_overlap_negative_rate_and_large_time():
    o = derive.get("single_index.overlap")
    assert float(o.evaluate(k=2, a=-1.0, m0=0.5, t=1e6)) == 0.0  # decays to the saddle, no NaN
    assert float(o.evaluate(k=1, a=1.0, m0=-0.5, t=1e3)) == 1.0


def test_constraints_and_domains():
    with pytest.raises(ValueError, match="^m:"):
        derive.get("single_index.time_to_overlap").evaluate(k=3, a=1.0, m0=0.5, m=0.4)
    with pytest.raises(ValueError, match="^k:"):
        derive.get("single_index.overlap").evaluate(k=3, a=1.0, m0=0.5, t=1.0)
    with pytest.raises(ValueError, match="^d:"):
        derive.get("single_index.escape_time").evaluate(k=3, a=1.0, d=4.0)


def test_predicted_steps_scaling():
    ps = derive.get("single_index.predicted_steps")
    d = np.array([1e4, 1e6])
    for k, want in ((1, 1.0), (3, 2.0), (4, 3.0)):
        s = ps.evaluate(k=k, a=1.0, d=d, c_eta=0.5)["steps"]
        slope = math.log(s[1] / s[0]) / math.log(100.0)
        assert abs(slope - want) < 0.02
    s = ps.evaluate(k=2, a=1.0, d=d, c_eta=0.5)["steps"]
    assert abs(s[1] / s[0] / (100 * 1.5) - 1) < 0.05  # d log d


def test_drift_terms():
    dr = derive.get("single_index.drift")
    # h_2 teacher and student: (1 - m^2) 2m - eta d C m / 2
    m = np.array([-1.0, 0.0, 0.3, 1.0])
    got = dr.evaluate(c=[0.0, 0.0, 1.0], c_star=[0.0, 0.0, 1.0], m=m, eta=1e-3, d=100.0, C=2.0)
    np.testing.assert_allclose(got, (1 - m**2) * 2 * m - 0.1 * m, rtol=1e-15, atol=1e-17)


@settings(max_examples=15)
@given(th0=st.floats(0.0, math.pi), r0=st.floats(0.05, 5.0), u=st.floats(0.1, 4.0), t=st.floats(0.0, 30.0))
@example(th0=math.pi / 2, r0=1.0, u=1.0, t=5.0)
def test_relu_flow_scaling_symmetry(th0, r0, u, t):
    """r = u rho with rho solving the u = 1 flow from r0/u (the flow is homogeneous in (r, u))."""
    f = derive.get("single_index.relu_flow")
    a = f.evaluate(theta0=th0, r0=r0, u_norm=u, t=t)
    b = f.evaluate(theta0=th0, r0=r0 / u, u_norm=1.0, t=t)
    assert abs(float(a["theta"]) - float(b["theta"])) <= 1e-10
    assert abs(float(a["r"]) - u * float(b["r"])) <= 1e-10 * max(1.0, u)


def test_relu_flow_aligned_start_relaxes_exponentially():
    """theta0 = 0 stays at 0 and r = u + (r0 - u) e^{-t} (g(0) = 1/2)."""
    t = np.array([0.0, 0.5, 2.0, 10.0])
    out = derive.get("single_index.relu_flow").evaluate(theta0=0.0, r0=3.0, u_norm=1.5, t=t)
    np.testing.assert_array_equal(out["theta"], 0.0)
    np.testing.assert_allclose(out["r"], 1.5 + 1.5 * np.exp(-t), rtol=1e-11, atol=0)


def test_relu_flow_latex_and_domain():
    f = derive.get("single_index.relu_flow")
    assert r"\dot\theta" in f.latex()
    with pytest.raises(ValueError, match="^theta0:"):
        f.evaluate(theta0=4.0, r0=1.0, u_norm=1.0, t=1.0)
