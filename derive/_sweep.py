"""Labelled parameter sweeps: ``derive.sweep(name, **axes)`` -> ``xarray.Dataset``.

A sweep evaluates a registered result over the Cartesian product of its axes
(optionally zipping axes of equal length into one dimension), chunk by chunk with
bounded memory, and returns a Dataset whose coordinates are the parameters and
whose variables are the result's outputs. Its attributes carry the result's
LaTeX, conditions of validity, citation and the lazyrich version.

Unlike ``Result.evaluate`` (which refuses invalid input), a sweep marks the points
outside the domain (a parameter outside its domain, or a violated constraint) as
NaN, records their count in the attribute ``invalid_points`` and warns with a
:class:`SweepDomainWarning`. A NaN at a *valid* point is still an error.

Where the values go:

* in memory (default): the grid must fit (``max_memory``; a larger one asks for
  ``out=``);
* ``out="grid.zarr"``: streamed to Zarr chunk by chunk (any size; memory is one
  chunk), and the returned Dataset is the lazily opened store;
* ``out="grid.nc"``: computed in memory, then written as netCDF.

``backend="dask"`` builds the same sweep as a Dask graph of chunk tasks (see
:mod:`derive._sweep_dask`); ``backend="local"`` evaluates in this process, on
all the kernel driver's threads.
"""

from __future__ import annotations

import importlib.metadata
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from ._registry import get
from ._result import Result

#: points per chunk when none is given (8 MiB per float64 output)
DEFAULT_CHUNK_POINTS = 1 << 20
#: in-memory sweeps larger than this many bytes of output ask for out=
DEFAULT_MAX_MEMORY = 4 << 30


class SweepDomainWarning(UserWarning):
    """Some points of a sweep lie outside the result's domain; they are NaN."""


@dataclass(frozen=True)
class Dim:
    """One dimension of a sweep: its name and the parameter values along it (equal lengths)."""

    name: str
    values: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(next(iter(self.values.values())))


@dataclass(frozen=True)
class Plan:
    """What a sweep evaluates: dimensions, fixed scalar parameters, whole vector parameters."""

    name: str
    dims: tuple[Dim, ...]
    fixed: dict[str, float]
    vectors: dict[str, np.ndarray]
    chunks: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)

    @property
    def points(self) -> int:
        return math.prod(self.shape)

    def blocks(self) -> Iterator[tuple[slice, ...]]:
        """The chunks as tuples of slices, in C order."""
        starts = [range(0, n, c) for n, c in zip(self.shape, self.chunks)]
        for corner in product(*starts):
            yield tuple(slice(a, min(a + c, n)) for a, c, n in zip(corner, self.chunks, self.shape))

    @staticmethod
    def block_shape(block: tuple[slice, ...]) -> tuple[int, ...]:
        """The shape of one chunk (a tuple of slices from :meth:`blocks`)."""
        return tuple(s.stop - s.start for s in block)

    def block_chunks(self) -> tuple[tuple[int, ...], ...]:
        """Chunk sizes per dimension, as Dask writes them."""
        return tuple(tuple(min(c, n - a) for a in range(0, n, c)) for n, c in zip(self.shape, self.chunks))


