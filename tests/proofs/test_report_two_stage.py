"""The two_stage report section's data (mean-field part only; the networks run in the report build)."""

import numpy as np

from proofs.report import _two_stage as rep


def test_mean_field_curves_show_transfer_and_start_at_the_untrained_loss():
    d = rep.two_stage_data(simulate=False)
    task = rep._task()
    y = task.y[task.target_test]
    for g2 in rep.GAMMA2S:
        scratch, pre = d["mf"][(False, g2)], d["mf"][(True, g2)]
        assert scratch[0] == np.mean(y * y) / 2  # fresh readout in the limit: f = 0 at the start
        assert pre[0] == scratch[0]
        assert pre[-1] < scratch[-1]  # aligned pretraining helps the target (alpha = 0.8)
        assert np.all(np.diff(scratch) <= 1e-12) or scratch[-1] < scratch[0]


def test_small_widths_run_and_fit_rates():
    d = rep.two_stage_data(widths=(100, 1600), seeds=2, moment_seeds=30)
    assert d["net_vs_moments"] < 1e-12  # the sample-moment recursion is the linear network's trajectory
    for p in (True, False):
        # one seed's gap ~ N^-1/2: a factor 16 in N quarters it; the bounds are ~3 sampling standard errors (30 seeds) of the slope
        assert -0.8 < d["rate_fluct"][p] < -0.2
