r"""Mean-field (distributional) dynamics of a two-layer network on the merged staircase (Numba).

Network and scaling (mean-field, Mei-Montanari-Nguyen 2018): ``f(x) = (1/J) sum_j a_j sigma(w_j.x)``
with the shifted sigmoid ``sigma(z) = 1/(1 + exp(-(z - 1/2)))`` (the thesis's code). Risk
``R = E (h - f)^2 / 2 = E h^2/2 + int V drho + (1/2) int int U drho drho`` with
``V(theta) = -E[h a sigma(w.x)]``, ``U(theta, theta') = E[a sigma(w.x) a' sigma(w'.x)]``. Particle
gradient flow (time unit absorbs the ``2 xi(t)`` of MMN):

.. math:: \dot\theta_j = -\nabla_\theta \Psi(\theta_j; \hat\rho_J),\qquad
          \Psi(\theta;\rho) = V(\theta) + \int U(\theta,\theta')\,\rho(d\theta') ,

which is ``theta_j' = -J dR/dtheta_j = E[(h - f) grad_theta(a sigma(w.x))]``.

Target: ``h(x) = x1 + x1 x2 + x1 x2 x3`` on ``x ~ Unif{+-1}^d`` (Abbe, Boix-Adsera, Misiakiewicz 2022).

Dimension-free reduction (DERIVED here). Split ``w = (W, w_perp)``, ``W in R^3`` on the support and
``w_perp in R^(d-3)``. As ``d -> infinity`` with ``w_perp ~ N(0, I/d)``: (i) ``w_perp.x_perp -> S g``,
``S = ||w_perp||``, ``g ~ N(0, 1)`` independent of ``x_S`` (CLT); (ii) different neurons' ``g`` are
independent (``w_perp`` of different neurons are orthogonal to ``O(d^-1/2)``), so with many neurons
(``J -> infinity``) the predictor is ``f_rho(x_S) = int a E_g sigma(W.x_S + S g) drho`` and depends on ``x_S`` only; (iii) for the
off-support block ``d w_perp/dt = E[(h - f) a sigma'(z) x_perp] = w_perp E[(h - f) a sigma''(z)]``
(Rademacher-to-Gaussian Stein identity to leading order), so ``w_perp`` keeps its direction and only
its norm moves: ``dS/dt = S E[(h - f) a sigma''(z)] = E[(h - f) a sigma'(z) g]`` (Gaussian Stein).
The reduced particle is ``theta = (a, W1, W2, W3, S)`` and its flow is gradient flow of the reduced
``Psi`` in these Euclidean coordinates:

* ``da/dt = E[r sigma(z)]``, ``dW/dt = E[r a sigma'(z) x_S]``, ``dS/dt = E[r a sigma'(z) g]``,
  ``z = W.x_S + S g``, ``r = h(x_S) - f_rho(x_S)``.

Expectations: exact sum over the 8 points of ``{+-1}^3``; ``E_g`` by ``n``-node Gauss-Hermite
(probabilists') quadrature. ``sigma`` has poles at imaginary distance ``pi/S`` in ``g``, so the
error grows with ``S``: measured against mpmath quadrature, 48 nodes give < 1e-13 at ``S = 1``,
2e-9 at ``S = 2`` and 1e-6 at ``S = 3``. Integrator: classical RK4 with steps ``<= dt`` (global error
``O(dt^4)``; at ``dt = 0.1`` the coefficients agree with ``dt = 0.025`` to 1e-8).

Full particle flow (``full_particle_flow``): the same equations for particles ``(a_j, w_j in R^d)``
with the expectation over ``x`` an exact sum over ``{+-1}^d`` (``d <= 20``) or an average over given
samples; this is gradient flow of ``J R`` (``dR/dt = -(1/J) sum_j |theta_j'|^2``). It tends to the
reduced flow (with ``S_j = ||w_perp,j||``) when ``d -> infinity`` *and* ``J -> infinity``: at fixed
``J`` a particle's own fluctuation ``(1/J) a_j (sigma(z_j) - E_g sigma)`` and the ``O(1/J)`` coupling of
the ``w_perp`` directions leave an ``O(1/J)`` gap. Measured (coefficients, max over t <= 40, mean of
seeds): J = 32: 9.0e-3, 7.4e-3, 6.1e-3, 3.9e-3, 3.3e-3 at d = 4, 5, 6, 8, 12; J = 128: 6.2e-3,
3.3e-3, 2.5e-3 at d = 5, 8, 11 (log-log slope -1.2: about 1/d, flattening towards the O(1/J) floor).

Mean-field averages (``staircase_mean_field``): the particles are the midpoint rule of the initial
law (``midpoint_particles``), so averages converge as ``O(J^-2)``: at J = 64 the coefficients agree
with J = 128 to 2e-5.

Plateaus (measured): from ``rho_0`` = (``a ~ U[-1, 1]``, ``W = 0``, ``S = 1``) the coefficient of
``x1`` reaches 1/2 at t ~ 12, that of ``x1x2x3`` at t ~ 32, while ``x1x2`` creeps (0.25 at t = 100): with this
shifted sigmoid ``|sigma'''(-1/2)| = 0.10`` exceeds ``sigma''(-1/2) = 0.058``, so the degree-3 coefficient
is learned before the degree-2 one. Finite-d SGD (d = 128) shows the same order.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._blas_threads import one_blas_thread

SHIFT = 0.5
SUPPORT = 3
# The 8 points of {+-1}^3 (rows) and the characters chi_T for T = {1}, {1,2}, {1,2,3}.
CUBE = np.array([[s1, s2, s3] for s1 in (1.0, -1.0) for s2 in (1.0, -1.0) for s3 in (1.0, -1.0)])
CHARACTERS = np.stack([CUBE[:, 0], CUBE[:, 0] * CUBE[:, 1], CUBE[:, 0] * CUBE[:, 1] * CUBE[:, 2]])
TARGET = CHARACTERS.sum(axis=0)  # h(x_S) = x1 + x1x2 + x1x2x3 on the 8 points


def gauss_hermite(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with sum w_q F(g_q) ~ E F(g), g ~ N(0, 1) (probabilists' Gauss-Hermite)."""
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    g, w = np.polynomial.hermite_e.hermegauss(int(n))
    return g, w / math.sqrt(2.0 * math.pi)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _sig(z):
    """(sigma, sigma') of the shifted sigmoid, stable for either sign of z - 1/2."""
    u = z - SHIFT
    if u >= 0.0:
        e = math.exp(-u)
        s = 1.0 / (1.0 + e)
    else:
        e = math.exp(u)
        s = e / (1.0 + e)
    return s, s * (1.0 - s)


