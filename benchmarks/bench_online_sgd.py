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
* Numba ``method="full", two_threads=True``: one run whose next block of inputs is drawn on two threads
  while the current block's steps run (``numerics.simulate._online_sgd_pipeline``; same numbers), with a
  schedule that falls back to one thread when the helper does not pay;
* Numba ``method="reduced"``: the same Markov chain exactly in law in O(1) per step (tested against
  the full chain in tests/numerics/test_online_sgd.py).

Throughput: steps per second; ratios are medians over repeats of per-repeat ratios of calls
interleaved in the same repeat (a shared machine moves both sides together); the spread lines give the
minimum, quartiles and maximum of the per-repeat ratios.

Figures (AMD EPYC, 2 vCPUs, AVX2). Before this change (idle, 2026-11-23 21:35): NumPy 4.70e4 steps/s,
full 1 run 12.8x, 4 runs in parallel 24.6x (earlier idle runs 21.9x, 17.2x), reduced 208x. After
(2026-11-23 22:10-22:16, NOT idle: other engineers' jobs held the second core most of the time, 1-min
load 1.7-2.5, NumPy at 2.6e4-6.1e4 steps/s), twelve runs of 7 repeats: full 1 run 12.0x-18.0x (median
14.9x; within a run the per-repeat ratios spread e.g. 11.7-30.6); 4 runs in parallel 11.2x-18.7x
(little parallel speed-up left at that load); reduced 119x-196x; two threads 9.7x and 10.3x in the two
runs that measured it (the default single run 8.7x and 12.9x in the same runs). Drawing the normals
is 1.17-1.21x faster (CPU-time A/B against the previous generator in one process): 231 instructions
per 16 normals instead of 276 (near-minimax polynomials, compare-free log reduction, sign-bit quadrant). So on an idle machine expect about 1.15x the previous
figures for one run (about 15x) and for parallel runs (about 28x), not the 20x asked for one run on one
thread: one full step is about 1.0 us of normals (512 at about 2 ns) plus 0.2 us of projection and axpy.
Two threads for one run gave 1.18x over one thread when the other core was (partly) free, 0.7x when it
was not (hence the fallback, and why it is opt-in); its share of kept pipelined blocks is printed.
Generating each block of steps' inputs on both cores with a ``prange`` over lane ranges (tried before)
was 10-50x *slower* under load: OpenMP workers spin at every launch while the other core is taken.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from numerics.simulate import _online_sgd_pipeline as _pipeline
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
    online_sgd(steps=n_full // 10, runs=1, every=n_full // 10, method="full", two_threads=True, **kw)
    rows = {"numpy": [], "full_1": [], "full_2t": [], "full_par": [], "reduced_1": []}
    kept = []
    for _ in range(args.repeats):
        rows["numpy"].append(_rate(lambda: online_sgd_numpy(d=d, steps=n_np, eta=eta), n_np))
        rows["full_1"].append(_rate(lambda: online_sgd(steps=n_full, runs=1, every=n_full, method="full", **kw), n_full))
        rows["full_2t"].append(_rate(lambda: online_sgd(steps=n_full, runs=1, every=n_full, method="full",
                                                        two_threads=True, **kw), n_full))
        sched = _pipeline.last_schedule
        kept.append(sched.kept / sched.tried if sched is not None and sched.tried else 0.0)
        rows["full_par"].append(_rate(lambda: online_sgd(steps=n_full, runs=runs_par, every=n_full, method="full", **kw),
                                      n_full * runs_par))
        rows["reduced_1"].append(_rate(lambda: online_sgd(steps=n_red, runs=1, every=n_red, method="reduced", **kw),
                                       n_red))
    r = {k: np.array(v) for k, v in rows.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"online SGD at d = {d} ({cores} cores, {args.repeats} repeats, medians; 1-min load average {load:.1f}:"
          f" above {cores} the parallel figure is throttled by other processes)")
    for k, label in (("numpy", "NumPy loop"), ("full_1", "Numba full, 1 run"),
                     ("full_2t", "Numba full, 1 run, two_threads=True"),
                     ("full_par", f"Numba full, {runs_par} runs in parallel"), ("reduced_1", "Numba reduced, 1 run")):
        print(f"  {label:38s} {np.median(r[k]):12.4g} steps/s")
    for k, label in (("full_1", "full, 1 run / NumPy"), ("full_2t", "full, 1 run on two threads / NumPy"),
                     ("full_par", "full, parallel runs / NumPy"), ("reduced_1", "reduced (exact in law) / NumPy")):
        print(f"  ratio {label:36s} {np.median(r[k] / r['numpy']):8.1f}x")
    print("  spread of the per-repeat ratios (min, quartiles, max):")
    for k in ("full_1", "full_2t", "full_par"):
        q = np.percentile(r[k] / r["numpy"], [0, 25, 75, 100])
        print(f"    {k:10s} {q[0]:6.1f} {q[1]:6.1f} {q[2]:6.1f} {q[3]:6.1f}")
    print(f"  two threads: share of the pipelined blocks tried that paid and were kept, median {np.median(kept):.2f}")

if __name__ == "__main__":
    main()
