"""numerics.simulate._matrix_network: conservation, GD's first-order error, any start and any widths."""

import numpy as np
import pytest

from numerics._init_lambda_balanced import (gaussian_lambda, lambda_balanced_init, layerwise_lambda,
                                            task_aligned_init, unbalanced_control)
from numerics._qqt import measured_lambda
from numerics.simulate._matrix_network import matrix_gradient_descent, matrix_gradient_flow


def test_flow_conserves_imbalance_from_an_unbalanced_start():
    rng = np.random.default_rng(0)
    W1, W2, Syx = rng.standard_normal((5, 3)), rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    tr = matrix_gradient_flow(W1, W2, Syx, np.array([0.0, 1.0, 4.0]), rtol=1e-11, atol=1e-13)
    drift = np.max(np.abs(tr.conserved - tr.conserved[0]))
    assert drift <= 1e-8  # integrator tolerance times the weights' scale
    assert np.all(np.diff(tr.loss(Syx)) < 0)


def test_gd_error_is_first_order_in_eta():
    W1, W2 = lambda_balanced_init(0.5, 3, 3, 3, seed=1)
    Syx = np.diag([2.0, 1.0, 0.5])
    T = 2.0
    ref = matrix_gradient_flow(W1, W2, Syx, np.array([T]), rtol=1e-12, atol=1e-14).product[-1]
    etas = np.array([0.02, 0.01, 0.005])
    errs = [np.max(np.abs(matrix_gradient_descent(W1, W2, Syx, eta, int(round(T / eta))).product[-1] - ref))
            for eta in etas]
    slope = np.polyfit(np.log(etas), np.log(errs), 1)[0]
    assert abs(slope - 1.0) < 0.1, (slope, errs)


def test_gd_records_times_k_eta_and_validates():
    W1, W2 = lambda_balanced_init(0.0, 2, 2, 2, seed=2)
    tr = matrix_gradient_descent(W1, W2, np.eye(2), 0.1, 7, record_every=3)
    assert np.allclose(tr.t, [0.0, 0.3, 0.6, 0.7])
    with pytest.raises(ValueError, match="^eta"):
        matrix_gradient_descent(W1, W2, np.eye(2), -0.1, 3)
    with pytest.raises(ValueError, match="^Syx"):
        matrix_gradient_flow(W1, W2, np.eye(3), [1.0])
    with pytest.raises(ValueError, match="^t"):
        matrix_gradient_flow(W1, W2, np.eye(2), [1.0, 0.5])


def test_non_whitened_flow_uses_sxx():
    """With Sxx != I the flow's fixed point is W = Syx Sxx^{-1} (least squares)."""
    W1, W2 = lambda_balanced_init(1.0, 2, 2, 2, seed=3)
    Sxx = np.array([[2.0, 0.3], [0.3, 0.5]])
    Syx = np.array([[1.0, 0.2], [0.1, 0.7]])
    tr = matrix_gradient_flow(W1, W2, Syx, np.array([200.0]), Sxx=Sxx)
    assert np.max(np.abs(tr.product[-1] - Syx @ np.linalg.inv(Sxx))) <= 1e-8


def test_inits():
    for lam, Ni, Nh, No in [(2.0, 3, 3, 3), (-2.0, 3, 3, 5), (2.0, 3, 4, 5), (-2.0, 5, 4, 3), (0.0, 2, 6, 3)]:
        W1, W2 = lambda_balanced_init(lam, Ni, Nh, No, seed=1)
        got, imb = measured_lambda(W1, W2)
        assert W1.shape == (Nh, Ni) and W2.shape == (No, Nh)
        assert abs(got - lam) <= 1e-14 * 10 and imb <= 1e-14 * 10
    with pytest.raises(ValueError, match="^lam: .*rank"):
        lambda_balanced_init(1.0, 4, 3, 2)
    Syx = np.array([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    W1, W2 = task_aligned_init(0.5, Syx, np.array([0.1, -0.2]))
    U, s, Vt = np.linalg.svd(Syx)
    assert np.allclose(U.T @ W2 @ W1 @ Vt[:2].T, np.diag([0.1, -0.2]), atol=1e-15)
    # layer-wise rates: W2^T W2/eta2 - W1 W1^T/eta1 has mean No s2^2/eta2 - Ni s1^2/eta1
    rng = np.random.default_rng(4)
    Ni, Nh, No, s1, s2, e1, e2 = 300, 20, 400, 0.1, 0.2, 1.0, 2.0
    lams = [layerwise_lambda(rng.normal(0, s1, (Nh, Ni)), rng.normal(0, s2, (No, Nh)), e1, e2)[0] for _ in range(20)]
    expected = gaussian_lambda(Ni, Nh, No, s1, s2, e1, e2)
    # per draw, lam = mean of Nh diagonal entries, each with sd sqrt(2 No s2^4/e2^2 + 2 Ni s1^4/e1^2)
    se = np.sqrt((2 * No * s2**4 / e2**2 + 2 * Ni * s1**4 / e1**2) / Nh / len(lams))
    assert abs(np.mean(lams) - expected) <= 5 * se
    U1, U2 = unbalanced_control(W1, W2, seed=0)
    assert np.isclose(np.linalg.norm(U1), np.linalg.norm(W1)) and np.isclose(np.linalg.norm(U2), np.linalg.norm(W2))
