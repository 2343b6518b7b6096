"""relu.*: compiled kernels against the mpmath twin, domains, and the empirical NTK (with a mutation)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from numerics.simulate._ntk import ReluNetwork, empirical_ntk
from proofs._relu import Z_MC, mc_inputs, theory_ntk

UNIT = 2.0**-52
NAMES = ("relu.kappa0", "relu.kappa1", "relu.ntk", "relu.ntk_first_layer")


@settings(max_examples=20)
@given(rho=st.floats(-1.0, 1.0), nx=st.floats(1e-3, 1e3), nxp=st.floats(1e-3, 1e3))
@example(rho=-1.0, nx=1.0, nxp=1.0)
@example(rho=1.0, nx=2.0, nxp=0.5)
@example(rho=0.0, nx=1.0, nxp=1.0)
@example(rho=-1.0 + 1e-12, nx=1.0, nxp=1.0)
@example(rho=-0.97, nx=1.0, nxp=1.0)  # just inside the series branch (phi < 1/4)
def test_kernels_match_mpmath(rho, nx, nxp):
    for name in NAMES:
        res = derive.get(name)
        kw = {"rho": rho} if name == "relu.kappa0" else {"rho": rho, "norm_x": nx, "norm_xp": nxp}
        scale = 1.0 if name == "relu.kappa0" else nx * nxp
        ref = float(res.mp(dps=30, **kw))
        # the kernel's acos(-rho) carries one rounding; near rho = -1 d kappa/d rho is bounded by 1/2 of scale
        assert abs(float(res.evaluate(**kw)) - ref) <= 16 * UNIT * (abs(ref) + scale)


def test_kernel_values_and_broadcasting():
    k1 = derive.get("relu.kappa1").evaluate(rho=np.array([[-1.0], [0.0], [1.0]]), norm_x=1.0, norm_xp=[1.0, 2.0])
    assert k1.shape == (3, 2)
    np.testing.assert_allclose(k1[:, 0], [0.0, 1 / (2 * np.pi), 0.5], rtol=1e-15, atol=1e-300)
    assert derive.get("relu.kappa0").evaluate(rho=0.0) == pytest.approx(0.25, rel=1e-15)
    # ntk = kappa1 + rho |x||x'| kappa0 by construction of the two outputs
    r = np.linspace(-1, 1, 11)
    ntk = derive.get("relu.ntk").evaluate(rho=r, norm_x=1.5, norm_xp=0.7)
    k0 = derive.get("relu.kappa0").evaluate(rho=r)
    k1 = derive.get("relu.kappa1").evaluate(rho=r, norm_x=1.5, norm_xp=0.7)
    np.testing.assert_allclose(ntk, k1 + 1.05 * r * k0, rtol=0, atol=8 * UNIT * 1.05)


@pytest.mark.parametrize("kw, first", [({"rho": 1.5, "norm_x": 1, "norm_xp": 1}, "rho:"),
                                      ({"rho": 0.5, "norm_x": 0.0, "norm_xp": 1}, "norm_x:"),
                                      ({"rho": np.nan, "norm_x": 1, "norm_xp": 1}, "rho:")])
def test_bad_input_names_the_parameter(kw, first):
    with pytest.raises(ValueError, match=f"^{first}"):
        derive.get("relu.ntk").evaluate(**kw)


def test_latex_renders():
    for name in NAMES:
        assert r"\theta" in derive.get(name).latex()


def test_empirical_ntk_detects_he_scaling():
    """Mutation: the He convention (kernel x 2) must fail the Monte Carlo check by far."""
    X = mc_inputs()
    mean, se = empirical_ntk(X, width=4000, seed=3)
    z_ok = np.abs(mean - theory_ntk(X)) / np.hypot(se, 1e-12)
    z_bad = np.abs(mean - 2 * theory_ntk(X)) / np.hypot(se, 1e-12)
    assert z_ok.max() <= Z_MC
    assert z_bad.max() > 10 * Z_MC


def test_exact_kernel_of_network_is_jacobian_gram():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    net = ReluNetwork.random(3, 64, seed=1)
    J = net.jacobian(X)
    np.testing.assert_allclose(net.kernel(X, X), J @ J.T, rtol=1e-13, atol=1e-13)


def test_empirical_ntk_validates():
    with pytest.raises(ValueError, match="^width:"):
        empirical_ntk(np.ones((2, 2)), width=1)
    with pytest.raises(ValueError, match="^layers:"):
        empirical_ntk(np.ones((2, 2)), width=4, layers="third")
