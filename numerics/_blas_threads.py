"""Pin the OpenBLAS libraries loaded in this process to one thread (a context manager).

Per-time loops and ODE right-hand sides multiply small matrices; multi-threaded
BLAS on them was 14x slower on the shared 2-core machine (DESIGN.md). This does
what ``threadpoolctl.threadpool_limits(1, "blas")`` does for OpenBLAS, without
the dependency: it finds every loaded OpenBLAS (NumPy's, SciPy's, the one Numba's
``np.dot`` calls through SciPy) in ``/proc/self/maps`` and calls its
``*set_num_threads`` entry point, restoring the previous counts on exit. Where
none can be found (another BLAS, another OS) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools

_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "scipy_openblas_set_num_threads64_")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "scipy_openblas_get_num_threads64_")


@functools.cache
def _libraries() -> tuple[tuple[object, object], ...]:
    import numpy  # noqa: F401  (load NumPy's and SciPy's BLAS before looking for them)
    import scipy.linalg  # noqa: F401

    paths = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                path = line.split()[-1] if line.strip() else ""
                if "openblas" in path.lower() and ".so" in path:
                    paths.add(path)
    except OSError:
        return ()
    found = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            found.append((setter, getter))
    return tuple(found)


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with every loaded OpenBLAS limited to one thread."""
    libs = _libraries()
    before = [int(get()) for _, get in libs]
    for set_, _ in libs:
        set_(1)
    try:
        yield
    finally:
        for (set_, _), n in zip(libs, before):
            set_(n)
