"""Mean-field particle flows of the merged staircase (``numerics._mean_field``)."""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import _mean_field as mf


def _random_state(seed, J, d=None):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, J)
    W = rng.normal(0, 0.7, (J, 3))
    if d is None:
        return a, W, rng.uniform(0.3, 1.5, J)
    w = np.zeros((J, d))
    w[:, :3] = W
    w[:, 3:] = rng.standard_normal((J, d - 3)) / np.sqrt(d - 3)
    return a, w


@pytest.mark.parametrize("S,bound", [(0.5, 1e-13), (1.0, 1e-13), (2.0, 1e-8)])
def test_gauss_hermite_expectation_of_the_sigmoid_against_mpmath(S, bound):
    g, wq = mf.gauss_hermite(48)
    for u in (-1.3, 0.0, 0.4, 2.2):
        exact = mpmath.quad(lambda x, u=u: mpmath.npdf(x) / (1 + mpmath.exp(-(u + S * x - 0.5))),
                            [-mpmath.inf, 0, mpmath.inf])
        assert abs(np.sum(wq / (1 + np.exp(-(u + S * g - 0.5)))) - float(exact)) <= bound


@settings(max_examples=15)
@given(st.integers(0, 2**31 - 1))
@example(0)
def test_reduced_drift_is_minus_J_times_the_gradient_of_the_reduced_risk(seed):
    # central differences: truncation O(h^2 R''') ~ 1e-10, rounding ~ 1e-16/h ~ 1e-11
    J, h = 5, 1e-5
    a, W, S = _random_state(seed, J)
    da, dW, dS = mf.reduced_drift(a, W, S)
    for j in range(J):
        for arr, drift in ((a, da[j]), (S, dS[j])):
            p, m = arr.copy(), arr.copy()
            p[j] += h
            m[j] -= h
            args_p = (p, W, S) if arr is a else (a, W, p)
            args_m = (m, W, S) if arr is a else (a, W, m)
            fd = (mf.reduced_risk(*args_p) - mf.reduced_risk(*args_m)) / (2 * h)
            assert abs(-J * fd - drift) <= 1e-7
        for i in range(3):
            p, m = W.copy(), W.copy()
            p[j, i] += h
            m[j, i] -= h
            fd = (mf.reduced_risk(a, p, S) - mf.reduced_risk(a, m, S)) / (2 * h)
            assert abs(-J * fd - dW[j, i]) <= 1e-7


@settings(max_examples=5)
@given(st.integers(0, 2**31 - 1), st.integers(4, 6))
@example(0, 4)
def test_full_drift_is_minus_J_times_the_gradient_of_the_full_risk(seed, d):
    J, h = 4, 1e-5
    a, w = _random_state(seed, J, d)
    da, dw, _ = mf.full_drift(a, w)
    for j in range(J):
        p, m = a.copy(), a.copy()
        p[j] += h
        m[j] -= h
        assert abs(-J * (mf.full_drift(p, w)[2] - mf.full_drift(m, w)[2]) / (2 * h) - da[j]) <= 1e-7
        for i in range(d):
            p, m = w.copy(), w.copy()
            p[j, i] += h
            m[j, i] -= h
            assert abs(-J * (mf.full_drift(a, p)[2] - mf.full_drift(a, m)[2]) / (2 * h) - dw[j, i]) <= 1e-7


def test_full_flow_on_the_support_alone_equals_the_reduced_flow_with_S_zero():
    # d = 3: no off-support coordinates, so S = 0 and the reduction is exact (up to RK4 rounding)
    a, W, _ = _random_state(3, 6)
    full = mf.full_particle_flow(a, W, 20.0, dt=0.1, every=50)
    red = mf.solve_staircase(20.0, dt=0.1, every=50, a0=a, W0=W, S0=np.zeros(6))
    assert np.abs(full["fourier"] - red["fourier"]).max() <= 1e-12
    assert np.abs(full["risk"] - red["loss"]).max() <= 1e-12


def test_sampled_expectations_over_the_whole_cube_repeated_equal_the_exact_ones():
    # the sampled path weights points equally: the cube listed twice, shuffled, is the exact expectation
    a, w = _random_state(4, 5, 5)
    X = np.repeat(mf.hypercube(5), 2, axis=0)[np.random.default_rng(0).permutation(64)]
    exact = mf.full_particle_flow(a, w, 5.0, dt=0.1, every=25)
    sampled = mf.full_particle_flow(a, w, 5.0, dt=0.1, every=25, X=X)
    assert np.abs(exact["fourier"] - sampled["fourier"]).max() <= 1e-13
    assert np.abs(exact["risk"] - sampled["risk"]).max() <= 1e-13
    # and a Monte Carlo sample of 4000 points is within a few 1/sqrt(n) of the exact flow
    Xs = np.where(np.random.default_rng(1).random((4000, 5)) < 0.5, -1.0, 1.0)
    mc = mf.full_particle_flow(a, w, 5.0, dt=0.1, every=25, X=Xs)
    assert np.abs(exact["fourier"] - mc["fourier"]).max() <= 5 * 3 / math.sqrt(4000)


