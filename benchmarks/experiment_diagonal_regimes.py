#!/usr/bin/env python
r"""Experiment (issue 8, item 6): the four fine-tuning regimes of a diagonal network, theory and simulation.

Run from the repository root::

    python benchmarks/experiment_diagonal_regimes.py              # theory + 16 seeds at d = 2000 (~10 min, 1 core)
    python benchmarks/experiment_diagonal_regimes.py --seeds 2 --out /tmp/x.json

Theory: :func:`derive._diagonal_regimes.regime_map` (replica-symmetric fine-tuning error of the four
representative initialisations on the four tasks, merged reset) at ``ALPHAS``, and
:func:`derive._diagonal_regimes.lam_sweep` (error against lam/c, both resets, gamma = 0) on the sparse
tasks at ``SIM_ALPHA``. Simulation: at ``SIM_ALPHA``, ``seeds`` draws per (regime, task) of
:func:`numerics._replica_diagonal.simulate_finetune` at d = ``SIM_D``: the fine-tuned predictor is the
exact implicit bias of the network (the Bregman projection with the closed-form kappa_F of the reset,
which section (d) checks against gradient flow of the full network to <= 1e-9), pretraining having
recovered its teacher; seed ``1000 * (4 * regime + task) + k``. The grid: theory of every (c, lam/c, gamma)
in GRID_C x GRID_RATIOS x GRID_GAMMAS on every task at SIM_ALPHA (``--grid-only`` recomputes just it). Writes
``proofs/report/data/diagonal_regimes.json``, the fixture the report section plots and re-checks.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import derive
from derive._diagonal_regimes import (
    PRETRAINING,
    PROTOCOL,
    REGIMES,
    TASKS,
    lam_sweep,
    regime_map,
)
from numerics._replica_diagonal import simulate_finetune

ALPHAS = (0.05, 0.1, 0.2, 0.3)
SIM_ALPHA, SIM_D = 0.1, 2000
SWEEP_RATIOS = (-0.99, -0.9, -0.5, 0.0, 0.5, 0.9, 0.99)
SWEEP_TASKS = ("sparse_reused", "sparse_new")
# the initialisation grid (merged reset): every (c, lam/c, gamma) on every task at SIM_ALPHA
# (lam = c with gamma = 0 leaves a zero first layer and a zero readout: kappa_F = 0, no fine-tuning; NaN)
GRID_C, GRID_RATIOS, GRID_GAMMAS = (1e-3, 1.0), (-0.99, 0.0, 0.99, 1.0), (0.0, 0.01, 0.1, 1.0, 10.0)
FIXTURE = Path(__file__).resolve().parent.parent / "proofs" / "report" / "data" / "diagonal_regimes.json"


def seed_of(i: int, j: int, k: int) -> int:
    """Seed of draw k for regime i and task j (disjoint streams per cell)."""
    return 1000 * (len(TASKS) * i + j) + k


def simulate_cell(i: int, j: int, seeds, d: int = SIM_D, alpha: float = SIM_ALPHA) -> list[float]:
    """Per-coordinate fine-tuning errors of regime i on task j, one per seed index in ``seeds``."""
    _, c, ratio, gamma = list(REGIMES.values())[i]
    _, rho_ft, omega = list(TASKS.values())[j]
    res = derive.get("diagonal.kappa_ft_merged" if PROTOCOL == "merged" else "diagonal.kappa_ft_readout_reset")

    def kappa_f(beta_pt):
        return res.evaluate(c=c, lam=ratio * c, beta_pt=beta_pt, gamma=gamma)["kappa"]

    return [simulate_finetune(kappa_f, PRETRAINING["rho_pt"], PRETRAINING["a_pt"], rho_ft, omega, alpha, d,
                              seed_of(i, j, k)) for k in seeds]


def grid_map() -> dict:
    """Theory error of every initialisation (c, lam/c, gamma) of the grid on every task, at SIM_ALPHA (NaN where
    the initialisation cannot fine-tune: lam = c with gamma = 0)."""
    shape = (len(GRID_C), len(GRID_RATIOS), len(GRID_GAMMAS))
    points = [idx for idx in np.ndindex(shape) if not (GRID_RATIOS[idx[1]] == 1.0 and GRID_GAMMAS[idx[2]] == 0.0)]
    inits = {str(idx): ("", GRID_C[idx[0]], GRID_RATIOS[idx[1]], GRID_GAMMAS[idx[2]]) for idx in points}
    m = regime_map([SIM_ALPHA], regimes=inits)
    eps = np.full((*shape, len(TASKS)), np.nan)
    kon, koff = np.full(shape, np.nan), np.full(shape, np.nan)
    for n, idx in enumerate(points):
        eps[idx] = m["eps"][n, :, 0]
        kon[idx], koff[idx] = m["kappa_on"][n], m["kappa_off"][n]
    return {"c": list(GRID_C), "ratios": list(GRID_RATIOS), "gammas": list(GRID_GAMMAS), "alpha": SIM_ALPHA,
            "eps": eps.tolist(), "kappa_on": kon.tolist(), "kappa_off": koff.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--out", type=Path, default=FIXTURE)
    ap.add_argument("--grid-only", action="store_true", help="recompute only the initialisation grid of --out")
    args = ap.parse_args()
    if args.grid_only:
        t0 = time.perf_counter()
        out = json.loads(args.out.read_text())
        out["grid"] = grid_map()
        out["elapsed_s"]["grid"] = round(time.perf_counter() - t0, 1)
        args.out.write_text(json.dumps(out, separators=(",", ":")) + "\n")
        print(f"grid: {time.perf_counter() - t0:.1f} s; wrote {args.out}")
        return
    t0 = time.perf_counter()
    theory = regime_map(ALPHAS)
    t1 = time.perf_counter()
    print(f"theory map: {theory['eps'].size} points in {t1 - t0:.1f} s")
    sweeps = {t: lam_sweep(SWEEP_RATIOS, task=TASKS[t][1:], alpha=SIM_ALPHA) for t in SWEEP_TASKS}
    t2 = time.perf_counter()
    print(f"lam sweeps: {t2 - t1:.1f} s")
    sims = [[simulate_cell(i, j, range(args.seeds)) for j in range(len(TASKS))] for i in range(len(REGIMES))]
    t3 = time.perf_counter()
    grid = grid_map()
    t4 = time.perf_counter()
    print(f"simulations: {len(REGIMES) * len(TASKS) * args.seeds} draws at d = {SIM_D} in {t3 - t2:.1f} s")
    k = ALPHAS.index(SIM_ALPHA)
    for i, name in enumerate(REGIMES):
        row = "  ".join(f"{theory['eps'][i, j, k]:.4f} / {np.mean(sims[i][j]):.4f}" for j in range(len(TASKS)))
        print(f"{name:>18}: {row}")
    out = {"description": "diagonal-network fine-tuning regimes: RS theory (derive._diagonal_regimes) and "
                          "finite-d min-Bregman fine-tuning (numerics._replica_diagonal.simulate_finetune)",
           "regimes": {n: list(v) for n, v in REGIMES.items()}, "tasks": {n: list(v) for n, v in TASKS.items()},
           "pretraining": PRETRAINING, "protocol": PROTOCOL, "alphas": list(ALPHAS),
           "theory_eps": theory["eps"].tolist(), "kappa_on": theory["kappa_on"].tolist(),
           "kappa_off": theory["kappa_off"].tolist(),
           "sweep": {t: {"ratios": list(SWEEP_RATIOS), "protocols": s["protocols"], "eps": s["eps"].tolist(),
                         "alpha": SIM_ALPHA} for t, s in sweeps.items()},
           "sim_alpha": SIM_ALPHA, "sim_d": SIM_D, "seeds": args.seeds, "sim_eps": sims,
           "elapsed_s": {"theory": round(t1 - t0, 1), "sweep": round(t2 - t1, 1), "simulation": round(t3 - t2, 1),
                         "grid": round(t4 - t3, 1)},
           "grid": grid,
           "cores": os.cpu_count()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