@numba.njit(cache=True, error_model="numpy")
def _predict(a, W, S, cube, g, wq):
    """f_rho(x_S) at the 8 cube points (mean over the J particles, E_g by quadrature)."""
    J = a.shape[0]
    f = np.zeros(cube.shape[0])
    for p in range(cube.shape[0]):
        acc = 0.0
        for j in range(J):
            u = W[j, 0] * cube[p, 0] + W[j, 1] * cube[p, 1] + W[j, 2] * cube[p, 2]
            e = 0.0
            for q in range(g.shape[0]):
                e += wq[q] * _sig(u + S[j] * g[q])[0]
            acc += a[j] * e
        f[p] = acc / J
    return f


@numba.njit(cache=True, error_model="numpy")
def _drift(a, W, S, target, cube, g, wq, da, dW, dS):
    """Reduced particle drift -grad Psi (see module docstring); writes da, dW, dS."""
    J = a.shape[0]
    f = _predict(a, W, S, cube, g, wq)
    P = cube.shape[0]
    for j in range(J):
        sa, s0, s1, s2, sS = 0.0, 0.0, 0.0, 0.0, 0.0
        for p in range(P):
            r = (target[p] - f[p]) / P
            u = W[j, 0] * cube[p, 0] + W[j, 1] * cube[p, 1] + W[j, 2] * cube[p, 2]
            es, ed, edg = 0.0, 0.0, 0.0
            for q in range(g.shape[0]):
                s, ds = _sig(u + S[j] * g[q])
                es += wq[q] * s
                ed += wq[q] * ds
                edg += wq[q] * ds * g[q]
            sa += r * es
            s0 += r * ed * cube[p, 0]
            s1 += r * ed * cube[p, 1]
            s2 += r * ed * cube[p, 2]
            sS += r * edg
        da[j] = sa
        dW[j, 0] = a[j] * s0
        dW[j, 1] = a[j] * s1
        dW[j, 2] = a[j] * s2
        dS[j] = a[j] * sS


