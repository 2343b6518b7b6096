"""derive._diagonal_regimes: the classification of the four initialisations, the theory's winners, and
two exact limits (pretraining-independence of a uniform kappa_F; the ridge limit at large gamma)."""

import numpy as np
import pytest

from derive import _diagonal_generalization as dg
from derive import _diagonal_regimes as reg

ALPHA = 0.1


def test_the_four_initialisations_are_the_four_regimes():
    got = [reg.classify(*reg.regime_kappas(c, r * c, g)) for _, c, r, g in reg.REGIMES.values()]
    assert got == [("rich", "independent"), ("rich", "dependent"), ("lazy", "dependent"), ("lazy", "independent")]


def test_zero_first_layer_merged_reset_is_uniform():
    """lam = c: after pretraining w_+ + w_- = 0 exactly, so the merged reset gives kappa_F = 2 gamma^2 on every
    coordinate (closed form evaluated: equal to rounding)."""
    _, c, r, g = reg.REGIMES["rich_independent"]
    k_on, k_off = reg.regime_kappas(c, r * c, g)
    assert abs(k_on - 2 * g * g) <= 4e-16 * k_on and abs(k_off - 2 * g * g) <= 4e-16 * k_off


def test_each_regime_wins_its_task():
    """At alpha = 0.1 regime k has the smallest theory error on task k, by a clear margin (factor >= 1.1,
    far above the solver's 1e-9 relative accuracy)."""
    m = reg.regime_map([ALPHA])
    eps = m["eps"][:, :, 0]
    np.testing.assert_array_equal(m["winner"][:, 0], np.arange(4))
    for j in range(4):
        others = np.delete(eps[:, j], j)
        assert others.min() >= 1.1 * eps[j, j]
    # the numbers of the regime map (3 digits of the experiment's fixture, whose rows are regimes)
    expected = np.array([[1.40e-3, 1.40e-3, 8.60e-1, 1.08], [3.44e-2, 1.12e-4, 3.71e-1, 1.20],
                         [8.51e-1, 2.09e-2, 1.05e-1, 1.70], [9.00e-1, 8.98e-1, 8.98e-1, 9.00e-1]])
    np.testing.assert_allclose(eps, expected, rtol=6e-3)


def test_independent_regime_ignores_the_overlap():
    """kappa_on = kappa_off: the mixture for omega = 0 and omega = 1 is the same law, so the errors agree to
    the solver's tolerance."""
    _, c, r, g = reg.REGIMES["rich_independent"]
    e = [dg.finetune_generalization_error(c=c, lam=r * c, gamma=g, protocol="merged", rho_ft=0.01, omega=w,
                                          alpha=ALPHA, **reg.PRETRAINING) for w in (0.0, 1.0)]
    assert abs(e[0] - e[1]) <= 1e-9 * e[0]


@pytest.mark.parametrize("task", ["sparse_new", "dense_reused"])
def test_lazy_limit_is_ridge_whatever_the_task(task):
    """lam = c (zero first layer), gamma = 100: kappa_F = 2 gamma^2 = 2e4 on every coordinate (no pretraining
    dependence at all), and phi_kappa = b^2/(2 kappa) (1 + O(b^2/kappa^2)), so eps - (1 - alpha) is bounded by
    the largest teacher variance over kappa^2, (1/rho_ft) / kappa^2 (as in the ridge-limit claim)."""
    _, rho, omega = reg.TASKS[task]
    eps = dg.finetune_generalization_error(c=1e-3, lam=1e-3, gamma=100.0, protocol="merged", rho_ft=rho,
                                           omega=omega, alpha=ALPHA, **reg.PRETRAINING)
    assert abs(eps - (1 - ALPHA)) <= (1 / rho) / 2e4**2


def test_mutation_swapped_scales_lose_the_reuse_task(monkeypatch):
    """Mutation: swapping kappa_on and kappa_off must make the reuse-and-refine regime lose its task."""
    real = dg.finetune_groups

    def swapped(**kw):
        g = real(**kw)
        k_on, k_off = real(**{**kw, "rho_pt": 0.5, "rho_ft": 0.5, "omega": 0.5})[0][1], \
            real(**{**kw, "rho_pt": 0.5, "rho_ft": 0.5, "omega": 0.5})[1][1]
        return [(p, k_off if k == k_on else k_on, v) for p, k, v in g]

    _, c, r, g = reg.REGIMES["rich_dependent"]
    args = dict(c=c, lam=r * c, gamma=g, protocol="merged", rho_ft=0.01, omega=1.0, alpha=ALPHA, **reg.PRETRAINING)
    good = dg.finetune_generalization_error(**args)
    monkeypatch.setattr(dg, "finetune_groups", swapped)
    assert dg.finetune_generalization_error(**args) > 10 * good


def test_bad_input():
    with pytest.raises(ValueError, match="^lam"):
        reg.regime_kappas(1e-3, 2e-3, 0.0)
    with pytest.raises(ValueError, match="^gamma"):
        reg.lam_sweep([0.0], task=(0.01, 1.0), alpha=ALPHA, gamma=0.1, protocols=("readout_reset",))
