r"""Online SGD for single-index teacher-student pairs (Numba; many seeded runs in parallel).

Model: inputs ``x ~ N(0, I_d)``, one fresh sample per step (batch 1, online); teacher
``y = sigma_*(u.x)`` with ``u = u_norm e_1`` (no loss of generality: the Gaussian is rotation
invariant); student ``sigma(w.x)``. Losses (``z = w.x``):

* ``"correlation"``: ``l = -y sigma(z)``;
* ``"square"``: ``l = (sigma(z) - y)^2 / 2`` (the project's convention);
* ``"mse"``: ``l = (sigma(z) - y)^2`` (PyTorch ``MSELoss``, no 1/2: the thesis's code).

Updates with ``g = dl/dz x``: ``"spherical"`` ``w <- (w - eta (I - w w^T) g)/||...||`` (Ben Arous et al.
2021); ``"free"`` ``w <- w - eta g``. Recorded: the overlap ``m = w.u/(||w|| ||u||)`` and ``||w||`` at
the steps ``0, every, 2 every, ...``.

Activations: given by their normalised Hermite coefficients (``h_j = He_j/sqrt(j!)``, evaluated by
the three-term recurrence), or one of the built-ins ``"relu"``, ``"tanh"``, ``"h2"``... (by name),
or as a pair of Numba functions ``(sigma, dsigma)`` (compiled on first use, not cached on disk).

Seeding: run ``i`` gets its own integer seed from ``(seed, i)`` through NumPy's ``SeedSequence``, so
results do not depend on the thread that runs it. ``method="full"`` draws each step's ``x`` from
``_rng_fast`` (``ceil(d/4)`` xoshiro256+ lanes seeded from the run's seed, branch-free Box-Muller: the
loop over lanes vectorises); ``method="reduced"`` draws its three variates from one xoshiro256**
stream (``_rng``: ziggurat normals, Marsaglia-Tsang gamma). Projections and norms are reassociated
(vectorised) sums, so the full chain is reproducible on one machine and build, not bit-for-bit across CPUs.

Threads: runs are spread over Numba's thread pool. With ``two_threads=True``, a single full-chain run
long enough for two blocks of inputs (``_online_sgd_pipeline.usable``: ``d >= 125`` and two blocks of
1 MiB of normals), with at least two threads allowed (``numba.get_num_threads()``), is split over two
threads in time instead: the inputs of the next block of steps are drawn while this block's steps run
(``_online_sgd_pipeline``), falling back to one thread while the other core is busy. Both paths run the
same block-step function ``_full_steps`` on the same lane streams, so a run is bit-for-bit the same
either way and for any thread count (tested).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

from . import _online_sgd_pipeline as _pipeline
from . import _rng, _rng_fast

LOSSES = {"correlation": 0, "square": 1, "mse": 2}
UPDATES = {"spherical": 0, "free": 1}
BUILTIN = {"hermite": 0, "relu": 1, "tanh": 2}


@numba.njit(cache=True, error_model="numpy", inline="always")
def _act(kind, c, z):
    """(sigma(z), sigma'(z)) for kind 0 (Hermite series c), 1 (relu), 2 (tanh)."""
    if kind == 1:
        return (z, 1.0) if z > 0.0 else (0.0, 0.0)
    if kind == 2:
        t = math.tanh(z)
        return t, 1.0 - t * t
    # h_{j+1} = (z h_j - sqrt(j) h_{j-1})/sqrt(j+1); h_j' = sqrt(j) h_{j-1}
    hm, h = 0.0, 1.0
    val = c[0]
    der = 0.0
    for j in range(1, c.shape[0]):
        hn = (z * h - math.sqrt(j - 1.0) * hm) / math.sqrt(float(j))
        val += c[j] * hn
        der += c[j] * math.sqrt(float(j)) * h
        hm, h = h, hn
    return val, der


_BLOCK_BYTES = 1 << 16  # inputs drawn ahead per run on the thread pool (64 KiB: stays in L2)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _loss_slope(loss, y, s, ds):
    """dl/dz for the student's output s = sigma(z), ds = sigma'(z), target y; loss codes as ``LOSSES``."""
    if loss == 0:
        return -y * ds
    if loss == 1:
        return (s - y) * ds
    return 2.0 * (s - y) * ds


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _dot(a, b, n):
    """``sum_{q<n} a_q b_q``, reassociated (vectorised) - a reduction, the only place fast-math is used."""
    acc = 0.0
    for q in range(n):
        acc += a[q] * b[q]
    return acc


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _full_steps(d, step0, every, eta, skind, cs, tkind, ct, loss, update, u_norm, w, xs, rows, m_row, n_row):
    """Steps ``step0 + 1 .. step0 + rows`` of one run of the full chain, in place on ``w``; step
    ``step0 + 1 + j`` uses the input ``xs[j]`` (4, lanes) flattened (its first ``d`` entries). Records
    ``m, ||w||`` at the multiples of ``every`` into ``m_row, n_row`` (index ``step // every``).
    Releases the GIL (the two-core single-run path calls it from a thread)."""
    for j in range(rows):
        x = xs[j].reshape(-1)
        z = _dot(w, x, d)
        x1 = x[0]
        y, _ = _act(tkind, ct, u_norm * x1)
        s, ds = _act(skind, cs, z)
        dl = _loss_slope(loss, y, s, ds)
        c = eta * dl
        if update == 0:  # spherical: project the gradient on the tangent space, retract
            for q in range(d):
                w[q] -= c * (x[q] - z * w[q])
            inv = 1.0 / math.sqrt(_dot(w, w, d))
            for q in range(d):
                w[q] *= inv
        else:
            for q in range(d):
                w[q] -= c * x[q]
        step = step0 + j + 1
        if step % every == 0:
            q2 = _dot(w, w, d)
            m_row[step // every] = w[0] / math.sqrt(q2)
            n_row[step // every] = math.sqrt(q2)


@numba.njit(cache=True, error_model="numpy")
def _record_start(w, m_row, n_row):
    """Record ``m, ||w||`` of the initial ``w`` at index 0; returns ``||w||^2`` (a sequential sum)."""
    q2 = np.sum(w * w)
    m_row[0] = w[0] / math.sqrt(q2)
    n_row[0] = math.sqrt(q2)
    return q2


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _draw_and_step(d, step0, every, eta, skind, cs, tkind, ct, loss, update, u_norm, w, lst, xs, rows, m_row, n_row):
    """Steps ``step0 + 1 .. step0 + rows`` as ``_full_steps``, drawing their inputs from the lanes ``lst``
    (all of them) ``xs.shape[0]`` steps at a time into ``xs``. Releases the GIL."""
    lanes = lst.shape[1]
    chunk = xs.shape[0]
    for c0 in range(0, rows, chunk):
        c = min(chunk, rows - c0)
        _rng_fast.fill_block(lst, xs, c, 0, lanes)
        _full_steps(d, step0 + c0, every, eta, skind, cs, tkind, ct, loss, update, u_norm, w, xs, c, m_row, n_row)


def _core(d, steps, every, eta, skind, cs, tkind, ct, loss, update, u_norm, w0, seeds, reduced, m_out, n_out):
    runs = w0.shape[0]
    lanes = (d + 3) // 4
    block = max(1, min(steps, _BLOCK_BYTES // (32 * lanes)))  # steps whose inputs are drawn at once
    for i in prange(runs):
        w = w0[i].copy()
        q2 = _record_start(w, m_out[i], n_out[i])  # ||w||^2
        w1 = w[0]
        if not reduced:
            # the inputs of ``block`` steps from the run's lanes, then those steps
            lst = _rng_fast.lane_state(seeds[i], lanes)
            xs = np.empty((block, 4, lanes))
            _draw_and_step(d, 0, every, eta, skind, cs, tkind, ct, loss, update, u_norm, w, lst, xs, steps,
                           m_out[i], n_out[i])
            continue
        st = _rng.seed_state(seeds[i])
        k = 1
        for step in range(1, steps + 1):
            # exact in law: x = g1 w/|w| + g2 e_perp + xi, xi orthogonal to span(w, e_1)
            nrm = math.sqrt(q2)
            mh = w1 / nrm
            g1 = _rng.normal(st)
            g2 = _rng.normal(st)
            xx = g1 * g1 + g2 * g2 + _rng.chi2(st, d - 2.0)
            z = nrm * g1
            x1 = mh * g1 + math.sqrt(max(1.0 - mh * mh, 0.0)) * g2
            y, _ = _act(tkind, ct, u_norm * x1)
            s, ds = _act(skind, cs, z)
            dl = _loss_slope(loss, y, s, ds)
            if update == 0:  # |w| = 1 and w is orthogonal to x - z w
                w1 = (w1 - eta * dl * (x1 - z * w1)) / math.sqrt(1.0 + (eta * dl) ** 2 * max(xx - z * z, 0.0))
            else:
                w1 -= eta * dl * x1
                q2 = q2 - 2.0 * eta * dl * z + (eta * dl) ** 2 * xx
            if step % every == 0:
                m_out[i, k] = w1 / math.sqrt(q2)
                n_out[i, k] = math.sqrt(q2)
                k += 1


# module level (a closure would not be cached on disk): the built-in activations
_CORE_BUILTIN = numba.njit(cache=True, parallel=True, error_model="numpy")(_core)
_CORES: dict = {}


def _make_core(act):
    """The core and the block-step functions compiled against another activation (not cached on disk)."""
    g = {**globals(), "_act": act}
    steps_fn = numba.njit(error_model="numpy", nogil=True)(
        types.FunctionType(_full_steps.py_func.__code__, g, "_full_steps_user"))
    g["_full_steps"] = steps_fn
    draw_fn = numba.njit(error_model="numpy", nogil=True)(
        types.FunctionType(_draw_and_step.py_func.__code__, g, "_draw_and_step_user"))
    g["_draw_and_step"] = draw_fn
    core = numba.njit(parallel=True, error_model="numpy")(types.FunctionType(_core.__code__, g, "_core_user"))
    return core, steps_fn, draw_fn


def _user_core(fns):
    """``(core, steps_fn, draw_fn)`` for user Numba activations ``(sigma, dsigma)`` (student) and the teacher's."""
    if fns not in _CORES:
        (fs, dfs), (ft, dft) = fns

        @numba.njit(error_model="numpy")
        def act(kind, c, z):
            if kind == 0:
                return fs(z), dfs(z)
            return ft(z), dft(z)

        _CORES[fns] = _make_core(act)
    return _CORES[fns]


@dataclass(frozen=True)
class SGDRuns:
    """Recorded overlaps ``m`` and norms ``norm`` (runs x records) at ``steps`` (records,)."""

    steps: np.ndarray
    m: np.ndarray
    norm: np.ndarray
    eta: float
    d: int

    @property
    def time(self) -> np.ndarray:
        """Gradient-flow time ``eta * step``."""
        return self.eta * self.steps

    def bands(self, q=(0.5, 50.0, 99.5), which: str = "m") -> np.ndarray:
        """Percentiles across runs (rows: the percentiles ``q``; columns: the records)."""
        return np.percentile(getattr(self, which), q, axis=0)

    def hitting_steps(self, level: float, *, absolute: bool = True) -> np.ndarray:
        """First recorded step with (|)m(|) >= level, per run (``inf`` if never)."""
        v = np.abs(self.m) if absolute else self.m
        hit = v >= level
        first = np.argmax(hit, axis=1).astype(float)
        return np.where(hit.any(axis=1), self.steps[first.astype(int)], np.inf)


def _activation(spec, name):
    if isinstance(spec, str):
        if spec not in ("relu", "tanh"):
            raise ValueError(f"{name}: unknown built-in activation {spec!r} (relu, tanh, or Hermite coefficients)")
        return BUILTIN[spec], np.zeros(1)
    c = np.ascontiguousarray(spec, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or not np.isfinite(c).all():
        raise ValueError(f"{name}: Hermite coefficients must be a non-empty finite 1-D array")
    return 0, c


def online_sgd(*, d: int, steps: int, eta: float, runs: int = 1, student="relu", teacher=None,
               loss: str = "square", update: str = "spherical", u_norm: float = 1.0,
               m0: float | None = None, w0_scale: float | None = None, every: int = 1, seed: int = 0,
               numba_activations=None, method: str = "full", two_threads: bool = False) -> SGDRuns:
    """Run ``runs`` independent online-SGD trajectories; see the module docstring.

    Initialisation: with ``m0`` given, ``w = m0 e_1 + sqrt(1 - m0^2) v`` with ``v`` a uniformly random
    unit vector orthogonal to ``e_1``; otherwise ``w ~ N(0, w0_scale^2 I_d / d)`` (default scale 1),
    normalised for the spherical update. ``teacher`` defaults to the student's activation.
    ``numba_activations=((sigma, dsigma), (sigma_t, dsigma_t))`` overrides both with Numba functions.

    ``method="full"`` simulates the d-dimensional weight vector; ``method="reduced"`` simulates the
    same Markov chain exactly in law in O(1) per step: given ``w``, a fresh ``x`` enters only through
    ``(w.x, x_1, ||x||^2)``, which are ``(||w|| g1, m g1 + sqrt(1-m^2) g2, g1^2 + g2^2 + chi2_{d-2})``
    with independent ``g1, g2 ~ N(0,1)``; the state is ``(w_1, ||w||^2)``.

    ``two_threads=True``: a single full-chain run (``runs = 1``) long enough for two blocks of inputs
    draws the next block's inputs on a second thread while this block's steps run
    (``_online_sgd_pipeline``), where Numba allows two threads; the numbers are the same. It pays only
    with a second core free (see that module), so it is not the default. No effect otherwise.
    """
    if method not in ("full", "reduced"):
        raise ValueError(f"method: must be 'full' or 'reduced', got {method!r}")
    if d < 2:
        raise ValueError(f"d: must be >= 2, got {d}")
    if steps < 1 or every < 1 or steps % every:
        raise ValueError(f"every: must divide steps (got steps={steps}, every={every})")
    if not eta > 0:
        raise ValueError(f"eta: must be > 0, got {eta}")
    if runs < 1:
        raise ValueError(f"runs: must be >= 1, got {runs}")
    if loss not in LOSSES:
        raise ValueError(f"loss: must be one of {sorted(LOSSES)}, got {loss!r}")
    if update not in UPDATES:
        raise ValueError(f"update: must be one of {sorted(UPDATES)}, got {update!r}")
    if m0 is not None and not -1.0 <= m0 <= 1.0:
        raise ValueError(f"m0: must be in [-1, 1], got {m0}")
    sk, cs = _activation(student, "student")
    tk, ct = _activation(student if teacher is None else teacher, "teacher")
    children = np.random.SeedSequence([int(seed)]).spawn(runs + 1)
    rng = np.random.default_rng(children[-1])
    if m0 is None:
        w0 = rng.standard_normal((runs, d)) * ((1.0 if w0_scale is None else w0_scale) / math.sqrt(d))
    else:
        v = rng.standard_normal((runs, d))
        v[:, 0] = 0.0
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        w0 = math.sqrt(1.0 - m0 * m0) * v
        w0[:, 0] = m0
    if update == "spherical":
        w0 /= np.linalg.norm(w0, axis=1, keepdims=True)
    seeds = np.array([c.generate_state(1)[0] for c in children[:runs]], dtype=np.uint32).astype(np.int64)
    nrec = steps // every + 1
    m_out = np.empty((runs, nrec))
    n_out = np.empty((runs, nrec))
    if numba_activations is not None:
        core, steps_fn, draw_fn = _user_core(tuple(tuple(p) for p in numba_activations))
        sk, tk = 0, 1
    else:
        core, steps_fn, draw_fn = _CORE_BUILTIN, _full_steps, _draw_and_step
    i64 = np.int64  # one set of argument types, so one compiled (and cached) specialisation
    cs = np.ascontiguousarray(cs, dtype=np.float64)
    ct = np.ascontiguousarray(ct, dtype=np.float64)
    w0 = np.ascontiguousarray(w0, dtype=np.float64)
    if (two_threads and runs == 1 and method == "full" and numba.get_num_threads() >= 2
            and _pipeline.usable(_rng_fast.lanes_for(d), steps)):
        # one run on two cores: the next block's inputs are drawn while this block's steps run
        w = w0[0].copy()
        _record_start(w, m_out[0], n_out[0])
        step_args = (float(eta), i64(sk), cs, i64(tk), ct, i64(LOSSES[loss]), i64(UPDATES[update]), float(u_norm))
        _pipeline.run_full_two_threads(steps_fn, draw_fn, step_args, i64(d), i64(steps), i64(every), w, i64(seeds[0]),
                                       m_out[0], n_out[0])
    else:
        core(i64(d), i64(steps), i64(every), float(eta), i64(sk), cs, i64(tk), ct, i64(LOSSES[loss]),
             i64(UPDATES[update]), float(u_norm), w0, seeds, i64(method == "reduced"), m_out, n_out)
    return SGDRuns(np.arange(nrec) * every, m_out, n_out, float(eta), int(d))


def online_sgd_numpy(*, d: int, steps: int, eta: float, seed: int = 0, u_norm: float = 1.0) -> np.ndarray:
    """Reference NumPy loop of the same update (ReLU student and teacher, MSE loss, free update).

    For the benchmark only: returns the overlap at the end.
    """
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d) / math.sqrt(d)
    for _ in range(steps):
        x = rng.standard_normal(d)
        z = w @ x
        y = max(u_norm * x[0], 0.0)
        dl = 2.0 * (max(z, 0.0) - y) * (z > 0)
        w -= eta * dl * x
    return w[0] / np.linalg.norm(w)
