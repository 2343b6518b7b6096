"""lazyrich derive: the symbolic layer.

Named closed-form results (``get``, ``names``, ``register``), their parameters and
domains, LaTeX and citations. One solvable model per private module; importing
``derive`` registers them all.
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
from . import _lambda_balanced, _saxe  # noqa: F401,E402  (register lambda_balanced.*, saxe.*)
from . import (  # noqa: F401,E402  (register their results)
    _deep_linear,
    _deterministic_equivalent,
    _diagonal,
    _hermite,
    _lambda_balanced_matrix,
    _lazy,
    _learning_curve,
    _linear_teacher,
    _relu,
    _single_index,
    _single_neuron,
    _transfer,
)

__all__ = [
    "Constraint", "Domain", "Output", "Param", "Result", "bibtex", "get", "integer", "interval",
    "names", "nonnegative", "positive", "real", "register",
]
