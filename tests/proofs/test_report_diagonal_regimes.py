"""Report section (b) of diagonal networks: the regime map fixture, its agreement with the theory and with
simulation (z standard errors plus the stated finite-size allowance), and the live re-check."""

import copy

import numpy as np
import pytest

from derive import _diagonal_regimes as reg
from proofs.report import _diagonal_regimes as sec


@pytest.fixture(scope="module")
def fx():
    return sec.load_fixture()


def test_fixture_matches_the_module(fx):
    """The fixture was written with the current regimes, tasks and pretraining teacher (not a stale one)."""
    assert fx["regimes"] == {k: list(v) for k, v in reg.REGIMES.items()}
    assert fx["tasks"] == {k: list(v) for k, v in reg.TASKS.items()}
    assert fx["pretraining"] == reg.PRETRAINING and fx["protocol"] == reg.PROTOCOL
    assert fx["sim_d"] >= 1000 and fx["seeds"] >= 8


def test_each_regime_wins_its_task_in_theory_and_simulation(fx):
    d = sec.regimes_data(fx)
    np.testing.assert_array_equal(d["winner_theory"], np.arange(4))
    np.testing.assert_array_equal(d["winner_sim"], np.arange(4))


def test_simulation_agrees_with_theory(fx):
    """Every (regime, task): |mean - theory| <= Z SE (+ the one-sided finite-size allowance when above)."""
    d = sec.regimes_data(fx)
    assert d["within"].all(), (d["z"], d["rel_bias"])


def test_a_wrong_theory_is_caught(fx):
    """Mutation: a 30 % error in the theory of one cell with a large error must fail the agreement."""
    bad = copy.deepcopy(fx)
    k = int(np.argmin(np.abs(bad["alphas"] - bad["sim_alpha"])))
    bad["theory_eps"][2, 2, k] *= 1.3
    assert not sec.regimes_data(bad)["within"][2, 2]


def test_smaller_first_layer_reuses_and_refines(fx):
    """Sparse subset of PT features: the error falls monotonically as lam/c grows (a smaller first layer) with
    both resets, by more than 100x with the merged one, and more than on new features; with the readout reset
    the smaller first layer hurts on new features (kappa_off = c - lam -> 0)."""
    reuse = np.asarray(fx["sweep"]["sparse_reused"]["eps"])
    new = np.asarray(fx["sweep"]["sparse_new"]["eps"])
    assert fx["sweep"]["sparse_reused"]["protocols"] == ["merged", "readout_reset"]
    assert np.all(np.diff(reuse, axis=1) < 0)
    assert reuse[0, 0] / reuse[0, -1] > 100 and reuse[0, 0] / reuse[0, -1] > 5 * new[0, 0] / new[0, -1]
    assert np.all(np.diff(new[1]) > 0)


def test_live_recheck(fx):
    """The theory recomputed live agrees with the fixture to the solver's accuracy (brentq at 1e-13, claimed
    1e-6), and re-simulated seeds reproduce the fixture's draws (same seeds; Newton residual at rounding)."""
    live = sec.live_check(fx)
    assert live["theory_rel_dev"].max() <= 1e-6
    assert live["sim_rel_dev"].max() <= 1e-6


def test_grid_best_initialisation_of_each_task_is_its_regime(fx):
    """Over the whole (c, lam/c, gamma) grid, the best initialisation of task k lies in regime k."""
    g = sec.grid_data(fx)
    assert g["best_label"] == ["rich, independent", "rich, dependent", "lazy, dependent", "lazy, independent"]


def test_grid_contains_the_representatives(fx):
    """Grid points that are representative initialisations carry the same numbers as the regime map (one
    computation, two places in the fixture): equal to the last bit."""
    g = sec.grid_data(fx)
    k = int(np.argmin(np.abs(fx["alphas"] - fx["sim_alpha"])))
    found = 0
    for i, (_, c, ratio, gamma) in enumerate(reg.REGIMES.values()):
        if c in g["c"] and ratio in g["ratios"] and gamma in g["gammas"]:
            idx = (list(g["c"]).index(c), list(g["ratios"]).index(ratio), list(g["gammas"]).index(gamma))
            np.testing.assert_array_equal(g["eps"][idx], fx["theory_eps"][i, :, k])
            found += 1
    assert found >= 2
