"""adaptive_kernel.*: domains, the scalar equations, the general-data solution, and checks that can fail."""

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from proofs import _adaptive_kernel as pak

SHALLOW, DEEP, RANK1 = (derive.get(n) for n in ("adaptive_kernel.shallow_gain", "adaptive_kernel.deep_gain",
                                                "adaptive_kernel.rank_one"))
U = 2.0**-52


def test_registered_names_parameters_and_the_posterior_warning():
    assert [p.name for p in SHALLOW.params] == ["gamma0"]
    assert [p.name for p in DEEP.params] == ["gamma0", "beta", "L", "ell"]
    assert [p.name for p in RANK1.params] == ["X", "y", "gamma0", "beta"]
    doc = derive._adaptive_kernel.__doc__
    assert "Bayesian posterior" in doc and "not the gain of gradient-flow training" in doc
    for r in (SHALLOW, DEEP, RANK1):
        assert r.latex().startswith(r"\begin{aligned}") and "lauditi2025adaptive" in r.references
        assert any("NOT gradient-flow" in c for c in r.conditions)


@pytest.mark.parametrize("res, kw, param, text", [
    (SHALLOW, dict(gamma0=-1.0), "gamma0", ">= 0"),
    (DEEP, dict(gamma0=1e101, beta=2.0, L=2, ell=1), "gamma0", "<= 1e"),
    (DEEP, dict(gamma0=1.0, beta=0.5, L=2, ell=1), "beta", ">= 1"),
    (DEEP, dict(gamma0=1.0, beta=2.0, L=2, ell=3), "ell", "ell <= L"),
    (DEEP, dict(gamma0=1.0, beta=2.0, L=1.5, ell=1), "L", "integer"),
    (RANK1, dict(X=np.ones((3, 4)), y=np.ones(2), gamma0=1.0, beta=2.0), "y", "one label per row"),
    (RANK1, dict(X=np.ones((3, 4)), y=[1.0, 0.0, 0.0], gamma0=1.0, beta=np.inf), "beta", "invertible"),
    (RANK1, dict(X=np.ones((3, 4)), y=np.ones(3), gamma0=1.0, beta=0.0), "beta", "> 0"),
])
def test_invalid_input_names_the_parameter(res, kw, param, text):
    with pytest.raises(ValueError, match=rf"^{param}:.*{text}"):
        res.evaluate(**kw)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.floats(0.0, 1e3), st.floats(0.0, 1e100)), st.one_of(st.just(np.inf), st.floats(1.0, 1e6)), st.integers(1, 60), st.data())
@example(0.0, np.inf, 1, None)
@example(1e3, 1.0, 60, None)
@example(1e100, np.inf, 1000, None)
@example(1e100, 1.0, 1, None)
@example(1e-30, 1.0, 2, None)  # 1 + bracket width rounds to 1 (was an endless widening loop)
@example(1.0, 1.0, 51, None)  # plain Newton oscillates across the steep residual here (needs the rtsafe rule)
def test_deep_gain_solves_its_equation(g, beta, L, data):
    ell = data.draw(st.integers(0, L)) if data is not None else L
    out = DEEP.evaluate(gamma0=g, beta=beta, L=L, ell=ell)
    x = 1.0 - float(out["chi"])
    b = 0.0 if np.isinf(beta) else 1.0 / beta
    w = x ** (-L)
    # G(x) = x - 1 - g^2 w/(1 + b w)^2 has slope >= 1, so |G| at the float root is a few u x
    assert abs(x - 1 - g * g * w / (1 + b * w) ** 2) <= 8 * U * x * (1 + L)
    assert 1.0 <= x <= 1.0 + g * g / (1 + b) ** 2 + 4 * U
    assert float(out["c_ell"]) == pytest.approx(x**ell, rel=4 * U * (ell + 1))
    # monotone: more richness, larger gain; lower temperature (larger beta), larger gain
    more = DEEP.evaluate(gamma0=min(g * 1.1 + 1e-3, 1e100), beta=beta, L=L, ell=ell)
    assert float(more["c_L"]) >= float(out["c_L"])


