#!/usr/bin/env python
r"""Benchmark: the kappa fixed point of a learning curve against ``scipy.optimize.brentq`` per P.

Also (issue 5) the same solver inside ``linear_teacher.risk`` (10^4 eigenvalues, 10^3 values of n,
label noise) against brentq per n plus the risk in NumPy.

Run from the repository root::

    python benchmarks/bench_kappa.py                  # 10^4 modes, 10^3 values of P, 7 repeats
    python benchmarks/bench_kappa.py --modes 1e4 --points 1e3 --repeats 7 --json out.json

Subject: ``derive.get("learning_curve.kappa").evaluate(eigenvalues=lam, multiplicities=1, P=P, ridge=r)``
for the power law ``lam_k = k^-1.5`` (k = 1..M, M = 10^4 modes) at 10^3 values of P log-spaced in
[1, 3 M] (so the ridgeless sweep crosses the interpolation threshold P = M), for ridge 0 and 10^-4:
one call per sweep (the Numba Newton solver, warm-started along P); and the whole curve
``learning_curve.error`` (target power ∝ lam^0.2, noise 0.05) against brentq + E_g in NumPy. Also timed: the raw solver
``numerics._fixed_point.solve_kappa_sweep`` (no domain checks) and the same solver cold-started at
every P (each P visited in shuffled order, so no warm start applies).

Baseline: ``scipy.optimize.brentq`` per P on the same equation in its divided form
``g(kappa) = 1 - sum lam/(lam P + kappa) - ridge/kappa`` (a NumPy reduction per call), bracket
``[max(ridge, 1e-300), ridge + sum lam]``, ``xtol = 1e-300``, ``rtol = 4 eps`` (brentq's minimum);
kappa = 0 where ridge = 0 and P >= M without calling brentq (as the solver does).

Agreement: max relative difference of kappa over all P (target: 1e-12). Timings: medians over
``--repeats`` of ``time.perf_counter``; the ratio is the median of per-repeat ratios, the two sides
interleaved in each repeat so that a noisy shared machine moves both together.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import derive
from numerics._fixed_point import solve_kappa_sweep


def brentq_sweep(lam, P, ridge):
    trace = float(lam.sum())
    out = np.empty(P.size)
    for i, p in enumerate(P):
        if ridge == 0.0 and lam.size <= p:
            out[i] = 0.0
            continue
        def g(k):
            return 1.0 - np.sum(lam / (lam * p + k)) - ridge / k
        out[i] = brentq(g, max(ridge, 1e-300), ridge + trace, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    return out


def baseline_error(lam, P, ridge, kappa, power, noise):
    """E_g from brentq's kappa in NumPy (per P, vectorised over modes), for the full-curve comparison."""
    out = np.empty(P.size)
    for i, (p, k) in enumerate(zip(P, kappa)):
        if k == 0.0:
            g = lam.size / p
            out[i] = noise * g / (1 - g)
            continue
        d2 = (lam * p + k) ** 2
        g = p * np.sum(lam * lam / d2)
        out[i] = (k * k * np.sum(power / d2) + noise * g) / (1 - g)
    return out


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", type=float, default=1e4)
    ap.add_argument("--points", type=float, default=1e3)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    M, n = int(args.modes), int(args.points)
    lam = np.arange(1, M + 1, dtype=float) ** -1.5
    mult = np.ones(M)
    P = np.logspace(0, np.log10(3 * M), n)
    res = derive.get("learning_curve.kappa")
    results = {"modes": M, "points": n, "repeats": args.repeats}
    for ridge in (0.0, 1e-4):
        res.evaluate(eigenvalues=lam, multiplicities=mult, P=P[:3], ridge=ridge)  # compile / load
        ridge_arr = np.full(n, ridge)
        shuffled = np.random.default_rng(0).permutation(n)
        t_eval, t_raw, t_cold, t_brent, ratios = [], [], [], [], []
        t_err, t_berr, ratios_err = [], [], []
        power, noise = lam ** 0.2 / np.sum(lam ** 0.2), 0.05
        err_res = derive.get("learning_curve.error")
        Perr = P[P != M] if ridge == 0.0 else P  # the ridgeless interpolation peak is refused with noise
        for _ in range(args.repeats):
            te, k = timed(lambda: res.evaluate(eigenvalues=lam, multiplicities=mult, P=P, ridge=ridge))
            tb, kb = timed(lambda: brentq_sweep(lam, P, ridge))
            tr, _ = timed(lambda: solve_kappa_sweep(lam, mult, P, ridge_arr))
            tc, _ = timed(lambda: solve_kappa_sweep(lam, mult, P[shuffled], ridge_arr))
            t_eval.append(te), t_brent.append(tb), t_raw.append(tr), t_cold.append(tc), ratios.append(tb / te)
            tee, Eg = timed(lambda: err_res.evaluate(eigenvalues=lam, multiplicities=mult, P=Perr, ridge=ridge,
                                                     target_power=power, noise=noise))
            tbe, Egb = timed(lambda: baseline_error(lam, Perr, ridge, brentq_sweep(lam, Perr, ridge), power, noise))
            t_err.append(tee), t_berr.append(tbe), ratios_err.append(tbe / tee)
        nz = kb > 0
        rel = float(np.max(np.abs(k[nz] - kb[nz]) / kb[nz])) if nz.any() else 0.0
        zeros_agree = bool(np.all(k[~nz] == 0.0))
        _, its = solve_kappa_sweep(lam, mult, P, ridge_arr)
        _, its_cold = solve_kappa_sweep(lam, mult, P[shuffled], ridge_arr)
        row = {
            "evaluate_median_s": statistics.median(t_eval), "raw_solver_median_s": statistics.median(t_raw),
            "cold_solver_median_s": statistics.median(t_cold), "brentq_median_s": statistics.median(t_brent),
            "ratio_brentq_over_evaluate_median": statistics.median(ratios),
            "max_rel_diff_vs_brentq": rel, "kappa_zero_points_agree": zeros_agree,
            "newton_iterations_mean_warm": float(its.mean()), "newton_iterations_mean_cold": float(its_cold.mean()),
            "error_evaluate_median_s": statistics.median(t_err), "error_baseline_median_s": statistics.median(t_berr),
            "ratio_error_baseline_over_evaluate_median": statistics.median(ratios_err),
            "max_rel_diff_error_vs_baseline": float(np.max(np.abs(Eg - Egb) / Egb)),
        }
        results[f"ridge={ridge:g}"] = row
        print(f"ridge = {ridge:g}: evaluate {row['evaluate_median_s'] * 1e3:.1f} ms (raw solver "
              f"{row['raw_solver_median_s'] * 1e3:.1f} ms, cold-started {row['cold_solver_median_s'] * 1e3:.1f} ms), "
              f"brentq per P {row['brentq_median_s'] * 1e3:.0f} ms; ratio brentq/evaluate "
              f"{row['ratio_brentq_over_evaluate_median']:.1f}x (target >= 10x); max relative difference "
              f"{rel:.2e} (target <= 1e-12); Newton iterations per P {its.mean():.2f} warm, {its_cold.mean():.2f} cold")
        print(f"    full curve E_g: learning_curve.error {row['error_evaluate_median_s'] * 1e3:.1f} ms against brentq + "
              f"NumPy {row['error_baseline_median_s'] * 1e3:.0f} ms: {row['ratio_error_baseline_over_evaluate_median']:.1f}x;"
              f" max relative difference {row['max_rel_diff_error_vs_baseline']:.2e}")
    ok = all(results[k]["ratio_brentq_over_evaluate_median"] >= 10 and results[k]["max_rel_diff_vs_brentq"] <= 1e-12
             for k in results if k.startswith("ridge="))
    # issue 5: the same kappa, as the linear-teacher risk needs it (per-sample form, 10^3 values of n)
    risk = derive.get("linear_teacher.risk")
    delta = np.random.default_rng(1).standard_normal(M)
    nvals = P[np.abs(P - M) > 0.5]  # n = d with label noise diverges: refused
    sigma2 = 0.1
    risk.evaluate(eigenvalues=lam, delta=delta, n=nvals[:3], sigma2=sigma2)
    t_r, t_rb, ratios_r = [], [], []
    for _ in range(args.repeats):
        tr, R = timed(lambda: risk.evaluate(eigenvalues=lam, delta=delta, n=nvals, sigma2=sigma2))
        tb, Rb = timed(lambda: baseline_error(lam, nvals, 0.0, brentq_sweep(lam, nvals, 0.0), lam * delta**2, sigma2))
        t_r.append(tr), t_rb.append(tb), ratios_r.append(tb / tr)
    row = {"evaluate_median_s": statistics.median(t_r), "baseline_median_s": statistics.median(t_rb),
           "ratio_median": statistics.median(ratios_r), "max_rel_diff": float(np.max(np.abs(R - Rb) / Rb))}
    results["linear_teacher.risk"] = row
    print(f"linear_teacher.risk at {nvals.size} values of n (d = {M}): evaluate {row['evaluate_median_s'] * 1e3:.1f} ms, "
          f"brentq per n + NumPy {row['baseline_median_s'] * 1e3:.0f} ms: {row['ratio_median']:.1f}x (target >= 10x); "
          f"max relative difference {row['max_rel_diff']:.2e} (target <= 1e-12)")
    ok &= row["ratio_median"] >= 10 and row["max_rel_diff"] <= 1e-12
    print("targets met" if ok else "TARGETS NOT MET")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
