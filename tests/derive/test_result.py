"""The Result object and registry: a user's own result gets kernel, LaTeX, mp twin and checks for free."""

import math

import numpy as np
import pytest
import sympy as sp

import derive
from derive import Constraint, Param, Result, nonnegative, positive, real


@pytest.fixture(scope="module")
def shallow():
    s, t = sp.symbols("s t", positive=True)
    name = "test.shallow_mode"
    result = Result(
        name, title="Mode of a shallow linear network",
        params=[Param("s", positive()), Param("t", nonnegative())],
        expr=s * (1 - sp.exp(-t)) + sp.Rational(1, 100) * sp.exp(-t), output="a",
        conditions=["whitened inputs"], references=["saxe2014exact"])
    return derive.register(result, replace=True)


def test_user_result_evaluates_renders_and_cites(shallow):
    assert "test.shallow_mode" in derive.names("test.*")
    t = np.array([0.0, 1.0, 50.0])
    expected = 2.0 * (1 - np.exp(-t)) + 0.01 * np.exp(-t)
    assert shallow.evaluate(s=2.0, t=t) == pytest.approx(expected, rel=4e-16)
    assert float(shallow.mp(dps=40, s=2.0, t=1.0)) == pytest.approx(expected[1], rel=1e-15)
    assert "e^{- t}" in shallow.latex()
    assert "@inproceedings{saxe2014exact" in shallow.citation
    assert any("whitened" in c for c in shallow.conditions_all())
    with pytest.raises(ValueError, match=r"^t: must be >= 0"):
        shallow.evaluate(s=1.0, t=-1.0)


def test_scalar_input_gives_numpy_scalar(shallow):
    value = shallow.evaluate(s=1.0, t=0.0)
    assert np.ndim(value) == 0 and value == pytest.approx(0.01)


def test_registry_refuses_duplicates_and_suggests(shallow):
    with pytest.raises(ValueError, match="already registered"):
        derive.register(shallow)
    with pytest.raises(KeyError, match="did you mean"):
        derive.get("lambda_balanced.mod")


def test_keyword_parameter_names_are_refused():
    with pytest.raises(ValueError, match="lambda"):
        Param("lambda", real())


def test_unknown_reference_is_refused():
    x = sp.Symbol("x", real=True)
    with pytest.raises(KeyError, match="unknown reference"):
        Result("test.bad", title="", params=[Param("x")], expr=x, references=["nobody2099"])


