r"""Gradient flow and gradient descent of a two-path diagonal linear network, through pretrain -> reset -> fine-tune.

Model (Anguita, Locatello, Saxe et al. 2026 setting; research note diagonal-linear.md §2):
for each input coordinate i two paths with first-layer (input) weights ``w_+, w_-`` and
readout (output) weights ``v_+, v_-``:

.. math:: \beta_i = w_{+,i} v_{+,i} - w_{-,i} v_{-,i}, \qquad f(x) = \langle\beta, x\rangle,

trained on ``L = (1/2n) ||X beta - y||^2`` (tau = 1; GD step k at rate eta is time k eta).

Sign convention (lazyrich): ``lam = v^2 - w^2`` (output layer squared minus input layer
squared, as everywhere in lazyrich). The research note and the authors' code use the
opposite sign, ``lam_note = w^2 - v^2``. The (c, lam) initialisation is therefore

    w_+ = w_- = sqrt((c - lam)/2),  v_+ = v_- = sqrt((c + lam)/2),  |lam| <= c,

so that ``c = w_+ w_- + v_+ v_-`` and ``beta(0) = 0``; ``lam > 0`` is a *smaller first layer*.

Fine-tuning resets (research note §2.3):

* ``"readout_reset"`` (protocol B): ``v_+ = v_- = gamma``, first layer kept;
* ``"merged"`` (protocol A): ``w_+ = w_- = w_+ + w_-``, ``v_+ = v_- = gamma``.

The gradient flow is integrated by an adaptive Dormand-Prince 5(4) pair in Numba
(tight ``rtol``), the descent is plain full-batch GD in Numba; both stop when the loss
falls below ``loss_tol`` (the small-initialisation regime is stiff and its escape time
grows like log(1/kappa): a fixed horizon would be either wasteful or too short).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

PROTOCOLS = ("readout_reset", "merged")


@dataclass(frozen=True)
class DiagonalWeights:
    """The four weight vectors of the diagonal network (each of length d)."""

    w_plus: np.ndarray
    w_minus: np.ndarray
    v_plus: np.ndarray
    v_minus: np.ndarray

    @property
    def beta(self) -> np.ndarray:
        """The linear predictor beta = w_+ v_+ - w_- v_-."""
        return self.w_plus * self.v_plus - self.w_minus * self.v_minus

    @property
    def lam_plus(self) -> np.ndarray:
        """Conserved v_+^2 - w_+^2 (lazyrich sign: output minus input layer)."""
        return self.v_plus**2 - self.w_plus**2

    @property
    def lam_minus(self) -> np.ndarray:
        """Conserved v_-^2 - w_-^2."""
        return self.v_minus**2 - self.w_minus**2

    @property
    def c(self) -> np.ndarray:
        """Conserved w_+ w_- + v_+ v_-."""
        return self.w_plus * self.w_minus + self.v_plus * self.v_minus

    @property
    def kappa(self) -> np.ndarray:
        """kappa = sqrt(4c^2 + (lam_+ - lam_-)^2), the scale of the stage's implicit bias."""
        return np.hypot(2.0 * self.c, self.lam_plus - self.lam_minus)

    def stacked(self) -> np.ndarray:
        return np.concatenate([self.w_plus, self.w_minus, self.v_plus, self.v_minus])

    @staticmethod
    def unstack(z: np.ndarray) -> DiagonalWeights:
        d = z.size // 4
        return DiagonalWeights(*(np.array(z[k * d:(k + 1) * d]) for k in range(4)))


@dataclass(frozen=True)
class TrainingRun:
    """Final weights of one training stage and how the run ended."""

    weights: DiagonalWeights
    loss: float
    time: float
    steps: int


@dataclass(frozen=True)
class PipelineRun:
    """Weights at the four points of the pipeline: init, after PT, after the reset, after FT."""

    init: DiagonalWeights
    pretrained: DiagonalWeights
    reset: DiagonalWeights
    finetuned: DiagonalWeights
    pretraining: TrainingRun
    finetuning: TrainingRun


def diagonal_init(c, lam, d: int) -> DiagonalWeights:
    """The (c, lam) initialisation (lazyrich sign lam = v^2 - w^2), uniform over d coordinates."""
    c = float(c)
    lam = float(lam)
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"c: must be finite and > 0, got {c}")
    if not (math.isfinite(lam) and abs(lam) <= c):
        raise ValueError(f"lam: must satisfy |lam| <= c = {c}, got {lam}")
    w = math.sqrt((c - lam) / 2)
    v = math.sqrt((c + lam) / 2)
    return DiagonalWeights(np.full(d, w), np.full(d, w), np.full(d, v), np.full(d, v))


