"""The Dask backend of :func:`derive.sweep`: the same chunks, as tasks of a Dask graph.

Each task receives the result's *registry name* and its chunk's parameter values,
looks the result up on the worker (``derive.get``) and evaluates it there: the
kernel is compiled (or loaded from the worker's disk cache) once per worker
process, and nothing lambdified or compiled is ever pickled. The graph runs on any
``distributed.Client`` (a ``LocalCluster`` or a real cluster) or on Dask's default
scheduler; the values are identical to the local backend's, chunk for chunk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._result import Result
from ._sweep import Plan, _coords, _output_dims, _say_invalid, attributes, evaluate_block


def chunk_task(name: str, plan: Plan, block: tuple[slice, ...],
               device: str = "cpu") -> tuple[tuple[np.ndarray, ...], int]:
    """Run on a worker: the outputs over one chunk (in output order) and its count of invalid points."""
    from ._registry import get

    result = get(name)
    outs, ninvalid = evaluate_block(result, plan, block, device)
    return tuple(outs[k] for k in result.output_names), ninvalid


def sweep_dask(result: Result, p: Plan, *, out: str | Path | None, client=None, device: str = "cpu"):
    """Build the sweep as a Dask graph and compute it (with ``client`` when given)."""
    import dask
    import dask.array as da
    import xarray as xr

    blocks = list(p.blocks())
    if result._evaluator is None:  # a generated kernel: one scalar per output and point
        sample = None
        extras = {k: () for k in result.output_names}
    else:  # the first chunk, evaluated here, tells the shapes of matrix-valued outputs
        sample, _ = evaluate_block(result, p, blocks[0])
        extras = {k: v.shape[len(p.shape):] for k, v in sample.items()}
    shared = dask.delayed(p, pure=True)  # one graph node, shipped once to each worker
    tasks = [dask.delayed(chunk_task, pure=True, nout=2)(result.name, shared, b, device) for b in blocks]
    counts = [task[1] for task in tasks]
    grids = {}
    nblocks = tuple(len(c) for c in p.block_chunks())
    for k, key in enumerate(result.output_names):
        pieces = np.empty(nblocks, dtype=object)
        for task, b in zip(tasks, blocks):
            index = tuple(s.start // c for s, c in zip(b, p.chunks))
            shape = tuple(s.stop - s.start for s in b) + extras[key]
            pieces[index] = da.from_delayed(task[0][k], shape=shape, dtype=np.float64)
        grids[key] = da.block(pieces.tolist()) if pieces.ndim else pieces[()]
    dims = _output_dims(result, p, sample)
    ds = xr.Dataset({k: (dims[k], v) for k, v in grids.items()}, coords=_coords(p), attrs=attributes(result, p))
    total = dask.delayed(sum)(counts)

    def run(*collections):
        if client is not None:
            return tuple(client.gather(client.compute(list(collections))))
        return dask.compute(*collections)

    path = None if out is None else Path(out)
    if path is not None and path.suffix == ".zarr":
        # the workers write their chunks into the store themselves: nothing large comes back
        ds.attrs["invalid_points"] = -1
        _, ninvalid = run(ds.to_zarr(path, mode="w", compute=False, consolidated=False), total)
        import zarr

        zarr.open_group(str(path), mode="r+").attrs["invalid_points"] = int(ninvalid)
        _say_invalid(result.name, int(ninvalid), p.points)
        return xr.open_zarr(path, consolidated=False)
    ds, ninvalid = run(ds, total)
    ds.attrs["invalid_points"] = int(ninvalid)
    _say_invalid(result.name, int(ninvalid), p.points)
    if path is not None:
        ds.to_netcdf(path)
    return ds
