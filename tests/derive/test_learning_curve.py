"""learning_curve.*: domains and messages, broadcasting, the mpmath twin, closed forms, Monte Carlo mutations."""

import json
import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import derive
from derive.cli import main as cli
from proofs import _learning_curve as plc

KAPPA, GAMMA, MODES, ERROR = (derive.get(n) for n in ("learning_curve.kappa", "learning_curve.gamma_overlap",
                                                      "learning_curve.mode_errors", "learning_curve.error"))
U = 2.0**-52
LAM = np.array([1.0, 0.3, 0.05])
MULT = np.array([1.0, 4.0, 10.0])  # N = 15


def test_parameter_names_are_the_issue_s():
    assert [p.name for p in KAPPA.params] == ["eigenvalues", "multiplicities", "P", "ridge"]
    assert [p.name for p in MODES.params] == ["eigenvalues", "multiplicities", "P", "ridge"]
    assert [p.name for p in ERROR.params] == ["eigenvalues", "multiplicities", "P", "ridge", "target_power", "noise"]
    for r in (KAPPA, GAMMA, MODES, ERROR):
        assert r.latex().startswith(r"\begin{aligned}") and r.references and r.source and r.conditions


@pytest.mark.parametrize("kw, name, text", [
    (dict(eigenvalues=[1.0, -0.1]), "eigenvalues", "> 0"),
    (dict(eigenvalues=[1.0, 0.0]), "eigenvalues", "> 0"),
    (dict(multiplicities=[1.0]), "multiplicities", "same length"),
    (dict(multiplicities=[1.0, 0.0]), "multiplicities", "> 0"),
    (dict(P=-1.0), "P", ">= 0"),
    (dict(P=math.nan), "P", "NaN"),
    (dict(ridge=-1e-3), "ridge", ">= 0"),
    (dict(ridge=math.inf), "ridge", "finite"),
    (dict(eigenvalues=[[1.0, 2.0]]), "eigenvalues", "1-D"),
])
def test_invalid_input_names_the_parameter(kw, name, text):
    base = dict(eigenvalues=[1.0, 0.5], multiplicities=[1.0, 2.0], P=1.0, ridge=0.0)
    base.update(kw)
    with pytest.raises(ValueError, match=rf"^{name}:.*{text}"):
        KAPPA.evaluate(**base)


def test_error_refuses_the_interpolation_peak_with_noise():
    with pytest.raises(ValueError, match=r"^noise: .*diverges.*P = sum\(multiplicities\)"):
        ERROR.evaluate(eigenvalues=LAM, multiplicities=MULT, P=[3.0, 15.0], ridge=0.0, target_power=[1, 1, 1],
                       noise=0.1)
    # without noise (or with ridge) the same point is finite: E_g = 0 / small
    assert ERROR.evaluate(eigenvalues=LAM, multiplicities=MULT, P=15.0, ridge=0.0, target_power=[1, 1, 1],
                          noise=0.0) == 0.0
    assert np.isfinite(ERROR.evaluate(eigenvalues=LAM, multiplicities=MULT, P=15.0, ridge=1e-6,
                                      target_power=[1, 1, 1], noise=0.1))
    with pytest.raises(ValueError, match=r"^target_power: .*>= 0"):
        ERROR.evaluate(eigenvalues=LAM, multiplicities=MULT, P=1.0, ridge=0.0, target_power=[1, -1, 1], noise=0.0)
    with pytest.raises(ValueError, match=r"^noise: .*>= 0"):
        ERROR.evaluate(eigenvalues=LAM, multiplicities=MULT, P=1.0, ridge=0.0, target_power=[1, 1, 1], noise=-1.0)


def test_broadcast_shapes_and_mode_axis_last():
    P = np.array([[0.0], [5.0], [40.0]])
    ridge = np.array([0.0, 0.01, 1.0, 3.0])
    assert KAPPA.evaluate(eigenvalues=LAM, multiplicities=MULT, P=P, ridge=ridge).shape == (3, 4)
    E = MODES.evaluate(eigenvalues=LAM, multiplicities=MULT, P=P, ridge=ridge)
    assert E.shape == (3, 4, 3)
    np.testing.assert_allclose(E[0], 1.0, rtol=4 * U)  # normalised: E_k = 1 at P = 0
    Eg = ERROR.evaluate(eigenvalues=LAM, multiplicities=MULT, P=P, ridge=ridge, target_power=[0.5, 0.3, 0.2],
                        noise=np.array([[[0.0]], [[0.1]]]))
    assert Eg.shape == (2, 3, 4)
    # E_g = sum_k power_k E_k + noise gamma/(1 - gamma)
    g = GAMMA.evaluate(eigenvalues=LAM, multiplicities=MULT, P=P, ridge=ridge)
    ref = E @ np.array([0.5, 0.3, 0.2]) + 0.1 * g / (1 - g)
    np.testing.assert_allclose(Eg[1], ref, rtol=1e-13)
    assert np.ndim(KAPPA.evaluate(eigenvalues=LAM, multiplicities=MULT, P=2.0, ridge=0.0)) == 0


@st.composite
def small_problem(draw):
    M = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    lam = 10.0 ** rng.uniform(-3, 1, M)
    mult = rng.integers(1, 6, M).astype(float)
    N = mult.sum()
    P = draw(st.sampled_from([0.0, 1.0, 0.5 * N, N - 0.5, N + 1.0, 4 * N]))
    ridge = draw(st.one_of(st.just(0.0), st.floats(1e-6, 10.0)))
    power = rng.uniform(0, 1, M)
    return lam, mult, P, ridge, power


