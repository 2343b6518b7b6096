#!/usr/bin/env python
r"""Benchmark: lazy training in closed form at 1000 times against stepping the linearised network.

Run from the repository root::

    python benchmarks/bench_lazy.py                    # P = 1000, Q = 200, 1000 times

Problem: P = 1000 train and Q = 200 test inputs in d = 10 (Gaussian), the analytic two-layer ReLU
NTK (``relu.ntk``), one output, ``eta = P / lambda_max``; 1000 record times log-spaced in the
gradient-descent step count from 1 to 10^5 (learning curves are read on a log time axis).

* closed form: ``numerics._lazy.KernelDynamics`` (one ``eigh`` of K, then all 1000 times; the
  timing includes the factorisation), i.e. ``lazy.descent``;
* stepping: ``numerics._lazy.step_function_space`` - gradient descent of the linearised model in
  function space (one P x P product per step; stepping in parameter space costs width x more). Its
  per-step time is the median over repeats of 300-step runs; the total for 10^5 steps is that
  times 10^5 (running it would take minutes); both sides agree at the shared steps (printed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import derive
from numerics._lazy import KernelDynamics, step_function_space


def _ntk(A, B):
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    rho = np.clip(A @ B.T / np.outer(na, nb), -1.0, 1.0)
    return np.asarray(derive.get("relu.ntk").evaluate(rho=rho, norm_x=na[:, None], norm_xp=nb[None, :]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--P", type=int, default=1000)
    ap.add_argument("--times", type=int, default=1000)
    ap.add_argument("--max-steps", type=float, default=1e5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    P, Q, d = args.P, 200, 10
    rng = np.random.default_rng(0)
    X, Xt = rng.standard_normal((P, d)), rng.standard_normal((Q, d))
    y = np.tanh(X[:, :1]) + 0.3 * X[:, 1:2] * X[:, 2:3]
    K = _ntk(X, X)
    K = (K + K.T) / 2
    Kt = _ntk(Xt, X)
    f0, f0t = np.zeros((P, 1)), np.zeros((Q, 1))
    eta = P / np.linalg.eigvalsh(K).max()
    steps = np.round(np.geomspace(1, args.max_steps, args.times)).astype(int)
    for i in range(1, len(steps)):  # distinct: 1, 2, 3, ... until the log spacing exceeds one step
        steps[i] = max(steps[i], steps[i - 1] + 1)
    closed, per_step = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        kd = KernelDynamics(K, Kt)
        out = kd.descent(steps, eta, y, f0, f0t)
        closed.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = step_function_space(K, Kt, y, f0, f0t, eta=eta, record=np.array([300]))
        per_step.append((time.perf_counter() - t0) / 300)
    i300 = np.searchsorted(steps, 300)
    agree = np.abs(out["test"][i300] - ref["test"][0]).max() if steps[i300] == 300 else float("nan")
    closed, per_step = np.array(closed), np.array(per_step)
    total = steps.max() * per_step
    print(f"lazy closed form vs stepping: P = {P}, Q = {Q}, {len(steps)} times up to {steps.max()} steps "
          f"({args.repeats} repeats, medians)")
    print(f"  closed form (eigh + {len(steps)} times)     {np.median(closed):10.3f} s")
    print(f"  stepping, per step                       {np.median(per_step) * 1e3:10.3f} ms")
    print(f"  stepping, {steps.max()} steps (per step x steps) {np.median(total):10.1f} s")
    print(f"  ratio stepping / closed form             {np.median(total / closed):10.0f}x")
    print(f"  max |closed - stepped| test prediction at step 300: {agree:.2e}")


if __name__ == "__main__":
    main()
