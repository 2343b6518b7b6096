"""The grid driver and the implicit-equation solver emitted into every kernel module.

Both are fixed, hand-written templates: generated code stays dumb (one scalar
kernel per result), the loops that make it fast stay readable here.

The grid driver evaluates the scalar kernel at every point of the NumPy
broadcast of its scalar arguments *without materialising the broadcast*: each
argument is passed as its own compact data plus integer strides (0 along the
axes it is broadcast over). The outer axes are flattened; the last axis is the
inner loop, cut into chunks when there are few outer rows. The work is a range
of tasks (a row, or a chunk of one), and the driver is a serial ``nogil``
function over a task range: :func:`run` hands contiguous task ranges to a pool
of threads (``NUMBA_NUM_THREADS`` of them), which run truly in parallel because
the driver releases the GIL. This is as fast as a ``prange`` driver on large
grids, faster on small ones (no thread launch below :data:`SERIAL_BELOW` points),
and it compiles about four times faster: Numba's parfor passes cost seconds per
kernel. The driver counts the NaN outputs in the same pass so that the caller can
refuse to return them.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

DRIVER_VERSION = "7"
CHUNK = 4096
#: grids smaller than this run on the calling thread
SERIAL_BELOW = 32768
#: tasks handed to each thread (several, so that uneven rows still balance)
SPLIT_PER_THREAD = 4

NEWTON_TEMPLATE = '''\
@numba.njit(cache=True, error_model='numpy')
def _safeguarded_newton(lo, hi, x, {args}):
    # Root of the residual on [lo, hi], where it changes sign (Numerical Recipes' rtsafe):
    # a Newton step is taken only if it stays inside the current bracket and at least
    # halves the step before last; otherwise the bracket is bisected. The iterate never
    # leaves the bracket, and convergence is at worst that of bisection.
    glo, _ = {residual}(lo, {args})
    if glo == 0.0:
        return lo
    ghi, _ = {residual}(hi, {args})
    if ghi == 0.0:
        return hi
    if not ((glo < 0.0 and ghi > 0.0) or (glo > 0.0 and ghi < 0.0)):
        return math.nan
    orient = 1.0 if glo < 0.0 else -1.0
    if not (lo < x < hi):
        x = 0.5 * (lo + hi)
    dx_old = hi - lo
    dx = dx_old
    for _ in range(2200):
        g, dg = {residual}(x, {args})
        g *= orient
        dg *= orient
        if g == 0.0:
            return x
        if g < 0.0:
            lo = x
        else:
            hi = x
        xn = x - g / dg
        if not (lo < xn < hi) or abs(2.0 * g) > abs(dx_old * dg):
            xn = 0.5 * (lo + hi)
            if xn == lo or xn == hi:
                return xn
        dx_old = dx
        dx = xn - x
        if abs(dx) <= 2.2e-16 * abs(xn):
            return xn
        x = xn
    return x
'''


def grid_source(nscalars: int, nvectors: int, nout: int, hoist: bool = False) -> str:
    """Source of ``grid(x0.., strides, shape, nchunk, task0, task1, out, v0..) -> int``.

    Evaluates tasks ``task0 <= task < task1`` (task = row * nchunk + chunk) and returns the
    number of points where some output is NaN. With ``hoist`` (the module defines
    ``kernel_prefix`` and ``kernel_suffix``), a row along which only the last scalar
    parameter varies computes the prefix once and the suffix per point.
    """
    xs = [f"x{k}" for k in range(nscalars)]
    vs = [f"v{k}" for k in range(nvectors)]
    params = ", ".join(xs + ["strides", "shape", "nchunk", "task0", "task1", "out"] + vs)
    sig = ", ".join(["float64[::1]"] * nscalars + ["int64[:, ::1]", "int64[::1]", "int64", "int64", "int64",
                                                    "float64[:, :, ::1]"] + ["float64[::1]"] * nvectors)
    lines = [
        f"@numba.njit('int64({sig})', cache=True, nogil=True, error_model='numpy')",
        f"def grid({params}):",
        "    nd = shape.shape[0]",
        "    inner = shape[nd - 1]",
        "    nbad = 0",
        "    div = np.ones(nd, dtype=np.int64)",  # div[d] = prod(shape[d+1:nd-1])
        "    for d in range(nd - 3, -1, -1):",
        "        div[d] = div[d + 1] * shape[d + 1]",
        "    csize = (inner + nchunk - 1) // nchunk",
        "    for task in range(task0, task1):",
        "        r = task // nchunk",
        "        j0 = (task - r * nchunk) * csize",
        "        j1 = min(j0 + csize, inner)",
    ]
    lines += [f"        o{k} = 0" for k in range(nscalars)]
    lines += [
        "        for d in range(nd - 1):",
        "            q = (r // div[d]) % shape[d]",
    ]
    lines += [f"            o{k} += q * strides[{k}, d]" for k in range(nscalars)]
    lines += [f"        s{k} = strides[{k}, nd - 1]" for k in range(nscalars)]
    call_args = ", ".join([f"x{k}[o{k} + j * s{k}]" for k in range(nscalars)] + vs)
    lines += [f"        row{k} = out[{k}, r]" for k in range(nout)]

    def point_loop(indent: str, call: str) -> list[str]:
        body = [f"{indent}for j in range(j0, j1):", f"{indent}    y = {call}"]
        if nout == 1:
            return body + [f"{indent}    row0[j] = y", f"{indent}    if y != y:", f"{indent}        nbad += 1"]
        body += [f"{indent}    row{k}[j] = y[{k}]" for k in range(nout)]
        cond = " or ".join(f"y[{k}] != y[{k}]" for k in range(nout))
        return body + [f"{indent}    if {cond}:", f"{indent}        nbad += 1"]

    if hoist:
        last = nscalars - 1
        fixed = " and ".join(f"s{k} == 0" for k in range(last))
        prefix_args = ", ".join([f"x{k}[o{k}]" for k in range(last)] + vs)
        lines += [f"        if j1 > j0 and {fixed}:",
                  f"            h = kernel_prefix({prefix_args})"]
        lines += point_loop("            ", f"kernel_suffix(h, {call_args})")
        lines += ["        else:"]
        lines += point_loop("            ", f"kernel({call_args})")
    else:
        lines += point_loop("        ", f"kernel({call_args})")
    lines += ["    return nbad"]
    return "\n".join(lines) + "\n"


#: environment variable limiting the grid driver's threads (e.g. 1 in single-threaded Dask workers)
THREADS_ENV_VAR = "LAZYRICH_THREADS"


def threads() -> int:
    """Threads used by the grid driver: ``$LAZYRICH_THREADS`` if set, else ``NUMBA_NUM_THREADS``
    (all cores unless the user limits it)."""
    env = os.environ.get(THREADS_ENV_VAR, "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"{THREADS_ENV_VAR}: must be a positive integer, got {env!r}")
        return int(env)
    return max(1, _numba_threads())


def _numba_threads() -> int:
    """Numba's thread count, without importing Numba when nothing else has (a process whose
    kernels are all on the LLVM route never needs it): its setting, else its default, the CPUs
    this process may run on."""
    numba = sys.modules.get("numba")
    if numba is not None:
        return int(numba.config.NUMBA_NUM_THREADS)
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers != threads():
            _POOL = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="lazyrich-grid")
        return _POOL


def compact(a: np.ndarray) -> np.ndarray:
    """The array's own data: axes with stride 0 (broadcast views) cut to length 1."""
    a = np.asarray(a, dtype=np.float64)
    if a.size and a.ndim and 0 in a.strides:
        a = a[tuple(slice(0, 1) if st == 0 else slice(None) for st in a.strides)]
    # the compiled signatures take writable C-contiguous arrays (np.ascontiguousarray would make 0-d 1-d)
    return a if a.flags.c_contiguous and a.flags.writeable else a.copy(order="C")


