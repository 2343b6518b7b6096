"""SymPy expression -> Python source of a Numba kernel module.

The pipeline (DESIGN.md, "Numerics"):

1. stable rewriting: ``exp(x) - 1 -> expm1(x)``, ``log(1 + x) -> log1p(x)``
   (``sympy.codegen.rewriting``);
2. common-subexpression elimination over all outputs at once (:func:`common_subexpressions`);
3. printing with SymPy's ``math``-module Python printer (never the NumPy
   printer: it emits ``numpy.select`` for ``Piecewise``, which Numba rejects and
   which evaluates every branch);
4. a real ``.py`` module whose file name carries a hash of ``sympy.srepr`` of
   everything that determines the source, so Numba's ``cache=True`` works and a
   changed expression gets a new file.

A module holds one scalar kernel ``kernel(*scalars, *vectors)`` compiled with an
explicit float64 signature, ``cache=True`` and ``error_model='numpy'``, and one
grid driver ``grid``, run on a thread pool (see :mod:`numerics._driver`).

Two kinds of kernel are supported:

* explicit: the outputs are expressions of the arguments (``Piecewise`` allowed,
  ``Sum`` over an index running along a vector argument allowed; an undefined
  SymPy function named in ``helpers`` is compiled as its own small function, so
  a composite result reuses another result's expression without SymPy having
  to fold it into a Sum);
* implicit: an unknown ``x`` defined by ``residual(x, args) = 0`` on a bracket
  ``[lower, upper]`` on which the residual changes sign; it is found by a
  safeguarded Newton iteration (Newton steps that would leave the current
  bracket are replaced by bisection, so the iterate never leaves it), and the
  outputs may depend on ``x``.

Unsupported SymPy nodes fail loudly with the node's name.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.pycode import PythonCodePrinter

from . import _driver

#: Bump when the emitted source changes for the same expressions.
CODEGEN_VERSION = "10"


@dataclass(frozen=True)
class Implicit:
    """An unknown defined implicitly: ``residual(unknown, args) = 0`` on ``[lower, upper]``.

    ``residual`` must change sign on the bracket and have a single root there;
    ``derivative`` defaults to ``diff(residual, unknown)``; ``guess`` (optional)
    is a starting point inside the bracket.
    """

    unknown: sp.Symbol
    residual: sp.Expr
    lower: sp.Expr
    upper: sp.Expr
    guess: sp.Expr | None = None
    derivative: sp.Expr | None = None

    def dresidual(self) -> sp.Expr:
        return self.derivative if self.derivative is not None else sp.diff(self.residual, self.unknown)


@dataclass(frozen=True)
class KernelSpec:
    """Everything that determines a generated kernel module.

    ``scalars`` broadcast against each other; ``vectors`` are 1-D float64 arrays
    passed whole to every point (appear in expressions as ``IndexedBase``
    objects indexed inside a ``Sum``); ``lengths`` maps a length symbol used in
    ``Sum`` limits to the vector whose length it is.
    """

    name: str
    scalars: tuple[sp.Symbol, ...]
    outputs: tuple[sp.Expr, ...]
    vectors: tuple[sp.IndexedBase, ...] = ()
    lengths: tuple[tuple[sp.Symbol, sp.IndexedBase], ...] = ()
    implicit: Implicit | None = None
    rewrite: bool = True
    helpers: tuple[tuple[str, tuple[sp.Symbol, ...], tuple, sp.Expr], ...] = ()
    # ``locals``: intermediate quantities ``(symbol, expr)`` assigned in order
    # before the outputs; a stable form written as a sequence of steps stays a
    # sequence (composing it into one tree would make SymPy fold Piecewises).
    locals: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()

    def digest(self) -> str:
        parts = [CODEGEN_VERSION, self.name, _driver.DRIVER_VERSION]
        parts += [sp.srepr(a) for a in self.scalars]
        parts += [sp.srepr(v) for v in self.vectors]
        parts += [sp.srepr(sp.Tuple(*pair)) for pair in self.lengths]
        parts += [sp.srepr(e) for e in self.outputs]
        if self.implicit is not None:
            imp = self.implicit
            parts += [sp.srepr(e) for e in (imp.unknown, imp.residual, imp.dresidual(), imp.lower, imp.upper)]
            parts.append(sp.srepr(imp.guess))
        parts.append(repr(self.rewrite))
        for hname, hargs, hlocals, hexpr in self.helpers:
            parts += [hname, sp.srepr(sp.Tuple(*hargs)), sp.srepr(hexpr)]
            parts += [sp.srepr(sp.Tuple(*pair)) for pair in hlocals]
        parts += [sp.srepr(sp.Tuple(*pair)) for pair in self.locals]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]

    def module_stem(self, digest: str | None = None) -> str:
        safe = "".join(c if c.isalnum() else "_" for c in self.name)
        return f"{safe}_{digest or self.digest()}"


class KernelPrinter(PythonCodePrinter):
    """SymPy's ``math`` printer, with indexed vectors and loud failures."""

    def __init__(self, lengths: dict[sp.Symbol, str], helpers: frozenset[str] = frozenset()):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self._lengths = lengths
        self._helpers = helpers
        self._names: dict = {}

    @contextlib.contextmanager
    def naming(self, names: dict):
        """Within the block, a subexpression in ``names`` (filled as the block goes) prints as its name."""
        outer, self._names = self._names, names
        try:
            yield names
        finally:
            self._names = outer

    def _print(self, expr, **kwargs):
        name = self._names.get(expr) if self._names and isinstance(expr, sp.Basic) else None
        return name if name is not None else super()._print(expr, **kwargs)

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name in self._helpers:
            return f"_helper_{name}({', '.join(self._print(a) for a in expr.args)})"
        return super()._print_Function(expr)

    def _print_Indexed(self, expr):
        base = self._print(expr.base.label)
        return f"{base}[{', '.join(self._print(i) for i in expr.indices)}]"

    def _print_Symbol(self, expr):
        if expr in self._lengths:
            return self._lengths[expr]
        return super()._print_Symbol(expr)

    def _print_Pow(self, expr, rational=False):
        # Numba's integer power raises ZeroDivisionError for 0.0**-n whatever the error
        # model; 1.0/x**n follows IEEE (inf) like every other division in the kernel.
        base, e = expr.as_base_exp()
        if e.is_Integer and e < 0:
            inner = self._print(sp.Pow(base, -e, evaluate=False)) if e != -1 else self.parenthesize(base, 100)
            return f"(1.0/{inner})" if e == -1 else f"(1.0/({inner}))"
        if e == sp.Rational(-1, 2):
            return f"(1.0/math.sqrt({self._print(base)}))"
        return super()._print_Pow(expr, rational=rational)

    def _print_Sum(self, expr):  # Sums are lifted into loops before printing
        raise NotImplementedError("codegen: a Sum survived lifting (nested or malformed limits?)")

    def _print_Infinity(self, expr):
        return "math.inf"

    def _print_NegativeInfinity(self, expr):
        return "(-math.inf)"

    def _print_ImaginaryUnit(self, expr):
        raise NotImplementedError("codegen: complex value I in a real kernel")

    def emptyPrinter(self, expr):
        raise NotImplementedError(f"codegen: no Numba translation for SymPy node {type(expr).__name__}")

    def _print_not_supported(self, expr):
        raise NotImplementedError(f"codegen: no Numba translation for SymPy node {type(expr).__name__}")


