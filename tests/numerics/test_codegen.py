"""SymPy -> Numba code generation: the emitted source, and the numbers it computes.

Few distinct kernels are compiled (each costs seconds); they live in module-scoped
fixtures, in a kernel cache isolated under a temporary directory. References are
mpmath at 200 bits or NumPy, independent of the generated code.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from _expression_trees import expression_trees  # tests/numerics/_expression_trees.py

import numerics
from numerics import (
    CACHE_ENV_VAR,
    CODEGEN_VERSION,
    Implicit,
    KernelSpec,
    compile_kernel,
    generate_source,
    kernel_path,
)

ULP = 2.0**-52
RTOL = 8 * ULP

x, y, t, c, a, u = sp.symbols("x y t c a u", real=True)
i = sp.Symbol("i", integer=True)
n = sp.Symbol("n", integer=True, positive=True)
v = sp.IndexedBase("v")
h = sp.Function("h")


# ---------------------------------------------------------------- specs


def sinc_spec():
    """Piecewise with a removable singularity (plus erfc, to probe the Python twin)."""
    X = sp.Symbol("x", real=True)  # built afresh: digest stability is tested on separate builds
    return KernelSpec("cg_sinc", (X,), (sp.Piecewise((1, sp.Eq(X, 0)), (sp.sin(X) / X, True)), sp.erfc(X)))


MULTI_EXPRS = (sp.exp(x) - 1, sp.log(1 + y), sp.sqrt(x**2 + y**2), sp.atan2(y, x), x**-3, x * y / (1 + x**2))


def multi_spec():
    return KernelSpec("cg_multi", (x, y), MULTI_EXPRS)


def vec_spec():
    """Sum over a vector, a helper function, and two ordered local steps (c before a)."""
    return KernelSpec(
        "cg_vec", (x,), (sp.Sum(v[i] * x**i, (i, 0, n - 1)), h(c) + a),
        vectors=(v,), lengths=((n, v),),
        helpers=(("h", (t,), (), t**2 + 1),),
        locals=((c, 2 * x), (a, c + 1)),
    )


def cbrt_spec():
    return KernelSpec("cg_cbrt", (y,), (u,), implicit=Implicit(u, u**3 - y, sp.Integer(0), sp.Max(1, y)))


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("codegen-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV_VAR, str(root))
        yield root


@pytest.fixture(scope="module")
def sinc_kernel(cache_root):
    return compile_kernel(sinc_spec())


@pytest.fixture(scope="module")
def multi_kernel(cache_root):
    return compile_kernel(multi_spec())


@pytest.fixture(scope="module")
def vec_kernel(cache_root):
    return compile_kernel(vec_spec())


@pytest.fixture(scope="module")
def cbrt_kernel(cache_root):
    return compile_kernel(cbrt_spec())


def body_of(src, fn="_scalar"):
    """The lines of the generated function ``fn`` (up to the next blank line)."""
    lines = src.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(f"def {fn}("))
    end = next(k for k in range(start, len(lines)) if not lines[k].strip())
    return lines[start:end]


def close(got, ref, rtol=RTOL):
    if math.isinf(ref) or ref == 0.0:
        return got == ref
    return abs(got - ref) <= rtol * abs(ref)


# ---------------------------------------------------------------- emitted source


def test_source_header_decorators_and_signature():
    src = generate_source(multi_spec())
    assert "\nimport math\n" in src
    assert "kernel = numba.njit('UniTuple(float64, 6)(float64, float64)', cache=True, error_model='numpy')(_scalar)" in src
    grid_line = next(line for line in src.splitlines() if "nogil=True" in line)
    assert "cache=True" in grid_line and "error_model='numpy'" in grid_line
    assert "numpy.select" not in src and "select(" not in src
    single = generate_source(KernelSpec("cg_one", (x,), (sp.sin(x),)))
    assert "numba.njit('float64(float64)', cache=True, error_model='numpy')(_scalar)" in single
    vec = generate_source(vec_spec())
    assert "numba.njit('UniTuple(float64, 2)(float64, float64[::1])', cache=True, error_model='numpy')" in vec
    assert "@numba.njit(cache=True, error_model='numpy')\ndef _helper_h(t):" in vec


def test_generate_source_is_deterministic_and_carries_digest():
    spec = multi_spec()
    assert generate_source(spec) == generate_source(multi_spec())
    assert f"# digest: {spec.digest()}" in generate_source(spec)


def test_piecewise_is_a_ternary_not_select():
    src = generate_source(sinc_spec())
    (ret,) = [line for line in body_of(src) if "return" in line]
    assert " if " in ret and " else " in ret and "math.sin(x)/x" in ret
    assert "select" not in src


@pytest.mark.parametrize("expr, stable, naive", [
    (sp.exp(x) - 1, "math.expm1(x)", "math.exp(x) - 1"),
    (sp.log(1 + x), "math.log1p(x)", "math.log(x + 1)"),
])
def test_stable_rewrite_only_when_requested(expr, stable, naive):
    on = "\n".join(body_of(generate_source(KernelSpec("cg_rw", (x,), (expr,), rewrite=True))))
    off = "\n".join(body_of(generate_source(KernelSpec("cg_rw", (x,), (expr,), rewrite=False))))
    assert stable in on and naive not in on
    assert stable not in off and naive in off


def test_cse_emits_a_repeated_subexpression_once():
    expr = sp.sin(x + y) * sp.cos(x + y) + sp.sin(x + y) ** 2
    body = "\n".join(body_of(generate_source(KernelSpec("cg_cse", (x, y), (expr,)))))
    assert body.count("math.sin(") == 1
    assert body.count("math.cos(") == 1
    assert body.count("x + y") == 1
    # and across outputs
    body2 = "\n".join(body_of(generate_source(KernelSpec("cg_cse2", (x, y), (sp.exp(x * y) + x, sp.exp(x * y) * y)))))
    assert body2.count("math.exp(") == 1


_LEAVES = (x, y, sp.Integer(2), sp.Rational(1, 3), sp.sqrt(2))
_UNARY = (lambda e: sp.exp(-e**2), sp.sin, lambda e: sp.sqrt(1 + e**2), lambda e: -e)  # bounded: no overflow
_BINARY = (sp.Add, sp.Mul, lambda p, q: p / (2 + q**2), lambda p, q: sp.Piecewise((p, q > 0), (q, True)))


def _trees():
    """Random expression trees over x, y; small leaf set so that subtrees repeat."""
    return expression_trees(_LEAVES, _UNARY, _BINARY)


# a value whose square underflows would take a Piecewise branch in floats (x**2 > 0 false) that the
# exact reference does not: such values are drawn as 0, which both sides treat alike
_POINTS = st.floats(-2, 2).map(lambda v: 0.0 if abs(v) < 1e-100 else v)


@settings(max_examples=40, deadline=None)
@given(_trees(), _trees(), _POINTS, _POINTS)
@example(sp.sin(x + y) * sp.cos(x + y), sp.sin(x + y) ** 2, 0.3, -0.7)
@example(x, sp.Piecewise((2, x**2 > 0), (x**2, True)), 0.0, 0.0)  # what a drawn 1.4e-202 becomes
@example(x / (2 + y**2), sp.sin(x) / (2 + y**2), 0.3, 0.5)  # a shared denominator is named and used
@example(sp.exp(-sp.exp(-sp.Integer(4))), sp.exp(-sp.exp(-sp.exp(-sp.Integer(4)) ** 2) ** 2), 0.0, 0.0)
def test_cse_block_computes_the_expressions_and_names_only_repeats(e1, e2, xv, yv):
    """The emitted statements evaluate (in plain Python) to the expressions themselves, each name
    stands for a subexpression occurring at least twice, and every name is used after it is set."""
    from numerics._codegen import KernelPrinter, _cse_block, common_subexpressions

    exprs = [e1, e2 + x]
    lines, reduced = _cse_block(exprs, KernelPrinter({}), "", "_c_")
    code = "\n".join(lines + [f"_r = ({reduced[0]}, {reduced[1]})"])
    ns = {"math": math, "x": xv, "y": yv}
    exec(code, ns)  # noqa: S102 - our own generated source
    ref = [float(sp.N(e.subs({x: xv, y: yv}), 30)) for e in exprs]
    for got, want in zip(ns["_r"], ref):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
    repeated = common_subexpressions(exprs)
    assert len(lines) == len(repeated)
    text = "\n".join(lines[1:] + reduced)
    for k in range(len(lines)):
        assert text.count(f"_c_{k}") >= 1, f"_c_{k} is set and never used"


def test_locals_emitted_in_order_before_use():
    body = body_of(generate_source(vec_spec()))
    assert body[1].strip() == "c = 2*x"
    assert body[2].strip() == "a = c + 1"
    ret = body[-1]
    assert "_helper_h(c)" in ret and "a" in ret


@pytest.mark.parametrize("expr, name", [
    (sp.besselj(0, x), "besselj"),
    (sp.zeta(x), "zeta"),
    (sp.Function("g")(x), "g"),
])
def test_unsupported_node_raises_naming_it(expr, name):
    with pytest.raises(NotImplementedError, match=rf"\b{name}\b"):
        generate_source(KernelSpec("cg_bad", (x,), (sp.sin(x) + expr,)))


def test_complex_unit_is_refused():
    with pytest.raises(NotImplementedError, match="complex"):
        generate_source(KernelSpec("cg_bad", (x,), (sp.I * x,)))


# ---------------------------------------------------------------- digest and file name


def test_digest_stable_for_equal_specs_and_sensitive_to_changes():
    d = sinc_spec().digest()
    assert sinc_spec() is not sinc_spec() and sinc_spec().digest() == d
    assert len(d) == 20 and all(ch in "0123456789abcdef" for ch in d)
    X = sp.Symbol("x", real=True)
    changed = KernelSpec("cg_sinc", (X,), (sp.Piecewise((1, sp.Eq(X, 0)), (sp.sin(X) / (2 * X), True)), sp.erfc(X)))
    assert changed.digest() != d
    base = multi_spec()
    variants = [
        KernelSpec("cg_multi", (x, y), MULTI_EXPRS, rewrite=False),
        KernelSpec("cg_multi2", (x, y), MULTI_EXPRS),
        KernelSpec("cg_multi", (y, x), MULTI_EXPRS),
        KernelSpec("cg_multi", (x, y), MULTI_EXPRS[:-1]),
        KernelSpec("cg_multi", (x, y), MULTI_EXPRS, locals=((c, x),)),
    ]
    digests = {s.digest() for s in variants} | {base.digest()}
    assert len(digests) == len(variants) + 1
    other_bracket = KernelSpec("cg_cbrt", (y,), (u,), implicit=Implicit(u, u**3 - y, sp.Integer(0), sp.Max(2, y)))
    assert other_bracket.digest() != cbrt_spec().digest()
    assert isinstance(CODEGEN_VERSION, str) and CODEGEN_VERSION


def test_module_file_name_carries_digest(cache_root, sinc_kernel):
    spec = sinc_spec()
    assert spec.module_stem() == f"cg_sinc_{spec.digest()}"
    assert kernel_path(spec) == cache_root / "kernels" / f"cg_sinc_{spec.digest()}.py"
    assert sinc_kernel.path == kernel_path(spec)
    assert sinc_kernel.path.read_text() == generate_source(spec)
    assert compile_kernel(sinc_spec()) is sinc_kernel  # memoised by digest


# ---------------------------------------------------------------- numbers


def test_piecewise_both_sides_and_branch_point(sinc_kernel):
    xs = np.array([0.0, -0.0, 1e-300, 2.0, -2.0, 5e-324])
    vals, nbad = sinc_kernel(xs)
    assert nbad == 0
    np.testing.assert_array_equal(vals[0], [1.0, 1.0, 1.0, math.sin(2.0) / 2.0, math.sin(2.0) / 2.0, 1.0])
    assert sinc_kernel.scalar(0.0) == (1.0, 1.0)
    assert sinc_kernel.scalar(2.0)[0] == math.sin(2.0) / 2.0
    for xv in (0.5, -1.5, 3.0):
        assert close(sinc_kernel.scalar(xv)[1], math.erfc(xv), 4 * ULP)


coord_x = st.one_of(st.just(0.0), st.floats(1e-30, 20.0), st.floats(-20.0, -1e-30))
coord_y = st.one_of(st.just(0.0), st.floats(1e-30, 50.0), st.floats(-0.75, -1e-30))


def multi_reference(xf, yf):
    with mpmath.workprec(200):
        X, Y = mpmath.mpf(xf), mpmath.mpf(yf)
        inv3 = mpmath.inf if X == 0 else 1 / X**3
        refs = [mpmath.expm1(X), mpmath.log1p(Y), mpmath.sqrt(X**2 + Y**2), mpmath.atan2(Y, X), inv3,
                X * Y / (1 + X**2)]
        return [float(r) for r in refs]


@settings(max_examples=50, deadline=None)
@given(xv=coord_x, yv=coord_y)
@example(xv=1e-20, yv=1e-20)
@example(xv=-3.0, yv=0.0)
def test_multi_output_values_against_mpmath(multi_kernel, xv, yv):
    vals, nbad = multi_kernel(xv, yv)
    assert vals.shape == (6,) and nbad == 0
    for k, (got, ref) in enumerate(zip(vals, multi_reference(xv, yv))):
        assert close(got, ref), (k, MULTI_EXPRS[k], xv, yv, got, ref)


def test_stable_rewrite_shows_in_the_numbers(multi_kernel):
    e0, l1 = multi_kernel.scalar(1e-20, 1e-20)[:2]
    assert e0 == 1e-20 and l1 == 1e-20  # exp(x) - 1 and log(1 + y) would give 0.0


def test_negative_integer_power_of_zero_is_inf(multi_kernel):
    assert multi_kernel.scalar(0.0, 1.0)[4] == math.inf
    assert multi_kernel.scalar(-0.0, 1.0)[4] == -math.inf
    vals, nbad = multi_kernel(np.array([0.0, 2.0]), 1.0)
    assert vals[4].tolist() == [math.inf, 0.125] and nbad == 0


def test_multi_output_rows_follow_outputs(multi_kernel):
    xs = np.array([[0.5], [-1.25], [3.0]])
    ys = np.array([0.0, 0.25, 2.0, 10.0])
    vals, nbad = multi_kernel(xs, ys)
    assert vals.shape == (6, 3, 4) and nbad == 0
    for r in range(3):
        for s in range(4):
            point = multi_kernel.scalar(xs[r, 0], ys[s])
            assert len(point) == 6
            np.testing.assert_array_equal(vals[:, r, s], point)
    np.testing.assert_allclose(vals[2], np.hypot(xs, ys), rtol=4 * ULP, atol=0)
    np.testing.assert_allclose(vals[3], np.arctan2(ys, xs), rtol=4 * ULP, atol=0)


def test_python_twin_matches_compiled(multi_kernel, vec_kernel, cbrt_kernel):
    for xv, yv in [(0.0, 1.0), (-0.0, 0.0), (0.3, -0.5), (-7.0, 40.0)]:
        twin = multi_kernel.python(xv, yv)
        comp = multi_kernel.scalar(xv, yv)
        for got, ref in zip(twin, comp):
            assert close(float(got), ref, 4 * ULP), (xv, yv, twin, comp)
    vv = np.array([1.0, -2.0, 0.5])
    assert [float(q) for q in vec_kernel.python(1.5, vv)] == list(vec_kernel.scalar(1.5, vv))
    assert float(cbrt_kernel.python(27.0)) == 3.0


def test_python_twin_supports_erfc(sinc_kernel):
    twin = sinc_kernel.python(0.5)
    assert close(float(twin[1]), math.erfc(0.5), 4 * ULP)


# ---------------------------------------------------------------- vectors, helpers, locals


def test_sum_over_vector_equals_numpy(vec_kernel):
    vv = np.arange(1.0, 8.0)  # integer values: every order of summation is exact
    vals, nbad = vec_kernel(1.0, vectors=[vv])
    assert nbad == 0 and vals[0] == np.sum(vv) == 28.0
    rng = np.random.default_rng(1)
    w = rng.normal(size=37)
    xs = np.array([-0.9, 0.0, 0.5, 1.0])
    vals, _ = vec_kernel(xs, vectors=[w])
    np.testing.assert_allclose(vals[0], np.polynomial.polynomial.polyval(xs, w), rtol=1e-13)
    assert vals[0][3] == pytest.approx(math.fsum(w), rel=1e-14)
    vals, _ = vec_kernel(xs, vectors=[w[::3]])  # non-contiguous vector
    np.testing.assert_allclose(vals[0], np.polynomial.polynomial.polyval(xs, w[::3]), rtol=1e-13)
    vals, _ = vec_kernel(xs, vectors=[np.empty(0)])
    assert vals[0].tolist() == [0.0] * 4


def test_sum_over_broadcast_vector_uses_its_full_length(vec_kernel):
    vals, _ = vec_kernel(1.0, vectors=[np.broadcast_to(2.0, (5,))])
    assert vals[0] == 10.0


def test_helper_is_its_own_function_and_called(vec_kernel):
    import numba
    assert isinstance(vec_kernel.module._helper_h, numba.core.dispatcher.Dispatcher)
    assert vec_kernel.module._helper_h(3.0) == 10.0
    xs = np.array([-1.0, 0.0, 0.5, 3.0])
    vals, _ = vec_kernel(xs, vectors=[np.ones(2)])
    # c = 2x, a = c + 1; h(c) + a = 4x^2 + 1 + 2x + 1
    np.testing.assert_array_equal(vals[1], 4 * xs**2 + 2 * xs + 2)


# ---------------------------------------------------------------- implicit kernels


def cbrt_ref(yv):
    with mpmath.workprec(200):
        return float(mpmath.cbrt(mpmath.mpf(yv)))


def test_implicit_cube_root_exact_points(cbrt_kernel):
    ys = np.array([0.0, 1.0, 8.0, 27.0, 1e6, 2.0])
    vals, nbad = cbrt_kernel(ys)
    assert nbad == 0
    assert vals[0][:5].tolist() == [0.0, 1.0, 2.0, 3.0, 100.0]
    assert close(vals[0][5], cbrt_ref(2.0))


# y >= the smallest normal float: for subnormal y the residual u**3 - y itself cannot
# resolve u to a few ulps (u**3 is then rounded to the subnormal grid), whatever the solver.
TINY = 2.2250738585072014e-308


@settings(max_examples=50, deadline=None)
@given(yv=st.one_of(st.floats(TINY, 1e6), st.sampled_from([0.0, 1.0, 1e6, 0.999999, 1.000001, TINY, 1e-300])))
def test_implicit_cube_root_few_ulps(cbrt_kernel, yv):
    assert close(cbrt_kernel.scalar(yv), cbrt_ref(yv))


def test_implicit_cube_root_tiny_y(cbrt_kernel):
    # Regression: a Newton iteration capped at 400 steps from x0 = 0.5 (each step only
    # shrinks the iterate by 2/3 while far above the root) returned cbrt(1e-200) as
    # 2.154426e-67 (rel. err 4e-6) and cbrt(1e-300) as 1.8e-71, with no NaN.
    ys = np.array([1e-200, 1e-300, TINY])
    vals, nbad = cbrt_kernel(ys)
    assert nbad == 0
    for got, yv in zip(vals[0], ys):
        assert close(got, cbrt_ref(yv)), (yv, got)


def test_implicit_without_sign_change_is_nan_and_counted(cbrt_kernel):
    ys = np.array([[-8.0, 8.0, -1.0], [0.0, -1e-9, 27.0]])
    vals, nbad = cbrt_kernel(ys)
    assert vals.shape == (1, 2, 3)
    assert np.isnan(vals[0]).tolist() == [[True, False, True], [False, True, False]]
    assert nbad == 3
    assert math.isnan(cbrt_kernel.scalar(-8.0))


def test_public_surface():
    for name in ("KernelSpec", "Implicit", "compile_kernel", "generate_source", "kernel_path",
                 "cache_dir", "CACHE_ENV_VAR", "CODEGEN_VERSION"):
        assert hasattr(numerics, name), name
    assert CACHE_ENV_VAR == "LAZYRICH_CACHE_DIR"


# ---------------------------------------------------------------- hoisting along the last parameter
def hoist_spec():
    """Locals: p depends on x only, q on p and t (so on t), r on p only; output uses all three.
    ``r`` is a NaN for x < -1 (log of a negative number), so that the driver's NaN count is exercised."""
    p, q, r = sp.symbols("p q r", real=True)
    return KernelSpec("cg_hoist", (x, y, t), (p * q + r * y,),
                      locals=((p, sp.exp(-x) + y**2), (q, sp.sin(p * t)), (r, sp.log(1 + x) * p)))


