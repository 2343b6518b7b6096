"""The LLVM route for large kernels: the Numba kernel's values bit for bit, its cache, its fallbacks.

Each comparison compiles the same spec twice into separate caches: with
``LAZYRICH_LLVM_KERNELS=1`` (the LLVM route whatever the size) and ``=0`` (Numba),
and evaluates both over the same grid, special values included.
"""

from __future__ import annotations

import ast
import math
import random

import numpy as np
import pytest
import sympy as sp
from _expression_trees import expression_trees  # tests/numerics/_expression_trees.py
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sympy.codegen.cfunctions import expm1, log1p

import numerics._kernel as kernel_module
from numerics import (
    CACHE_ENV_VAR,
    Implicit,
    KernelSpec,
    _llvm_kernel,
    _llvm_module,
    compile_kernel,
)
from numerics._llvm_module import ENV_VAR, wants_llvm

x, y = sp.symbols("x y", real=True)

FUNCTIONS = (
    sp.exp(x) + expm1(y), sp.log(x) - log1p(y), sp.sqrt(x) * sp.sin(y) / sp.cos(x), sp.tan(x) + sp.atan(y),
    sp.asin(y / 4) + sp.acos(y / 4) + sp.atan2(x, y), sp.sinh(y) * sp.cosh(x) - sp.tanh(y),
    sp.asinh(x) + sp.acosh(x + 1) + sp.atanh(y / 4), sp.erf(x) - sp.erfc(y) + sp.Abs(y),
    x**2 + y**3 - x**5 * y**-2 + x**-1 + (x + y)**7 + x**0.5 + x**y + x**sp.Rational(1, 3),
    sp.log(x, 2) + sp.log(y, 10) + sp.pi * x - sp.E,
)
PIECEWISE = (
    sp.Piecewise((x * y, (x < y) & (y <= 2)), (x - y, (x > 1) | sp.Eq(y, 0)), (sp.oo, sp.Ne(x, 3)), (0, True)),
    sp.Piecewise((1, sp.Eq(x, 0)), (sp.sin(x) / x, True)),
)
XS = np.array([-math.inf, -3.0, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 3.0, 7.5, 1e300, math.inf, math.nan])
YS = np.concatenate([XS, np.random.default_rng(0).uniform(-4, 4, 37)])


def both(tmp_path, monkeypatch, spec):
    """(LLVM kernel, Numba kernel) of ``spec``, each compiled into its own fresh cache."""
    out = []
    for setting in ("1", "0"):
        monkeypatch.setenv(ENV_VAR, setting)
        monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / f"cache{setting}"))
        monkeypatch.setattr(kernel_module, "_LOADED", {})
        out.append(compile_kernel(spec))
    assert getattr(out[0].module, "backend", None) == "llvm" and getattr(out[1].module, "backend", None) is None
    return out


