"""BLAS-3 and LAPACK routines callable from nopython Numba code (``cache=True`` compatible).

Numba's own linear algebra (``np.dot``, ``np.linalg.cholesky``) covers ``gemm`` and an
allocating Cholesky only. Per-time kernels that factorise and solve at every time point
also want ``syrk`` (half the work of ``A A^T``), ``trsm`` (triangular solve) and an
in-place ``potrf``, without a Python call (microseconds each) around every one. This
module binds SciPy's ``cython_blas`` / ``cython_lapack`` entry points (the OpenBLAS that
SciPy ships, which :mod:`numerics._blas_threads` pins to one thread) as external symbols:
``llvmlite.binding.add_symbol`` registers each address under a fixed name at import, and
the kernels call that *name* through ``numba.types.ExternalFunction``. Cached machine code
refers to the name, not the address, so it links again in every process that imports
this module first.

Calling convention: the Fortran one (every argument a pointer; ``int`` is 32-bit in
SciPy's LP64 wrappers). A C-ordered ``(r, c)`` NumPy array is the column-major ``(c, r)``
matrix, its transpose, with leading dimension ``c``; the helpers below take C-ordered
arrays and do that bookkeeping, so their docstrings state the C-order result.

Scalars (characters, sizes, alpha/beta) travel in small arrays that are used again after
the call (:func:`_keep`): Numba frees an array right after its last use, which would
otherwise be the extraction of the raw pointer, before the routine reads it.

Caveat (Numba's cache): a cached kernel that calls these helpers has them compiled in and
is invalidated only when its *own* file changes; after editing this file, delete the
``numerics/__pycache__/_qqt.*.nb[ic]`` entries (or touch the calling module).
"""

from __future__ import annotations

import llvmlite.binding as ll
import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic

_ROUTINES = {"dsyrk": "scipy.linalg.cython_blas", "dgemm": "scipy.linalg.cython_blas",
             "dtrsm": "scipy.linalg.cython_blas", "dpotrf": "scipy.linalg.cython_lapack"}
for _name, _module in _ROUTINES.items():
    ll.add_symbol("lazyrich_" + _name, get_cython_function_address(_module, _name))

_p = types.voidptr
# dsyrk(uplo, trans, n, k, alpha, a, lda, beta, c, ldc)
_dsyrk = types.ExternalFunction("lazyrich_dsyrk", types.void(*([_p] * 10)))
# dgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
_dgemm = types.ExternalFunction("lazyrich_dgemm", types.void(*([_p] * 13)))
# dtrsm(side, uplo, transa, diag, m, n, alpha, a, lda, b, ldb)
_dtrsm = types.ExternalFunction("lazyrich_dtrsm", types.void(*([_p] * 11)))
# dpotrf(uplo, n, a, lda, info)
_dpotrf = types.ExternalFunction("lazyrich_dpotrf", types.void(*([_p] * 5)))


# Fortran character arguments, as their ASCII codes
_U, _L, _N, _T = ord("U"), ord("L"), ord("N"), ord("T")


@intrinsic
def _at(typingctx, arr, idx):
    """Pointer to element ``idx`` of a contiguous 1-D array, as ``void*``."""
    def codegen(context, builder, sig, args):
        a = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.bitcast(builder.gep(a.data, [args[1]]), cgutils.voidptr_t)
    return types.voidptr(arr, idx), codegen


@intrinsic
def _ptr(typingctx, arr):
    """The data pointer of an array (a view's first element) as ``void*``."""
    def codegen(context, builder, sig, args):
        a = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.bitcast(a.data, cgutils.voidptr_t)
    return types.voidptr(arr), codegen


@numba.njit(cache=True, nogil=True)
def _keep(*arrays):
    """A use of the argument arrays after a call that was handed raw pointers into them: Numba
    frees an array after its last use, which would otherwise be the pointer extraction."""
    return len(arrays)


@numba.njit(cache=True, nogil=True)
def syrk_lower(A, C, beta):
    """Lower triangle of ``C <- A^T A + beta C`` (A: k x n and C: n x n, C-ordered); the upper one is untouched.

    Column-major, A is ``A^T`` (n x k) and the C-order lower triangle is the column-major upper one.
    """
    k, n = A.shape
    ch = np.array([_U, _N], dtype=np.int8)
    iv = np.array([n, k, n, C.shape[1]], dtype=np.int32)
    rv = np.array([1.0, beta])
    _dsyrk(_at(ch, 0), _at(ch, 1), _at(iv, 0), _at(iv, 1), _at(rv, 0), _ptr(A), _at(iv, 2), _at(rv, 1),
           _ptr(C), _at(iv, 3))
    _keep(ch, iv, rv)


