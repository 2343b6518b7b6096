"""transfer.*: domains, trajectory properties, fine-tuning loss properties, simulation mutations."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from numerics.simulate._mup_transfer import fresh_readout_losses, init_network, pretrain
from proofs import _transfer as ptr

R = {n.split(".")[1]: derive.get(n) for n in derive.names("transfer.*")}
U = 2.0**-52


def test_registered_names_and_parameters():
    assert [p.name for p in R["finetune_loss"].params] == ["nu2", "alpha", "chi"]
    assert [p.name for p in R["chi"].params] == ["gamma1"]
    for r in R.values():
        assert r.latex().startswith(r"\begin{aligned}") and r.source and "lauditi2026transfer" in r.references


@pytest.mark.parametrize("name, kw, param, text", [
    ("chi", dict(gamma1=-1.0), "gamma1", ">= 0"),
    ("rho", dict(gamma1=1.0, t=-0.1), "t", ">= 0"),
    ("time_to_rho", dict(gamma1=1.0, rho=1.0), "rho", "< 1"),
    ("finetune_loss", dict(nu2=0.5, alpha=1.5, chi=1.0), "alpha", "<= 1"),
    ("finetune_loss", dict(nu2=-0.5, alpha=0.5, chi=1.0), "nu2", ">= 0"),
    ("finetune_loss", dict(nu2=0.5, alpha=0.5, chi=-1.0), "chi", ">= 0"),
    ("finetune_loss_finite_d", dict(P2=3.0, D=2.5, alpha=0.5, chi=1.0, ridge=0.0), "D", "integer"),
    ("finetune_loss_multispike", dict(nu2=0.5, spikes=[1.0, 2.0], overlaps=[0.8, 0.8]), "overlaps", "sum tau_k"),
    ("infinite_richness_floor", dict(nu1=0.5, alpha_s=0.8, alpha_g=0.8), "alpha_s", "alpha_s\\^2"),
    ("infinite_richness_floor", dict(nu1=1.5, alpha_s=0.8, alpha_g=0.0), "nu1", "<= 1"),
])
def test_invalid_input_names_the_parameter(name, kw, param, text):
    with pytest.raises(ValueError, match=rf"^{param}:.*{text}"):
        R[name].evaluate(**kw)


@settings(max_examples=50)
@given(st.floats(0.0, 50.0), st.floats(0.0, 5.0))
@example(0.0, 0.0)
@example(1e-12, 1e-9)
@example(50.0, 5.0)
def test_trajectory_properties(g, t):
    rho = float(R["rho"].evaluate(gamma1=g, t=t))
    auu = float(R["a_uu"].evaluate(gamma1=g, t=t))
    chi = float(R["chi"].evaluate(gamma1=g))
    assert 0.0 <= rho <= 1.0
    assert 1.0 <= auu <= 1.0 + chi + 4 * U * (1 + chi)
    ntk = R["ntk_eigenvalues"].evaluate(gamma1=g, t=t)
    assert float(ntk["ntk_parallel"]) == pytest.approx(2 * auu, rel=2 * U)
    if 0.0 < rho < 1.0 - 1e-6:
        # round trip through t(rho): condition number 1/(2 s t (1 - rho)) in t
        back = float(R["time_to_rho"].evaluate(gamma1=g, rho=rho))
        s = math.sqrt(1 + g * g)
        assert back == pytest.approx(t, rel=64 * U * (1 + 1 / (2 * s * t * (1 - rho))))
    # monotone in t
    assert float(R["rho"].evaluate(gamma1=g, t=t * 1.01 + 1e-6)) >= rho


def test_lazy_and_small_time_limits():
    t = np.array([1e-12, 1e-6, 0.5, 3.0])
    np.testing.assert_allclose(R["rho"].evaluate(gamma1=0.0, t=t), -np.expm1(-2 * t), rtol=4 * U)
    # small t: rho ~ 2 t for every gamma1 (the initial rate 2 sqrt(1 + 0) (1 - 0))
    for g in (0.5, 4.0, 100.0):
        assert float(R["rho"].evaluate(gamma1=g, t=1e-10)) == pytest.approx(2e-10, rel=1e-8 * (1 + g))
    assert float(R["chi"].evaluate(gamma1=1e-9)) == pytest.approx(5e-19, rel=4 * U)


@settings(max_examples=50)
@given(st.floats(0.0, 2.0), st.floats(-1.0, 1.0), st.floats(0.0, 100.0))
@example(1.0, 1.0, 1.0)
@example(0.0, 1.0, 5.0)
def test_finetune_loss_properties(nu2, alpha, chi):
    L = float(R["finetune_loss"].evaluate(nu2=nu2, alpha=alpha, chi=chi))
    assert 0.0 <= L <= max(1.0 - nu2, 0.0) + 4 * U
    if nu2 == 0.0:
        assert L == 1.0
    # the multi-spike formula with one spike is the same number
    M = float(R["finetune_loss_multispike"].evaluate(nu2=nu2, spikes=[chi], overlaps=[alpha]))
    assert M == pytest.approx(L, rel=8 * U, abs=8 * U)
    # more pretraining richness (larger chi) never hurts
    assert float(R["finetune_loss"].evaluate(nu2=nu2, alpha=alpha, chi=chi + 1.0)) <= L + 4 * U


def test_finite_d_approaches_the_limit_and_broadcasts():
    nu = np.array([0.1, 0.5, 0.9])
    lim = R["finetune_loss"].evaluate(nu2=nu, alpha=0.8, chi=1.5)
    gaps = [np.max(np.abs(R["finetune_loss_finite_d"].evaluate(P2=nu * D, D=D, alpha=0.8, chi=1.5, ridge=0.0) - lim))
            for D in (100, 1000, 10000)]
    assert gaps[1] < gaps[0] / 5 and gaps[2] < gaps[1] / 5
    out = R["finetune_loss_finite_d"].evaluate(P2=np.array([[0.0], [10.0]]), D=50, alpha=[0.0, 1.0],
                                               chi=np.array([[[0.0]], [[2.0]]]), ridge=0.0)
    assert out.shape == (2, 2, 2) and np.all(out[:, 0, :] == 1.0)


def test_floor_formula():
    assert float(R["infinite_richness_floor"].evaluate(nu1=1.0, alpha_s=0.6, alpha_g=0.0)) == pytest.approx(0.64)
    assert float(R["infinite_richness_floor"].evaluate(nu1=0.0, alpha_s=0.0, alpha_g=1.0)) == pytest.approx(0.0)


# -- simulations can fail ---------------------------------------------------------------------
def test_network_claim_rejects_a_wrong_rho():
    assert ptr.network_deviation() <= 1e-6
    lazy = lambda gamma1, t: -np.expm1(-2 * t)  # noqa: E731  (the gamma1 -> 0 law)
    assert ptr.network_deviation(lambda **kw: lazy(**kw)) > 1e-2


def test_end_to_end_rejects_a_wrong_chi():
    assert ptr.end_to_end_deviation() <= 1.0

    def chi_is_gamma(**kw):  # a plausible mistake: A = I + gamma1 u u^T
        return R["finetune_loss_finite_d"].evaluate(**{**kw, "chi": math.sqrt((kw["chi"] + 1) ** 2 - 1)})

    assert ptr.end_to_end_deviation(chi_is_gamma) > 1.0


def test_gaussian_init_network_is_close_to_theory_at_large_N():
    """N = 20000 Gaussian init: second moments deviate by O(N^-1/2) from the identity, and so does rho(t)."""
    a, W = init_network(4, 20000, seed=3, kind="gaussian")
    rec = pretrain(a, W, 1.0, np.array([0.0, 0.5, 2.0]), dt=2e-2)
    th = R["rho"].evaluate(gamma1=1.0, t=np.array([0.0, 0.5, 2.0]))
    assert np.max(np.abs(rec["rho"] - th)) < 10 / math.sqrt(20000)
    with pytest.raises(ValueError, match="^gamma1:"):
        pretrain(a, W, 0.0, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="^P2:"):
        fresh_readout_losses(W, np.eye(4)[0], 0, trials=1, seed=0)