def assert_same(a, b):
    """Bitwise equality, NaN where NaN (any payload)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    same = (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))
    assert same.all(), f"{(~same).sum()} differences, e.g. {a[~same][:3]} vs {b[~same][:3]}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_every_function_and_power_equals_numba_bit_for_bit(tmp_path, monkeypatch):
    fast, ref = both(tmp_path, monkeypatch, KernelSpec("llvm_functions", (x, y), FUNCTIONS))
    got, nbad = fast(XS[:, None], YS)
    want, nbad_ref = ref(XS[:, None], YS)
    assert nbad == nbad_ref > 0
    assert_same(got, want)
    assert fast.module.point(0.5, 2.0) == ref.scalar(0.5, 2.0) == fast.scalar(0.5, 2.0)


def test_piecewise_and_comparisons_equal_numba_bit_for_bit(tmp_path, monkeypatch):
    fast, ref = both(tmp_path, monkeypatch, KernelSpec("llvm_piecewise", (x, y), PIECEWISE))
    assert_same(fast(XS[:, None], YS)[0], ref(XS[:, None], YS)[0])
    assert fast.module.point(0.0, 1.0) == (0.0, 1.0)


def random_expression(seed: int, ops: int) -> sp.Expr:
    """Sums of products of exp/sqrt/log1p of random polynomials in x, y (as in benchmarks/bench_mode)."""
    rng = random.Random(seed)

    def poly():
        return sum(sp.Rational(rng.randint(-9, 9), rng.randint(1, 9)) * rng.choice([x, y, x * y, x**2])
                   for _ in range(3)) + rng.randint(1, 5)

    e = sp.Integer(0)
    while sp.count_ops(e) < ops:
        f = rng.choice((lambda p: sp.exp(p / 8), lambda p: sp.sqrt(1 + p**2), lambda p: log1p(p**2)))
        e += sp.Rational(rng.randint(1, 9), rng.randint(1, 9)) * f(poly()) * f(poly())
    return e


def test_a_large_kernel_takes_the_llvm_route_by_default_and_is_thread_count_independent(tmp_path, monkeypatch):
    expr = random_expression(1, 1000)
    spec = KernelSpec("llvm_large", (x, y), (expr,))
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "default"))
    monkeypatch.setattr(kernel_module, "_LOADED", {})
    k = compile_kernel(spec)
    assert k.module.backend == "llvm"
    xs, ys = np.linspace(-2, 2, 300)[:, None], np.linspace(-1, 3, 401)
    values = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("LAZYRICH_THREADS", threads)
        values[threads] = k(xs, ys)[0]
    assert_same(values["1"], values["2"])
    ref = sp.lambdify((x, y), expr, modules="mpmath")
    for i, j in [(0, 0), (150, 200), (299, 400)]:
        exact = float(ref(float(xs[i, 0]), float(ys[j])))
        assert math.isclose(values["1"][0, i, j], exact, rel_tol=1e-12)


def test_a_second_process_loads_the_object_without_translating(tmp_path, monkeypatch):
    spec = KernelSpec("llvm_cached", (x, y), (sp.exp(x) * sp.sqrt(y),))
    monkeypatch.setenv(ENV_VAR, "1")
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setattr(kernel_module, "_LOADED", {})
    first = compile_kernel(spec)
    obj = _llvm_kernel.object_path(first.path)
    assert obj.exists() and obj.read_bytes()

    def refuse(*a, **k):
        raise AssertionError("translated again")

    monkeypatch.setattr(_llvm_module, "translate", refuse)
    monkeypatch.setattr(_llvm_module, "compile_object", refuse)
    monkeypatch.setattr(kernel_module, "_LOADED", {})  # as a new process: the module and object files only
    again = compile_kernel(spec)
    assert again.module.backend == "llvm" and again.module.point(1.0, 4.0) == first.module.point(1.0, 4.0) == 2 * math.e


def test_what_the_llvm_route_does_not_translate_is_compiled_by_numba(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "1")
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setattr(kernel_module, "_LOADED", {})
    k = compile_kernel(KernelSpec("llvm_gamma", (x,), (sp.gamma(x) + sp.Max(x, 1),)))  # max(): not translated
    assert getattr(k.module, "backend", None) is None and k.scalar(3.0) == 5.0
    u = sp.Symbol("u", real=True)
    assert not wants_llvm(KernelSpec("llvm_root", (y,), (u,), implicit=Implicit(u, u**3 - y, 0, sp.Max(1, y))))
    fn = ast.parse("def _scalar(x):\n    for i in range(3):\n        x = x + 1\n    return x\n").body[0]
    with pytest.raises(_llvm_kernel.Unsupported, match="statement For"):
        _llvm_kernel.translate(fn, 1, "f")


def test_the_setting_turns_the_route_off_and_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "0")
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setattr(kernel_module, "_LOADED", {})
    assert getattr(compile_kernel(KernelSpec("llvm_small", (x,), (sp.exp(x),))).module, "backend", None) is None
    monkeypatch.setenv(ENV_VAR, "yes")
    with pytest.raises(ValueError, match=f"{ENV_VAR}: must be 0 or 1"):
        wants_llvm(KernelSpec("llvm_small", (x,), (sp.exp(x),)))


def test_hoisted_rows_and_if_blocks_equal_numba_on_the_mode_kernel(tmp_path, monkeypatch):
    """lambda_balanced.mode: if/elif/else blocks, max(), copysign, and a prefix hoisted along t."""
    import derive

    spec = derive.get("lambda_balanced.mode").kernel_spec()
    fast, ref = both(tmp_path, monkeypatch, spec)
    lam = np.array([-10.0, -1.0, 0.0, 1e-300, 2.0, 10.0])[:, None, None, None]
    s = np.array([0.5, 1.0, 2.0])[:, None, None]
    a0 = np.array([-0.5, -1e-3, 0.0, 1e-3, 0.5])[:, None]
    t = np.concatenate([[0.0, 1e-12], np.linspace(0.01, 10, 60), [100.0, 1e4]])
    assert_same(fast(lam, s, a0, t)[0], ref(lam, s, a0, t)[0])  # rows along t: the hoisted path
    rng = np.random.default_rng(2)
    pts = [rng.uniform(-10, 10, 500), rng.uniform(0.5, 2, 500), rng.uniform(-0.5, 0.5, 500), rng.uniform(0, 10, 500)]
    assert_same(fast(*pts)[0], ref(*pts)[0])  # every argument moving: the point function


_LEAVES = (x, y, sp.Integer(2), sp.Rational(1, 3), sp.sqrt(2))
_UNARY = (sp.exp, sp.sin, lambda e: sp.sqrt(1 + e**2), lambda e: -e, lambda e: log1p(e**2), lambda e: e**3,
          lambda e: 1 / (1 + e**2), sp.Abs)
_BINARY = (sp.Add, sp.Mul, lambda p, q: p / (2 + q**2), lambda p, q: sp.Piecewise((p, q > 0), (q, True)),
           lambda p, q: sp.Max(p, q), lambda p, q: sp.Piecewise((p, sp.Eq(q, 0)), (p * q, p < 1), (q, True)))


def _trees():
    """Random expression trees over x, y; small leaf set so that subtrees repeat."""
    return expression_trees(_LEAVES, _UNARY, _BINARY)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_trees(), _trees(), st.integers(0, 2**32 - 1))
@example(sp.Max(x, y) + sp.Piecewise((x, y > 0), (y, True)), sp.exp(x) * sp.Abs(y) ** 3, 0)
@example(x, sp.Piecewise((x, sp.ITE(y > 0, sp.Eq(x, 0), sp.Eq(x + y, 0))), (x * y, x < 1), (y, True)), 0)  # a boolean choice
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_random_expressions_equal_numba_bit_for_bit(tmp_path_factory, e1, e2, seed):
    """Whatever the generated source holds, the LLVM route computes Numba's values exactly."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        spec = KernelSpec(f"llvm_prop_{seed}", (x, y), (e1, e2 + x))
        fast, ref = both(tmp_path_factory.mktemp("prop"), monkeypatch, spec)
        rng = np.random.default_rng(seed)
        xs = np.concatenate([XS, rng.uniform(-3, 3, 40)])
        assert_same(fast(xs[:, None], YS)[0], ref(xs[:, None], YS)[0])
    finally:
        monkeypatch.undo()
