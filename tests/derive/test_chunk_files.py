"""Whole-chunk files: what Zarr reads back is what was written, by direct I/O or not."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr
import zarr

import derive
from derive._chunk_files import ALIGN, ChunkFiles, aligned_empty

MODE = "lambda_balanced.mode"


def _array(tmp_path, shape, chunks, **kw):
    group = zarr.open_group(str(tmp_path / "s.zarr"), mode="w")
    return group.create_array("v", shape=shape, chunks=chunks, dtype="float64", fill_value=np.nan,
                              **({"compressors": None} | kw))


def _fill_chunks(files: ChunkFiles, shape, chunks, rng) -> np.ndarray:
    """Write every chunk of a ``shape`` grid with random values; return the grid Zarr should read."""
    want = np.empty(shape)
    for i in range(-(-shape[0] // chunks[0])):
        for j in range(-(-shape[1] // chunks[1])):
            buf = aligned_empty(chunks)
            buf[...] = rng.standard_normal(chunks)
            region = (slice(i * chunks[0], min((i + 1) * chunks[0], shape[0])),
                      slice(j * chunks[1], min((j + 1) * chunks[1], shape[1])))
            want[region] = buf[: region[0].stop - region[0].start, : region[1].stop - region[1].start]
            files.write((i, j), buf)
    return want


def test_aligned_buffers_start_on_a_page():
    for shape in [(1,), (3, 5), (2, 512)]:
        a = aligned_empty(shape)
        assert a.shape == shape and a.dtype == np.float64 and a.ctypes.data % ALIGN == 0
        assert a.flags.c_contiguous and a.flags.writeable


@pytest.mark.parametrize("direct", [True, False])
def test_zarr_reads_back_what_was_written_including_edge_chunks(tmp_path, direct):
    shape, chunks = (70, 1030), (32, 512)  # 32 * 512 * 8 bytes: whole pages; edge chunks on both axes
    arr = _array(tmp_path, shape, chunks)
    files = ChunkFiles.open(arr)
    assert files is not None and files.direct == hasattr(os, "O_DIRECT")
    files.direct = files.direct and direct
    want = _fill_chunks(files, shape, chunks, np.random.default_rng(0))
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "s.zarr" / "v"), mode="r")[...], want)


def test_a_refused_direct_open_falls_back_to_an_ordinary_write(tmp_path, monkeypatch):
    if not hasattr(os, "O_DIRECT"):
        pytest.skip("no O_DIRECT on this platform")
    shape, chunks = (16, 512), (8, 512)
    files = ChunkFiles.open(_array(tmp_path, shape, chunks))
    real_open = os.open

    def refuse_direct(path, flags, *args):
        if flags & os.O_DIRECT:
            raise OSError(22, "Invalid argument")  # what tmpfs says
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse_direct)
    want = _fill_chunks(files, shape, chunks, np.random.default_rng(1))
    assert files.direct is False
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "s.zarr" / "v"), mode="r")[...], want)


def test_only_plain_uncompressed_float64_arrays_are_written_directly(tmp_path):
    assert ChunkFiles.open(_array(tmp_path, (8, 8), (4, 4))) is not None
    assert ChunkFiles.open(_array(tmp_path, (8, 8), (4, 4), compressors=zarr.codecs.ZstdCodec())) is None
    group = zarr.open_group(str(tmp_path / "i.zarr"), mode="w")
    assert ChunkFiles.open(group.create_array("i", shape=(4,), chunks=(2,), dtype="int64", compressors=None)) is None
    memory = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    assert ChunkFiles.open(memory.create_array("m", shape=(4,), chunks=(2,), dtype="float64",
                                               compressors=None)) is None


def test_a_chunk_of_the_wrong_shape_is_refused(tmp_path):
    files = ChunkFiles.open(_array(tmp_path, (8, 8), (4, 4)))
    with pytest.raises(ValueError, match="chunk: must be C-contiguous float64 of shape"):
        files.write((0, 0), np.zeros((4, 3)))


@pytest.mark.parametrize("threads", ["1", "2"])  # written inline, or by the background writer
def test_a_streamed_sweep_writes_its_chunk_files_directly_and_equals_evaluate(tmp_path, monkeypatch, threads):
    monkeypatch.setenv("LAZYRICH_THREADS", threads)
    written = []
    real_write = ChunkFiles.write
    monkeypatch.setattr(ChunkFiles, "write", lambda self, c, chunk: (written.append(c), real_write(self, c, chunk)))
    lam, a0, t = np.linspace(-5.0, 5.0, 9), np.array([-0.5, 0.01, 0.5]), np.linspace(0.0, 10.0, 1000)
    # 512 points per chunk: (1, 1, 512), so t has a whole and an edge chunk, and each a lam/a0 row
    ds = derive.sweep(MODE, lam=lam, s=1.5, a0=a0, t=t, out=tmp_path / "g.zarr", chunk_points=512, progress=False)
    assert tuple(ds.attrs["chunk_shape"]) == (1, 1, 512) and len(written) == 9 * 3 * 2
    want = derive.get(MODE).evaluate(lam=lam[:, None, None], s=1.5, a0=a0[:, None], t=t)
    with xr.open_zarr(tmp_path / "g.zarr", consolidated=False) as reopened:
        np.testing.assert_array_equal(reopened["a"].values, want)


def test_a_short_direct_write_is_finished_by_an_ordinary_one(tmp_path, monkeypatch):
    if not hasattr(os, "O_DIRECT"):
        pytest.skip("no O_DIRECT on this platform")
    shape, chunks = (16, 512), (8, 512)
    files = ChunkFiles.open(_array(tmp_path, shape, chunks))
    real_write = os.write
    calls = []

    def one_page_then_nothing(fd, data):  # a direct write that stops after one page
        calls.append(len(data))
        return real_write(fd, data[:ALIGN]) if len(calls) % 2 == 1 else 0

    monkeypatch.setattr(os, "write", one_page_then_nothing)
    want = _fill_chunks(files, shape, chunks, np.random.default_rng(2))
    assert files.direct and len(calls) == 4  # two chunks, each: one page direct, then the rest ordinarily
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "s.zarr" / "v"), mode="r")[...], want)
