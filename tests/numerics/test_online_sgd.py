"""Online SGD simulator: its random numbers, the reduced (exact-in-law) chain against the full one,
seeding, activations, validation."""

import math

import numba
import numpy as np
import pytest
from scipy import stats

from numerics.simulate import _rng
from numerics.simulate._online_sgd import _act, online_sgd

Z = 4.5


def test_normals_moments_and_distribution():
    n = 400_000
    x = _rng.normals(12345, n)
    assert abs(x.mean()) / math.sqrt(1 / n) < Z
    assert abs(x.var() - 1) / math.sqrt(2 / n) < Z
    assert abs(np.mean(x**4) - 3) / math.sqrt(96 / n) < Z  # Var z^4 = 105 - 9
    assert stats.kstest(x, "norm").pvalue > 1e-4
    assert abs(np.mean(np.abs(x) > 3.442619855899) - 2 * stats.norm.sf(3.442619855899)) < Z * math.sqrt(6e-4 / n)


@pytest.mark.parametrize("k", [0.0, 1.0, 3.0, 510.0])
def test_chi2(k):
    c = _rng.chi2s(7, 100_000, k)
    if k == 0.0:
        assert np.all(c == 0.0)
        return
    assert abs(c.mean() - k) / math.sqrt(2 * k / c.size) < Z
    assert stats.kstest(c, "chi2", args=(k,)).pvalue > 1e-4


def test_hermite_activation_recurrence():
    c = np.array([0.0, 0.0, 1.0, 0.5])  # h_2 + h_3 / 2
    for z in (-2.0, 0.0, 0.7, 3.0):
        v, dv = _act(0, c, z)
        assert v == pytest.approx((z * z - 1) / math.sqrt(2) + 0.5 * (z**3 - 3 * z) / math.sqrt(6), rel=1e-14, abs=1e-15)
        assert dv == pytest.approx(math.sqrt(2) * z + 0.5 * (3 * z * z - 3) / math.sqrt(6), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("update", ["spherical", "free"])
def test_reduced_chain_matches_full_chain_in_law(update):
    """Two independent sets of 96 runs: mean overlap and norm after 3000 steps agree within Z standard errors."""
    kw = dict(d=64, steps=3000, eta=2e-3, runs=96, student="relu", loss="mse", update=update, m0=0.1, every=3000)
    full = online_sgd(**kw, seed=1, method="full")
    red = online_sgd(**kw, seed=2, method="reduced")
    for a, b in ((full.m[:, -1], red.m[:, -1]), (full.norm[:, -1], red.norm[:, -1])):
        se = math.hypot(a.std(ddof=1), b.std(ddof=1)) / math.sqrt(96)
        assert abs(a.mean() - b.mean()) <= Z * se + 1e-12
    assert abs(full.m[:, -1].mean() - 0.1) > 10 * full.m[:, -1].std(ddof=1) / math.sqrt(96)  # it did learn


def test_seeding_is_reproducible_and_per_run():
    kw = dict(d=32, steps=200, eta=1e-2, runs=3, student=[0.0, 1.0], loss="square", every=100)
    a, b = online_sgd(**kw, seed=4), online_sgd(**kw, seed=4)
    np.testing.assert_array_equal(a.m, b.m)
    assert not np.array_equal(a.m[0], a.m[1])
    assert not np.array_equal(a.m, online_sgd(**kw, seed=5).m)
    assert a.bands().shape == (3, 3)


def test_numba_activation_functions_give_the_builtin_chain():
    relu = numba.njit(lambda z: max(z, 0.0))
    drelu = numba.njit(lambda z: 1.0 if z > 0.0 else 0.0)
    kw = dict(d=16, steps=100, eta=1e-2, runs=2, loss="mse", update="free", every=50, seed=3)
    a = online_sgd(student="relu", **kw)
    b = online_sgd(numba_activations=((relu, drelu), (relu, drelu)), **kw)
    np.testing.assert_array_equal(a.m, b.m)


@pytest.mark.parametrize("kw, name", [({"d": 1}, "d"), ({"every": 3}, "every"), ({"eta": 0.0}, "eta"),
                                      ({"loss": "l1"}, "loss"), ({"update": "adam"}, "update"),
                                      ({"m0": 2.0}, "m0"), ({"student": "gelu"}, "student"),
                                      ({"method": "fast"}, "method")])
def test_validation(kw, name):
    base = dict(d=8, steps=10, eta=0.1, every=5)
    base.update(kw)
    with pytest.raises(ValueError, match=f"^{name}:"):
        online_sgd(**base)


@pytest.mark.parametrize("d", [5, 63, 64])
def test_full_chain_first_step_is_the_update_on_the_lane_normals(d):
    """One step of the full chain by hand, from the normals of the run's lanes (any d, not only multiples of 4)."""
    from numerics.simulate import _rng_fast

    eta, m0 = 0.05, 0.3
    out = online_sgd(d=d, steps=1, eta=eta, runs=1, student="relu", loss="mse", update="free", m0=m0, seed=9)
    # rebuild w0 and the run's seed exactly as online_sgd does
    children = np.random.SeedSequence([9]).spawn(2)
    v = np.random.default_rng(children[-1]).standard_normal((1, d))
    v[:, 0] = 0.0
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    w = math.sqrt(1 - m0 * m0) * v[0]
    w[0] = m0
    seed = int(children[0].generate_state(1)[0])
    x = _rng_fast.normals(seed, d, _rng_fast.lanes_for(d))
    z = w @ x
    dl = 2.0 * (max(z, 0.0) - max(x[0], 0.0)) * (z > 0)
    w1 = w - eta * dl * x
    # the simulator's projection w.x is a reassociated sum: two summation orders differ by at most
    # 2 d eps sum|w_q x_q|; through dl = 2(z - y) it moves w1 by 2 eta |dz| |x|, and m, |w1| by twice that
    eps = np.finfo(float).eps
    dz = 2 * d * eps * np.abs(w * x).sum()
    tol = 2 * 2 * eta * dz * np.linalg.norm(x) / np.linalg.norm(w1) + 8 * eps
    assert abs(out.m[0, 1] - w1[0] / np.linalg.norm(w1)) <= tol
    assert abs(out.norm[0, 1] / np.linalg.norm(w1) - 1) <= tol


def test_spherical_full_chain_stays_on_the_sphere():
    out = online_sgd(d=100, steps=500, eta=5e-3, runs=2, student=[0.0, 0.0, 1.0], loss="correlation",
                     update="spherical", m0=0.2, every=50, seed=11)
    np.testing.assert_allclose(out.norm, 1.0, rtol=0, atol=1e-14)
    assert np.all(np.abs(out.m) <= 1.0)
