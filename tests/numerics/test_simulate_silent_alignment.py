"""The small-initialisation two-layer linear network simulator: initialisation, conservation law, convergence."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.simulate._silent_alignment import small_init, train


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.integers(2, 80), st.floats(1e-6, 1e-1))
def test_small_init_has_zero_overlap_and_its_scale(seed, D, N, sigma):
    beta = np.zeros(D)
    beta[0] = 1.0
    a, W = small_init(D, N, sigma, beta, seed=seed)
    assert a.shape == (N,) and W.shape == (N, D)
    a2, W2 = small_init(D, N, sigma, beta, seed=seed, zero_overlap=False)
    assert abs(a @ W @ beta) <= 1e-12 * np.linalg.norm(a2) * np.linalg.norm(W @ beta)
    np.testing.assert_array_equal(W, W2)
    # E|W|_F^2 = N sigma^2: within 8 standard deviations (var of a chi-square with ND d.o.f. times sigma^4/D^2)
    assert abs(np.sum(W2**2) / sigma**2 - N) <= 8 * np.sqrt(2 * N / D) + 1e-9


def test_invalid_arguments_name_the_parameter():
    beta = np.array([1.0, 0.0])
    with pytest.raises(ValueError, match="^sigma:"):
        small_init(2, 4, 0.0, beta, seed=0)
    with pytest.raises(ValueError, match="^N:"):
        small_init(2, 1, 0.1, beta, seed=0)
    with pytest.raises(ValueError, match="^beta:"):
        small_init(2, 4, 0.1, np.array([1.0, 1.0]), seed=0)
    a, W = small_init(2, 4, 0.1, beta, seed=0)
    with pytest.raises(ValueError, match="^s:"):
        train(a, W, 0.0, beta, [0.0, 1.0])
    with pytest.raises(ValueError, match="^times:"):
        train(a, W, 1.0, beta, [0.5, 1.0])
    with pytest.raises(ValueError, match="^Sigma:"):
        train(a, W, 1.0, beta, [0.0, 1.0], Sigma=-np.eye(2))


@pytest.mark.parametrize("nonwhite", [False, True])
def test_flow_conserves_the_imbalance_and_learns_the_teacher(nonwhite):
    """W W^T - a a^T is conserved by gradient flow: RK4 with dt = 1e-3 keeps it to ~1e-12; beta_hat -> s beta."""
    D, N, s = 4, 10, 1.5
    beta = np.ones(D) / 2.0
    a, W = small_init(D, N, 0.3, beta, seed=7)
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    Sigma = (Q * np.array([0.5, 1.0, 1.5, 2.0])) @ Q.T if nonwhite else None
    rec = train(a, W, s, beta, np.array([0.0, 2.0, 30.0]), Sigma=Sigma, dt=1e-3)
    imb0 = W @ W.T - np.outer(a, a)
    imb = rec["W"] @ rec["W"].T - np.outer(rec["a"], rec["a"])
    assert np.max(np.abs(imb - imb0)) <= 1e-10
    np.testing.assert_allclose(rec["W"].T @ rec["a"], s * beta, atol=1e-9)
    assert rec["r"][0] == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(rec["M"][0], W.T @ W + (a @ a) * np.eye(D), rtol=1e-14)
