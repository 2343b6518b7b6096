"""Claims about results and the record of how each was checked.

A :class:`Claim` is a statement (an identity, an ODE residual, a limit, a
conservation law, agreement with simulation) with a ``check`` function that
measures something and compares it with a bound derived from the method. The
``method`` says which kind of evidence it is:

* ``symbolic``: SymPy reduces a difference to zero (or a limit matches);
* ``high-precision``: mpmath at 30 to 50 digits at sampled points;
* ``interval``: mpmath interval arithmetic over a box;
* ``simulation``: the trained network agrees with the closed form (gradient flow
  to tight tolerance, gradient descent with its O(eta) error, or Monte Carlo
  within z standard errors).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass, field

METHODS = ("symbolic", "high-precision", "interval", "simulation")


@dataclass(frozen=True)
class Evidence:
    """What a check measured: ``passed`` iff ``measured <= bound`` (or the symbolic test held)."""

    passed: bool
    measured: float | None = None
    bound: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    method: str
    results: tuple[str, ...]
    check: Callable[[], Evidence] = field(repr=False)

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method: must be one of {METHODS}, got {self.method!r}")


@dataclass(frozen=True)
class Outcome:
    claim: Claim
    evidence: Evidence
    seconds: float
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.evidence.passed and not self.error

    def as_dict(self) -> dict:
        e = self.evidence
        return {"name": self.claim.name, "statement": self.claim.statement, "method": self.claim.method,
                "results": list(self.claim.results), "passed": self.passed, "measured": e.measured,
                "bound": e.bound, "detail": e.detail, "error": self.error, "seconds": round(self.seconds, 3)}


_CLAIMS: dict[str, Claim] = {}


def bounded(measured: float, bound: float, detail: str = "") -> Evidence:
    """Evidence that ``measured <= bound`` (both stored as floats)."""
    return Evidence(bool(measured <= bound), float(measured), float(bound), detail)


def claim(name: str, statement: str, *, method: str, results: tuple[str, ...] | list[str]):
    """Decorator registering ``fn() -> Evidence`` as the check of a claim."""

    def deco(fn: Callable[[], Evidence]) -> Callable[[], Evidence]:
        if name in _CLAIMS:
            raise ValueError(f"a claim named {name!r} is already registered")
        _CLAIMS[name] = Claim(name, statement, method, tuple(results), fn)
        return fn

    return deco


def claims(pattern: str | None = None) -> list[Claim]:
    """Registered claims in registration order; ``pattern`` is a glob on the claim name or a result name."""
    out = list(_CLAIMS.values())
    if pattern:
        out = [c for c in out if fnmatch.fnmatchcase(c.name, pattern)
               or any(fnmatch.fnmatchcase(r, pattern) for r in c.results)
               or pattern in c.name]
    return out


def check(c: Claim) -> Outcome:
    """Run one claim's check; an exception is a failure with its message recorded."""
    t0 = time.perf_counter()
    try:
        ev = c.check()
        err = ""
    except Exception as exc:  # a check that crashes has failed, and says why
        ev, err = Evidence(False), f"{type(exc).__name__}: {exc}"
    return Outcome(c, ev, time.perf_counter() - t0, err)
