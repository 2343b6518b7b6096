#!/usr/bin/env python
r"""Benchmark: the two-stage mean-field solver's Euler step (``numerics._two_stage_dmft.euler_steps``, Numba)
against a plain NumPy implementation of the same update, in site-steps per second.

Run from the repository root::

    python benchmarks/bench_dmft.py [--sites 16000] [--steps 20] [--repeats 7]

Workload: ReLU, D = 32, P = 16 training points, M = 96 points in all (the report's task), S sites.
NumPy baseline: the same Euler step written with array operations (one BLAS thread, like the solver):
f = z @ phi(H) / (S gamma); Delta = (y - f_train)/P; H += gamma dt (z phi'(H_train) Delta) @ K_train;
z += gamma dt phi(H_train) @ Delta. Both start from identical states; the final states must agree to 1e-10.
Timings are medians over ``--repeats`` of interleaved A-B runs after a warm-up (compilation excluded);
the ratio is the median of per-repeat ratios. Target: Numba >= 5x NumPy. Prints PASS/FAIL.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numerics._two_stage_dmft import euler_steps, initial_draws, make_task  # noqa: E402
from numerics.simulate._kernel_regression import one_blas_thread  # noqa: E402

TARGET = 5.0


def numpy_steps(h, z, KT, train, y_train, gamma, dt, n_steps):
    S = h.shape[0]
    P = train.size
    for _ in range(n_steps):
        f = z @ np.maximum(h, 0.0) / (S * gamma)
        delta = (y_train - f[train]) / P
        Htr = h[:, train]
        a = gamma * dt * (z[:, None] * (Htr > 0)) * delta[None, :]
        dz = gamma * dt * (np.maximum(Htr, 0.0) @ delta)
        h += a @ KT
        z += dz
    return h, z


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=16000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    task = make_task(32, 16, 16, 32, 0.8, seed=11)
    train = task.source_train
    KT = np.ascontiguousarray(task.X[train] @ task.X.T / task.D)
    y = np.ascontiguousarray(task.y[train])
    xi, z0, _ = initial_draws(task.D, args.sites, seed=0)
    h0 = np.ascontiguousarray(xi @ task.X.T / np.sqrt(task.D))
    gamma, dt = 2.0, 0.2
    f_out = np.empty((args.steps, task.X.shape[0]))

    def run_numba():
        h, z = h0.copy(), z0.copy()
        t = time.perf_counter()
        euler_steps(h, z, KT, train, y, gamma, dt, args.steps, True, f_out)
        return time.perf_counter() - t, h, z

    def run_numpy():
        h, z = h0.copy(), z0.copy()
        t = time.perf_counter()
        numpy_steps(h, z, KT, train, y, gamma, dt, args.steps)
        return time.perf_counter() - t, h, z

    with one_blas_thread():
        _, hb, zb = run_numba()  # warm-up (compile or load from cache)
        _, hn, zn = run_numpy()
        err = max(np.max(np.abs(hb - hn)), np.max(np.abs(zb - zn)))
        tb, tn, ratios = [], [], []
        for r in range(args.repeats):
            pair = (run_numba, run_numpy) if r % 2 == 0 else (run_numpy, run_numba)
            times = {fn.__name__: fn()[0] for fn in pair}
            tb.append(times["run_numba"])
            tn.append(times["run_numpy"])
            ratios.append(times["run_numpy"] / times["run_numba"])
    work = args.sites * args.steps
    ratio = statistics.median(ratios)
    print(f"two-stage DMFT Euler step: S = {args.sites}, {args.steps} steps, M = {task.X.shape[0]}, P = {train.size}")
    print(f"  numba : {work / statistics.median(tb):.3e} site-steps/s (median of {args.repeats})")
    print(f"  numpy : {work / statistics.median(tn):.3e} site-steps/s (median of {args.repeats})")
    print(f"  max |numba - numpy| after {args.steps} steps: {err:.1e}")
    ok = ratio >= TARGET and err < 1e-10
    print(f"  ratio numba/numpy: {ratio:.2f}x (target >= {TARGET:g}x)  {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
