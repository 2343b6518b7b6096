"""linear_teacher.risk: messages, the isotropic reduction, the shared solver, mpmath, Monte Carlo mutations."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from proofs import _learning_curve as plc

RISK = derive.get("linear_teacher.risk")
U = 2.0**-52


def test_parameters_and_rendering():
    assert [p.name for p in RISK.params] == ["eigenvalues", "delta", "n", "sigma2"]
    assert r"\sum" in RISK.latex() and RISK.references == ("shachaf2021theoretical",)


@pytest.mark.parametrize("kw, name, text", [
    (dict(delta=[1.0]), "delta", "same length"),
    (dict(eigenvalues=[1.0, 0.0]), "eigenvalues", "> 0"),
    (dict(n=0.0), "n", "> 0"),
    (dict(sigma2=-0.1), "sigma2", ">= 0"),
    (dict(n=2.0, sigma2=0.1), "n", "n = d = 2 .*interpolation threshold"),
])
def test_invalid_input_names_the_parameter(kw, name, text):
    base = dict(eigenvalues=[1.0, 0.5], delta=[0.3, -1.0], n=1.0, sigma2=0.0)
    base.update(kw)
    with pytest.raises(ValueError, match=rf"^{name}:.*{text}"):
        RISK.evaluate(**base)


@settings(max_examples=30)
@given(st.integers(2, 300), st.floats(0.01, 3.0), st.floats(0.0, 2.0), st.integers(0, 2**32 - 1))
@example(2, 0.5, 0.0, 0)
@example(300, 0.999, 1.0, 1)
def test_isotropic_reduction(d, ratio, sigma2, seed):
    n = ratio * d
    if n == d:
        return
    delta = np.random.default_rng(seed).standard_normal(d)
    val = float(RISK.evaluate(eigenvalues=np.ones(d), delta=delta, n=n, sigma2=sigma2))
    if n < d:
        ref = (1 - n / d) * np.sum(delta**2) + sigma2 * n / (d - n)
    else:
        ref = sigma2 * d / (n - d)
    g = min(n, d) / max(n, d)
    assert val == pytest.approx(ref, rel=32 * d * U / (1 - g) ** 2, abs=1e-300)


def test_isotropic_large_d_approaches_the_finite_n_formula():
    """risk_isotropic (exact in finite n, noise sigma^2 n/(d - n - 1)) and the equivalent agree to O(1/d)."""
    iso = derive.get("linear_teacher.risk_isotropic")
    for d in (100, 1000, 10000):
        n = 0.4 * d
        a = float(RISK.evaluate(eigenvalues=np.ones(d), delta=np.full(d, 1 / np.sqrt(d)), n=n, sigma2=0.5))
        b = float(iso.evaluate(n=n, d=d, delta_norm2=1.0, sigma2=0.5))
        # noise terms differ by sigma^2 n (1/(d - n - 1) - 1/(d - n)) = sigma^2 n/((d - n)(d - n - 1))
        assert abs(a - b) == pytest.approx(0.5 * n / ((d - n) * (d - n - 1)), rel=1e-9)


def test_is_learning_curve_error_with_power_lam_delta2():
    lam = np.arange(1, 101) ** -1.5
    delta = np.random.default_rng(0).standard_normal(100)
    n = np.array([5.0, 50.0, 99.0, 150.0])
    a = RISK.evaluate(eigenvalues=lam, delta=delta, n=n, sigma2=0.2)
    b = derive.get("learning_curve.error").evaluate(eigenvalues=lam, multiplicities=np.ones(100), P=n, ridge=0.0,
                                                    target_power=lam * delta**2, noise=0.2)
    np.testing.assert_allclose(a, b, rtol=4 * U)  # lam delta delta vs lam delta**2: one rounding per term


@settings(max_examples=20)
@given(st.integers(1, 30), st.floats(0.05, 3.0), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_against_mpmath(d, ratio, sigma2, seed):
    rng = np.random.default_rng(seed)
    lam = 10.0 ** rng.uniform(-3, 1, d)
    delta = rng.standard_normal(d)
    n = ratio * d
    if abs(n - d) < 1e-9:
        return
    val = float(RISK.evaluate(eigenvalues=lam, delta=delta, n=n, sigma2=sigma2))
    ref = float(RISK.mp(dps=40, eigenvalues=lam, delta=delta, n=n, sigma2=sigma2))
    g = float(derive.get("learning_curve.gamma_overlap").mp(dps=40, eigenvalues=lam, multiplicities=np.ones(d),
                                                             P=n, ridge=0.0))
    assert g < 1  # d/n beyond the threshold
    assert val == pytest.approx(ref, rel=32 * d * U / (1 - g) ** 2, abs=1e-300)


def test_monte_carlo_bias_within_stated_bound_and_mutations_fail():
    rows = plc.linear_teacher_monte_carlo()
    Z = plc.z_family(len(rows))
    for n, th, mean, se in rows:
        assert abs(mean - th) <= Z * se + plc.LT_BIAS * th
    # ignoring the anisotropy (the isotropic formula with ||delta||_Sigma^2) is rejected
    lam = np.arange(1, plc.LT_D + 1, dtype=float) ** -1.0
    delta = np.random.default_rng(21).standard_normal(plc.LT_D)
    rejected = 0
    for n, th, mean, se in rows:
        if n < plc.LT_D:
            iso = (1 - n / plc.LT_D) * np.sum(lam * delta**2) + plc.LT_SIGMA2 * n / (plc.LT_D - n)
            rejected += abs(mean - iso) > Z * se + plc.LT_BIAS * iso
        wrong_n = float(RISK.evaluate(eigenvalues=lam, delta=delta, n=n * 1.25, sigma2=plc.LT_SIGMA2))
        rejected += abs(mean - wrong_n) > Z * se + plc.LT_BIAS * wrong_n
    assert rejected == 5
