"""A kernel module backed by :mod:`numerics._llvm_kernel`: the choice, the cache, the module object.

Every plain scalar kernel (no helper functions, vector arguments or implicit equation:
:func:`wants_llvm`) whose generated source translates takes the LLVM route; the rest is
compiled by Numba. The environment variable ``LAZYRICH_LLVM_KERNELS=0`` turns the route
off (everything through Numba, e.g. to compare). :func:`llvm_module` reads the generated
source and returns a module object with what the rest of lazyrich uses: ``_scalar`` (the
Python source function), ``grid`` (the driver entry point of :func:`numerics._driver.run`,
running the compiled grid function) and ``point`` (the compiled point function on Python
scalars); or ``None`` when the source does not translate, and the caller imports the module
with Numba. Why the route pays: a kernel compiles in a fraction of Numba's time, the values
are the same bit for bit, it runs as fast (its driver is the same loop nest with the point
function inlined, hoisting included), and a process that only loads such kernels never
initialises Numba (about 0.5 s of a cold start here).
"""

from __future__ import annotations

import ast
import ctypes
import math
import os
import threading
import types
from pathlib import Path

import numpy as np

from ._codegen import KernelSpec
from ._llvm_kernel import (
    Unsupported,
    compile_object,
    functions,
    load_object,
    object_path,
    translate,
)

#: environment variable: "0" turns the LLVM route off (every kernel through Numba); "1" or unset: on
ENV_VAR = "LAZYRICH_LLVM_KERNELS"


def _setting() -> str:
    v = os.environ.get(ENV_VAR, "").strip()
    if v not in ("", "0", "1"):
        raise ValueError(f"{ENV_VAR}: must be 0 or 1 (or unset), got {v!r}")
    return v


def wants_llvm(spec: KernelSpec) -> bool:
    """Whether ``spec`` is a plain scalar kernel the LLVM route may compile."""
    return (_setting() != "0" and not spec.helpers and not spec.vectors and spec.implicit is None)


class _Concatenated:
    """The scalar arguments' data in one array (what the shared driver takes), kept for the last
    argument tuple: the grid driver is called once per task with the same arrays."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._value = None

    def __call__(self, bases):
        key = tuple((b.ctypes.data, b.size) for b in bases)
        with self._lock:
            if key != self._key:
                sizes = np.array([b.size for b in bases], dtype=np.int64)
                base = np.zeros(len(bases), dtype=np.int64)
                base[1:] = np.cumsum(sizes)[:-1]
                data = np.concatenate(bases) if bases else np.zeros(0)
                self._key, self._value = key, (data, base, bases)  # bases kept alive: the key stays valid
            return self._value[:2]


def llvm_module(path: Path, spec: KernelSpec, digest: str, write_once) -> types.ModuleType | None:
    """The LLVM-backed module for the kernel source at ``path`` (``digest``: the spec's, which
    the caller has computed), or ``None`` (use Numba)."""
    defs = functions(path.read_text())
    fn = defs.get("_scalar")
    if fn is None:
        return None
    nx, nout = len(spec.scalars), len(spec.outputs)
    symbol = f"lazyrich_{digest}"
    obj_file = object_path(path)
    if obj_file.exists():
        obj = obj_file.read_bytes()
    else:
        # the driver hoists when the module has a prefix/suffix split (see grid_source)
        hoist = (defs["_prefix"], defs["_suffix"]) if "_prefix" in defs and "_suffix" in defs else None
        try:
            ir_text = translate(fn, nout, symbol, hoist)
        except Unsupported:
            return None
        obj = compile_object(ir_text)
        write_once(obj_file, obj)
    addr, grid_addr = load_object(obj, symbol)

    module = types.ModuleType(f"lazyrich_llvm_kernels.{path.stem}")
    module.__file__ = str(path)
    module.math = math
    module.np = np
    exec(compile(ast.Module(body=[fn], type_ignores=[]), str(path), "exec"), vars(module))  # noqa: S102 - our own generated source
    concatenated = _Concatenated()
    p = ctypes.c_void_p
    i64 = ctypes.c_int64
    grid_c = ctypes.CFUNCTYPE(i64, p, p, p, p, i64, i64, i64, i64, i64, p)(grid_addr)

    def grid(*args):
        """The generated driver's entry point (:func:`numerics._driver.run`); the GIL is released."""
        bases = args[:nx]
        strides, shape, nchunk, task0, task1, out = args[nx:]
        data, base = concatenated(bases)
        return grid_c(data.ctypes.data, base.ctypes.data, strides.ctypes.data, shape.ctypes.data, int(shape.size),
                      int(out.shape[1]), int(nchunk), int(task0), int(task1), out.ctypes.data)

    cfunc = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double))(addr)

    def point(*xs):
        """The compiled point function on Python scalars (through ctypes)."""
        if len(xs) != nx:
            raise TypeError(f"kernel takes {nx} arguments, got {len(xs)}")
        a = (ctypes.c_double * max(nx, 1))(*map(float, xs))
        o = (ctypes.c_double * nout)()
        cfunc(a, o)
        return o[0] if nout == 1 else tuple(o)

    module.grid = grid
    module.point = point
    module.address = addr
    module.backend = "llvm"
    return module


__all__ = ["ENV_VAR", "llvm_module", "wants_llvm"]