def chunk_shape(shape: Sequence[int], points: int) -> tuple[int, ...]:
    """Chunk shape of at most ``points`` points (at least one): whole trailing dimensions
    while they fit, then a slab of the next one, single indices before it."""
    points = max(1, int(points))
    out = [1] * len(shape)
    inner = 1
    for k in range(len(shape) - 1, -1, -1):
        n = max(1, shape[k])
        if inner * n <= points:
            out[k] = n
            inner *= n
        else:
            out[k] = max(1, points // inner)
            break
    return tuple(out)


def plan(result: Result, axes: Mapping[str, object], zip_axes: Sequence[Sequence[str]] = (),
         chunk_points: int = DEFAULT_CHUNK_POINTS) -> Plan:
    """Check the axes against ``result`` and lay the sweep out (see :func:`sweep`)."""
    result.check_names(axes)
    fixed: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    along: dict[str, np.ndarray] = {}
    for p in result.params:
        if p.vector:
            vectors[p.name] = p.check(axes[p.name])  # passed whole: must be valid everywhere
            continue
        try:
            v = np.asarray(axes[p.name], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{p.name}: expected a number or a 1-D array of numbers") from exc
        if v.ndim == 0:
            fixed[p.name] = float(v)
        elif v.ndim == 1 and v.size:
            along[p.name] = v
        else:
            raise ValueError(f"{p.name}: a sweep axis must be a non-empty 1-D array (got shape {v.shape})")
    zipped: dict[str, tuple[str, ...]] = {}
    for group in zip_axes:
        group = tuple(group)
        if len(group) < 2:
            raise ValueError(f"zip: a group needs at least two axes, got {group}")
        for key in group:
            if key not in along:
                raise ValueError(f"{key}: only a sweep axis (a 1-D array) can be zipped")
            if key in zipped:
                raise ValueError(f"{key}: zipped twice")
            if along[key].size != along[group[0]].size:
                raise ValueError(f"{key}: zipped axes must have equal lengths "
                                 f"({along[key].size} != {along[group[0]].size} for {group[0]})")
            zipped[key] = group
    dims: list[Dim] = []
    seen: set[str] = set()
    for p in result.params:
        if p.name not in along or p.name in seen:
            continue
        group = zipped.get(p.name, (p.name,))
        seen.update(group)
        dims.append(Dim("_".join(group), {k: along[k] for k in group}))
    shape = tuple(d.size for d in dims)
    return Plan(result.name, tuple(dims), fixed, vectors, chunk_shape(shape, chunk_points))


def evaluate_block(result: Result, plan: Plan, block: tuple[slice, ...], device: str = "cpu",
                   out: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Outputs over one chunk (points outside the domain NaN) and the number of such points.

    ``out`` (generated kernels on the CPU only): a C-contiguous float64 buffer of shape
    ``(n_outputs,) + block shape`` that receives the values; the outputs are then its views.
    """
    nd = len(plan.dims)
    shape = tuple(s.stop - s.start for s in block)
    args: dict[str, np.ndarray] = {}
    for k, (dim, sl) in enumerate(zip(plan.dims, block)):
        for key, vals in dim.values.items():
            axis = [1] * nd
            axis[k] = -1
            args[key] = vals[sl].reshape(axis)
    for key, v in plan.fixed.items():
        args[key] = np.asarray(v)
    # the mask is built only where something is invalid: on a clean chunk the sweep costs
    # what the kernel costs
    valid = None
    for p in result.scalar_params:
        ok = p.domain.contains(args[p.name])
        if not ok.all():
            valid = np.broadcast_to(ok, shape).copy() if valid is None else valid & ok
    if result.constraints:
        merged = {**args, **plan.vectors}
        for c in result.constraints:
            with np.errstate(all="ignore"):
                ok = np.asarray(c.test(**{k: merged[k] for k in c.params}), dtype=bool)
            if not ok.all():
                valid = np.broadcast_to(ok, shape).copy() if valid is None else valid & ok
    ninvalid = 0 if valid is None else int(valid.size - np.count_nonzero(valid))
    if result._evaluator is not None:
        outs = _evaluate_custom(result, args, plan.vectors, np.ones(shape, bool) if valid is None else valid, shape)
        nbad = None
    else:
        arrays = [args[p.name] for p in result.scalar_params]
        vectors = [plan.vectors[p.name] for p in result.vector_params]
        if out is None:
            vals, nbad = result.device_kernel(device)(*arrays, vectors=vectors)
        else:
            vals, nbad = result.kernel(*arrays, vectors=vectors, out=out)
        outs = {}
        for name, v in zip(result.output_names, vals):
            if valid is not None:
                v[~valid] = np.nan
            outs[name] = v
    if nbad == 0 and valid is None:
        return outs, 0
    for name, v in outs.items():
        bad = np.isnan(v).reshape(shape + (-1,)).any(axis=-1)
        if valid is not None:
            bad &= valid
        if bad.any():
            where = {k: float(np.broadcast_to(a, shape)[tuple(np.argwhere(bad)[0])]) for k, a in args.items()}
            raise FloatingPointError(f"{result.name}: output {name} is NaN at {int(bad.sum())} valid point(s) of "
                                     f"the sweep, first at {where}; this is a lazyrich bug, please report it")
    return outs, ninvalid


def _evaluate_custom(result, args, vectors, valid, shape) -> dict[str, np.ndarray]:
    if valid.all():
        out = result.evaluate(**args, **vectors)
        got = out if isinstance(out, dict) else {result.output_names[0]: out}
        return {k: np.broadcast_to(np.asarray(v, dtype=np.float64), shape + np.shape(v)[len(shape):]).copy()
                for k, v in got.items()}
    flat = {k: np.broadcast_to(a, shape)[valid] for k, a in args.items()}
    got = result.evaluate(**flat, **vectors) if valid.any() else None
    outs = {}
    for name in result.output_names:
        v = None if got is None else np.asarray(got[name] if isinstance(got, dict) else got, dtype=np.float64)
        extra = () if v is None else v.shape[1:]
        full = np.full(shape + extra, np.nan)
        if v is not None:
            full[valid] = v
        outs[name] = full
    return outs


def attributes(result: Result, plan: Plan) -> dict[str, object]:
    """Dataset attributes: what the values are, where they hold, where they come from."""
    try:
        version = importlib.metadata.version("lazyrich")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        version = "unknown"
    attrs: dict[str, object] = {
        "result": result.name,
        "title": result.title,
        "latex": result.latex(),
        "conditions": "\n".join(result.conditions_all()),
        "source": result.source,
        "citation": result.citation,
        "lazyrich_version": version,
        "chunk_shape": list(plan.chunks),
    }
    for key, v in plan.vectors.items():
        attrs[f"param_{key}"] = [float(x) for x in np.ravel(v)]
    return attrs


def first_chunks(result: Result, p: Plan, device: str = "cpu"):
    """Each output's trailing shape per point, and the chunks evaluated to learn it.

    Generated kernels give one scalar per point (nothing is evaluated). A hand-written
    evaluator's matrix-valued outputs show their shape only on a chunk with a point inside
    the domain: chunks are evaluated in order until one has such a point (an all-invalid
    grid has scalar NaN outputs). Returns ``(trailing, done)`` with ``done`` the list of
    ``(block, outputs, invalid_count)`` already evaluated, for the caller to reuse.
    """
    if result._evaluator is None:
        return {k: () for k in result.output_names}, []
    done = []
    for block in p.blocks():
        outs, nbad = evaluate_block(result, p, block, device)
        done.append((block, outs, nbad))
        if nbad < math.prod(p.block_shape(block)):
            return {k: v.shape[len(p.shape):] for k, v in outs.items()}, done
    return {k: () for k in result.output_names}, done


def fit_block(v: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A chunk's output as ``shape``: an all-invalid chunk of a hand-written evaluator comes back
    as NaN without the trailing (matrix) axes, which are broadcast here."""
    if v.shape == shape:
        return v
    return np.broadcast_to(v.reshape(v.shape + (1,) * (len(shape) - v.ndim)), shape)


def _output_dims(result: Result, plan: Plan, trailing: dict[str, tuple[int, ...]]) -> dict[str, tuple[str, ...]]:
    names = tuple(d.name for d in plan.dims)
    return {name: names + tuple(f"{name}_{k}" for k in range(len(trailing[name]))) for name in result.output_names}


def _coords(plan: Plan) -> dict[str, object]:
    coords: dict[str, object] = {}
    for dim in plan.dims:
        for key, vals in dim.values.items():
            coords[key] = (dim.name, vals)
    for key, v in plan.fixed.items():
        coords[key] = v
    return coords


def _say_invalid(name: str, ninvalid: int, total: int) -> None:
    if ninvalid:
        warnings.warn(f"{name}: {ninvalid} of {total} sweep points lie outside the domain; they are NaN "
                      "(attribute invalid_points)", SweepDomainWarning, stacklevel=3)


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", disable=not enabled, leave=False)


def sweep(name: str, *, zip: Sequence[Sequence[str]] = (), out: str | Path | None = None,
          backend: str = "local", client=None, chunk_points: int = DEFAULT_CHUNK_POINTS,
          max_memory: int = DEFAULT_MAX_MEMORY, progress: bool = True, device: str = "cpu", **axes):
    """Evaluate the result ``name`` over the product of ``axes``; return an ``xarray.Dataset``.

    Each keyword is a parameter: a number (fixed), a 1-D array (an axis), or for a
    vector parameter its whole array. ``zip=[("a", "b")]`` makes the equal-length
    axes ``a`` and ``b`` one dimension ``a_b``. Dimensions follow the result's
    parameter order. ``out`` ends in ``.zarr`` (streamed chunk by chunk) or ``.nc``.
    ``backend="dask"`` runs the chunks as Dask tasks on ``client`` (any
    ``distributed.Client``; the default scheduler when None). ``device="cuda"`` runs the
    chunks' kernels on the GPU (generated kernels only). Points outside the
    domain are NaN, counted in ``attrs["invalid_points"]`` and reported by a
    :class:`SweepDomainWarning`.

    Example::

        ds = derive.sweep("lambda_balanced.mode", lam=np.linspace(-5, 5, 101), s=1.0,
                          a0=0.01, t=np.linspace(0, 10, 201))
        ds["a"].plot(x="t", y="lam")
    """
    result = get(name)
    if backend not in ("local", "dask"):
        raise ValueError(f"backend: must be 'local' or 'dask', got {backend!r}")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device: must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and result._evaluator is not None:
        raise ValueError(f"device: {name} is evaluated by a hand-written evaluator, which runs on the CPU only")
    if chunk_points < 1:
        raise ValueError(f"chunk_points: must be >= 1, got {chunk_points}")
    p = plan(result, axes, zip, chunk_points)
    suffix = None if out is None else Path(out).suffix
    if suffix not in (None, ".zarr", ".nc"):
        raise ValueError(f"out: must end in .zarr or .nc, got {str(out)!r}")
    if backend == "dask":
        from ._sweep_dask import sweep_dask

        return sweep_dask(result, p, out=out, client=client, device=device)
    if suffix == ".zarr":
        from ._sweep_store import stream_zarr

        return stream_zarr(result, p, Path(out), progress=progress, device=device)
    nbytes = 8 * p.points * max(1, len(result.output_names))
    if nbytes > max_memory:
        raise ValueError(f"out: the grid of {p.points} points needs {nbytes / 2**30:.1f} GiB in memory "
                         f"(max_memory = {max_memory / 2**30:.1f} GiB); give out='....zarr' to stream it to disk")
    ds = in_memory(result, p, progress=progress, device=device)
    if suffix == ".nc":
        ds.to_netcdf(out)
    return ds


def in_memory(result: Result, p: Plan, *, progress: bool = False, device: str = "cpu"):
    """Evaluate every chunk into NumPy arrays and wrap them in a Dataset."""
    import xarray as xr

    trailing, done = first_chunks(result, p, device)
    values = {k: np.empty(p.shape + trailing[k], dtype=np.float64) for k in result.output_names}
    ninvalid = 0
    blocks = list(p.blocks())
    with _progress(len(blocks), progress, result.name) as bar:
        for k, block in enumerate(blocks):
            _, outs, nbad = done[k] if k < len(done) else (None, *evaluate_block(result, p, block, device))
            ninvalid += nbad
            for key, v in outs.items():
                target = values[key][block]
                target[...] = fit_block(v, target.shape)
            bar.update()
    dims = _output_dims(result, p, trailing)
    attrs = attributes(result, p) | {"invalid_points": ninvalid}
    ds = xr.Dataset({k: (dims[k], v) for k, v in values.items()}, coords=_coords(p), attrs=attrs)
    _say_invalid(result.name, ninvalid, p.points)
    return ds