@numba.njit(cache=True, nogil=True)
def syrk_rows_lower(Y, C):
    """Lower triangle of ``C <- Y Y^T`` (Y: n x k, C: n x n, C-ordered); the upper one is untouched."""
    n, k = Y.shape
    ch = np.array([_U, _T], dtype=np.int8)
    iv = np.array([n, k, k, C.shape[1]], dtype=np.int32)
    rv = np.array([1.0, 0.0])
    _dsyrk(_at(ch, 0), _at(ch, 1), _at(iv, 0), _at(iv, 1), _at(rv, 0), _ptr(Y), _at(iv, 2), _at(rv, 1),
           _ptr(C), _at(iv, 3))
    _keep(ch, iv, rv)


@numba.njit(cache=True, nogil=True)
def gemm_rows_nt(A, B, C):
    """``C <- A B^T`` (A: r x k, B: c x k, C: r x c, C-ordered), i.e. row products of A and B."""
    r, k = A.shape
    c = B.shape[0]
    # column-major: C^T (c x r) = B (c x k, stored as k x c) ^T times A^T (k x r)
    ch = np.array([_T, _N], dtype=np.int8)
    iv = np.array([c, r, k, k, k, c], dtype=np.int32)
    rv = np.array([1.0, 0.0])
    _dgemm(_at(ch, 0), _at(ch, 1), _at(iv, 0), _at(iv, 1), _at(iv, 2), _at(rv, 0), _ptr(B), _at(iv, 3),
           _ptr(A), _at(iv, 4), _at(rv, 1), _ptr(C), _at(iv, 5))
    _keep(ch, iv, rv)


@numba.njit(cache=True, nogil=True)
def gemm_acc(A, B, C):
    """``C <- A B + C`` (A: r x k, B: k x c, C: r x c, C-ordered)."""
    r, k = A.shape
    c = B.shape[1]
    # column-major: C^T = B^T A^T
    ch = np.array([_N, _N], dtype=np.int8)
    iv = np.array([c, r, k, c, k, c], dtype=np.int32)
    rv = np.array([1.0, 1.0])
    _dgemm(_at(ch, 0), _at(ch, 1), _at(iv, 0), _at(iv, 1), _at(iv, 2), _at(rv, 0), _ptr(B), _at(iv, 3),
           _ptr(A), _at(iv, 4), _at(rv, 1), _ptr(C), _at(iv, 5))
    _keep(ch, iv, rv)


@numba.njit(cache=True, nogil=True)
def potrf_lower(C):
    """In place: the lower triangle of the SPD C (C-ordered, only that triangle read) becomes L, C = L L^T.

    Returns LAPACK's info: 0, or k > 0 when the leading k x k minor is not positive definite.
    """
    ch = np.array([_U], dtype=np.int8)
    iv = np.array([C.shape[0], C.shape[1], 0], dtype=np.int32)
    _dpotrf(_at(ch, 0), _at(iv, 0), _ptr(C), _at(iv, 1), _at(iv, 2))
    _keep(ch)
    return iv[2]


@numba.njit(cache=True, nogil=True)
def trsm_right_lower_t(L, Z):
    """In place ``Z <- Z L^{-T}`` (L: m x m lower triangular, Z: r x m, C-ordered)."""
    r, m = Z.shape
    # column-major: Z^T (m x r) <- L^{-1} Z^T, and L is stored as the upper triangular L^T
    ch = np.array([_L, _U, _T, _N], dtype=np.int8)
    iv = np.array([m, r, L.shape[1], m], dtype=np.int32)
    rv = np.array([1.0])
    _dtrsm(_at(ch, 0), _at(ch, 1), _at(ch, 2), _at(ch, 3), _at(iv, 0), _at(iv, 1), _at(rv, 0), _ptr(L),
           _at(iv, 2), _ptr(Z), _at(iv, 3))
    _keep(ch, iv, rv)
