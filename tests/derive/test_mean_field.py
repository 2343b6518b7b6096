"""``mean_field.staircase``: registry entry, broadcasting, domains and LaTeX."""

from __future__ import annotations

import numpy as np
import pytest

import derive
from numerics._mean_field import staircase_mean_field

R = derive.get("mean_field.staircase")


def test_evaluate_broadcasts_and_matches_the_solver():
    out = R.evaluate(t=np.array([[0.0, 6.0], [6.0, 3.0]]), a_scale=np.array([1.0, 0.5]), s0=1.0)
    assert out["c1"].shape == (2, 2)
    ref = staircase_mean_field(np.array([0.0, 6.0]), a_scale=0.5, s0=1.0, J=64, dt=0.1)
    assert out["c1"][0, 1] == ref["c1"][1] and out["c1"][1, 1] != out["c1"][0, 1]
    # at t = 0: W = 0 so f_rho is constant: every coefficient vanishes and R = E h^2/2 + mean(f)^2/2 = 3/2
    # (the midpoint a's are symmetric, so f_rho = 0 exactly)
    assert out["c1"][0, 0] == 0.0 and abs(out["risk"][0, 0] - 1.5) <= 1e-15


def test_scalar_evaluation_returns_scalars():
    out = R.evaluate(t=2.0, a_scale=1.0, s0=0.5)
    assert np.ndim(out["c123"]) == 0 and 0.0 < out["c1"] < 0.1


@pytest.mark.parametrize("kw,match", [({"t": -1.0}, "^t"), ({"t": 1e4}, "^t"), ({"a_scale": 0.0}, "^a_scale"),
                                      ({"s0": 3.0}, "^s0"), ({"s0": np.nan}, "^s0")])
def test_out_of_domain_raises(kw, match):
    params = {"t": 1.0, "a_scale": 1.0, "s0": 1.0, **kw}
    with pytest.raises(ValueError, match=match):
        R.evaluate(**params)


def test_latex_shows_the_reduced_flow_and_cites_the_sources():
    tex = R.latex()
    for piece in (r"\dot a", r"\dot W", r"\dot S", r"\sigma'(z)\,g", "c_{123}"):
        assert piece in tex
    assert {"mei2018meanfield", "abbe2022merged"} <= set(R.references)
