"""Compiled kernels: write the generated module once, import it, keep it.

``compile_kernel(spec)`` returns a :class:`Kernel`: the scalar Numba function
(``kernel.scalar``), the pure-Python function it was compiled from
(``kernel.python``), the source path, and ``kernel(*arrays, vectors=...)`` which
runs the grid driver over the broadcast of the arrays, on all threads.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from . import _driver, _ieee_math
from ._cache import cache_dir
from ._codegen import KernelSpec, generate_source, scalar_signature
from ._llvm_module import llvm_module, wants_llvm

_LOCK = threading.Lock()
_LOADED: dict[str, "Kernel"] = {}


@dataclass(frozen=True)
class Kernel:
    spec: KernelSpec
    path: Path
    module: ModuleType

    @property
    def scalar(self):
        """The njit-compiled scalar kernel (callable from other Numba code). For a kernel on the
        LLVM route (:mod:`numerics._llvm_module`) Numba compiles it from the same source on first
        use; its own compiled point function is ``module.point``."""
        kern = getattr(self.module, "kernel", None)
        if kern is None:
            import numba

            sig = scalar_signature(self.spec)
            kern = self.module.kernel = numba.njit(sig, error_model="numpy")(self.module._scalar)
        return kern

    @property
    def python(self):
        """The same kernel source run by the interpreter, with IEEE float semantics.

        Globals are rebound so that ``math`` is :mod:`numerics._ieee_math` and the
        helper functions are their pure-Python originals; arguments become NumPy
        float64 scalars, so division by zero gives inf as in the compiled kernel.
        """
        ns = dict(vars(self.module))
        ns["math"] = _ieee_math
        for name, obj in vars(self.module).items():
            if name.startswith("_helper_"):
                ns[name] = types.FunctionType(obj.py_func.__code__, ns, name)
        fn = types.FunctionType(self.module._scalar.__code__, ns, "_scalar")

        def run(*args):
            with np.errstate(all="ignore"):
                return fn(*(a if isinstance(a, np.ndarray) else np.float64(a) for a in args))

        return run

    @property
    def nout(self) -> int:
        return len(self.spec.outputs)

    def __call__(self, *arrays, vectors=(), out=None):
        """Evaluate over the broadcast of ``arrays``; returns ``(values, nan_count)``
        (``out``: an optional buffer for the values, see :func:`numerics._driver.run`)."""
        return _driver.run(self.module, list(arrays), list(vectors), self.nout, out=out)


def _write_once(path: Path, text: str | bytes) -> None:
    # An existing file is never rewritten: Numba keys its cache on the file's
    # modification time, and another process may be importing it right now.
    if path.exists():
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shared cache must be readable by others
    os.replace(tmp, path)


def _package(directory: Path) -> None:
    """A namespace package ``lazyrich_kernels`` over the cache directories in use, so that
    Numba (which records each function's module by name) can re-import a kernel module."""
    pkg = sys.modules.get("lazyrich_kernels")
    if pkg is None:
        pkg = types.ModuleType("lazyrich_kernels")
        pkg.__path__ = []
        sys.modules["lazyrich_kernels"] = pkg
    if str(directory) not in pkg.__path__:
        pkg.__path__.append(str(directory))


def _import(path: Path) -> ModuleType:
    _package(path.parent)
    name = f"lazyrich_kernels.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def kernel_path(spec: KernelSpec) -> Path:
    """Where the module for ``spec`` lives (whether or not it exists yet)."""
    return cache_dir() / f"{spec.module_stem()}.py"


def compile_kernel(spec: KernelSpec) -> Kernel:
    """Generate (if needed), import and compile (or load from Numba's cache) the kernel for ``spec``.

    A plain scalar kernel (:mod:`numerics._llvm_module`) is compiled from the same source
    straight to machine code, with its grid driver, by :mod:`numerics._llvm_kernel` (the
    same values bit for bit; a fraction of the compile time); anything that backend does
    not translate is compiled by Numba.
    """
    digest = spec.digest()
    with _LOCK:
        if digest in _LOADED:
            return _LOADED[digest]
        path = cache_dir() / f"{spec.module_stem(digest)}.py"
        if not path.exists():
            _write_once(path, generate_source(spec))
        module = None
        if wants_llvm(spec):
            module = llvm_module(path, spec, digest, _write_once)
        kern = Kernel(spec, path, module if module is not None else _import(path))
        _LOADED[digest] = kern
        return kern
