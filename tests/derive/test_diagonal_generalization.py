"""diagonal.generalization_error: values, bad input, the fine-tuning mixture against simulation,
and a mutation test of the note-value claim."""

import math

import numpy as np
import pytest

import derive
from derive import _diagonal_generalization as dg
from numerics._replica_diagonal import (
    bernoulli_gaussian_groups,
    residual,
    simulate_finetune,
    solve,
)
from proofs import _diagonal_generalization as claims

GE = derive.get("diagonal.generalization_error")
FT = dict(gamma=0.0, rho_pt=0.2, a_pt=1.0, rho_ft=0.1, omega=1.0, alpha=0.3)


def test_broadcast_values_and_latex():
    eps = GE.evaluate(kappa=np.array([1.0, 20.0]), alpha=0.6, rho=0.1)
    assert eps.shape == (2,)
    assert abs(eps[0] - 0.148) <= 5e-4 and abs(eps[1] - 0.393) <= 5e-4  # note D8
    assert "varepsilon" in GE.latex()


def test_error_decreases_with_samples():
    eps = GE.evaluate(kappa=0.05, alpha=np.array([0.2, 0.4, 0.6]), rho=0.1)
    assert np.all(np.diff(eps) < 0) and np.all(eps > 0)


def test_dense_teacher_is_ridge_like():
    """rho = 1 is a Gaussian teacher: every kappa gives at least the ridge error (1 - alpha) up to the
    solver's accuracy (the l2 interpolator is the Bayes-optimal interpolator for a Gaussian prior)."""
    eps = GE.evaluate(kappa=np.array([0.05, 1.0]), alpha=0.5, rho=1.0)
    assert np.all(eps >= 0.5 - 1e-9)


@pytest.mark.parametrize("kw, name", [(dict(kappa=0.0), "kappa"), (dict(kappa=-1.0), "kappa"),
                                      (dict(alpha=1.0), "alpha"), (dict(alpha=0.0), "alpha"),
                                      (dict(rho=0.0), "rho"), (dict(rho=1.5), "rho"),
                                      (dict(kappa=math.nan), "kappa")])
def test_bad_input(kw, name):
    args = dict(kappa=1.0, alpha=0.3, rho=0.1) | kw
    with pytest.raises(ValueError, match=f"^{name}"):
        GE.evaluate(**args)


@pytest.mark.parametrize("kw, name", [(dict(protocol="other"), "protocol"),
                                      (dict(protocol="readout_reset", gamma=0.2), "gamma"),
                                      (dict(omega=1.5), "omega"), (dict(rho_pt=0.05), "omega"),
                                      (dict(lam=0.02), "lam"), (dict(c=-1.0), "c"), (dict(a_pt=0.0), "a_pt"),
                                      (dict(protocol="readout_reset", lam=0.01), "lam")])
def test_finetune_bad_input(kw, name):
    args = dict(c=1e-2, lam=0.9e-2, protocol="merged") | FT | kw
    with pytest.raises(ValueError, match=f"^{name}"):
        dg.finetune_generalization_error(**args)


def test_readout_reset_finetune_matches_simulation():
    """Protocol readout_reset, c = 1e-2, lam/c = 0.9, omega = 0 (new features: tiny kappa_F), d = 1000."""
    c, lam = 1e-2, 0.9e-2
    res = derive.get("diagonal.kappa_ft_readout_reset")
    draws = np.array([simulate_finetune(lambda b: res.evaluate(c=c, lam=lam, beta_pt=b, gamma=0.0)["kappa"],
                                        0.2, 1.0, 0.1, 0.0, 0.3, 1000, seed) for seed in range(6)])
    theory = dg.finetune_generalization_error(c=c, lam=lam, protocol="readout_reset", **(FT | dict(omega=0.0)))
    se = draws.std(ddof=1) / math.sqrt(draws.size)
    assert -4 * se <= draws.mean() - theory <= 4 * se + claims.BIAS * theory


def test_note_value_claim_catches_a_wrong_kappa(monkeypatch):
    """Mutation: a 10 % error in the scale kappa must break the D8 claim."""
    monkeypatch.setattr(dg, "bernoulli_gaussian_groups", lambda k, r: bernoulli_gaussian_groups(1.1 * k, r))
    assert not claims._note_values().passed


def test_latex_shows_the_scalar_channel_equations():
    """The display is the RS system the evaluator solves: error, channel noise, degrees of freedom, prox, channel."""
    tex = GE.latex()
    for piece in (r"\varepsilon_g &= \mathbb{E}{\left(\left(- \hat{x} + x\right)^{2} \right)}",
                  r"s^{2} &= \frac{\varepsilon_{g}}{\alpha}",
                  r"\frac{g}{\sqrt{4 \hat{x}^{2} + \kappa^{2}}} + 1} \right)} &= \alpha",
                  r"\operatorname{asinh}{\left(\frac{2 \hat{x}}{\kappa} \right)}}{2} &= z",
                  r"z &= \xi s + x"):
        assert piece in tex
    assert str(GE.expr) == r"\mathbb{E}((-\hat{x} + x)**2)"  # no parameter replaced by a definition


def test_branch_above_the_zero_estimate():
    """Dense teacher, rich bias, few samples: the interpolator is worse than predicting 0, so state evolution
    from the zero estimate moves s *up*. Both entry points use the one solver
    (numerics._replica_diagonal.solve, whose branch selection is tested there) and report the first root
    above s0 (G > 0 all the way from s0), not a spurious perfect recovery."""
    alpha, groups = 0.05, bernoulli_gaussian_groups(0.005, 0.9)
    sol = solve(alpha, groups)
    eps = float(GE.evaluate(kappa=0.005, alpha=alpha, rho=0.9))
    assert not sol["perfect"] and eps == sol["eps"] and eps > 1.0
    s0 = math.sqrt(1.0 / alpha)
    assert sol["s"] > s0
    assert all(residual(s, alpha, groups) > 0 for s in np.linspace(s0, sol["s"], 8)[:-1])
    assert abs(residual(sol["s"], alpha, groups)) <= 1e-12 * sol["s"] ** 2


def test_finetune_uses_the_same_solver(monkeypatch):
    """finetune_generalization_error is solve() on the fine-tuning groups (no second solver)."""
    kw = dict(c=1e-2, lam=0.9e-2, protocol="merged") | FT
    expected = solve(FT["alpha"], dg.finetune_groups(**{k: v for k, v in kw.items() if k != "alpha"}))["eps"]
    assert dg.finetune_generalization_error(**kw) == expected
    monkeypatch.setattr(dg, "solve", lambda alpha, groups: {"eps": -1.0})
    assert dg.finetune_generalization_error(**kw) == -1.0
