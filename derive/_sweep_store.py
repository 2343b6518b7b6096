"""Streaming a sweep to Zarr, chunk by chunk, with memory bounded by one chunk.

The store is laid out first (coordinates, attributes, one Zarr chunk per sweep
chunk, uncompressed: the values of smooth closed forms barely compress and the
codec would cost as much as the kernel), then each chunk is evaluated and written
into its region by a background writer thread, so that evaluation and I/O overlap.
Where the store's layout allows it, a chunk is evaluated straight into a page-aligned
buffer and written to its chunk file directly (:mod:`._chunk_files`), which costs a
small fraction of the CPU of a write through the page cache.
The count of points outside the domain is written into the attributes at the end.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np

from ._chunk_files import ChunkFiles, aligned_empty
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


class _Sink:
    """Where evaluated chunks go: whole-chunk files written directly (:mod:`._chunk_files`) when
    every output is a plain uncompressed float64 array of a generated kernel on the CPU, else
    Zarr's array API. ``buffer()`` gives the (page-aligned) buffer a chunk is evaluated into, or
    ``None``; ``put(block, outs, buf)`` writes one chunk's outputs."""

    def __init__(self, result: Result, p: Plan, arrays: dict, device: str):
        self.p = p
        self.arrays = arrays
        self.trailing = {k: a.shape[len(p.shape):] for k, a in arrays.items()}
        files = {k: ChunkFiles.open(a) for k, a in arrays.items()}
        direct = (result._evaluator is None and device == "cpu" and all(f is not None for f in files.values())
                  and all(t == () for t in self.trailing.values()))
        self.files = files if direct else None
        self.keys = list(result.output_names)

    def buffer(self) -> np.ndarray | None:
        return None if self.files is None else aligned_empty((len(self.keys),) + tuple(self.p.chunks))

    def put(self, block: tuple[slice, ...], outs: dict, buf: np.ndarray | None) -> None:
        if buf is None:
            for key, v in outs.items():
                self.arrays[key][block] = fit_block(v, self.p.block_shape(block) + self.trailing[key])
            return
        coords = tuple(b.start // c for b, c in zip(block, self.p.chunks))
        for k, key in enumerate(self.keys):
            chunk = buf[k]
            v = outs[key]
            if not np.shares_memory(v, chunk):  # an edge chunk, or one evaluated before: pad with the fill value
                chunk.fill(np.nan)
                chunk[tuple(slice(0, b.stop - b.start) for b in block)] = v
            self.files[key].write(coords, chunk)


def _evaluate_into(result: Result, p: Plan, block, device: str, buf: np.ndarray | None):
    """Evaluate one chunk, into ``buf`` when the chunk is whole (edge chunks are copied later)."""
    whole = buf is not None and p.block_shape(block) == tuple(p.chunks)
    return evaluate_block(result, p, block, device, out=buf if whole else None)


def write_blocks(result: Result, p: Plan, arrays: dict, blocks, *, done=(), device: str = "cpu",
                 bar=None) -> int:
    """Evaluate ``blocks`` of the sweep and write each into its region of ``arrays`` (Zarr
    arrays laid out by :func:`layout_zarr`); return the count of points outside the domain.

    With more than one thread allowed (``numerics._driver.threads()``, i.e.
    ``$LAZYRICH_THREADS``), background threads (two for direct chunk files, else one) write
    chunks while the next is evaluated (the kernel releases the GIL), with at most one chunk
    waiting: memory stays bounded by a few chunks. With one thread (``LAZYRICH_THREADS=1``, as
    in single-threaded Dask workers) each chunk is written where it is evaluated, and nothing
    else runs.
    ``done`` holds ``(block, outputs, invalid)`` already evaluated for the first blocks.
    """
    from numerics._driver import threads

    sink = _Sink(result, p, arrays, device)
    if threads() == 1:
        buf = sink.buffer()
        ninvalid = 0
        for k, block in enumerate(blocks):
            outs, nbad = done[k][1:] if k < len(done) else _evaluate_into(result, p, block, device, buf)
            ninvalid += nbad
            sink.put(block, outs, buf)
            if bar is not None:
                bar.update()
        return ninvalid
    # buffers cycle between the evaluating thread and the writers: one being filled, one
    # queued, one being written by each writer. Two writers keep two direct writes in flight:
    # one at a time left the disk idle between chunk files (310 MB/s where it sustains 430)
    nwriters = 2 if sink.files is not None else 1
    free: queue.Queue = queue.Queue()
    for _ in range(nwriters + 2):
        free.put(sink.buffer())
    pending: queue.Queue = queue.Queue()
    errors: list[BaseException] = []

    def writer():
        while True:
            item = pending.get()
            if item is None:
                return
            block, outs, buf = item
            try:
                if not errors:
                    sink.put(block, outs, buf)
            except BaseException as exc:  # noqa: BLE001  re-raised in the caller
                errors.append(exc)
            free.put(buf)

    writers = [threading.Thread(target=writer, name=f"lazyrich-zarr-writer-{k}", daemon=True)
               for k in range(nwriters)]
    for thread in writers:
        thread.start()
    ninvalid = 0
    try:
        for k, block in enumerate(blocks):
            buf = free.get()
            if errors:
                break
            outs, nbad = done[k][1:] if k < len(done) else _evaluate_into(result, p, block, device, buf)
            ninvalid += nbad
            pending.put((block, outs, buf))
            if bar is not None:
                bar.update()
    finally:
        for _ in writers:
            pending.put(None)
        for thread in writers:
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
