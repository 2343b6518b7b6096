"""The grid driver: ``layout`` of broadcast inputs and NumPy-exact broadcasting of a compiled kernel.

One small kernel is compiled, ``(x + 1000*y + 1e6*z, sqrt(x))``: with integer-valued
inputs below 1000 its first output encodes the three input values exactly, so any
mistake in strides or offsets shows as a wrong number; its second output is NaN
exactly where ``x < 0`` (for NaN counting).
"""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from numerics import CACHE_ENV_VAR, KernelSpec, compile_kernel
from numerics import _driver
from numerics._driver import compact, layout

x, y, z = sp.symbols("x y z", real=True)


@pytest.fixture(scope="module")
def kern(tmp_path_factory):
    root = tmp_path_factory.mktemp("driver-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV_VAR, str(root))
        yield compile_kernel(KernelSpec("drv_encode", (x, y, z), (x + 1000 * y + 1000000 * z, sp.sqrt(x))))


def encode(xa, ya, za):
    xa, ya, za = (np.asarray(q, dtype=np.float64) for q in (xa, ya, za))
    return xa + 1000 * ya + 1000000 * za


def filled(shape, offset=0.0):
    """Distinct integer values 0..size-1 (+ offset) in a C array of ``shape``."""
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.float64).reshape(shape) + offset


def reconstruct(shape, base, stride_row):
    """The broadcast array that the driver reads from ``base`` with element strides ``stride_row``."""
    out = np.empty(shape)
    for idx in np.ndindex(*shape):
        out[idx] = base[sum(q * s for q, s in zip(idx, stride_row))]
    return out


def check_bases(bases):
    for b in bases:
        assert b.ndim == 1 and b.dtype == np.float64
        assert b.flags.c_contiguous and b.flags.writeable  # what the compiled grid signature takes


# ---------------------------------------------------------------- layout


def test_layout_scalars():
    shape, bases, strides = layout([2.5, np.float64(3.0), np.array(4.0), 7])
    assert shape == ()
    assert strides.shape == (4, 1) and strides.dtype == np.int64 and not strides.any()
    assert [b.tolist() for b in bases] == [[2.5], [3.0], [4.0], [7.0]]
    check_bases(bases)


def test_layout_outer_product():
    col, row = filled((3, 1)), filled((1, 4), 100.0)
    shape, bases, strides = layout([col, row])
    assert shape == (3, 4)
    assert strides.tolist() == [[1, 0], [0, 1]]
    check_bases(bases)
    for arr, base, srow in zip((col, row), bases, strides):
        np.testing.assert_array_equal(reconstruct(shape, base, srow), np.broadcast_to(arr, shape))


def test_layout_rank_promotion():
    a, b, cc = filled((2, 1, 5)), filled((1, 3, 1), 10.0), filled((5,), 100.0)
    shape, bases, strides = layout([a, b, cc])
    assert shape == (2, 3, 5)
    assert strides.tolist() == [[5, 0, 1], [0, 1, 0], [0, 0, 1]]
    for arr, base, srow in zip((a, b, cc), bases, strides):
        np.testing.assert_array_equal(reconstruct(shape, base, srow), np.broadcast_to(arr, shape))


def test_layout_broadcast_view_is_not_materialised():
    data = np.arange(7.0)
    wide = np.broadcast_to(data, (1000, 7))
    tall = np.broadcast_to(np.arange(50.0)[:, None], (50, 300))
    shape, bases, strides = layout([wide, np.zeros((1000, 1))])
    assert shape == (1000, 7)
    assert bases[0].size == 7 and strides[0].tolist() == [0, 1]
    np.testing.assert_array_equal(reconstruct(shape, bases[0], strides[0]), wide)
    shape, bases, strides = layout([tall, np.zeros(300)])
    assert shape == (50, 300)
    assert bases[0].size == 50 and strides[0].tolist() == [1, 0]
    np.testing.assert_array_equal(reconstruct(shape, bases[0], strides[0]), tall)
    shape, bases, strides = layout([np.broadcast_to(3.0, (40, 60)), np.zeros((40, 60))])
    assert bases[0].tolist() == [3.0] and not strides[0].any()
    assert compact(wide).size == 7


