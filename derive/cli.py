"""The ``lazyrich`` command line (also ``python -m derive``).

Commands::

    lazyrich list                          one line per result: name(parameters)  title
    lazyrich latex NAME                    the equation, its conditions and its source
    lazyrich cite NAME                     BibTeX of the references
    lazyrich eval NAME key=value ... [--json]
                                           evaluate on a grid; CSV (or JSON records) on stdout
    lazyrich sweep NAME key=value ... --out FILE [--zip a,b] [--chunk N] [--dask ADDRESS]
                                           evaluate on a grid into a labelled .nc or .zarr dataset
    lazyrich verify [PATTERN] [--json]     check the claims (``python -m proofs``)
    lazyrich report [--out DIR] [--only GLOB]
                                           write the HTML verification report

``eval`` values: a number (``t=1.5``), a comma-separated list (``t=0,1,2``) or
``start:stop:num`` (``num`` points, both ends included, as ``numpy.linspace``).
The points are the Cartesian product of the values of the scalar parameters,
taken in the *result's* parameter order (the order ``lazyrich list`` shows),
whatever the order on the command line: the CSV columns are the parameters in
that order, then the outputs, and the first parameter varies slowest. A vector
parameter (one entry per mode) takes its comma-separated list whole: it is
written joined by ``;`` in CSV and as a list in JSON. A matrix parameter takes a
JSON nested list (``W1=[[1,0],[0,1]]``). An output with entries of its own at each
point (a matrix, say) is written row-major joined by ``;`` in CSV and as a nested
list in JSON. Numbers are written with
``repr(float(x))`` (full precision; ``inf`` in CSV, ``Infinity`` in JSON).

Invalid input (unknown result or parameter, missing or malformed value, value
outside its domain) prints a message naming it on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from ._registry import get, names


class UsageError(Exception):
    """Bad command-line input; the message names the offending result or parameter."""


def parse_value(param_name: str, text: str) -> np.ndarray:
    """Parse the value of ``param_name=text`` into a 1-D float64 array.

    ``text`` is a number (``"0.5"``), a comma-separated list (``"1,2,3"``) or
    ``"start:stop:num"``: ``num`` points from ``start`` to ``stop``, both included,
    exactly ``numpy.linspace(start, stop, num)``; ``num`` must be a positive integer.
    Raises ``ValueError`` whose message starts with ``param_name``.
    """
    text = text.strip()
    if text.startswith("["):
        try:
            return np.array(json.loads(text), dtype=np.float64)
        except (ValueError, TypeError):
            raise ValueError(f"{param_name}: expected a JSON nested list of numbers, got {text!r}") from None
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"{param_name}: expected start:stop:num, got {text!r}")
        start, stop = (_number(param_name, p, text) for p in parts[:2])
        num = parts[2].strip()
        if not (num.isascii() and num.isdigit()) or int(num) < 1:
            raise ValueError(f"{param_name}: num in start:stop:num must be a positive integer, got {num!r}")
        return np.linspace(start, stop, int(num))
    return np.array([_number(param_name, p, text) for p in text.split(",")], dtype=np.float64)


def _number(param_name: str, item: str, text: str) -> float:
    try:
        return float(item)
    except ValueError:
        raise ValueError(f"{param_name}: expected a number, a list a,b,c or start:stop:num, "
                         f"got {text!r}") from None


def _result(name: str):
    try:
        return get(name)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def _fmt(x) -> str:
    return repr(float(x))


# -- subcommands ---------------------------------------------------------------------
def cmd_list(args) -> int:
    rows = []
    for n in names():
        r = get(n)
        sig = ", ".join(p.name + ("[]" if p.vector else "") for p in r.params)
        rows.append((f"{n}({sig}) -> {', '.join(r.output_names)}", r.title))
    width = max((len(a) for a, _ in rows), default=0)
    for sig, title in rows:
        print(f"{sig.ljust(width)}  {title}")
    return 0


def cmd_latex(args) -> int:
    r = _result(args.name)
    print(r.latex())
    print("\nConditions:")
    for c in r.conditions_all():
        print(f"  - {c}")
    if r.source:
        print(f"\nSource: {r.source}")
    return 0


def cmd_cite(args) -> int:
    print(_result(args.name).citation)
    return 0


def _assignments(result, items: list[str]) -> dict[str, np.ndarray]:
    """``key=value`` strings -> parsed values, checking unknown, duplicate and missing names."""
    known = [p.name for p in result.params]
    values: dict[str, np.ndarray] = {}
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"{item}: expected key=value (parameters of {result.name}: {', '.join(known)})")
        if key not in known:
            raise UsageError(f"{key}: not a parameter of {result.name} (parameters: {', '.join(known)})")
        if key in values:
            raise UsageError(f"{key}: given twice")
        try:
            values[key] = parse_value(key, text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    missing = [k for k in known if k not in values]
    if missing:
        raise UsageError(f"{missing[0]}: missing parameter of {result.name} "
                         f"(give {', '.join(k + '=...' for k in missing)})")
    return values


def cmd_eval(args) -> int:
    r = _result(args.name)
    values = _assignments(r, args.assignments)
    scalars = [p.name for p in r.params if not p.vector]
    shape = tuple(values[n].size for n in scalars)
    # one axis per scalar parameter: a single broadcast call covers the Cartesian product
    kw = {}
    for p in r.params:
        if p.vector:
            kw[p.name] = values[p.name]
        else:
            axis = [1] * len(scalars)
            axis[scalars.index(p.name)] = -1
            kw[p.name] = values[p.name].reshape(axis)
    try:
        out = r.evaluate(**kw)
    except ValueError as exc:  # the message starts with the offending parameter's name
        raise UsageError(str(exc)) from None
    if not isinstance(out, dict):
        out = {r.output_names[0]: out}
    # C order: the first parameter varies slowest
    cols = {n: np.broadcast_to(kw[n], shape).ravel() for n in scalars}
    npts = int(np.prod(shape))
    cells = {}  # outputs with entries of their own at each point: (npts, *extra)
    for k, v in out.items():
        v = np.asarray(v, dtype=np.float64)
        extra = v.shape[len(shape):] if v.ndim > len(shape) else ()
        v = np.broadcast_to(v, shape + extra).reshape((npts,) + extra)
        (cells if extra else cols)[k] = v if extra else v.ravel()
    header = [p.name for p in r.params] + list(out)
    if args.json:
        def item(h, i):
            if h in cells:
                return cells[h][i].tolist()
            return values[h].tolist() if h not in cols else float(cols[h][i])
        records = [{h: item(h, i) for h in header} for i in range(npts)]
        print("[\n" + ",\n".join(json.dumps(rec) for rec in records) + "\n]")  # one record a line
    else:
        vec_text = {p.name: ";".join(_fmt(x) for x in values[p.name].ravel()) for p in r.params if p.vector}

        def cell(h, i):
            if h in vec_text:
                return vec_text[h]
            if h in cells:
                return ";".join(_fmt(x) for x in cells[h][i].ravel())
            return _fmt(cols[h][i])
        lines = [",".join(header)]
        lines += [",".join(cell(h, i) for h in header) for i in range(npts)]
        print("\n".join(lines))
    return 0


def cmd_sweep(args) -> int:
    import warnings

    from ._sweep import SweepDomainWarning, sweep

    r = _result(args.name)
    values = _assignments(r, args.assignments)
    axes = {p.name: (values[p.name] if p.vector or values[p.name].size > 1 else float(values[p.name][0]))
            for p in r.params}
    zips = [tuple(k.strip() for k in group.split(",")) for group in args.zip]
    client = None
    if args.dask:
        from distributed import Client

        client = Client(args.dask)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SweepDomainWarning)
            ds = sweep(r.name, zip=zips, out=args.out, chunk_points=args.chunk, progress=True,
                       backend="dask" if client is not None else "local", client=client, **axes)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if client is not None:
            client.close()
    for w in caught:
        print(f"lazyrich sweep: {w.message}", file=sys.stderr)
    sizes = " x ".join(f"{d}={n}" for d, n in ds.sizes.items()) or "1 point"
    print(f"wrote {args.out}: {r.name} over {sizes}; {ds.attrs['invalid_points']} point(s) outside the domain")
    return 0


def cmd_verify(args) -> int:
    # imported here, not at module level: proofs imports derive, never the reverse
    import proofs

    return proofs.main(([args.pattern] if args.pattern else []) + (["--json"] if args.json else []))


def cmd_report(args) -> int:
    # imported here, not at module level: proofs imports derive, never the reverse
    from proofs import report

    try:
        index = report.build(Path(args.out), only=args.only)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"report written to {index}")
    return 0


# -- parser --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lazyrich",
        description="Closed forms of neural-network learning theory: list, print, cite, evaluate, verify.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the registered results", description="One line per result: "
                       "name(parameters) -> outputs, then its title. name[] marks a vector parameter.")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("latex", help="print a result's equation, conditions and source",
                       description="Print the LaTeX equation (an aligned block), then the conditions and source.")
    p.add_argument("name", help="result name, e.g. lambda_balanced.mode")
    p.set_defaults(func=cmd_latex)

    p = sub.add_parser("cite", help="print BibTeX for a result", description="Print the BibTeX of a result's "
                       "references.")
    p.add_argument("name", help="result name, e.g. lambda_balanced.mode")
    p.set_defaults(func=cmd_cite)

    p = sub.add_parser(
        "eval", help="evaluate a result on a grid (CSV or JSON)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Evaluate a result on the Cartesian product of the given values.\n\n"
                    "Each value is a number (t=1.5), a comma-separated list (t=0,1,2) or start:stop:num\n"
                    "(num points, both ends included, like numpy.linspace). A vector parameter takes its\n"
                    "comma-separated list whole. Columns: the parameters in the result's order (the\n"
                    "first varies slowest), then the outputs.",
        epilog="example: lazyrich eval lambda_balanced.mode lam=0 s=1 a0=0.01 t=0:5:11")
    p.add_argument("name", help="result name, e.g. lambda_balanced.mode")
    p.add_argument("assignments", nargs="*", metavar="key=value", help="one per parameter")
    p.add_argument("--json", action="store_true", help="print a JSON list of records instead of CSV")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "sweep", help="evaluate a result on a grid into a .nc or .zarr dataset",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Evaluate a result on the Cartesian product of the given values (as for eval) and\n"
                    "write a labelled dataset (xarray): coordinates are the parameters, variables the\n"
                    "outputs, attributes the LaTeX, conditions, citation and version. .zarr streams\n"
                    "chunk by chunk (any size); .nc is computed in memory. Points outside the domain\n"
                    "are NaN and counted.",
        epilog="example: lazyrich sweep lambda_balanced.mode lam=-5:5:101 s=1 a0=0.01 t=0:10:201 --out mode.nc")
    p.add_argument("name", help="result name, e.g. lambda_balanced.mode")
    p.add_argument("assignments", nargs="*", metavar="key=value", help="one per parameter")
    p.add_argument("--out", required=True, metavar="FILE", help="output file, ending in .nc or .zarr")
    p.add_argument("--zip", action="append", default=[], metavar="A,B",
                   help="zip these equal-length axes into one dimension (repeatable)")
    p.add_argument("--chunk", type=int, default=1 << 20, metavar="N", help="points per chunk (default 2^20)")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the chunks on the Dask scheduler at ADDRESS (e.g. tcp://host:8786)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("verify", help="check the claims (python -m proofs)",
                       description="Check every claim (matching PATTERN) and print a table; "
                                   "exits non-zero if a claim fails or none matches.")
    p.add_argument("pattern", nargs="?", default=None, help="glob on claim or result names")
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("report", help="write the HTML verification report",
                       description="Check every claim and write an HTML report; prints the path of index.html.")
    p.add_argument("--out", default="lazyrich-report", metavar="DIR",
                   help="output directory (default: lazyrich-report)")
    p.add_argument("--only", default=None, metavar="GLOB",
                   help="only the model sections whose key matches GLOB (e.g. 'diagonal*')")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``lazyrich`` command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"lazyrich {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `lazyrich eval ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
