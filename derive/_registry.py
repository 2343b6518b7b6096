"""The registry of named results: ``register``, ``get``, ``names``."""

from __future__ import annotations

import difflib
import fnmatch

from ._result import Result

_RESULTS: dict[str, Result] = {}


def register(result: Result, *, replace: bool = False) -> Result:
    """Add ``result`` under ``result.name``; refuse to overwrite unless ``replace``."""
    if result.name in _RESULTS and not replace:
        raise ValueError(f"a result named {result.name!r} is already registered (pass replace=True)")
    _RESULTS[result.name] = result
    return result


def get(name: str) -> Result:
    """The result registered as ``name`` (e.g. ``"lambda_balanced.mode"``)."""
    try:
        return _RESULTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_RESULTS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"no result named {name!r}{hint}") from None


def names(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered results, optionally filtered by a glob ``pattern``."""
    out = sorted(_RESULTS)
    return [n for n in out if fnmatch.fnmatchcase(n, pattern)] if pattern else out
