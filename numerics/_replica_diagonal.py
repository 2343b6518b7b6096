r"""Replica-symmetric scalar-channel equations for the interpolating Bregman estimator of a diagonal network.

Proportional limit n, d -> inf, alpha = n/d, X_ij ~ N(0, 1/n), noiseless labels, estimator
``argmin sum_i phi_kappa_i(beta_i) s.t. X beta = y`` (centre 0). Teacher coordinates are a
mixture of groups g (probability p_g, per-group kappa_g, teacher variance v_g; v_g = 0 for a
zero group). Scalar channel ``z = x + s xi``; ``xhat = prox_{g phi_kappa}(z)`` solves
``xhat + (g/2) asinh(2 xhat / kappa) = z``; the unknowns (s, g) satisfy

    s^2 = eps / alpha,  eps = sum_g p_g E (x - xhat)^2,
    alpha = sum_g p_g E[ 1 / (1 + g / sqrt(kappa_g^2 + 4 xhat^2)) ]

(research note diagonal-linear.md §4, DERIVED+CHECKED D8/D9; RS-PMAP in the style of
Rangan-Goyal-Fletcher with the external regulariser set to 0 for exact interpolation).

Numerics (note §7(b)): every expectation is one-dimensional over ``z ~ N(0, v + s^2)`` with
``E[x|z] = z v/(v + s^2)`` and ``Var(x|z) = v s^2/(v + s^2)``, by the trapezoid rule on a
fine uniform grid in ``z`` (spectrally accurate for the smooth integrands; two-dimensional
Gauss-Hermite is too noisy near the l1 transition). ``g(s)`` is the unique root of the
degrees-of-freedom equation (decreasing in g); ``s`` is the fixed point that state evolution
``s_{t+1}^2 = eps(s_t)/alpha`` reaches from the zero estimate ``s0^2 = E beta*^2 / alpha``: the first
root of ``eps(s)/alpha - s^2`` met when moving from s0 *down* (the estimator beats predicting 0) or
*up* (it does worse), see :func:`solve` (explicit branch selection).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.optimize import brentq

GRID_T = 10.0
GRID_POINTS = 4001


@numba.njit(cache=True, error_model="numpy")
def prox(z, g, kappa):
    """xhat with xhat + (g/2) asinh(2 xhat/kappa) = z (odd, increasing in z; |xhat| <= |z|)."""
    a = abs(z)
    if a == 0.0 or g == 0.0:
        return z
    lo, hi = 0.0, a
    # two lower bounds of the root (f is increasing and concave on x > 0, so Newton started below
    # the root climbs monotonically): f(x) <= x (1 + g/kappa) - a, and f(a - (g/2) asinh(2a/kappa)) <= 0
    x = max(a / (1.0 + g / kappa), a - 0.5 * g * math.asinh(2.0 * a / kappa))
    for _ in range(200):
        f = x + 0.5 * g * math.asinh(2.0 * x / kappa) - a
        if f == 0.0:
            break
        if f > 0.0:
            hi = x
        else:
            lo = x
        df = 1.0 + g / math.sqrt(kappa * kappa + 4.0 * x * x)
        xn = x - f / df
        if abs(xn - x) <= 1e-15 * x:
            x = xn
            break
        if not (lo < xn < hi):  # safeguard (rounding): bisect the bracket
            xn = 0.5 * (lo + hi)
        x = xn
    return math.copysign(x, z)


@numba.njit(cache=True, error_model="numpy")
def group_moments(s, g, kappa, v, T, M):
    """(E (x - xhat)^2, E[1/(1 + g/sqrt(kappa^2 + 4 xhat^2))]) for one group, trapezoid over z."""
    var = v + s * s
    sd = math.sqrt(var)
    h = 2.0 * T / (M - 1)
    shrink = v / var
    post_var = v * s * s / var
    mse = 0.0
    dof = 0.0
    norm = 0.0
    for k in range(M):
        t = -T + k * h
        w = math.exp(-0.5 * t * t)
        if k == 0 or k == M - 1:
            w *= 0.5
        z = sd * t
        xh = prox(z, g, kappa)
        e = z * shrink - xh
        mse += w * (e * e + post_var)
        dof += w / (1.0 + g / math.sqrt(kappa * kappa + 4.0 * xh * xh))
        norm += w
    return mse / norm, dof / norm


def moments(s, g, groups, T=GRID_T, M=GRID_POINTS):
    """Mixture (eps, dof) over ``groups`` = [(p, kappa, v), ...]."""
    eps = dof = 0.0
    for p, kappa, v in groups:
        m, d = group_moments(float(s), float(g), float(kappa), float(v), T, M)
        eps += p * m
        dof += p * d
    return eps, dof


def _g_of_s(s, alpha, groups):
    """The unique g > 0 with dof(s, g) = alpha (dof decreases from 1 at g = 0 to 0 as g -> inf)."""
    def f(lg):
        return moments(s, math.exp(lg), groups)[1] - alpha
    lo, hi = -40.0, 5.0
    while f(hi) > 0:
        hi += 10.0
        if hi > 700:
            raise ArithmeticError("g(s): degrees-of-freedom equation has no root below exp(700)")
    if f(lo) < 0:
        raise ArithmeticError("g(s): degrees of freedom below alpha already at g = exp(-40)")
    return math.exp(brentq(f, lo, hi, xtol=1e-13, rtol=1e-13))


def residual(s, alpha, groups):
    """``G(s) = eps(s, g(s))/alpha - s^2``: the state-evolution map minus the identity, in ``s^2``."""
    return moments(s, _g_of_s(s, alpha, groups), groups)[0] / alpha - s * s


def _march(G, s0, G0, direction, ratio, s_min, s_max):
    """First sign change of ``G`` met on the geometric grid ``s0 * ratio**(direction * k)``, k = 1, 2, ...,
    refined by Brent's method; ``None`` when the grid reaches ``s_min`` (downwards) without one.

    Every grid point strictly between ``s0`` and the returned root has ``sign G = sign G0``: no root
    resolved by the grid lies between the start and the selected one."""
    prev_s = s0
    while True:
        s = prev_s * ratio**direction
        if s < s_min:
            return None
        if s > s_max:
            raise ArithmeticError(f"alpha: no RS fixed point between the zero-estimate start {s0:.6g} and "
                                  f"{s_max:.6g} (state evolution diverges)")
        val = G(s)
        if val == 0.0:
            return s
        if (val > 0.0) != (G0 > 0.0):
            lo, hi = (s, prev_s) if direction < 0 else (prev_s, s)
            return brentq(G, lo, hi, xtol=1e-14 * s0, rtol=1e-13)
        prev_s = s


def select_root(G, s0, *, ratio, s_min, s_max):
    """The root of ``G`` that the monotone iteration ``s^2 <- s^2 + G(s)`` reaches from ``s0``, or ``None``
    when it goes to 0 (below ``s_min``): the branch selection of :func:`solve` for any residual ``G``.

    Direction: down when ``G(s0) < 0``, up when ``G(s0) > 0`` (whatever the sign of G just below s0:
    a root below s0 is on the wrong branch then), ``s0`` itself when ``G(s0) = 0``."""
    G0 = G(s0)
    if G0 == 0.0:
        return s0
    return _march(G, s0, G0, 1 if G0 > 0.0 else -1, ratio, s_min, s_max)


def solve(alpha, groups, *, n_scan=48, s_min_ratio=1e-7, s_max_ratio=1e6):
    """Solve the RS equations; returns ``dict(eps, s, g, perfect)`` on the branch state evolution selects.

    Physical fixed point. State evolution of the interpolating estimator, started from the zero
    estimate, is the one-dimensional map ``s_{t+1}^2 = T(s_t^2) = eps(s_t, g(s_t))/alpha`` from
    ``s0^2 = E beta*^2 / alpha`` (the error of predicting 0). The fixed point returned is the one this
    iteration converges to. The research note (§4, §7(b)) warm-starts with damped sweeps of the
    equations and asks for "continuation or a forward/backward branch selection as the authors do"
    without naming the physical root; this solver makes the choice explicit: the state-evolution limit
    from the zero estimate (AMP's initialisation). ``T`` is increasing in ``s^2`` (a noisier channel
    gives a larger error: observed on the tested domain, not proved), so the iterates are monotone,
    never cross a fixed point, and converge to the root of ``G(s) = T(s^2) - s^2`` *nearest to s0 in
    the direction of sign G(s0)*; that root is stable from the side the iterates approach it.

    Bracketing, in both directions, on the geometric grid ``s0 * r**(+-k)``, k = 1, 2, ..., with
    ``r = s_min_ratio**(-1/(n_scan-1))`` (about 1.41 per step by default), then Brent's method
    (``xtol = 1e-14 s0``, ``rtol = 1e-13``) on the first bracket:

    - ``G(s0) < 0`` (the estimator beats predicting 0): march *down* from s0 to the first sign change,
      refine it with Brent's method; if ``G < 0`` down to ``s_min_ratio * s0``, state evolution drives
      the error to 0: ``perfect = True``, ``eps = 0`` (exact recovery in the limit), ``s = 0``, ``g = nan``;
    - ``G(s0) > 0`` (the interpolator is worse than predicting 0: dense teacher under a rich bias at small
      alpha, or a bias favouring the wrong coordinates): march *up* to the first sign change (there
      ``eps > E beta*^2``). ``G < 0`` at large enough s (observed; in the ridge limit
      ``T = (1 - alpha)^2 E beta*^2/alpha + alpha s^2`` grows with slope alpha < 1), so a bracket is
      expected; none below ``s_max_ratio * s0`` raises ArithmeticError;
    - ``G(s0) = 0``: s0 itself (predicting 0 is a fixed point).

    Several roots: only the first one met in the direction of motion is the physical one; roots on the
    far side of s0 or beyond it (unstable or unreachable branches) are never returned. A pair of roots
    closer together than one grid step with no grid point between them is not resolved (the grid is
    the resolution of the branch selection; refine with ``n_scan``).
    """
    second = sum(p * v for p, _, v in groups)
    if not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha: must satisfy 0 < alpha < 1 (an underdetermined system), got {alpha}")
    s0 = math.sqrt(second / alpha)

    root = select_root(lambda s: residual(s, alpha, groups), s0, ratio=s_min_ratio ** (-1.0 / (n_scan - 1)),
                       s_min=s_min_ratio * s0 * (1.0 - 1e-12), s_max=s_max_ratio * s0)
    if root is None:
        return {"eps": 0.0, "s": 0.0, "g": float("nan"), "perfect": True}
    return {"eps": alpha * root * root, "s": root, "g": _g_of_s(root, alpha, groups), "perfect": False}


def bernoulli_gaussian_groups(kappa, rho):
    """Single task: beta* = 0 w.p. 1 - rho, else N(0, 1/rho) (E beta*^2 = 1), uniform kappa."""
    groups = [(rho, kappa, 1.0 / rho)]
    if rho < 1.0:
        groups.append((1.0 - rho, kappa, 0.0))
    return groups


# -- finite-d simulation (the estimator the equations describe) -------------------------------------
def gaussian_design(n, d, rng):
    """X (n, d) with i.i.d. N(0, 1/n) entries, the normalisation of the RS equations."""
    return rng.standard_normal((n, d)) / math.sqrt(n)


def bernoulli_gaussian_teacher(d, rho, rng):
    """beta*: exactly k = round(rho d) nonzero coordinates at random places, Gaussian, rescaled so that
    ||beta*||^2 / d = 1 exactly.

    Fixed support size and fixed norm remove the two O(1/sqrt(k)) fluctuations that dominate the
    seed-to-seed spread (variance reduction); the empirical law of the coordinates still converges
    to the Bernoulli-Gaussian prior, so the d -> inf limit is unchanged."""
    beta = np.zeros(d)
    k = int(round(rho * d))
    amp = rng.standard_normal(k)
    beta[rng.permutation(d)[:k]] = amp * math.sqrt(d / np.dot(amp, amp))
    return beta


def simulate_single_task(kappa, alpha, rho, d, seed):
    """One draw of ||beta_hat - beta*||^2 / d for the min-Bregman interpolator at n = round(alpha d)."""
    from ._bregman import bregman_projection

    rng = np.random.default_rng(seed)
    n = int(round(alpha * d))
    beta_star = bernoulli_gaussian_teacher(d, rho, rng)
    X = gaussian_design(n, d, rng)
    beta = bregman_projection(X, X @ beta_star, kappa)
    return float(np.mean((beta - beta_star) ** 2))


def finetune_teachers(d, rho_pt, a_pt, rho_ft, omega, rng):
    """(beta_pt*, beta_ft*): PT support of size rho_pt d with entries +-a_pt; FT support of size
    rho_ft d, a fraction omega of it inside the PT support, entries N(0, 1/rho_ft)."""
    k_pt, k_ft = int(round(rho_pt * d)), int(round(rho_ft * d))
    k_ov = int(round(omega * k_ft))
    perm = rng.permutation(d)
    pt_idx = perm[:k_pt]
    ft_idx = np.concatenate([perm[:k_ov], perm[k_pt:k_pt + k_ft - k_ov]])
    beta_pt = np.zeros(d)
    beta_pt[pt_idx] = a_pt * rng.choice([-1.0, 1.0], size=k_pt)
    beta_ft = np.zeros(d)
    beta_ft[ft_idx] = rng.standard_normal(k_ft) / math.sqrt(rho_ft)
    return beta_pt, beta_ft


def simulate_finetune(kappa_of_beta_pt, rho_pt, a_pt, rho_ft, omega, alpha, d, seed):
    """One draw of ||beta_FT - beta_ft*||^2 / d for the fine-tuning stage at n = round(alpha d).

    Pretraining is taken to have recovered its teacher exactly (beta_PT = beta_pt*, the situation
    the RS mixture describes; it holds at any c once n_pt >= d). ``kappa_of_beta_pt`` maps the
    pretrained coefficients to the per-coordinate fine-tuning scale kappa_F (the reset formula);
    the Bregman centre is 0 (merged protocol, or readout reset with gamma = 0). The FT teacher
    amplitudes are rescaled to ||beta_ft*||^2 / d = 1 (variance reduction, as in the single task)."""
    from ._bregman import bregman_projection

    rng = np.random.default_rng(seed)
    beta_pt, beta_ft = finetune_teachers(d, rho_pt, a_pt, rho_ft, omega, rng)
    beta_ft *= math.sqrt(d / np.dot(beta_ft, beta_ft))
    n = int(round(alpha * d))
    X = gaussian_design(n, d, rng)
    beta = bregman_projection(X, X @ beta_ft, np.asarray(kappa_of_beta_pt(beta_pt), dtype=float))
    return float(np.mean((beta - beta_ft) ** 2))
