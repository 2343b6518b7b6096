#!/usr/bin/env python
r"""Experiment (issue 7, item 5): online-SGD steps to learn a rank-1 adapter against learning from scratch.

Run from the repository root::

    python benchmarks/experiment_lowrank_finetune.py            # the full grid, 64 seeds (a few minutes)
    python benchmarks/experiment_lowrank_finetune.py --runs 16 --out /tmp/x.json

For each information exponent k = 1, 2, 3 (relu, |z|, shrink_1(z) - p z) and each
d in {64, 128, 256, 512, 1024}: ``runs`` seeded runs of ``numerics.simulate._lowrank_finetune.adapter_sgd``
(the reduced chain, exact in law) for the fine-tuned student (base weights W, rank-1 adapter xi* u^T with only
u trained on the sphere) and the from-scratch student (W = 0: the single-index model), each recording the first
step with |u . u*| >= 0.9; the schedule is ``step_size`` (eta = c/d, or c d^{-k/2} from scratch for k >= 3),
the censoring cap ``default_max_steps``. Prints the fitted exponents of the per-d medians against d (log-log
least squares) with 95% bootstrap intervals over seeds, and writes every hitting step (``-1`` = censored) to
``proofs/report/data/lowrank_finetune.json``, the fixture the report section plots.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from numerics.simulate._lowrank_finetune import C_ETA, fit_exponent, hitting_grid

DS = (64, 128, 256, 512, 1024)
FIXTURE = Path(__file__).resolve().parent.parent / "proofs" / "report" / "data" / "lowrank_finetune.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--runs", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=FIXTURE)
    args = ap.parse_args()
    t0 = time.perf_counter()
    grid = hitting_grid(ds=DS, runs=args.runs, seed=args.seed)
    elapsed = time.perf_counter() - t0
    out = {"description": "steps to |u.u*| >= 0.9, numerics.simulate._lowrank_finetune.hitting_grid; -1 = censored",
           "ds": list(DS), "runs": args.runs, "seed": args.seed, "level": 0.9, "width": 2,
           "c_eta": {f"{m}/{k}": c for (m, k), c in C_ETA.items()}, "elapsed_s": round(elapsed, 1),
           "cores": os.cpu_count(), "hits": {}, "max_steps": {}}
    print(f"grid: {len(DS)} d x 6 (mode, k) x {args.runs} runs in {elapsed:.1f} s")
    print(f"{'mode':>9} {'k':>2} {'exponent':>9} {'95% CI':>16}  medians")
    for (mode, k), h in grid["hits"].items():
        out["hits"][f"{mode}/{k}"] = np.where(np.isfinite(h), h, -1).astype(int).tolist()
        out["max_steps"][f"{mode}/{k}"] = grid["max_steps"][(mode, k)].tolist()
        f = fit_exponent(DS, h)
        print(f"{mode:>9} {k:>2} {f['exponent']:9.3f} [{f['ci'][0]:6.3f}, {f['ci'][1]:6.3f}]  "
              f"{np.array2string(f['medians'], precision=0)}  censored {f['censored']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
