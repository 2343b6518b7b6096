"""lambda_balanced.qqt and its observables: registry contract, mpmath twin, observables against each other."""

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from derive._lambda_balanced_matrix import representations_of
from numerics._init_lambda_balanced import rotated_aligned_init
from numerics.simulate._matrix_network import matrix_gradient_flow

QQT = derive.get("lambda_balanced.qqt")
NAMES = ["lambda_balanced.qqt", "lambda_balanced.product", "lambda_balanced.input_representation",
         "lambda_balanced.output_representation", "lambda_balanced.matrix_loss", "lambda_balanced.ntk",
         "lambda_balanced.kernel_distance", "lambda_balanced.representations_from_function"]


def start(seed, lam, Ni, No):
    rng = np.random.default_rng(seed)
    m = min(Ni, No)
    U = np.linalg.qr(rng.standard_normal((No, No)))[0][:, :m]
    V = np.linalg.qr(rng.standard_normal((Ni, Ni)))[0][:, :m]
    Syx = (U * rng.uniform(0.2, 3.0, m)) @ V.T
    W1, W2 = rotated_aligned_init(lam, Syx, rng.uniform(0.01, 2.0, m), seed=seed)
    return W1, W2, Syx


def as_array(m):
    return np.array(m.tolist(), dtype=float)


@pytest.mark.parametrize("name", NAMES)
def test_latex_and_conditions(name):
    r = derive.get(name)
    assert r.latex().startswith("\\begin{aligned}") and r.conditions and r.references


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), Ni=st.integers(1, 3), No=st.integers(1, 3),
       lam=st.one_of(st.just(0.0), st.floats(-20, 20)), t=st.floats(0.0, 3.0))
@example(seed=0, Ni=3, No=3, lam=0.0, t=1.0)
@example(seed=1, Ni=2, No=3, lam=1e-9, t=2.0)
@example(seed=2, Ni=3, No=1, lam=-20.0, t=0.05)
def test_qqt_matches_mpmath_twin_at_30_digits(seed, Ni, No, lam, t):
    W1, W2, Syx = start(seed, lam, Ni, No)
    got = QQT.evaluate(W1=W1, W2=W2, Syx=Syx, t=np.array(t))
    ref = as_array(QQT.mp(dps=30, W1=W1, W2=W2, Syx=Syx, t=t))
    assert np.max(np.abs(got - ref)) <= 1e-12 * max(1.0, np.max(np.abs(ref))) * 10


def test_shapes_and_exact_lambda_zero():
    W1, W2, Syx = start(3, 0.0, 2, 4)
    t = np.zeros((2, 3)) + np.array([0.0, 0.5, 1e4])
    Q = QQT.evaluate(W1=W1, W2=W2, Syx=Syx, t=t)
    assert Q.shape == (2, 3, 6, 6) and np.all(np.isfinite(Q))
    W = derive.get("lambda_balanced.product").evaluate(W1=W1, W2=W2, Syx=Syx, t=t)
    assert W.shape == (2, 3, 4, 2) and np.array_equal(W, Q[..., 2:, :2])
    assert np.max(np.abs(W[0, 2] - Syx)) <= 1e-12


def test_errors_name_the_parameter():
    W1, W2, Syx = start(4, 1.0, 3, 3)
    with pytest.raises(ValueError, match="^t: "):
        QQT.evaluate(W1=W1, W2=W2, Syx=Syx, t=-1.0)
    with pytest.raises(ValueError, match="^W1: must be a 2-D array"):
        QQT.evaluate(W1=W1[0], W2=W2, Syx=Syx, t=1.0)
    with pytest.raises(ValueError, match="^W1: the start is not lambda-balanced"):
        QQT.evaluate(W1=W1 * 1.01, W2=W2, Syx=Syx, t=1.0)
    with pytest.raises(ValueError, match="^Syx: must be finite|^Syx: must not be NaN"):
        QQT.evaluate(W1=W1, W2=W2, Syx=Syx * np.nan, t=1.0)
    X = np.random.default_rng(0).standard_normal((3, 6))
    with pytest.raises(ValueError, match="^X: inputs are not whitened"):
        derive.get("lambda_balanced.ntk").evaluate(W1=W1, W2=W2, Syx=Syx, t=1.0, X=X, V=np.ones((3, 6)))


def whitened(Ni, P, seed):
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((P, P)))[0]
    return np.sqrt(P) * Q[:Ni]


