"""Labelled sweeps: the same numbers as ``evaluate``, invalid points NaN and counted, every backend alike."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from derive import Param, Result, SweepDomainWarning, positive, real
from derive._sweep import chunk_shape, plan

ROOT = Path(__file__).resolve().parents[2]
MODE = "lambda_balanced.mode"
LAM = np.linspace(-5.0, 5.0, 11)
A0 = np.array([-0.5, 0.01, 0.5])
T = np.linspace(0.0, 10.0, 23)


def reference(lam, s, a0, t):
    return derive.get(MODE).evaluate(lam=lam[:, None, None], s=s, a0=a0[:, None], t=t)


def test_in_memory_sweep_equals_evaluate_bit_for_bit():
    ds = derive.sweep(MODE, lam=LAM, s=1.0, a0=A0, t=T, chunk_points=50, progress=False)
    assert ds["a"].dims == ("lam", "a0", "t")
    np.testing.assert_array_equal(ds["a"].values, reference(LAM, 1.0, A0, T))
    np.testing.assert_array_equal(ds["lam"].values, LAM)
    assert float(ds["s"]) == 1.0 and ds.attrs["invalid_points"] == 0
    assert ds.attrs["result"] == MODE and r"\begin{aligned}" in ds.attrs["latex"]
    assert "s > 0" in ds.attrs["conditions"] and "@inproceedings{domine2025lazy" in ds.attrs["citation"]
    assert ds.attrs["lazyrich_version"]


def test_invalid_points_are_nan_counted_and_reported():
    s = np.array([1.0, 0.0, 2.0])
    t = np.array([-1.0, 0.0, 3.0])
    with pytest.warns(SweepDomainWarning, match=r"^lambda_balanced.mode: 165 of 297 sweep points"):
        ds = derive.sweep(MODE, lam=LAM, s=s, a0=A0, t=t, chunk_points=7, progress=False)
    a = ds["a"].values
    bad = (s[None, :, None, None] <= 0) | (t[None, None, None, :] < 0)
    assert np.isnan(a[np.broadcast_to(bad, a.shape)]).all()
    assert not np.isnan(a[~np.broadcast_to(bad, a.shape)]).any()
    assert ds.attrs["invalid_points"] == int(np.broadcast_to(bad, a.shape).sum()) == 165
    good = derive.get(MODE).evaluate(lam=LAM[:, None], s=2.0, a0=A0, t=3.0)
    np.testing.assert_array_equal(a[:, 2, :, 2], good)


def test_constraint_violations_are_invalid_points():
    with pytest.warns(SweepDomainWarning):
        ds = derive.sweep("lambda_balanced.time_to_learn", lam=np.array([0.0, 1.0]), s=1.0,
                          a0=np.array([0.1, 0.5]), af=np.array([0.3, 0.9, 1.0]), progress=False)
    t = ds["t"].values
    af = np.array([0.3, 0.9, 1.0])
    expected_bad = (af[None, None, :] < np.array([0.1, 0.5])[None, :, None]) | (af[None, None, :] >= 1.0)
    np.testing.assert_array_equal(np.isnan(t), np.broadcast_to(expected_bad, t.shape))


def test_zipped_axes_share_a_dimension():
    s, a0 = np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2, 0.3])
    ds = derive.sweep(MODE, zip=[("s", "a0")], lam=LAM, s=s, a0=a0, t=2.0, progress=False)
    assert ds["a"].dims == ("lam", "s_a0")
    np.testing.assert_array_equal(ds["s"].values, s)
    expected = derive.get(MODE).evaluate(lam=LAM[:, None], s=s, a0=a0, t=2.0)
    np.testing.assert_array_equal(ds["a"].values, expected)


def test_streamed_zarr_and_netcdf_round_trip(tmp_path):
    s = np.array([1.0, 0.0])
    with pytest.warns(SweepDomainWarning):
        z = derive.sweep(MODE, lam=LAM, s=s, a0=A0, t=T, out=tmp_path / "g.zarr", chunk_points=40, progress=False)
    with pytest.warns(SweepDomainWarning):
        mem = derive.sweep(MODE, lam=LAM, s=s, a0=A0, t=T, progress=False)
    reopened = xr.open_zarr(tmp_path / "g.zarr", consolidated=False)
    assert reopened.attrs["invalid_points"] == mem.attrs["invalid_points"] == 11 * 3 * 23
    np.testing.assert_array_equal(reopened["a"].values, mem["a"].values)
    np.testing.assert_array_equal(z["a"].values, mem["a"].values)
    derive.sweep(MODE, lam=LAM, s=1.0, a0=A0, t=T, out=tmp_path / "g.nc", progress=False)
    with xr.open_dataset(tmp_path / "g.nc") as nc:
        np.testing.assert_array_equal(nc["a"].values, reference(LAM, 1.0, A0, T))
        assert nc.attrs["result"] == MODE


@pytest.mark.parametrize("store", [None, "d.zarr"])
def test_dask_backend_is_identical_to_local(store, tmp_path):
    out = None if store is None else tmp_path / store  # .zarr: each chunk task writes its own region
    with pytest.warns(SweepDomainWarning):
        local = derive.sweep(MODE, lam=LAM, s=np.array([1.0, -1.0]), a0=A0, t=T, chunk_points=60, progress=False)
    with pytest.warns(SweepDomainWarning):
        dsk = derive.sweep(MODE, lam=LAM, s=np.array([1.0, -1.0]), a0=A0, t=T, chunk_points=60, backend="dask",
                           out=out)
    np.testing.assert_array_equal(dsk["a"].values, local["a"].values)
    assert dsk.attrs["invalid_points"] == local.attrs["invalid_points"] == 11 * 3 * 23


def test_vector_parameters_and_several_outputs_sweep():
    ds = derive.sweep("lambda_balanced.loss", lam=np.array([0.0, 2.0]), s=[1.0, 2.0], a0=[0.1, 0.2],
                      t=np.array([0.0, 1.0, 5.0]), Lstar=0.25, progress=False)
    expected = derive.get("lambda_balanced.loss").evaluate(lam=np.array([0.0, 2.0])[:, None], s=[1.0, 2.0],
                                                          a0=[0.1, 0.2], t=[0.0, 1.0, 5.0], Lstar=0.25)
    np.testing.assert_array_equal(ds["L"].values, expected)
    assert ds.attrs["param_s"] == [1.0, 2.0]


def test_evaluator_results_with_matrix_outputs_sweep(tmp_path):
    A = sp.MatrixSymbol("A", 2, 2)
    c = sp.Symbol("c", positive=True)
    derive.register(Result("test.sweep_matrix", title="c times A", params=[Param("A", real(), ndim=2),
                                                                          Param("c", positive())],
                           expr=c * A, output="B", evaluator=lambda A, c: np.multiply.outer(c, A)), replace=True)
    with pytest.warns(SweepDomainWarning):
        ds = derive.sweep("test.sweep_matrix", A=[[1.0, 2.0], [3.0, 4.0]], c=np.array([1.0, -1.0, 2.0]),
                          progress=False)
    assert ds["B"].dims == ("c", "B_0", "B_1")
    np.testing.assert_array_equal(ds["B"].values[2], [[2.0, 4.0], [6.0, 8.0]])
    assert np.isnan(ds["B"].values[1]).all() and ds.attrs["invalid_points"] == 1
    with pytest.warns(SweepDomainWarning):
        dz = derive.sweep("test.sweep_matrix", A=[[1.0, 2.0], [3.0, 4.0]], c=np.array([1.0, -1.0, 2.0]),
                          chunk_points=1, backend="dask", out=tmp_path / "m.zarr")
    assert dz["B"].dims == ds["B"].dims and dz.attrs["invalid_points"] == 1
    np.testing.assert_array_equal(dz["B"].values, ds["B"].values)
    # a first chunk with no valid point carries no matrix shape: every backend must still lay out (3, 2, 2)
    c = np.array([-1.0, 1.0, 2.0])
    for kw in (dict(), dict(out=tmp_path / "first_invalid.zarr"), dict(backend="dask"),
               dict(backend="dask", out=tmp_path / "first_invalid_dask.zarr")):
        with pytest.warns(SweepDomainWarning):
            got = derive.sweep("test.sweep_matrix", A=[[1.0, 2.0], [3.0, 4.0]], c=c, chunk_points=1,
                               progress=False, **kw) if "backend" not in kw else derive.sweep(
                "test.sweep_matrix", A=[[1.0, 2.0], [3.0, 4.0]], c=c, chunk_points=1, **kw)
        assert got["B"].shape == (3, 2, 2) and got.attrs["invalid_points"] == 1, kw
        assert np.isnan(got["B"].values[0]).all(), kw
        np.testing.assert_array_equal(got["B"].values[1:], ds["B"].values[[0, 2]], err_msg=str(kw))


@pytest.mark.parametrize("kwargs, message", [
    (dict(lam=LAM, s=1.0, a0=A0), r"^t: missing parameter"),
    (dict(lam=LAM, s=1.0, a0=A0, t=T, q=1.0), r"^q: not a parameter"),
    (dict(lam=LAM, s=1.0, a0=A0, t=np.ones((2, 2))), r"^t: a sweep axis must be a non-empty 1-D array"),
    (dict(lam=LAM, s=1.0, a0=A0, t=T, zip=[("lam", "t")]), r"^t: zipped axes must have equal lengths"),
    (dict(lam=LAM, s=1.0, a0=A0, t=T, zip=[("lam", "s")]), r"^s: only a sweep axis"),
    (dict(lam=LAM, s=1.0, a0=A0, t=T, out="x.csv"), r"^out: must end in .zarr or .nc"),
    (dict(lam=LAM, s=1.0, a0=A0, t=T, backend="spark"), r"^backend: must be 'local' or 'dask'"),
    (dict(lam=LAM, s=1.0, a0=A0, t=T, max_memory=1000), r"^out: the grid of 759 points needs"),
])
def test_bad_calls_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        derive.sweep(MODE, progress=False, **kwargs)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=4), points=st.integers(1, 5000))
@example(shape=[7], points=1).via("one point per chunk")
@example(shape=[3, 5], points=15).via("the whole grid in one chunk")
def test_chunks_tile_the_grid_within_the_budget(shape, points):
    chunks = chunk_shape(shape, points)
    assert math.prod(chunks) <= max(points, 1) or all(c == 1 for c in chunks)
    axes = {f"x{k}": np.arange(n, dtype=float) for k, n in enumerate(shape)}
    result = Result("test.sum_axes", title="sum", params=[Param(k, real()) for k in axes],
                    expr=sp.Add(*(sp.Symbol(k, real=True) for k in axes)))
    p = plan(result, axes, (), points)
    covered = np.zeros(shape, dtype=int)
    for block in p.blocks():
        covered[block] += 1
    assert (covered == 1).all()


def test_cli_sweep_writes_a_dataset(tmp_path):
    out = tmp_path / "mode.nc"
    proc = subprocess.run([sys.executable, "-m", "derive", "sweep", MODE, "lam=-1:1:3", "s=1,0", "a0=0.01",
                           "t=0:2:5", "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "15 point(s) outside the domain" in proc.stdout
    assert "15 of 30 sweep points lie outside the domain" in proc.stderr
    with xr.open_dataset(out) as ds:
        assert ds["a"].dims == ("lam", "s", "t")
        np.testing.assert_array_equal(ds["a"].values[:, 0, :], derive.get(MODE).evaluate(
            lam=np.linspace(-1, 1, 3)[:, None], s=1.0, a0=0.01, t=np.linspace(0, 2, 5)))
    bad = subprocess.run([sys.executable, "-m", "derive", "sweep", MODE, "lam=0", "s=1", "a0=0.01", "t=1",
                          "--out", str(tmp_path / "x.csv")], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "out: must end in .zarr or .nc" in bad.stderr
