"""deep_linear.*: balanced deep linear networks fine-tuned from pretrained weights."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
import proofs
from proofs._deep_linear import scaled_target

NORM = derive.get("deep_linear.finetune_norm")
WEIGHTS = derive.get("deep_linear.finetuned_weights")
RISK = derive.get("deep_linear.sample_risk")
LIMIT = derive.get("deep_linear.risk_limit")
FROZEN = derive.get("deep_linear.frozen_risk_bound")
UNIT = 2.0**-52
CLAIMS = {c.name: c for c in proofs.claims("deep_linear.*")}


@settings(max_examples=50)
@given(L=st.integers(1, 10**6), la=st.floats(-300, 8), S2=st.floats(1e-3, 1e3), frac=st.floats(0, 1))
@example(L=1, la=0.0, S2=1.0, frac=0.5)
@example(L=7, la=-8.0, S2=1.0, frac=1.0)  # w_S orthogonal to the rows, tiny target
@example(L=10**6, la=8.0, S2=1e-3, frac=0.0)  # w_S in the row space
@example(L=3, la=-300.0, S2=1e3, frac=0.0)  # alpha = a^2/||w_S||^2 underflows
@example(L=3, la=-300.0, S2=1e3, frac=0.5)
@example(L=2, la=-22.0, S2=1e-3, frac=1e-3)  # small beta: z - beta without cancellation near 1
@example(L=1, la=-124.0, S2=1e-3, frac=2.0**-8)
def test_norm_solves_the_root_equation(L, la, S2, frac):
    a2, b2 = 10.0**la, frac * S2
    c2 = S2 - b2
    out = NORM.evaluate(L=L, interp_norm2=a2, source_row_norm2=c2, source_null_norm2=b2)
    r, s = float(out["norm"]), float(out["scale"])
    S = math.sqrt(c2 + b2)
    u = r / S
    # residual of z^(L-1)(z - beta) = alpha in logs, z = u^(2/L); t = ln u carries u (1 + |ln u|) error, which
    # the derivative (2(L-1)/L + (2/L) z/(z - beta)) turns into the residual bound below
    if b2 == 0:
        assert r == pytest.approx(math.sqrt(a2), rel=4 * UNIT)
        return
    if L == 1:  # explicit branch: r^2 = a^2 + b^2
        assert r == pytest.approx(math.sqrt(a2 + b2), rel=4 * UNIT) and s == 1.0
        return
    z_minus_beta = math.expm1(2 * math.log(u) / L) + c2 / S**2
    beta = b2 / S**2
    if beta <= 0.5:  # the kernel's own choice of form (no cancellation)
        z_minus_beta = u ** (2 / L) - beta
    z = z_minus_beta + beta
    resolution = 64 * UNIT * (1 + abs(math.log(u))) * z  # t = ln u is resolved to ~u (1 + |ln u|)
    if z_minus_beta <= resolution:
        # the root hugs beta: z* - beta = alpha / z*^(L-1) <= alpha / beta^(L-1) must be below resolution too
        assert math.log(a2) - math.log(S2) - (L - 1) * math.log(beta) <= math.log(2 * resolution)
        return
    residual = 2 * (L - 1) / L * math.log(u) + math.log(z_minus_beta) - math.log(a2 / S**2)
    slope = 2 + 2 / L * (1 + z_minus_beta) / z_minus_beta
    assert abs(residual) <= 32 * UNIT * (1 + abs(math.log(u))) * slope + 32 * UNIT * (1 + abs(la))
    assert s == pytest.approx(u ** ((L - 1) / L), rel=32 * UNIT * (1 + abs(math.log(u))))


def test_shallow_depth_is_the_shallow_estimator():
    out = NORM.evaluate(L=1, interp_norm2=0.5, source_row_norm2=0.3, source_null_norm2=0.7)
    assert out["scale"] == 1.0 and out["norm"] == pytest.approx(math.sqrt(1.2), rel=2 * UNIT)


def test_degenerate_branches():
    # no target signal in the row space: z = beta
    out = NORM.evaluate(L=3, interp_norm2=0.0, source_row_norm2=0.3, source_null_norm2=0.7)
    assert out["norm"] == pytest.approx(0.7**1.5, rel=4 * UNIT) and out["scale"] == pytest.approx(0.7, rel=4 * UNIT)
    # w_S in row(X) and no target: the flow heads to the saddle w = 0
    out = NORM.evaluate(L=3, interp_norm2=0.0, source_row_norm2=0.3, source_null_norm2=0.0)
    assert out["norm"] == 0.0 and out["scale"] == 0.0


@pytest.mark.parametrize("params, match", [
    (dict(L=0), "L: must be >= 1"), (dict(L=2.5), "L: must be an integer"),
    (dict(interp_norm2=-1.0), "interp_norm2: must be >= 0"),
    (dict(source_row_norm2=0.0, source_null_norm2=0.0), "source_row_norm2: source_row_norm2 \\+ source_null_norm2"),
])
def test_norm_bad_input(params, match):
    kw = dict(L=2, interp_norm2=0.5, source_row_norm2=0.3, source_null_norm2=0.7)
    kw.update(params)
    with pytest.raises(ValueError, match=f"^{match}"):
        NORM.evaluate(**kw)


# -- the fine-tuned vector ---------------------------------------------------------------------------------
@settings(max_examples=25)
@given(L=st.integers(1, 12), n=st.integers(1, 5), extra=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_finetuned_vector_structure(L, n, extra, seed):
    """w_ft interpolates, its null-space part is s (I - P) w_S, and its norm is finetune_norm's."""
    d = n + extra
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :n]
    X = (U * rng.uniform(0.5, 2.0, n)) @ V.T
    wT, wS = rng.standard_normal(d), rng.standard_normal(d)
    w = WEIGHTS.evaluate(X=X, wT=wT, wS=wS, L=L)
    scale = np.linalg.norm(wT) + np.linalg.norm(wS)
    assert np.max(np.abs(X @ (w - wT))) <= 1e3 * UNIT * scale
    P = V @ V.T
    null_w, null_S = w - P @ w, wS - P @ wS
    out = NORM.evaluate(L=L, interp_norm2=float(np.sum((P @ wT) ** 2)), source_row_norm2=float(np.sum((P @ wS) ** 2)),
                        source_null_norm2=float(null_S @ null_S))
    assert np.max(np.abs(null_w - float(out["scale"]) * null_S)) <= 1e3 * UNIT * scale
    assert np.linalg.norm(w) == pytest.approx(float(out["norm"]), rel=1e-12)
    e = w - wT
    assert float(RISK.evaluate(X=X, Sigma=np.eye(d), wT=wT, wS=wS, L=L)) == pytest.approx(float(e @ e), rel=1e-12,
                                                                                          abs=1e-14 * scale**2)