@numba.njit(cache=True, error_model="numpy")
def _rk4_step(a, W, S, target, cube, g, wq, dt, ka, kW, kS, ta, tW, tS):
    """One classical RK4 step of the reduced flow, in place; k* and t* are work arrays."""
    J = a.shape[0]
    for st in range(4):
        h = 0.0 if st == 0 else (0.5 * dt if st < 3 else dt)
        for j in range(J):
            ta[j] = a[j] + h * ka[st - 1, j] if st > 0 else a[j]
            tS[j] = S[j] + h * kS[st - 1, j] if st > 0 else S[j]
            for i in range(3):
                tW[j, i] = W[j, i] + h * kW[st - 1, j, i] if st > 0 else W[j, i]
        _drift(ta, tW, tS, target, cube, g, wq, ka[st], kW[st], kS[st])
    for j in range(J):
        a[j] += dt / 6.0 * (ka[0, j] + 2.0 * ka[1, j] + 2.0 * ka[2, j] + ka[3, j])
        S[j] += dt / 6.0 * (kS[0, j] + 2.0 * kS[1, j] + 2.0 * kS[2, j] + kS[3, j])
        for i in range(3):
            W[j, i] += dt / 6.0 * (kW[0, j, i] + 2.0 * kW[1, j, i] + 2.0 * kW[2, j, i] + kW[3, j, i])


@numba.njit(cache=True, error_model="numpy")
def _rk4(a, W, S, target, cube, chars, g, wq, dt, n_steps, every, fourier, loss):
    J = a.shape[0]
    ka = np.empty((4, J))
    kW = np.empty((4, J, 3))
    kS = np.empty((4, J))
    ta, tW, tS = a.copy(), W.copy(), S.copy()
    rec = 0
    for n in range(n_steps + 1):
        if n % every == 0:
            f = _predict(a, W, S, cube, g, wq)
            P = cube.shape[0]
            for c in range(chars.shape[0]):
                acc = 0.0
                for p in range(P):
                    acc += f[p] * chars[c, p]
                fourier[rec, c] = acc / P
            acc = 0.0
            for p in range(P):
                acc += (target[p] - f[p]) ** 2
            loss[rec] = 0.5 * acc / P
            rec += 1
        if n == n_steps:
            break
        _rk4_step(a, W, S, target, cube, g, wq, dt, ka, kW, kS, ta, tW, tS)


@numba.njit(cache=True, error_model="numpy")
def _full_drift(a, w, X, pw, y, da, dw):
    """Full particle drift on points ``X`` (n, d) with weights ``pw`` (sum 1); returns the risk."""
    J = a.shape[0]
    n = X.shape[0]
    Z = X @ w.T  # (n, J) pre-activations
    Sg = np.empty_like(Z)
    G = np.empty_like(Z)
    risk = 0.0
    r = np.empty(n)
    for p in range(n):
        f = 0.0
        for j in range(J):
            s, ds = _sig(Z[p, j])
            Sg[p, j] = s
            G[p, j] = ds
            f += a[j] * s
        res = y[p] - f / J
        risk += 0.5 * pw[p] * res * res
        r[p] = pw[p] * res
    for j in range(J):
        acc = 0.0
        for p in range(n):
            acc += r[p] * Sg[p, j]
            G[p, j] *= r[p] * a[j]
        da[j] = acc
    dw[:, :] = G.T @ X
    return risk


