#!/usr/bin/env python
r"""Benchmark: ``derive.get("lambda_balanced.mode").evaluate`` against its baselines.

Run from the repository root::

    python benchmarks/bench_mode.py                      # 10^7 points, 5 repeats
    python benchmarks/bench_mode.py --points 1e6 --repeats 3 --json benchmarks/results/mode.json

Subject: ``evaluate(lam=..., s=1.0, a0=..., t=...)`` over a broadcast grid
``lam (n_lam, 1, 1) x a0 (1, 10, 1) x t (1, 1, n_t)`` with ``n_lam = 100``
(``lam`` in [-10, 10], 0 included exactly), ``a0`` geometric in [0.001, 0.5] and
``t`` uniform in [0, 10] (0 included), ``n_t = points / 1000``.

Baselines (same grid, same formula: the stable decaying-exponential form of
``derive._lambda_balanced._mode_steps`` for lam != 0, Saxe's logistic at lam = 0):

  (i)   hand-written Numba: ``@njit(parallel=True, error_model='numpy', cache=True)``
        prange over the (lam, a0) axes, inner loop over t, calling an
        ``@njit(inline='always')`` scalar transcription of ``_mode_steps``;
  (ii)  the same formula in vectorised NumPy (``np.where`` for the branches);
  (iii) ``sympy.lambdify(..., modules="numpy")`` without CSE (see LAMBDIFY_NOTE);
  (iv)  ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10, atol 1e-12) per point on
        ``da/dt = sqrt(lam^2 + 4 a^2) (s - a)``, on a sample of grid points.

Also: (v) compile time of a fresh ~1000-operation kernel (own cache directory, in a
subprocess; the library default takes the LLVM route for kernels this large, see
``numerics._llvm_kernel``, and the same kernel through Numba is shown beside it); (vi) cold start from the on-disk cache (new interpreters); (vii) an
exp/SVML experiment. Throughput is the median over ``--repeats`` of
``time.perf_counter`` timings after a warm-up call; every Numba function is
compiled (or loaded) before it is timed. Ratios are medians of per-repeat ratios
of calls interleaved in the same repeat, so that a noisy (shared) machine moves
both sides of a ratio together; the evaluate / (i) target uses at least 15
alternating A-B / B-A pairs.

This file touches nothing outside a temporary directory and the usual caches
(lazyrich's kernel cache, Numba's ``__pycache__`` beside this file).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

REPO = Path(__file__).resolve().parent.parent
NAME = "lambda_balanced.mode"

TARGETS = {  # the project's issue
    "hand": 1.25,       # time(evaluate) / time(i)      <= 1.25
    "numpy": 4.0,       # time(NumPy) / time(evaluate)   >= 4
    "lambdify": 20.0,   # time(lambdify) / time(evaluate) >= 20
    "compile_s": 1.0,   # compile of a fresh 1000-op kernel < 1 s
    "cold_s": 1.5,      # interpreter start -> end of first evaluate < 1.5 s
}

LAMBDIFY_NOTE = (
    "lambdify of the STABLE form was tried during development: substituting the 22 _mode_steps locals "
    "into the final value (value.subs(sym, expr), last step first) takes ~34 s and gives a 90,840-op tree "
    "(xreplace: ~80 s, same tree), and sympy.lambdify(modules='numpy') then fails after ~2 min with "
    "ValueError: The argument 'zoo' is not comparable (NumPy printer: simplify_logic on the Piecewise "
    "conditions rebuilds Max(log|b|, -K t/2) with zoo). Baseline (iii) therefore lambdifies the DISPLAY "
    "expression derive.get('lambda_balanced.mode').expr (Riccati nu-form + Saxe, 496 ops, no CSE). "
    "Re-check with --try-stable-lambdify."
)


# ---------------------------------------------------------------------------------
# (i) hand-written Numba: _mode_steps transcribed by hand
# ---------------------------------------------------------------------------------
@njit(inline="always", error_model="numpy")
def _mode_scalar(lam, s, a0, t):
    if t == 0.0:
        return a0
    if lam == 0.0:  # Saxe, McClelland, Ganguli (2014) and its time reversal for a0 < 0
        e2 = math.exp(-2.0 * s * t)
        if a0 >= 0.0:
            return s * a0 / (a0 + (s - a0) * e2)
        return s * a0 * e2 / (s + a0 * math.expm1(-2.0 * s * t))
    s2 = s * s
    K = math.sqrt(lam * lam + 4.0 * s2)
    q0 = math.sqrt(lam * lam + 4.0 * a0 * a0)
    if lam >= 0.0:
        c0a = math.sqrt(2.0 * a0 * a0 / (q0 + lam))
        d0a = math.sqrt(0.5 * (q0 + lam))
    else:
        c0a = math.sqrt(0.5 * (q0 - lam))
        d0a = math.sqrt(2.0 * a0 * a0 / (q0 - lam))
    c0s = -c0a if a0 < 0.0 else c0a
    Km = K - lam if lam <= 0.0 else 4.0 * s2 / (K + lam)
    Kp = K + lam if lam >= 0.0 else 4.0 * s2 / (K - lam)
    K2s = K + 2.0 * s
    omX = (Km + 2.0 * s) / K2s
    opX = (Kp + 2.0 * s) / K2s
    X = lam / K2s
    w = c0a + d0a
    if a0 >= 0.0:
        b = omX * c0a + opX * d0a
        g = lam * (a0 - s) * (4.0 * (a0 + s) / (q0 + K) + 2.0) / (K2s * w)
    else:
        b = lam / w + X * w
        al = abs(lam)
        g = -(4.0 * a0 * a0 / (q0 + al) + al * (4.0 * s2 / (K + al) + 2.0 * s) / K2s + 2.0 * abs(a0)) / w
    # sigma = max(|b|, h), h = sqrt(E): one transcendental per point (derive._lambda_balanced._mode_steps)
    lb = math.log(abs(b))
    ib = math.exp(-max(lb, -700.0))  # 1/|b|
    bb = b * ib if lb > -700.0 else math.copysign(1.0, b)
    hK = 0.5 * K * t
    if hK < 0.5:
        m = math.expm1(-hK)
        h = 1.0 + m
    else:
        h = math.exp(-hK)
        m = h - 1.0
    om = -m * (2.0 + m)
    if hK >= -lb:  # sigma = |b|
        eml = ib
        bs = bb
        Es = h * ib * h if hK < 700.0 else math.exp(-K * t - lb)
        Ess = Es * ib if lb > -700.0 else math.exp(-K * t - 2.0 * lb)
    else:  # sigma = h
        if hK < 700.0:
            eml = 1.0 / h
            bs = b / h
        else:
            eml = math.exp(700.0)
            bs = math.copysign(math.exp(lb + hK), b)
        Es = h
        Ess = 1.0
    # F1, F2: whichever two-term sum rounds least (derive._lambda_balanced._pick)
    x1 = 0.5 * Kp * bs
    x2 = -s * g * Es
    y1 = K * opX * d0a * eml
    y2 = s * g * om * eml
    F1 = x1 + x2 if abs(x1) + abs(x2) <= abs(y1) + abs(y2) else y1 + y2
    x1 = s * g * Es
    x2 = 0.5 * Km * bs
    y1 = K * omX * c0s * eml
    y2 = -s * g * om * eml
    F2 = x1 + x2 if abs(x1) + abs(x2) <= abs(y1) + abs(y2) else y1 + y2
    D = 4.0 * K * K / K2s * Ess + (bs * bs + g * g * Ess) * om
    return F1 * F2 / (s * D)


@njit(parallel=True, error_model="numpy", cache=True)
def hand_grid(lam, s, a0, t):
    """(i): out[i, j, k] = a(lam[i], s, a0[j], t[k]) for 1-D lam, a0, t and scalar s."""
    nl, na, nt = lam.shape[0], a0.shape[0], t.shape[0]
    out = np.empty((nl, na, nt))
    for ij in prange(nl * na):
        i = ij // na
        j = ij - i * na
        li = lam[i]
        aj = a0[j]
        for k in range(nt):
            out[i, j, k] = _mode_scalar(li, s, aj, t[k])
    return out


# diagnostic only: the same hand-written scalar, one call per point on flattened
# (materialised) inputs, so that no (lam, a0)-only work can be hoisted out of the t loop
@njit(parallel=True, error_model="numpy", cache=True)
def hand_flat(lam, s, a0, t):
    n = lam.shape[0]
    out = np.empty(n)
    for p in prange(n):
        out[p] = _mode_scalar(lam[p], s, a0[p], t[p])
    return out


def make_generated_loop(scalar):
    """Diagnostic: lazyrich's generated scalar kernel (``result.kernel.scalar``) in the loop of (i)."""
    @njit(parallel=True, error_model="numpy")
    def loop(lam, s, a0, t):
        nl, na, nt = lam.shape[0], a0.shape[0], t.shape[0]
        out = np.empty((nl, na, nt))
        for ij in prange(nl * na):
            i = ij // na
            j = ij - i * na
            li = lam[i]
            aj = a0[j]
            for k in range(nt):
                out[i, j, k] = scalar(li, s, aj, t[k])
        return out
    return loop


