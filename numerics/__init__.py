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

# model solvers, initialisations and helpers: imported on first use (PEP 562), so that importing the package stays cheap
_LAZY = {
    'IllConditionedStart': ('._qqt', 'IllConditionedStart'),
    'KernelDynamics': ('._lazy', 'KernelDynamics'),
    'TwoStageTask': ('._two_stage_dmft', 'TwoStageTask'),
    'bregman_projection': ('._bregman', 'bregman_projection'),
    'check_whitened': ('._qqt', 'check_whitened'),
    'deep_gain_root': ('._adaptive_kernel', 'deep_gain_root'),
    'evaluate_blocks': ('._qqt', 'evaluate_blocks'),
    'evaluate_qqt': ('._qqt', 'evaluate_qqt'),
    'factorise': ('._qqt', 'factorise'),
    'full_drift': ('._mean_field', 'full_drift'),
    'full_particle_flow': ('._mean_field', 'full_particle_flow'),
    'gaussian_lambda': ('._init_lambda_balanced', 'gaussian_lambda'),
    'hypercube': ('._mean_field', 'hypercube'),
    'kappa_learning_curve': ('._fixed_point', 'learning_curve'),
    'lambda_balanced_init': ('._init_lambda_balanced', 'lambda_balanced_init'),
    'layerwise_lambda': ('._init_lambda_balanced', 'layerwise_lambda'),
    'linear_mean_field': ('._two_stage_dmft', 'linear_mean_field'),
    'make_two_stage_task': ('._two_stage_dmft', 'make_task'),
    'mean_field_gauss_hermite': ('._mean_field', 'gauss_hermite'),
    'midpoint_particles': ('._mean_field', 'midpoint_particles'),
    'one_blas_thread': ('._blas_threads', 'one_blas_thread'),
    'rank_one_root': ('._adaptive_kernel', 'rank_one_root'),
    'reduced_drift': ('._mean_field', 'reduced_drift'),
    'reduced_risk': ('._mean_field', 'reduced_risk'),
    'relu_flow': ('._ode', 'relu_flow'),
    'rotated_aligned_init': ('._init_lambda_balanced', 'rotated_aligned_init'),
    'solve_kappa_sweep': ('._fixed_point', 'solve_kappa_sweep'),
    'solve_staircase': ('._mean_field', 'solve_staircase'),
    'staircase_mean_field': ('._mean_field', 'staircase_mean_field'),
    'task_aligned_init': ('._init_lambda_balanced', 'task_aligned_init'),
    'two_stage_dmft': ('._two_stage_dmft', 'two_stage_dmft'),
    'unbalanced_control': ('._init_lambda_balanced', 'unbalanced_control'),
    'whiten': ('._qqt', 'whiten'),
}


from ._lazy_exports import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ += sorted(_LAZY)
