"""The diagonal report section's numbers: what the figures show is the registered closed forms."""

import numpy as np

from proofs.report import _diagonal as rep


def test_heatmap_is_the_closed_form():
    d = rep.heatmap_data(n_beta=7, n_lam=5)
    c, lam, b = rep.HEAT_C, rep.HEAT_C * d["lam_ratio"][:, None], d["beta_pt"][None, :]
    S = np.hypot(c, b)
    # S - lam without cancellation (for lam > 0 via S^2 - lam^2 = (c - lam)(c + lam) + b^2): the kernel is this accurate
    ref = np.where(lam <= 0, S - lam, ((c - lam) * (c + lam) + b**2) / (S + np.abs(lam)))
    np.testing.assert_allclose(d["log10_kappa_readout_reset"], np.log10(ref), rtol=1e-14, atol=1e-15)
    with np.errstate(divide="ignore"):  # lam = c: a zero first layer, kappa = 0 (log10 = -inf, shown blank)
        merged = np.log10(2 * (c - lam) * (1 + np.hypot(1, b / c)))
    np.testing.assert_allclose(d["log10_kappa_merged"], merged, rtol=1e-14, atol=1e-14)


def test_learning_curve_theory_decreases_with_alpha():
    d = rep.curves_data(simulate=False)
    assert d["theory"].shape == (len(rep.CURVE_ALPHAS),)
    assert np.all(np.diff(d["theory"]) < 0)