def test_shallow_gain_values():
    np.testing.assert_allclose(SHALLOW.evaluate(gamma0=[0.0, 1.0, np.sqrt(2.0)]),
                               [1.0, (1 + np.sqrt(5)) / 2, 2.0], rtol=2 * U)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 12), st.floats(0.0, 5.0),
       st.one_of(st.just(np.inf), st.floats(0.05, 100.0)))
def test_rank_one_is_self_consistent(seed, P, extra, g, beta):
    rng = np.random.default_rng(seed)
    D = P + extra  # full row rank almost surely, so beta = inf is allowed
    X = rng.standard_normal((P, D)) * rng.uniform(0.2, 2.0, D)
    y = rng.standard_normal(P)
    out = RANK1.evaluate(X=X, y=y, gamma0=g, beta=beta)
    A, Phi, a, z = out["A"], out["Phi"], out["a"], float(out["z"])
    b = 0.0 if np.isinf(beta) else 1.0 / beta
    K = Phi + b * np.eye(P)
    cond = np.linalg.cond(K)
    # a = (Phi + I/beta)^-1 y to the conditioning of the solve
    assert np.linalg.norm(K @ a - y) <= 1e3 * cond * U * np.linalg.norm(y) * (1 + g * g * z)
    np.testing.assert_allclose(Phi, X @ A @ X.T / D, rtol=1e-10, atol=1e-10 * np.max(np.abs(Phi)))
    C = X @ X.T / D
    assert z >= 1.0 and z == pytest.approx(1.0 / (1.0 - g * g * (a @ C @ a)), rel=1e3 * cond * U * z)
    ev = np.linalg.eigvalsh(A - np.eye(D))
    assert np.all(ev[:-1] <= 1e-10 * max(ev[-1], 1.0)) and ev[-1] >= -1e-12  # rank one, positive


def test_rank_one_broadcasts_over_gamma0_and_beta():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((4, 7)), rng.standard_normal(4)
    out = RANK1.evaluate(X=X, y=y, gamma0=np.array([[0.5], [2.0]]), beta=[1.0, np.inf])
    assert out["A"].shape == (2, 2, 7, 7) and out["Phi"].shape == (2, 2, 4, 4) and out["z"].shape == (2, 2)
    one = RANK1.evaluate(X=X, y=y, gamma0=2.0, beta=np.inf)
    np.testing.assert_array_equal(out["A"][1, 1], one["A"])
    assert out["z"][1, 1] == one["z"]


# -- the checks can fail ----------------------------------------------------------------------------
def test_stationarity_detects_a_wrong_gain():
    with mpmath.workdps(60):
        y = mpmath.matrix([1, 0, 0])
        g, beta, L = mpmath.mpf(1), mpmath.mpf(4), 2
        x = derive._adaptive_kernel.deep_root_mp(g, beta, L)
        good = pak.max_gradient_mp(*pak.whitened_saddle_mp(g, beta, L, y, x=x), mpmath.eye(3), y, g, beta, seed=0)
        bad = pak.max_gradient_mp(*pak.whitened_saddle_mp(g, beta, L, y, x=x * (1 + mpmath.mpf("1e-10"))),
                                  mpmath.eye(3), y, g, beta, seed=0)
        # the gradient-flow gain sqrt(1 + gamma^2) in place of the posterior's (1 + sqrt(1 + 4 gamma^2))/2 (L = 1)
        gf = pak.max_gradient_mp(*pak.whitened_saddle_mp(g, mpmath.inf, 1, y, x=mpmath.sqrt(1 + g**2)),
                                 mpmath.eye(3), y, g, mpmath.inf, seed=0)
    assert good <= 1e-30 and bad > 1e-12 and gf > 1e-3
