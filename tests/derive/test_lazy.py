"""lazy.*: closed forms against matrix exponentials and recursions; thresholds and errors."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive

UNIT = 2.0**-52


def problem(seed, P=8, Q=3, c=2, rank=None):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((P + Q, rank or P + Q))
    G = B @ B.T
    K, Kt = (G[:P, :P] + G[:P, :P].T) / 2, G[P:, :P]
    return K, Kt, rng.standard_normal((P, c)), 0.1 * rng.standard_normal((P, c)), 0.1 * rng.standard_normal((Q, c))


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), t=st.floats(0.0, 50.0), ridge=st.sampled_from([0.0, 1e-3, 0.5]))
@example(seed=0, t=0.0, ridge=0.0)
def test_flow_matches_matrix_exponential(seed, t, ridge):
    K, Kt, y, f0, f0t = problem(seed)
    P = len(K)
    M = K / P + ridge * np.eye(P)
    # alpha(t) = M^{-1} (I - e^{-M t}) (y - f0)/P by an independent route (expm and a solve)
    alpha = np.linalg.solve(M, (np.eye(P) - scipy.linalg.expm(-M * t)) @ (y - f0) / P)
    out = derive.get("lazy.flow").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=t, ridge=ridge)
    cond = np.linalg.cond(M)
    scale = np.abs(y - f0).max() * np.abs(K).max() * np.abs(alpha).max() / max(np.abs(y - f0).max(), 1e-300)
    tol = 64 * P * UNIT * cond * (scale + np.abs(y).max())  # the solve's conditioning bounds the reference
    np.testing.assert_allclose(out["train"], f0 + K @ alpha, atol=tol, rtol=0)
    np.testing.assert_allclose(out["test"], f0t + Kt @ alpha, atol=tol, rtol=0)


def test_t_zero_and_infinity():
    K, Kt, y, f0, f0t = problem(1)
    out = derive.get("lazy.flow").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=[0.0, np.inf], ridge=0.0)
    np.testing.assert_array_equal(out["train"][0], f0)
    np.testing.assert_array_equal(out["test"][0], f0t)
    np.testing.assert_allclose(out["train"][1], y, atol=1e-10)  # interpolates
    np.testing.assert_allclose(out["test"][1], f0t + Kt @ np.linalg.solve(K, y - f0), atol=1e-9)


def test_singular_kernel_gives_minimum_norm_interpolant():
    K, Kt, y, f0, f0t = problem(2, P=8, Q=3, rank=5)  # rank-5 PSD Gram: K singular
    out = derive.get("lazy.flow").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=[1e12, np.inf], ridge=0.0)
    alpha = np.linalg.pinv(K, rcond=1e-10) @ (y - f0)
    np.testing.assert_allclose(out["test"][1], f0t + Kt @ alpha, atol=1e-8)
    np.testing.assert_allclose(out["test"][0], out["test"][1], atol=1e-8)  # no blow-up of null modes at t = 1e12
    assert np.isfinite(out["train"]).all()


def test_descent_matches_recursion():
    K, Kt, y, f0, f0t = problem(3)
    P, eta, ridge = len(K), 0.9, 0.01
    eta = eta * 2 / (np.linalg.eigvalsh(K).max() / P + ridge)  # eta mu_max = 1.8: oscillating modes included
    alpha = np.zeros_like(y)
    steps = [0, 1, 2, 7, 40]
    out = derive.get("lazy.descent").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, steps=steps, eta=eta,
                                              ridge=ridge)
    n = 0
    for i, target in enumerate(steps):
        while n < target:
            alpha -= eta * (K @ alpha / P + ridge * alpha - (y - f0) / P)
            n += 1
        np.testing.assert_allclose(out["train"][i], f0 + K @ alpha, atol=64 * P * UNIT * (n + 1) * 10, rtol=0)
        np.testing.assert_allclose(out["test"][i], f0t + Kt @ alpha, atol=64 * P * UNIT * (n + 1) * 10, rtol=0)


def test_errors_name_the_parameter():
    K, Kt, y, f0, f0t = problem(4)
    flow = derive.get("lazy.flow")
    with pytest.raises(ValueError, match="^K: must be symmetric"):
        flow.evaluate(K=K + np.triu(np.ones_like(K)), K_test=Kt, y=y, f0=f0, f0_test=f0t, t=1.0, ridge=0.0)
    with pytest.raises(ValueError, match="^K: must be positive semidefinite"):
        flow.evaluate(K=K - 2 * np.abs(K).max() * len(K) * np.eye(len(K)), K_test=Kt, y=y, f0=f0, f0_test=f0t,
                      t=1.0, ridge=0.0)
    with pytest.raises(ValueError, match="^ridge:"):
        flow.evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=1.0, ridge=[0.0, 1.0])
    with pytest.raises(ValueError, match="^f0_test:"):
        flow.evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t[:, :1], t=1.0, ridge=0.0)
    with pytest.raises(ValueError, match="^t:"):
        flow.evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, t=-1.0, ridge=0.0)
    with pytest.raises(ValueError, match="^eta: gradient descent diverges"):
        derive.get("lazy.descent").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, steps=3, eta=1e6, ridge=0.0)
    with pytest.raises(ValueError, match="^steps:"):
        derive.get("lazy.descent").evaluate(K=K, K_test=Kt, y=y, f0=f0, f0_test=f0t, steps=1.5, eta=0.1, ridge=0.0)


def test_latex():
    assert r"f_{\mathrm{test}}(t)" in derive.get("lazy.flow").latex()
