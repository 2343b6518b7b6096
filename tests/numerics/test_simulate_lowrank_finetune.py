"""Rank-1 adapter online SGD: the per-sample gradient and update against an independent NumPy implementation,
the activations' Hermite coefficients (information exponents), the reduced chain against the full chain in law,
seeding, the escape of the adapter against learning from scratch, and the exponent fit."""

import math

import numpy as np
import pytest
from numpy.polynomial import hermite_e
from scipy import integrate, stats

from numerics.simulate._lowrank_finetune import (
    SHRINK_P,
    _act,
    _resolve,
    activation_coefficients,
    adapter_loss_grad,
    adapter_sgd,
    adapter_step,
    fit_exponent,
    step_size,
)

Z = 4.5
EPS = np.finfo(float).eps


# -- an independent NumPy model -------------------------------------------------------------------------
def np_sigma(name, z):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "abs":
        return np.abs(z)
    if name == "shrink3":
        return np.sign(z) * np.maximum(np.abs(z) - 1.0, 0.0) - SHRINK_P * z
    c = np.asarray(name, dtype=float)  # Hermite coefficients of h_j = He_j / sqrt(j!)
    return hermite_e.hermeval(z, c / np.sqrt([math.factorial(j) for j in range(c.size)]))


def np_loss(u, x, act, base, lam, xs):
    m = lam.size
    f = np.sum(lam * np_sigma(act, base * x[:m] + xs * (u @ x)))
    y = np.sum(lam * np_sigma(act, base * x[:m] + xs * x[m]))
    return 0.5 * (f - y) ** 2


ACTS = ["relu", "abs", "shrink3", [0.0, 0.0, 1.0, 0.5], [0.3, 1.0, -0.4]]


@pytest.mark.parametrize("act", ACTS, ids=["relu", "abs", "shrink3", "h2+h3/2", "hermite-1"])
@pytest.mark.parametrize("base", [1.0, 0.0, 0.7])
def test_gradient_against_finite_differences(act, base):
    rng = np.random.default_rng(3)
    d, lam, xs = 12, np.array([0.6, -0.3, 0.5]), np.array([1.0, 0.5, -2.0])
    for _ in range(5):
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        x = rng.standard_normal(d)
        loss, g = adapter_loss_grad(u, x, activation=act, base=base, lam=lam, xi_star=xs)
        assert loss == pytest.approx(np_loss(u, x, act, base, lam, xs), rel=1e-13, abs=1e-15)
        h = 1e-5
        fd = np.array([(np_loss(u + h * e, x, act, base, lam, xs) - np_loss(u - h * e, x, act, base, lam, xs)) / (2 * h)
                       for e in np.eye(d)])
        # central differences: truncation h^2 |l'''| / 6 (zero on the linear pieces; kinks are hit with
        # probability O(h)) plus rounding ~ eps |l| / h
        tol = 1e-8 * (1 + np.abs(g).max() + loss) + 10 * EPS * (1 + loss) / h
        np.testing.assert_allclose(g, fd, atol=tol, rtol=0)
        if np.abs(fd).max() > 1e-3:  # the check discriminates: a 0.1% error in the gradient is caught
            assert np.abs(1.001 * g - fd).max() > tol


@pytest.mark.parametrize("act", ["abs", [0.0, 1.0, 0.5]])
def test_spherical_step_against_numpy(act):
    """u' = (u - eta (I - u u^T) grad) / ||.|| with the NumPy gradient (finite differences of the NumPy loss)."""
    rng = np.random.default_rng(8)
    d, lam, xs, eta = 10, np.array([0.5, 0.5]), np.array([1.0, 1.0]), 0.05
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    for _ in range(4):  # a few consecutive steps
        x = rng.standard_normal(d)
        h = 1e-6
        grad = np.array([(np_loss(u + h * e, x, act, 1.0, lam, xs) - np_loss(u - h * e, x, act, 1.0, lam, xs)) / (2 * h)
                         for e in np.eye(d)])
        ref = u - eta * (grad - (u @ grad) * u)
        ref /= np.linalg.norm(ref)
        before = np_loss(u, x, act, 1.0, lam, xs)
        loss = adapter_step(u, x, eta=eta, activation=act, base=1.0, lam=lam, xi_star=xs)
        assert loss == pytest.approx(before, rel=1e-13, abs=1e-15)  # the loss before the step
        np.testing.assert_allclose(u, ref, atol=1e-8, rtol=0)  # finite-difference error, times eta
        assert np.linalg.norm(u) == pytest.approx(1.0, abs=4 * EPS * d)


