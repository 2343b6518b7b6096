"""Public names imported on first use (PEP 562), so that importing a package stays cheap."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, namespace: dict, table: dict[str, tuple[str, str]]):
    """``(__getattr__, __dir__)`` for ``package``: ``table`` maps a public name to (relative module, attribute)."""

    def __getattr__(name):
        if name in table:
            module, attr = table[name]
            value = getattr(importlib.import_module(module, package), attr)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