# (vii) exp experiment kernels
@njit(parallel=True, error_model="numpy", cache=True)
def _exp_prange(x):
    out = np.empty_like(x)
    for i in prange(x.shape[0]):
        out[i] = math.exp(x[i])
    return out


@njit(error_model="numpy", cache=True)
def _exp_serial(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = math.exp(x[i])
    return out


# ---------------------------------------------------------------------------------
# (ii) vectorised NumPy, the same formula
# ---------------------------------------------------------------------------------
def mode_numpy(lam, s, a0, t):
    """(ii): the _mode_steps formula on NumPy broadcasts (np.where for every branch)."""
    with np.errstate(all="ignore"):
        s2 = s * s
        K = np.sqrt(lam * lam + 4.0 * s2)
        q0 = np.sqrt(lam * lam + 4.0 * a0 * a0)
        lpos = lam >= 0.0
        c0a = np.sqrt(np.where(lpos, 2.0 * a0 * a0 / (q0 + lam), 0.5 * (q0 - lam)))
        d0a = np.sqrt(np.where(lpos, 0.5 * (q0 + lam), 2.0 * a0 * a0 / (q0 - lam)))
        c0s = np.where(a0 < 0.0, -c0a, c0a)
        Km = np.where(lam <= 0.0, K - lam, 4.0 * s2 / (K + lam))
        Kp = np.where(lpos, K + lam, 4.0 * s2 / (K - lam))
        K2s = K + 2.0 * s
        omX = (Km + 2.0 * s) / K2s
        opX = (Kp + 2.0 * s) / K2s
        X = lam / K2s
        w = c0a + d0a
        apos = a0 >= 0.0
        b = np.where(apos, omX * c0a + opX * d0a, lam / w + X * w)
        al = np.abs(lam)
        g = np.where(apos, lam * (a0 - s) * (4.0 * (a0 + s) / (q0 + K) + 2.0) / (K2s * w),
                     -(4.0 * a0 * a0 / (q0 + al) + al * (4.0 * s2 / (K + al) + 2.0 * s) / K2s + 2.0 * np.abs(a0)) / w)
        lb = np.log(np.abs(b))
        ib = np.exp(-np.maximum(lb, -700.0))  # 1/|b|
        bb = np.where(lb > -700.0, b * ib, np.sign(b))
        hK = np.broadcast_to(0.5 * K * t, np.broadcast_shapes(np.shape(K), np.shape(t), np.shape(lb)))
        small = hK < 0.5
        u = np.empty(hK.shape)  # one transcendental per point, as the kernel (ufunc where= skips the rest)
        np.expm1(-hK, out=u, where=small)
        np.exp(-hK, out=u, where=~small)
        h = np.where(small, 1.0 + u, u)
        m = np.where(small, u, u - 1.0)
        om = -m * (2.0 + m)
        caseA = hK >= -lb  # sigma = |b|; else sigma = h
        far = hK >= 700.0
        rare = np.zeros(hK.shape)  # the extreme branches' exps, only where they are taken
        np.exp(np.where(caseA, -2.0 * hK - lb, lb + hK), out=rare, where=far)
        eml = np.where(caseA, ib, np.where(far, np.exp(700.0), 1.0 / h))
        bs = np.where(caseA, bb, np.where(far, np.sign(b) * rare, b / h))
        Es = np.where(caseA, np.where(far, rare, h * ib * h), h)
        tiny = np.zeros(hK.shape)
        np.exp(-2.0 * hK - 2.0 * lb, out=tiny, where=caseA & (lb <= -700.0))
        Ess = np.where(caseA, np.where(lb > -700.0, Es * ib, tiny), 1.0)
        x1, x2 = 0.5 * Kp * bs, -s * g * Es
        y1, y2 = K * opX * d0a * eml, s * g * om * eml
        F1 = np.where(np.abs(x1) + np.abs(x2) <= np.abs(y1) + np.abs(y2), x1 + x2, y1 + y2)
        x1, x2 = s * g * Es, 0.5 * Km * bs
        y1, y2 = K * omX * c0s * eml, -s * g * om * eml
        F2 = np.where(np.abs(x1) + np.abs(x2) <= np.abs(y1) + np.abs(y2), x1 + x2, y1 + y2)
        D = 4.0 * K * K / K2s * Ess + (bs * bs + g * g * Ess) * om
        general = F1 * F2 / (s * D)
        e2 = np.exp(-2.0 * s * t)
        saxe = np.where(apos, s * a0 / (a0 + (s - a0) * e2), s * a0 * e2 / (s + a0 * np.expm1(-2.0 * s * t)))
        out = np.where(t == 0.0, a0, np.where(lam == 0.0, saxe, general))
    return np.broadcast_to(out, np.broadcast_shapes(np.shape(lam), np.shape(a0), np.shape(t), np.shape(s)))


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------
def make_grid(points: float):
    n_lam, n_a0 = 100, 10
    n_t = max(2, int(round(points / (n_lam * n_a0))))
    lam = np.concatenate([np.linspace(-10.0, 0.0, 50), np.linspace(0.0, 10.0, 51)[1:]])  # 100 values, 0.0 exactly
    a0 = np.geomspace(0.001, 0.5, n_a0)
    t = np.linspace(0.0, 10.0, n_t)
    assert lam.size == n_lam and (lam == 0.0).sum() == 1 and t[0] == 0.0
    return lam, a0, t


def shaped(lam, a0, t):
    return lam.reshape(-1, 1, 1), a0.reshape(1, -1, 1), t.reshape(1, 1, -1)


def clock(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def med(xs):
    return statistics.median(xs)


def deviation(x, ref):
    """Max relative deviation, max absolute deviation, #points off by more than 1e-12 both ways, #NaN."""
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    dev = np.abs(x - ref)
    with np.errstate(all="ignore"):
        rel = np.where(ref != 0.0, dev / np.abs(ref), dev)
    nan = int(np.isnan(x).sum() + np.isnan(ref).sum())
    bad = int(np.count_nonzero(~((dev <= 1e-12 * np.abs(ref)) | (dev <= 1e-12))))
    return float(np.nanmax(rel)), float(np.nanmax(dev)), bad, nan


def run_py(src: str, env: dict, timeout: float = 900.0) -> tuple[float, dict]:
    """Run ``python -c src`` (its last stdout line is JSON); return (wall seconds, parsed JSON)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", src], env=env, cwd=str(REPO), capture_output=True, text=True,
                          timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


def fresh_env(cache: str) -> dict:
    env = dict(os.environ)
    env["LAZYRICH_CACHE_DIR"] = cache
    return env


# ---------------------------------------------------------------------------------
# (v) compile time of a fresh 1000-operation kernel (runs in its own interpreter)
# ---------------------------------------------------------------------------------
COMPILE_SRC = r'''
import json, random, time
t0 = time.perf_counter()
import sympy as sp
from sympy.codegen.cfunctions import log1p
import derive
from derive import Param, Result, real
from numba.core import event
t_import = time.perf_counter() - t0

X = sp.symbols("x0:4", real=True)

def poly(rng):
    terms = []
    for _ in range(rng.randint(2, 4)):
        m = sp.Rational(rng.randint(1, 9), rng.randint(1, 9)) * rng.choice([-1, 1])
        for _ in range(rng.randint(1, 2)):
            m = m * rng.choice(X)
        terms.append(m)
    return sp.Add(*terms) + rng.randint(1, 5)

FUNCS = (lambda p: sp.exp(p / 8), lambda p: sp.sqrt(1 + p**2), lambda p: log1p(p**2))

def random_expr(seed, target):
    rng = random.Random(seed)
    e = sp.Integer(0)
    while sp.count_ops(e) < target:
        term = sp.Rational(rng.randint(1, 9), rng.randint(1, 9))
        for _ in range(rng.randint(1, 3)):
            term = term * rng.choice(FUNCS)(poly(rng))
        e = e + term
    return e

def compile_seconds(buffer):
    """Seconds inside top-level numba:compile events (nested ones count in their parent), per function."""
    per, depth, start = {}, 0, None
    for ts, ev in buffer:
        if ev.is_start:
            if depth == 0:
                start = ts
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                name = getattr(ev.data.get("dispatcher"), "__name__", None) or str(ev.data.get("dispatcher"))
                per[name] = per.get(name, 0.0) + ts - start
    return per

out = {"import_s": t_import, "runs": []}
for seed in SEEDS:
    tb = time.perf_counter()
    expr = random_expr(seed, TARGET)
    build = time.perf_counter() - tb
    res = Result(f"bench.random_{seed}", title="random benchmark expression",
                 params=[Param(str(x), real()) for x in X], expr=expr, output="y", references=[], **KW)
    with event.install_recorder("numba:compile") as rec:
        tk = time.perf_counter()
        kern = res.kernel
        total = time.perf_counter() - tk
    per = compile_seconds(rec.buffer)
    numba_s = sum(per.values())
    v = res.evaluate(x0=0.1, x1=0.2, x2=0.3, x3=0.4)
    out["runs"].append({"seed": seed, "ops": int(sp.count_ops(expr)), "build_expr_s": build, "kernel_s": total,
                        "numba_compile_s": numba_s, "numba_per_function_s": per, "codegen_and_import_s": total - numba_s,
                        "source_lines": sum(1 for _ in open(kern.path)), "value": float(v),
                        "backend": getattr(kern.module, "backend", "numba")})
    print(json.dumps(out), flush=True)
if SCALING:  # the library's stable rewrite alone (numerics._codegen._stable: expm1_opt, log1p_opt) vs size
    from numerics._codegen import _stable
    out["rewrite_scaling"] = []
    for n in SCALING:
        e = random_expr(0, n)
        tr = time.perf_counter()
        _stable(e, True)
        out["rewrite_scaling"].append([int(sp.count_ops(e)), time.perf_counter() - tr])
        print(json.dumps(out), flush=True)
'''


def run_py_partial(src: str, env: dict, timeout: float) -> tuple[float, dict | None, bool]:
    """Like run_py, but on timeout return the last JSON line printed so far (and timed_out=True)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", src], env=env, cwd=str(REPO), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()  # our own child, by its handle
        stdout, stderr = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    if proc.returncode != 0 and not timed_out:
        raise RuntimeError(f"subprocess failed ({proc.returncode}):\n{stderr[-4000:]}")
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    return wall, (json.loads(lines[-1]) if lines else None), timed_out


def bench_compile(target_ops: int, timeout: float) -> dict:
    """(v): the library default (rewrite=True) in one fresh interpreter, then rewrite=False in another.

    Each interpreter gets its own fresh LAZYRICH_CACHE_DIR. The default run is killed after ``timeout`` s.
    """
    out = {}
    for label, kw, seeds, scaling, limit, extra_env in (
            ("default", "", (0,), (), timeout, {}),
            ("numba_route", "", (0,), (), timeout, {"LAZYRICH_LLVM_KERNELS": "0"}),
            ("rewrite_false", "rewrite=False", (0, 1), (100, 200, 400), 900.0, {})):
        tmp = tempfile.mkdtemp(prefix="lazyrich-bench-compile-")
        try:
            src = (COMPILE_SRC.replace("SEEDS", repr(tuple(seeds))).replace("TARGET", str(target_ops))
                   .replace("**KW", kw).replace("SCALING", repr(tuple(scaling))))
            wall, res, timed_out = run_py_partial(src, {**fresh_env(tmp), **extra_env}, limit)
            res = res or {"runs": []}
            res.update(wall_s=wall, timed_out=timed_out, limit_s=limit)
            out[label] = res
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------------
# (vi) cold start from the cache
# ---------------------------------------------------------------------------------
COLD_SRC = r'''
import time
_t0 = time.perf_counter()
import numpy
_t1 = time.perf_counter()
# Numba is not imported here: a process whose kernels are on the LLVM route never needs it
_t2 = time.perf_counter()
import sympy
_t3 = time.perf_counter()
import derive
_t4 = time.perf_counter()
_r = derive.get("lambda_balanced.mode")
_k = _r.kernel
_t5 = time.perf_counter()
_v = _r.evaluate(lam=1.0, s=1.0, a0=0.01, t=1.0)
_t6 = time.perf_counter()
import json
import sys
out = {"total_s": _t6 - _t0, "numpy_s": _t1 - _t0, "numba_s": _t2 - _t1, "sympy_s": _t3 - _t2,
       "derive_s": _t4 - _t3, "kernel_s": _t5 - _t4, "first_eval_s": _t6 - _t5, "value": float(_v),
       "numba_imported": "numba" in sys.modules, "scipy_imported": "scipy" in sys.modules}
if DIAG:  # after the timed region: what the kernel lookup spends outside Numba
    _a = time.perf_counter(); _spec = _r.kernel_spec(); _b = time.perf_counter(); _spec.digest(); _c = time.perf_counter()
    out.update(kernel_spec_s=_b - _a, digest_s=_c - _b)
print(json.dumps(out), flush=True)
if OSEXIT:  # diagnostic: skip interpreter teardown
    import os
    os._exit(0)
'''

BARE_SRC = "import json; print(json.dumps({}))"


def bench_cold(runs: int = 3) -> dict:
    tmp = tempfile.mkdtemp(prefix="lazyrich-bench-cold-")
    try:
        env = fresh_env(tmp)
        plain = COLD_SRC.replace("DIAG", "False").replace("OSEXIT", "False")
        warm_wall, _ = run_py(plain, env)  # compiles the kernel into the fresh cache
        samples, osexit = [], []
        for _ in range(runs):
            wall, res = run_py(plain, env)
            res["wall_s"] = wall
            samples.append(res)
            wall, res = run_py(COLD_SRC.replace("DIAG", "False").replace("OSEXIT", "True"), env)
            osexit.append(wall)
        _, diag = run_py(COLD_SRC.replace("DIAG", "True").replace("OSEXIT", "False"), env)
        bare = [run_py(BARE_SRC, env)[0] for _ in range(runs)]
        keys = [k for k in samples[0] if k.endswith("_s")]
        return {"warmup_compile_wall_s": warm_wall, "runs": samples,
                "median": {k: med([r[k] for r in samples]) for k in keys},
                "diag": diag, "bare_interpreter_wall_s": med(bare), "wall_with_os_exit_s": med(osexit)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------
# (iii) lambdify, (iv) solve_ivp
# ---------------------------------------------------------------------------------
def lambdify_fn(try_stable: bool):
    import sympy as sp

    import derive
    from derive import _lambda_balanced as L

    args = [L.lam, L.s, L.a0, L.t]
    if try_stable:
        t0 = time.perf_counter()
        e = L.MODE_STABLE
        for sym, val in reversed(L.MODE_STEPS):
            e = e.subs(sym, val)
        print(f"  stable form substituted in {time.perf_counter() - t0:.1f} s, count_ops = {sp.count_ops(e)}",
              flush=True)
        try:
            t1 = time.perf_counter()
            f = sp.lambdify(args, e, modules="numpy", cse=False)
            print(f"  stable form lambdified in {time.perf_counter() - t1:.1f} s", flush=True)
            return f, "stable form (substituted _mode_steps)", int(sp.count_ops(e))
        except Exception as exc:  # noqa: BLE001 - reported, then fall back
            print(f"  stable form: lambdify failed after {time.perf_counter() - t1:.1f} s: "
                  f"{type(exc).__name__}: {exc}", flush=True)
    expr = derive.get(NAME).expr
    return sp.lambdify(args, expr, modules="numpy", cse=False), "DISPLAY expression (Riccati nu-form)", \
        int(sp.count_ops(expr))


def ivp_points(lam, a0, t, n, seed=12345):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, lam.size, n)
    j = rng.integers(0, a0.size, n)
    k = rng.integers(0, t.size, n)
    return lam[i], a0[j], t[k]


def solve_ivp_points(lams, s, a0s, ts):
    from scipy.integrate import solve_ivp

    out = np.empty(lams.size)
    for p in range(lams.size):
        l2, a_0, tf = lams[p] ** 2, a0s[p], ts[p]
        if tf == 0.0:
            out[p] = a_0
            continue

        def rhs(_, y, l2=l2):
            a = y[0]
            return [math.sqrt(l2 + 4.0 * a * a) * (s - a)]

        sol = solve_ivp(rhs, (0.0, tf), [a_0], method="DOP853", rtol=1e-10, atol=1e-12)
        out[p] = sol.y[0, -1]
    return out


# ---------------------------------------------------------------------------------
# (vii) exp experiment
# ---------------------------------------------------------------------------------
def bench_exp(n: int, repeats: int) -> dict:
    x = -np.linspace(0.0, 50.0, n)
    out = np.empty_like(x)
    _exp_prange(x[:10])
    _exp_serial(x[:10])

    def chunked():
        c = 1 << 14
        for i in range(0, n, c):
            np.exp(x[i:i + c], out=out[i:i + c])

    res = {}
    for label, fn in (("numpy_exp", lambda: np.exp(x)), ("numpy_exp_chunked_16k", chunked),
                      ("numba_math_exp_1thread", lambda: _exp_serial(x)),
                      ("numba_math_exp_prange", lambda: _exp_prange(x))):
        fn()
        res[label + "_ns_per_elem"] = med([clock(fn)[0] for _ in range(repeats)]) / n * 1e9
    res["USING_SVML"] = bool(numba.config.USING_SVML)
    try:
        import icc_rt  # noqa: F401
        res["icc_rt"] = True
    except ImportError:
        res["icc_rt"] = False
    return res


# ---------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=float, default=1e7, help="grid points for evaluate, (i) and (ii) (default 1e7)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per method; medians reported (default 5)")
    ap.add_argument("--json", metavar="FILE", help="also write all numbers as JSON to FILE")
    ap.add_argument("--lambdify-points", type=float, default=None,
                    help="points of the grid for (iii) lambdify (default: the --points grid itself, as the issue "
                         "defines the ratio; a smaller subgrid is compared per point on that same subgrid)")
    ap.add_argument("--ivp-points", type=int, default=1000, help="grid points solved by (iv) solve_ivp (default 1000)")
    ap.add_argument("--compile-ops", type=int, default=1000, help="count_ops of the random kernel for (v)")
    ap.add_argument("--compile-timeout", type=float, default=300.0,
                    help="kill the default-settings compile of (v) after this many seconds (default 300)")
    ap.add_argument("--cold-runs", type=int, default=3, help="cold-start interpreters for (vi) (default 3)")
    ap.add_argument("--try-stable-lambdify", action="store_true",
                    help="try lambdify of the substituted stable form first (minutes; see LAMBDIFY_NOTE)")
    ap.add_argument("--skip-subprocess", action="store_true", help="skip (v) compile and (vi) cold start")
    args = ap.parse_args(argv)
    R = max(1, args.repeats)
    warnings.simplefilter("ignore", RuntimeWarning)

    import derive  # noqa: E402  (after argparse: --help stays fast)

    result = derive.get(NAME)
    lam1, a01, t1 = make_grid(args.points)
    lam, a0, t = shaped(lam1, a01, t1)
    s = 1.0
    npts = lam1.size * a01.size * t1.size
    J: dict = {"machine": {"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                           "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                           "platform": platform.platform(), "processor": platform.processor()},
               "points": npts, "repeats": R, "grid": {"lam": [lam1.size, -10.0, 10.0], "a0": [a01.size, 0.001, 0.5],
                                                     "t": [t1.size, 0.0, 10.0], "s": s}}
    print(f"lazyrich benchmark: {NAME}.evaluate over {npts:.3g} points "
          f"(lam {lam1.size} x a0 {a01.size} x t {t1.size}, s = {s}); medians of {R} repeats")
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = "?"
    try:
        dirty = [ln[3:] for ln in subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                                                  capture_output=True, text=True, timeout=10).stdout.splitlines()]
    except (OSError, subprocess.SubprocessError):
        dirty = []
    J["revision"], J["modified_files"] = rev, dirty
    print(f"checkout: {rev}" + (f" (modified: {', '.join(dirty)})" if dirty else ""))
    print(f"machine: {os.cpu_count()} CPUs, Numba threads {numba.get_num_threads()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, Numba {numba.__version__}")

    # -- warm-up: compile / load every Numba function (excluded from throughput) ----------
    tk, kern = clock(lambda: result.kernel)
    print(f"warm-up: lazyrich kernel loaded/compiled in {tk:.2f} s ({kern.path.name})")
    gen_loop = make_generated_loop(kern.scalar)
    tw, _ = clock(lambda: (result.evaluate(lam=lam, s=s, a0=a0, t=t[..., :8]), gen_loop(lam1, s, a01, t1[:8]),
                           hand_grid(lam1, s, a01, t1[:8]), hand_flat(lam1[:4], s, lam1[:4], lam1[:4])))
    print(f"warm-up: first calls (grid driver, hand-written kernels) {tw:.2f} s")

    # -- correctness ------------------------------------------------------------------
    ref = result.evaluate(lam=lam, s=s, a0=a0, t=t)
    hand = hand_grid(lam1, s, a01, t1)
    nump = mode_numpy(lam, s, a0, t)
    J["check"] = {}
    print("\ncorrectness vs evaluate (pass: |x - ref| <= 1e-12 |ref| or <= 1e-12):")
    for label, x in (("(i) hand-written Numba", hand), ("(ii) NumPy", nump)):
        rel, ab, bad, nan = deviation(x, ref)
        ok = bad == 0 and nan == 0
        J["check"][label] = {"max_rel": rel, "max_abs": ab, "bad": bad, "nan": nan, "pass": ok}
        print(f"  {label:<24s} max rel dev {rel:.2e}, max abs dev {ab:.2e}, NaN {nan}, "
              f"points outside tol {bad}  {'PASS' if ok else 'FAIL'}")
    del hand, nump

    # -- (vii) before the big arrays are timed: nothing; throughput, interleaved --------
    T = {k: [] for k in ("eval", "hand", "numpy", "eval_1t", "hand_1t")}
    ratios = {k: [] for k in ("hand", "numpy", "hand_1t")}
    nthreads = numba.get_num_threads()
    print("\ntiming evaluate, (i) and (ii) interleaved ...", flush=True)
    for _ in range(R):
        te, _ = clock(lambda: result.evaluate(lam=lam, s=s, a0=a0, t=t))
        th, _ = clock(lambda: hand_grid(lam1, s, a01, t1))
        tn, _ = clock(lambda: mode_numpy(lam, s, a0, t))
        numba.set_num_threads(1)
        try:
            te1, _ = clock(lambda: result.evaluate(lam=lam, s=s, a0=a0, t=t))
            th1, _ = clock(lambda: hand_grid(lam1, s, a01, t1))
        finally:
            numba.set_num_threads(nthreads)
        for k, v in (("eval", te), ("hand", th), ("numpy", tn), ("eval_1t", te1), ("hand_1t", th1)):
            T[k].append(v)
        ratios["hand"].append(te / th)
        ratios["numpy"].append(tn / te)
        ratios["hand_1t"].append(te1 / th1)

    # the headline ratio evaluate / (i) once more, from many short A-B / B-A pairs: on a shared
    # 2-core machine the second core comes and goes, and a pair shares whatever the machine gives
    npairs = max(15, 3 * R)
    pairs = []
    for p in range(npairs):
        if p % 2 == 0:
            te, _ = clock(lambda: result.evaluate(lam=lam, s=s, a0=a0, t=t))
            th, _ = clock(lambda: hand_grid(lam1, s, a01, t1))
        else:
            th, _ = clock(lambda: hand_grid(lam1, s, a01, t1))
            te, _ = clock(lambda: result.evaluate(lam=lam, s=s, a0=a0, t=t))
        pairs.append(te / th)

    # diagnostic: hand-written scalar per point on flattened inputs (no hoisting possible)
    nflat = min(npts, 2_000_000)
    L3, A3, T3 = np.broadcast_arrays(lam, a0, t)
    fl, fa, ft = (np.ascontiguousarray(x.reshape(-1)[:nflat]) for x in (L3, A3, T3))
    del L3, A3, T3
    tflat = []
    tevflat = []
    tgen = [clock(lambda: gen_loop(lam1, s, a01, t1))[0] for _ in range(R)]
    result.evaluate(lam=fl[:8], s=s, a0=fa[:8], t=ft[:8])
    tnpflat = []
    for _ in range(R):
        tflat.append(clock(lambda: hand_flat(fl, s, fa, ft))[0])
        tevflat.append(clock(lambda: result.evaluate(lam=fl, s=s, a0=fa, t=ft))[0])
        tnpflat.append(clock(lambda: mode_numpy(fl, s, fa, ft))[0])
    del fl, fa, ft

    # -- (iii) lambdify on the same grid (or a given subgrid) ---------------------------------------------------
    print("timing (iii) lambdify ...", flush=True)
    if not args.try_stable_lambdify:
        print("  note: " + textwrap.fill(LAMBDIFY_NOTE, 100, subsequent_indent="        "))
    f_lam, lam_form, lam_ops = lambdify_fn(args.try_stable_lambdify)
    lsub = make_grid(args.lambdify_points or args.points)
    Ls, As, Ts = shaped(*lsub)
    nsub = Ls.size * As.size * Ts.size
    ref_sub = result.evaluate(lam=Ls, s=s, a0=As, t=Ts)
    # the NumPy printer's logical_and.reduce((lam == 0, a0 >= 0)) needs equal shapes: pass
    # full-shape broadcast views (no copy; every lambdified operation then runs on the full grid)
    Lf, Af, Tf = np.broadcast_arrays(Ls, As, Ts)
    with np.errstate(all="ignore"):
        val_sub = np.broadcast_to(f_lam(Lf, s, Af, Tf), ref_sub.shape)
    lam_rel, lam_abs, lam_bad, lam_nan = deviation(val_sub, ref_sub)
    del val_sub
    tl, tes = [], []
    for _ in range(R):
        with np.errstate(all="ignore"):
            tl.append(clock(lambda: f_lam(Lf, s, Af, Tf))[0])
        tes.append(clock(lambda: result.evaluate(lam=Ls, s=s, a0=As, t=Ts))[0])

    # -- (iv) solve_ivp on sampled points -----------------------------------------------
    print("timing (iv) solve_ivp ...", flush=True)
    pl, pa, pt = ivp_points(lam1, a01, t1, args.ivp_points)
    ref_ivp = result.evaluate(lam=pl, s=s, a0=pa, t=pt)
    sol = solve_ivp_points(pl, s, pa, pt)
    ivp_rel, ivp_abs, _, ivp_nan = deviation(sol, ref_ivp)
    ti = [clock(lambda: solve_ivp_points(pl, s, pa, pt))[0] for _ in range(R)]

    # -- (vii) exp experiment -----------------------------------------------------------
    print("timing (vii) exp experiment ...", flush=True)
    expx = bench_exp(min(npts, 10_000_000), R)

    # -- (v), (vi) in subprocesses ---------------------------------------------------------
    comp = cold = None
    if not args.skip_subprocess:
        print("timing (v) compile of a fresh kernel (subprocess, fresh LAZYRICH_CACHE_DIR) ...", flush=True)
        comp = bench_compile(args.compile_ops, args.compile_timeout)
        print("timing (vi) cold start (subprocesses, shared fresh LAZYRICH_CACHE_DIR) ...", flush=True)
        cold = bench_cold(args.cold_runs)

    # -- report ---------------------------------------------------------------------------
    m = {k: med(v) for k, v in T.items()}
    per_eval = m["eval"] / npts
    rows = [
        ("evaluate (lazyrich, %d threads)" % nthreads, npts, m["eval"], None),
        ("(i) hand-written Numba prange", npts, m["hand"], None),
        ("(ii) NumPy vectorised", npts, m["numpy"], None),
        ("(iii) lambdify numpy, display form", nsub, med(tl), None),
        ("(iv) solve_ivp DOP853 per point", pl.size, med(ti), None),
        ("evaluate, 1 thread", npts, m["eval_1t"], None),
        ("(i) hand-written, 1 thread", npts, m["hand_1t"], None),
        ("diag: generated scalar in the loop of (i)", npts, med(tgen), None),
        ("diag: (i)'s scalar, flat 1-D input", nflat, med(tflat), None),
        ("diag: evaluate, same flat 1-D input", nflat, med(tevflat), None),
        ("diag: (ii) NumPy, same flat 1-D input", nflat, med(tnpflat), None),
    ]
    print("\n" + "=" * 100)
    print(f"RESULTS  {NAME}: {npts:.3g}-point grid, medians of {R} repeats, "
          f"{os.cpu_count()}-core machine, Numba threads {nthreads}")
    print("=" * 100)
    hdr = f"{'method':<42s}{'points timed':>13s}{'s/call':>11s}{'points/s':>12s}{'ns/point':>10s}{'vs evaluate':>13s}"
    print(hdr)
    print("-" * len(hdr))
    table = []
    for label, n, sec, _ in rows:
        rate = n / sec
        slow = (sec / n) / per_eval
        table.append({"method": label, "points": n, "seconds": sec, "points_per_s": rate, "ns_per_point": sec / n * 1e9,
                      "time_vs_evaluate": slow})
        print(f"{label:<42s}{n:>13.3g}{sec:>11.4g}{rate:>12.3g}{sec / n * 1e9:>10.3g}{slow:>12.3g}x")
    J["table"] = table
    print("('vs evaluate' = time per point / evaluate's time per point on the full grid, 2+ threads; "
          "(iii) and (iv) extrapolated per point)")

    r_hand = med(pairs)
    q1, q3 = np.percentile(pairs, [25, 75])
    r_numpy = med(ratios["numpy"])
    r_lamb = med([a / b for a, b in zip(tl, tes)]) * 1.0  # same grid, interleaved
    r_lamb_x = (med(tl) / nsub) / per_eval                 # extrapolated per point vs full-grid evaluate
    r_ivp = (med(ti) / pl.size) / per_eval
    status = {}

    def st(name, ok):
        status[name] = "PASS" if ok else "FAIL"
        return status[name]

    print("\nRATIOS (targets from the issue)")
    print(f"{'ratio':<60s}{'measured':>12s}{'target':>10s}{'':>7s}")
    lines = [
        (f"evaluate vs (i): t(evaluate)/t(i), {npairs} A-B pairs", f"{r_hand:.3g}", "<= 1.25",
         st("hand", r_hand <= TARGETS["hand"])),
        ("evaluate vs NumPy: t(NumPy)/t(evaluate)", f"{r_numpy:.3g}x", ">= 4x", st("numpy", r_numpy >= TARGETS["numpy"])),
        ("evaluate vs lambdify: t(lambdify)/t(evaluate), same grid", f"{r_lamb:.3g}x", ">= 20x",
         st("lambdify", r_lamb >= TARGETS["lambdify"])),
        ("evaluate vs solve_ivp: per point", f"{r_ivp:.3g}x", "-", ""),
    ]
    if comp:
        cd, cf = comp["default"], comp["rewrite_false"]
        if cd["runs"]:
            c0 = cd["runs"][0]
            lines.append((f"compile, fresh {c0['ops']}-op kernel, library default", f"{c0['kernel_s']:.3g} s", "< 1 s",
                          st("compile", c0["kernel_s"] < TARGETS["compile_s"])))
        else:
            lines.append((f"compile, fresh {args.compile_ops}-op kernel, library default",
                          f"> {cd['limit_s']:.0f} s", "< 1 s", st("compile", False)))
        if comp["numba_route"]["runs"]:
            cn = comp["numba_route"]["runs"][0]
            lines.append(("  same kernel through Numba (diagnostic)", f"{cn['kernel_s']:.3g} s", "-",
                          f"({cn['kernel_s'] / cd['runs'][0]['kernel_s']:.1f}x)" if cd["runs"] else ""))
        if cf["runs"]:
            c1 = cf["runs"][0]
            lines.append((f"  same, Result(..., rewrite=False) (diagnostic)", f"{c1['kernel_s']:.3g} s", "< 1 s",
                          "(" + ("pass" if c1["kernel_s"] < TARGETS["compile_s"] else "fail") + ")"))
    if cold:
        cm = cold["median"]
        lines.append(("cold start, in-process (perf_counter at top)", f"{cm['total_s']:.3g} s", "< 1.5 s",
                      st("cold", cm["total_s"] < TARGETS["cold_s"])))
        lines.append(("cold start, subprocess wall time", f"{cm['wall_s']:.3g} s", "< 1.5 s",
                      st("cold_wall", cm["wall_s"] < TARGETS["cold_s"])))
    for a, b, c, d in lines:
        print(f"{a:<60s}{b:>12s}{c:>10s}{d:>7s}")
    print(f"  (evaluate vs (i): pairs' interquartile range {q1:.3g} - {q3:.3g}; median of the {R} table repeats "
          f"{med(ratios['hand']):.3g}; at 1 thread {med(ratios['hand_1t']):.3g})")
    print(f"  (evaluate vs lambdify, per point vs evaluate on the full grid: {r_lamb_x:.3g}x; "
          f"evaluate vs NumPy at 1 Numba thread: {m['numpy'] / m['eval_1t']:.3g}x)")
    J["ratios"] = {"eval_over_hand": r_hand, "eval_over_hand_pairs": pairs,
                   "eval_over_hand_table_repeats": med(ratios["hand"]), "eval_over_hand_1thread": med(ratios["hand_1t"]),
                   "numpy_over_eval": r_numpy, "lambdify_over_eval_same_grid": r_lamb,
                   "lambdify_over_eval_extrapolated": r_lamb_x, "ivp_over_eval": r_ivp,
                   "per_repeat": ratios}
    J["status"] = status
    J["times"] = T
    J["lambdify"] = {"form": lam_form, "count_ops": lam_ops, "points": nsub, "times": tl, "evaluate_times": tes,
                     "max_rel_dev_vs_evaluate": lam_rel, "max_abs_dev": lam_abs, "nan": lam_nan, "outside_1e-12": lam_bad,
                     "note": None if args.try_stable_lambdify else LAMBDIFY_NOTE}
    J["solve_ivp"] = {"points": int(pl.size), "times": ti, "max_rel_dev_vs_evaluate": ivp_rel, "max_abs_dev": ivp_abs,
                      "nan": ivp_nan}
    J["exp"] = expx
    print(f"\n(iii) lambdify form: {lam_form}, count_ops {lam_ops}, no CSE, {nsub:.3g}-point grid; "
          f"max rel dev vs evaluate {lam_rel:.2e} (NaN {lam_nan})")
    print(f"(iv) solve_ivp: {pl.size} random grid points; max rel dev vs evaluate {ivp_rel:.2e}, abs {ivp_abs:.2e}")
    if comp:
        J["compile"] = comp
        print("\n(v) compile of a fresh random kernel (4 symbols, exp/sqrt/log1p of polynomials, CSE; "
              "own LAZYRICH_CACHE_DIR)")
        for label, c in (("library default (rewrite=True: expm1/log1p rewriting, then CSE)", comp["default"]),
                         ("the same through Numba (LAZYRICH_LLVM_KERNELS=0)", comp["numba_route"]),
                         ("Result(..., rewrite=False) (CSE only)", comp["rewrite_false"])):
            print(f"  {label}: fresh interpreter, wall {c['wall_s']:.1f} s"
                  + (f", KILLED after {c['limit_s']:.0f} s (still inside result.kernel)" if c["timed_out"] else ""))
            if "import_s" in c:
                print(f"    import derive/sympy/numba {c['import_s']:.2f} s (not counted)")
            for k, r in enumerate(c["runs"]):
                tag = "first kernel in the process" if k == 0 else "second kernel, same process"
                per = ", ".join(f"{n} {v:.2f} s" for n, v in r["numba_per_function_s"].items())
                print(f"    seed {r['seed']} ({tag}): count_ops {r['ops']}, {r.get('backend', 'numba')} route, "
                      f"result.kernel {r['kernel_s']:.2f} s = Numba compile {r['numba_compile_s']:.2f} s ({per}) + "
                      f"codegen/write/import{'/LLVM' if r.get('backend') == 'llvm' else ''} "
                      f"{r['codegen_and_import_s']:.2f} s ({r['source_lines']} source lines)")
            if c.get("rewrite_scaling"):
                sc = ", ".join(f"{n} ops {s_:.2f} s" for n, s_ in c["rewrite_scaling"])
                print(f"    the stable rewrite alone (numerics._codegen._stable, rewrite=True) vs size: {sc}")
    if cold:
        J["cold_start"] = cold
        cm, dg = cold["median"], cold["diag"]
        print(f"\n(vi) cold start from the cache (median of {len(cold['runs'])} new interpreters; warm-up compile "
              f"{cold['warmup_compile_wall_s']:.1f} s wall):")
        print(f"    in-process {cm['total_s']:.3f} s, subprocess wall {cm['wall_s']:.3f} s "
              f"(bare 'python -c' wall {cold['bare_interpreter_wall_s']:.3f} s)")
        print(f"    import numpy {cm['numpy_s']:.3f} + sympy {cm['sympy_s']:.3f} + "
              f"derive {cm['derive_s']:.3f} + kernel lookup/load {cm['kernel_s']:.3f} + first evaluate "
              f"{cm['first_eval_s']:.3f} s; Numba imported: {cold['runs'][0].get('numba_imported')}, "
              f"SciPy imported: {cold['runs'][0].get('scipy_imported')}")
        print(f"    same run ending in os._exit(0) (no interpreter teardown): wall {cold['wall_with_os_exit_s']:.3f} s "
              f"-> teardown ~{cm['wall_s'] - cold['wall_with_os_exit_s']:.3f} s")
        print(f"    of the kernel lookup: kernel_spec() {dg['kernel_spec_s']:.3f} s, one spec.digest() "
              f"{dg['digest_s']:.3f} s (compile_kernel computes it twice)")
    print(f"\n(vii) exp: numba.config.USING_SVML = {expx['USING_SVML']} (icc_rt importable: {expx['icc_rt']}); "
          f"ns per element over {min(npts, 10_000_000):.3g}:")
    print(f"    np.exp {expx['numpy_exp_ns_per_elem']:.2f}, np.exp chunked 16k {expx['numpy_exp_chunked_16k_ns_per_elem']:.2f}, "
          f"Numba math.exp loop 1 thread {expx['numba_math_exp_1thread_ns_per_elem']:.2f}, "
          f"prange {expx['numba_math_exp_prange_ns_per_elem']:.2f}")
    fails = [k for k, v in status.items() if v == "FAIL"]
    print("\nTARGETS: " + ("all PASS" if not fails else "FAIL: " + ", ".join(fails)))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(J, indent=2, default=float))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
