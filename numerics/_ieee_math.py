"""A stand-in for the ``math`` module with IEEE semantics, for running kernel source in Python.

Numba compiles kernels with ``error_model='numpy'``: ``log(0) = -inf``, ``1/0 = inf``,
``sqrt(-1) = nan``, and unused Piecewise branches may hit those harmlessly. Python's
``math`` raises instead. Executing the generated source with this module and NumPy
float64 arguments gives the interpreter the compiled semantics, so the two can be
compared value for value.
"""

import math

import numpy as np

pi = np.float64(np.pi)
e = np.float64(np.e)
inf = np.float64(np.inf)
nan = np.float64(np.nan)
sqrt, exp, expm1, log, log1p = np.sqrt, np.exp, np.expm1, np.log, np.log1p
sin, cos, tan, atan, atan2, asin, acos = np.sin, np.cos, np.tan, np.arctan, np.arctan2, np.arcsin, np.arccos
sinh, cosh, tanh, asinh, acosh, atanh = np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh
hypot, copysign, fabs, floor, ceil, log10, log2 = np.hypot, np.copysign, np.fabs, np.floor, np.ceil, np.log10, np.log2


def _scalar(fn):
    """A ``math`` function on a float64 scalar, with IEEE results (inf/nan) instead of exceptions."""

    def wrapped(x):
        try:
            return np.float64(fn(float(x)))
        except (ValueError, OverflowError):
            return np.float64(np.nan) if x != x or fn is not math.gamma else np.float64(np.inf)

    wrapped.__name__ = fn.__name__
    return wrapped


erf, erfc, gamma, lgamma = (_scalar(f) for f in (math.erf, math.erfc, math.gamma, math.lgamma))
