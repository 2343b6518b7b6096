"""Fixed-step classical Runge-Kutta for a two-layer state ``(a, W)``, recorded at given times."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rk4_two_layer(rhs: Callable, a: np.ndarray, W: np.ndarray, times: np.ndarray, dt: float,
                  record: Callable[[int, np.ndarray, np.ndarray], None]) -> tuple[np.ndarray, np.ndarray]:
    """Integrate ``(da/dt, dW/dt) = rhs(a, W)`` from ``times[0]`` through the increasing ``times``.

    Between consecutive record times the interval is cut into ``ceil(gap/dt)`` equal RK4 steps
    (so every record time is hit exactly and no step exceeds ``dt``: global error O(dt^4));
    ``record(j, a, W)`` is called at ``times[j]``. Returns the final ``(a, W)``.
    """
    t = float(times[0])
    record(0, a, W)
    for j in range(1, times.size):
        n = max(1, int(np.ceil((times[j] - t) / dt)))
        h = (times[j] - t) / n
        for _ in range(n):
            k1a, k1W = rhs(a, W)
            k2a, k2W = rhs(a + h / 2 * k1a, W + h / 2 * k1W)
            k3a, k3W = rhs(a + h / 2 * k2a, W + h / 2 * k2W)
            k4a, k4W = rhs(a + h * k3a, W + h * k3W)
            a = a + h / 6 * (k1a + 2 * k2a + 2 * k3a + k4a)
            W = W + h / 6 * (k1W + 2 * k2W + 2 * k3W + k4W)
        t = float(times[j])
        record(j, a, W)
    return a, W
