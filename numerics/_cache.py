"""Where generated kernels live.

Generated kernel modules are real ``.py`` files (Numba can only cache functions
defined in real files) in a per-user cache directory, so that the installed
package may be read-only and a second process reuses the compiled machine code.

Resolution order:

1. ``$LAZYRICH_CACHE_DIR`` if set;
2. ``$XDG_CACHE_HOME/lazyrich`` if ``XDG_CACHE_HOME`` is set;
3. ``~/.cache/lazyrich``.

Numba's own cache files (``.nbi``/``.nbc``) go to ``__pycache__`` beside each
generated file, which is inside the same directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "LAZYRICH_CACHE_DIR"


def cache_dir() -> Path:
    """The directory holding generated kernel modules (created on demand)."""
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "lazyrich"
    path = root / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # pragma: no cover - depends on the file system
        raise OSError(
            f"lazyrich cannot create its kernel cache at {path}: {exc}. "
            f"Set {ENV_VAR} to a writable directory."
        ) from exc
    return path
