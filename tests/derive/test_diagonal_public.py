"""The public ``derive.diagonal`` entry points: the documented calls, their numbers and their refusals."""

import math

import pytest

import derive
from derive import diagonal

CALL = dict(c=1e-2, lam=0.9e-2, gamma=0.0, protocol="readout_reset", rho_pt=0.2, a_pt=1.0, rho_ft=0.1, omega=1.0)


def test_the_public_names_are_the_model_functions():
    from derive import _diagonal_generalization, _diagonal_regimes

    assert diagonal.finetune_generalization_error is _diagonal_generalization.finetune_generalization_error
    assert diagonal.regime_map is _diagonal_regimes.regime_map
    assert set(diagonal.__all__) <= set(dir(diagonal))


def test_a_single_bernoulli_gaussian_group_is_the_registered_error():
    # no pretraining support and a fine-tuning task of density rho on new features: one group whose
    # kappa_F is the readout reset's off-support scale, which must give the registered single-task error
    kon, koff = diagonal.regime_kappas(1e-2, 0.5e-2, 0.0, protocol="merged")
    eps = diagonal.finetune_generalization_error(c=1e-2, lam=0.5e-2, gamma=0.0, protocol="merged", rho_pt=0.0,
                                                 a_pt=1.0, rho_ft=0.3, omega=0.0, alpha=0.5)
    single = float(derive.get("diagonal.generalization_error").evaluate(kappa=koff, alpha=0.5, rho=0.3))
    assert math.isclose(eps, single, rel_tol=1e-12)


@pytest.mark.parametrize("bad, message", [({"alpha": 1.5}, "alpha: must satisfy 0 < alpha < 1"),
                                          ({"protocol": "reset"}, "protocol: must be 'merged' or 'readout_reset'"),
                                          ({"omega": 1.0, "rho_pt": 0.05}, "omega: infeasible overlap"),
                                          ({"gamma": 0.1}, "gamma: the readout reset has a nonzero Bregman centre")])
def test_bad_calls_name_the_parameter(bad, message):
    with pytest.raises(ValueError, match=message):
        diagonal.finetune_generalization_error(**({**CALL, "alpha": 0.3} | bad))


def test_the_regime_map_names_a_winner_per_task_and_alpha():
    m = diagonal.regime_map([0.3])
    assert m["eps"].shape == (len(diagonal.REGIMES), len(diagonal.TASKS), 1)
    assert m["winner"].shape == (len(diagonal.TASKS), 1)