def _expm1_in_add(add: sp.Add) -> sp.Expr:
    """``c exp(x) - c + rest -> c expm1(x) + rest`` for the first exp term whose coefficient cancels the constant."""
    const, terms = add.as_coeff_Add()
    if const == 0:
        return add
    terms = list(sp.Add.make_args(terms))
    for k, term in enumerate(terms):
        coeff, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.exp) and coeff == -const:
            terms[k] = coeff * expm1(rest.args[0])
            return sp.Add(*terms)
    return add


def _log1p(log: sp.log) -> sp.Expr:
    const, rest = log.args[0].as_coeff_Add()
    return log1p(rest) if const == 1 and rest != 0 else log


def _stable(expr: sp.Expr, rewrite: bool) -> sp.Expr:
    """``exp(x) - 1 -> expm1(x)`` and ``log(1 + x) -> log1p(x)``, in one pass over the tree.

    SymPy's ``codegen.rewriting.optimize`` does the same with pattern matching whose cost
    grows steeply with the expression (minutes at 1000 operations); this is linear.
    """
    if not rewrite:
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.Add), _expm1_in_add)
    return expr.replace(lambda e: isinstance(e, sp.log), _log1p)


def _lift_sums(exprs, prefix):
    """Replace every ``Sum`` by a fresh symbol; return (exprs, [(symbol, Sum)])."""
    found: list[tuple[sp.Symbol, sp.Sum]] = []
    names = sp.numbered_symbols(prefix)

    def repl(e):
        sym = next(names)
        found.append((sym, e))
        return sym

    out = [e.replace(lambda n: isinstance(n, sp.Sum), repl) for e in exprs]
    return out, found


