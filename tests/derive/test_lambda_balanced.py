"""lambda_balanced.*: the compiled kernels against the mpmath twins at 50 digits, and input checks."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from derive._lambda_balanced import LAM_TINY

MODE = derive.get("lambda_balanced.mode")
TIME = derive.get("lambda_balanced.time_to_learn")
LOSS = derive.get("lambda_balanced.loss")

# the domain of the issue: lam in [-1e4, 1e4] (with 0 and +-1e-12 pinned), s in [1e-3, 1e3],
# |a0| in [1e-8 s, 10 s], t in [0, 1e6]; log-uniform where the scale spans decades
lams = st.one_of(st.sampled_from([0.0, 1e-12, -1e-12]),
                 st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False),  # subnormal: refused (below)
                 st.builds(lambda e, sg: sg * 10.0**e, st.floats(-12, 4), st.sampled_from([-1.0, 1.0])))
log_s = st.floats(-3, 3)
log_a0 = st.floats(-8, 1)
signs = st.sampled_from([-1.0, 1.0])
times = st.one_of(st.just(0.0), st.builds(lambda e: 10.0**e, st.floats(-6, 6)))


def close(value, ref, s, rel=1e-11):
    """Relative error <= rel, or absolute <= rel * s where the mode is near a zero crossing."""
    err = abs(value - ref)
    return err <= rel * abs(ref) or err <= rel * s


@settings(max_examples=300)
@given(lam=lams, ls=log_s, la0=log_a0, sign=signs, t=times)
@example(lam=0.0, ls=0.0, la0=-2.0, sign=1.0, t=3.0)
@example(lam=0.0, ls=0.0, la0=-0.3, sign=-1.0, t=30.0)     # lam = 0, a0 < 0: decays to the saddle
@example(lam=1e-12, ls=0.0, la0=-0.3, sign=-1.0, t=1e3)    # tiny lam: crosses late
@example(lam=-1e-12, ls=-3.0, la0=-8.0, sign=-1.0, t=1e6)
@example(lam=1e4, ls=-3.0, la0=-8.0, sign=-1.0, t=1e-6)    # huge lam, tiny mode, small t
@example(lam=-1e4, ls=3.0, la0=1.0, sign=1.0, t=1e6)       # huge t
@example(lam=0.5, ls=0.0, la0=0.0, sign=1.0, t=0.0)        # a0 = s, t = 0
@example(lam=2.2250738585072014e-308, ls=0.0, la0=-1.0, sign=-1.0, t=725.805498474012)  # smallest normal lam
def test_mode_matches_mpmath_twin(lam, ls, la0, sign, t):
    s = 10.0**ls
    a0 = sign * 10.0**la0 * s
    value = float(MODE.evaluate(lam=lam, s=s, a0=a0, t=t))
    ref = float(MODE.mp(dps=50, lam=lam, s=s, a0=a0, t=t))
    assert math.isfinite(value)
    assert close(value, ref, s), (value, ref)


@settings(max_examples=100)
@given(lam=lams, ls=log_s, la0=log_a0, sign=signs, t=times)
@example(lam=0.0, ls=0.0, la0=-2.0, sign=-1.0, t=0.5)
def test_kernel_equals_pure_python(lam, ls, la0, sign, t):
    s, a0 = 10.0**ls, sign * 10.0**la0 * 10.0**ls
    assert MODE.evaluate(lam=lam, s=s, a0=a0, t=t) == pytest.approx(MODE.python(lam=lam, s=s, a0=a0, t=t),
                                                                  rel=4e-16, abs=1e-300)


def test_crossing_and_saddle():
    # lam != 0 lets a negative mode cross zero; lam = 0 leaves it at the saddle
    assert MODE.evaluate(lam=0.1, s=1.0, a0=-0.5, t=30.0) == pytest.approx(1.0, rel=1e-12)
    assert abs(MODE.evaluate(lam=0.0, s=1.0, a0=-0.5, t=30.0)) < 1e-20


def test_broadcasting_shape():
    out = MODE.evaluate(lam=np.array([-1.0, 0.0, 1.0])[:, None, None], s=1.0,
                        a0=np.array([0.01, 0.1])[None, :, None], t=np.linspace(0, 1, 5))
    assert out.shape == (3, 2, 5)
    assert np.array_equal(out[:, :, 0], np.broadcast_to([[0.01, 0.1]], (3, 2)))


@settings(max_examples=60)
@given(lam=lams, ls=log_s, la0=st.floats(-6, -0.01), sign=signs, frac=st.floats(0.0, 1.0))
@example(lam=0.0, ls=0.0, la0=-2.0, sign=1.0, frac=0.99)
@example(lam=1e-12, ls=0.0, la0=-1.0, sign=-1.0, frac=0.5)
@example(lam=2.225073858507e-311, ls=0.0, la0=-1.0, sign=-1.0, frac=1.0)  # found by a fresh CI run
@example(lam=5e-324, ls=-2.0, la0=-1.0, sign=-1.0, frac=0.5)  # |lam| K underflows at the crossing (a full run)
def test_time_to_learn_matches_twin_and_inverts(lam, ls, la0, sign, frac):
    s = 10.0**ls
    a0 = sign * 10.0**la0 * s
    af = a0 + frac * (s - a0) * (1 - 1e-9)
    t = float(TIME.evaluate(lam=lam, s=s, a0=a0, af=af))
    ref = float(TIME.mp(dps=50, lam=lam, s=s, a0=a0, af=af))
    if math.isinf(ref):
        assert math.isinf(t) and lam == 0.0
        return
    assert t == pytest.approx(ref, rel=1e-11, abs=1e-300)
    if math.isfinite(t) and t > 0 and (lam == 0 or abs(lam) >= LAM_TINY):  # the mode refuses a subnormal lam
        # the forward map is ill-conditioned near s: compare in the time the mode needs
        assert float(MODE.evaluate(lam=lam, s=s, a0=a0, t=t)) == pytest.approx(af, rel=1e-8, abs=1e-9 * s)


@pytest.mark.parametrize("lam", [5e-324, -5e-324, 1e-320, 0.0, 0.3])
@pytest.mark.parametrize("a0, af, s", [(-0.1, 0.0, 1.0), (-0.1, 0.0, 0.01), (0.0, 0.5, 1.0), (0.0, 0.001, 0.01),
                                       (-0.001, 0.005, 0.01)])
def test_time_to_learn_at_the_saddle_with_subnormal_lam(lam, a0, af, s):
    """Endpoints at the saddle a = 0, where N(0) = |lam| (|lam| + K) and N'(0) underflow for a subnormal lam:
    finite and equal to the 50-digit twin for lam != 0, +inf at lam = 0 (the saddle is never left or crossed)."""
    t = float(TIME.evaluate(lam=lam, s=s, a0=a0, af=af))
    ref = float(TIME.mp(dps=50, lam=lam, s=s, a0=a0, af=af))
    if lam == 0.0:
        assert t == ref == math.inf
    else:
        assert math.isfinite(t) and t == pytest.approx(ref, rel=1e-11)


@pytest.mark.parametrize("name", ["lambda_balanced.mode", "lambda_balanced.loss"])
def test_mode_and_loss_refuse_a_subnormal_lam(name):
    res = derive.get(name)
    args = dict(s=1.0, a0=-0.1, t=1.0) if name.endswith("mode") else dict(s=[1.0], a0=[-0.1], t=1.0, Lstar=0.0)
    for lam in (5e-324, -1e-310, 2.225073858507e-311, np.array([0.5, 1e-320])):
        with pytest.raises(ValueError, match="^lam: must be 0 or of magnitude >= 2.2250738585072014e-308"):
            res.evaluate(lam=lam, **args)
    for lam in (0.0, LAM_TINY, -LAM_TINY):
        assert np.isfinite(res.evaluate(lam=lam, **args))


def test_time_to_learn_limits():
    s, a0, af = 1.0, 0.01, 0.99
    saxe = math.log(af * (s - a0) / (a0 * (s - af))) / (2 * s)
    assert TIME.evaluate(lam=0.0, s=s, a0=a0, af=af) == pytest.approx(saxe, rel=1e-14)
    assert TIME.evaluate(lam=1e-9, s=s, a0=a0, af=af) == pytest.approx(saxe, rel=1e-12)
    lazy = math.log((s - a0) / (s - af))
    assert 1e6 * TIME.evaluate(lam=-1e6, s=s, a0=a0, af=af) == pytest.approx(lazy, rel=1e-9)
    assert TIME.evaluate(lam=0.0, s=s, a0=-0.1, af=0.5) == math.inf  # the saddle at 0 is never crossed


def test_loss_is_sum_over_modes():
    s, a0 = np.array([3.0, 2.0, 1.0]), np.array([0.01, -0.2, 0.5])
    t = np.array([0.0, 0.7, 5.0])
    modes = MODE.evaluate(lam=0.3, s=s[None, :], a0=a0[None, :], t=t[:, None])
    expected = 0.5 * ((s - modes) ** 2).sum(axis=1) + 0.125
    assert LOSS.evaluate(lam=0.3, s=s, a0=a0, t=t, Lstar=0.125) == pytest.approx(expected, rel=1e-14)
    assert float(LOSS.evaluate(lam=0.3, s=s, a0=a0, t=0.7, Lstar=0.125)) == pytest.approx(
        float(LOSS.mp(dps=30, lam=0.3, s=s, a0=a0, t=0.7, Lstar=0.125)), rel=1e-13)


@pytest.mark.parametrize("params, name, condition", [
    (dict(lam=0.0, s=0.0, a0=0.1, t=1.0), "s", "> 0"),
    (dict(lam=0.0, s=-1.0, a0=0.1, t=1.0), "s", "> 0"),
    (dict(lam=math.nan, s=1.0, a0=0.1, t=1.0), "lam", "NaN"),
    (dict(lam=0.0, s=math.inf, a0=0.1, t=1.0), "s", "finite"),
    (dict(lam=0.0, s=1.0, a0=-math.inf, t=1.0), "a0", "finite"),
    (dict(lam=0.0, s=1.0, a0=0.1, t=-1.0), "t", ">= 0"),
    (dict(lam=0.0, s=1.0, a0=0.1, t=[0.0, math.nan]), "t", "NaN"),
    (dict(lam=0.0, s=1.0, a0=0.1), "t", "missing"),
    (dict(lam=0.0, s=1.0, a0=0.1, t=1.0, tau=1.0), "tau", "not a parameter"),
])
def test_mode_rejects_invalid_input(params, name, condition):
    with pytest.raises(ValueError, match=rf"^{name}: .*{condition}"):
        MODE.evaluate(**params)


@pytest.mark.parametrize("af", [1.0, 1.5, 0.001, -0.5])
def test_time_to_learn_rejects_unreachable_targets(af):
    # from a0 = 0.01 with s = 1 the mode rises monotonically to s: af must lie in [a0, s)
    with pytest.raises(ValueError, match=r"^af: .*between a0"):
        TIME.evaluate(lam=1.0, s=1.0, a0=0.01, af=af)


def test_loss_rejects_mismatched_modes():
    with pytest.raises(ValueError, match=r"^a0: .*same length"):
        LOSS.evaluate(lam=1.0, s=np.array([1.0, 2.0]), a0=np.array([0.1]), t=1.0, Lstar=0.0)
    with pytest.raises(ValueError, match=r"^Lstar: "):
        LOSS.evaluate(lam=1.0, s=np.array([1.0]), a0=np.array([0.1]), t=1.0, Lstar=-1.0)
