"""Large generated kernels compiled straight to machine code with LLVM, bypassing Numba's front end.

Numba compiles a kernel by typing and lowering every bytecode operation in Python
(about 1.5 ms per operation here), then optimises the LLVM IR twice: once for the
scalar kernel, and again after linking it into its grid driver. For a 1000-operation
closed form that is 3-4 s, most of it outside LLVM. This module takes the *same*
generated source that Numba would compile (the ``_scalar`` function of the kernel
module) and translates its straight-line float arithmetic directly into LLVM IR with
llvmlite, reproducing Numba's semantics operation by operation:

* ``+ - * /`` are IEEE ``fadd fsub fmul fdiv`` (``error_model='numpy'``: no
  exceptions, inf and NaN propagate), no fast-math flags, no contraction;
* ``x**n`` with an integer literal ``n`` is Numba's unrolled square-and-multiply
  (starting from 1, ``1/r`` for ``n < 0``); other powers call ``pow``;
* ``math.f`` calls the same LLVM intrinsic (``exp``, ``log``, ``sin``, ``cos``,
  ``fabs``, ``log2``, ``log10``, ``exp2``) or C library function (``expm1``,
  ``log1p``, ``sqrt``, ``erf``, ``tan``, ...) that Numba's lowering calls;
* ``a if c else b`` (SymPy's Piecewise) is a ``select`` of both values (pure
  expressions: evaluating the branch not taken has no effect), comparisons are the
  ordered IEEE predicates Python uses (``!=`` unordered);
* constant sub-expressions are folded by Python, as CPython folds them in the
  bytecode Numba reads.

The values are therefore the Numba kernel's, bit for bit (tested). Anything else
(helpers, vector arguments, loops, implicit equations, an unknown function) raises
:class:`Unsupported`, and the caller compiles with Numba as before.

The object holds the point function ``void k(const double *args, double *out)`` and
its grid driver (the loops of :func:`numerics._driver.grid_source`, written in IR
with the point function inlined), called through ctypes, which releases the GIL, so
the grid's tasks run on the driver's thread pool as before. No Numba is involved: a
new kernel costs only LLVM's optimisation and code generation, and a process that
loads one does not pay for initialising Numba. The machine code is cached next to the kernel module as an object file
(``<stem>.o``, keyed like the module by the expression's digest and the LLVM and
lazyrich versions), so a second process loads it without compiling.
"""

from __future__ import annotations

import ast
import ctypes.util
import math
import operator
import threading
from pathlib import Path

import llvmlite
import llvmlite.binding as llvm
import llvmlite.ir as ir

#: bumps when the translation changes (part of the object file's name)
LLVM_BACKEND_VERSION = "3"

_DOUBLE = ir.DoubleType()
_BOOL = ir.IntType(1)

# LLVM intrinsics Numba lowers these to (numba.cpython.mathimpl.unary_math_intr)
_INTRINSICS = {"exp": "llvm.exp.f64", "log": "llvm.log.f64", "sin": "llvm.sin.f64", "cos": "llvm.cos.f64",
               "fabs": "llvm.fabs.f64", "log10": "llvm.log10.f64", "exp2": "llvm.exp2.f64"}
# C library functions Numba calls for these (unary_math_extern)
_EXTERNS = {"expm1": "expm1", "log1p": "log1p", "sqrt": "sqrt", "erf": "erf", "erfc": "erfc", "tan": "tan",
            "asin": "asin", "acos": "acos", "atan": "atan", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh",
            "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "log2": "log2", "lgamma": "lgamma"}
_CONSTANTS = {"inf": math.inf, "pi": math.pi, "e": math.e, "tau": math.tau, "nan": math.nan}
_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
         ast.Pow: operator.pow}
# Python comparisons on floats: ordered predicates, except != which is true for NaN
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "=="}


class Unsupported(Exception):
    """The source uses something this backend does not translate (the caller falls back to Numba)."""


def _const(v) -> float | int | bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Unsupported(f"constant {v!r}")
    return v