@settings(max_examples=25)
@given(small_problem(), st.floats(0.0, 1.0))
@example((np.array([1.0]), np.array([3.0]), 2.5, 0.0, np.array([1.0])), 0.3)
@example((np.array([0.02]), np.array([1.0]), 1.0, 0.0, np.array([0.7])), 1.0)  # P = N, ridgeless, noisy
def test_against_mpmath_twin(problem, noise):
    lam, mult, P, ridge, power = problem
    kw = dict(eigenvalues=lam, multiplicities=mult, P=P, ridge=ridge)
    with mpmath.workdps(40):
        g = float(GAMMA.mp(dps=40, **kw))
    one_minus = 1 - g if g < 1 else 1.0
    tol1 = 8 * lam.size * U / one_minus
    tol2 = 32 * lam.size * U / one_minus**2
    k, kref = float(KAPPA.evaluate(**kw)), float(KAPPA.mp(dps=40, **kw))
    assert abs(k - kref) <= tol1 * kref + (0 if kref else 0.0)
    E, Eref = MODES.evaluate(**kw), np.array([float(x) for x in MODES.mp(dps=40, **kw)])
    np.testing.assert_allclose(E, Eref, rtol=tol2, atol=0)
    if ridge == 0.0 and P == mult.sum() and noise > 0:  # the interpolation peak: refused, not a number
        with pytest.raises(ValueError, match="^noise: .*diverges"):
            ERROR.evaluate(**kw, target_power=power, noise=noise)
        return
    Eg = float(ERROR.evaluate(**kw, target_power=power, noise=noise))
    Egref = float(ERROR.mp(dps=40, **kw, target_power=power, noise=noise))
    assert Eg == pytest.approx(Egref, rel=tol2, abs=1e-300)


def test_isotropic_closed_form_and_ridgeless_curve():
    """One eigenvalue lam with multiplicity N: kappa = lam (N - P) ridgeless, E_k = 1 - P/N; with ridge the
    positive root of kappa^2 + (lam (P - N) - r) kappa - r lam P = 0."""
    lam, N = 0.7, 40.0
    P = np.array([0.0, 1.0, 10.0, 39.0])
    k = KAPPA.evaluate(eigenvalues=[lam], multiplicities=[N], P=P, ridge=0.0)
    assert np.all(np.abs(k - lam * (N - P)) <= 8 * U / (1 - P / N) * lam * (N - P))  # 8 M u/(1 - gamma)
    np.testing.assert_allclose(MODES.evaluate(eigenvalues=[lam], multiplicities=[N], P=P, ridge=0.0)[:, 0],
                               1 - P / N, rtol=64 * U)
    r = 0.3
    b = lam * (P - N) - r
    closed = (-b + np.sqrt(b * b + 4 * r * lam * P)) / 2
    np.testing.assert_allclose(KAPPA.evaluate(eigenvalues=[lam], multiplicities=[N], P=P, ridge=r), closed,
                               rtol=1e-14)


def test_kappa_over_P_solves_the_per_sample_form():
    """The equivalent form: kappa~ = kappa/P solves kappa~ = r/P + (kappa~/P) sum m lam/(lam + kappa~)."""
    lam = np.arange(1, 301) ** -1.2
    mult = np.ones(300)
    for P, r in ((20.0, 0.0), (150.0, 1e-3), (500.0, 0.1)):
        k = float(KAPPA.evaluate(eigenvalues=lam, multiplicities=mult, P=P, ridge=r))
        f = lambda kt: kt - r / P - kt / P * np.sum(mult * lam / (lam + kt))  # noqa: E731
        kt = brentq(f, r / P if r else 1e-300, (r + np.sum(lam)) / P, xtol=1e-300, rtol=4 * U)
        assert k / P == pytest.approx(kt, rel=1e-13)


def test_cli_eval_gives_mode_vectors():
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli(["eval", "learning_curve.mode_errors", "eigenvalues=1,0.5", "multiplicities=1,3", "P=0,2",
                    "ridge=0", "--json"]) == 0
    recs = json.loads(buf.getvalue())
    assert recs[0]["E"] == pytest.approx([1.0, 1.0], rel=1e-15) and len(recs[1]["E"]) == 2


# -- the Monte Carlo claims can fail: mutated theories are rejected -----------------------------
def test_monte_carlo_rejects_mutated_error():
    assert plc.krr_error_deviation() <= 1.0

    def no_overlap_factor(**kw):  # drop 1/(1 - gamma): the classic mistake
        g = GAMMA.evaluate(**{k: kw[k] for k in ("eigenvalues", "multiplicities", "P", "ridge")})
        return ERROR.evaluate(**kw) * (1 - g)

    assert plc.krr_error_deviation(no_overlap_factor) > 1.0
    assert plc.krr_error_deviation(lambda **kw: ERROR.evaluate(**kw) * 1.08) > 1.0


def test_monte_carlo_rejects_mutated_mode_errors():
    assert plc.krr_mode_deviation() <= 1.0
    shifted = lambda **kw: MODES.evaluate(**{**kw, "P": kw["P"] * 1.1})  # noqa: E731
    assert plc.krr_mode_deviation(shifted) > 1.0
