"""The ``lazyrich`` command line, run as a real subprocess (``python -m derive``).

Every subprocess shares one kernel cache in a temporary directory (the first
``eval`` compiles there), so the user's cache is left alone. ``parse_value`` is
also tested in-process, with Hypothesis.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.cli import main, parse_value

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """``cli(*args)`` runs ``python -m derive *args`` and returns the CompletedProcess."""
    env = {**os.environ, "LAZYRICH_CACHE_DIR": str(tmp_path_factory.mktemp("lazyrich-cache"))}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "derive", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    return run


def saxe(s: float, a0: float, t: float) -> float:
    """The lam = 0 (Saxe et al. 2014) mode, a0 >= 0."""
    return s * a0 / (a0 + (s - a0) * math.exp(-2 * s * t))


def csv_rows(stdout: str) -> tuple[list[str], list[list[str]]]:
    lines = stdout.strip().splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


def test_list_latex_cite(cli):
    out = cli("list")
    assert out.returncode == 0, out.stderr
    assert any(line.startswith("lambda_balanced.mode(lam, s, a0, t) -> a ") for line in out.stdout.splitlines())
    assert "lambda_balanced.loss(lam, s[], a0[], t, Lstar) -> L " in out.stdout

    out = cli("latex", "lambda_balanced.mode")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("\\begin{aligned}") and "\\lambda" in out.stdout
    conditions = out.stdout.split("Conditions:")[1].split("Source:")[0]
    assert any("whitened inputs" in line for line in conditions.splitlines())
    assert "s is finite real with s > 0" in conditions
    assert "Source: " in out.stdout and "Saxe" in out.stdout

    out = cli("cite", "lambda_balanced.mode")
    assert out.returncode == 0, out.stderr
    assert "@inproceedings" in out.stdout and "saxe2014exact" in out.stdout


def test_eval_csv_and_json(cli):
    args = ("eval", "lambda_balanced.mode", "lam=0", "s=1", "a0=0.01", "t=0,1,2")
    out = cli(*args)
    assert out.returncode == 0, out.stderr
    header, rows = csv_rows(out.stdout)
    assert header == ["lam", "s", "a0", "t", "a"]
    assert len(rows) == 3
    assert [float(r[3]) for r in rows] == [0.0, 1.0, 2.0]
    a = [float(r[4]) for r in rows]
    assert a[0] == 0.01
    for t, value in zip([1.0, 2.0], a[1:]):
        assert value == pytest.approx(saxe(1.0, 0.01, t), rel=1e-12, abs=0)

    out = cli(*args, "--json")
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert len(records) == 3
    assert list(records[1]) == header
    assert [r["a"] for r in records] == a  # the same numbers, exactly (repr round trip)
    assert records[2] == {"lam": 0.0, "s": 1.0, "a0": 0.01, "t": 2.0, "a": a[2]}


def test_eval_grid_is_product_in_parameter_order(cli):
    # given t before lam on the command line: columns and axes still follow the result (lam first)
    out = cli("eval", "lambda_balanced.mode", "t=0:2:5", "lam=-1:1:3", "s=1", "a0=0.01")
    assert out.returncode == 0, out.stderr
    header, rows = csv_rows(out.stdout)
    assert header == ["lam", "s", "a0", "t", "a"]
    assert len(rows) == 15
    lam = np.array([float(r[0]) for r in rows])
    t = np.array([float(r[3]) for r in rows])
    a = np.array([float(r[4]) for r in rows])
    np.testing.assert_array_equal(lam, np.repeat([-1.0, 0.0, 1.0], 5))  # first parameter varies slowest
    np.testing.assert_array_equal(t, np.tile(np.linspace(0, 2, 5), 3))
    np.testing.assert_array_equal(a[t == 0], 0.01)
    saxe_rows = lam == 0
    np.testing.assert_allclose(a[saxe_rows], [saxe(1.0, 0.01, x) for x in t[saxe_rows]], rtol=1e-12, atol=0)
    assert a[lam == -1][-1] > a[lam == 0][-1] > 0  # lam != 0 learns faster from a small start


def test_eval_vector_parameters(cli):
    out = cli("eval", "lambda_balanced.loss", "lam=1", "s=2,1", "a0=0.01,0.02", "t=0", "Lstar=0.5")
    assert out.returncode == 0, out.stderr
    header, rows = csv_rows(out.stdout)
    assert header == ["lam", "s", "a0", "t", "Lstar", "L"]
    assert len(rows) == 1
    assert rows[0][:5] == ["1.0", "2.0;1.0", "0.01;0.02", "0.0", "0.5"]
    expected = 0.5 * ((2 - 0.01) ** 2 + (1 - 0.02) ** 2) + 0.5
    assert float(rows[0][5]) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("args, names", [
    (("lambda_balanced.mode", "lam=0", "s=-1", "a0=0.1", "t=1"), ["s:", "> 0"]),
    (("lambda_balanced.mode", "lam=0", "s=1", "a0=0.1", "t=-1"), ["t:", ">= 0"]),
    (("lambda_balanced.mode", "lam=0", "s=abc", "a0=0.1", "t=1"), ["s:", "abc"]),
    (("lambda_balanced.mod", "lam=0"), ["no result named", "lambda_balanced.mode"]),
])
def test_eval_invalid_input(cli, args, names):
    out = cli("eval", *args)
    assert out.returncode == 2
    assert out.stdout == ""
    for n in names:
        assert n in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", [
    (("lambda_balanced.mode", "lam=0", "s=1", "a0=0.1", "t=1:0"), "t: expected start:stop:num"),
    (("lambda_balanced.mode", "lam=0", "s=1", "a0=0.1"), "t: missing parameter"),
    (("lambda_balanced.mode", "lam=0", "s=1", "a0=0.1", "t=1", "q=2"), "q: not a parameter"),
    (("lambda_balanced.mode", "lam=0", "s=1", "a0=0.1", "t=1", "t=2"), "t: given twice"),
    (("lambda_balanced.loss", "lam=0", "s=1,2", "a0=0.1", "t=1", "Lstar=0"), "a0: must have the same length"),
])
def test_eval_usage_errors_in_process(capsys, monkeypatch, tmp_path, args, message):
    # these fail before any kernel is loaded, so they need no subprocess
    monkeypatch.setenv("LAZYRICH_CACHE_DIR", str(tmp_path))  # all the same, never touch the user's cache
    assert main(["eval", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


def test_verify_no_match_fails(cli):
    out = cli("verify", "NO_SUCH_PATTERN_xyz")
    assert out.returncode != 0


# -- parse_value, in-process ---------------------------------------------------------
finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, width=64)


@settings(max_examples=50, deadline=None)
@given(start=finite, stop=finite, num=st.integers(min_value=1, max_value=200))
def test_parse_value_linspace(start, stop, num):
    got = parse_value("t", f"{start!r}:{stop!r}:{num}")
    expected = np.linspace(start, stop, num)
    assert got.dtype == np.float64 and got.shape == (num,)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=10))
def test_parse_value_list_round_trips(xs):
    got = parse_value("s", ",".join(repr(x) for x in xs))
    assert [repr(float(v)) for v in got] == [repr(x) for x in xs]


@pytest.mark.parametrize("text", ["abc", "", "1,,2", "0:1:x", "1:0", "0:1:0", "0:1:-2", "0:1:2.5", "0:1:2:3",
                                  "a:1:2"])
def test_parse_value_rejects_malformed(text):
    with pytest.raises(ValueError, match=r"^lam: "):
        parse_value("lam", text)


def test_eval_matrix_parameter_and_output_in_process(capsys, monkeypatch, tmp_path):
    # a result with a hand-written evaluator: no kernel, so no subprocess is needed
    import sympy as sp

    import derive
    from derive import Param, Result, real

    A = sp.MatrixSymbol("A", 2, 2)
    derive.register(Result("test.cli_matrix", title="scaled matrix", params=[Param("A", real(), ndim=2),
                                                                            Param("c", real())],
                           expr=sp.Symbol("c") * A, output="B",
                           evaluator=lambda A, c: np.multiply.outer(c, A)), replace=True)
    monkeypatch.setenv("LAZYRICH_CACHE_DIR", str(tmp_path))
    assert main(["eval", "test.cli_matrix", "A=[[1,2],[3,4]]", "c=1,-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["A,c,B", "1.0;2.0;3.0;4.0,1.0,1.0;2.0;3.0;4.0", "1.0;2.0;3.0;4.0,-1.0,-1.0;-2.0;-3.0;-4.0"]
    assert main(["eval", "test.cli_matrix", "A=[[1,2],[3,4]]", "c=2", "--json"]) == 0
    assert '"B": [[2.0, 4.0], [6.0, 8.0]]' in capsys.readouterr().out
    assert main(["eval", "test.cli_matrix", "A=[[1,2],[3", "c=2"]) == 2
    assert "A: expected a JSON nested list" in capsys.readouterr().err