class _Translator:
    def __init__(self, builder: ir.IRBuilder, module: ir.Module, env: dict):
        self.b = builder
        self.m = module
        self.env = env  # name -> ir.Value (double) or Python number (a folded constant)

    def function(self, name: str, nargs: int) -> ir.Function:
        if name in self.m.globals:
            return self.m.globals[name]
        fn = ir.Function(self.m, ir.FunctionType(_DOUBLE, [_DOUBLE] * nargs), name=name)
        return fn

    def value(self, v) -> ir.Value:
        """A folded Python number or an IR value, as a double."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            try:
                return ir.Constant(_DOUBLE, float(v))
            except OverflowError as exc:  # an integer literal beyond float64 (Numba would not type it either)
                raise Unsupported(f"integer constant {v}") from exc
        if isinstance(v, ir.Value) and v.type == _DOUBLE:
            return v
        raise Unsupported("a boolean where a number is expected")

    def expr(self, node):
        if isinstance(node, ast.Constant):
            return _const(node.value) if not isinstance(node.value, bool) else node.value
        if isinstance(node, ast.Name):
            if node.id not in self.env:
                raise Unsupported(f"name {node.id}")
            return self.env[node.id]
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in _CONSTANTS:
                return _CONSTANTS[node.attr]
            raise Unsupported(f"attribute {ast.unparse(node)}")
        if isinstance(node, ast.UnaryOp):
            x = self.expr(node.operand)
            if isinstance(node.op, ast.USub):
                return -x if isinstance(x, (int, float)) else self.b.fneg(self.value(x))
            if isinstance(node.op, ast.UAdd):
                return x
            if isinstance(node.op, ast.Not):
                return self.b.not_(self.boolean(x))
            raise Unsupported(ast.dump(node.op))
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.IfExp):
            # real branches, as Numba evaluates them: the side not taken may hold a costly call
            # (LLVM's CFG simplification turns cheap ones into a select)
            cond = self.boolean(self.expr(node.test))
            then_bb, else_bb = self.b.append_basic_block("if.then"), self.b.append_basic_block("if.else")
            merge = self.b.append_basic_block("if.end")
            self.b.cbranch(cond, then_bb, else_bb)
            ends = []
            for bb, side in ((then_bb, node.body), (else_bb, node.orelse)):
                self.b.position_at_end(bb)
                ends.append((self.expr(side), self.b.block))  # each side's last block, not yet terminated
            # a condition chosen by a condition (SymPy's ITE inside a Piecewise) is a boolean phi
            logical = [isinstance(v, bool) or (isinstance(v, ir.Value) and v.type == _BOOL) for v, _ in ends]
            if any(logical) and not all(logical):
                raise Unsupported("a conditional expression mixing a boolean and a number")
            convert = self.boolean if all(logical) else self.value
            for k, (v, bb) in enumerate(ends):
                self.b.position_at_end(bb)
                ends[k] = (convert(v), bb)
                self.b.branch(merge)
            self.b.position_at_end(merge)
            phi = self.b.phi(_BOOL if all(logical) else _DOUBLE)
            for v, bb in ends:
                phi.add_incoming(v, bb)
            return phi
        if isinstance(node, ast.Subscript):
            seq = self.expr(node.value)
            if isinstance(seq, list) and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int:
                return seq[node.slice.value]
            raise Unsupported(f"subscript {ast.unparse(node)}")
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            vals = [self.boolean(self.expr(v)) for v in node.values]
            join = self.b.and_ if isinstance(node.op, ast.And) else self.b.or_
            out = vals[0]
            for v in vals[1:]:
                out = join(out, v)
            return out
        raise Unsupported(type(node).__name__)

    def boolean(self, x) -> ir.Value:
        if isinstance(x, bool):
            return ir.Constant(_BOOL, int(x))
        if isinstance(x, ir.Value) and x.type == _BOOL:
            return x
        raise Unsupported("a number used as a condition")

    def binop(self, node: ast.BinOp):
        left, right = self.expr(node.left), self.expr(node.right)
        op = type(node.op)
        if op not in _FOLD:
            raise Unsupported(ast.dump(node.op))
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            try:
                return _FOLD[op](left, right)  # what CPython's constant folding gives
            except (ZeroDivisionError, OverflowError) as exc:
                raise Unsupported(f"constant {ast.unparse(node)}") from exc
        if op is ast.Pow:
            if isinstance(right, int) and not isinstance(right, bool) and abs(right) <= 0x10000:
                return self.static_power(self.value(left), right)
            return self.b.call(self.function("pow", 2), [self.value(left), self.value(right)])
        a, c = self.value(left), self.value(right)
        return {ast.Add: self.b.fadd, ast.Sub: self.b.fsub, ast.Mult: self.b.fmul, ast.Div: self.b.fdiv}[op](a, c)

    def static_power(self, val: ir.Value, n: int) -> ir.Value:
        """Numba's unrolled x**n (numba.cpython.numbers.static_power_impl), multiplications in its order."""
        res = None  # the literal 1.0; 1.0 * v == v exactly, so the first factor is v itself
        k = abs(n)
        while k:
            if k & 1:
                res = val if res is None else self.b.fmul(res, val)
            k >>= 1
            if k:
                val = self.b.fmul(val, val)
        if res is None:
            res = ir.Constant(_DOUBLE, 1.0)
        return self.b.fdiv(ir.Constant(_DOUBLE, 1.0), res) if n < 0 else res

    def call(self, node: ast.Call):
        f = node.func
        if node.keywords:
            raise Unsupported("keyword arguments")
        args = [self.expr(a) for a in node.args]
        if isinstance(f, ast.Name) and f.id in ("max", "min") and len(args) >= 2:
            # numba.cpython.builtins.do_minmax: acc = v if v > acc else acc (ordered), left to right
            pred = ">" if f.id == "max" else "<"
            acc = self.value(args[0])
            for v in map(self.value, args[1:]):
                acc = self.b.select(self.b.fcmp_ordered(pred, v, acc), v, acc)
            return acc
        if isinstance(f, ast.Name) and f.id == "abs" and len(args) == 1:
            name = "fabs"
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "math":
            name = f.attr
        else:
            raise Unsupported(f"call {ast.unparse(f)}")
        vals = [self.value(a) for a in args]
        if name in _INTRINSICS and len(vals) == 1:
            return self.b.call(self.function(_INTRINSICS[name], 1), vals)
        if name in _EXTERNS and len(vals) == 1:
            return self.b.call(self.function(_EXTERNS[name], 1), vals)
        if name in ("atan2", "hypot", "copysign", "pow") and len(vals) == 2:
            target = "llvm.copysign.f64" if name == "copysign" else name
            return self.b.call(self.function(target, 2), vals)
        raise Unsupported(f"math.{name}")

    def compare(self, node: ast.Compare):
        out = None
        left = self.expr(node.left)
        for op, comp in zip(node.ops, node.comparators):
            right = self.expr(comp)
            if isinstance(op, ast.NotEq):
                c = self.b.fcmp_unordered("!=", self.value(left), self.value(right))
            elif type(op) in _CMP:
                c = self.b.fcmp_ordered(_CMP[type(op)], self.value(left), self.value(right))
            else:
                raise Unsupported(ast.dump(op))
            out = c if out is None else self.b.and_(out, c)
            left = right
        return out


