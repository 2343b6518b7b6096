"""lazyrich proofs: claims about the registered results and the machinery that checks them.

``python -m proofs [PATTERN] [--json]`` (also ``lazyrich verify``) checks every
claim and prints a table; it exits non-zero if any claim fails.
"""

from ._claim import (
    METHODS as METHODS,
    Claim as Claim,
    Evidence as Evidence,
    Outcome as Outcome,
    check as check,
    claim as claim,
    claims as claims,
)
from ._runner import main as main, run as run, table as table, to_json as to_json
from . import _lambda_balanced  # noqa: F401,E402  (registers the claims)
from . import (  # noqa: F401,E402  (register their claims)
    _adaptive_kernel,
    _deep_linear,
    _diagonal,
    _diagonal_generalization,
    _hermite,
    _lambda_balanced_matrix,
    _lazy,
    _learning_curve,
    _linear_teacher,
    _mean_field,
    _relu,
    _silent_alignment,
    _single_index,
    _single_neuron,
    _transfer,
)

__all__ = ["METHODS", "Claim", "Evidence", "Outcome", "check", "claim", "claims", "main", "run", "table",
           "to_json"]
