"""lazyrich numerics: SymPy -> Numba code generation, its cache, grid drivers, simulators.

This layer imports neither ``derive`` nor ``proofs``.
"""

from ._cache import ENV_VAR as CACHE_ENV_VAR, cache_dir as cache_dir
from ._codegen import (
    CODEGEN_VERSION as CODEGEN_VERSION,
    Implicit as Implicit,
    KernelSpec as KernelSpec,
    generate_source as generate_source,
)
from ._cuda import NoGPUError as NoGPUError, cuda_available as cuda_available, cuda_kernel as cuda_kernel
from ._kernel import Kernel as Kernel, compile_kernel as compile_kernel, kernel_path as kernel_path

__all__ = [
    "CACHE_ENV_VAR", "CODEGEN_VERSION", "Implicit", "Kernel", "KernelSpec", "NoGPUError",
    "cache_dir", "compile_kernel", "cuda_available", "cuda_kernel", "generate_source", "kernel_path",
]