def functions(source: str) -> dict[str, ast.FunctionDef]:
    """The top-level functions of a kernel module's source, by name (parsed once)."""
    return {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def _statements(t: _Translator, stmts: list) -> None:
    """Emit assignments and if/elif/else blocks (merging what the branches assign with phis)."""
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            t.env[stmt.targets[0].id] = t.expr(stmt.value)
        elif isinstance(stmt, ast.If):
            b = t.b
            cond = t.boolean(t.expr(stmt.test))
            then_bb, else_bb = b.append_basic_block("stmt.then"), b.append_basic_block("stmt.else")
            merge = b.append_basic_block("stmt.end")
            b.cbranch(cond, then_bb, else_bb)
            before = t.env
            ends = []
            for bb, body in ((then_bb, stmt.body), (else_bb, stmt.orelse)):
                b.position_at_end(bb)
                t.env = dict(before)
                _statements(t, body)
                ends.append((t.env, b.block))
                b.branch(merge)
            b.position_at_end(merge)
            t.env = dict(before)
            (env1, bb1), (env2, bb2) = ends
            for name in set(env1) | set(env2):
                v1, v2 = env1.get(name), env2.get(name)
                if v1 is before.get(name) and v2 is before.get(name):
                    continue
                if v1 is None or v2 is None:
                    t.env.pop(name, None)  # set on one path only: using it afterwards is not translated
                    continue
                phi = b.phi(_DOUBLE)
                phi.add_incoming(t.value(v1), bb1)
                phi.add_incoming(t.value(v2), bb2)
                t.env[name] = phi
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        else:
            raise Unsupported(f"statement {type(stmt).__name__}")


def _body(builder: ir.IRBuilder, module: ir.Module, fn: ast.FunctionDef, args: list, nout: int) -> list:
    """Emit ``fn``'s statements with its parameters bound to ``args`` (a parameter may be bound
    to a list of values, which the body indexes with constants); return the output values."""
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs or len(a.args) != len(args):
        raise Unsupported("non-positional arguments")
    body = fn.body
    ret = body[-1] if body else None
    if not isinstance(ret, ast.Return) or ret.value is None:
        raise Unsupported("no final return")
    t = _Translator(builder, module, {arg.arg: v for arg, v in zip(a.args, args)})
    _statements(t, body[:-1])
    vals = ret.value.elts if isinstance(ret.value, ast.Tuple) else [ret.value]
    if len(vals) != nout:
        raise Unsupported(f"{len(vals)} values returned, {nout} expected")
    return [t.value(t.expr(v)) for v in vals]


_I64 = ir.IntType(64)


def _i64(v: int) -> ir.Constant:
    return ir.Constant(_I64, v)


class _Loop:
    """``for i in range(start, stop)`` in IR: ``with _Loop(b, start, stop, name) as i:`` emits the body."""

    def __init__(self, builder: ir.IRBuilder, start, stop, name: str):
        self.b, self.start, self.stop, self.name = builder, start, stop, name

    def __enter__(self):
        b = self.b
        pre = b.block
        self.head = b.append_basic_block(f"{self.name}.head")
        self.body = b.append_basic_block(f"{self.name}.body")
        self.exit = b.append_basic_block(f"{self.name}.exit")
        b.branch(self.head)
        b.position_at_end(self.head)
        self.i = b.phi(_I64, name=self.name)
        self.i.add_incoming(self.start, pre)
        b.cbranch(b.icmp_signed("<", self.i, self.stop), self.body, self.exit)
        b.position_at_end(self.body)
        return self.i

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        b = self.b
        nxt = b.add(self.i, _i64(1))
        self.i.add_incoming(nxt, b.block)
        b.branch(self.head)
        b.position_at_end(self.exit)
        return False


def translate(fn: ast.FunctionDef, nout: int, symbol: str,
              hoist: tuple[ast.FunctionDef, ast.FunctionDef] | None = None) -> str:
    """LLVM IR (text) of two functions computing ``fn``:

    * ``void <symbol>(const double *args, double *out)``: one point;
    * ``int64 <symbol>_grid(const double *data, const int64 *base, const int64 *strides,
      const int64 *shape, int64 nd, int64 nouter, int64 nchunk, int64 task0, int64 task1,
      double *out)``: tasks ``task0 <= task < task1`` of :func:`numerics._driver.run`'s grid
      (the same decomposition as the generated Numba driver), argument ``k``'s compact data at
      ``data + base[k]`` with element strides ``strides[k, :]`` (row-major, ``nd`` columns), ``out``
      of shape ``(nout, nouter, shape[nd - 1])``; returns the count of points with a NaN output.
      The point function is inlined into its loop.

    ``hoist``: the module's ``_prefix`` (the locals that do not depend on the last argument)
    and ``_suffix`` (the rest, given those), used along rows where only the last argument moves,
    as the Numba driver does (:func:`numerics._driver.grid_source`, ``hoist=True``).
    """
    nx = len(fn.args.args)
    module = ir.Module(name=symbol)
    dptr, iptr = _DOUBLE.as_pointer(), _I64.as_pointer()

    point = ir.Function(module, ir.FunctionType(ir.VoidType(), [dptr, dptr]), name=symbol)
    point.attributes.add("nounwind")
    point.attributes.add("alwaysinline")
    b = ir.IRBuilder(point.append_basic_block("entry"))
    pargs, pout = point.args
    outs = _body(b, module, fn, [b.load(b.gep(pargs, [_i64(k)])) for k in range(nx)], nout)
    for k, v in enumerate(outs):
        b.store(v, b.gep(pout, [_i64(k)]))
    b.ret_void()

    hoisted = None
    if hoist is not None:
        pre_fn, suf_fn = hoist
        ret = pre_fn.body[-1] if pre_fn.body else None
        if not (isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple)) or nx < 1:
            raise Unsupported("a prefix that does not return a tuple")
        nh = len(ret.value.elts)
        prefix = ir.Function(module, ir.FunctionType(ir.VoidType(), [dptr, dptr]), name=f"{symbol}_prefix")
        b = ir.IRBuilder(prefix.append_basic_block("entry"))
        pa, ph = prefix.args
        vals = _body(b, module, pre_fn, [b.load(b.gep(pa, [_i64(k)])) for k in range(nx - 1)], nh)
        for k, v in enumerate(vals):
            b.store(v, b.gep(ph, [_i64(k)]))
        b.ret_void()
        suffix = ir.Function(module, ir.FunctionType(ir.VoidType(), [dptr, dptr, dptr]), name=f"{symbol}_suffix")
        b = ir.IRBuilder(suffix.append_basic_block("entry"))
        sh, sa, so = suffix.args
        hvals = [b.load(b.gep(sh, [_i64(k)])) for k in range(nh)]
        vals = _body(b, module, suf_fn, [hvals] + [b.load(b.gep(sa, [_i64(k)])) for k in range(nx)], nout)
        for k, v in enumerate(vals):
            b.store(v, b.gep(so, [_i64(k)]))
        b.ret_void()
        for f in (prefix, suffix):
            f.attributes.add("nounwind")
            f.attributes.add("alwaysinline")
            f.linkage = "internal"
        hoisted = nh

    grid = ir.Function(module, ir.FunctionType(_I64, [dptr, iptr, iptr, iptr] + [_I64] * 5 + [dptr]),
                       name=f"{symbol}_grid")
    grid.attributes.add("nounwind")
    data, base, strides, shape, nd, nouter, nchunk, task0, task1, out = grid.args
    b = ir.IRBuilder(grid.append_basic_block("entry"))
    args = b.alloca(_DOUBLE, _i64(max(nx, 1)), name="args")
    res = b.alloca(_DOUBLE, _i64(nout), name="res")
    off = b.alloca(_I64, _i64(max(nx, 1)), name="off")
    nbad = b.alloca(_I64, name="nbad")
    rest = b.alloca(_I64, name="rest")
    hbuf = b.alloca(_DOUBLE, _i64(max(hoisted or 1, 1)), name="hoisted")
    b.store(_i64(0), nbad)
    last = b.sub(nd, _i64(1))
    inner = b.load(b.gep(shape, [last]))
    csize = b.sdiv(b.sub(b.add(inner, nchunk), _i64(1)), nchunk)
    with _Loop(b, task0, task1, "task") as task:
        r = b.sdiv(task, nchunk)
        j0 = b.mul(b.sub(task, b.mul(r, nchunk)), csize)
        j1 = b.add(j0, csize)
        j1 = b.select(b.icmp_signed("<", j1, inner), j1, inner)
        steps = []
        for k in range(nx):
            row = b.mul(_i64(k), nd)
            b.store(b.load(b.gep(base, [_i64(k)])), b.gep(off, [_i64(k)]))
            # the row index r decoded into its coordinates along the leading axes, last axis fastest
            b.store(r, rest)
            with _Loop(b, _i64(0), last, f"axis{k}") as e:
                d = b.sub(b.sub(last, _i64(1)), e)
                size = b.load(b.gep(shape, [d]))
                left = b.load(rest)
                coord = b.srem(left, size)
                b.store(b.sdiv(left, size), rest)
                cur = b.load(b.gep(off, [_i64(k)]))
                b.store(b.add(cur, b.mul(coord, b.load(b.gep(strides, [b.add(row, d)])))), b.gep(off, [_i64(k)]))
            steps.append(b.load(b.gep(strides, [b.add(row, last)])))
        offs = [b.load(b.gep(off, [_i64(k)])) for k in range(nx)]

        def point_loop(call, first: int):
            """for j in [j0, j1): arguments first.. loaded, ``call()`` fills res, outputs stored."""
            with _Loop(b, j0, j1, "j") as j:
                for k in range(first, nx):
                    x = b.load(b.gep(data, [b.add(offs[k], b.mul(j, steps[k]))]))
                    b.store(x, b.gep(args, [_i64(k)]))
                call()
                anybad = ir.Constant(_BOOL, 0)
                for q_ in range(nout):
                    y = b.load(b.gep(res, [_i64(q_)]))
                    idx = b.add(b.mul(b.add(b.mul(_i64(q_), nouter), r), inner), j)
                    b.store(y, b.gep(out, [idx]))
                    anybad = b.or_(anybad, b.fcmp_unordered("uno", y, y))
                b.store(b.add(b.load(nbad), b.zext(anybad, _I64)), nbad)

        if hoisted is None:
            point_loop(lambda: b.call(point, [args, res]), 0)
        else:
            # as the generated Numba driver: along a row where only the last argument moves, the
            # prefix (what does not depend on it) once, then the suffix per point
            fixed = b.icmp_signed("<", j0, j1)
            for k in range(nx - 1):
                fixed = b.and_(fixed, b.icmp_signed("==", steps[k], _i64(0)))
            with b.if_else(fixed) as (on_row, per_point):
                with on_row:
                    for k in range(nx - 1):
                        b.store(b.load(b.gep(data, [offs[k]])), b.gep(args, [_i64(k)]))
                    b.call(prefix, [args, hbuf])
                    point_loop(lambda: b.call(suffix, [hbuf, args, res]), nx - 1)
                with per_point:
                    point_loop(lambda: b.call(point, [args, res]), 0)
    b.ret(b.load(nbad))
    return str(module)


