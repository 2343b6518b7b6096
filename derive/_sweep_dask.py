"""The Dask backend of :func:`derive.sweep`: the same chunks, as tasks of a Dask graph.

Each task receives the result's *registry name* and its chunk's parameter values,
looks the result up on the worker (``derive.get``) and evaluates it there: the
kernel is compiled (or loaded from the worker's disk cache) once per worker
process, and nothing lambdified or compiled is ever pickled. The graph runs on any
``distributed.Client`` (a ``LocalCluster`` or a real cluster) or on Dask's default
scheduler; the values are identical to the local backend's, chunk for chunk.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._result import Result
from ._sweep import (
    Plan,
    _coords,
    _output_dims,
    _say_invalid,
    attributes,
    evaluate_block,
    first_chunks,
    fit_block,
)


def chunk_task(name: str, plan: Plan, block: tuple[slice, ...], trailing: dict[str, tuple[int, ...]],
               device: str = "cpu") -> tuple[tuple[np.ndarray, ...], int]:
    """Run on a worker: the outputs over one chunk (in output order, each of shape chunk +
    ``trailing[output]``) and its count of invalid points."""
    from ._registry import get

    result = get(name)
    outs, ninvalid = evaluate_block(result, plan, block, device)
    return tuple(fit_block(outs[k], plan.block_shape(block) + trailing[k]) for k in result.output_names), ninvalid


def chunks_to_zarr(name: str, plan: Plan, blocks: list[tuple[slice, ...]], path: str, device: str = "cpu") -> int:
    """Run on a worker: evaluate a run of chunks and write each into its region of the store at
    ``path`` (laid out beforehand; see :func:`write_blocks` for when writes overlap evaluation);
    return their count of invalid points. Nothing large leaves the worker."""
    import zarr

    from ._registry import get
    from ._sweep_store import write_blocks

    result = get(name)
    group = zarr.open_group(path, mode="r+")
    arrays = {k: group[k] for k in result.output_names}
    return write_blocks(result, plan, arrays, blocks, device=device)


def sweep_dask(result: Result, p: Plan, *, out: str | Path | None, client=None, device: str = "cpu"):
    """Build the sweep as a Dask graph and compute it (with ``client`` when given)."""
    import dask
    import dask.array as da
    import xarray as xr

    blocks = list(p.blocks())
    trailing, done = first_chunks(result, p, device)
    dims = _output_dims(result, p, trailing)
    path = None if out is None else Path(out)

    def run(*collections):
        if client is not None:
            return tuple(client.gather(client.compute(list(collections))))
        return dask.compute(*collections)

    shared = dask.delayed(p, pure=True)  # one graph node, shipped once to each worker
    if path is not None and path.suffix == ".zarr":
        # each task evaluates a run of chunks and writes their regions: no intermediate graph
        # layers, and nothing but a count comes back
        from ._sweep_store import finish_zarr, layout_zarr, write_blocks

        arrays = layout_zarr(result, p, path, trailing, dims)
        # chunks already evaluated here to learn the output shapes are written here, not again
        ninvalid_here = write_blocks(result, p, arrays, [b for b, _, _ in done], done=done)
        blocks = blocks[len(done):]
        store = str(path.resolve())
        # a few runs of consecutive chunks per worker: each run overlaps its writes with its
        # evaluation, and there are still enough runs to balance the load
        nworkers = len(client.scheduler_info()["workers"]) if client is not None else (os.cpu_count() or 1)
        per_task = max(1, len(blocks) // (4 * max(1, nworkers)))
        runs = [blocks[i:i + per_task] for i in range(0, len(blocks), per_task)]
        counts = [dask.delayed(chunks_to_zarr, pure=False)(result.name, shared, r, store, device) for r in runs]
        (ninvalid,) = run(dask.delayed(sum)(counts))
        return finish_zarr(result, p, path, ninvalid_here + ninvalid)
    tasks = [dask.delayed(chunk_task, pure=True, nout=2)(result.name, shared, b, trailing, device) for b in blocks]
    counts = [task[1] for task in tasks]
    grids = {}
    nblocks = tuple(len(c) for c in p.block_chunks())
    for k, key in enumerate(result.output_names):
        # da.block nests from the last axis: one singleton level per trailing (matrix) axis
        pieces = np.empty(nblocks + (1,) * len(trailing[key]), dtype=object)
        for task, b in zip(tasks, blocks):
            index = tuple(s.start // c for s, c in zip(b, p.chunks)) + (0,) * len(trailing[key])
            shape = p.block_shape(b) + trailing[key]
            pieces[index] = da.from_delayed(task[0][k], shape=shape, dtype=np.float64)
        grids[key] = da.block(pieces.tolist()) if pieces.ndim else pieces[()]
    ds = xr.Dataset({k: (dims[k], v) for k, v in grids.items()}, coords=_coords(p), attrs=attributes(result, p))
    total = dask.delayed(sum)(counts)
    ds, ninvalid = run(ds, total)
    ds.attrs["invalid_points"] = int(ninvalid)
    _say_invalid(result.name, int(ninvalid), p.points)
    if path is not None:
        ds.to_netcdf(path)
    return ds
