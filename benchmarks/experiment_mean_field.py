#!/usr/bin/env python
r"""Experiment (issue 7, item 6 / report (d)): online SGD of the mean-field network on the merged staircase.

Run from the repository root::

    python benchmarks/experiment_mean_field.py              # 8 seeds, T = 100 (about 1 CPU-minute per seed)
    python benchmarks/experiment_mean_field.py --seeds 2 --T 20 --out /tmp/x.json

Each seed runs ``numerics.simulate._staircase_sgd.staircase_sgd`` (d = 128, width k = 128, batch 128,
rate ``lr``; mean-field time ``t = lr * steps / k``) and records the Fourier coefficients of x1, x1x2,
x1x2x3 (with Monte Carlo standard errors) at ``n_records + 1`` equally spaced times. Writes them to
``proofs/report/data/mean_field.json``, the fixture the report section plots against the mean-field
flow (which the section recomputes live) and re-checks live on a cheap prefix (seed 0 up to t = 4).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from numerics.simulate._staircase_sgd import staircase_sgd

FIXTURE = Path(__file__).resolve().parent.parent / "proofs" / "report" / "data" / "mean_field.json"
CONFIG = {"d": 128, "k": 128, "batch": 128, "lr": 1.0, "n_eval": 32}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--T", type=float, default=100.0)
    ap.add_argument("--n-records", type=int, default=50)
    ap.add_argument("--out", type=Path, default=FIXTURE)
    args = ap.parse_args()
    t0 = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        r = staircase_sgd(T=args.T, n_records=args.n_records, seed=seed, **CONFIG)
        runs.append({"seed": seed, "fourier": r["fourier"].round(6).tolist(), "se": r["se"].round(6).tolist()})
        print(f"seed {seed}: final coefficients {np.round(r['fourier'][-1], 3)} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    out = {"description": "staircase_sgd runs (merged staircase, mean-field time t = lr steps / k)",
           **CONFIG, "T": args.T, "n_records": args.n_records, "t": r["t"].tolist(),
           "elapsed_s": round(time.perf_counter() - t0, 1), "cores": os.cpu_count(), "runs": runs}
    args.out.write_text(json.dumps(out))
    print(f"wrote {args.out} ({out['elapsed_s']} s)")


if __name__ == "__main__":
    main()
