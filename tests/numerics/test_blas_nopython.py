"""numerics._blas_nopython: each BLAS/LAPACK binding computes what its docstring says (C-ordered arrays)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import _blas_nopython as b

dims = st.integers(1, 9)
seeds = st.integers(0, 2**32 - 1)
# BLAS sums k products in its own order: rounding only, a few ulp of the inputs' scale times k
TOL = 64 * np.finfo(float).eps


@settings(max_examples=40)
@given(seed=seeds, r=dims, c=dims, k=dims)
@example(seed=0, r=1, c=1, k=1)
def test_products_match_numpy(seed, r, c, k):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((r, k)), rng.standard_normal((c, k))
    out = np.full((r, c), np.nan)
    b.gemm_rows_nt(A, B, out)
    assert np.max(np.abs(out - A @ B.T)) <= TOL * k
    Bk = rng.standard_normal((k, c))
    acc = rng.standard_normal((r, c))
    expect = A @ Bk + acc
    b.gemm_acc(A, Bk, acc)
    assert np.max(np.abs(acc - expect)) <= TOL * (k + 1)
    # syrk: lower triangle written, upper untouched (NaN stays NaN)
    S = np.full((r, r), np.nan)
    b.syrk_rows_lower(A, S)
    low = np.tril_indices(r)
    assert np.max(np.abs(S[low] - (A @ A.T)[low])) <= TOL * k
    assert np.all(np.isnan(S[np.triu_indices(r, 1)]))
    G = rng.standard_normal((r, r))
    T = np.tril(G) + np.triu(np.full((r, r), np.nan), 1)
    b.syrk_lower(A.T.copy(), T, 2.0)  # T <- A A^T + 2 T on the lower triangle
    assert np.max(np.abs(T[low] - (A @ A.T + 2 * G)[low])) <= TOL * (k + 2)


@settings(max_examples=40)
@given(seed=seeds, m=dims, r=dims)
def test_cholesky_and_triangular_solve(seed, m, r):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, m))
    C = M @ M.T + m * np.eye(m)
    work = C.copy()
    work[np.triu_indices(m, 1)] = np.nan  # only the lower triangle may be read
    assert b.potrf_lower(work) == 0
    L = np.tril(work)
    assert np.max(np.abs(L @ L.T - C)) <= TOL * m * np.max(np.abs(C))
    Z = rng.standard_normal((r, m))
    Y = Z.copy()
    b.trsm_right_lower_t(work, Y)
    assert np.max(np.abs(Y @ L.T - Z)) <= TOL * m * np.max(np.abs(C))


def test_views_of_rows_and_not_positive_definite():
    rng = np.random.default_rng(1)
    Y = rng.standard_normal((7, 3))
    out = np.empty((4, 3))
    b.gemm_rows_nt(Y[3:], Y[:3], out)  # row slices are contiguous views: their own offset is used
    assert np.max(np.abs(out - Y[3:] @ Y[:3].T)) <= TOL * 3
    bad = np.array([[1.0, 0.0], [2.0, 1.0]])  # lower triangle of [[1, 2], [2, 1]]: eigenvalue -1
    assert b.potrf_lower(bad) == 2


@pytest.mark.parametrize("name", ["syrk_lower", "syrk_rows_lower", "gemm_rows_nt", "gemm_acc", "potrf_lower",
                                  "trsm_right_lower_t"])
def test_bindings_are_cached_nogil_kernels(name):
    """The per-time kernels call these from threads without the GIL, and must not recompile per process."""
    fn = getattr(b, name)
    assert fn.targetoptions.get("nogil") and type(fn._cache).__name__ == "FunctionCache"
