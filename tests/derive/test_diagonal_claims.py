"""Mutation tests: the diagonal.* claims fail when a formula is perturbed (so they can fail)."""

import pytest

import derive
import proofs
from derive import _diagonal_model as dm

CLAIMS = {c.name: c for c in proofs.claims("diagonal.*")}


def _perturb(monkeypatch, name, factor=1 + 1e-6, key=None):
    res = derive.get(name)
    original = res.evaluate

    def wrong(**kw):
        out = original(**kw)
        if isinstance(out, dict):
            return {k: (v * factor if key in (None, k) else v) for k, v in out.items()}
        return out * factor

    monkeypatch.setattr(res, "evaluate", wrong)


@pytest.mark.parametrize("result, claims", [
    ("diagonal.potential", ["diagonal.potential.kernel_high_precision"]),
    ("diagonal.implicit_bias", ["diagonal.implicit_bias.gradient_flow", "diagonal.implicit_bias.high_precision",
                                "diagonal.pretraining.lam_independent"]),
    ("diagonal.weights_after_pretraining", ["diagonal.weights_after_pretraining.gradient_flow",
                                            "diagonal.weights_after_pretraining.kernel_high_precision"]),
    ("diagonal.kappa_ft_readout_reset", ["diagonal.kappa_ft_readout_reset.gradient_flow",
                                         "diagonal.kappa_ft_readout_reset.definition"]),
    ("diagonal.kappa_ft_merged", ["diagonal.kappa_ft_merged.gradient_flow", "diagonal.kappa_ft_merged.definition"]),
])
def test_perturbed_result_fails_its_claims(monkeypatch, result, claims):
    _perturb(monkeypatch, result)
    for name in claims:
        assert not proofs.check(CLAIMS[name]).passed, name


def test_wrong_potential_fails_the_symbolic_claims(monkeypatch):
    monkeypatch.setattr(dm, "PHI", dm.PHI * (1 + dm.b**2 / 1000))
    for name in ("diagonal.potential.derivatives", "diagonal.potential.woodworth", "diagonal.potential.azulay"):
        assert not proofs.check(CLAIMS[name]).passed, name


def test_note_sign_in_the_conserved_quantities_fails(monkeypatch):
    # kappa^2 with lam_+ + lam_- instead of the difference is not the conserved scale
    monkeypatch.setattr(dm, "KAPPA_SQ_OF_WEIGHTS", 4 * dm.C_OF_WEIGHTS**2 + (dm.LAM_PLUS + dm.LAM_MINUS) ** 2)
    assert not proofs.check(CLAIMS["diagonal.model.reduced_flow"]).passed
