"""diagonal.*: kernels against their 50-digit twins, the weights' invariants, the fine-tuning scales
against their definition from the reset weights, lam-independence of pretraining, bad input."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from numerics.simulate._diagonal import (
    DiagonalWeights,
    bernoulli_gaussian_task,
    diagonal_init,
    reset,
    train,
)

U = np.finfo(float).eps
POT = derive.get("diagonal.potential")
WEIGHTS = derive.get("diagonal.weights_after_pretraining")
KB = derive.get("diagonal.kappa_ft_readout_reset")
KA = derive.get("diagonal.kappa_ft_merged")
BIAS = derive.get("diagonal.implicit_bias")

log_kappa = st.floats(-300, 4)
betas = st.floats(-1e6, 1e6)


@settings(max_examples=50)
@given(lk=log_kappa, b=betas)
@example(lk=-300.0, b=0.0)
@example(lk=-300.0, b=1e6)
@example(lk=4.0, b=1e-300)
def test_potential_matches_mpmath(lk, b):
    k = 10.0**lk
    val, ref = POT.evaluate(kappa=k, beta=b), POT.mp(dps=50, kappa=k, beta=b)
    for name in ("phi", "dphi", "d2phi"):
        r = float(ref[name])
        assert abs(float(val[name]) - r) <= 8 * U * abs(r) + 1e-320, name


def test_potential_latex_and_bad_input():
    assert r"\operatorname{asinh}" in POT.latex()
    with pytest.raises(ValueError, match="^kappa:"):
        POT.evaluate(kappa=0.0, beta=1.0)


scales = st.tuples(st.floats(1e-4, 10), st.floats(-1, 1), st.floats(-100, 100))


def _weights(c, lam, b):
    return DiagonalWeights(*(np.atleast_1d(WEIGHTS.evaluate(c=c, lam=lam, beta=b)[k])
                             for k in ("w_plus", "w_minus", "v_plus", "v_minus")))


@settings(max_examples=50)
@given(p=scales)
@example(p=(1.0, 1.0, 1e-4))
@example(p=(1.0, -1.0, -30.0))
@example(p=(1.0, 0.0, 0.0))
@example(p=(1e-4, 0.99, 100.0))
def test_weights_reproduce_the_invariants(p):
    c, ratio, b = p
    lam = ratio * c
    w = _weights(c, lam, b)
    size = c + abs(b)  # the products below are of this size; the weights are accurate to a few u
    assert abs(w.beta[0] - b) <= 16 * U * size
    assert abs(w.c[0] - c) <= 16 * U * size
    assert abs(w.lam_plus[0] - lam) <= 16 * U * size and abs(w.lam_minus[0] - lam) <= 16 * U * size


def test_weights_at_zero_beta_are_the_init():
    for ratio in (-1.0, -0.5, 0.0, 0.5, 1.0):
        w, init = _weights(2.0, 2.0 * ratio, 0.0), diagonal_init(2.0, 2.0 * ratio, 1)
        for k in ("w_plus", "w_minus", "v_plus", "v_minus"):
            assert abs(getattr(w, k)[0] - getattr(init, k)[0]) <= 4 * U


def test_weight_flip_sign():
    """Smaller first layer (lam > 0, lazyrich sign) and large beta: the opposing path's first-layer weight < 0."""
    w = WEIGHTS.evaluate(c=1.0, lam=0.9, beta=3.0)
    assert w["w_minus"] < 0 < w["w_plus"] and w["v_plus"] > 0 and w["v_minus"] > 0
    w = WEIGHTS.evaluate(c=1.0, lam=-0.9, beta=3.0)  # larger first layer: the readout flips instead
    assert w["v_minus"] < 0 < w["v_plus"] and w["w_minus"] > 0


