r"""Single-precision (float32) dual Hessians for :mod:`numerics._bregman`.

Newton's method on the dual converges to the float64 answer with any sufficiently accurate
symmetric positive definite model of the Hessian :math:`X\,\mathrm{diag}(w)\,X^\top`: the
gradient :math:`X\beta(\nu) - y` and the stopping test stay in float64, and a model with relative
error :math:`\epsilon` only turns a quadratically convergent step into one that contracts the
gradient by :math:`O(\epsilon\,\mathrm{cond}(H))` (as the lazy Hessian does with its stale weights).
In float32 (:math:`\epsilon \approx \sqrt{d}\,2^{-24}` for the products, :math:`n 2^{-24}` for the
Cholesky factor) the vector units hold twice as many numbers: at the benchmark's size (d = 200,
n = 80) forming the model takes ~0.65x the float64 time (28 vs 43 us), and the contraction it
costs (``cond(H) <= 700`` there: ``~4e-3``) is below that of the lazy weights.

Scaling. The design is stored as :math:`X 2^{-e_X}` and the weights as :math:`w 2^{-e_w}`, with
powers of two chosen so that the largest entries lie in [1/2, 1): the float32 copies are the
float64 numbers rounded once, far from float32's overflow, and the model is that of
:math:`2^{-(2e_X + e_w)} H`, undone exactly after the solve (:func:`solve_upper_scaled`).

Register blocks. At n = 80 the rows of the factor are short (27 floats on average), so loop
overheads, not arithmetic, set the cost of compiled loops: LLVM's vectoriser adds run-time alias
checks and scalar remainders to every row, and Numba runs no SLP vectoriser. The Cholesky factor,
the two triangular solves and the transposed design are therefore written in blocks of eight
columns as explicit LLVM vector code (``<8 x float>``, the AVX2 width; the ``_block_*``
intrinsics below, inlined into the compiled kernels), with no remainders: the columns are split
into whole blocks ending at column n, ``[r, r + 8), [r + 8, r + 16), ...`` with ``r = n mod 8``,
and the first ``r`` rows (a short first panel) take scalar loops. (Without AVX, LLVM splits each
operation into two 4-lane ones: the same numbers, more slowly.) Called from compiled code at
the benchmark's size (d = 200, n = 80; 10 % quantiles of calls interleaved with the previous
row-loop kernels, two runs on 2026-11-24): the factor 4.9-5.1 us (was 13.4-13.6; LAPACK's
``spotrf`` ~20 us), the two triangular solves 1.6-1.7 us (was 3.3-3.6), the scaled design and
its transpose 5.7-6.1 us (was 9.2-9.6); the dual-Newton solve as a whole 1.28-1.34x faster
(0.19-0.20 / 0.24-0.25 / 0.29-0.30 ms at c = 0.5 / 0.05 / 0.005), with the same steps.
The refresh of the moved coordinates (:func:`hessian_refresh_single`) works on the same blocks, by
register tiles of four rows by two blocks: 1.6-2.5x faster than the rank-4 row updates it replaced
(10.1-10.3 vs 24.0-25.5 us for the 81 coordinates of the benchmark's first refresh at c = 0.5), the
dual-Newton solve 1.07-1.10x faster (0.18 / 0.22-0.23 / 0.26-0.27 ms; 10 % quantiles of 1500-2000
calls interleaved with the previous kernel, three runs), with the same steps (answers within
3e-14). The fresh Hessian (:func:`hessian_single`, ``n^2 d / 2`` products) keeps its 4 x 2
dot-product kernel (~23 us, ~9 products per cycle): on this host (AMD Zen 3: two multiply and two
add pipes of 8 lanes, so 16 products per cycle with or without FMA) the products alone need
~13 us at peak, and explicit register tiles gained too little to keep (2026-11-24, interleaved
A/B): outer products of the transposed weighted design, 4 rows by 2 blocks (12.6 products per
cycle, plus the transpose), 1.09-1.24x over four runs; dot-product tiles with transposed
reductions, 1.07x.

The solver falls back to float64 when the float32 model is not positive definite or makes
slow progress (see :func:`numerics._bregman.bregman_dual_newton`).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir as llir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: the design's power-of-two exponent when X has no float32 copy (X = 0, or an extreme scale)
NO_SCALE = -(10**6)

# -- 8-lane blocks as LLVM vector code ------------------------------------------------------------
# The intrinsics take C-contiguous arrays only (a block is 8 consecutive entries of a row; typing
# refuses any other layout or dtype) and indices the caller keeps in range: like Numba's own
# indexing without boundscheck, they do not check bounds.

_F32 = llir.FloatType()
_F64 = llir.DoubleType()
_I32 = llir.IntType(32)
_V8F = llir.VectorType(_F32, 8)
_V8D = llir.VectorType(_F64, 8)
_V4D = llir.VectorType(_F64, 4)


def _c_array(ty, dtype, ndim):
    return isinstance(ty, types.Array) and ty.layout == "C" and ty.dtype == dtype and ty.ndim == ndim


def _ints(*tys):
    return all(isinstance(t, types.Integer) for t in tys)


def _intp_args(context, builder, sig, args):
    """The arguments, integers cast to intp (the index type of :func:`_ptr`)."""
    return [context.cast(builder, v, t, types.intp) if isinstance(t, types.Integer) else v
            for v, t in zip(args, sig.args)]


def _ptr(context, builder, aryty, ary, *inds):
    """Address of ``ary[inds]`` (intp indices; no wraparound, no bounds check)."""
    arr = context.make_array(aryty)(context, builder, ary)
    shape = cgutils.unpack_tuple(builder, arr.shape, aryty.ndim)
    strides = cgutils.unpack_tuple(builder, arr.strides, aryty.ndim)
    return cgutils.get_item_pointer2(context, builder, arr.data, shape, strides, aryty.layout, list(inds))


def _align(vecty):
    return 8 if vecty.element == _F64 else 4


def _load(builder, ptr, vecty):
    """The vector of consecutive elements at ``ptr`` (element alignment only)."""
    return builder.load(builder.bitcast(ptr, vecty.as_pointer()), align=_align(vecty), typ=vecty)


def _store(builder, value, ptr):
    st = builder.store(value, builder.bitcast(ptr, value.type.as_pointer()))
    st.align = _align(value.type)


def _shuffle(builder, a, b, mask):
    return builder.shuffle_vector(a, b, llir.Constant(llir.VectorType(_I32, len(mask)), mask))


def _splat(builder, x, vecty):
    v = builder.insert_element(llir.Constant(vecty, llir.Undefined), x, llir.Constant(_I32, 0))
    return _shuffle(builder, v, v, [0] * vecty.count)


def _lane(k):
    return llir.Constant(_I32, k)


def _plus(builder, i, q):
    return builder.add(i, llir.Constant(i.type, q))


def _pairwise_sum(builder, terms):
    """((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7)): a fixed order, whatever the compiler."""
    while len(terms) > 1:
        terms = [builder.fadd(terms[i], terms[i + 1]) for i in range(0, len(terms), 2)]
    return terms[0]


def _block_columns(builder, first, index):
    """Column of the ``index``-th block after the block at ``first``: ``first + 8 (index + 1)``."""
    return builder.add(first, builder.mul(_plus(builder, index, 1), llir.Constant(index.type, 8)))


def _transpose8(builder, rows):
    """The 8 x 8 transpose of ``rows`` (eight ``<8 x float>``): three rounds of two-input shuffles
    (pairs of lanes, pairs of pairs, halves), the unpack/shuffle/permute idiom of AVX."""
    t = []
    for p in range(0, 8, 2):
        t.append(_shuffle(builder, rows[p], rows[p + 1], [0, 8, 1, 9, 4, 12, 5, 13]))
        t.append(_shuffle(builder, rows[p], rows[p + 1], [2, 10, 3, 11, 6, 14, 7, 15]))
    u = []
    for p in (0, 4):
        for x, y in ((t[p], t[p + 2]), (t[p + 1], t[p + 3])):
            u.append(_shuffle(builder, x, y, [0, 1, 8, 9, 4, 5, 12, 13]))
            u.append(_shuffle(builder, x, y, [2, 3, 10, 11, 6, 7, 14, 15]))
    out = [None] * 8
    for c in range(4):
        out[c] = _shuffle(builder, u[c], u[c + 4], [0, 1, 2, 3, 8, 9, 10, 11])
        out[c + 4] = _shuffle(builder, u[c], u[c + 4], [4, 5, 6, 7, 12, 13, 14, 15])
    return out


@intrinsic
def _block_design_tile(typingctx, X, X32, XT32, j, i, scale):
    """``X32[j:j+8, i:i+8] = float32(X[j:j+8, i:i+8] * scale)`` and ``XT32[i:i+8, j:j+8]`` its
    transpose (the same float32 numbers), from one pass over the tile."""
    if not (_c_array(X, types.float64, 2) and _c_array(X32, types.float32, 2) and _c_array(XT32, types.float32, 2)
            and _ints(j, i) and scale == types.float64):
        return None

    def codegen(context, builder, sig, args):
        X, X32, XT32, j, i, scale = _intp_args(context, builder, sig, args)
        Xty, Aty, Tty = sig.args[:3]
        factor = _splat(builder, scale, _V8D)
        rows = []
        for q in range(8):
            jq = _plus(builder, j, q)
            x = _load(builder, _ptr(context, builder, Xty, X, jq, i), _V8D)
            v = builder.fptrunc(builder.fmul(x, factor), _V8F)
            _store(builder, v, _ptr(context, builder, Aty, X32, jq, i))
            rows.append(v)
        for q, v in enumerate(_transpose8(builder, rows)):
            _store(builder, v, _ptr(context, builder, Tty, XT32, _plus(builder, i, q), j))
        return context.get_dummy_value()

    return types.void(X, X32, XT32, j, i, scale), codegen


@intrinsic
def _block_copy_row(typingctx, H, U, a, s, nblocks):
    """``U[a, s:s + 8 nblocks] = H[a, ...]``, then ``U[a, s:a] = 0`` (``s <= a < s + 8``): the row's
    blocks, with its entries left of the diagonal (scratch: written, never read) finite zeros."""
    if not (_c_array(H, types.float32, 2) and _c_array(U, types.float32, 2) and _ints(a, s, nblocks)):
        return None

    def codegen(context, builder, sig, args):
        H, U, a, s, nblocks = _intp_args(context, builder, sig, args)
        Hty, Uty = sig.args[:2]
        lanes = llir.VectorType(a.type, 8)
        left = builder.icmp_signed("<", llir.Constant(lanes, list(range(8))), _splat(builder, builder.sub(a, s), lanes))
        first = _load(builder, _ptr(context, builder, Hty, H, a, s), _V8F)
        _store(builder, builder.select(left, llir.Constant(_V8F, None), first), _ptr(context, builder, Uty, U, a, s))
        with cgutils.for_range(builder, _plus(builder, nblocks, -1)) as loop:
            j = _block_columns(builder, s, loop.index)
            block = _load(builder, _ptr(context, builder, Hty, H, a, j), _V8F)
            _store(builder, block, _ptr(context, builder, Uty, U, a, j))
        return context.get_dummy_value()

    return types.void(H, U, a, s, nblocks), codegen


@intrinsic
def _block_diagonal(typingctx, U, k0):
    """Cholesky factor of the 8 x 8 diagonal block at ``(k0, k0)`` of ``U``, in place and in
    registers, as the unblocked right-looking algorithm computes it in float32: for each k,
    ``root = sqrt(U[k, k])``, ``row k *= 1 / root`` and ``U[k, k] = root``, ``row a -= U[k, a] row k``
    for a > k. Returns ``(ok, inverses)``: ``ok`` false if a pivot is not positive (the block is
    garbage then), and the eight ``1 / root`` in float32. (float32 ``sqrt`` and ``/`` are correctly
    rounded, so these are the numbers a double square root and reciprocal give rounded to float32.)"""
    if not (_c_array(U, types.float32, 2) and _ints(k0)):
        return None

    def codegen(context, builder, sig, args):
        U, k0 = _intp_args(context, builder, sig, args)
        Uty = sig.args[0]
        ptrs = [_ptr(context, builder, Uty, U, _plus(builder, k0, q), k0) for q in range(8)]
        rows = [_load(builder, p, _V8F) for p in ptrs]
        ok = llir.Constant(llir.IntType(1), 1)
        sqrt = builder.module.declare_intrinsic("llvm.sqrt", [_F32])
        inverses = []
        for k in range(8):
            pivot = builder.extract_element(rows[k], _lane(k))
            ok = builder.and_(ok, builder.fcmp_ordered(">", pivot, llir.Constant(_F32, 0.0)))
            root = builder.call(sqrt, [pivot])
            inverse = builder.fdiv(llir.Constant(_F32, 1.0), root)
            inverses.append(inverse)
            row = builder.insert_element(builder.fmul(rows[k], _splat(builder, inverse, _V8F)), root, _lane(k))
            rows[k] = row
            for a in range(k + 1, 8):
                f = _splat(builder, builder.extract_element(row, _lane(a)), _V8F)
                rows[a] = builder.fsub(rows[a], builder.fmul(f, row))
        for p, row in zip(ptrs, rows):
            _store(builder, row, p)
        flag = builder.zext(ok, context.get_value_type(types.boolean))
        inverses = context.make_tuple(builder, sig.return_type.types[1], inverses)
        return context.make_tuple(builder, sig.return_type, [flag, inverses])

    return types.Tuple((types.boolean, types.UniTuple(types.float32, 8)))(U, k0), codegen


@intrinsic
def _block_panel(typingctx, U, k0, nblocks, inverses):
    """The panel's triangular solve: rows ``k0 .. k0+7`` of ``U`` over the ``nblocks`` column blocks
    after the diagonal block, ``row k -= U[q, k] row q`` for q = k0 .. k-1 in order, then
    ``row k *= inverses[k - k0]`` (the unblocked algorithm's operations in its order), one column
    block at a time in registers."""
    if not (_c_array(U, types.float32, 2) and _ints(k0, nblocks) and inverses == types.UniTuple(types.float32, 8)):
        return None

    def codegen(context, builder, sig, args):
        U, k0, nblocks, inverses = _intp_args(context, builder, sig, args)
        Uty = sig.args[0]
        rows = [_plus(builder, k0, q) for q in range(8)]
        coef = {(q, k): _splat(builder, builder.load(_ptr(context, builder, Uty, U, rows[q], rows[k])), _V8F)
                for k in range(8) for q in range(k)}
        scale = [_splat(builder, builder.extract_value(inverses, k), _V8F) for k in range(8)]
        with cgutils.for_range(builder, nblocks) as loop:
            j = _block_columns(builder, k0, loop.index)
            done = []
            for k in range(8):
                p = _ptr(context, builder, Uty, U, rows[k], j)
                x = _load(builder, p, _V8F)
                for q in range(k):
                    x = builder.fsub(x, builder.fmul(coef[q, k], done[q]))
                x = builder.fmul(x, scale[k])
                _store(builder, x, p)
                done.append(x)
        return context.get_dummy_value()

    return types.void(U, k0, nblocks, inverses), codegen


@intrinsic
def _block_trailing(typingctx, U, k0, kb, j, a0, a1):
    """The rank-kb update of one column block by the panel ``k0 .. k0+kb-1`` (``1 <= kb <= 8``):
    ``U[a, j:j+8] -= sum_q U[k0+q, a] U[k0+q, j:j+8]`` for rows ``a0 <= a < a1``, the eight products
    summed pairwise (rows q >= kb contribute zero blocks: exact zeros). The panel's blocks stay in
    registers across the rows."""
    if not (_c_array(U, types.float32, 2) and _ints(k0, kb, j, a0, a1)):
        return None

    def codegen(context, builder, sig, args):
        U, k0, kb, j, a0, a1 = _intp_args(context, builder, sig, args)
        Uty = sig.args[0]
        rows, blocks = [], []
        for q in range(8):
            valid = builder.icmp_signed("<", llir.Constant(kb.type, q), kb)
            row = builder.select(valid, _plus(builder, k0, q), k0)  # a row of the panel either way
            rows.append(row)
            block = _load(builder, _ptr(context, builder, Uty, U, row, j), _V8F)
            blocks.append(builder.select(valid, block, llir.Constant(_V8F, None)))
        with cgutils.for_range(builder, builder.sub(a1, a0)) as loop:
            a = builder.add(a0, loop.index)
            terms = [builder.fmul(_splat(builder, builder.load(_ptr(context, builder, Uty, U, rows[q], a)), _V8F),
                                  blocks[q]) for q in range(8)]
            p = _ptr(context, builder, Uty, U, a, j)
            _store(builder, builder.fsub(_load(builder, p, _V8F), _pairwise_sum(builder, terms)), p)
        return context.get_dummy_value()

    return types.void(U, k0, kb, j, a0, a1), codegen


def _entry64(context, builder, Uty, U, q, k):
    return builder.fpext(builder.load(_ptr(context, builder, Uty, U, q, k)), _F64)


@intrinsic
def _block_forward(typingctx, U, z, b, nblocks):
    """Block row b of the forward substitution ``U^T z = rhs`` in float64 (z holds rhs less the
    earlier blocks' terms): ``z_k = (z_k - sum_q U[q, k] z_q) / U[k, k]`` for k = b .. b+7 (q from
    b, in order), then ``z[j:j+8] -= sum_q U[b+q, j:j+8] z_{b+q}`` (pairwise) for the nblocks column
    blocks after the block."""
    if not (_c_array(U, types.float32, 2) and _c_array(z, types.float64, 1) and _ints(b, nblocks)):
        return None

    def codegen(context, builder, sig, args):
        U, z, b, nblocks = _intp_args(context, builder, sig, args)
        Uty, zty = sig.args[:2]
        rows = [_plus(builder, b, q) for q in range(8)]
        zp = _ptr(context, builder, zty, z, b)
        zb = _load(builder, zp, _V8D)
        sol = []
        for k in range(8):
            acc = builder.extract_element(zb, _lane(k))
            for q in range(k):
                acc = builder.fsub(acc, builder.fmul(_entry64(context, builder, Uty, U, rows[q], rows[k]), sol[q]))
            sol.append(builder.fdiv(acc, _entry64(context, builder, Uty, U, rows[k], rows[k])))
        for k in range(8):
            zb = builder.insert_element(zb, sol[k], _lane(k))
        _store(builder, zb, zp)
        factors = [_splat(builder, x, _V8D) for x in sol]
        with cgutils.for_range(builder, nblocks) as loop:
            j = _block_columns(builder, b, loop.index)
            terms = [builder.fmul(builder.fpext(_load(builder, _ptr(context, builder, Uty, U, rows[q], j), _V8F), _V8D),
                                  factors[q]) for q in range(8)]
            p = _ptr(context, builder, zty, z, j)
            _store(builder, builder.fsub(_load(builder, p, _V8D), _pairwise_sum(builder, terms)), p)
        return context.get_dummy_value()

    return types.void(U, z, b, nblocks), codegen


@intrinsic
def _block_backward(typingctx, U, z, s, b, nblocks):
    """Block row b of the back substitution ``U s = z`` in float64, s known after the block (nblocks
    column blocks): ``t_k = sum_j U[k, j] s_j`` over those blocks (four-lane partial sums, from the
    last block back, so that the block solved just before comes last and the rest need not wait for
    it), then ``s_k = (z_k - t_k - sum_m U[k, m] s_m) / U[k, k]`` for k = b+7 down to b (m > k in
    the block, in order)."""
    if not (_c_array(U, types.float32, 2) and _c_array(z, types.float64, 1) and _c_array(s, types.float64, 1)
            and _ints(b, nblocks)):
        return None

    def codegen(context, builder, sig, args):
        U, z, s, b, nblocks = _intp_args(context, builder, sig, args)
        Uty, zty, sty = sig.args[:3]
        rows = [_plus(builder, b, q) for q in range(8)]
        sums = [cgutils.alloca_once_value(builder, llir.Constant(_V4D, None)) for _ in range(8)]
        low, high = [0, 1, 2, 3], [4, 5, 6, 7]
        with cgutils.for_range(builder, nblocks) as loop:
            j = builder.add(b, builder.mul(builder.sub(nblocks, loop.index), llir.Constant(b.type, 8)))
            sv = _load(builder, _ptr(context, builder, sty, s, j), _V8D)
            s_low, s_high = _shuffle(builder, sv, sv, low), _shuffle(builder, sv, sv, high)
            for q in range(8):
                u = builder.fpext(_load(builder, _ptr(context, builder, Uty, U, rows[q], j), _V8F), _V8D)
                t = builder.fadd(builder.fmul(_shuffle(builder, u, u, low), s_low),
                                 builder.fmul(_shuffle(builder, u, u, high), s_high))
                builder.store(builder.fadd(builder.load(sums[q]), t), sums[q])
        zb = _load(builder, _ptr(context, builder, zty, z, b), _V8D)
        sol = [None] * 8
        for k in range(7, -1, -1):
            v = builder.load(sums[k])
            e = [builder.extract_element(v, _lane(i)) for i in range(4)]
            acc = builder.fsub(builder.extract_element(zb, _lane(k)),
                               builder.fadd(builder.fadd(e[0], e[1]), builder.fadd(e[2], e[3])))
            for m in range(k + 1, 8):
                acc = builder.fsub(acc, builder.fmul(_entry64(context, builder, Uty, U, rows[k], rows[m]), sol[m]))
            sol[k] = builder.fdiv(acc, _entry64(context, builder, Uty, U, rows[k], rows[k]))
        out = llir.Constant(_V8D, None)
        for k in range(8):
            out = builder.insert_element(out, sol[k], _lane(k))
        _store(builder, out, _ptr(context, builder, sty, s, b))
        return context.get_dummy_value()

    return types.void(U, z, s, b, nblocks), codegen


@intrinsic
def _refresh_scalar(typingctx, XT, moved, coef, k, b, a):
    """``sum_q XT[i_q, b] * (c_q * XT[i_q, a])`` over q = 0 .. k-1 in order, in float32 (from 0)."""
    if not (_refresh_args_ok(XT, moved, coef) and _ints(k, b, a)):
        return None

    def codegen(context, builder, sig, args):
        XT, moved, coef, k, b, a = _intp_args(context, builder, sig, args)
        XTty, movedty, coefty = sig.args[:3]
        acc = cgutils.alloca_once_value(builder, llir.Constant(_F32, 0.0))
        with cgutils.for_range(builder, k) as loop:
            i, c = _coordinate(context, builder, movedty, moved, coefty, coef, loop.index)
            x_b = builder.load(_ptr(context, builder, XTty, XT, i, b))
            x_a = builder.load(_ptr(context, builder, XTty, XT, i, a))
            builder.store(builder.fadd(builder.load(acc), builder.fmul(x_b, builder.fmul(c, x_a))), acc)
        return builder.load(acc)

    return types.float32(XT, moved, coef, k, b, a), codegen


def _coordinate(context, builder, movedty, moved, coefty, coef, q):
    """The q-th moved coordinate ``i_q`` (intp) and its coefficient ``c_q``."""
    i = builder.load(_ptr(context, builder, movedty, moved, q))
    return context.cast(builder, i, movedty.dtype, types.intp), builder.load(_ptr(context, builder, coefty, coef, q))


def _refresh_args_ok(XT, moved, coef):
    return _c_array(XT, types.float32, 2) and _c_array(moved, types.int64, 1) and _c_array(coef, types.float32, 1)


def _refresh_tile_intrinsic(nrows, nblocks, diagonal=None):
    """The refresh of a register tile of ``nrows`` rows by ``nblocks`` column blocks of H; with
    ``diagonal = delta``, its rows are ``j + delta + t``: its first block is on the diagonal."""

    @intrinsic
    def refresh_tile(typingctx, H, XT, moved, coef, k, b0, j):
        """``H[b, a] += sum_q XT[i_q, b] * (c_q * XT[i_q, a])`` for the tile's rows ``b = b0 + t`` and
        columns ``a`` in the blocks ``[j + 8 c, j + 8 c + 8)``, the k terms summed in order from 0 in
        registers and then added to H. In a tile on the diagonal (``b0 = j + diagonal``) the lanes
        left of it (``a < b``) keep their values: a select with constant lanes (a mask known only at
        run time makes LLVM emit a masked store, microcoded and slow on AMD)."""
        if not (_c_array(H, types.float32, 2) and _refresh_args_ok(XT, moved, coef) and _ints(k, b0, j)):
            return None

        def codegen(context, builder, sig, args):
            H, XT, moved, coef, k, b0, j = _intp_args(context, builder, sig, args)
            Hty, XTty, movedty, coefty = sig.args[:4]
            rows = [_plus(builder, b0, t) for t in range(nrows)]
            blocks = [_plus(builder, j, 8 * c) for c in range(nblocks)]
            sums = [[cgutils.alloca_once_value(builder, llir.Constant(_V8F, None)) for _ in blocks] for _ in rows]
            with cgutils.for_range(builder, k) as loop:
                i, c = _coordinate(context, builder, movedty, moved, coefty, coef, loop.index)
                cs = _splat(builder, c, _V8F)
                scaled = [builder.fmul(cs, _load(builder, _ptr(context, builder, XTty, XT, i, jc), _V8F))
                          for jc in blocks]
                for b, row_sums in zip(rows, sums):
                    x = _splat(builder, builder.load(_ptr(context, builder, XTty, XT, i, b)), _V8F)
                    for acc, v in zip(row_sums, scaled):
                        builder.store(builder.fadd(builder.load(acc), builder.fmul(x, v)), acc)
            for t, (b, row_sums) in enumerate(zip(rows, sums)):
                for c, (acc, jc) in enumerate(zip(row_sums, blocks)):
                    p = _ptr(context, builder, Hty, H, b, jc)
                    old = _load(builder, p, _V8F)
                    new = builder.fadd(old, builder.load(acc))
                    if diagonal is not None and c == 0:
                        left = llir.Constant(llir.VectorType(llir.IntType(1), 8),
                                             [lane < diagonal + t for lane in range(8)])
                        new = builder.select(left, old, new)
                    _store(builder, new, p)
            return context.get_dummy_value()

        return types.void(H, XT, moved, coef, k, b0, j), codegen

    return refresh_tile


_refresh_4x2 = _refresh_tile_intrinsic(4, 2)
_refresh_4x2_diagonal0 = _refresh_tile_intrinsic(4, 2, 0)
_refresh_4x2_diagonal4 = _refresh_tile_intrinsic(4, 2, 4)
_refresh_4x1 = _refresh_tile_intrinsic(4, 1)
_refresh_4x1_diagonal0 = _refresh_tile_intrinsic(4, 1, 0)
_refresh_4x1_diagonal4 = _refresh_tile_intrinsic(4, 1, 4)
_refresh_1x2 = _refresh_tile_intrinsic(1, 2)
_refresh_1x1 = _refresh_tile_intrinsic(1, 1)


# -- kernels --------------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_squares(X):
    """sum_ji X_ji^2 (``reassoc``: a sum of non-negative terms; only its size is used)."""
    n, d = X.shape
    acc = 0.0
    for j in range(n):
        for i in range(d):
            acc += X[j, i] * X[j, i]
    return acc


@numba.njit(cache=True, error_model="numpy")
def single_design(X):
    """``(X32, XT32, e)``: ``X32 = X 2^-e`` in float32 and its transpose ``XT32`` (d x n, for gathering
    columns), with ``2^e`` the least power of two >= the Frobenius norm of X, so every entry is
    at most 1 in size (the scaling is exact: X32 is X rounded once to float32). ``e = NO_SCALE``
    when that norm is zero or not a finite double (|X| beyond ~1e154): no float32 model then.

    After the norm, both copies come from one pass over X in 8 x 8 tiles (scaled, rounded and
    transposed in registers); the rows and columns beyond the last whole tile take scalar loops.
    A non-contiguous X is copied first (a C-contiguous one is used as it is)."""
    X = np.ascontiguousarray(X)
    n, d = X.shape
    X32 = np.empty((n, d), np.float32)
    XT32 = np.empty((d, n), np.float32)
    norm = math.sqrt(_sum_squares(X))
    if norm == 0.0 or not math.isfinite(norm):
        return X32, XT32, NO_SCALE
    e = math.frexp(norm)[1]
    scale = math.ldexp(1.0, -e)  # a normal double (|e| < 520): the products are exact until the rounding
    n8 = n - n % 8
    d8 = d - d % 8
    for j in range(0, n8, 8):
        for i in range(0, d8, 8):
            _block_design_tile(X, X32, XT32, j, i, scale)
        for i in range(d8, d):
            for q in range(j, j + 8):
                v = np.float32(X[q, i] * scale)
                X32[q, i] = v
                XT32[i, q] = v
    for q in range(n8, n):
        for i in range(d):
            v = np.float32(X[q, i] * scale)
            X32[q, i] = v
            XT32[i, q] = v
    return X32, XT32, e


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _upper_products_single(A, B, H):
    """Upper triangle of ``H = A B^T`` for symmetric ``A B^T`` (A, B, H float32; A, B n x d, C-ordered).

    Register blocks of four rows of A by two of B (eight float32 dot products per pass over six
    rows), as :func:`numerics._bregman._lower_products`; ``reassoc`` lets the sums vectorise.
    Entries below the diagonal that a block also fills are never read.
    """
    n, k = A.shape
    zero = np.float32(0.0)
    a0 = 0
    while a0 + 4 <= n:
        for b in range(0, a0 + 4, 2):
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            t0 = zero
            t1 = zero
            t2 = zero
            t3 = zero
            for i in range(k):
                xb = B[b, i]
                xc = B[b + 1, i]
                x0 = A[a0, i]
                x1 = A[a0 + 1, i]
                x2 = A[a0 + 2, i]
                x3 = A[a0 + 3, i]
                s0 += x0 * xb
                s1 += x1 * xb
                s2 += x2 * xb
                s3 += x3 * xb
                t0 += x0 * xc
                t1 += x1 * xc
                t2 += x2 * xc
                t3 += x3 * xc
            # stored transposed, into the upper triangle: four contiguous entries of rows b and b + 1
            H[b, a0] = s0
            H[b, a0 + 1] = s1
            H[b, a0 + 2] = s2
            H[b, a0 + 3] = s3
            H[b + 1, a0] = t0
            H[b + 1, a0 + 1] = t1
            H[b + 1, a0 + 2] = t2
            H[b + 1, a0 + 3] = t3
        a0 += 4
    for a in range(a0, n):
        for b in range(a + 1):
            acc = zero
            for i in range(k):
                acc += A[a, i] * B[b, i]
            H[b, a] = acc


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def hessian_single(X32, weight, wexp, w32, XW32, H32):
    """Upper triangle of ``H32 = X32 diag(w 2^-wexp) X32^T`` in float32 (``n^2 d / 2`` products);
    ``w32`` (d) and ``XW32`` (n x d) are float32 work arrays."""
    n, d = X32.shape
    for i in range(d):
        w32[i] = math.ldexp(weight[i], -wexp)
    for a in range(n):
        for i in range(d):
            XW32[a, i] = X32[a, i] * w32[i]
    _upper_products_single(XW32, X32, H32)


@numba.njit(cache=True, error_model="numpy")
def hessian_refresh_single(XT32, u, weight, u_ref, w_ref, tau, wexp, coef, moved, H32):
    """The float32 counterpart of :func:`numerics._bregman._hessian_refresh`: for the coordinates S
    whose ``u_i`` moved more than ``tau`` from ``u_ref``, ``H32 += X32_S diag((w_S - w_ref_S) 2^-wexp)
    X32_S^T`` (upper triangle), then ``u_ref_S, w_ref_S = u_S, w_S``. Returns |S|.

    ``coef`` (float32) and ``moved`` (int64) are d-long work vectors (the first |S| entries: the
    coefficients ``c_q = (w - w_ref)_{i_q} 2^-wexp`` and the coordinates ``i_q``); ``H32`` must be
    C-contiguous (it is updated in place), ``XT32`` (the transposed design of :func:`single_design`)
    is copied first if it is not.

    ``H[b, a] += sum_q XT[i_q, b] (c_q XT[i_q, a])`` for ``b <= a``: the k terms (float32 products)
    summed in order q = 0 .. k-1 from zero, then added to ``H[b, a]`` (one rounding of H per refresh).
    By register tiles of four rows by two 8-column blocks ``[r + 8 m, r + 8 m + 8)`` (``r = n mod 8``,
    the factor's blocks; :func:`_refresh_tile_intrinsic`), the partial sums held in registers across
    the k coordinates: each tile of H is loaded and stored once per refresh (the rank-4 row updates
    this kernel replaced loaded and stored every row once per four coordinates, and paid loop
    overheads and scalar remainders on rows of 27 numbers on average at n = 80). Entries below
    the diagonal are neither read into the result nor changed (tiles on the diagonal keep their
    lanes left of it); the first ``r`` columns of the first ``r`` rows take scalar sums in the
    same order. Called from compiled code at the benchmark's size (d = 200, n = 80; 10 % quantiles
    of 2000 calls interleaved with the rank-4 kernel, three runs, 2026-11-24): 0.62-0.71 / 0.84-0.93 /
    3.1-3.2 / 10.1-10.3 / 14.8-17.2 us for k = 1 / 3 / 20 / 81 / 120 moved coordinates (was 1.40-1.47 /
    1.45-1.50 / 6.1-6.4 / 24.0-25.5 / 33.6-35.7); its float32 error is also smaller (one rounding of
    H per refresh instead of one per four coordinates)."""
    XT32 = np.ascontiguousarray(XT32)
    d, n = XT32.shape
    k = 0
    for i in range(d):
        if abs(u[i] - u_ref[i]) > tau:
            coef[k] = math.ldexp(weight[i] - w_ref[i], -wexp)
            moved[k] = i
            u_ref[i] = u[i]
            w_ref[i] = weight[i]
            k += 1
    if k == 0:
        return 0
    r = n % 8
    for b in range(r):  # the short first panel's columns
        for a in range(b, r):
            H32[b, a] += _refresh_scalar(XT32, moved, coef, k, b, a)
    # pairs of column blocks: the rows above and on the first block's diagonal by tiles of 4 x 2 blocks,
    # the second block's diagonal block by two tiles of 4 x 1; the first r rows one at a time
    j = r
    while j + 16 <= n:
        for b in range(r):
            _refresh_1x2(H32, XT32, moved, coef, k, b, j)
        for b0 in range(r, j, 4):
            _refresh_4x2(H32, XT32, moved, coef, k, b0, j)
        _refresh_4x2_diagonal0(H32, XT32, moved, coef, k, j, j)
        _refresh_4x2_diagonal4(H32, XT32, moved, coef, k, j + 4, j)
        _refresh_4x1_diagonal0(H32, XT32, moved, coef, k, j + 8, j + 8)
        _refresh_4x1_diagonal4(H32, XT32, moved, coef, k, j + 12, j + 8)
        j += 16
    if j < n:  # one block left
        for b in range(r):
            _refresh_1x1(H32, XT32, moved, coef, k, b, j)
        for b0 in range(r, j, 4):
            _refresh_4x1(H32, XT32, moved, coef, k, b0, j)
        _refresh_4x1_diagonal0(H32, XT32, moved, coef, k, j, j)
        _refresh_4x1_diagonal4(H32, XT32, moved, coef, k, j + 4, j)
    return k


@numba.njit(cache=True, error_model="numpy")
def cholesky_upper_single(H32, U32):
    """Cholesky factor U (upper triangular, ``H = U^T U``) of the SPD matrix whose upper triangle
    is in ``H32``, into the upper triangle of ``U32`` (float32 n x n; U32 C-contiguous, H32 is kept
    and copied first if it is not).
    Returns False if a pivot is not positive (not positive definite to float32 accuracy). The
    entries of U32 below the diagonal are scratch: overwritten with finite numbers that are never
    read (no value below the diagonal, of H32 or U32, reaches the factor).

    Right-looking, by panels of eight rows aligned with the column blocks ``[r + 8 m, r + 8 m + 8)``
    (``r = n mod 8``; the first ``r`` rows are a short panel of scalar loops): the panel's 8 x 8
    diagonal block is factorised in registers, its rows are finished a column block at a time
    (the triangular solve ``row k = (row k - sum_q U[q, k] row q) / U[k, k]``), and every later
    row is updated by the whole panel at once, ``U[a, j:j+8] -= sum_q U[q, a] U[q, j:j+8]``, a
    column block at a time with the panel's blocks held in registers. Row a is kept on the whole
    blocks from the one holding its diagonal, so its first block also updates up to seven entries
    left of the diagonal: those read only other such entries, never the factor's, and stay finite
    (they start at zero). Each entry of the factor is the unblocked algorithm's, with its rank-1
    updates grouped eight at a time (summed pairwise): backward stable in float32 as that is.
    """
    H32 = np.ascontiguousarray(H32)
    n = H32.shape[0]
    r = n % 8
    for a in range(r):  # the short first panel's rows, unpadded
        for j in range(a, n):
            U32[a, j] = H32[a, j]
    for a in range(r, n):
        s = a - (a - r) % 8  # the block holding the diagonal
        _block_copy_row(H32, U32, a, s, (n - s) // 8)
    if r > 0:
        for k in range(r):  # the unblocked right-looking algorithm on rows 0 .. r-1
            piv = U32[k, k]
            if not (piv > 0.0):
                return False
            root = math.sqrt(piv)
            U32[k, k] = root
            inv = np.float32(1.0 / root)
            for j in range(k + 1, n):
                U32[k, j] *= inv
            for a in range(k + 1, r):
                f = U32[k, a]
                for j in range(a, n):
                    U32[a, j] -= f * U32[k, j]
        for j in range(r, n, 8):
            _block_trailing(U32, 0, r, j, r, j + 8)
    for k0 in range(r, n, 8):
        ok, inverses = _block_diagonal(U32, k0)
        if not ok:
            return False
        _block_panel(U32, k0, (n - k0 - 8) // 8, inverses)
        for j in range(k0 + 8, n, 8):
            # rows k0+8 .. j+7: those whose blocks reach column block j
            _block_trailing(U32, k0, 8, j, k0 + 8, j + 8)
    return True


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def solve_upper_scaled(U32, r, z, step, hexp):
    """``step = -(2^hexp U^T U)^{-1} r`` in float64 arithmetic with the float32 factor U of
    :func:`cholesky_upper_single` (its upper triangle; ``z`` a work vector; ``z`` and ``step``
    C-contiguous, ``U32`` copied first if it is not):
    ``U^T z = -r`` then ``U step = z``, by the factor's column blocks (each block row: its 8 x 8
    triangle by substitution, then the later blocks' update in ``U^T z``, or the sums over them in
    ``U step``, eight rows at a time; the first ``n mod 8`` rows by scalar loops); the power of
    two is applied after the solve (exact, and no intermediate over- or underflows)."""
    U32 = np.ascontiguousarray(U32)
    n = r.size
    r0 = n % 8
    for k in range(n):
        z[k] = -r[k]
    for k in range(r0):  # the short first block row, by rows of U
        zk = z[k] / U32[k, k]
        z[k] = zk
        row = U32[k, k + 1:]
        rest = z[k + 1:]
        for j in range(row.size):
            rest[j] -= row[j] * zk
    for b in range(r0, n, 8):
        _block_forward(U32, z, b, (n - b - 8) // 8)
    for b in range(n - 8, r0 - 1, -8):
        _block_backward(U32, z, step, b, (n - b - 8) // 8)
    for k in range(r0 - 1, -1, -1):
        acc = z[k]
        row = U32[k, k + 1:]
        rest = step[k + 1:]
        for j in range(row.size):
            acc -= row[j] * rest[j]
        step[k] = acc / U32[k, k]
    if -1023 <= hexp <= 1022:
        # 2^-hexp is a normal double: x 2^-hexp is one correctly rounded product, as ldexp gives it
        scale = math.ldexp(1.0, -hexp)
        for k in range(n):
            step[k] *= scale
    else:
        for k in range(n):
            step[k] = math.ldexp(step[k], -hexp)