@numba.njit(cache=True, error_model="numpy")
def _full_rk4(a, w, X, pw, y, chars, dt, n_steps, every, proj, risk_out):
    J, d = w.shape
    ka = np.empty((4, J))
    kw = np.empty((4, J, d))
    ta, tw = a.copy(), w.copy()
    rec = 0
    for n in range(n_steps + 1):
        if n % every == 0:
            risk_out[rec] = _full_drift(a, w, X, pw, y, ka[0], kw[0])
            Sg = np.empty(X.shape[0])
            Z = X @ w.T
            for p in range(X.shape[0]):
                f = 0.0
                for j in range(J):
                    f += a[j] * _sig(Z[p, j])[0]
                Sg[p] = pw[p] * f / J
            for c in range(chars.shape[0]):
                acc = 0.0
                for p in range(X.shape[0]):
                    acc += Sg[p] * chars[c, p]
                proj[rec, c] = acc
            rec += 1
        if n == n_steps:
            break
        for st in range(4):
            h = 0.0 if st == 0 else (0.5 * dt if st < 3 else dt)
            if st == 0:
                ta[:] = a
                tw[:, :] = w
            else:
                ta[:] = a + h * ka[st - 1]
                tw[:, :] = w + h * kw[st - 1]
            _full_drift(ta, tw, X, pw, y, ka[st], kw[st])
        a += dt / 6.0 * (ka[0] + 2.0 * ka[1] + 2.0 * ka[2] + ka[3])
        w += dt / 6.0 * (kw[0] + 2.0 * kw[1] + 2.0 * kw[2] + kw[3])


def hypercube(d: int) -> np.ndarray:
    """All ``2**d`` points of ``{+-1}^d`` (rows; exact expectations), ``1 <= d <= 20``."""
    if int(d) != d or not 1 <= d <= 20:
        raise ValueError(f"d must be an integer in [1, 20] for exact enumeration, got {d}")
    d = int(d)
    idx = np.arange(2**d)[:, None]
    return 1.0 - 2.0 * ((idx >> np.arange(d)[None, :]) & 1).astype(np.float64)


def full_particle_flow(a0, w0, T: float, *, dt: float = 0.05, X=None, every: int = 20, target=None,
                       characters=((0,), (0, 1), (0, 1, 2))) -> dict:
    """RK4 particle gradient flow of the d-dimensional distributional dynamics (see module docstring).

    ``a0`` (J,), ``w0`` (J, d): initial particles. ``X``: the points carrying the expectation, with
    equal weights; ``None`` enumerates ``{+-1}^d`` (exact; ``d <= 20``), a given (n, d) array of
    ``+-1`` samples makes the expectations empirical (sampled). ``target``: values of ``h`` at the
    points (default the merged staircase ``x1 + x1x2 + x1x2x3``). ``characters``: the sets ``T``
    whose coefficients ``E[f chi_T]`` are recorded. Returns ``t``, ``fourier`` (records, len(characters)),
    ``risk`` (``E(h - f)^2/2``) and the final ``a``, ``w``.
    """
    a = np.array(a0, dtype=np.float64, copy=True)
    w = np.array(w0, dtype=np.float64, copy=True)
    if a.ndim != 1 or a.size < 1 or not np.isfinite(a).all():
        raise ValueError(f"a0 must be a finite non-empty 1-D array, got shape {a.shape}")
    if w.ndim != 2 or w.shape[0] != a.size or not np.isfinite(w).all():
        raise ValueError(f"w0 must be a finite (J, d) array with J = {a.size}, got shape {w.shape}")
    d = w.shape[1]
    X = hypercube(d) if X is None else np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1:
        raise ValueError(f"X must be an (n, d) array with d = {d}, got shape {X.shape}")
    if not np.all(np.abs(X) == 1.0):
        raise ValueError("X must have entries +-1 (points of the hypercube)")
    if target is None:
        if d < SUPPORT:
            raise ValueError(f"w0 must have d >= {SUPPORT} columns for the staircase target, got {d}")
        target = X[:, 0] + X[:, 0] * X[:, 1] + X[:, 0] * X[:, 1] * X[:, 2]
    y = np.ascontiguousarray(target, dtype=np.float64)
    if y.shape != (X.shape[0],) or not np.isfinite(y).all():
        raise ValueError(f"target must be finite with shape ({X.shape[0]},), got {y.shape}")
    for name, v in (("T", T), ("dt", dt)):
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be >= 0 and finite, got {v}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    if int(every) < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    chars = np.empty((len(characters), X.shape[0]))
    for c, Tset in enumerate(characters):
        if any(int(i) != i or not 0 <= i < d for i in Tset):
            raise ValueError(f"characters must be sets of coordinates in [0, {d}), got {Tset}")
        chars[c] = np.prod(X[:, list(Tset)], axis=1) if len(Tset) else 1.0
    pw = np.full(X.shape[0], 1.0 / X.shape[0])
    n_steps = round(T / dt)
    n_rec = n_steps // int(every) + 1
    proj, risk = np.empty((n_rec, len(characters))), np.empty(n_rec)
    with one_blas_thread():  # small products inside a time loop: threads only add overhead
        _full_rk4(a, w, X, pw, y, chars, float(dt), n_steps, int(every), proj, risk)
    return {"t": np.arange(n_rec) * every * dt, "fourier": proj, "risk": risk, "a": a, "w": w}


