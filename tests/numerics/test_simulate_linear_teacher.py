"""Gradient descent for linear regression from source weights (numerics.simulate._linear_teacher)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics.simulate._linear_teacher import descent_contraction, linear_regression_descent

UNIT = 2.0**-52


def _problem(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(d)


@settings(max_examples=30)
@given(n=st.integers(1, 8), d=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
@example(n=1, d=1, seed=0)
@example(n=5, d=5, seed=1)
def test_descent_converges_to_closest_interpolator(n, d, seed):
    rng = np.random.default_rng(seed)
    k = min(n, d)  # singular values in [0.5, 2] by construction: GD contracts at a bounded rate
    U = np.linalg.qr(rng.standard_normal((n, n)))[0][:, :k]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :k]
    X = (U * rng.uniform(0.5, 2.0, k)) @ V.T
    wT, wS = rng.standard_normal(d), rng.standard_normal(d)
    eta = n / np.linalg.norm(X, 2) ** 2
    q = descent_contraction(X, eta)
    steps = 1 if q == 0 else int(np.ceil(np.log(1e-14) / np.log(q)))
    w = linear_regression_descent(X, X @ wT, wS, eta, steps)
    # closed form by least squares: w_S + X^+ X (w_T - w_S)
    ref = wS + np.linalg.lstsq(X, X @ (wT - wS), rcond=None)[0]
    scale = np.linalg.norm(wT) + np.linalg.norm(wS)
    bound = q**steps * np.linalg.norm(wS - ref) + 1e3 * UNIT * np.sqrt(steps) * d * np.linalg.cond(X) * scale
    assert np.linalg.norm(w - ref) <= bound


def test_null_space_component_never_moves():
    X, wT, wS = _problem(3, 7, 5)
    w = linear_regression_descent(X, X @ wT + 0.3, wS, 0.05, 50)
    _, _, Vt = np.linalg.svd(X)
    null = Vt[3:]
    assert np.max(np.abs(null @ (w - wS))) <= 1e-13


def test_zero_steps_returns_a_copy_of_the_start():
    X, wT, wS = _problem(2, 4, 0)
    w = linear_regression_descent(X, X @ wT, wS, 0.1, 0)
    assert np.array_equal(w, wS) and w is not wS


def test_contraction_of_an_orthogonal_design():
    X = np.sqrt(3.0) * np.eye(3)[:2]  # X^T X / n has eigenvalues 1.5, 1.5, 0
    assert descent_contraction(X, 0.5) == pytest.approx(0.25, abs=1e-15)


@pytest.mark.parametrize("kwargs, match", [
    (dict(eta=0.0), "eta"), (dict(eta=float("nan")), "eta"), (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"),
    (dict(y=np.ones(3)), "y"), (dict(w0=np.ones(3)), "w0"), (dict(X=np.ones(4)), "X"),
])
def test_bad_input(kwargs, match):
    args = dict(X=np.ones((2, 4)), y=np.ones(2), w0=np.zeros(4), eta=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{match}"):
        linear_regression_descent(**args)