def test_layout_lone_broadcast_view_keeps_its_shape():
    # Regression: the shape was computed from the compact() arrays, so a stride-0 axis that no
    # other argument supplied came out with length 1.
    wide = np.broadcast_to(np.arange(3.0), (4, 3))
    shape, bases, strides = layout([wide])
    assert shape == (4, 3)
    assert bases[0].size == 3
    np.testing.assert_array_equal(reconstruct(shape, bases[0], strides[0]), wide)


def test_layout_non_contiguous_and_read_only():
    big = filled((6, 10))
    pieces = [big[::2, 1::3], big[::-1, 2][:, None][:3], np.asfortranarray(big[:3, :3]), big[:3, :3].T]
    ro = filled((3, 3), 500.0)
    ro.setflags(write=False)
    ints = np.arange(3, dtype=np.int32)
    arrays = pieces + [ro, ints]
    shape, bases, strides = layout(arrays)
    assert shape == (3, 3)
    check_bases(bases)
    for arr, base, srow in zip(arrays, bases, strides):
        np.testing.assert_array_equal(reconstruct(shape, base, srow), np.broadcast_to(arr, shape).astype(float))
    assert not ro.flags.writeable and ro[0, 0] == 500.0  # the caller's array is left alone


# ---------------------------------------------------------------- grid driver


CASES = [
    ((), (), ()),
    ((3,), (), ()),
    ((3, 1), (4,), ()),
    ((2, 1, 5), (1, 3, 1), (5,)),
    ((1, 1, 1, 2), (2, 1, 1), (3, 1)),
    ((0,), (), ()),
    ((3, 1), (0,), ()),
    ((2, 0, 1), (4,), (1, 1)),
]


@pytest.mark.parametrize("sx, sy, sz", CASES)
def test_grid_matches_numpy_broadcasting(kern, sx, sy, sz):
    xa, ya, za = filled(sx), filled(sy, 1.0), filled(sz, 2.0)
    vals, nbad = kern(xa, ya, za)
    shape = np.broadcast_shapes(sx, sy, sz)
    assert vals.shape == (2,) + shape
    assert nbad == 0
    np.testing.assert_array_equal(vals[0], encode(xa, ya, za))
    np.testing.assert_array_equal(vals[1], np.broadcast_to(np.sqrt(xa), shape))


def test_grid_scalar_call(kern):
    vals, nbad = kern(2.0, 3.0, 4)
    assert vals.shape == (2,) and nbad == 0
    assert vals.tolist() == [4003002.0, math.sqrt(2.0)]
    assert kern.scalar(2.0, 3.0, 4.0) == (4003002.0, math.sqrt(2.0))


@settings(max_examples=50, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=5))
def test_grid_broadcasting_property(kern, shapes):
    sx, sy = shapes.input_shapes
    xa, ya = filled(sx), filled(sy, 3.0)
    vals, nbad = kern(xa, ya, 7.0)
    assert vals.shape == (2,) + shapes.result_shape
    assert nbad == 0
    np.testing.assert_array_equal(vals[0], encode(xa, ya, 7.0))


@settings(max_examples=30, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=4, min_side=0, max_side=5))
def test_grid_broadcasting_property_three_args_with_empty(kern, shapes):
    sx, sy, sz = shapes.input_shapes
    xa, ya, za = filled(sx), filled(sy, 1.0), filled(sz, 2.0)
    vals, nbad = kern(xa, ya, za)
    assert vals.shape == (2,) + shapes.result_shape
    assert nbad == 0
    np.testing.assert_array_equal(vals[0], encode(xa, ya, za))


@pytest.mark.parametrize("sx, sy", [((0, 2), ()), ((2, 0, 4), ()), ((2, 0, 1), (4,))])
def test_grid_on_freshly_allocated_empty_arrays(kern, sx, sy):
    # Regression: NumPy gives np.zeros((0, 2)) all-zero strides; compact() took those axes for
    # broadcast ones and cut them to length 1 (result (2, 0, 1) for inputs (0, 2) x ()).
    xa, ya = np.zeros(sx), filled(sy)
    assert xa.size == 0
    vals, nbad = kern(xa, ya, 0.0)
    assert vals.shape == (2,) + np.broadcast_shapes(sx, sy)
    assert nbad == 0


