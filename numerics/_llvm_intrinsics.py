"""LLVM primitives for compiled loops that must vectorise: bit casts, ``llvm.fma``, ``llvm.sqrt``.

Numba's ``math.sqrt`` and libm calls keep ``errno`` semantics or are opaque calls, which stop
LLVM's loop vectoriser; reinterpreting a double's bits needs an LLVM ``bitcast``. These four
intrinsics are inlined into the caller and map to single instructions. Used by the lane normals
(:mod:`numerics.simulate._rng_fast`) and the branch-free exponentials (:mod:`numerics._vexp`).
"""

from __future__ import annotations

from llvmlite import ir as llir
from numba import types
from numba.extending import intrinsic


@intrinsic
def _as_f64(typingctx, bits):
    """The IEEE double whose bits are ``bits`` (uint64)."""
    if bits != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.uint64), codegen


@intrinsic
def _as_u64(typingctx, x):
    """The bits (uint64) of the double ``x``."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.uint64))

    return types.uint64(types.float64), codegen


@intrinsic
def _sqrt(typingctx, x):
    """Correctly rounded square root (``llvm.sqrt``: no errno, so it vectorises, unlike libm's)."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        fn = builder.module.declare_intrinsic("llvm.sqrt", [llir.DoubleType()])
        return builder.call(fn, args)

    return types.float64(types.float64), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a b + c`` with one rounding (``llvm.fma``)."""
    if not (a == types.float64 and b == types.float64 and c == types.float64):
        return None

    def codegen(context, builder, sig, args):
        dbl = llir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [dbl], llir.FunctionType(dbl, [dbl, dbl, dbl]))
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen
