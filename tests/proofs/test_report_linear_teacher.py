"""Report section (a) of issue 5: the numbers behind the risk-against-depth figure."""

import numpy as np

from proofs.report._linear_teacher import ALPHAS, depth_data


def test_theory_numbers_of_the_depth_figure():
    d = depth_data(simulate=False)
    i2, ih = ALPHAS.index(2.0), ALPHAS.index(0.5)
    # research note teachers-lora.md §4 (three printed decimals)
    assert np.allclose(d["theory_depths"][i2], [0.909, 0.726, 0.606, 0.455, 0.360, 0.271], atol=1e-3)
    assert np.allclose(d["theory_depths"][ih], [0.234, 0.202, 0.176, 0.134, 0.104, 0.075], atol=1e-3)
    # L = inf: 2(1 - rho)||w_T||^2(1 - cos) = 2 * 0.9 * (alpha^2 + eps^2)(1 - alpha/sqrt(alpha^2 + eps^2))
    a = np.array(ALPHAS)
    T2 = a**2 + 0.01
    assert np.allclose(d["theory_inf"], 1.8 * T2 * (1 - a / np.sqrt(T2)), rtol=1e-14)
    assert d["theory_line"].shape == (3, 10)


def test_simulated_points_match_the_exact_closed_form():
    d = depth_data(seeds=2, d=40, width=1)
    assert d["sim"].shape == (3, 6, 2)
    assert d["max_rel_sim_vs_exact"] <= 1e-7  # DOP853 at rtol 1e-10