def common_subexpressions(exprs) -> list[sp.Expr]:
    """The non-atomic subexpressions that occur more than once in ``exprs``, children before parents.

    One walk over the trees with nodes compared structurally (SymPy's hash): a repeated node is
    counted and not entered again, since once named its own children occur in it only once. In a
    product a factor ``b**-k`` is counted as the ``b**k`` the printer writes in the denominator.
    ``sympy.cse`` finds the same nodes, and also common subsets of Add/Mul arguments, but rebuilds
    every node on the way; on a 1000-operation expression that takes 1-2 s, this takes milliseconds.
    """
    counts: dict[sp.Basic, int] = {}
    order: list[sp.Basic] = []

    def visit(e):
        if e.is_Atom or not e.args:
            return
        if e in counts:
            counts[e] += 1
            return
        counts[e] = 1
        for a in e.args:
            if e.is_Mul and a.is_Pow and a.exp.is_Rational and a.exp.is_negative:
                # the printer writes x * b**-k as x/b**k: what it prints is b**k (b when k = 1)
                a = sp.Pow(a.base, -a.exp, evaluate=a.exp == -1)
            visit(a)
        order.append(e)

    for e in exprs:
        visit(e)
    return [e for e in order if counts[e] > 1 and isinstance(e, sp.Expr)]


def _cse_block(exprs, printer, indent, prefix):
    repeated = common_subexpressions(exprs)
    names = {e: f"{prefix}{k}" for k, e in enumerate(repeated)}
    lines = []
    with printer.naming({}) as named:
        for e in repeated:  # each defined with the names of the earlier (smaller) ones
            lines.append(f"{indent}{names[e]} = {printer.doprint(e)}")
            named[e] = names[e]
        return lines, [printer.doprint(e) for e in exprs]


def _sum_block(sym, summ: sp.Sum, printer, indent, tag):
    if len(summ.limits) != 1:
        raise NotImplementedError("codegen: only single-index Sums are supported")
    idx, lo, hi = summ.limits[0]
    lines = [f"{indent}{printer.doprint(sym)} = 0.0"]
    # limits may be float parameters holding integers (e.g. a depth N): cast for range()
    lines.append(f"{indent}for {printer.doprint(idx)} in range(int({printer.doprint(lo)}), "
                 f"int({printer.doprint(hi + 1)})):")
    body, (val,) = _cse_block([summ.function], printer, indent + "    ", f"_s{tag}_")
    lines += body
    lines.append(f"{indent}    {printer.doprint(sym)} += {val}")
    return lines


def _locals_block(pairs, printer, indent, rewrite):
    """Hand-written intermediate quantities, emitted in order (SymPy never composes them)."""
    return [f"{indent}{printer.doprint(sym)} = {printer.doprint(_stable(val, rewrite))}" for sym, val in pairs]


def _branches(sym, pw: sp.Piecewise, printer, indent, tag):
    """A top-level Piecewise as an if/elif/else chain, each branch with its own CSE.

    CSE over a whole Piecewise hoists subexpressions of every branch before the
    ternary, so all branches would be computed; here only the taken one is.
    """
    lines = []
    for k, (val, cond) in enumerate(pw.args):
        head = "else:" if cond == sp.true else f"{'if' if k == 0 else 'elif'} {printer.doprint(cond)}:"
        body, (out,) = _cse_block([val], printer, indent + "    ", f"_p{tag}_{k}_")
        lines += [indent + head] + body + [f"{indent}    {sym} = {out}"]
    if pw.args[-1][1] != sp.true:
        lines += [f"{indent}else:", f"{indent}    {sym} = math.nan"]
    return lines


def _body(exprs, printer, indent, tag, pre=()):
    exprs, sums = _lift_sums(exprs, f"_sum{tag}_")
    lines = list(pre)
    for k, (sym, summ) in enumerate(sums):
        lines += _sum_block(sym, summ, printer, indent, f"{tag}{k}")
    if len(exprs) == 1 and isinstance(exprs[0], sp.Piecewise):
        name = f"_out{tag}"
        return lines + _branches(name, exprs[0], printer, indent, tag), [name]
    more, reduced = _cse_block(exprs, printer, indent, f"_c{tag}_")
    return lines + more, reduced


def _tuple(values):
    return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"


def hoistable_locals(spec: KernelSpec) -> tuple[tuple[sp.Symbol, sp.Expr], ...]:
    """The hand-written locals that do not depend, even through earlier locals, on the last
    scalar parameter: the grid driver computes them once per row when only that parameter
    varies along the innermost axis (a time axis, typically). Empty when there are none, when
    the kernel has a single scalar parameter, or for implicit results (not split)."""
    if len(spec.scalars) < 2 or not spec.locals or spec.implicit is not None:
        return ()
    varying = {spec.scalars[-1]}
    hoisted = []
    for sym, val in spec.locals:
        if val.free_symbols & varying:
            varying.add(sym)
        else:
            hoisted.append((sym, val))
    return tuple(hoisted)