_INIT_LOCK = threading.Lock()
_TARGET: llvm.TargetMachine | None = None
_ENGINES: list = []  # the execution engines stay alive as long as their code may be called


def _target() -> llvm.TargetMachine:
    global _TARGET
    with _INIT_LOCK:
        if _TARGET is None:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            for lib in ("m", "c"):  # the C library functions the kernels call, visible to the JIT linker
                found = ctypes.util.find_library(lib)
                if found:
                    llvm.load_library_permanently(found)
            target = llvm.Target.from_default_triple()
            _TARGET = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                                   features=llvm.get_host_cpu_features().flatten(),
                                                   opt=2, reloc="static", codemodel="jitdefault")
        return _TARGET


def compile_object(ir_text: str) -> bytes:
    """Optimise (O2, no fast-math) and compile IR to a relocatable object for this CPU."""
    tm = _target()
    mod = llvm.parse_assembly(ir_text)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=2)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)
    return tm.emit_object(mod)


def load_object(obj: bytes, symbol: str) -> list[int]:
    """Link ``obj`` into this process; return the addresses of ``symbol`` and ``symbol_grid``."""
    tm = _target()
    with _INIT_LOCK:
        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        addrs = [engine.get_function_address(name) for name in (symbol, f"{symbol}_grid")]
        if not all(addrs):
            raise RuntimeError(f"{symbol}: not found in the compiled object")
        _ENGINES.append(engine)
    return addrs


def object_path(module_path: Path) -> Path:
    """Where the machine code for the kernel module at ``module_path`` is cached."""
    tag = f"llvm{llvmlite.__version__.replace('.', '_')}_v{LLVM_BACKEND_VERSION}"
    return module_path.with_name(f"{module_path.stem}.{tag}.{llvm.get_host_cpu_name()}.o")
