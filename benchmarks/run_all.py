"""Run every benchmark of lazyrich, one after the other: ``python benchmarks/run_all.py [--quick]``.

Each ``benchmarks/bench_*.py`` runs in its own interpreter with its default
arguments (``--quick`` passes each script's own quick option where it has one, listed
in ``QUICK``), so that each measures its baselines in the same run as itself. The
exit status is non-zero if a script fails to run (not if a target is missed: the
scripts print PASS/FAIL per target).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = {
    "bench_mode.py": ["--points", "1e6", "--skip-subprocess"],
    "bench_sweep.py": ["--stream-points", "1e8", "--dask-points", "4e6"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes where a script offers them")
    ap.add_argument("only", nargs="*", help="run only these scripts (e.g. bench_sweep.py)")
    args = ap.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.name in args.only]
    failed = []
    for script in scripts:
        extra = QUICK.get(script.name, []) if args.quick else []
        print(f"\n===== {script.name} {' '.join(extra)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *extra], cwd=HERE.parent)
        print(f"===== {script.name}: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
