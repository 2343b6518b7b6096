r"""Two-stage dynamical mean-field theory of a two-layer mean-field (μP) network: the single-site Monte Carlo.

Setting (Lauditi, Bordelon, Pehlevan, "Transfer learning in infinite width feature learning networks",
ICLR 2026; the two-stage field equation is known to us only from a secondary summary, the single-stage
update rule from the first author's code, see ``shared/research/infinite-width.md`` §1.3 and §2.3).

Conventions (lazyrich; the paper's where we know them)
-------------------------------------------------------
* Inputs :math:`x \in \mathbb R^D`, :math:`x \sim N(0, I_D)`; input kernel :math:`K_x(x, x') = x\cdot x'/D`
  (the paper's). Linear teachers :math:`y = \beta\cdot x/\sqrt D` with :math:`\lVert\beta\rVert^2 = D`:
  source :math:`\beta_s = \sqrt D e_1`, target :math:`\beta_t = \sqrt D(\alpha e_1 + \sqrt{1-\alpha^2} e_2)`,
  so the alignment is :math:`\alpha = \beta_s\cdot\beta_t/D` (the paper's α_s).
* Network of width N: :math:`h_i(x) = w_i\cdot x/\sqrt D`, :math:`f(x) = \sum_i z_i\phi(h_i(x))/(N\gamma)`,
  :math:`w_i \sim N(0, I_D)`, :math:`z_i \sim N(0, 1)`, φ the identity or ReLU (the first author's code).
* Loss of a stage with P training points: the MEAN :math:`L = \frac1{2P}\sum_\mu (f(x_\mu) - y_\mu)^2`.
  Reported train/test losses are the same mean half-squared errors over the train/test points.
* Full-batch gradient descent with step :math:`\eta N\gamma^2` (the first author's ``lr*N*gamma**2``),
  η = ``dt``. With :math:`\Delta_\mu = (y_\mu - f_\mu)/P` and :math:`g = z\phi'(h)` this is, exactly,

  .. math:: z_i \mathrel{+}= \eta\gamma\sum_\mu \Delta_\mu \phi(h_{i\mu}), \qquad
            h_i(x) \mathrel{+}= \eta\gamma \sum_\mu \Delta_\mu g_{i\mu} K_x(x, x_\mu),

  the Euler step of the single-site field equation (§1.3: :math:`\dot h = \gamma\sum_\mu\Delta_\mu g_\mu
  K_x(\cdot, x_\mu)`, :math:`\dot z = \gamma\sum_\mu \Delta_\mu\phi(h_\mu)`, :math:`f = \langle z\phi(h)\rangle/\gamma`)
  with the paper's Σ_μ carrying our 1/P (a sum over samples with the 1/P put in Δ).
* Two stages: stage one trains on the P₁ source points with γ = γ₁ for ``steps1`` steps; stage two on the
  P₂ target points with γ = γ₂, starting from the stage-one fields. In stage two the output is
  :math:`\langle z\phi(h)\rangle/\gamma_2` (the summary writes γ₁⁻¹; which one the paper uses is UNKNOWN, and
  with γ₂ both stages are mean-field networks in their own right). The readout either is redrawn,
  :math:`z \sim N(0,1)` independent of everything (``readout="fresh"``, the fine-tuning protocol), or keeps
  the source readout (``"continued"``; the stage-two output then starts at (γ₁/γ₂)·f_source).
  ``steps1 = 0`` is "without pretraining".

The Monte Carlo: S sites (h over all M points, z), each site's initial fields
:math:`h(X) = \xi X^\top/\sqrt D` with ξ ~ N(0, I_D), which is exactly the Gaussian law N(0, K_x) on the M
points (K_x = XXᵀ/D has rank ≤ D, so this factorisation is the exact sampler). Population averages
⟨·⟩ are means over the S sites. For a two-layer network the single-site process with S sites IS, in law,
the width-N = S network (the update above is the network's gradient step pushed through h = Wx/√D); with the
same seed, :func:`two_stage_dmft` and :mod:`numerics.simulate._two_stage_network` use the same draws and
agree to rounding. The N, S → ∞ limit is the mean-field (DMFT) curve: fluctuations of one run are
O(S^-1/2), the bias of the seed average O(1/S).

Implementation (:func:`euler_steps`): one pass over each site's M fields per step, which applies the
rank-P update and accumulates the next readout while the row is in cache. The update of site s is
:math:`\eta\gamma z_s u_{A_s}` with :math:`u_A = \sum_{p\in A}\Delta_p K_x(x_p,\cdot)` over the site's points
with :math:`\phi' = 1` (all P for the identity, the active ones h > 0 for ReLU): u depends on the site only
through A, so the sums over every subset of each group of 8 training points are tabulated once per step
(:mod:`numerics._dmft_subset_sums`) and a site adds ⌈P/8⌉ table rows instead of scaling |A| rows of K.
This associates the update's terms differently from the plain sum over p (relative differences of a few
units in the last place). Sites run in fixed blocks of ``_BLOCK`` on a thread pool (GIL released), with
the readout summed block by block in order and the tables built on one thread, so the numbers do not
depend on the number of threads.

For φ = identity the limit is closed: each site moves by a common linear map
:math:`[z; w] \leftarrow B[z; w]`, :math:`B = I + \eta\gamma\begin{pmatrix}0 & v^\top\\ v & 0\end{pmatrix}`,
:math:`v = \sum_\mu\Delta_\mu x_\mu/\sqrt D`, and :math:`f(x) = C_{zw}\cdot x/(\gamma\sqrt D)`, so the
(D+1)×(D+1) second moment C = ⟨[z; w][z; w]ᵀ⟩ follows :math:`C \leftarrow BCB^\top` exactly
(:func:`linear_mean_field`, C(0) = I; at the sample's own moments it reproduces the Monte Carlo to rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ._dmft_subset_sums import build_tables, group_bits, new_tables
from ._driver import _pool
from ._driver import threads as _threads

_CHUNK = 25  # Euler steps per compiled call (the progress bar's granularity; each call starts with a readout)


@dataclass(frozen=True)
class TwoStageTask:
    """Points and labels of both tasks. ``X`` (M, D) stacks [source train, source test, target train, target
    test]; ``y`` the matching labels; the four index arrays select the blocks."""

    X: np.ndarray
    y: np.ndarray
    source_train: np.ndarray
    source_test: np.ndarray
    target_train: np.ndarray
    target_test: np.ndarray

    @property
    def D(self) -> int:
        return self.X.shape[1]


def make_task(D: int, P1: int, P2: int, n_test: int, alpha: float, *, seed: int) -> TwoStageTask:
    """Gaussian inputs and the linear source/target teachers of the module docstring (alignment ``alpha``)."""
    for name, v, lo in (("D", D, 2), ("P1", P1, 1), ("P2", P2, 1), ("n_test", n_test, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
    if not -1.0 <= alpha <= 1.0:
        raise ValueError(f"alpha: must lie in [-1, 1] (beta_s . beta_t / D with |beta|^2 = D), got {alpha!r}")
    rng = np.random.default_rng(seed)
    sizes = (P1, n_test, P2, n_test)
    X = rng.standard_normal((sum(sizes), D))
    beta_s = np.zeros(D)
    beta_s[0] = np.sqrt(D)
    beta_t = np.zeros(D)
    beta_t[0], beta_t[1] = alpha * np.sqrt(D), np.sqrt(max(1.0 - alpha * alpha, 0.0) * D)
    edges = np.cumsum((0,) + sizes)
    idx = [np.arange(edges[k], edges[k + 1]) for k in range(4)]
    y = np.empty(X.shape[0])
    for k, beta in zip(range(4), (beta_s, beta_s, beta_t, beta_t)):
        y[idx[k]] = X[idx[k]] @ beta / np.sqrt(D)
    return TwoStageTask(X, y, *idx)


def initial_draws(D: int, sites: int, *, seed: int):
    """(xi, z, z_fresh): xi (sites, D) the input weights (h = xi X^T/sqrt(D)), z and the fresh stage-two readout."""
    if int(sites) != sites or sites < 1:
        raise ValueError(f"sites: must be a positive integer, got {sites!r}")
    rng = np.random.default_rng(seed)
    xi = rng.standard_normal((int(sites), D))
    z = rng.standard_normal(int(sites))
    z_fresh = rng.standard_normal(int(sites))
    return xi, z, z_fresh


#: fewer sites than this run on the calling thread (a step of them is shorter than handing it to threads)
PARALLEL_SITES = 4096
#: tasks per thread and step (several, so that a thread descheduled on shared cores holds up less)
SPLIT_PER_THREAD = 4
#: sites per block. Fixed (not derived from the thread count), so the sums over sites, and with
#: them every result, are the same for any number of threads
_BLOCK = 256


@numba.njit(cache=True, error_model="numpy", inline="always")
def _add_readout(zs, row, relu, f_part):
    """f_part += z_s phi(h_s) over the M points."""
    if relu:
        for m in range(row.shape[0]):
            v = row[m]
            f_part[m] += zs * (v if v > 0.0 else 0.0)
    else:
        for m in range(row.shape[0]):
            f_part[m] += zs * row[m]


@numba.njit(cache=True, error_model="numpy")
def _block_readout(h, z, relu, lo, hi, f_part):
    """f_part[m] = sum_{s in [lo, hi)} z_s phi(h_sm), the sites in order."""
    M = h.shape[1]
    for m in range(M):
        f_part[m] = 0.0
    for s in range(lo, hi):
        _add_readout(z[s], h[s], relu, f_part)


@numba.njit(cache=True, error_model="numpy")
def _block_step(h, z, T, shift, train, delta, gamma, dt, relu, lo, hi, f_part):
    """One Euler step of the sites [lo, hi), then f_part = sum over them of z_s phi(h_s) (next step's readout).

    Per site: dz = sum_p delta_p phi(h_{s,p}) (in the order of p) and h_s += (gamma dt z_s) u, where
    u = (T[0, a_0] + T[1, a_1]) + ... is the sum of delta_p K_p over the site's points with phi'(h_{s,p}) = 1
    (all of them for the identity, h > 0 for ReLU), read from the subset-sum tables T of
    :func:`numerics._dmft_subset_sums.build_tables` (groups of 2**shift points; bit j of a_g says whether
    point g 2**shift + j is active). The readout of the updated row is accumulated in the same pass."""
    M = h.shape[1]
    P = train.size
    G = T.shape[0]
    width = 1 << shift
    active = np.zeros(G, dtype=np.int64)
    u = np.empty(M)
    for m in range(M):
        f_part[m] = 0.0
    for s in range(lo, hi):
        row = h[s]
        zs = z[s]
        dz = 0.0
        for g in range(G):
            base = g * width
            n = min(width, P - base)
            if relu:
                # written so that the compiler emits no branch on the sign of h (max, set-on-condition):
                # a mispredicted branch per training point would cost more than the rest of the site's step
                bits = 0
                for j in range(n):
                    hv = h[s, train[base + j]]
                    dz += delta[base + j] * (hv if hv > 0.0 else 0.0)
                    bits |= (1 if hv > 0.0 else 0) << j
                active[g] = bits
            else:
                for j in range(n):
                    dz += delta[base + j] * h[s, train[base + j]]
                active[g] = (1 << n) - 1
        c = gamma * dt * zs
        zs = zs + gamma * dt * dz
        z[s] = zs
        # h_s += c u and f_part += z_s phi(h_s) in one pass over the row
        t0 = T[0, active[0]]
        if G == 1:
            if relu:
                for m in range(M):
                    v = row[m] + c * t0[m]
                    row[m] = v
                    f_part[m] += zs * (v if v > 0.0 else 0.0)
            else:
                for m in range(M):
                    v = row[m] + c * t0[m]
                    row[m] = v
                    f_part[m] += zs * v
            continue
        t1 = T[1, active[1]]
        if G == 2:
            if relu:
                for m in range(M):
                    v = row[m] + c * (t0[m] + t1[m])
                    row[m] = v
                    f_part[m] += zs * (v if v > 0.0 else 0.0)
            else:
                for m in range(M):
                    v = row[m] + c * (t0[m] + t1[m])
                    row[m] = v
                    f_part[m] += zs * v
            continue
        t2 = T[2, active[2]]
        if G == 3:
            if relu:
                for m in range(M):
                    v = row[m] + c * ((t0[m] + t1[m]) + t2[m])
                    row[m] = v
                    f_part[m] += zs * (v if v > 0.0 else 0.0)
            else:
                for m in range(M):
                    v = row[m] + c * ((t0[m] + t1[m]) + t2[m])
                    row[m] = v
                    f_part[m] += zs * v
            continue
        # u = ((T_0 + T_1) + T_2) + ..., the order of the cases above extended
        for m in range(M):
            u[m] = t0[m] + t1[m]
        for g in range(2, G):
            tg = T[g, active[g]]
            for m in range(M):
                u[m] += tg[m]
        for m in range(M):
            row[m] += c * u[m]
        _add_readout(zs, row, relu, f_part)


@numba.njit(cache=True, error_model="numpy")
def _sum_parts(parts, S, gamma, f):
    """f = (sum of the block partial sums, in block order) / (S gamma)."""
    nb, M = parts.shape
    for m in range(M):
        acc = 0.0
        for b in range(nb):
            acc += parts[b, m]
        f[m] = acc / (S * gamma)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _readout_blocks(h, z, relu, b0, b1, parts):
    """parts[b] = the partial readout sum of block b, for the blocks [b0, b1)."""
    S = h.shape[0]
    for b in range(b0, b1):
        _block_readout(h, z, relu, b * _BLOCK, min(S, (b + 1) * _BLOCK), parts[b])


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _step_blocks(h, z, T, shift, train, delta, gamma, dt, relu, b0, b1, parts):
    """One Euler step of the sites of blocks [b0, b1), with their partial readout sums after it."""
    S = h.shape[0]
    for b in range(b0, b1):
        _block_step(h, z, T, shift, train, delta, gamma, dt, relu, b * _BLOCK, min(S, (b + 1) * _BLOCK), parts[b])


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _prepare_step(f, train, y_train, KT, shift, delta, T):
    """delta_p = (y_p - f_p)/P and the subset-sum tables of the step (on one thread, in a fixed order)."""
    P = train.size
    for p in range(P):
        delta[p] = (y_train[p] - f[train[p]]) / P
    build_tables(KT, delta, 1 << shift, T)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _serial_steps(h, z, KT, shift, T, train, y_train, gamma, dt, n_steps, relu, f_out, parts):
    """:func:`euler_steps` on the calling thread (the same blocks and sums, so the same numbers)."""
    nb = parts.shape[0]
    f = np.empty(h.shape[1])
    delta = np.empty(train.size)
    _readout_blocks(h, z, relu, 0, nb, parts)
    _sum_parts(parts, h.shape[0], gamma, f)
    for k in range(n_steps):
        f_out[k, :] = f
        _prepare_step(f, train, y_train, KT, shift, delta, T)
        _step_blocks(h, z, T, shift, train, delta, gamma, dt, relu, 0, nb, parts)
        _sum_parts(parts, h.shape[0], gamma, f)
    return h, z


def _block_ranges(S: int, threads: int) -> list[tuple[int, int]]:
    """Contiguous block ranges, a few per thread so that a descheduled thread's share can be taken over."""
    nb = -(-S // _BLOCK)
    tasks = min(nb, SPLIT_PER_THREAD * threads)
    edges = [nb * k // tasks for k in range(tasks + 1)]
    return [(edges[k], edges[k + 1]) for k in range(tasks)]


def readout(h, z, gamma, relu):
    """f over the M points: <z phi(h)>/gamma, summed over blocks of ``_BLOCK`` sites (the summation order
    of :func:`euler_steps`, so that both give the same f for the same state)."""
    h = np.ascontiguousarray(h, dtype=np.float64)
    parts = np.empty((-(-h.shape[0] // _BLOCK), h.shape[1]))
    _readout_blocks(h, np.ascontiguousarray(z, dtype=np.float64), bool(relu), 0, parts.shape[0], parts)
    f = np.empty(h.shape[1])
    _sum_parts(parts, h.shape[0], float(gamma), f)
    return f


def euler_steps(h, z, KT, train, y_train, gamma, dt, n_steps, relu, f_out, threads=None):
    """``n_steps`` Euler steps in place on fields h (S, M) and readouts z (S,) (C-contiguous float64).

    KT (P, M) holds K_x(x_mu, x) for the P training points; f_out[k] receives f over the M points
    before step k. Each step first tabulates the subset sums of Delta_p K_p (:func:`_prepare_step`, one
    thread), then updates the sites from them (:func:`_block_step`). Sites are independent given f: blocks
    of ``_BLOCK`` sites are stepped by ``threads`` threads (default :func:`numerics._driver.threads`; GIL
    released), and each step's readout is accumulated while a block's rows are in cache (one pass over h
    per step). The block partition, the tables and the order of the sums do not depend on ``threads``:
    neither do the results."""
    S, M = h.shape
    gamma, dt, relu = float(gamma), float(dt), bool(relu)
    nb = -(-S // _BLOCK)
    parts = np.empty((nb, M))
    bits = group_bits(train.size, M)
    shift = bits.bit_length() - 1
    T = new_tables(train.size, M, bits)
    threads = _threads() if threads is None else int(threads)
    if threads <= 1 or S < PARALLEL_SITES:
        return _serial_steps(h, z, KT, shift, T, train, y_train, gamma, dt, int(n_steps), relu, f_out, parts)
    ranges = _block_ranges(S, threads)
    pool = _pool()
    f = np.empty(M)
    delta = np.empty(train.size)
    list(pool.map(lambda r: _readout_blocks(h, z, relu, r[0], r[1], parts), ranges))
    _sum_parts(parts, S, gamma, f)
    for k in range(int(n_steps)):
        f_out[k, :] = f
        _prepare_step(f, train, y_train, KT, shift, delta, T)
        list(pool.map(lambda r: _step_blocks(h, z, T, shift, train, delta, gamma, dt, relu, r[0], r[1], parts),
                      ranges))
        _sum_parts(parts, S, gamma, f)
    return h, z


def _check(gamma1, gamma2, dt, steps1, steps2, readout_mode, activation):
    for name, g in (("gamma1", gamma1), ("gamma2", gamma2)):
        if not (np.isfinite(g) and g > 0):
            raise ValueError(f"{name}: must be > 0 (the output is <z phi(h)>/gamma; gamma -> 0 is the lazy limit), "
                             f"got {g!r}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: must be > 0, got {dt!r}")
    for name, v in (("steps1", steps1), ("steps2", steps2)):
        if int(v) != v or v < 0:
            raise ValueError(f"{name}: must be a nonnegative integer, got {v!r}")
    if readout_mode not in ("fresh", "continued"):
        raise ValueError(f"readout: must be 'fresh' or 'continued', got {readout_mode!r}")
    if activation not in ("linear", "relu"):
        raise ValueError(f"activation: must be 'linear' or 'relu', got {activation!r}")


def _losses(f_traj, task: TwoStageTask, train, test):
    """Mean half-squared errors over the train and test points for each recorded f."""
    r_tr = f_traj[:, train] - task.y[train]
    r_te = f_traj[:, test] - task.y[test]
    return 0.5 * np.mean(r_tr * r_tr, axis=1), 0.5 * np.mean(r_te * r_te, axis=1)


def _run_stage(h, z, task, train, gamma, dt, steps, relu, bar):
    KT = np.ascontiguousarray(task.X[train] @ task.X.T / task.D)
    y_tr = np.ascontiguousarray(task.y[train])
    f = np.empty((steps + 1, task.X.shape[0]))
    done = 0
    while done < steps:
        n = min(_CHUNK, steps - done)
        euler_steps(h, z, KT, train, y_tr, float(gamma), float(dt), n, relu, f[done:done + n])
        done += n
        if bar is not None:
            bar.update(n)
    f[steps] = readout(h, z, float(gamma), relu)
    return f


def fields_two_stage(task: TwoStageTask, h, z, z_fresh, *, gamma1, gamma2, dt, steps1, steps2,
                     readout="fresh", activation="relu", progress=False) -> dict:
    """Run both stages from given initial fields ``h`` (S, M) and readouts ``z``, ``z_fresh`` (S,).

    Returns ``t1``, ``source_train``, ``source_test`` (stage one, steps1 + 1 records from t = 0) and ``t2``,
    ``target_train``, ``target_test`` (stage two, from its start), ``f1``, ``f2`` (f over all M points) and the
    final ``h``, ``z``; times are step counts times dt."""
    _check(gamma1, gamma2, dt, steps1, steps2, readout, activation)
    relu = activation == "relu"
    h = np.array(h, dtype=float, order="C")
    z = np.array(z, dtype=float)
    from tqdm.auto import tqdm

    bar = tqdm(total=int(steps1) + int(steps2), desc="two-stage DMFT", disable=not progress, leave=False)
    try:
        f1 = _run_stage(h, z, task, task.source_train, gamma1, dt, int(steps1), relu, bar)
        if readout == "fresh":
            z = np.array(z_fresh, dtype=float)
        f2 = _run_stage(h, z, task, task.target_train, gamma2, dt, int(steps2), relu, bar)
    finally:
        bar.close()
    s_tr, s_te = _losses(f1, task, task.source_train, task.source_test)
    t_tr, t_te = _losses(f2, task, task.target_train, task.target_test)
    return {"t1": dt * np.arange(int(steps1) + 1), "source_train": s_tr, "source_test": s_te,
            "t2": dt * np.arange(int(steps2) + 1), "target_train": t_tr, "target_test": t_te,
            "f1": f1, "f2": f2, "h": h, "z": z}


def two_stage_dmft(task: TwoStageTask, *, gamma1: float, gamma2: float, sites: int = 10000, dt: float = 0.05,
                   steps1: int, steps2: int, readout: str = "fresh", activation: str = "relu", seed: int = 0,
                   progress: bool = True) -> dict:
    """The single-site Monte Carlo with ``sites`` sites, seeded (see the module docstring for the conventions).

    Returns the dict of :func:`fields_two_stage` (train/test loss trajectories of both stages)."""
    xi, z, z_fresh = initial_draws(task.D, sites, seed=seed)
    h = xi @ task.X.T / np.sqrt(task.D)
    return fields_two_stage(task, h, z, z_fresh, gamma1=gamma1, gamma2=gamma2, dt=dt, steps1=steps1,
                            steps2=steps2, readout=readout, activation=activation, progress=progress)


def _linear_moment_stage(C, task, train, gamma, dt, steps):
    X, D = task.X, task.D
    Xtr, ytr = X[train], task.y[train]
    P = train.size
    f = np.empty((steps + 1, X.shape[0]))
    B = np.eye(C.shape[0])  # acts on [z; w]; a trailing fresh readout z' (augmented C) is carried along
    for k in range(steps + 1):
        f[k] = X @ C[0, 1:D + 1] / (gamma * np.sqrt(D))
        if k == steps:
            break
        v = (ytr - f[k, train]) @ Xtr / (P * np.sqrt(D))
        B[0, 1:D + 1] = B[1:D + 1, 0] = dt * gamma * v
        C = B @ C @ B.T
    return f, C


def linear_mean_field(task: TwoStageTask, *, gamma1, gamma2, dt, steps1, steps2, readout="fresh", C0=None,
                      C_fresh=None) -> dict:
    """The S -> infinity limit of the Euler scheme for phi = identity: the second-moment recursion C <- B C B^T.

    ``C0`` is <[z; w][z; w]^T> at the start, (D+1)x(D+1) (default identity: the mean-field limit), or the
    augmented (D+2)x(D+2) moment of [z; w; z'] with the fresh readout z' last (a finite sample's own moments:
    then the recursion is the S-site Monte Carlo / width-S network to rounding). With a (D+1)x(D+1) ``C0``,
    ``C_fresh`` = (<z'^2>, <z' w>) of the fresh readout at the end of stage one (default (1, 0), the limit).
    Same return keys as :func:`fields_two_stage` (without h, z), plus the final C."""
    _check(gamma1, gamma2, dt, steps1, steps2, readout, "linear")
    D = task.D
    C = np.eye(D + 1) if C0 is None else np.array(C0, dtype=float)
    if C.shape not in ((D + 1, D + 1), (D + 2, D + 2)):
        raise ValueError(f"C0: must be ({D + 1}, {D + 1}) or ({D + 2}, {D + 2}) for D = {D}, got {C.shape}")
    augmented = C.shape[0] == D + 2
    f1, C = _linear_moment_stage(C, task, task.source_train, gamma1, dt, int(steps1))
    if augmented:
        keep = [D + 1, *range(1, D + 1)] if readout == "fresh" else list(range(D + 1))
        C = C[np.ix_(keep, keep)]
    elif readout == "fresh":
        zz, zw = (1.0, np.zeros(D)) if C_fresh is None else C_fresh
        C = C.copy()
        C[0, 0] = zz
        C[0, 1:] = C[1:, 0] = zw
    f2, C = _linear_moment_stage(C, task, task.target_train, gamma2, dt, int(steps2))
    s_tr, s_te = _losses(f1, task, task.source_train, task.source_test)
    t_tr, t_te = _losses(f2, task, task.target_train, task.target_test)
    return {"t1": dt * np.arange(int(steps1) + 1), "source_train": s_tr, "source_test": s_te,
            "t2": dt * np.arange(int(steps2) + 1), "target_train": t_tr, "target_test": t_te,
            "f1": f1, "f2": f2, "C": C}


def sample_moments(D: int, sites: int, *, seed: int) -> np.ndarray:
    """The augmented second moment <[z; w; z'][z; w; z']^T> of the draws of :func:`initial_draws` (D+2 square)."""
    xi, z, z_fresh = initial_draws(D, sites, seed=seed)
    th = np.column_stack([z, xi, z_fresh])
    return th.T @ th / th.shape[0]
