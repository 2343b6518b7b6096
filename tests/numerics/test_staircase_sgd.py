"""Finite-d online SGD on the merged staircase against the mean-field flow (``_staircase_sgd``)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from numerics._mean_field import staircase_mean_field
from numerics.simulate._staircase_sgd import staircase_sgd, staircase_sgd_runs

D = K = 128
SEEDS = 6


@functools.cache
def _runs(T=4.0):
    return np.array([staircase_sgd(d=D, k=K, batch=K, lr=1.0, T=T, n_records=2, n_eval=32, seed=s)["fourier"]
                     for s in range(SEEDS)])


def test_seeded_runs_repeat_and_differ_across_seeds():
    a = staircase_sgd(d=16, k=8, batch=4, lr=1.0, T=1.0, n_records=2, n_eval=4, seed=5)
    b = staircase_sgd(d=16, k=8, batch=4, lr=1.0, T=1.0, n_records=2, n_eval=4, seed=5)
    c = staircase_sgd(d=16, k=8, batch=4, lr=1.0, T=1.0, n_records=2, n_eval=4, seed=6)
    assert np.array_equal(a["fourier"], b["fourier"])
    assert not np.array_equal(a["fourier"], c["fourier"])
    assert np.allclose(a["t"], [0.0, 0.5, 1.0])


def test_runs_stack_seeds_and_summarise():
    kw = {"d": 16, "k": 8, "batch": 4, "lr": 1.0, "T": 1.0, "n_records": 2, "n_eval": 4}
    r = staircase_sgd_runs([5, 6, 7], **kw)
    assert r["fourier"].shape == (3, 3, 3)
    assert np.array_equal(r["fourier"][0], staircase_sgd(seed=5, **kw)["fourier"])
    assert np.array_equal(r["median"], np.median(r["fourier"], axis=0))
    assert np.all(r["lo"] <= r["median"]) and np.all(r["median"] <= r["hi"])
    with pytest.raises(ValueError, match="^seeds must"):
        staircase_sgd_runs([1], **kw)


def test_sgd_median_over_seeds_follows_the_mean_field_coefficient_of_x1():
    # mean-field time t = lr steps / k; the init w ~ N(0, I/d) has S^2 = (d - 3)/d off the support
    F = _runs()
    mfl = staircase_mean_field(np.array([2.0, 4.0]), s0=math.sqrt((D - 3) / D), J=64, dt=0.1)["c1"]
    med = np.median(F[:, 1:, 0], axis=0)
    se_median = 1.2533 * F[:, 1:, 0].std(axis=0, ddof=1) / math.sqrt(SEEDS)
    # z = 4 standard errors of the median, plus the midpoint-rule error of the mean field (< 1e-4)
    assert np.all(np.abs(med - mfl) <= 4 * se_median + 1e-4)
    # the comparison can fail: a clock off by a factor 2 (t = lr steps/(2k)) misses by many errors
    mf_half = staircase_mean_field(np.array([1.0, 2.0]), s0=math.sqrt((D - 3) / D), J=64, dt=0.1)["c1"]
    assert np.all(np.abs(med - mf_half) > 4 * se_median + 1e-4)


def test_higher_coefficients_still_on_their_plateau_at_t4():
    # mean field at t = 4: c12 ~ 6e-4, c123 ~ 4e-5; the SGD estimates must be zero within z = 4 errors
    F = _runs()
    for c in (1, 2):
        x = F[:, -1, c]
        assert abs(np.median(x)) <= 4 * 1.2533 * x.std(ddof=1) / math.sqrt(SEEDS) + 1e-3


@pytest.mark.parametrize("kw,match", [({"d": 3}, "^d must"), ({"k": 0}, "^k must"), ({"lr": 0.0}, "^lr must"),
                                      ({"T": -1.0}, "^T must"), ({"n_eval": 1}, "^n_eval must")])
def test_bad_input_raises(kw, match):
    with pytest.raises(ValueError, match=match):
        staircase_sgd(**kw)
