"""The central object: a named, registered closed-form result.

A :class:`Result` holds

* its parameters (:class:`~derive.Param`: SymPy symbols with assumptions,
  domains, LaTeX names) and cross-parameter constraints;
* the expression as a reader should see it (``.expr``; ``.definitions`` are the
  auxiliary quantities that ``.latex()`` prints after "where"), and, where it
  differs, the numerically stable form that is compiled (``kernel_exprs``, with
  ``kernel_locals`` computed first; or ``kernel=`` a function returning
  ``(kernel_locals, kernel_exprs)``, called on the first compile, for a stable form
  costly to build in SymPy), or an implicit equation solved inside the kernel
  (``implicit``);
* its conditions of validity and its source (``.conditions``, ``.source``,
  ``.citation`` as BibTeX);
* its compiled kernel (made on first use, cached on disk), evaluated over NumPy
  broadcasts by ``.evaluate(**params)``, and an mpmath twin ``.mp(dps=..., **params)``.

Results whose numerics are not a scalar kernel (a matrix trajectory, a solver over
a whole spectrum) pass ``evaluator=``: a function of the checked parameter arrays
(float64; scalars broadcast by the evaluator itself, array parameters with
``Param(ndim=...)`` whole) returning an array or a dict of arrays keyed by output
name. ``.evaluate`` still checks the domains and constraints first and still
refuses to return NaN; ``.latex()``, ``.conditions``, the CLI and the report treat
such a result like any other. The evaluator should be compiled code (Numba) or
whole-array NumPy, factorising once and reusing the factorisation. An evaluator that
checks its own output while it is still in cache (a compiled per-time loop, say) and
raises ``FloatingPointError`` on a NaN entry declares it with
``evaluator_checks_finite=True``; ``.evaluate`` then skips its own scan of the whole
output, a pass over memory that costs as much as the work for cheap per-point maths.

Example (a result of one's own)::

    import sympy as sp, derive
    from derive import Param, Result, positive, nonnegative
    s, t = sp.symbols("s t", positive=True)
    decay = derive.register(Result(
        "mine.decay", title="Exponential approach of a shallow mode",
        params=[Param("s", positive()), Param("t", nonnegative())],
        expr=s * (1 - sp.exp(-t)), output="a",
        conditions=["whitened inputs"], references=["saxe2014exact"]))
    decay.evaluate(s=1.0, t=[0.0, 1.0])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import mpmath
import numpy as np
import sympy as sp

from numerics import Implicit, KernelSpec, compile_kernel

from ._citations import bibtex
from ._domain import Constraint, Param

# -- which results a piece of code evaluates (the report verifies the claims of the sections it builds)
_RECORDERS: list[set[str]] = []


def _note_use(name: str) -> None:
    for rec in _RECORDERS:
        rec.add(name)


@contextlib.contextmanager
def recording_use():
    """Within the block, collect the names of the results whose ``evaluate`` or ``mp`` is called."""
    used: set[str] = set()
    _RECORDERS.append(used)
    try:
        yield used
    finally:
        _RECORDERS.remove(used)

@dataclass(frozen=True)
class Output:
    """One output of a result: its name, display expression and LaTeX name."""

    name: str
    expr: sp.Expr
    latex: str | None = None

    @property
    def tex(self) -> str:
        return self.latex or sp.latex(sp.Symbol(self.name))


class Result:
    """A registered closed form. See the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        title: str,
        params: Sequence[Param],
        expr: sp.Expr | None = None,
        output: str = "value",
        output_latex: str | None = None,
        outputs: Sequence[Output] | None = None,
        definitions: Sequence[tuple[sp.Symbol, sp.Expr]] = (),
        kernel_exprs: Sequence[sp.Expr] | None = None,
        implicit: Implicit | None = None,
        conditions: Sequence[str] = (),
        constraints: Sequence[Constraint] = (),
        source: str = "",
        references: Sequence[str] = (),
        mp: Callable | None = None,
        notes: str = "",
        rewrite: bool = True,
        helpers: Sequence[tuple[str, tuple, tuple, sp.Expr]] = (),
        kernel_locals: Sequence[tuple[sp.Symbol, sp.Expr]] = (),
        evaluator: Callable[..., object] | None = None,
        evaluator_checks_finite: bool = False,
        kernel: Callable[[], tuple[Sequence[tuple[sp.Symbol, sp.Expr]], Sequence[sp.Expr]]] | None = None,
    ):
        if outputs is None:
            if expr is None:
                raise ValueError(f"{name}: give expr= (one output) or outputs=")
            outputs = [Output(output, expr, output_latex)]
        self.name = name
        self.title = title
        self.params = tuple(params)
        self.outputs = tuple(outputs)
        self.definitions = tuple(definitions)
        self.implicit = implicit
        self.conditions = tuple(conditions)
        self.constraints = tuple(constraints)
        self.source = source
        self.references = tuple(references)
        self.notes = notes
        self._kernel_exprs = tuple(kernel_exprs) if kernel_exprs is not None else None
        self._mp = mp
        self._rewrite = rewrite
        self._helpers = tuple((h, tuple(a), tuple(loc), e) for h, a, loc, e in helpers)
        self._kernel_locals = tuple(kernel_locals)
        if kernel is not None and (kernel_exprs is not None or kernel_locals):
            raise ValueError(f"{name}: give kernel= or kernel_exprs=/kernel_locals=, not both")
        self._kernel_builder = kernel
        self._evaluator = evaluator
        if evaluator_checks_finite and evaluator is None:
            raise ValueError(f"{name}: evaluator_checks_finite=True needs evaluator=")
        self._evaluator_checks_finite = bool(evaluator_checks_finite)
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: duplicate parameter names {names}")
        for ref in self.references:
            bibtex(ref)  # fails early on an unknown key

    # -- symbols and expressions -------------------------------------------------
    @property
    def symbols(self) -> dict[str, sp.Basic]:
        """Parameter name -> SymPy symbol (``IndexedBase`` for vector parameters)."""
        return {p.name: (p.indexed if p.vector else p.symbol) for p in self.params}

    @cached_property
    def scalar_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.vector)

    @cached_property
    def vector_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.vector)

    @cached_property
    def _param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)

    def _substitute(self, e: sp.Expr) -> sp.Expr:
        for sym, val in reversed(self.definitions):
            e = e.subs(sym, val)
        return e

    @property
    def expr(self):
        """The display expression with the definitions substituted (a tuple for several outputs)."""
        exprs = tuple(self._substitute(o.expr) for o in self.outputs)
        return exprs[0] if len(exprs) == 1 else exprs

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    # -- rendering ---------------------------------------------------------------
    def symbol_names(self) -> dict[sp.Basic, str]:
        names: dict[sp.Basic, str] = {}
        for p in self.params:
            names[p.indexed if p.vector else p.symbol] = p.tex
            if p.vector:
                names[p.length] = rf"n_{{{p.tex}}}"
        return names

    def _tex(self, e) -> str:
        return sp.latex(e, symbol_names=self.symbol_names())

    def latex(self) -> str:
        """The result as a LaTeX ``aligned`` block: outputs, then "where" definitions."""
        rows = [rf"{o.tex} &= {self._tex(o.expr)}" for o in self.outputs]
        for k, (sym, val) in enumerate(self.definitions):
            lead = r"\text{where } " if k == 0 else ""
            rows.append(rf"{lead}{self._tex(sym)} &= {self._tex(val)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def latex_conditions(self) -> str:
        return "\n".join(rf"\text{{{c}}}" for c in self.conditions_all())

    def conditions_all(self) -> list[str]:
        """Parameter domains, constraints, then the conditions of validity."""
        out = [p.domain.describe(p.name) + (f" ({p.ndim}-D array)" if p.vector else "") for p in self.params]
        out += [c.text for c in self.constraints]
        out += list(self.conditions)
        return out

    @property
    def citation(self) -> str:
        """BibTeX entries of the references."""
        return "\n\n".join(bibtex(k) for k in self.references)

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def __repr__(self) -> str:
        return f"<Result {self.name}({', '.join(p.name for p in self.params)}) -> {', '.join(self.output_names)}>"

    # -- numerics ----------------------------------------------------------------
    def kernel_spec(self) -> KernelSpec:
        if self._evaluator is not None:
            raise NotImplementedError(f"{self.name}: evaluated by a hand-written evaluator, not a generated kernel")
        if self._kernel_builder is not None:  # built on first use: importing the model stays cheap
            built_locals, built_exprs = self._kernel_builder()
            self._kernel_locals, self._kernel_exprs = tuple(built_locals), tuple(built_exprs)
            self._kernel_builder = None
        exprs = self._kernel_exprs if self._kernel_exprs is not None else tuple(
            self._substitute(o.expr) for o in self.outputs)
        return KernelSpec(
            name=self.name,
            scalars=tuple(p.symbol for p in self.scalar_params),
            outputs=tuple(exprs),
            vectors=tuple(p.indexed for p in self.vector_params),
            lengths=tuple((p.length, p.indexed) for p in self.vector_params),
            implicit=self.implicit,
            rewrite=self._rewrite,
            helpers=self._helpers,
            locals=self._kernel_locals,
        )

    @cached_property
    def kernel(self):
        """The compiled :class:`numerics.Kernel` (generated and cached on first use)."""
        return compile_kernel(self.kernel_spec())

    def device_kernel(self, device: str = "cpu"):
        """The compiled kernel for ``device`` (``"cpu"`` or ``"cuda"``), called as ``k(*arrays, vectors=...)``."""
        if device == "cpu":
            return self.kernel
        if self._evaluator is not None:
            raise ValueError(f"device: {self.name} has no generated kernel to run on {device}")
        from numerics import cuda_kernel

        return cuda_kernel(self.kernel)

    def check_names(self, names) -> None:
        """Raise ``ValueError`` naming the first unknown or missing parameter among ``names``."""
        known = self._param_names
        if isinstance(names, dict) and names.keys() == known:
            return  # the common case, decided by one set comparison
        unknown = sorted(set(names) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: not a parameter of {self.name} (parameters: {', '.join(sorted(known))})")
        missing = [p.name for p in self.params if p.name not in names]
        if missing:
            raise ValueError(f"{missing[0]}: missing parameter of {self.name}")

    def check(self, params: dict) -> dict[str, np.ndarray]:
        """Validate parameter values; return them as float64 arrays or raise ``ValueError``."""
        self.check_names(params)
        values = {p.name: p.check(params[p.name]) for p in self.params}
        vecs = [p for p in self.vector_params if p.ndim == 1]
        for p in vecs[1:]:
            if values[p.name].shape != values[vecs[0].name].shape:
                raise ValueError(f"{p.name}: must have the same length as {vecs[0].name} "
                                 f"({values[p.name].size} != {values[vecs[0].name].size})")
        shapes = {values[p.name].shape for p in self.scalar_params}
        shapes.discard(())
        try:
            if len(shapes) > 1:  # one shape (or only scalars) broadcasts trivially; NumPy's check costs microseconds
                np.broadcast_shapes(*shapes)
        except ValueError as exc:
            shapes = {p.name: values[p.name].shape for p in self.scalar_params}
            raise ValueError(f"{self.scalar_params[0].name}: parameter shapes do not broadcast: {shapes}") from exc
        for c in self.constraints:
            c.check(values)
        return values

    def evaluate(self, device: str = "cpu", **params):
        """Evaluate over the NumPy broadcast of the scalar parameters (vector parameters whole).

        Returns an array of the broadcast shape (a NumPy scalar for scalar input),
        or a dict of such arrays keyed by output name when there are several outputs.
        Raises ``ValueError`` for invalid input; never returns NaN. ``device="cuda"``
        runs the same generated kernel on the GPU (:mod:`numerics._cuda`;
        ``numerics.NoGPUError`` where there is none).
        """
        _note_use(self.name)
        values = self.check(params)
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device: must be 'cpu' or 'cuda', got {device!r}")
        if self._evaluator is not None:
            if device != "cpu":
                raise ValueError(f"device: {self.name} is evaluated by a hand-written evaluator, which runs on the "
                                 "CPU only; device='cuda' needs a generated elementwise kernel")
            return self._evaluate_custom(values)
        arrays = [values[p.name] for p in self.scalar_params]
        vectors = [values[p.name] for p in self.vector_params]
        out, nbad = self.device_kernel(device)(*arrays, vectors=vectors)
        if nbad:
            idx = np.argwhere(np.isnan(out).any(axis=0))[0] if out.ndim > 1 else ()
            where = {p.name: float(np.broadcast_to(values[p.name], out.shape[1:])[tuple(idx)])
                     for p in self.scalar_params}
            raise FloatingPointError(f"{self.name}: the kernel returned NaN at {nbad} valid point(s), first at "
                                     f"{where}; this is a lazyrich bug, please report it")
        return self._package(out)

    def _evaluate_custom(self, values: dict[str, np.ndarray]):
        out = self._evaluator(**values)
        if self._evaluator_checks_finite:
            return out
        arrays = out.values() if isinstance(out, dict) else [out]
        for a in arrays:
            a = np.asarray(a)
            # min propagates NaN: one pass and no output-sized boolean temporary
            if a.size and np.isnan(np.min(a)):
                raise FloatingPointError(f"{self.name}: the evaluator returned NaN at {int(np.isnan(a).sum())} "
                                         "entries for valid input; this is a lazyrich bug, please report it")
        return out

    def _package(self, out: np.ndarray):
        vals = [o[()] if o.ndim == 0 else o for o in out]
        return vals[0] if len(vals) == 1 else dict(zip(self.output_names, vals))

    def python(self, **params):
        """Evaluate one point with the kernel's pure-Python source (no Numba); scalars only."""
        values = self.check(params)
        args = [float(values[p.name]) for p in self.scalar_params] + [values[p.name] for p in self.vector_params]
        if self._evaluator is not None:
            raise NotImplementedError(f"{self.name}: evaluated by a hand-written evaluator, not generated code")
        if self.implicit is not None:
            raise NotImplementedError(f"{self.name}: implicit kernels have no pure-Python twin")
        res = self.kernel.python(*args)
        return res if len(self.outputs) == 1 else dict(zip(self.output_names, res))

    @cached_property
    def _mp_callable(self):
        if self._mp is not None:
            return self._mp
        if self.implicit is not None or self.vector_params or self._evaluator is not None:
            raise NotImplementedError(f"{self.name}: give an explicit mpmath twin (mp=...)")
        syms = [p.symbol for p in self.params]
        fns = [sp.lambdify(syms, self._substitute(o.expr), modules="mpmath") for o in self.outputs]
        names = [p.name for p in self.params]

        def twin(**kw):
            args = [kw[n] for n in names]
            vals = tuple(f(*args) for f in fns)
            return vals[0] if len(vals) == 1 else dict(zip(self.output_names, vals))

        return twin

    def mp(self, dps: int = 30, **params):
        """The mpmath twin at ``dps`` significant digits (scalar parameters, or 1-D lists for vectors)."""
        _note_use(self.name)
        self.check({k: v for k, v in params.items()})
        with mpmath.workdps(dps):
            conv = {}
            for p in self.params:
                v = params[p.name]
                conv[p.name] = (_mpf(v) if not p.vector else
                                [_mpf(x) for x in np.ravel(v)] if p.ndim == 1 else
                                mpmath.matrix(np.asarray(v, dtype=float).tolist()))
            return self._mp_callable(**conv)


def _mpf(x):
    """mpmath number from a Python, NumPy or mpmath scalar (mpf and strings keep their precision)."""
    if isinstance(x, np.integer):
        return mpmath.mpf(int(x))
    if isinstance(x, np.floating):
        return mpmath.mpf(float(x))
    return mpmath.mpf(x)