def _whole(v: np.ndarray) -> np.ndarray:
    """A vector argument as a writable C-contiguous float64 array with all its entries (never compacted)."""
    v = np.asarray(v, dtype=np.float64)
    return v if v.flags.c_contiguous and v.flags.writeable else np.array(v, order="C")


def layout(arrays: list[np.ndarray]) -> tuple[tuple[int, ...], list[np.ndarray], np.ndarray]:
    """Broadcast shape, flat data and element strides for the grid driver.

    Returns ``(shape, bases, strides)``; ``shape`` is the broadcast shape (``()``
    for all-scalar input), ``bases[k]`` a flat view of argument ``k``'s compact
    data and ``strides[k, d]`` its element stride along output axis ``d``.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    # the shape comes from the arguments as given: compaction must not shrink an axis
    # that only a broadcast view supplies
    shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
    arrays = [compact(a) for a in arrays]
    nd = max(len(shape), 1)
    strides = np.zeros((len(arrays), nd), dtype=np.int64)
    bases = []
    for k, a in enumerate(arrays):
        full = a.reshape((1,) * (nd - a.ndim) + a.shape)
        for d in range(nd):
            if full.shape[d] != 1:
                strides[k, d] = full.strides[d] // full.itemsize
        bases.append(a.reshape(-1))
    return shape, bases, strides


def run(module, arrays: list[np.ndarray], vectors: list[np.ndarray], nout: int,
        out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Evaluate a kernel module over the broadcast of ``arrays``.

    Returns ``(values, nbad)``: ``values`` has shape ``(nout,) + shape`` and
    ``nbad`` counts the points where some output is NaN. ``out``, if given, is a
    C-contiguous float64 array of ``nout`` times the broadcast size that receives the
    values (``values`` is then a view of it): a streamed sweep evaluates straight into
    the buffer it writes to disk.
    """
    shape, bases, strides = layout(arrays)
    full = shape if shape else (1,)
    inner = full[-1]
    nouter = int(np.prod(full[:-1], dtype=np.int64))
    if out is None:
        out = np.empty((nout, nouter, inner), dtype=np.float64)
    else:
        if out.dtype != np.float64 or not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out: must be a writable C-contiguous float64 array")
        if out.size != nout * nouter * inner:
            raise ValueError(f"out: must hold {nout} x {nouter * inner} values, has {out.size}")
        out = out.reshape((nout, nouter, inner))
    if not out.size:
        return out.reshape((nout,) + shape), 0
    # few outer rows (a 1-D grid has one): cut the last axis into chunks so that the work spreads
    nchunk = 1 if nouter >= 64 else max(1, -(-inner // CHUNK))
    ntask = nouter * nchunk
    head = (*bases, strides, np.asarray(full, dtype=np.int64), nchunk)
    vecs = [_whole(v) for v in vectors]
    npts = nouter * inner
    nworkers = threads()
    if npts < SERIAL_BELOW or nworkers == 1 or ntask == 1:
        return out.reshape((nout,) + shape), int(module.grid(*head, 0, ntask, out, *vecs))
    nsplit = min(ntask, nworkers * SPLIT_PER_THREAD)
    edges = [ntask * k // nsplit for k in range(nsplit + 1)]
    futures = [_pool().submit(module.grid, *head, a, b, out, *vecs) for a, b in zip(edges, edges[1:]) if b > a]
    nbad = sum(int(f.result()) for f in futures)
    return out.reshape((nout,) + shape), nbad