def test_depths_broadcast():
    rng = np.random.default_rng(3)
    X, wT, wS = rng.standard_normal((2, 5)), rng.standard_normal(5), rng.standard_normal(5)
    Ls = np.array([[1, 2], [3, 7]])
    w = WEIGHTS.evaluate(X=X, wT=wT, wS=wS, L=Ls)
    R = RISK.evaluate(X=X, Sigma=np.eye(5), wT=wT, wS=wS, L=Ls)
    assert w.shape == (2, 2, 5) and R.shape == (2, 2)
    for idx in np.ndindex(2, 2):
        one = WEIGHTS.evaluate(X=X, wT=wT, wS=wS, L=int(Ls[idx]))
        assert np.array_equal(w[idx], one)
        assert R[idx] == pytest.approx(float(np.sum((one - wT) ** 2)), rel=1e-13)


def test_weights_bad_input():
    X = np.ones((1, 3))
    with pytest.raises(ValueError, match="^wS: must be non-zero"):
        WEIGHTS.evaluate(X=X, wT=np.ones(3), wS=np.zeros(3), L=2)
    with pytest.raises(ValueError, match="^wT: must have one entry per column"):
        WEIGHTS.evaluate(X=X, wT=np.ones(2), wS=np.ones(2), L=2)


# -- the isotropic limit ---------------------------------------------------------------------------------
@settings(max_examples=50)
@given(rho=st.floats(1e-6, 1), L=st.integers(1, 10**4), T=st.floats(0, 10), S=st.floats(1e-2, 10),
       c=st.floats(-1, 1))
