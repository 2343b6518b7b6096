"""Every registered claim holds, and the checks can fail: broken formulas turn them red."""

import pytest
import sympy as sp

import derive
import proofs
from derive import _lambda_balanced as lb
from proofs import _claim

CLAIMS = {c.name: c for c in proofs.claims()}


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_claim_holds(name):
    outcome = proofs.check(CLAIMS[name])
    assert outcome.passed, outcome.error or outcome.evidence.detail
    ev = outcome.evidence
    if ev.measured is not None and ev.bound is not None:
        assert ev.measured <= ev.bound


def test_every_result_has_claims():
    covered = {r for c in CLAIMS.values() for r in c.results}
    assert set(derive.names()) - {n for n in derive.names() if n.startswith("test.")} <= covered


def test_perturbed_kernel_fails_its_claims(monkeypatch):
    mode = derive.get("lambda_balanced.mode")
    original = mode.evaluate
    monkeypatch.setattr(mode, "evaluate", lambda **kw: original(**kw) * (1 + 1e-6))
    for name in ("lambda_balanced.mode.kernel_equals_display", "lambda_balanced.mode.gradient_flow"):
        assert not proofs.check(CLAIMS[name]).passed, name


def test_wrong_display_form_fails_the_ode_residual(monkeypatch):
    pieces = list(lb.MODE_DISPLAY.args)
    expr, cond = pieces[3]
    pieces[3] = (expr.subs(lb.lam, 2 * lb.lam), cond)
    monkeypatch.setattr(lb, "MODE_DISPLAY", sp.Piecewise(*pieces))
    assert not proofs.check(CLAIMS["lambda_balanced.mode.ode_residual"]).passed


def test_runner_exit_codes(monkeypatch, capsys):
    monkeypatch.setitem(_claim._CLAIMS, "test.always_fails", _claim.Claim(
        "test.always_fails", "a claim that is false", "high-precision", (),
        lambda: proofs.Evidence(False, 1.0, 0.0, "1 > 0")))
    assert proofs.main(["test.always_fails"]) == 1
    assert "FAILED test.always_fails" in capsys.readouterr().out
    assert proofs.main(["test.no_such_claim_*"]) == 2
    assert proofs.main(["lambda_balanced.mode.limit_rich", "--json"]) == 0
    assert '"passed": true' in capsys.readouterr().out


def test_crashing_check_is_a_failure_with_its_message():
    bad = _claim.Claim("test.crash", "crashes", "symbolic", (), lambda: {}["x"])
    outcome = proofs.check(bad)
    assert not outcome.passed and "KeyError" in outcome.error