@settings(max_examples=50)
@given(p=scales, gamma=st.floats(-3, 3))
@example(p=(1.0, 1.0, 0.0), gamma=0.0)
@example(p=(1.0, -1.0, 2.0), gamma=0.0)
def test_finetune_scales_equal_their_definition(p, gamma):
    c, ratio, b = p
    lam = ratio * c
    pt = _weights(c, lam, b)
    size = c + abs(b) + gamma**2
    for res, protocol in ((KB, "readout_reset"), (KA, "merged")):
        r = reset(pt, protocol, gamma)
        val = res.evaluate(c=c, lam=lam, beta_pt=b, gamma=gamma)
        assert abs(val["kappa"] - r.kappa[0]) <= 64 * U * size, protocol
        assert abs(val["centre"] - r.beta[0]) <= 64 * U * np.sqrt(size), protocol


def test_gamma_zero_readout_reset_is_S_minus_lam():
    c, lam, b = 0.7, 0.5, np.linspace(-3, 3, 13)
    np.testing.assert_allclose(KB.evaluate(c=c, lam=lam, beta_pt=b, gamma=0.0)["kappa"],
                               np.hypot(c, b) - lam, rtol=8 * U)


def test_kernels_match_mpmath():
    for c, lam, b, g in ((1.0, 0.3, 2.0, 0.5), (1e-3, -1e-3, 5.0, 0.0), (2.0, 1.99, -0.01, 1.5)):
        for res in (KB, KA):
            val, ref = res.evaluate(c=c, lam=lam, beta_pt=b, gamma=g), res.mp(dps=50, c=c, lam=lam, beta_pt=b, gamma=g)
            for k in val:
                assert abs(float(val[k]) - float(ref[k])) <= 8 * U * max(abs(float(ref[k])), c)


@pytest.mark.parametrize("res", [WEIGHTS, KB, KA])
def test_lam_outside_c_is_rejected(res):
    params = {"c": 1.0, "lam": 1.5, "gamma": 0.0, "beta": 0.1, "beta_pt": 0.1}
    params = {p.name: params[p.name] for p in res.params}
    with pytest.raises(ValueError, match="^lam: lam must satisfy"):
        res.evaluate(**params)


def test_note_sign_would_be_wrong():
    """Mutation: reading lam with the research note's sign gives a different (wrong) kappa for lam != 0."""
    good = KA.evaluate(c=1.0, lam=0.5, beta_pt=1.0, gamma=0.0)["kappa"]
    flipped = KA.evaluate(c=1.0, lam=-0.5, beta_pt=1.0, gamma=0.0)["kappa"]
    X, y, _ = bernoulli_gaussian_task(4, 1, 1.0, seed=0)  # one coordinate, n = 4 consistent data
    y = X[:, 0] * 1.0
    pt = train(diagonal_init(1.0, 0.5, 1), X, y).weights
    measured = reset(pt, "merged", 0.0).kappa[0]
    assert abs(good - measured) <= 1e-9 and abs(flipped - measured) > 0.1


def test_pretrained_predictor_does_not_depend_on_lam():
    X, y, _ = bernoulli_gaussian_task(6, 14, 0.3, seed=11)
    theory = BIAS.evaluate(X=X, y=y, kappa=0.2, beta0=0.0)
    for ratio in (-0.99, -0.5, 0.0, 0.5, 0.99):
        beta = train(diagonal_init(0.1, 0.1 * ratio, 14), X, y).weights.beta
        # integrator at rtol 1e-12 stopped at loss 1e-22: measured agreement ~1e-10
        assert np.abs(beta - theory).max() <= 1e-9, ratio


def test_implicit_bias_shapes_and_twin():
    X, y, _ = bernoulli_gaussian_task(3, 7, 0.5, seed=1)
    with pytest.raises(ValueError, match="^kappa:"):
        BIAS.evaluate(X=X, y=y, kappa=np.ones(3), beta0=0.0)
    b = BIAS.evaluate(X=X, y=y, kappa=0.5, beta0=0.1)
    ref = BIAS.mp(dps=30, X=X, y=y, kappa=0.5, beta0=0.1)
    assert max(abs(float(r) - v) for r, v in zip(ref, b)) <= 1e-14
    assert r"\sinh" in BIAS.latex()