def test_grid_on_views(kern):
    big = filled((8, 12))
    xa = big[::2, 1::4]                                     # (4, 3), non-contiguous
    ya = np.broadcast_to(np.arange(3.0), (4, 3))           # stride-0 view; extent also given by xa
    za = filled((4, 1))
    za.setflags(write=False)
    vals, nbad = kern(xa, ya, za)
    assert vals.shape == (2, 4, 3) and nbad == 0
    np.testing.assert_array_equal(vals[0], encode(xa, ya, za))
    vals, _ = kern(big[::-1, ::-3], big[0, ::-3], 0.0)      # negative strides
    np.testing.assert_array_equal(vals[0], encode(big[::-1, ::-3], big[0, ::-3], 0.0))


def test_grid_on_lone_broadcast_view(kern):
    xa = np.broadcast_to(np.arange(3.0), (4, 3))
    vals, nbad = kern(xa, 0.0, 0.0)
    assert vals.shape == (2, 4, 3) and nbad == 0
    np.testing.assert_array_equal(vals[0], np.broadcast_to(np.arange(3.0), (4, 3)))
    vals, _ = kern(np.broadcast_to(5.0, (2, 3)), 1.0, 0.0)
    assert vals.shape == (2, 2, 3) and (vals[0] == 1005.0).all()


# ---------------------------------------------------------------- NaN counting


def test_nan_points_counted_once(kern):
    xa = np.array([[-1.0], [4.0], [-0.0], [np.nan]])         # sqrt: NaN for -1 and NaN; -0.0 -> -0.0
    ya = np.array([1.0, 2.0, np.nan])                        # encode: NaN in column 2
    vals, nbad = kern(xa, ya, 0.0)
    assert vals.shape == (2, 4, 3)
    bad = np.isnan(vals).any(axis=0)
    assert bad.tolist() == [[True, True, True], [False, False, True], [False, False, True], [True, True, True]]
    assert nbad == 8
    assert vals[1, 2, 0] == 0.0 and math.copysign(1.0, vals[1, 2, 0]) == -1.0


def test_nan_count_large_parallel_grid(kern):
    rng = np.random.default_rng(7)
    xa = rng.uniform(-1.0, 1.0, (2000, 1))
    ya = np.zeros(700)
    vals, nbad = kern(xa, ya, 0.0)
    assert nbad == np.count_nonzero(xa < 0) * 700
    assert nbad == np.count_nonzero(np.isnan(vals[1]))


@settings(max_examples=50, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, min_side=0, max_side=5),
       seed=st.integers(0, 2**32 - 1))
def test_nan_count_property(kern, shapes, seed):
    sx, sy = shapes.input_shapes
    rng = np.random.default_rng(seed)
    xa = rng.integers(-3, 4, sx).astype(np.float64)
    vals, nbad = kern(xa, filled(sy), 0.0)
    expected = int(np.count_nonzero(np.broadcast_to(xa < 0, shapes.result_shape)))
    assert nbad == expected
    assert np.isnan(vals[1]).sum() == expected and not np.isnan(vals[0]).any()


@pytest.mark.parametrize("shape", [(100_003,), (3, 40_001), (70, 1000)])
def test_threaded_split_equals_one_thread(kern, monkeypatch, shape):
    rng = np.random.default_rng(11)
    xa = rng.uniform(-1.0, 4.0, shape)
    vals, nbad = kern(xa, 1.5, 0.0)
    monkeypatch.setattr(_driver, "threads", lambda: 1)
    one, nbad1 = kern(xa, 1.5, 0.0)
    np.testing.assert_array_equal(vals, one)
    assert nbad == nbad1 == np.count_nonzero(xa < 0)


def test_values_land_in_a_given_buffer(kern):
    xa, ya, za = filled((3, 1, 1)), filled((1, 4, 1)), filled((1, 1, 700))
    expected, nbad = kern(xa, ya, za)
    buf = np.full(2 * 3 * 4 * 700, -1.0)
    got, nbad_out = kern(xa, ya, za, out=buf)
    assert np.shares_memory(got, buf) and nbad_out == nbad
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(buf.reshape(got.shape), expected)


@pytest.mark.parametrize("bad, message", [(np.zeros(7), "must hold 2 x 4 values"),
                                          (np.zeros(8, dtype=np.float32), "must be a writable C-contiguous float64"),
                                          (np.zeros(16)[::2], "must be a writable C-contiguous float64")])
def test_a_wrong_buffer_is_refused(kern, bad, message):
    with pytest.raises(ValueError, match=f"out: {message}"):
        kern(filled((4,)), 0.0, 0.0, out=bad)