def test_hoistable_locals_follow_dependencies():
    from numerics._codegen import hoistable_locals

    spec = hoist_spec()
    assert [str(s) for s, _ in hoistable_locals(spec)] == ["p", "r"]  # q depends on t through itself
    # a local that depends on the last parameter only through an earlier local is not hoisted
    p, q = sp.symbols("p q", real=True)
    chained = KernelSpec("cg_chain", (x, t), (q,), locals=((p, t * x), (q, p + x)))
    assert hoistable_locals(chained) == ()
    assert hoistable_locals(KernelSpec("cg_one", (x,), (x,), locals=((p, x),))) == ()
    src = generate_source(spec)
    assert "def _prefix(x, y):" in src and "def _suffix(_hoisted, x, y, t):" in src
    assert "kernel_prefix(" in src.split("def grid(")[1]


def test_hoisted_rows_equal_the_plain_kernel_bitwise(cache_root):
    kern = compile_kernel(hoist_spec())
    rng = np.random.default_rng(5)
    xs = np.concatenate([rng.uniform(-3, 3, 37), [-2.0]])[:, None, None]  # some x < -1: NaN
    ys = rng.uniform(-2, 2, 3)[:, None]
    ts = rng.uniform(0, 50, 5000)
    hoisted, nbad = kern(xs, ys, ts)                                   # t innermost: prefix once per row
    plain, nbad_plain = kern(xs[..., None], ys[..., None], ts[:, None])  # t not innermost: the plain kernel
    plain = plain[..., 0]
    np.testing.assert_array_equal(hoisted, plain)
    assert nbad == nbad_plain == np.isnan(plain).sum() > 0
    # one outer row: the last axis is cut into chunks, each computing its own prefix
    one, nbad_one = kern(0.3, -0.7, ts)
    np.testing.assert_array_equal(one[0], [kern.scalar(0.3, -0.7, tt) for tt in ts])
    assert nbad_one == 0
