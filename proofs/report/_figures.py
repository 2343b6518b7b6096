"""Figure rendering: matplotlib (Agg backend) to PNG bytes with a fixed style."""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after selecting the backend)

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "svg.hashsalt": "lazyrich",
}


def render(draw: Callable[[plt.Axes], None], *, size: tuple[float, float] = (6.4, 4.0)) -> bytes:
    """Call ``draw(ax)`` on a fresh figure and return it as PNG bytes (the figure is closed)."""
    with matplotlib.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        try:
            draw(ax)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", metadata={"Software": None})
        finally:
            plt.close(fig)
    return buf.getvalue()


def colors(n: int, cmap: str = "viridis") -> list:
    """``n`` colours spread over ``cmap`` (its yellow end left out for legibility)."""
    cm = matplotlib.colormaps[cmap]
    return [cm(0.9 * k / max(n - 1, 1)) for k in range(n)]
