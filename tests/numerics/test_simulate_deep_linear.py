"""Gradient flow of a deep linear network from balanced layers (numerics.simulate._deep_linear)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics.simulate._deep_linear import balanced_layers, deep_linear_flow, end_to_end, imbalance

UNIT = 2.0**-52


@settings(max_examples=40)
@given(L=st.integers(1, 8), width=st.integers(1, 4), d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
@example(L=1, width=1, d=1, seed=0)
def test_balanced_layers_multiply_to_the_source(L, width, d, seed):
    wS = np.random.default_rng(seed).standard_normal(d)
    layers = balanced_layers(wS, L, width=width, seed=seed)
    assert len(layers) == L
    assert np.max(np.abs(end_to_end(layers) - wS)) <= 8 * L * UNIT * np.max(np.abs(wS)) * np.sqrt(d)
    assert imbalance(layers) <= 8 * L * UNIT * np.linalg.norm(wS) ** (2 / L)


def _closed_form(X, wT, wS, L):
    """P w_T + s (I - P) w_S with s from a bisection on the root equation (independent of derive)."""
    _, sv, Vt = np.linalg.svd(X, full_matrices=False)
    Q = Vt.T
    rowT = Q @ (Q.T @ wT)
    nullS = wS - Q @ (Q.T @ wS)
    a2, b2, S = rowT @ rowT, nullS @ nullS, np.linalg.norm(wS)
    lo, hi = 1e-12, 1e3
    for _ in range(200):
        r = 0.5 * (lo + hi)
        lo, hi = (r, hi) if r**2 - a2 - (r / S) ** (2 - 2 / L) * b2 < 0 else (lo, r)
    return rowT + (r / S) ** ((L - 1) / L) * nullS


@settings(max_examples=8)
@given(L=st.integers(1, 4), n=st.integers(1, 4), extra=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
@example(L=4, n=3, extra=2, seed=3)
def test_flow_reaches_the_closed_form_and_stays_balanced(L, n, extra, seed):
    d = n + extra
    rng = np.random.default_rng(seed)
    # singular values of X in [0.5, 2] by construction: the flow's slowest rate stays bounded away from 0
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :n]
    X = (U * rng.uniform(0.5, 2.0, n)) @ V.T * np.sqrt(n)
    wT, wS = rng.standard_normal(d), rng.standard_normal(d)
    fit = deep_linear_flow(X, X @ wT, balanced_layers(wS, L, width=2, seed=seed))
    ref = _closed_form(X, wT, wS, L)
    # DOP853 at rtol 1e-12; the stopping rule leaves |dtheta/dt| <= 1e-11: a margin of 1e3 rtol
    assert np.max(np.abs(fit.w - ref)) <= 1e-9 * max(1.0, np.max(np.abs(ref)))
    assert fit.imbalance_drift <= 1e-9
    assert float(fit.loss) <= 1e-18 * max(1.0, float(np.sum((X @ wT) ** 2)))


def test_batched_equals_single():
    rng = np.random.default_rng(0)
    Xs, wTs, wSs = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 6)), rng.standard_normal((2, 6))
    layers = [balanced_layers(wS, 3, width=2, seed=k) for k, wS in enumerate(wSs)]
    batch = deep_linear_flow(Xs, np.einsum("bnd,bd->bn", Xs, wTs), [np.stack(w) for w in zip(*layers)])
    for k in range(2):
        one = deep_linear_flow(Xs[k], Xs[k] @ wTs[k], layers[k])
        assert np.max(np.abs(batch.w[k] - one.w)) <= 1e-9


def test_frozen_layers_do_not_move_and_w_stays_in_span_of_source():
    rng = np.random.default_rng(1)
    X, wT, wS = rng.standard_normal((5, 7)), rng.standard_normal(7), rng.standard_normal(7)
    layers = balanced_layers(wS, 3, width=2, seed=1)
    fit = deep_linear_flow(X, X @ wT, layers, frozen=(0, 1))
    assert np.array_equal(fit.layers[0], layers[0]) and np.array_equal(fit.layers[1], layers[1])
    u = wS / np.linalg.norm(wS)
    assert np.linalg.norm(fit.w - (fit.w @ u) * u) <= 1e-13 * np.linalg.norm(fit.w)


def test_shallow_formula_is_wrong_for_deep_networks():
    """The layer-wise flow is not the shallow estimator: depth changes the answer (research note §1.3)."""
    rng = np.random.default_rng(2)
    X, wT, wS = rng.standard_normal((3, 8)), rng.standard_normal(8), rng.standard_normal(8)
    fit = deep_linear_flow(X, X @ wT, balanced_layers(wS, 3, width=2))
    Q = np.linalg.svd(X, full_matrices=False)[2].T
    shallow = wT - (np.eye(8) - Q @ Q.T) @ (wT - wS)
    assert np.max(np.abs(fit.w - shallow)) > 1e-2


@pytest.mark.parametrize("call, match", [
    (lambda: balanced_layers(np.zeros(3), 2), "wS"),
    (lambda: balanced_layers(np.ones(3), 0), "L"),
    (lambda: balanced_layers(np.ones(3), 2, width=0), "width"),
    (lambda: deep_linear_flow(np.ones((2, 3)), np.ones(2), balanced_layers(np.ones(3), 2), frozen=(0, 1)), "frozen"),
    (lambda: deep_linear_flow(np.ones((2, 3)), np.ones(3), balanced_layers(np.ones(3), 2)), "X must"),
    (lambda: deep_linear_flow(np.ones((2, 4)), np.ones(2), balanced_layers(np.ones(3), 2)), "layers"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        call()
