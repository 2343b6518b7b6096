"""single_neuron.*: closed form against the flow (Hypothesis over delta, rates, starts), GD order, twins, errors."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from numerics.simulate._single_neuron import neuron_gradient_descent, neuron_gradient_flow

TRAJ = derive.get("single_neuron.trajectory")
KERNEL = derive.get("single_neuron.kernel")
KD = derive.get("single_neuron.kernel_distance")


def start(beta0, delta, eta_w, eta_a, sign=1.0):
    """(a0, w0) with a0 w0 = beta0 and eta_w a0^2 - eta_a |w0|^2 = delta (a0 of the given sign)."""
    n = np.linalg.norm(beta0)
    a0 = sign * math.sqrt((delta + math.sqrt(delta**2 + 4 * eta_w * eta_a * n**2)) / (2 * eta_w))
    return a0, beta0 / a0


deltas = st.one_of(st.sampled_from([0.0, 1e-9, -1e-9]), st.floats(-6, 6))
rates = st.floats(0.25, 4.0)
vecs = st.lists(st.floats(-2, 2), min_size=2, max_size=3).filter(lambda v: np.linalg.norm(v) > 0.05)


@settings(max_examples=30)
@given(delta=deltas, eta_w=rates, eta_a=rates, b0=vecs, seed=st.integers(0, 2**31), sign=st.sampled_from([-1.0, 1.0]))
@example(delta=0.0, eta_w=1.0, eta_a=1.0, b0=[-1.0, 0.0], seed=0, sign=1.0)    # Kunin Fig. 2 start, delta = 0
@example(delta=-4.0, eta_w=2.0, eta_a=0.5, b0=[0.5, -0.5], seed=1, sign=1.0)   # a crosses zero
def test_matches_gradient_flow(delta, eta_w, eta_a, b0, seed, sign):
    b0 = np.array(b0)
    bs = np.random.default_rng(seed).uniform(-2, 2, b0.size)
    bs[0] += 0.5 * np.sign(bs[0]) + 0.5 * (bs[0] == 0)  # ||beta*|| >= 0.5
    a0, w0 = start(b0, delta, eta_w, eta_a, sign)
    t = np.array([0.0, 0.3, 1.5, 5.0])
    sim = neuron_gradient_flow(a0, w0, bs, t, eta_w=eta_w, eta_a=eta_a, rtol=1e-11, atol=1e-13)
    got = TRAJ.evaluate(a0=a0, w0=w0, beta_star=bs, eta_w=eta_w, eta_a=eta_a, t=t)
    scale = max(1.0, np.max(np.abs(sim.w)), np.max(np.abs(sim.a)))
    assert np.max(np.abs(got["a"] - sim.a)) <= 1e-9 * scale
    assert np.max(np.abs(got["w"] - sim.w)) <= 1e-9 * scale
    assert np.max(np.abs(got["beta"] - sim.beta)) <= 1e-9 * scale**2


def test_large_t_and_large_delta_are_finite_and_converged():
    bs = np.array([0.0, 1.0])
    for delta in (-1e4, -50.0, 0.0, 50.0, 1e4):
        a0, w0 = start(np.array([-1.0, 0.0]), delta, 1.0, 1.0)
        got = TRAJ.evaluate(a0=a0, w0=w0, beta_star=bs, eta_w=1.0, eta_a=1.0, t=np.array([1e3, 1e6]))
        assert np.all(np.isfinite(got["beta"]))
        assert np.max(np.abs(got["beta"][-1] - bs)) <= 1e-12 * max(1.0, abs(delta))


def test_mp_twin_and_kernel_identity():
    a0, w0, bs = 0.8, np.array([0.3, -0.4]), np.array([0.0, 1.0])
    ref = TRAJ.mp(dps=30, a0=a0, w0=w0, beta_star=bs, eta_w=1.5, eta_a=0.7, t=2.0)
    got = TRAJ.evaluate(a0=a0, w0=w0, beta_star=bs, eta_w=1.5, eta_a=0.7, t=2.0)
    assert abs(got["a"] - float(ref["a"])) <= 1e-14
    # M(beta) = eta_w a^2 I + eta_a w w^T
    delta = 1.5 * a0**2 - 0.7 * np.sum(w0**2)
    M = KERNEL.evaluate(beta=a0 * w0, delta=delta, eta_w=1.5, eta_a=0.7)
    assert np.max(np.abs(M - (1.5 * a0**2 * np.eye(2) + 0.7 * np.outer(w0, w0)))) <= 1e-15
    Mmp = KERNEL.mp(dps=30, beta=a0 * w0, delta=delta, eta_w=1.5, eta_a=0.7)
    assert np.max(np.abs(M - np.array(Mmp.tolist(), dtype=float))) <= 1e-15


def test_gd_is_first_order():
    a0, w0 = start(np.array([-1.0, 0.0]), 0.5, 1.0, 1.0)
    bs = np.array([0.0, 1.0])
    ref = TRAJ.evaluate(a0=a0, w0=w0, beta_star=bs, eta_w=1.0, eta_a=1.0, t=3.0)["beta"]
    etas = np.array([0.02, 0.01, 0.005])
    errs = [np.max(np.abs(neuron_gradient_descent(a0, w0, bs, e, int(round(3.0 / e))).beta[-1] - ref)) for e in etas]
    assert abs(np.polyfit(np.log(etas), np.log(errs), 1)[0] - 1.0) < 0.1


def test_kernel_distance_and_errors():
    a0, w0 = start(np.array([-1.0, 0.0]), 0.0, 1.0, 1.0)
    S = KD.evaluate(a0=a0, w0=w0, beta_star=[0.0, 1.0], eta_w=1.0, eta_a=1.0, t=np.array([0.0, 50.0]))
    assert S[0] == pytest.approx(0.0, abs=1e-15) and S[1] > 0.05
    with pytest.raises(ValueError, match="^beta_star: must not be zero"):
        TRAJ.evaluate(a0=1.0, w0=[1.0, 0.0], beta_star=[0.0, 0.0], eta_w=1.0, eta_a=1.0, t=1.0)
    with pytest.raises(ValueError, match="^eta_w"):
        TRAJ.evaluate(a0=1.0, w0=[1.0, 0.0], beta_star=[0.0, 1.0], eta_w=0.0, eta_a=1.0, t=1.0)
    with pytest.raises(ValueError, match="^beta_star: must have the same length as w0"):
        TRAJ.evaluate(a0=1.0, w0=[1.0, 0.0, 1.0], beta_star=[0.0, 1.0], eta_w=1.0, eta_a=1.0, t=1.0)
    with pytest.raises(ValueError, match="^beta: beta = 0 with delta < 0"):
        KERNEL.evaluate(beta=[0.0, 0.0], delta=-1.0, eta_w=1.0, eta_a=1.0)
