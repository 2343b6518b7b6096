"""The finite-width two-stage network equals the single-site Monte Carlo at N = S (same draws)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics._two_stage_dmft import make_task, two_stage_dmft
from numerics.simulate._two_stage_network import two_stage_network


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), activation=st.sampled_from(["linear", "relu"]),
       readout=st.sampled_from(["fresh", "continued"]), gamma2=st.floats(0.2, 3.0))
def test_network_equals_the_monte_carlo_with_as_many_sites(seed, activation, readout, gamma2):
    # the Monte Carlo's field update is the network's weight update pushed through h = W x / sqrt(D)
    task = make_task(10, 7, 6, 8, 0.5, seed=seed)
    kw = dict(gamma1=1.3, gamma2=gamma2, dt=0.1, steps1=20, steps2=20, readout=readout, activation=activation,
              seed=seed)
    net = two_stage_network(task, width=300, **kw)
    mc = two_stage_dmft(task, sites=300, progress=False, **kw)
    for k in ("f1", "f2"):
        np.testing.assert_allclose(net[k], mc[k], rtol=1e-9, atol=1e-12)


def test_network_gradient_step_matches_finite_differences():
    # one step with the rate dt N gamma^2 equals -dt N gamma^2 times the numerical gradient of the mean loss
    task = make_task(6, 5, 4, 4, 0.5, seed=2)
    N, g, dt = 40, 1.7, 1e-3
    res = two_stage_network(task, width=N, gamma1=g, gamma2=1.0, dt=dt, steps1=1, steps2=0, activation="relu", seed=4,
                             readout="continued")
    from numerics._two_stage_dmft import initial_draws
    W, z, _ = initial_draws(6, N, seed=4)
    X, y, tr = task.X[task.source_train], task.y[task.source_train], task.source_train

    def loss(W, z):
        f = z @ np.maximum(W @ X.T / np.sqrt(6), 0) / (N * g)
        return 0.5 * np.mean((f - y) ** 2)

    eps = 1e-6
    gz = np.array([(loss(W, z + eps * e) - loss(W, z - eps * e)) / (2 * eps) for e in np.eye(N)])
    assert res["z"] == pytest.approx(z - dt * N * g * g * gz, abs=1e-8)


def test_rejects_bad_width():
    task = make_task(6, 5, 4, 4, 0.5, seed=2)
    with pytest.raises(ValueError, match="sites:"):
        two_stage_network(task, width=0, gamma1=1.0, gamma2=1.0, steps1=1, steps2=1)