def test_constraint_names_first_parameter():
    x, y = sp.symbols("x y", real=True)
    r = Result("test.ordered", title="", params=[Param("x"), Param("y")], expr=x - y,
               constraints=[Constraint(("y", "x"), "y must be below x", lambda y, x: y < x)])
    assert r.evaluate(x=[2.0, 3.0], y=1.0) == pytest.approx([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^y: y must be below x \(violated at y=3.0, x=2.0\)"):
        r.evaluate(x=[2.0, 4.0], y=3.0)


def test_piecewise_special_value_is_exact():
    x = sp.Symbol("x", real=True)
    r = Result("test.sinc", title="", params=[Param("x")],
               expr=sp.Piecewise((1, sp.Eq(x, 0)), (sp.sin(x) / x, True)))
    assert r.evaluate(x=[0.0, 1e-300, math.pi]) == pytest.approx([1.0, 1.0, 0.0], abs=1e-15)


def test_broadcast_mismatch_names_a_parameter():
    with pytest.raises(ValueError, match=r"^lam: parameter shapes do not broadcast"):
        derive.get("lambda_balanced.mode").evaluate(lam=np.zeros(3), s=1.0, a0=0.1, t=np.zeros(4))


@pytest.fixture(scope="module")
def matrix_power():
    """A result evaluated by a hand-written evaluator, with a matrix parameter and a matrix output."""
    A, t = sp.MatrixSymbol("A", 2, 2), sp.Symbol("t", nonnegative=True)

    def evaluator(A, t):
        w, V = np.linalg.eigh((A + A.T) / 2)
        return np.einsum("ij,...j,kj->...ik", V, np.exp(-np.multiply.outer(t, w)), V)

    result = Result(
        "test.matrix_decay", title="exp(-tA) of a symmetric matrix",
        params=[Param("A", real(), ndim=2), Param("t", nonnegative())],
        expr=sp.exp(-t * A), output="E", evaluator=evaluator, conditions=["A symmetric"])
    return derive.register(result, replace=True)


def test_evaluator_result_checks_and_returns_matrices(matrix_power):
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    E = matrix_power.evaluate(A=A, t=[0.0, 1.0])
    assert E.shape == (2, 2, 2)
    np.testing.assert_allclose(E[0], np.eye(2), atol=1e-15)
    w, V = np.linalg.eigh(A)
    np.testing.assert_allclose(E[1], V @ np.diag(np.exp(-w)) @ V.T, rtol=1e-14)
    with pytest.raises(ValueError, match=r"^A: must be a 2-D array"):
        matrix_power.evaluate(A=[1.0, 2.0], t=0.0)
    with pytest.raises(ValueError, match=r"^A: must be finite"):
        matrix_power.evaluate(A=[[np.inf, 0.0], [0.0, 1.0]], t=0.0)
    with pytest.raises(NotImplementedError, match="evaluator"):
        matrix_power.python(A=A, t=0.0)
    assert "(2-D array)" in " ".join(matrix_power.conditions_all())


def test_evaluator_nan_is_a_bug_not_a_number():
    r = Result("test.nan_evaluator", title="returns NaN", params=[Param("x", real())],
               expr=sp.Symbol("x"), evaluator=lambda x: np.full(np.shape(x), np.nan))
    with pytest.raises(FloatingPointError, match="NaN"):
        r.evaluate(x=1.0)


def test_evaluator_that_checks_its_own_output_is_trusted():
    calls = []

    def evaluator(x):
        calls.append(1)
        return np.full(np.shape(x), np.nan)  # breaks its promise: shows evaluate() no longer scans

    r = Result("test.self_checking_evaluator", title="checks itself", params=[Param("x", real())],
               expr=sp.Symbol("x"), evaluator=evaluator, evaluator_checks_finite=True)
    assert np.isnan(r.evaluate(x=1.0)) and calls == [1]
    with pytest.raises(ValueError, match="evaluator_checks_finite=True needs evaluator="):
        Result("test.no_evaluator", title="t", params=[Param("x", real())], expr=sp.Symbol("x"),
               evaluator_checks_finite=True)


def test_param_ndim():
    assert Param("v", vector=True).ndim == 1 and Param("M", ndim=2).vector
    assert Param("x").ndim == 0 and not Param("x").vector
    with pytest.raises(ValueError, match="ndim"):
        Param("x", vector=True, ndim=0)


def test_constraint_over_whole_vectors_names_the_parameter():
    c = Constraint(("v",), "v must sum to 1", lambda v: np.isclose(np.sum(v), 1.0))
    with pytest.raises(ValueError, match=r"^v: v must sum to 1 \(violated at v=\[0.5, 0.25\]\)"):
        c.check({"v": np.array([0.5, 0.25])})


def test_mp_twin_takes_integers(shallow):
    assert float(shallow.mp(dps=30, s=np.int64(2), t=0)) == pytest.approx(0.01, rel=1e-15)


def test_a_kernel_builder_runs_on_the_first_compile_only():
    import sympy as sp

    from derive import Param, Result, real

    x = sp.Symbol("x", real=True)
    calls = []

    def build():
        calls.append(1)
        return ((sp.Symbol("u", real=True), x**2),), (sp.Symbol("u", real=True) + 1,)

    r = Result("test.lazy_kernel", title="t", params=[Param("x", real())], expr=x**2 + 1, output="y", kernel=build)
    assert calls == []  # constructing (importing the model) does not build the stable form
    assert float(r.evaluate(x=3.0)) == 10.0 and calls == [1]
    r.kernel_spec()
    assert calls == [1]
    with pytest.raises(ValueError, match="give kernel= or kernel_exprs="):
        Result("test.both", title="t", params=[Param("x", real())], expr=x, output="y", kernel=build,
               kernel_exprs=[x])
