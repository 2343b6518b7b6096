"""Parameters, their domains, and cross-parameter constraints.

A :class:`Domain` is an interval of the extended reals (optionally restricted to
integers); :class:`Param` ties a name to a SymPy symbol carrying the matching
assumptions, a LaTeX name and a domain. Checks are vectorised and raise
``ValueError`` naming the parameter, the violated condition and an offending
value, so the public API never turns bad input into a silent NaN.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from numerics._finite import all_finite


@dataclass(frozen=True)
class Domain:
    """``{x : lo (<|<=) x (<|<=) hi}``, finite unless ``allow_inf``; integers if ``integer``."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = True
    hi_open: bool = True
    integer: bool = False
    allow_inf: bool = False

    def assumptions(self) -> dict[str, bool]:
        out: dict[str, bool] = {"real": True}
        if self.integer:
            out["integer"] = True
        if self.lo > 0 or (self.lo == 0 and self.lo_open):
            out["positive"] = True
        elif self.lo >= 0:
            out["nonnegative"] = True
        return out

    def describe(self, name: str = "x") -> str:
        parts = []
        if self.lo > -math.inf:
            parts.append(f"{name} {'>' if self.lo_open else '>='} {_num(self.lo)}")
        if self.hi < math.inf:
            parts.append(f"{name} {'<' if self.hi_open else '<='} {_num(self.hi)}")
        kind = "an integer" if self.integer else ("real (inf allowed)" if self.allow_inf else "finite real")
        return f"{name} is {kind}" + (" with " + " and ".join(parts) if parts else "")

    def _failures(self, x: np.ndarray):
        """(mask of entries breaking a condition, the condition) for each condition, in order."""
        yield np.isnan(x), "must not be NaN"
        if not self.allow_inf:
            yield ~np.isfinite(x), "must be finite"
        if self.lo > -math.inf:
            yield ((x <= self.lo if self.lo_open else x < self.lo),
                   f"must be {'>' if self.lo_open else '>='} {_num(self.lo)}")
        if self.hi < math.inf:
            yield ((x >= self.hi if self.hi_open else x > self.hi),
                   f"must be {'<' if self.hi_open else '<='} {_num(self.hi)}")
        if self.integer:
            yield x != np.round(x), "must be an integer"

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask of the entries of ``x`` inside the domain (NaN is never inside)."""
        x = np.asarray(x, dtype=np.float64)
        ok = np.ones(x.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            for bad, _ in self._failures(x):
                ok &= ~bad
        return ok

    def _holds(self, v: float) -> bool:
        """Whether the single value ``v`` is inside the domain, integrality aside (False for NaN)."""
        if v != v or (not self.allow_inf and not math.isfinite(v)):
            return False
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above and below

    def violations(self, x: np.ndarray) -> tuple[np.ndarray | None, str]:
        """Boolean mask of entries outside the domain, and the first reason found.

        For a non-integer domain the common all-valid case costs two reductions: the
        domain is an interval, so every entry is inside when the minimum and maximum are
        (``min``/``max`` propagate NaN, which no domain contains); on the whole real line
        one compiled pass (:func:`numerics._finite.all_finite`) decides. The mask is then
        ``None``; it is built only when some entry fails.
        """
        if not self.integer and x.size:
            if x.size == 1:  # a scalar: no reductions (each costs a few microseconds of NumPy dispatch)
                if self._holds(float(x.reshape(-1)[0])):
                    return None, ""
            elif self.lo == -math.inf and self.hi == math.inf and not self.allow_inf:
                # the whole real line: valid iff every entry is finite, one compiled pass
                if all_finite(x.reshape(-1)):
                    return None, ""
            elif self._holds(float(_MIN(x, axis=None))) and self._holds(float(_MAX(x, axis=None))):
                return None, ""
        for bad, reason in self._failures(x):  # lazily: the first failing condition stops the scan
            if bad.any():
                return bad, reason
        return None, ""


_MIN, _MAX = np.minimum.reduce, np.maximum.reduce  # the ufunc reductions, without ndarray.min's wrapper


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)


def real(**kw) -> Domain:
    """Any finite real number."""
    return Domain(**kw)


def positive(**kw) -> Domain:
    """``x > 0``."""
    return Domain(lo=0.0, lo_open=True, **kw)


def nonnegative(**kw) -> Domain:
    """``x >= 0``."""
    return Domain(lo=0.0, lo_open=False, **kw)


def interval(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False, **kw) -> Domain:
    """``lo <= x <= hi`` (ends open on request)."""
    return Domain(lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, **kw)


def integer(min: int | None = None, max: int | None = None) -> Domain:
    """Integers, optionally bounded: ``min <= n <= max``."""
    return Domain(lo=-math.inf if min is None else min, hi=math.inf if max is None else max,
                  lo_open=min is None, hi_open=max is None, integer=True)


@dataclass(frozen=True)
class Param:
    """A named parameter: its SymPy symbol (with assumptions), domain, LaTeX name.

    ``vector=True`` marks a 1-D array parameter (one value per mode, say) that is
    passed whole to every grid point; its symbol is a ``sympy.IndexedBase`` and
    ``length`` the integer symbol of its length. ``ndim=2`` (or more) marks a
    matrix (tensor) parameter, also passed whole; it implies ``vector=True`` and is
    used by results with a hand-written ``evaluator`` (matrix dynamics, say).
    """

    name: str
    domain: Domain = field(default_factory=real)
    latex: str | None = None
    description: str = ""
    vector: bool = False
    ndim: int | None = None

    def __post_init__(self):
        if not self.name.isidentifier() or keyword.iskeyword(self.name):
            raise ValueError(f"parameter name {self.name!r} must be a Python identifier and not a keyword "
                             "(use 'lam' for lambda and give latex=r'\\lambda')")
        ndim = self.ndim if self.ndim is not None else (1 if self.vector else 0)
        if ndim < 0 or (ndim == 0 and self.vector):
            raise ValueError(f"parameter {self.name!r}: ndim must be >= 1 for an array parameter, got {ndim}")
        object.__setattr__(self, "ndim", ndim)
        object.__setattr__(self, "vector", ndim >= 1)

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, **self.domain.assumptions())

    @property
    def indexed(self) -> sp.IndexedBase:
        return sp.IndexedBase(self.name, real=True)

    @property
    def length(self) -> sp.Symbol:
        return sp.Symbol(f"n_{self.name}", integer=True, positive=True)

    @property
    def tex(self) -> str:
        return self.latex or sp.latex(sp.Symbol(self.name))

    def check(self, value) -> np.ndarray:
        """Return ``value`` as a float64 array, or raise ``ValueError`` naming this parameter."""
        try:
            x = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{self.name}: expected a real number or array of reals, got {value!r}") from exc
        if self.ndim == 1 and x.ndim != 1:
            raise ValueError(f"{self.name}: must be a 1-D array (one entry per mode), got shape {x.shape}")
        if self.ndim >= 2 and x.ndim != self.ndim:
            raise ValueError(f"{self.name}: must be a {self.ndim}-D array, got shape {x.shape}")
        if self.vector and x.size == 0:
            raise ValueError(f"{self.name}: must not be empty")
        bad, reason = self.domain.violations(x)
        if reason:
            first = float(x[bad].flat[0]) if x.ndim else float(x)
            raise ValueError(f"{self.name}: {reason} (got {first!r}); domain: {self.domain.describe(self.name)}")
        return x


@dataclass(frozen=True)
class Constraint:
    """A condition linking parameters, e.g. ``a0 <= af < s``.

    ``test(**arrays)`` returns a boolean array (True where the condition holds)
    over the broadcast of the named parameters; the error message names
    ``params[0]``.
    """

    params: tuple[str, ...]
    text: str
    test: Callable[..., np.ndarray]

    def check(self, values: dict[str, np.ndarray]) -> None:
        ok = np.asarray(self.test(**{p: values[p] for p in self.params}))
        if not ok.all():
            where = np.argwhere(~ok)[0] if ok.ndim else ()

            def shown(p):
                v = values[p]
                try:
                    return repr(float(np.broadcast_to(v, ok.shape)[tuple(where)]))
                except ValueError:  # a test over whole vectors: show the vector
                    return repr(np.asarray(v).tolist())
            got = ", ".join(f"{p}={shown(p)}" for p in self.params)
            raise ValueError(f"{self.params[0]}: {self.text} (violated at {got})")
