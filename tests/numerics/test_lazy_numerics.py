"""numerics._lazy (KernelDynamics), numerics._ode (ReLU flow integrator), the NTK simulators."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from numerics._lazy import KernelDynamics, step_function_space
from numerics._ode import relu_flow
from numerics.simulate._ntk import ReluNetwork, train_linearised, train_network

UNIT = 2.0**-52


def test_closure_reuses_one_factorisation_and_matches_stepping():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((30, 12))
    G = B @ B.T  # rank 12 < 30: singular
    K, Kt = G[:25, :25], G[25:, :25]
    y, f0, f0t = rng.standard_normal((25, 1)), np.zeros((25, 1)), np.zeros((5, 1))
    kd = KernelDynamics(K, Kt)
    assert kd.active.sum() == 12
    eta = 1.9 * 25 / kd.lam.max()
    rec = np.array([0, 1, 3, 30, 300])
    stepped = step_function_space(K, Kt, y, f0, f0t, eta=eta, record=rec)
    closed = kd.descent(rec, eta, y, f0, f0t)
    for key in ("train", "test"):
        np.testing.assert_allclose(closed[key], stepped[key], atol=64 * 25 * UNIT * 300 * np.abs(G).max(), rtol=0)


def test_threshold_treats_rounding_level_eigenvalues_as_zero():
    x = np.linspace(0, 1, 6)
    K = np.exp(-np.subtract.outer(x, x) ** 2 / 0.5)  # condition number ~1e12
    K = np.vstack([np.hstack([K, K[:, :1]]), np.hstack([K[:1], K[:1, :1]])])  # duplicate point: singular
    kd = KernelDynamics(K)
    assert (~kd.active).sum() >= 1
    assert np.all(kd.lam[~kd.active] == 0)
    with pytest.raises(ValueError, match="^K: K \\+ P ridge I is numerically singular"):
        kd.solve_infinity(np.ones((7, 1)), np.zeros((7, 1)))
    out = kd.flow([1.0, 1e15, np.inf], np.ones((7, 1)), np.zeros((7, 1)))
    assert np.isfinite(out["train"]).all()
    assert math.isfinite(kd.condition_number)


def test_descent_oscillating_modes_and_divergence():
    K = np.diag([1.0, 3.0])
    kd = KernelDynamics(K)
    y, f0 = np.array([[1.0], [1.0]]), np.zeros((2, 1))
    eta = 2 * 1.2 / 1.5  # eta mu = 0.8 and 2.4 * ... -> eta * 1.5 = 2.4 >= 2: diverges
    with pytest.raises(ValueError, match="^eta:"):
        kd.descent([1], eta, y, f0)
    eta = 1.2  # eta mu = 0.6 and 1.8: the second mode oscillates
    out = kd.descent([1, 2, 3], eta, y, f0)["train"][:, :, 0]
    want = np.array([[1 - 0.4**n, 1 - (-0.8) ** n] for n in (1, 2, 3)])
    np.testing.assert_allclose(out, want, rtol=4 * UNIT, atol=4 * UNIT)


@pytest.mark.parametrize("rtol, bound", [(1e-8, 1e-5), (1e-11, 1e-8), (1e-13, 1e-10)])
def test_relu_flow_integrator_error_follows_tolerance(rtol, bound):
    ref = solve_ivp(lambda _, y: [(y[0] - np.pi) * np.sin(y[0]) / (np.pi * y[1]),
                                  (np.sin(y[0]) + (np.pi - y[0]) * np.cos(y[0])) / np.pi - y[1]],
                    (0, 4.0), [np.pi / 2, 1.0], method="DOP853", rtol=3e-14, atol=1e-16)
    th, r = relu_flow(np.pi / 2, 1.0, 1.0, 4.0, rtol=rtol, atol=rtol * 1e-2)
    assert abs(th - ref.y[0, -1]) < bound and abs(r - ref.y[1, -1]) < bound


def test_network_training_small_step_is_close_to_linearised():
    rng = np.random.default_rng(1)
    X, Xt = rng.standard_normal((10, 3)), rng.standard_normal((4, 3))
    y = np.sin(X[:, 0])
    net = ReluNetwork.random(3, 4096, seed=0)
    rec = np.array([0, 20])
    a = train_network(net, X, y, Xt, eta=0.5, record=rec)
    b = train_linearised(net, X, y, Xt, eta=0.5, record=rec)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    # the nonlinear network leaves its linearisation at O(width^{-1/2}) relative to the movement
    moved = np.abs(b[1][1] - b[1][0]).max()
    assert np.abs(a[1][1] - b[1][1]).max() < 0.1 * moved