def reset(weights: DiagonalWeights, protocol: str, gamma) -> DiagonalWeights:
    """Apply a fine-tuning reset: ``"readout_reset"`` (v = gamma) or ``"merged"`` (w_pm = w_+ + w_-, v = gamma)."""
    gamma = float(gamma)
    if not math.isfinite(gamma):
        raise ValueError(f"gamma: must be finite, got {gamma}")
    v = np.full(weights.w_plus.size, gamma)
    if protocol == "readout_reset":
        return DiagonalWeights(weights.w_plus.copy(), weights.w_minus.copy(), v, v.copy())
    if protocol == "merged":
        w = weights.w_plus + weights.w_minus
        return DiagonalWeights(w, w.copy(), v, v.copy())
    raise ValueError(f"protocol: must be one of {PROTOCOLS}, got {protocol!r}")


def bernoulli_gaussian_task(n: int, d: int, rho: float, seed: int):
    """Seeded data: X_ij ~ N(0, 1/n), teacher beta*_i = 0 w.p. 1 - rho else N(0, 1/rho); returns (X, y, beta*)."""
    if not (0 < rho <= 1):
        raise ValueError(f"rho: must satisfy 0 < rho <= 1, got {rho}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / math.sqrt(n)
    beta = np.where(rng.random(d) < rho, rng.standard_normal(d) / math.sqrt(rho), 0.0)
    return X, X @ beta, beta


# -- Numba kernels ---------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def _rhs(z, X, y, out):
    """d z/dt = -grad L for z = (w_+, w_-, v_+, v_-); returns the loss at z."""
    n, d = X.shape
    wp, wm, vp, vm = z[:d], z[d:2 * d], z[2 * d:3 * d], z[3 * d:]
    beta = wp * vp - wm * vm
    # explicit loops, not BLAS: threaded BLAS on small matrices is slow on shared cores
    g = np.zeros(d)
    loss = 0.0
    for j in range(n):
        rj = -y[j]
        for i in range(d):
            rj += X[j, i] * beta[i]
        loss += rj * rj
        for i in range(d):
            g[i] += X[j, i] * rj
    g /= n
    out[:d] = -g * vp
    out[d:2 * d] = g * vm
    out[2 * d:3 * d] = -g * wp
    out[3 * d:] = g * wm
    return 0.5 * loss / n


# Dormand-Prince 5(4) tableau
_A = np.array([
    [0, 0, 0, 0, 0, 0],
    [1 / 5, 0, 0, 0, 0, 0],
    [3 / 40, 9 / 40, 0, 0, 0, 0],
    [44 / 45, -56 / 15, 32 / 9, 0, 0, 0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0, 0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656, 0],
])
_B = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_E = np.array([71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])


@numba.njit(cache=True, error_model="numpy")
def _flow(z0, X, y, rtol, atol, loss_tol, t_max, max_steps, A, B, E):
    """Adaptive Dormand-Prince 5(4) until loss <= loss_tol. Returns (z, loss, t, steps, status)."""
    m = z0.size
    z = z0.copy()
    K = np.zeros((7, m))
    loss = _rhs(z, X, y, K[0])
    t = 0.0
    # initial step from the size of the derivative
    scale = atol + rtol * np.max(np.abs(z))
    h = min(0.01 * scale / max(np.max(np.abs(K[0])), 1e-300), 1.0)
    h = max(h, 1e-12)
    steps = 0
    tmp = np.empty(m)
    while not (loss <= loss_tol):  # (a NaN loss must not end the run as if converged)
        if not math.isfinite(loss):
            return z, loss, t, steps, 3
        if steps >= max_steps:
            return z, loss, t, steps, 1
        if t >= t_max:
            return z, loss, t, steps, 2
        for s in range(1, 6):
            tmp[:] = z
            for j in range(s):
                tmp += h * A[s, j] * K[j]
            _rhs(tmp, X, y, K[s])
        znew = z.copy()
        for j in range(6):
            znew += h * B[j] * K[j]
        new_loss = _rhs(znew, X, y, K[6])
        err = 0.0
        for i in range(m):
            e = 0.0
            for j in range(7):
                e += E[j] * K[j, i]
            sc = atol + rtol * max(abs(z[i]), abs(znew[i]))
            err = max(err, abs(h * e) / sc)
        if err <= 1.0:
            z = znew
            t += h
            steps += 1
            loss = new_loss
            K[0] = K[6]  # first-same-as-last
        fac = 0.9 * (max(1e-10, err)) ** -0.2
        h *= min(5.0, max(0.2, fac))
    return z, loss, t, steps, 0


@numba.njit(cache=True, error_model="numpy")
def _descent(z0, X, y, eta, loss_tol, max_steps):
    """Full-batch GD (all four layers at once) until loss <= loss_tol. Returns (z, loss, steps, status)."""
    m = z0.size
    z = z0.copy()
    g = np.empty(m)
    loss = _rhs(z, X, y, g)
    steps = 0
    while not (loss <= loss_tol):  # (a NaN loss must not end the run as if converged)
        if not math.isfinite(loss):
            return z, loss, steps, 3
        if steps >= max_steps:
            return z, loss, steps, 1
        z += eta * g
        loss = _rhs(z, X, y, g)
        steps += 1
    return z, loss, steps, 0


def _check_data(X, y):
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X: must be (n, d) with y of shape (n,), got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X: X and y must be finite")
    return X, y


def train(weights: DiagonalWeights, X, y, *, method: str = "flow", eta: float | None = None,
          loss_tol: float = 1e-22, rtol: float = 1e-12, atol: float = 1e-15,
          t_max: float = 1e9, max_steps: int = 50_000_000) -> TrainingRun:
    """Train all four layers from ``weights`` on ``(X, y)`` until the loss is <= ``loss_tol``.

    ``method="flow"``: gradient flow, Dormand-Prince 5(4) at ``rtol``/``atol``;
    ``method="descent"``: GD at rate ``eta`` (required). Raises ``RuntimeError`` if the
    step or time budget runs out (or GD diverges) before the loss threshold.
    """
    X, y = _check_data(X, y)
    if weights.w_plus.size != X.shape[1]:
        raise ValueError(f"weights: have {weights.w_plus.size} coordinates, X has {X.shape[1]} columns")
    if not (loss_tol > 0):
        raise ValueError(f"loss_tol: must be > 0, got {loss_tol}")
    z0 = weights.stacked()
    if method == "flow":
        z, loss, t, steps, status = _flow(z0, X, y, float(rtol), float(atol), float(loss_tol), float(t_max),
                                          int(max_steps), _A, _B, _E)
    elif method == "descent":
        if eta is None or not (math.isfinite(eta) and eta > 0):
            raise ValueError(f"eta: gradient descent needs a finite rate eta > 0, got {eta}")
        z, loss, steps, status = _descent(z0, X, y, float(eta), float(loss_tol), int(max_steps))
        t = steps * float(eta)
    else:
        raise ValueError(f"method: must be 'flow' or 'descent', got {method!r}")
    if status:
        why = {1: f"max_steps = {max_steps} reached", 2: f"t_max = {t_max} reached",
               3: "the loss diverged (eta too large, or the flow blew up)"}[status]
        raise RuntimeError(f"train: {why} with loss {loss:.3g} > loss_tol = {loss_tol:.3g}")
    return TrainingRun(DiagonalWeights.unstack(z), float(loss), float(t), int(steps))


def pretrain_finetune(X_pt, y_pt, X_ft, y_ft, *, c, lam, gamma, protocol: str = "readout_reset",
                      **train_options) -> PipelineRun:
    """(c, lam) init -> train on (X_pt, y_pt) -> reset (``protocol``, ``gamma``) -> train on (X_ft, y_ft).

    ``train_options`` go to :func:`train` for both stages (``method``, ``eta``, ``loss_tol``, ...).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol: must be one of {PROTOCOLS}, got {protocol!r}")
    X_pt, y_pt = _check_data(X_pt, y_pt)
    init = diagonal_init(c, lam, X_pt.shape[1])
    pt = train(init, X_pt, y_pt, **train_options)
    after_reset = reset(pt.weights, protocol, gamma)
    ft = train(after_reset, X_ft, y_ft, **train_options)
    return PipelineRun(init, pt.weights, after_reset, ft.weights, pt, ft)