def full_drift(a, w, X=None, target=None):
    """``(da/dt, dw/dt, risk)`` of the full particle flow (exact hypercube expectation by default)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    X = hypercube(w.shape[1]) if X is None else np.ascontiguousarray(X, dtype=np.float64)
    y = (X[:, 0] + X[:, 0] * X[:, 1] + X[:, 0] * X[:, 1] * X[:, 2]) if target is None else \
        np.ascontiguousarray(target, dtype=np.float64)
    da, dw = np.empty_like(a), np.empty_like(w)
    risk = _full_drift(a, w, X, np.full(X.shape[0], 1.0 / X.shape[0]), y, da, dw)
    return da, dw, risk


def reduced_drift(a, W, S, *, n_quad: int = 48):
    """Reduced drift ``(da/dt, dW/dt, dS/dt)`` of the particles ``(a_j, W_j, S_j)`` (arrays J, (J,3), J)."""
    a, W, S = _check_state(a, W, S)
    g, wq = gauss_hermite(n_quad)
    da, dW, dS = np.empty_like(a), np.empty_like(W), np.empty_like(S)
    _drift(a, W, S, TARGET, CUBE, g, wq, da, dW, dS)
    return da, dW, dS


def fourier_coefficients(a, W, S, *, n_quad: int = 48) -> np.ndarray:
    """Exact ``<f_rho, chi_T>`` for T = {1}, {1,2}, {1,2,3} (E over the cube, E_g by quadrature)."""
    a, W, S = _check_state(a, W, S)
    g, wq = gauss_hermite(n_quad)
    return CHARACTERS @ _predict(a, W, S, CUBE, g, wq) / CUBE.shape[0]


def _check_state(a, W, S):
    a = np.ascontiguousarray(a, dtype=np.float64)
    W = np.ascontiguousarray(W, dtype=np.float64)
    S = np.ascontiguousarray(S, dtype=np.float64)
    if a.ndim != 1 or a.size < 1:
        raise ValueError(f"a must be a non-empty 1-D array of output weights, got shape {a.shape}")
    if W.shape != (a.size, SUPPORT):
        raise ValueError(f"W must have shape (J, 3) = {(a.size, SUPPORT)}, got {W.shape}")
    if S.shape != a.shape:
        raise ValueError(f"S must have shape (J,) = {a.shape}, got {S.shape}")
    if (S < 0).any():
        raise ValueError("S must be >= 0 (the norm of the off-support weights)")
    for name, v in (("a", a), ("W", W), ("S", S)):
        if not np.isfinite(v).all():
            raise ValueError(f"{name} must be finite")
    return a, W, S


def initial_particles(J: int = 20, *, seed: int = 0):
    """The thesis's initialisation: ``a ~ U[-1, 1]``, ``W = 0``, ``S = 1`` (seeded)."""
    if int(J) < 1:
        raise ValueError(f"J must be >= 1, got {J}")
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, int(J)), np.zeros((int(J), SUPPORT)), np.ones(int(J))


def solve_staircase(T: float = 3000.0, *, dt: float = 0.05, J: int = 20, seed: int = 0, every: int = 20,
                    n_quad: int = 48, a0=None, W0=None, S0=None) -> dict:
    """Integrate the reduced particle flow by RK4 with step ``dt`` up to time ``T``.

    Returns ``t`` (record times, every ``every`` steps), ``fourier`` (rows: times; columns: the
    coefficients of x1, x1x2, x1x2x3), ``loss`` (``E(h - f)^2/2``) and the final particles.
    """
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be > 0 and finite, got {dt}")
    if not (T >= 0 and math.isfinite(T)):
        raise ValueError(f"T must be >= 0 and finite, got {T}")
    if int(every) < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if a0 is None:
        a0, W0, S0 = initial_particles(J, seed=seed)
    a, W, S = (x.copy() for x in _check_state(a0, W0, S0))
    n_steps = round(T / dt)
    n_rec = n_steps // every + 1
    fourier, loss = np.empty((n_rec, 3)), np.empty(n_rec)
    g, wq = gauss_hermite(n_quad)
    _rk4(a, W, S, TARGET, CUBE, CHARACTERS, g, wq, float(dt), n_steps, int(every), fourier, loss)
    return {"t": np.arange(n_rec) * every * dt, "fourier": fourier, "loss": loss, "a": a, "W": W, "S": S}


