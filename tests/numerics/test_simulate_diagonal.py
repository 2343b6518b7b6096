"""The diagonal-network simulator: initialisation, conservation, resets, loss-threshold stop, GD order."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics.simulate._diagonal import (
    bernoulli_gaussian_task,
    diagonal_init,
    pretrain_finetune,
    reset,
    train,
)


@given(c=st.floats(1e-6, 10), ratio=st.floats(-1, 1))
@example(c=1.0, ratio=1.0)
@example(c=1.0, ratio=-1.0)
@example(c=0.5283013160588532, ratio=0.9791778563993834)  # c recovered 2 ulp high
def test_init_has_the_requested_scales(c, ratio):
    w = diagonal_init(c, ratio * c, 3)
    # c is recovered as a product of weights, each a sqrt of a rounded argument (<= 1.5 ulp each),
    # plus the product's own rounding: at most 4 ulp
    np.testing.assert_allclose(w.c, c, rtol=4 * 2.0**-52)
    np.testing.assert_allclose(w.lam_plus, ratio * c, rtol=1e-15, atol=4e-16 * c)  # lazyrich sign: v^2 - w^2
    np.testing.assert_allclose(w.kappa, 2 * c, rtol=4 * 2.0**-52)
    assert np.all(w.beta == 0)


def test_init_rejects_bad_scales():
    with pytest.raises(ValueError, match="^lam:"):
        diagonal_init(1.0, 1.5, 3)
    with pytest.raises(ValueError, match="^c:"):
        diagonal_init(0.0, 0.0, 3)


def test_resets():
    X, y, _ = bernoulli_gaussian_task(4, 9, 0.5, seed=0)
    pt = train(diagonal_init(0.3, 0.1, 9), X, y).weights
    b = reset(pt, "readout_reset", 0.7)
    np.testing.assert_array_equal(b.w_plus, pt.w_plus)
    assert np.all(b.v_plus == 0.7) and np.all(b.v_minus == 0.7)
    a = reset(pt, "merged", 0.7)
    np.testing.assert_array_equal(a.w_plus, pt.w_plus + pt.w_minus)
    np.testing.assert_array_equal(a.w_minus, a.w_plus)
    assert np.all(a.beta == 0)
    with pytest.raises(ValueError, match="^protocol:"):
        reset(pt, "other", 0.0)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), c=st.floats(0.05, 2.0), ratio=st.floats(-0.95, 0.95),
       gamma=st.floats(-1, 1))
def test_flow_conserves_and_interpolates(seed, c, ratio, gamma):
    X, y, _ = bernoulli_gaussian_task(5, 10, 0.4, seed=seed)
    Xf, yf, _ = bernoulli_gaussian_task(5, 10, 0.4, seed=seed + 1)
    run = pretrain_finetune(X, y, Xf, yf, c=c, lam=ratio * c, gamma=gamma, protocol="readout_reset")
    for a, b in ((run.init, run.pretrained), (run.reset, run.finetuned)):
        # DP5(4) at rtol 1e-12: the invariants drift by a few hundred rtol at most over the run
        scale = np.maximum(np.abs(a.c), 1.0)
        assert np.abs(a.c - b.c).max() <= 1e-9 * scale.max()
        assert np.abs(a.lam_plus - b.lam_plus).max() <= 1e-9 * scale.max()
    assert run.pretraining.loss <= 1e-22 and run.finetuning.loss <= 1e-22
    assert np.abs(X @ run.pretrained.beta - y).max() <= 1e-10


def test_seeded_task_is_reproducible():
    a, b = bernoulli_gaussian_task(3, 5, 0.5, 7), bernoulli_gaussian_task(3, 5, 0.5, 7)
    for x, z in zip(a, b):
        np.testing.assert_array_equal(x, z)


def test_budget_exhaustion_is_an_error():
    X, y, _ = bernoulli_gaussian_task(4, 8, 0.5, seed=0)
    with pytest.raises(RuntimeError, match="max_steps"):
        train(diagonal_init(0.1, 0.0, 8), X, y, method="descent", eta=0.01, max_steps=10)
    with pytest.raises(RuntimeError, match="diverged"):
        train(diagonal_init(1.0, 0.0, 8), X, y * 100, method="descent", eta=50.0)
    with pytest.raises(ValueError, match="^eta:"):
        train(diagonal_init(1.0, 0.0, 8), X, y, method="descent")


def test_descent_approaches_flow_at_first_order():
    X, y, _ = bernoulli_gaussian_task(6, 12, 0.4, seed=2)
    init = diagonal_init(0.2, 0.1, 12)
    flow = train(init, X, y).weights.beta
    etas = np.array([0.2, 0.1, 0.05])
    errs = [np.abs(train(init, X, y, method="descent", eta=e).weights.beta - flow).max() for e in etas]
    slope = np.polyfit(np.log(etas), np.log(errs), 1)[0]
    assert abs(slope - 1) < 0.2, (slope, errs)
