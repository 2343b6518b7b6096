"""silent_alignment.*: domains, trajectory properties, mpmath agreement, and simulation checks that can fail."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from proofs import _silent_alignment as psa

LOG, TRAJ, FINAL = (derive.get(n) for n in ("silent_alignment.phase2_logistic", "silent_alignment.trajectory",
                                              "silent_alignment.final_ntk"))
U = 2.0**-52


def test_registered_names_and_parameters():
    assert [p.name for p in LOG.params] == ["s", "c0", "t"]
    assert [p.name for p in TRAJ.params] == ["s", "q0", "t"] and TRAJ.output_names == ("q", "r")
    assert [p.name for p in FINAL.params] == ["s", "beta"]
    for r in (LOG, TRAJ, FINAL):
        assert r.latex().startswith(r"\begin{aligned}") and "atanasov2022silent" in r.references and r.conditions


@pytest.mark.parametrize("res, kw, param, text", [
    (LOG, dict(s=0.0, c0=0.1, t=1.0), "s", "> 0"),
    (LOG, dict(s=1.0, c0=0.0, t=1.0), "c0", "> 0"),
    (TRAJ, dict(s=1.0, q0=1e-3, t=-1.0), "t", ">= 0"),
    (TRAJ, dict(s=1.0, q0=-1e-3, t=1.0), "q0", "> 0"),
    (FINAL, dict(s=1.0, beta=[1.0, 1.0]), "beta", "unit vector"),
    (FINAL, dict(s=-1.0, beta=[1.0, 0.0]), "s", "> 0"),
])
def test_invalid_input_names_the_parameter(res, kw, param, text):
    with pytest.raises(ValueError, match=rf"^{param}:.*{text}"):
        res.evaluate(**kw)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.05, 20.0), st.floats(1e-12, 10.0), st.floats(0.0, 50.0))
@example(1.0, 1e-12, 0.0)
@example(20.0, 1e-12, 50.0)
@example(0.05, 10.0, 1e-9)
def test_trajectory_properties(s, init, ts):
    t = ts / s
    q0 = init * s
    out = TRAJ.evaluate(s=s, q0=q0, t=t)
    q, r = float(out["q"]), float(out["r"])
    assert 0.0 <= r <= q
    # q - r = 2 s e^{-2st}/den with den = e^{2st} - 1 + 2 s/q0 (to the rounding of q), and (q + r)/2 is the
    # logistic from q0/2
    den = np.expm1(2 * s * t) + 2 * s / q0
    assert abs((q - r) - 2 * s * np.exp(-2 * s * t) / den) <= 64 * U * q
    assert (q + r) / 2 == pytest.approx(float(LOG.evaluate(s=s, c0=q0 / 2, t=t)), rel=16 * U)
    # between the start and s (monotone approach)
    c = float(LOG.evaluate(s=s, c0=q0, t=t))
    assert min(q0, s) * (1 - 4 * U) <= c <= max(q0, s) * (1 + 4 * U)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.1, 10.0), st.floats(1e-10, 5.0), st.floats(0.0, 30.0))
@example(1.0, 1e-10, 1e-12)
def test_kernels_match_mpmath(s, init, ts):
    t = ts / s
    for res, kw in ((LOG, dict(c0=init * s)), (TRAJ, dict(q0=init * s))):
        val = res.evaluate(s=s, t=t, **kw)
        ref = res.mp(dps=40, s=s, t=t, **kw)
        vals = val if isinstance(val, dict) else {"c": val}
        refs = ref if isinstance(ref, dict) else {"c": ref}
        for k in vals:
            assert float(vals[k]) == pytest.approx(float(refs[k]), rel=16 * U, abs=1e-300)


def test_final_ntk_matrix_broadcasts_and_has_the_stated_eigenvalues():
    beta = np.array([0.6, 0.0, 0.8])
    M = FINAL.evaluate(s=np.array([1.0, 2.5]), beta=beta)
    assert M.shape == (2, 3, 3)
    np.testing.assert_allclose(np.linalg.eigvalsh(M[1]), [2.5, 2.5, 5.0], rtol=8 * U)
    np.testing.assert_allclose(M[1] @ beta, 5.0 * beta, rtol=8 * U)


def test_large_time_and_tiny_initialisation_limits():
    assert float(LOG.evaluate(s=2.0, c0=1e-300, t=1e4)) == 2.0
    out = TRAJ.evaluate(s=2.0, q0=1e-300, t=np.array([0.0, 1e4]))
    assert out["q"][0] == 1e-300 and out["r"][0] == 0.0 and out["q"][1] == 2.0 and out["r"][1] == 2.0


# -- the checks can fail ----------------------------------------------------------------------------
def test_network_claim_rejects_wrong_formulas():
    dev = psa.network_deviations()
    assert max(dev.values()) <= 1.0

    def traj_c0_is_q0(s, q0, t):  # a plausible slip: c0 = q0 instead of q0/2 (a time shift of ln 2/(2s))
        return TRAJ.evaluate(s=s, q0=2 * q0, t=t)

    def logistic_rate_s(s, c0, t):  # dc/dt = c(s - c) instead of 2c(s - c)
        return LOG.evaluate(s=s, c0=c0, t=t / 2)

    def final_without_readout(s, beta):  # forgetting the |a|^2 I term: M = s beta beta^T + I
        return s * np.outer(beta, beta) + np.eye(beta.size)

    assert psa.network_deviations(traj=traj_c0_is_q0)["trajectory"] > 1.0
    assert psa.network_deviations(logistic=logistic_rate_s)["logistic"] > 1.0
    assert psa.network_deviations(final=final_without_readout)["final"] > 1.0


def test_ode_claim_rejects_a_wrong_matched_solution(monkeypatch):
    import proofs
    from derive import _silent_alignment as sa

    claim = {c.name: c for c in proofs.claims("silent_alignment.*")}["silent_alignment.trajectory.ode"]
    assert proofs.check(claim).passed
    wrong = 2 * sa.s * sa.sp.sinh(2 * sa.s * sa.t) / (sa.sp.exp(2 * sa.s * sa.t) - 1 + sa.s / sa.q0)  # q0 for q0/2
    monkeypatch.setattr(sa, "R_EXPR", wrong)
    assert not proofs.check(claim).passed
