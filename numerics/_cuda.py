"""CUDA kernels from the same generated source as the CPU kernels (Numba's CUDA target).

A generated kernel module holds the scalar kernel as plain Python (``_scalar``),
its helper functions and, for implicit results, the safeguarded Newton solver.
:func:`cuda_kernel` recompiles exactly that source as CUDA *device* functions
(the helpers and the solver too, so nothing differs from the CPU kernel but the
target) and wraps it in a one-thread-per-point grid kernel that broadcasts its
arguments through strides, as the CPU driver does. Results therefore agree with
the CPU kernel to the last few ulps (libdevice's ``exp``/``log`` against the host
libm's), which the tests bound at 1e-12 relative.

CUDA kernels are compiled once per process (Numba's CUDA target does not cache
source built at run time); ``cuda_available()`` says whether a GPU (or Numba's
CUDA simulator, ``NUMBA_ENABLE_CUDASIM=1``) is there, and using ``device="cuda"``
without one raises :class:`NoGPUError`.
"""

from __future__ import annotations

import threading
import types

import numpy as np

from . import _ieee_math
from ._driver import _whole, layout
from ._kernel import Kernel

THREADS_PER_BLOCK = 256

_LOCK = threading.Lock()
_COMPILED: dict[str, "CudaKernel"] = {}


class NoGPUError(RuntimeError):
    """``device="cuda"`` was asked for on a machine without a usable CUDA GPU."""


def cuda_available() -> bool:
    """Whether Numba sees a CUDA GPU (or runs its CUDA simulator)."""
    try:
        from numba import cuda
    except ImportError:  # a Numba built without the CUDA target
        return False
    try:
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001  a broken driver is no GPU
        return False


def _require_gpu():
    if not cuda_available():
        raise NoGPUError("device='cuda': no CUDA GPU is available to Numba (numba.cuda.is_available() is False); "
                         "use device='cpu', or run on a machine with an NVIDIA GPU and its driver")
    from numba import cuda

    return cuda


def _grid_source(nscalars: int, nvectors: int, nout: int) -> str:
    xs = [f"x{k}" for k in range(nscalars)]
    vs = [f"v{k}" for k in range(nvectors)]
    lines = [
        f"def grid({', '.join(xs + ['strides', 'shape', 'out'] + vs)}):",
        "    i = cuda.grid(1)",
        "    if i >= out.shape[1]:",
        "        return",
        "    rem = i",
    ]
    lines += [f"    o{k} = 0" for k in range(nscalars)]
    lines += [
        "    for d in range(shape.shape[0] - 1, -1, -1):",
        "        q = rem % shape[d]",
        "        rem //= shape[d]",
    ]
    lines += [f"        o{k} += q * strides[{k}, d]" for k in range(nscalars)]
    call = ", ".join([f"x{k}[o{k}]" for k in range(nscalars)] + vs)
    lines.append(f"    y = scalar({call})")
    if nout == 1:
        lines.append("    out[0, i] = y")
    else:
        lines += [f"    out[{k}, i] = y[{k}]" for k in range(nout)]
    return "\n".join(lines) + "\n"


class CudaKernel:
    """A generated kernel compiled for the GPU; call it like :class:`~numerics.Kernel`."""

    def __init__(self, kernel: Kernel):
        cuda = _require_gpu()
        module = kernel.module
        ns = dict(vars(module))
        from numba.core import config

        if config.ENABLE_CUDASIM:  # the simulator runs Python: give it IEEE semantics (log(0) = -inf), as on a GPU
            ns["math"] = _ieee_math
        # every compiled function of the module becomes a device function of its Python source,
        # resolving its globals in ns, where the others are device functions too
        for name, obj in vars(module).items():
            if name.startswith("_helper_") or name in ("_safeguarded_newton", "_residual_jit"):
                ns[name] = cuda.jit(device=True)(types.FunctionType(obj.py_func.__code__, ns, name))
        scalar_py = types.FunctionType(module._scalar.__code__, ns, "_scalar")
        if config.ENABLE_CUDASIM:
            def scalar_py(*args, _f=scalar_py):  # simulator threads do not inherit np.errstate
                with np.errstate(all="ignore"):
                    return _f(*args)
        scalar = cuda.jit(device=True)(scalar_py)
        spec = kernel.spec
        gns = {"cuda": cuda, "scalar": scalar}
        exec(_grid_source(len(spec.scalars), len(spec.vectors), len(spec.outputs)), gns)  # noqa: S102
        self._grid = cuda.jit(gns["grid"])
        self._cuda = cuda
        self.nout = len(spec.outputs)

    def __call__(self, *arrays, vectors=()):
        """Evaluate over the broadcast of ``arrays`` on the GPU; returns ``(values, nan_count)``."""
        shape, bases, strides = layout(list(arrays))
        full = shape if shape else (1,)
        npts = int(np.prod(full, dtype=np.int64))
        out = np.empty((self.nout, npts), dtype=np.float64)
        if npts:
            cuda = self._cuda
            d_out = cuda.device_array_like(out)
            args = [cuda.to_device(b) for b in bases]
            args += [cuda.to_device(strides), cuda.to_device(np.asarray(full, dtype=np.int64)), d_out]
            args += [cuda.to_device(_whole(v)) for v in vectors]
            blocks = (npts + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
            self._grid[blocks, THREADS_PER_BLOCK](*args)
            d_out.copy_to_host(out)
        nbad = int(np.isnan(out).any(axis=0).sum())
        return out.reshape((self.nout,) + shape), nbad


def cuda_kernel(kernel: Kernel) -> CudaKernel:
    """The GPU version of a compiled kernel (built once per process); :class:`NoGPUError` without a GPU."""
    digest = kernel.spec.digest()
    with _LOCK:
        if digest not in _COMPILED:
            _COMPILED[digest] = CudaKernel(kernel)
        return _COMPILED[digest]