@pytest.mark.parametrize("Ni,No,lam", [(3, 3, 0.0), (2, 3, 1.5), (3, 2, -4.0)])
def test_observables_against_each_other(Ni, No, lam):
    W1, W2, Syx = start(5, lam, Ni, No)
    P = 5
    X = whitened(Ni, P, 6)
    t = np.array([0.0, 0.7, 3.0])
    Q = QQT.evaluate(W1=W1, W2=W2, Syx=Syx, t=t)
    R, W, B = Q[:, :Ni, :Ni], Q[:, Ni:, :Ni], Q[:, Ni:, Ni:]
    # loss
    L = derive.get("lambda_balanced.matrix_loss").evaluate(W1=W1, W2=W2, Syx=Syx, t=t, Lstar=0.25)
    assert np.allclose(L, 0.5 * np.sum((W - Syx) ** 2, axis=(1, 2)) + 0.25, rtol=1e-14)
    # NTK against the explicit Kronecker matrix (output-major rows)
    V = np.random.default_rng(7).standard_normal((No, P))
    out = derive.get("lambda_balanced.ntk").evaluate(W1=W1, W2=W2, Syx=Syx, t=t, X=X, V=V)
    Ks = [np.kron(np.eye(No), X.T @ R[k] @ X) + np.kron(B[k], X.T @ X) for k in range(3)]
    for k in range(3):
        assert np.allclose(out["action"][k], (Ks[k] @ V.ravel()).reshape(No, P), rtol=1e-12, atol=1e-12)
        assert np.isclose(out["trace"][k], np.trace(Ks[k]), rtol=1e-13)
    # kernel distance by the cheap form against the explicit Frobenius products
    kd = derive.get("lambda_balanced.kernel_distance").evaluate(W1=W1, W2=W2, Syx=Syx, t1=0.0, t2=t)
    for k in range(3):
        S = 1 - np.sum(Ks[0] * Ks[k]) / (np.linalg.norm(Ks[0]) * np.linalg.norm(Ks[k]))
        assert abs(kd["S"][k] - S) <= 1e-13
        assert np.isclose(kd["inner"][k] * P**2, np.sum(Ks[0] * Ks[k]), rtol=1e-13)
    # representations as functions of W2 W1 (thesis Thm 4.1.1)
    rep = derive.get("lambda_balanced.representations_from_function")
    for k in range(3):
        got = rep.evaluate(W=W[k], lam=lam)
        assert np.max(np.abs(got["W1TW1"] - R[k])) <= 1e-12 * (1 + abs(lam)) * 10
        assert np.max(np.abs(got["W2W2T"] - B[k])) <= 1e-12 * (1 + abs(lam)) * 10


def test_representation_identity_mp_twin_and_mutation():
    W1, W2, Syx = start(8, 0.7, 3, 3)
    W = W2 @ W1
    rep = derive.get("lambda_balanced.representations_from_function")
    ref = rep.mp(dps=30, W=W, lam=0.7)
    got = rep.evaluate(W=W, lam=0.7)
    assert np.max(np.abs(got["W1TW1"] - as_array(ref["W1TW1"]))) <= 1e-14
    assert np.max(np.abs(got["W1TW1"] - W1.T @ W1)) <= 1e-14
    # the sign convention matters: lam -> -lam must break the identity
    assert np.max(np.abs(representations_of(W, -0.7)[0] - W1.T @ W1)) > 0.1


def test_matches_simulation_through_registry():
    W1, W2, Syx = start(9, -0.8, 3, 2)
    t = np.array([0.3, 1.5])
    sim = matrix_gradient_flow(W1, W2, Syx, t, rtol=1e-11, atol=1e-13)
    got = derive.get("lambda_balanced.input_representation").evaluate(W1=W1, W2=W2, Syx=Syx, t=t)
    assert np.max(np.abs(got - sim.input_representation)) <= 1e-9
    got = derive.get("lambda_balanced.output_representation").evaluate(W1=W1, W2=W2, Syx=Syx, t=t)
    assert np.max(np.abs(got - sim.output_representation)) <= 1e-9


def test_mp_refuses_when_digits_would_explode():
    W1, W2, Syx = start(10, 1e4, 2, 2)
    with pytest.raises(ValueError, match="^t: the Fukumizu twin"):
        QQT.mp(dps=30, W1=W1, W2=W2, Syx=Syx, t=1e3)
    mpmath.mp.dps = 15


def test_forgetting_and_chain():
    from derive._lambda_balanced_sequential import chain, weights_from_qqt

    F = derive.get("lambda_balanced.forgetting")
    Si, Sj, Sk = np.eye(2), 2 * np.eye(2), np.diag([1.0, -1.0])
    assert float(F.evaluate(Syx_i=Si, Syx_j=Sj, Syx_k=Sk)) == pytest.approx(0.5 * 4 - 0.5 * 2)
    assert float(F.mp(dps=30, Syx_i=Si, Syx_j=Sj, Syx_k=Sk)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^Syx_j: all tasks must have the same shape"):
        F.evaluate(Syx_i=Si, Syx_j=np.eye(3), Syx_k=Sk)
    W1, W2, Syx = start(20, 0.6, 3, 2)
    Q = QQT.evaluate(W1=W1, W2=W2, Syx=Syx, t=1.3)
    V1, V2 = weights_from_qqt(Q, 3, 2)
    Qv = np.vstack([V1.T, V2])
    assert np.max(np.abs(Qv @ Qv.T - Q)) <= 1e-13
    from numerics._qqt import measured_lambda
    assert abs(measured_lambda(V1, V2)[0] - 0.6) <= 1e-13
    c = chain(W1, W2, [Syx, -0.5 * Syx], [1.0, 1.0], n_t=3)
    assert c["loss"].shape == (2, 6) and np.array_equal(c["task_index"], [0, 0, 0, 1, 1, 1])
