#!/usr/bin/env python
r"""Benchmark: online-SGD steps per second, Numba simulator against a NumPy loop of the same update.

Run from the repository root::

    python benchmarks/bench_online_sgd.py              # d = 512, 7 repeats

Update (both sides): ReLU student and teacher, loss (sigma(w.x) - y)^2 without 1/2 (the thesis),
free (unconstrained) update ``w <- w - eta dl/dz x``, a fresh ``x ~ N(0, I_d)`` per step.

* NumPy loop: ``numerics.simulate._online_sgd.online_sgd_numpy`` (``default_rng`` normals, one
  Python iteration per step) - the baseline the issue names;
* Numba ``method="full"``: the d-dimensional simulation, one run (one thread) and ``2 * cores`` runs
  (runs in parallel, steps summed over runs). Each step draws its ``d`` normals from ``ceil(d/4)``
  xoshiro256+ lanes by a branch-free Box-Muller (``numerics.simulate._rng_fast``: the loop over lanes
  vectorises), then one reassociated (vectorised) projection and one axpy;
* Numba ``method="reduced"``: the same Markov chain exactly in law in O(1) per step (tested against
  the full chain in tests/numerics/test_online_sgd.py).

Throughput: steps per second; ratios are medians over repeats of per-repeat ratios of calls
interleaved in the same repeat (a shared machine moves both sides together).

Figures (AMD EPYC, 2 vCPUs, AVX2, 2026-11-23, three runs of 5-7 repeats; 1-min load average 0.4,
3.4 and 3.6 from other processes): full chain 1 run / NumPy 11.6x, 14.3x, 12.4x; 4 runs in parallel /
NumPy 16.4x, 19.1x, 16.5x; reduced chain 186x, 189x, 161x. In CPU time (``process_time``, less
sensitive to the load) one full step costs 1.3-1.9 us against 16-27 us for the NumPy loop, of which
about 1.2 us is drawing the 512 normals (2.3 ns each; see ``numerics.simulate._rng_fast`` for the
generators measured against it). Generating each block of steps' inputs on both cores for a single
run (a ``prange`` over lane ranges every 64 steps) was 10-50x *slower* under load: the OpenMP workers
spin at every launch while the other core is taken, so the runs stay the unit of parallelism.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from numerics.simulate._online_sgd import online_sgd, online_sgd_numpy


def _rate(fn, steps):
    t0 = time.perf_counter()
    fn()
    return steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    d, eta = args.d, 1e-4
    cores = os.cpu_count() or 1
    runs_par = 2 * cores
    n_np, n_full, n_red = 2_000, 40_000, 400_000
    kw = dict(d=d, eta=eta, student="relu", loss="mse", update="free", seed=0)
    # warm-up: compile or load every Numba specialisation
    online_sgd(steps=10, runs=1, every=10, method="full", **kw)
    online_sgd(steps=10, runs=1, every=10, method="reduced", **kw)
    rows = {"numpy": [], "full_1": [], "full_par": [], "reduced_1": []}
    for _ in range(args.repeats):
        rows["numpy"].append(_rate(lambda: online_sgd_numpy(d=d, steps=n_np, eta=eta), n_np))
        rows["full_1"].append(_rate(lambda: online_sgd(steps=n_full, runs=1, every=n_full, method="full", **kw), n_full))
        rows["full_par"].append(_rate(lambda: online_sgd(steps=n_full, runs=runs_par, every=n_full, method="full", **kw),
                                      n_full * runs_par))
        rows["reduced_1"].append(_rate(lambda: online_sgd(steps=n_red, runs=1, every=n_red, method="reduced", **kw),
                                       n_red))
    r = {k: np.array(v) for k, v in rows.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"online SGD at d = {d} ({cores} cores, {args.repeats} repeats, medians; 1-min load average {load:.1f}:"
          f" above {cores} the parallel figure is throttled by other processes)")
    for k, label in (("numpy", "NumPy loop"), ("full_1", "Numba full, 1 run"),
                     ("full_par", f"Numba full, {runs_par} runs in parallel"), ("reduced_1", "Numba reduced, 1 run")):
        print(f"  {label:38s} {np.median(r[k]):12.4g} steps/s")
    for k, label in (("full_1", "full, 1 run / NumPy"), ("full_par", "full, parallel runs / NumPy"),
                     ("reduced_1", "reduced (exact in law) / NumPy")):
        print(f"  ratio {label:36s} {np.median(r[k] / r['numpy']):8.1f}x")


if __name__ == "__main__":
    main()
