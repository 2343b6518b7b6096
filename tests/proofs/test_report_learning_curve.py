"""The learning_curve report section's data functions (theory only: the simulations run in the report build)."""

import numpy as np
import pytest

from proofs.report import _learning_curve as rep


def test_learning_curve_data_starts_at_the_target_power_and_peaks_at_N():
    d = rep.learning_curve_data(simulate=False)
    _, _, power = rep._spectrum()
    assert d["theory"].shape == (len(rep.LC_CURVES), d["P"].size)
    # at P = 1 every curve is below the total power (sum = 1) and positive
    assert np.all(d["theory"][:, 0] < power.sum()) and np.all(d["theory"][:, 0] > 0)
    ridgeless_noisy = d["theory"][1]
    peak = d["P"][np.argmax(ridgeless_noisy)]
    assert abs(peak - rep.LC_M) <= 1.0  # the double-descent peak beside P = N (N itself is excluded)
    assert np.all(d["theory"][0][d["P"] > rep.LC_M] == 0.0)  # noise-free ridgeless: interpolated


def test_mode_and_risk_data_shapes():
    m = rep.mode_data(simulate=False)
    assert m["theory"].shape == (len(rep.MODE_KS), m["P"].size)
    assert np.all(np.diff(m["theory"][0]) <= 0)  # the top mode's error falls with P
    r = rep.risk_data(simulate=False)
    assert rep.RT_D not in r["n"] and np.all(r["theory"] > 0)


def test_transfer_and_floor_data():
    d = rep.transfer_data(simulate=False)
    for g in rep.TR_GAMMAS:
        assert d["theory"][g][:, 0] == pytest.approx(1.0) and np.all(d["theory"][g][:, d["nu"] >= 1] == 0)
    # gamma1 = 0 is the lazy limit: no transfer, L = 1 - nu2 for every alpha
    np.testing.assert_allclose(d["theory"][0.0], np.maximum(1 - d["nu"], 0)[None, :].repeat(4, 0), atol=1e-15)
    f = rep.floor_data(simulate=False)
    np.testing.assert_allclose(f["theory"][0], 1 - f["nu1"], atol=1e-15)  # alpha_s = 1, alpha_g = 0
