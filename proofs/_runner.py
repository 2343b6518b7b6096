"""Run claims and print the verification table (``python -m proofs``, ``lazyrich verify``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from ._claim import Claim, Outcome, check, claims


def run(pattern: str | None = None, *, progress: Callable[[Iterable], Iterable] | None = None) -> list[Outcome]:
    """Check every claim matching ``pattern`` (all if None)."""
    selected: Iterable[Claim] = claims(pattern)
    if progress is not None:
        selected = progress(selected)
    return [check(c) for c in selected]


def _fmt(x) -> str:
    return "" if x is None else f"{x:.2e}"


def table(outcomes: list[Outcome]) -> str:
    """A plain-text table: status, claim, method, measured, bound."""
    rows = [("", "claim", "method", "measured", "bound", "s")]
    for o in outcomes:
        rows.append(("PASS" if o.passed else "FAIL", o.claim.name, o.claim.method, _fmt(o.evidence.measured),
                     _fmt(o.evidence.bound), f"{o.seconds:.1f}"))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    for o in outcomes:
        if not o.passed:
            lines.append(f"FAILED {o.claim.name}: {o.error or o.evidence.detail}")
    npass = sum(o.passed for o in outcomes)
    lines.append(f"{npass}/{len(outcomes)} claims verified")
    return "\n".join(lines)


def to_json(outcomes: list[Outcome]) -> str:
    return json.dumps([o.as_dict() for o in outcomes], indent=2)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m proofs", description="Check lazyrich's claims.")
    parser.add_argument("pattern", nargs="?", default=None, help="glob on claim or result names")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    args = parser.parse_args(argv)
    outcomes = run(args.pattern)
    if not outcomes:
        print(f"no claim matches {args.pattern!r}")
        return 2
    print(to_json(outcomes) if args.json else table(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1
