"""Streaming a sweep to Zarr, chunk by chunk, with memory bounded by one chunk.

The store is laid out first (coordinates, attributes, one Zarr chunk per sweep
chunk, uncompressed: the values of smooth closed forms barely compress and the
codec would cost as much as the kernel), then each chunk is evaluated and written
into its region by a background writer thread, so that evaluation and I/O overlap.
The count of points outside the domain is written into the attributes at the end.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np

from ._result import Result
from ._sweep import (
    Plan,
    _coords,
    _output_dims,
    _progress,
    _say_invalid,
    attributes,
    evaluate_block,
    first_chunks,
    fit_block,
)


def layout_zarr(result: Result, p: Plan, path: Path, extras: dict[str, tuple[int, ...]],
                dims: dict[str, tuple[str, ...]]) -> dict:
    """Create the store at ``path`` (overwritten): coordinates, attributes, and one empty
    uncompressed array per output, chunked like the sweep (``extras``: each output's trailing
    shape per point). Returns the Zarr arrays by output name."""
    import xarray as xr
    import zarr

    template = xr.Dataset(coords=_coords(p), attrs=attributes(result, p) | {"invalid_points": -1})
    template.to_zarr(path, mode="w", consolidated=False)
    group = zarr.open_group(str(path), mode="r+")
    arrays = {}
    for key in result.output_names:
        extra = tuple(extras[key])
        arr = group.create_array(key, shape=p.shape + extra, chunks=tuple(p.chunks) + extra, dtype="float64",
                                 compressors=None, fill_value=np.nan,
                                 dimension_names=list(dims[key]) if len(dims[key]) else None)
        arr.attrs["_ARRAY_DIMENSIONS"] = list(dims[key])
        arrays[key] = arr
    return arrays


def finish_zarr(result: Result, p: Plan, path: Path, ninvalid: int):
    """Record the count of points outside the domain, say it, and open the store lazily."""
    import xarray as xr
    import zarr

    zarr.open_group(str(path), mode="r+").attrs["invalid_points"] = int(ninvalid)
    _say_invalid(result.name, int(ninvalid), p.points)
    return xr.open_zarr(path, consolidated=False)


def write_blocks(result: Result, p: Plan, arrays: dict, blocks, *, done=(), device: str = "cpu",
                 bar=None) -> int:
    """Evaluate ``blocks`` of the sweep and write each into its region of ``arrays`` (Zarr
    arrays laid out by :func:`layout_zarr`); return the count of points outside the domain.

    With more than one thread allowed (``numerics._driver.threads()``, i.e.
    ``$LAZYRICH_THREADS``), a background thread writes chunk k while chunk k + 1 is evaluated
    (the kernel releases the GIL), with at most two chunks waiting: memory stays bounded by a
    few chunks. With one thread (``LAZYRICH_THREADS=1``, as in single-threaded Dask workers)
    each chunk is written where it is evaluated, and nothing else runs.
    ``done`` holds ``(block, outputs, invalid)`` already evaluated for the first blocks.
    """
    from numerics._driver import threads

    trailing = {k: a.shape[len(p.shape):] for k, a in arrays.items()}
    if threads() == 1:
        ninvalid = 0
        for k, block in enumerate(blocks):
            _, outs, nbad = done[k] if k < len(done) else (None, *evaluate_block(result, p, block, device))
            ninvalid += nbad
            for key, v in outs.items():
                arrays[key][block] = fit_block(v, p.block_shape(block) + trailing[key])
            if bar is not None:
                bar.update()
        return ninvalid
    pending: queue.Queue = queue.Queue(maxsize=2)
    errors: list[BaseException] = []

    def writer():
        while True:
            item = pending.get()
            if item is None:
                return
            block, outs = item
            try:
                for key, v in outs.items():
                    arrays[key][block] = fit_block(v, p.block_shape(block) + trailing[key])
            except BaseException as exc:  # noqa: BLE001  re-raised in the caller
                errors.append(exc)

    thread = threading.Thread(target=writer, name="lazyrich-zarr-writer", daemon=True)
    thread.start()
    ninvalid = 0
    try:
        for k, block in enumerate(blocks):
            if errors:
                break
            _, outs, nbad = done[k] if k < len(done) else (None, *evaluate_block(result, p, block, device))
            ninvalid += nbad
            pending.put((block, outs))
            if bar is not None:
                bar.update()
    finally:
        pending.put(None)
        thread.join()
    if errors:
        raise errors[0]
    return ninvalid


def stream_zarr(result: Result, p: Plan, path: Path, *, progress: bool = False, device: str = "cpu"):
    """Evaluate the sweep into the Zarr store ``path`` (overwritten); return it opened lazily."""
    blocks = list(p.blocks())
    trailing, done = first_chunks(result, p, device)
    arrays = layout_zarr(result, p, path, trailing, _output_dims(result, p, trailing))
    with _progress(len(blocks), progress, result.name) as bar:
        ninvalid = write_blocks(result, p, arrays, blocks, done=done, device=device, bar=bar)
    return finish_zarr(result, p, path, ninvalid)