# -- activations -----------------------------------------------------------------------------------------
def _hermite_coefficient(name, j):
    he = hermite_e.HermiteE.basis(j)
    f = lambda z: np_sigma(name, np.array([z]))[0] * he(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    # split at the kinks (0 and +-1), so that each piece is smooth
    val = sum(integrate.quad(f, a, b, epsabs=1e-13, epsrel=1e-13, limit=200)[0]
              for a, b in ((-np.inf, -1.0), (-1.0, 0.0), (0.0, 1.0), (1.0, np.inf)))
    return val / math.sqrt(math.factorial(j))


@pytest.mark.parametrize("k, name", [(1, "relu"), (2, "abs"), (3, "shrink3")])
def test_information_exponents_of_the_relu_type_activations(k, name):
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    exact = {1: 0.5, 2: 2 * phi(0) / math.sqrt(2), 3: 2 * phi(1.0) / math.sqrt(6)}[k]
    c = [_hermite_coefficient(name, j) for j in range(1, k + 1)]
    # quadrature on the smooth pieces at 1e-13
    np.testing.assert_allclose(c[:-1], 0.0, atol=1e-11)
    assert c[-1] == pytest.approx(exact, rel=1e-10)
    assert _resolve(k)[0] == _resolve(name)[0]


@pytest.mark.parametrize("name", ["relu", "abs", "shrink3", "tanh"])
def test_activation_derivatives(name):
    kind, c = _resolve(name)
    for z in (-2.3, -0.4, 0.3, 1.7):
        h = 1e-6
        v, dv = _act(kind, c, z)
        assert dv == pytest.approx((_act(kind, c, z + h)[0] - _act(kind, c, z - h)[0]) / (2 * h), abs=1e-8)
        if name != "tanh":
            assert v == pytest.approx(np_sigma(name, np.array([z]))[0], abs=1e-15)


def test_activation_coefficients_have_the_information_exponent():
    for k in (1, 2, 3, 5):
        c = activation_coefficients(k)
        assert np.flatnonzero(c)[0] == k and np.sum(c**2) == pytest.approx(1.0, abs=1e-15)


# -- the chain -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("base, k", [(1.0, 2), (0.0, 1)])
def test_reduced_chain_matches_full_chain_in_law(base, k):
    """Independent seeds, 128 runs each: mean overlap after 300 and 900 steps agree within Z standard errors."""
    d, runs = 24, 128
    kw = {"d": d, "steps": 900, "eta": 0.5 / d, "runs": runs, "activation": k, "base": base, "every": 300, "stop": False}
    full = adapter_sgd(**kw, seed=1, method="full")
    red = adapter_sgd(**kw, seed=2, method="reduced")
    for j in (1, 3):
        a, b = full.m[:, j], red.m[:, j]
        se = math.hypot(a.std(ddof=1), b.std(ddof=1)) / math.sqrt(runs)
        assert abs(a.mean() - b.mean()) <= Z * se
    # it moved: the mean overlap rose by many standard errors from the start
    assert red.m[:, 3].mean() - red.m[:, 0].mean() > 10 * red.m[:, 3].std(ddof=1) / math.sqrt(runs)


def test_same_start_in_both_methods_and_reproducible_seeds():
    kw = {"d": 40, "steps": 400, "eta": 0.01, "runs": 3, "activation": 1, "every": 100, "stop": False}
    a, b = adapter_sgd(**kw, seed=4), adapter_sgd(**kw, seed=4)
    np.testing.assert_array_equal(a.m, b.m)
    np.testing.assert_array_equal(a.hit, b.hit)
    assert not np.array_equal(a.m, adapter_sgd(**kw, seed=5).m)
    assert not np.array_equal(a.m[0], a.m[1])
    full = adapter_sgd(**kw, seed=4, method="full")
    np.testing.assert_array_equal(full.m[:, 0], a.m[:, 0])  # the same u_0
    assert (a.m[:, 0] >= 0).all()  # the favourable half-sphere
    np.testing.assert_array_equal(full.m, adapter_sgd(**kw, seed=4, method="full").m)
    big = adapter_sgd(**{**kw, "runs": 6}, seed=4)
    np.testing.assert_array_equal(big.m[:3], a.m)  # prefix-stable


def test_stopped_runs_and_censoring():
    r = adapter_sgd(d=32, steps=4000, eta=0.5 / 32, runs=4, activation=1, every=10, seed=0)
    assert (r.hit > 0).all()
    for i, h in enumerate(r.hit):
        j = h // 10 + 1  # first record after the hit
        assert np.isnan(r.m[i, j:]).all() and np.isfinite(r.m[i, :j]).all()
        assert (np.abs(r.m[i, : (h - 1) // 10 + 1]) < 0.9).all()
    short = adapter_sgd(d=32, steps=5, eta=0.5 / 32, runs=4, activation=1, seed=0)
    assert short.censored.all() and np.isinf(short.hitting_steps()).all()


def test_adapter_escapes_faster_than_learning_from_scratch():
    """d = 64, k = 3, 15 runs each: the distribution-free 96.5% interval of the fine-tuning median,
    [x_(4), x_(12)], lies below the from-scratch one (Binomial(15, 1/2) order statistics)."""
    d, runs = 64, 15
    ft = adapter_sgd(d=d, steps=10**5, eta=step_size("finetune", 3, d), runs=runs, activation=3, base=1.0, seed=5)
    sc = adapter_sgd(d=d, steps=10**6, eta=step_size("scratch", 3, d), runs=runs, activation=3, base=0.0, seed=6)
    assert stats.binom.cdf(11, runs, 0.5) - stats.binom.cdf(3, runs, 0.5) > 0.96
    a, b = np.sort(ft.hitting_steps()), np.sort(sc.hitting_steps())
    assert a[11] < b[3]


# -- the fit ---------------------------------------------------------------------------------------------
def test_fit_exponent_recovers_power_laws():
    rng = np.random.default_rng(0)
    ds = np.array([64, 128, 256, 512, 1024])
    noise = np.exp(0.2 * rng.standard_normal((5, 41)))
    for p in (1.0, 2.0):
        hits = 3.0 * ds[:, None] ** p * noise
        f = fit_exponent(ds, hits, boot=500)
        med = np.median(hits, axis=1)
        assert f["exponent"] == pytest.approx(np.polyfit(np.log(ds), np.log(med), 1)[0], rel=1e-12)
        assert f["ci"][0] < f["exponent"] < f["ci"][1] and f["ci"][1] - f["ci"][0] < 0.3
    exact = 5.0 * (ds * np.log(ds))[:, None] * np.ones((5, 7))
    assert fit_exponent(ds, exact, boot=50, log_correction=True)["exponent"] == pytest.approx(1.0, abs=1e-12)
    cens = exact.copy()
    cens[2, :4] = np.inf
    with pytest.raises(ValueError, match="^hits:"):
        fit_exponent(ds, cens)


@pytest.mark.parametrize("kw, name", [({"d": 4}, "d"), ({"every": 3}, "every"), ({"eta": 0.0}, "eta"),
                                      ({"runs": 0}, "runs"), ({"method": "fast"}, "method"),
                                      ({"activation": 4}, "activation"), ({"activation": "gelu"}, "activation"),
                                      ({"lam": [1.0]}, "lam"), ({"xi_star": [1.0, np.nan]}, "xi_star"),
                                      ({"level": 1.5}, "level"), ({"width": 0}, "width"),
                                      ({"base": np.inf}, "base")])
def test_validation(kw, name):
    base = {"d": 16, "steps": 10, "eta": 0.1, "every": 5}
    base.update(kw)
    with pytest.raises(ValueError, match=f"^{name}:"):
        adapter_sgd(**base)


def test_step_validation():
    with pytest.raises(ValueError, match="^u:"):
        adapter_step([1.0, 0.0, 0.0], np.ones(3), eta=0.1)
    with pytest.raises(ValueError, match="^x:"):
        adapter_step(np.array([1.0, 0.0, 0.0]), np.ones(4), eta=0.1)
