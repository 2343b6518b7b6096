#!/usr/bin/env python
r"""Benchmark: ``lambda_balanced.qqt`` at 1000 times against its baselines, in one run.

Run from the repository root::

    python benchmarks/bench_qqt.py                 # n = 5, 20, 100
    python benchmarks/bench_qqt.py --sizes 5 20 --repeats 5

Subject: ``derive.get("lambda_balanced.qqt").evaluate(W1=, W2=, Syx=, t=ts)`` with ``ts`` 1000
times uniform in [0, 10], Ni = Nh = No = n, a λ-balanced start (lam = 1, product singular values
in [0.15, 0.45]) with frames rotated from the task's, ``Syx`` with singular values in [0.2, 3]. This
includes the input checks and the factorisation (once), then the compiled per-time kernel, whose
independent times are spread over the grid driver's threads (``LAZYRICH_THREADS`` /
``NUMBA_NUM_THREADS``; 2 on the 2-core machine). ``solve_ivp`` is sequential in time, so the CPU
time (all threads) is printed next to the wall-clock time, on which the targets are set.

Baselines (same start, same times):

  (i)  ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10, atol 1e-12, ``t_eval = ts``) on the weights,
       forming QQ^T = Q Q^T at each time as a competent user would: for all times in one stacked
       ``matmul`` up to Ni + No = 64 (a Python loop of small products cost more than the products,
       6 ms of 22 at n = 5), one ``Q @ Q.T`` (a syrk inside NumPy) per time above;
  (ii) re-solving the closed form from scratch at each time (SVD of Syx, B^{-1}, Cholesky: what the
       authors' reference code does per step): ``factorise`` + one-time evaluation in a loop.

BLAS is pinned to one thread in all three (multi-threaded BLAS on these sizes is many times
slower on a shared 2-core machine). Times are medians over ``--repeats`` of interleaved runs;
ratios are medians of per-repeat ratios. Accuracy: max relative error (max |diff| / max |ref|) of
the closed form and of DOP853 against the 50-digit Fukumizu reference (the registered mpmath
twin) at t in {0.5, 3, 10}, for n <= 20 (an mpmath eigen-decomposition of the 2n x 2n F at
n = 100 takes too long); at n = 100 the closed form is compared with DOP853 only.

Measured (2-core machine shared with four other engineers at load 3-6, so wall-clock ratios from
this session are not usable; re-measure idle). Single-thread CPU time per 1000 times, interleaved
A/B of the per-time kernel before and after hoisting the time-linear products into per-batch
matrix products: n = 5 1.22 -> 0.67-0.73 ms, n = 12 4.3 -> 2.9 ms, n = 20 10.8 -> 8.3 ms,
n = 27 22.2 -> 17.4 ms; factorise 0.30 -> 0.21 ms at n = 5. Whole ``evaluate`` on one thread
(thread CPU time, lightest load seen): n = 5 1.10 ms, n = 20 9.7 ms (of which the shared
``Result.evaluate`` checks about 1 ms), against DOP853 with stacked forming 15.5 ms and 35 ms
(solve alone 15.2 and 27 ms): 14x and 3.6x before the second thread, which takes about half the
kernel's share (per-thread CPU 0.39 / 0.37 ms at n = 5, 4.4 / 4.2 ms at n = 20). The stacked
forming makes DOP853 6 ms faster at n = 5 and 4 ms at n = 20 than the per-time loop used before.
Accuracy unchanged: 1.5e-15 (n = 5) and 1.4e-15 (n = 20) against 50 digits.

Session 6 (load 1.5-2.6 throughout: one core was taken by other engineers, so wall = CPU and
the second thread rarely helped). The factorisation is now one compiled call
(``numerics._qqt_factor``): 0.27-0.45 -> 0.07 ms at n = 5, 0.49 -> 0.23 ms at n = 20; the
input checks 0.08 -> 0.015 ms; psi reuses E where 2 Gamma t >= 1 (one expm1 per mode fewer);
the calling thread works on the times too, taking pieces from a shared queue with the pool; the
kernels check each time's output for NaN in cache (the whole-result scan in ``Result.evaluate``,
0.54 ms at n = 20, goes once the result declares ``evaluator_checks_finite``). Interleaved A/B
of the evaluator, old vs new code in one process (process CPU, medians of 40): n = 5 1.95 ->
1.49 ms (1.25x; one thread 1.39 -> 1.11 ms), n = 20 13.7 -> 13.5 ms (1.02x: the per-time
kernel, about 9 us CPU per time at m = 20, is unchanged). This script at 22:11 UTC (load 2.4):
n = 5 closed form 1.27 ms vs DOP853 14.8 ms = 10.8x (best 11.0x), n = 20 13.1 vs 35.3 ms =
2.7x; at 21:58 (load 2.1) n = 100 1.64x (best 2.35x). DOP853 itself varied 2x between runs
(n = 5: 14.8 to 30.9 ms). Where the n = 20 time goes (one thread, per time point): output product
(BLAS syrk 40 x 40 from 20, and the mirror) 3.3 us, triangular solve 1.25, hoisted gemm for Z
1.1, Cholesky 0.9, time factors 0.4, the rest 1.5; tried and rejected: register-tiled products
and solves written in Numba (2-3x slower than BLAS: Numba keeps LLVM's SLP vectoriser off, so
32 scalar accumulators stay scalar), loops vectorised across the 32 times of a batch (slower),
a right-looking Cholesky (1.8x slower), dgemm instead of syrk + mirror (within noise at m = 20).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import derive  # noqa: E402
from numerics import _qqt  # noqa: E402
from numerics._blas_threads import one_blas_thread  # noqa: E402
from numerics._init_lambda_balanced import rotated_aligned_init  # noqa: E402

TARGETS = {5: 10.0, 20: 3.0, 100: 1.0}
BATCHED_FORMING_MAX = 64
"""DOP853 baseline: up to this Ni + No QQ^T is formed for all times in one stacked product, above it by
one ``Q @ Q.T`` per time (measured: stacked 6 ms faster at n = 5, 4 ms at n = 20; the loop 190 ms faster
at n = 100, where NumPy turns ``Q @ Q.T`` into a syrk)."""


def problem(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    Syx = (U * rng.uniform(0.2, 3.0, n)) @ V.T
    W1, W2 = rotated_aligned_init(1.0, Syx, rng.uniform(0.15, 0.45, n), angle=0.5, seed=seed)
    return W1, W2, Syx


def closed_form(W1, W2, Syx, ts):
    return derive.get("lambda_balanced.qqt").evaluate(W1=W1, W2=W2, Syx=Syx, t=ts)


def dop853(W1, W2, Syx, ts):
    n1, s1, s2 = W1.size, W1.shape, W2.shape

    def rhs(_, w):
        a, b = w[:n1].reshape(s1), w[n1:].reshape(s2)
        E = Syx - b @ a
        return np.concatenate([(b.T @ E).ravel(), (E @ a.T).ravel()])

    with one_blas_thread():
        sol = solve_ivp(rhs, (0.0, ts[-1]), np.concatenate([W1.ravel(), W2.ravel()]), method="DOP853",
                        t_eval=ts, rtol=1e-10, atol=1e-12)
        w = sol.y.T
        if W1.shape[1] + W2.shape[0] <= BATCHED_FORMING_MAX:
            # all times in one stacked product: a Python loop of small products costs more than the
            # products (6 ms of 22 at n = 5)
            QT = np.concatenate([w[:, :n1].reshape((-1,) + s1), np.swapaxes(w[:, n1:].reshape((-1,) + s2), 1, 2)],
                                axis=2)  # Q^T at each time, (T, Nh, Ni + No)
            return np.matmul(np.swapaxes(QT, 1, 2), QT)
        # large n: one Q @ Q.T per time, which NumPy does as a syrk (half the flops of the stacked product)
        out = np.empty((ts.size, 2 * W1.shape[1], 2 * W1.shape[1]))
        for k, wk in enumerate(w):
            Q = np.vstack([wk[:n1].reshape(s1).T, wk[n1:].reshape(s2)])
            out[k] = Q @ Q.T
    return out


def resolve_each_time(W1, W2, Syx, ts):
    out = None
    for k, t in enumerate(ts):
        q = _qqt.evaluate_qqt(_qqt.factorise(W1, W2, Syx), np.array([t]))[0]
        if out is None:
            out = np.empty((ts.size,) + q.shape)
        out[k] = q
    return out


def timed(fn, *args):
    """(wall seconds, CPU seconds of this process, all threads, output)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - t0, time.process_time() - c0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5, 20, 100])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--times", type=int, default=1000)
    args = ap.parse_args(argv)
    ts = np.linspace(0.0, 10.0, args.times)
    print(f"lambda_balanced.qqt at {ts.size} times in [0, 10]; medians of {args.repeats} interleaved repeats "
          "(n = 100: at most 3); BLAS on one thread")
    ok = True
    for n in args.sizes:
        W1, W2, Syx = problem(n)
        closed_form(W1, W2, Syx, ts[:3])  # compile / load the kernels
        reps = min(args.repeats, 3) if n >= 100 else args.repeats
        rows = {"closed": [], "dop853": [], "resolve": []}  # (wall, cpu) per repeat
        for _ in range(reps):
            *tc, Qc = timed(closed_form, W1, W2, Syx, ts)
            *td, Qd = timed(dop853, W1, W2, Syx, ts)
            *tr, Qr = timed(resolve_each_time, W1, W2, Syx, ts)
            rows["closed"].append(tc)
            rows["dop853"].append(td)
            rows["resolve"].append(tr)
        print(f"\nn = {n}:")
        target = TARGETS.get(n)
        for k, clock in enumerate(("wall", "CPU")):
            med = {key: statistics.median(r[k] for r in v) for key, v in rows.items()}
            r_dop = statistics.median(d[k] / c[k] for d, c in zip(rows["dop853"], rows["closed"]))
            r_res = statistics.median(r[k] / c[k] for r, c in zip(rows["resolve"], rows["closed"]))
            tgt = f" (target >= {target:g}x: {'met' if r_dop >= target else 'NOT met'})" if target else ""
            print(f"  {clock:4s}: closed form {med['closed'] * 1e3:9.2f} ms | DOP853 {med['dop853'] * 1e3:9.2f} ms | "
                  f"re-solve per time {med['resolve'] * 1e3:9.2f} ms")
            print(f"        speed-up vs DOP853 {r_dop:6.2f}x{tgt}; vs re-solving {r_res:6.2f}x "
                  f"(target >= 3x: {'met' if r_res >= 3 else 'NOT met'})")
            # the machine is shared: best-of-repeats ratios are less sensitive to other processes than medians
            best = {key: min(r[k] for r in v) for key, v in rows.items()}
            print(f"        best-of-{reps} ratios: vs DOP853 {best['dop853'] / best['closed']:6.2f}x, "
                  f"vs re-solving {best['resolve'] / best['closed']:6.2f}x")
            if clock == "wall":  # the targets are wall-clock targets
                ok &= (target is None or r_dop >= target) and r_res >= 3
        scale = np.max(np.abs(Qd))
        print(f"  closed form vs DOP853, all times: max |diff| / max |QQ^T| = {np.max(np.abs(Qc - Qd)) / scale:.2e}")
        if n <= 20:
            qqt = derive.get("lambda_balanced.qqt")
            errs_c, errs_d = [], []
            for t in (0.5, 3.0, 10.0):
                k = int(np.argmin(np.abs(ts - t)))
                ref = np.array(qqt.mp(dps=50, W1=W1, W2=W2, Syx=Syx, t=float(ts[k])).tolist(), dtype=float)
                errs_c.append(np.max(np.abs(Qc[k] - ref)) / np.max(np.abs(ref)))
                errs_d.append(np.max(np.abs(Qd[k] - ref)) / np.max(np.abs(ref)))
            print(f"  vs 50-digit reference at t = 0.5, 3, 10: closed form {max(errs_c):.2e} "
                  f"(target <= 1e-12: {'met' if max(errs_c) <= 1e-12 else 'NOT met'}), DOP853 {max(errs_d):.2e}")
            ok &= max(errs_c) <= 1e-12
    print("\nall targets met" if ok else "\nsome targets NOT met (see above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
