"""lazyrich derive: the symbolic layer.

Named closed-form results (``get``, ``names``, ``register``), their parameters and
domains, LaTeX and citations. One solvable model per private module, imported (and
its results registered) on first use: ``get(name)`` loads the model it needs,
``names()`` loads them all.
"""

from ._citations import bibtex as bibtex
from ._domain import (
    Constraint as Constraint,
    Domain as Domain,
    Param as Param,
    integer as integer,
    interval as interval,
    nonnegative as nonnegative,
    positive as positive,
    real as real,
)
from ._registry import get as get, names as names, register as register
from ._result import Output as Output, Result as Result
from ._sweep import SweepDomainWarning as SweepDomainWarning, sweep as sweep
from ._registry import declare as _declare

# the model modules, imported on first use of a result they register (see _registry)
for _prefix, _modules in {
    "lambda_balanced": ("_lambda_balanced", "_lambda_balanced_matrix"),
    "saxe": ("_saxe",),
    "linear_teacher": ("_linear_teacher", "_deterministic_equivalent"),
    "deep_linear": ("_deep_linear",),
    "learning_curve": ("_learning_curve",),
    "transfer": ("_transfer",),
    "diagonal": ("_diagonal", "_diagonal_generalization"),
    "single_neuron": ("_single_neuron",),
    "lazy": ("_lazy",),
    "hermite": ("_hermite",),
    "single_index": ("_single_index",),
    "relu": ("_relu",),
    "silent_alignment": ("_silent_alignment",),
    "adaptive_kernel": ("_adaptive_kernel",),
    "mean_field": ("_mean_field",),
}.items():
    _declare(_prefix, *(f"{__name__}.{m}" for m in _modules))
del _prefix, _modules

__all__ = [
    "Constraint", "Domain", "Output", "Param", "Result", "bibtex", "get", "integer", "interval",
    "names", "nonnegative", "positive", "real", "register", "sweep", "SweepDomainWarning",
]
