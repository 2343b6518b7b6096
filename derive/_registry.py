"""The registry of named results: ``register``, ``get``, ``names``.

The toolkit's own results live in model modules that are imported on first use:
``get("diagonal.potential")`` imports the modules declared for the prefix
``diagonal`` (building their SymPy expressions), and ``names()`` imports them all.
So ``import derive`` stays cheap however many models there are, and a process that
evaluates one result pays only for that result's model.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import threading

from ._result import Result

_RESULTS: dict[str, Result] = {}
_MODULES: dict[str, tuple[str, ...]] = {}  # name prefix -> model modules that register it
_LOADED: set[str] = set()
_LOCK = threading.RLock()


def declare(prefix: str, *modules: str) -> None:
    """Declare that the modules (absolute names) register the results named ``prefix.*``."""
    _MODULES[prefix] = _MODULES.get(prefix, ()) + tuple(m for m in modules if m not in _MODULES.get(prefix, ()))


def _load(modules) -> None:
    with _LOCK:
        for m in modules:
            if m not in _LOADED:
                importlib.import_module(m)
                _LOADED.add(m)


def load_all() -> None:
    """Import every declared model module (registering all the toolkit's results)."""
    _load([m for mods in _MODULES.values() for m in mods])


def register(result: Result, *, replace: bool = False) -> Result:
    """Add ``result`` under ``result.name``; refuse to overwrite unless ``replace``."""
    if result.name in _RESULTS and not replace:
        raise ValueError(f"a result named {result.name!r} is already registered (pass replace=True)")
    _RESULTS[result.name] = result
    return result


def get(name: str) -> Result:
    """The result registered as ``name`` (e.g. ``"lambda_balanced.mode"``)."""
    for module in _MODULES.get(name.partition(".")[0], ()):
        if name in _RESULTS:
            break
        _load([module])  # in declared order: the first model of a prefix is often enough
    if name not in _RESULTS:
        load_all()  # a model module may register under another prefix too
    try:
        return _RESULTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_RESULTS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"no result named {name!r}{hint}") from None


def names(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered results, optionally filtered by a glob ``pattern``."""
    load_all()
    out = sorted(_RESULTS)
    return [n for n in out if fnmatch.fnmatchcase(n, pattern)] if pattern else out
