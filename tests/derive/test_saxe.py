"""saxe.*: the balanced depth-N chain."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive

TIME = derive.get("saxe.depth_chain_time")
CHAIN = derive.get("saxe.depth_chain")


def antiderivative_scale(N, s, u0):
    """Size of the antiderivative's terms at u0, O(u0^(2/N-1)/s + |ln u0|/s): their float64 rounding
    is what a difference T(u) - T(u0) cannot beat."""
    return (abs(u0 ** (2.0 / N - 1.0)) + abs(math.log(u0)) + 1.0) / s


def test_two_layers_is_saxe():
    s, u0, u = 2.0, 0.01, np.array([0.1, 0.5, 1.9])
    saxe = np.log(u * (s - u0) / (u0 * (s - u))) / (2 * s)
    assert TIME.evaluate(N=2, s=s, u0=u0, u=u) == pytest.approx(saxe, rel=1e-13)


@settings(max_examples=40, deadline=None)
@given(N=st.integers(2, 12), ls=st.floats(-2, 2), lu0=st.floats(-6, -0.05), frac=st.floats(0, 0.999))
@example(N=3, ls=0.0, lu0=-6.0, frac=0.999)
@example(N=5, ls=0.0, lu0=-0.0625, frac=0.999)  # u near s: an ulp of u moves t by 3e-13, above the first term
@example(N=4, ls=-2.0, lu0=-0.125, frac=0.998046875)  # the same at s = 0.01 (error 1.8e-10)
def test_time_matches_twin(N, ls, lu0, frac):
    s = 10.0**ls
    u0 = 10.0**lu0 * s
    u = u0 + frac * (s - u0)
    t = float(TIME.evaluate(N=N, s=s, u0=u0, u=u))
    ref = float(TIME.mp(dps=40, N=N, s=s, u0=u0, u=u))
    assert abs(t - ref) <= 1e-13 * max(abs(ref), antiderivative_scale(N, s, u0)) + input_rounding(N, s, u0, u)


def input_rounding(N, s, u0, u):
    """What an ulp in each input moves the time by: 4 * 2^-52 * sum over x in (s, u0, u) of |x dT/dx|, the
    derivatives by differences of the kernel itself (ample for a bound). Near u = s the time is
    ill-conditioned (dT/du ~ 1/(s - u)) and no evaluation can do better."""
    base = {"N": N, "s": s, "u0": u0, "u": u}

    def time(**kw):
        return float(TIME.evaluate(**(base | kw)))

    total = 0.0
    for k in ("s", "u0", "u"):
        x = base[k]
        step = 1e-6 * abs(x)
        slopes = []
        for a, b in ((x + step, x - step), (x + step, x), (x, x - step)):
            try:
                slopes.append(abs(time(**{k: a}) - time(**{k: b})) / (a - b))
                break
            except ValueError:  # a perturbation leaving the domain (u beyond s, u0 beyond u): one-sided
                continue
        total += abs(x) * (slopes[0] if slopes else 0.0)
    return 4 * 2.0**-52 * total


@settings(max_examples=40)
@given(N=st.integers(2, 8), lu0=st.floats(-4, 0.5), lt=st.floats(-4, 2))
@example(N=4, lu0=0.3, lt=1.0)   # from above s
@example(N=5, lu0=0.0, lt=0.0)   # starting at s
def test_chain_inverts_time(N, lu0, lt):
    s, u0, t = 1.0, 10.0**lu0, 10.0**lt
    u = float(CHAIN.evaluate(N=N, s=s, u0=u0, t=t))
    assert math.isfinite(u)
    if u0 == s:
        assert u == s
        return
    # the kernel solves for one weight v = u^(1/N) (v and rho = s^(1/N) each carry an ulp), so
    # u = v^N is within about 2N + 2 ulps of the exact solution: t lies between the times to reach
    # u -+ that many ulps (time_to_learn is monotone on the side of s where the chain moves)
    lo, hi = u, u
    for _ in range(2 * N + 2):
        lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
    ends = []
    for x in (lo, hi):
        if (u0 <= x < s) or (s < x <= u0):
            ends.append(float(TIME.evaluate(N=N, s=s, u0=u0, u=x)))
        else:  # behind the start: reached at time 0; at or beyond s: never
            ends.append(math.inf if (x - s) * (u0 - s) <= 0 else 0.0)
    slack = 16 * 2.0**-52 * (t + antiderivative_scale(N, s, u0))
    assert min(ends) <= t + slack and max(ends) >= t - slack


@pytest.mark.parametrize("N, name, condition", [(1, "N", ">= 2"), (2.5, "N", "integer"), (math.nan, "N", "NaN")])
def test_invalid_depth(N, name, condition):
    with pytest.raises(ValueError, match=rf"^{name}: .*{condition}"):
        TIME.evaluate(N=N, s=1.0, u0=0.1, u=0.5)


def test_invalid_targets():
    with pytest.raises(ValueError, match=r"^u: .*between u0"):
        TIME.evaluate(N=3, s=1.0, u0=0.1, u=1.0)
    with pytest.raises(ValueError, match=r"^u0: must be > 0"):
        CHAIN.evaluate(N=3, s=1.0, u0=-0.1, t=1.0)