@example(rho=1.0, L=3, T=1.0, S=1.0, c=0.0)
@example(rho=0.5, L=4, T=0.0, S=2.0, c=0.3)
@example(rho=1e-6, L=2, T=2.2250738585072014e-308, S=1.0, c=0.0)  # alpha = rho T^2/S^2 underflows
@example(rho=0.47265625, L=1131, T=0.0, S=2.0, c=0.0)  # s^2 S^2 ~ 2e-314: a subnormal risk
def test_limit_is_the_finite_sample_formula_at_concentrated_norms(rho, L, T, S, c):
    """risk_limit = (1 - rho)||w_T - s w_S||^2 with s from finetune_norm at ||P w_T||^2 = rho T^2 etc."""
    R = float(LIMIT.evaluate(rho=rho, L=L, wT_norm=T, wS_norm=S, cos_angle=c))
    s = float(NORM.evaluate(L=L, interp_norm2=rho * T**2, source_row_norm2=rho * S**2,
                            source_null_norm2=(1 - rho) * S**2)["scale"])
    ref = (1 - rho) * (T**2 - 2 * s * T * S * c + s**2 * S**2)
    # below the normal range doubles are spaced 2^-1074 apart, so both sides carry an absolute rounding
    # error of a few such units (s^2 rounded onto that grid, then scaled by S^2 and 1 - rho)
    subnormal = 8 * 2.0**-1074 * (1 + S**2)
    assert R == pytest.approx(ref, rel=1e-10, abs=1e-12 * (T**2 + s**2 * S**2) + subnormal)


def test_infinite_depth_depends_only_on_the_angle():
    for S in (0.1, 1.0, 30.0):
        R = LIMIT.evaluate(rho=0.1, L=np.inf, wT_norm=2.0, wS_norm=S, cos_angle=0.8)
        assert R == pytest.approx(2 * 0.9 * 4.0 * 0.2, rel=4 * UNIT)


def test_depth_helps_exactly_when_the_scales_mismatch():
    L = np.array([1, 2, 3, 5, 7, 10, np.inf])
    for alpha in (0.5, 2.0):
        R = LIMIT.evaluate(rho=0.1, L=L, **scaled_target(alpha))
        assert np.all(np.diff(R) < 0)
    # alpha = 1: the source is the target up to the noise; depth barely matters (all within 1e-4 of 0.009)
    R = LIMIT.evaluate(rho=0.1, L=L, **scaled_target(1.0))
    assert np.max(np.abs(R - 0.009)) < 1e-4


@pytest.mark.parametrize("params, match", [
    (dict(L=2.5), "L: L must be an integer >= 1 or inf"), (dict(L=0.0), "L: must be >= 1"),
    (dict(rho=0.0), "rho: must be > 0"), (dict(rho=1.5), "rho: must be <= 1"),
    (dict(cos_angle=1.1), "cos_angle: must be <= 1"), (dict(wS_norm=0.0), "wS_norm: must be > 0"),
])
def test_limit_bad_input(params, match):
    kw = dict(rho=0.1, L=3, wT_norm=1.0, wS_norm=1.0, cos_angle=0.5)
    kw.update(params)
    with pytest.raises(ValueError, match=f"^{match}"):
        LIMIT.evaluate(**kw)


def test_frozen_bound_values():
    assert FROZEN.evaluate(wT_norm=2.0, cos_angle=0.0) == 4.0
    assert FROZEN.evaluate(wT_norm=2.0, cos_angle=-1.0) == 0.0
    assert FROZEN.evaluate(wT_norm=2.0, cos_angle=0.6) == pytest.approx(4.0 * 0.64, rel=4 * UNIT)


# -- the checks can fail ----------------------------------------------------------------------------------
def test_perturbed_norm_fails_its_claims(monkeypatch):
    original = NORM.evaluate

    def wrong(**kw):
        out = original(**kw)
        return {k: v * (1 + 1e-12) for k, v in out.items()}

    monkeypatch.setattr(NORM, "evaluate", wrong)
    for name in ("deep_linear.finetune_norm.mpmath", "deep_linear.finetune_norm.closed_forms"):
        assert not proofs.check(CLAIMS[name]).passed, name


def test_perturbed_limit_fails_its_claims(monkeypatch):
    original = LIMIT.evaluate
    monkeypatch.setattr(LIMIT, "evaluate", lambda **kw: original(**kw) * 1.01)
    for name in ("deep_linear.risk_limit.mpmath", "deep_linear.risk_limit.research_note_table"):
        assert not proofs.check(CLAIMS[name]).passed, name


def test_shallow_scale_fails_the_gradient_flow_claim(monkeypatch):
    """Forcing s = 1 (the shallow estimator) at every depth must turn the simulation claim red."""
    original = NORM.evaluate
    monkeypatch.setattr(NORM, "evaluate", lambda **kw: {**original(**kw), "scale": np.float64(1.0)})
    assert not proofs.check(CLAIMS["deep_linear.finetuned_weights.gradient_flow"]).passed
