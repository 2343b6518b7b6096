"""linear_teacher.*: linear regression fine-tuned from source weights."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
import proofs

EST = derive.get("linear_teacher.estimator")
RISK = derive.get("linear_teacher.sample_risk")
ISO = derive.get("linear_teacher.risk_isotropic")
UNIT = 2.0**-52
CLAIMS = {c.name: c for c in proofs.claims("linear_teacher.*")}


def _well_conditioned(n, d, rng):
    """n x d design with singular values in [0.5, 2] (rank min(n, d)) by construction."""
    k = min(n, d)
    U = np.linalg.qr(rng.standard_normal((n, n)))[0][:, :k]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :k]
    return (U * rng.uniform(0.5, 2.0, k)) @ V.T


@settings(max_examples=50)
@given(n=st.integers(1, 8), d=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
@example(n=1, d=1, seed=0)
@example(n=6, d=3, seed=2)  # more samples than dimensions: w_ft = w_T
def test_estimator_interpolates_and_moves_only_in_the_row_space(n, d, seed):
    rng = np.random.default_rng(seed)
    X, wT, wS = _well_conditioned(n, d, rng), rng.standard_normal(d), rng.standard_normal(d)
    w = EST.evaluate(X=X, wT=wT, wS=wS)
    scale = np.linalg.norm(wT) + np.linalg.norm(wS)
    tol = 64 * d * UNIT * 4.0 * scale  # cond(X) <= 4
    assert np.max(np.abs(X @ w - X @ wT)) <= 2.0 * tol * np.sqrt(d)
    # w - w_S = X^T c: its component orthogonal to the rows vanishes
    Q = np.linalg.qr(X.T)[0][:, : min(n, d)]
    assert np.linalg.norm((w - wS) - Q @ (Q.T @ (w - wS))) <= tol
    if n >= d:
        assert np.max(np.abs(w - wT)) <= tol


@settings(max_examples=30)
@given(n=st.integers(1, 6), extra=st.integers(0, 6), seed=st.integers(0, 2**32 - 1))
def test_sample_risk_is_the_risk_of_the_estimator(n, extra, seed):
    d = n + extra
    rng = np.random.default_rng(seed)
    X, wT, wS = _well_conditioned(n, d, rng), rng.standard_normal(d), rng.standard_normal(d)
    A = rng.standard_normal((d, d))
    Sigma = A @ A.T
    e = EST.evaluate(X=X, wT=wT, wS=wS) - wT
    ref = float(e @ Sigma @ e)
    val = float(RISK.evaluate(X=X, Sigma=Sigma, wT=wT, wS=wS))
    assert val == pytest.approx(ref, rel=1e-12, abs=1e-12 * np.linalg.norm(Sigma, 2) * np.sum((wT - wS) ** 2))


def test_rank_deficient_design_projects_on_its_row_space():
    X = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])  # duplicate direction: row space = span(e1)
    w = EST.evaluate(X=X, wT=np.array([1.0, 2.0, 3.0]), wS=np.zeros(3))
    assert np.array_equal(w, np.array([1.0, 0.0, 0.0]))


@pytest.mark.parametrize("params, match", [
    (dict(X=np.ones((2, 3)), wT=np.ones(4), wS=np.ones(4)), "wT: must have one entry per column"),
    (dict(X=np.ones(3), wT=np.ones(3), wS=np.ones(3)), "X: must be a 2-D array"),
    (dict(X=np.array([[1.0, 0.0], [1.0, 1e-10]]), wT=np.ones(2), wS=np.ones(2)), "X: ill-conditioned"),
    (dict(X=np.ones((2, 3)), wT=np.ones(3), wS=np.array([1.0, np.nan, 0.0])), "wS: must not be NaN"),
])
def test_estimator_bad_input(params, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        EST.evaluate(**params)


@pytest.mark.parametrize("Sigma, match", [
    (np.diag([1.0, -1.0, 1.0]), "Sigma: must be positive semidefinite"),
    (np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "Sigma: must be symmetric"),
    (np.eye(2), "Sigma: must be d x d"),
])
def test_sample_risk_bad_covariance(Sigma, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        RISK.evaluate(X=np.ones((1, 3)), Sigma=Sigma, wT=np.ones(3), wS=np.zeros(3))


# -- isotropic expected risk ------------------------------------------------------------------------
def test_isotropic_special_values():
    assert ISO.evaluate(n=0, d=7, delta_norm2=2.5, sigma2=1.0) == 2.5  # no samples: the whole of delta
    assert ISO.evaluate(n=7, d=7, delta_norm2=2.5, sigma2=0.0) == 0.0  # n = d, noiseless: exact recovery
    assert ISO.evaluate(n=6, d=7, delta_norm2=0.0, sigma2=0.0) == 0.0  # n = d - 1 is fine without noise
    assert ISO.evaluate(n=3, d=10, delta_norm2=2.0, sigma2=0.6) == pytest.approx(0.7 * 2.0 + 0.6 * 3 / 6, rel=1e-15)


@settings(max_examples=50)
@given(d=st.integers(3, 10**6), frac=st.floats(0, 1), dl=st.floats(0, 1e3), s2=st.floats(0, 1e3))
@example(d=10**6, frac=1.0, dl=1.0, s2=1.0)  # n = d - 2: 1 - n/d evaluated without cancellation
def test_isotropic_matches_twin(d, frac, dl, s2):
    n = int(frac * (d - 2))
    ref = float(ISO.mp(dps=30, n=n, d=d, delta_norm2=dl, sigma2=s2))
    assert float(ISO.evaluate(n=n, d=d, delta_norm2=dl, sigma2=s2)) == pytest.approx(ref, rel=8 * UNIT, abs=1e-300)


@pytest.mark.parametrize("params, match", [
    (dict(n=11, d=10, delta_norm2=1.0, sigma2=0.0), "n: n must be <= d"),
    (dict(n=9, d=10, delta_norm2=1.0, sigma2=0.1), "n: n must be <= d - 2 when sigma2 > 0"),
    (dict(n=2.5, d=10, delta_norm2=1.0, sigma2=0.0), "n: must be an integer"),
    (dict(n=2, d=10.5, delta_norm2=1.0, sigma2=0.0), "d: must be an integer"),
    (dict(n=2, d=10, delta_norm2=-1.0, sigma2=0.0), "delta_norm2: must be >= 0"),
    (dict(n=2, d=10, delta_norm2=1.0, sigma2=-0.1), "sigma2: must be >= 0"),
])
def test_isotropic_bad_input(params, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        ISO.evaluate(**params)


# -- the checks can fail ------------------------------------------------------------------------------
def test_perturbed_isotropic_risk_fails_monte_carlo(monkeypatch):
    original = ISO.evaluate
    monkeypatch.setattr(ISO, "evaluate", lambda **kw: original(**kw) * 1.05)
    assert not proofs.check(CLAIMS["linear_teacher.risk_isotropic.monte_carlo"]).passed


def test_perturbed_estimator_fails_gradient_descent(monkeypatch):
    original = EST.evaluate
    monkeypatch.setattr(EST, "evaluate", lambda **kw: original(**kw) + 1e-9)
    assert not proofs.check(CLAIMS["linear_teacher.estimator.gradient_descent"]).passed


def test_cli_eval_and_latex(capsys):
    from derive import cli

    assert cli.main(["eval", "linear_teacher.risk_isotropic", "n=3", "d=10", "delta_norm2=2", "sigma2=0.6"]) == 0
    assert "1.7" in capsys.readouterr().out
    assert cli.main(["latex", "linear_teacher.estimator"]) == 0
    assert "P_{X}" in capsys.readouterr().out