@functools.cache
def _gap(d, seed, J=16, T=30.0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, J)
    w = np.zeros((J, d))
    w[:, 3:] = rng.standard_normal((J, d - 3)) / np.sqrt(d - 3)
    full = mf.full_particle_flow(a, w, T, dt=0.1, every=30)
    red = mf.solve_staircase(T, dt=0.1, every=30, a0=a, W0=w[:, :3], S0=np.linalg.norm(w[:, 3:], axis=1))
    return np.abs(full["fourier"] - red["fourier"]).max()


def test_reduced_flow_approaches_the_full_flow_as_d_grows():
    # the Rademacher sum w_perp.x_perp is Gaussian up to its fourth cumulant ~ 1/d: the gap should
    # fall roughly like 1/d (factor 2 from d = 4 to 8) down to an O(1/J) floor; measured 2.3 at J = 32
    gaps4 = np.array([_gap(4, s) for s in range(3)])
    gaps8 = np.array([_gap(8, s) for s in range(3)])
    assert gaps8.mean() <= gaps4.mean() / 1.5
    assert gaps8.max() <= 0.01


@pytest.mark.parametrize("kind", ["reduced", "full"])
def test_risk_decreases_along_the_flow(kind):
    a, W, S = _random_state(11, 8)
    if kind == "reduced":
        risk = mf.solve_staircase(30.0, dt=0.05, every=4, a0=a, W0=W, S0=S)["loss"]
        # dR/dt = -(1/J) sum |theta'|^2 at t = 0 against a centred difference of the recorded risk
        da, dW, dS = mf.reduced_drift(a, W, S)
        dissipation = (da @ da + (dW * dW).sum() + dS @ dS) / 8
        short = mf.solve_staircase(0.02, dt=0.001, every=10, a0=a, W0=W, S0=S)["loss"]
    else:
        aa, w = _random_state(11, 8, 6)
        risk = mf.full_particle_flow(aa, w, 30.0, dt=0.05, every=4)["risk"]
        da, dw, _ = mf.full_drift(aa, w)
        dissipation = (da @ da + (dw * dw).sum()) / 8
        short = mf.full_particle_flow(aa, w, 0.02, dt=0.001, every=10)["risk"]
    assert np.all(np.diff(risk) <= 1e-14)
    assert risk[-1] < 0.9 * risk[0]
    # one-sided difference over 0.01: error ~ 0.01 |R''| / 2, checked against second difference
    slope = (short[1] - short[0]) / 0.01
    curvature = abs(short[2] - 2 * short[1] + short[0]) / 0.01**2
    assert abs(slope + dissipation) <= 0.01 * curvature + 1e-9


def test_plateaus_x1_first_then_x1x2x3_then_x1x2():
    # with the shifted sigmoid the degree-3 coefficient overtakes the degree-2 one: sigma'''(-1/2)
    # (-0.10) is larger than sigma''(-1/2) (0.058); SGD at d = 128 shows the same order (fixture)
    t = np.arange(0.0, 161.0, 4.0)
    r = mf.staircase_mean_field(t, J=32, dt=0.1)

    def first(c, level):
        return t[np.argmax(c >= level)] if (c >= level).any() else np.inf

    t1, t123, t12 = first(r["c1"], 0.5), first(r["c123"], 0.5), first(r["c12"], 0.3)
    assert t1 < t123 < t12 < np.inf
    assert np.all(np.diff(r["risk"]) < 0)


def test_midpoint_particles_converge_at_order_J_minus_2():
    t = np.array([20.0])
    c = {J: mf.staircase_mean_field(t, J=J, dt=0.1)["c123"][0] for J in (16, 32, 64)}
    ratio = abs(c[16] - c[64]) / abs(c[32] - c[64])
    assert 3.5 <= ratio <= 6.5  # (1/16^2 - 1/64^2)/(1/32^2 - 1/64^2) = 5 for an exact J^-2 error


def test_times_may_come_unsorted_and_repeat():
    r1 = mf.staircase_mean_field(np.array([[8.0, 2.0], [8.0, 0.0]]), J=8, dt=0.1)
    r2 = mf.staircase_mean_field(np.array([0.0, 2.0, 8.0]), J=8, dt=0.1)
    assert r1["c1"].shape == (2, 2)
    assert r1["c1"][0, 0] == r1["c1"][1, 0] == r2["c1"][2]
    assert r1["c1"][1, 1] == r2["c1"][0] == 0.0


@pytest.mark.parametrize("call,match", [
    (lambda: mf.staircase_mean_field(-1.0), "^t must"),
    (lambda: mf.staircase_mean_field(1.0, dt=0.0), "^dt must"),
    (lambda: mf.midpoint_particles(0), "^J must"),
    (lambda: mf.midpoint_particles(4, a_scale=-1.0), "^a_scale must"),
    (lambda: mf.midpoint_particles(4, s0=np.nan), "^s0 must"),
    (lambda: mf.reduced_drift(np.ones(2), np.zeros((2, 3)), -np.ones(2)), "^S must"),
    (lambda: mf.full_particle_flow(np.ones(2), np.zeros((2, 5)), 1.0, X=np.zeros((4, 5))), "^X must"),
    (lambda: mf.full_particle_flow(np.ones(2), np.zeros((3, 5)), 1.0), "^w0 must"),
    (lambda: mf.hypercube(21), "^d must"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
