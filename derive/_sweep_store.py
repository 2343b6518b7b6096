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
from ._sweep import Plan, _coords, _output_dims, _progress, _say_invalid, attributes, evaluate_block


def stream_zarr(result: Result, p: Plan, path: Path, *, progress: bool = False, device: str = "cpu"):
    """Evaluate the sweep into the Zarr store ``path`` (overwritten); return it opened lazily."""
    import xarray as xr
    import zarr

    blocks = list(p.blocks())
    first, nbad0 = evaluate_block(result, p, blocks[0], device)
    dims = _output_dims(result, p, {k: v for k, v in first.items()})
    coords = _coords(p)
    template = xr.Dataset(coords=coords, attrs=attributes(result, p) | {"invalid_points": -1})
    template.to_zarr(path, mode="w", consolidated=False)
    group = zarr.open_group(str(path), mode="r+")
    arrays = {}
    for key, v in first.items():
        extra = v.shape[len(p.shape):]
        arr = group.create_array(key, shape=p.shape + extra, chunks=tuple(p.chunks) + extra, dtype="float64",
                                 compressors=None, fill_value=np.nan,
                                 dimension_names=list(dims[key]) if len(dims[key]) else None)
        arr.attrs["_ARRAY_DIMENSIONS"] = list(dims[key])
        arrays[key] = arr

    pending: queue.Queue = queue.Queue(maxsize=2)  # bounded: at most two chunks waiting to be written
    errors: list[BaseException] = []

    def writer():
        while True:
            item = pending.get()
            if item is None:
                return
            block, outs = item
            try:
                for key, v in outs.items():
                    arrays[key][block] = v
            except BaseException as exc:  # noqa: BLE001  re-raised in the caller
                errors.append(exc)

    thread = threading.Thread(target=writer, name="lazyrich-zarr-writer", daemon=True)
    thread.start()
    ninvalid = nbad0
    try:
        with _progress(len(blocks), progress, result.name) as bar:
            pending.put((blocks[0], first))
            bar.update()
            for block in blocks[1:]:
                if errors:
                    break
                outs, nbad = evaluate_block(result, p, block, device)
                ninvalid += nbad
                pending.put((block, outs))
                bar.update()
    finally:
        pending.put(None)
        thread.join()
    if errors:
        raise errors[0]
    group.attrs["invalid_points"] = ninvalid
    _say_invalid(result.name, ninvalid, p.points)
    return xr.open_zarr(path, consolidated=False)