def scalar_signature(spec: KernelSpec) -> str:
    """The Numba signature of the scalar kernel: float64 scalars and ``float64[::1]`` vectors in,
    one float64 or a tuple of them out."""
    nout = len(spec.outputs)
    ret = "float64" if nout == 1 else f"UniTuple(float64, {nout})"
    args = ["float64"] * len(spec.scalars) + ["float64[::1]"] * len(spec.vectors)
    return f"{ret}({', '.join(args)})"


def generate_source(spec: KernelSpec) -> str:
    """The full text of the kernel module for ``spec``."""
    lengths = {sym: f"{vec.label}.shape[0]" for sym, vec in spec.lengths}
    printer = KernelPrinter(lengths, frozenset(h[0] for h in spec.helpers))
    args = [printer.doprint(a) for a in spec.scalars] + [str(v.label) for v in spec.vectors]
    arglist = ", ".join(args)
    nout = len(spec.outputs)
    signature = scalar_signature(spec)
    outputs = [_stable(e, spec.rewrite) for e in spec.outputs]

    src = [
        "# Generated by lazyrich.numerics from a SymPy expression; do not edit.",
        f"# result: {spec.name}",
        f"# digest: {spec.digest()}",
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "from numba import float64, int64, prange, void  # noqa: F401",
        "from numba.types import UniTuple  # noqa: F401",
        "",
    ]
    for hname, hargs, hlocals, hexpr in spec.helpers:
        hpre = _locals_block(hlocals, printer, "    ", spec.rewrite)
        hbody, (hval,) = _body([_stable(hexpr, spec.rewrite)], printer, "    ", "h", hpre)
        src += ["@numba.njit(cache=True, error_model='numpy')",
                f"def _helper_{hname}({', '.join(printer.doprint(a) for a in hargs)}):"]
        src += hbody + [f"    return {hval}", ""]
    pre = _locals_block(spec.locals, printer, "    ", spec.rewrite)
    hoisted = hoistable_locals(spec)
    if spec.implicit is None:
        body, reduced = _body(outputs, printer, "    ", "")
        src += [f"def _scalar({arglist}):"] + pre + body + [f"    return {_tuple(reduced)}", ""]
        if hoisted:
            # the same statements split in two: the locals that do not depend on the last scalar
            # parameter, once per row of the grid, then the rest per point (bitwise the same values)
            names = [printer.doprint(sym) for sym, _ in hoisted]
            kept = [pair for pair in spec.locals if pair not in hoisted]
            prefix_args = ", ".join(args[:len(spec.scalars) - 1] + args[len(spec.scalars):])
            src += [f"def _prefix({prefix_args}):"]
            src += _locals_block(hoisted, printer, "    ", spec.rewrite) + [f"    return ({', '.join(names)},)", ""]
            src += [f"def _suffix(_hoisted, {arglist}):"]
            src += [f"    {name} = _hoisted[{k}]" for k, name in enumerate(names)]
            src += _locals_block(kept, printer, "    ", spec.rewrite) + body + [f"    return {_tuple(reduced)}", ""]
            src += ["kernel_prefix = numba.njit(cache=True, error_model='numpy')(_prefix)",
                    "kernel_suffix = numba.njit(cache=True, error_model='numpy')(_suffix)", ""]
    else:
        imp = spec.implicit
        x = printer.doprint(imp.unknown)
        rbody, (g, dg) = _body(
            [_stable(imp.residual, spec.rewrite), _stable(imp.dresidual(), spec.rewrite)], printer, "    ", "r"
        )
        src += [f"def _residual({x}, {arglist}):"] + rbody + [f"    return {g}, {dg}", ""]
        src += ["_residual_jit = numba.njit(cache=True, error_model='numpy')(_residual)", ""]
        bounds = [imp.lower, imp.upper] + ([imp.guess] if imp.guess is not None else [])
        bbody, bvals = _body([_stable(b, spec.rewrite) for b in bounds], printer, "    ", "b")
        obody, reduced = _body(outputs, printer, "    ", "o")
        guess = bvals[2] if imp.guess is not None else "0.5 * (_lo + _hi)"
        src += [f"def _scalar({arglist}):"] + pre + bbody
        src += [f"    _lo = {bvals[0]}", f"    _hi = {bvals[1]}", f"    _x0 = {guess}"]
        src += [f"    {x} = _safeguarded_newton(_lo, _hi, _x0, {arglist})"]
        src += obody + [f"    return {_tuple(reduced)}", ""]
        src += [_driver.NEWTON_TEMPLATE.format(args=arglist, residual="_residual_jit")]
    src += [
        f"kernel = numba.njit({signature!r}, cache=True, error_model='numpy')(_scalar)",
        "",
        _driver.grid_source(len(spec.scalars), len(spec.vectors), nout, hoist=bool(hoisted)),
    ]
    return "\n".join(src) + "\n"