@numba.njit(cache=True, error_model="numpy")
def _advance(a, W, S, target, cube, g, wq, dt, n_steps):
    """``n_steps`` RK4 steps of size ``dt`` of the reduced flow, in place."""
    J = a.shape[0]
    ka = np.empty((4, J))
    kW = np.empty((4, J, 3))
    kS = np.empty((4, J))
    ta, tW, tS = a.copy(), W.copy(), S.copy()
    for _ in range(n_steps):
        _rk4_step(a, W, S, target, cube, g, wq, dt, ka, kW, kS, ta, tW, tS)


def midpoint_particles(J: int = 64, *, a_scale: float = 1.0, s0: float = 1.0):
    """Deterministic particles for ``rho_0 = Unif[-a_scale, a_scale] x delta_{W=0} x delta_{S=s0}``.

    ``a_j = a_scale (-1 + (2j + 1)/J)``: the midpoint rule for the uniform law. Every particle's
    trajectory is a smooth function of its initial ``a`` (the characteristics of the flow), so
    mean-field averages converge as ``O(J^-2)`` instead of the ``O(J^-1/2)`` of random particles.
    """
    if int(J) != J or J < 1:
        raise ValueError(f"J must be an integer >= 1, got {J}")
    if not (math.isfinite(a_scale) and a_scale > 0):
        raise ValueError(f"a_scale must be > 0 and finite, got {a_scale}")
    if not (math.isfinite(s0) and s0 >= 0):
        raise ValueError(f"s0 must be >= 0 and finite, got {s0}")
    J = int(J)
    a = a_scale * (-1.0 + (2.0 * np.arange(J) + 1.0) / J)
    return a, np.zeros((J, SUPPORT)), np.full(J, float(s0))


def staircase_mean_field(t, *, a_scale: float = 1.0, s0: float = 1.0, J: int = 64, dt: float = 0.05,
                         n_quad: int = 48) -> dict:
    """Mean-field Fourier coefficients and risk of the merged staircase at the times ``t`` (any shape).

    The reduced flow from :func:`midpoint_particles`, integrated by RK4 through the sorted times with
    steps no larger than ``dt`` (each interval split into equal steps). Returns ``c1``, ``c12``,
    ``c123`` (``E[f chi_T]``) and ``risk`` (``E(h - f)^2/2``), each of the shape of ``t``.
    """
    t = np.asarray(t, dtype=np.float64)
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("t must be finite and >= 0")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be > 0 and finite, got {dt}")
    a, W, S = midpoint_particles(J, a_scale=a_scale, s0=s0)
    g, wq = gauss_hermite(n_quad)
    flat = t.ravel()
    order = np.argsort(flat, kind="stable")
    out = np.empty((4, flat.size))
    now = 0.0
    for i in order:
        span = flat[i] - now
        if span > 0:
            n = math.ceil(span / dt - 1e-9)
            _advance(a, W, S, TARGET, CUBE, g, wq, span / n, n)
            now = flat[i]
        f = _predict(a, W, S, CUBE, g, wq)
        out[:3, i] = CHARACTERS @ f / CUBE.shape[0]
        out[3, i] = 0.5 * np.mean((TARGET - f) ** 2)
    shape = t.shape
    return {"c1": out[0].reshape(shape), "c12": out[1].reshape(shape), "c123": out[2].reshape(shape),
            "risk": out[3].reshape(shape)}


def reduced_risk(a, W, S, *, n_quad: int = 48) -> float:
    """``E(h - f_rho)^2/2`` of the reduced predictor (the function the reduced flow descends)."""
    a, W, S = _check_state(a, W, S)
    g, wq = gauss_hermite(n_quad)
    return float(0.5 * np.mean((TARGET - _predict(a, W, S, CUBE, g, wq)) ** 2))
