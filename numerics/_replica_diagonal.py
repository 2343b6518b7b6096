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

Solver kernels (one compiled call per value of g(s), no Python per quadrature pass):

- the integrands are even in the grid variable (xhat is odd in z), so one pass runs over the nodes
  t >= 0 of the symmetric grid with doubled weights (:func:`half_grid`, the same nodes and weights as
  the full grid of :func:`group_moments`);
- along the pass |z| increases and xhat(|z|) is increasing and convex, so each prox is started from a
  quadratic Taylor predictor from the previous node (derivatives by implicit differentiation of the prox
  equation) and usually needs one Newton step, accepted when the Newton error it leaves is below a
  quarter ulp (:func:`_prox_from`); the cold-started :func:`prox` remains the public scalar prox;
- g(s) is found by safeguarded Newton on log(dof/alpha) in log g (:func:`_solve_g`), with d dof/d log g
  from the same pass; started on the line through the previous two (log s, log g) of the solve, it takes
  2.5-3.7 passes per g(s) instead of the ~15-20 of Brent's method on log g (the previous implementation).
  The branch selection (:func:`select_root`, :func:`_march`) is unchanged.

Agreement with the previous implementation (full grid, cold prox, Brent on log g with xtol = rtol = 1e-13;
it took 25-37x longer per alpha point): the moments agree to the rounding of the sums (a few 1e-15 relative, as
each does with an ``fsum`` of the same terms), g(s) with Brent's root on the same moments to 3e-14
(observed), and the solutions (eps, the ``perfect`` flag and the side of s0) to <= 2e-13 relative on the
46-point table of ``tests/numerics/test_replica_diagonal.py`` (40 single-task points, kappa from 1e-8 to
1e3, and 6 fine-tuning mixtures); answers far below s0 (eps ~ 1e-12 at kappa = 1e-6, 1.5e-12 apart) are
set in both versions by Brent's xtol = 1e-14 s0 on s.
"""

from __future__ import annotations

import functools
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


# -- the solver's kernels: symmetric half grid, warm-started prox, Newton on g in one compiled call ---------
MACHINE_EPS = 2.0**-52
#: log g is searched in [LOG_G_MIN, LOG_G_MAX]: dof >= alpha at the lower end (g ~ 4e-18) for every
#: alpha < 1 reached in practice, and exp(LOG_G_MAX) is still finite
LOG_G_MIN, LOG_G_MAX = -40.0, 700.0
#: Newton on u = log g stops when its step is below this (the relative accuracy of g; Brent's method in
#: the previous solver stopped at 1e-13 in log g) or when dof - alpha is at the rounding of the sums
XTOL_LOG_G = 1e-14
#: status codes of :func:`_solve_g` (raised as ArithmeticError by :func:`_g_of_s`)
G_OK, G_NO_ROOT_BELOW_MAX, G_DOF_BELOW_ALPHA_AT_MIN, G_NOT_CONVERGED = 0, 1, 2, 3
_G_ERRORS = {
    G_NO_ROOT_BELOW_MAX: "g(s): degrees-of-freedom equation has no root below exp(700)",
    G_DOF_BELOW_ALPHA_AT_MIN: "g(s): degrees of freedom below alpha already at g = exp(-40)",
    G_NOT_CONVERGED: "g(s): safeguarded Newton on log g did not converge in 200 steps",
}


@functools.lru_cache(maxsize=8)
def half_grid(T=GRID_T, M=GRID_POINTS):
    """(t, w, norm): the nodes t >= 0 of the symmetric trapezoid grid ``t_k = -T + k h``, ``h = 2T/(M - 1)``,
    in increasing order, their weights exp(-t^2/2) times the trapezoid factor, doubled for the mirror node
    -t (every integrand here is even in t: xhat is odd in z), and the sum of all M weights.

    Odd M: t_j = j h, j = 0..(M-1)/2 (the centre once, the end point 1/2 x 2); even M: t_j = (j + 1/2) h."""
    if M < 2:
        raise ValueError(f"M: must be >= 2 grid points, got {M}")
    h = 2.0 * T / (M - 1)
    if M % 2:
        t = np.arange((M + 1) // 2) * h
        factor = np.full(t.size, 2.0)
        factor[0] = 1.0
    else:
        t = (np.arange(M // 2) + 0.5) * h
        factor = np.full(t.size, 2.0)
    factor[-1] *= 0.5
    w = np.exp(-0.5 * t * t) * factor
    t.flags.writeable = w.flags.writeable = False
    return t, w, math.fsum(w)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _prox_from(a, g, kappa, two_over_kappa, x):
    """(xhat, W/(W + g), W) for |z| = a >= 0, by Newton from the start ``x`` (anywhere in [0, a]); the last two
    at the last Newton iterate (within one step of xhat: what the caller's predictor needs), W = sqrt(kappa^2 + 4x^2).

    f(x) = x + (g/2) asinh(2x/kappa) - a is increasing and concave on x >= 0, so a Newton step from
    either side of the root lands below it, and the iterates then climb monotonically. Stops as
    :func:`prox` does (a step below 1e-15 x) or earlier, when the Newton error left after the step,
    |f''|/(2 f') step^2 = 2 g x step^2 / (W^3 f'), is below a quarter of an ulp of the result (and the
    step below 1e-6 x, so that f'' is constant over it to that accuracy). 1/f' = W/(W + g) is computed
    once per step (it does not wait for the asinh: the critical path is the asinh alone)."""
    if a == 0.0 or g == 0.0:
        return a, kappa / (kappa + g), kappa
    lo, hi = 0.0, a
    x = min(max(x, a / (1.0 + g / kappa)), a)
    W = kappa
    inv_df = 1.0
    for _ in range(200):
        W = math.sqrt(kappa * kappa + 4.0 * x * x)
        inv_df = W / (W + g)
        f = x + 0.5 * g * math.asinh(two_over_kappa * x) - a
        if f == 0.0:
            return x, inv_df, W
        if f > 0.0:
            hi = x
        else:
            lo = x
        step = f * inv_df
        xn = x - step
        if abs(step) <= 1e-15 * x:
            return xn, inv_df, W
        if abs(step) <= 1e-6 * xn and 2.0 * g * x * step * step * inv_df <= 0.25 * MACHINE_EPS * xn * W * W * W:
            return xn, inv_df, W
        if not (lo < xn < hi):  # safeguard (rounding): bisect the bracket
            xn = 0.5 * (lo + hi)
        x = xn
    return x, inv_df, W


@numba.njit(cache=True, error_model="numpy")
def _mixture_pass(s, g, p, kappa, v, t, w, norm):
    """(eps, dof, d dof / d log g) of the mixture at (s, g): one pass over the half grid per group.

    Along the grid (|z| increasing) the prox is started from a quadratic Taylor predictor built from the
    previous node: xhat' = 1/(1 + g/W) = W/(W + g) and xhat'' = 4 g xhat / (W + g)^3 (implicit
    differentiation of the prox equation; evaluated at the prox's last Newton iterate, which is within
    one step of xhat). The derivative of the degrees of freedom D = W/(W + g) in u = log g uses
    d xhat/du = -(|z| - xhat) W/(W + g) (the prox equation gives (g/2) asinh(2 xhat/kappa) = |z| - xhat):
    dD/du = -g (W (W + g) + 4 xhat (|z| - xhat)) / (W + g)^3, a sum of terms of one sign."""
    eps = 0.0
    dof = 0.0
    ddof = 0.0
    for i in range(p.size):
        k = kappa[i]
        two_over_k = 2.0 / k
        var = v[i] + s * s
        sd = math.sqrt(var)
        shrink = v[i] / var
        post_var = v[i] * s * s / var
        mse = 0.0
        d = 0.0
        dd = 0.0
        x = 0.0
        zp = 0.0
        slope = k / (k + g)
        curv = 0.0
        for j in range(t.size):
            z = sd * t[j]
            dz = z - zp
            x, slope, Wp = _prox_from(z, g, k, two_over_k, x + dz * (slope + 0.5 * dz * curv))
            Wpg = Wp + g
            curv = 4.0 * g * x / (Wpg * Wpg * Wpg)
            zp = z
            # the integrands at xhat itself
            W = math.sqrt(k * k + 4.0 * x * x)
            Wg = W + g
            e = z * shrink - x
            mse += w[j] * (e * e)
            d += w[j] * (W / Wg)
            dd += w[j] * (W * Wg + 4.0 * x * (z - x)) / (Wg * Wg * Wg)
        eps += p[i] * (mse / norm + post_var)
        dof += p[i] * (d / norm)
        ddof -= p[i] * g * (dd / norm)
    return eps, dof, ddof


@numba.njit(cache=True, error_model="numpy")
def _solve_g(s, alpha, p, kappa, v, t, w, norm, u0):
    """(g, eps(s, g), status, passes): the root g of dof(s, g) = alpha by safeguarded Newton on
    log(dof/alpha) as a function of u = log g.

    dof is decreasing in u (from 1 at g = 0 to 0 as g -> inf). Every pass tightens a bracket [lo, hi] (the
    sign of dof - alpha); a Newton step outside it is replaced by bisection when both ends are known, or
    by a step of at most 8 towards the unknown end. Converged when the step is below XTOL_LOG_G (plus the
    rounding of the sum over the slope): g and eps are those of the last pass (|log g - root| <= step)."""
    lo, hi = LOG_G_MIN, LOG_G_MAX
    have_lo = have_hi = False
    u = min(max(u0, LOG_G_MIN), LOG_G_MAX)
    for n in range(1, 201):
        g = math.exp(u)
        eps, dof, ddof = _mixture_pass(s, g, p, kappa, v, t, w, norm)
        f = dof - alpha
        if f == 0.0:
            return g, eps, G_OK, n
        if f > 0.0:
            lo, have_lo = u, True
            if u >= LOG_G_MAX:
                return g, eps, G_NO_ROOT_BELOW_MAX, n
        else:
            hi, have_hi = u, True
            if u <= LOG_G_MIN:
                return g, eps, G_DOF_BELOW_ALPHA_AT_MIN, n
        # Newton on log(dof/alpha) (dof ~ C/g in the tail, so the log is close to linear in log g there,
        # where a step on dof itself would be ~1 per pass); at the root the step is that of dof - alpha
        if dof > 0.0 and ddof < 0.0:
            step = -math.log1p(f / alpha) * dof / ddof
        else:
            step = 8.0 if f > 0.0 else -8.0
        # converged: the step (the distance to the root) below the tolerance, the residual at the rounding
        # of the sums (no better root exists in float64), or the bracket closed
        if abs(step) <= XTOL_LOG_G or abs(f) <= 8.0 * MACHINE_EPS * (dof + alpha) or (have_lo and have_hi and
                                                                            hi - lo <= XTOL_LOG_G):
            return g, eps, G_OK, n
        # Newton's step (at most 8 in log g); outside a known bracket: bisection. With one end known the
        # step points away from it (dof decreasing), so only the search limits can stop it.
        un = u + max(-8.0, min(8.0, step))
        if have_lo and have_hi and not (lo < un < hi):
            un = 0.5 * (lo + hi)
        u = min(max(un, LOG_G_MIN), LOG_G_MAX)
    return math.exp(u), eps, G_NOT_CONVERGED, 200


def _group_arrays(groups):
    """(p, kappa, v) of ``groups`` = [(p, kappa, v), ...] as three contiguous float64 arrays."""
    arr = np.array([[float(p), float(kappa), float(v)] for p, kappa, v in groups], dtype=np.float64).reshape(-1, 3)
    return np.ascontiguousarray(arr[:, 0]), np.ascontiguousarray(arr[:, 1]), np.ascontiguousarray(arr[:, 2])


def moments(s, g, groups, T=GRID_T, M=GRID_POINTS):
    """Mixture (eps, dof) over ``groups`` = [(p, kappa, v), ...] (the solver's kernel: equal to
    ``sum_g p_g group_moments(...)`` up to the rounding of the sums)."""
    t, w, norm = half_grid(T, M)
    eps, dof, _ = _mixture_pass(float(s), float(g), *_group_arrays(groups), t, w, norm)
    return eps, dof


def _g_of_s(s, alpha, groups, u0=0.0):
    """The unique g > 0 with dof(s, g) = alpha (dof decreases from 1 at g = 0 to 0 as g -> inf), by
    :func:`_solve_g` started from g = exp(u0)."""
    return _Residual(alpha, groups, u0).g_eps(s)[0]


def residual(s, alpha, groups):
    """``G(s) = eps(s, g(s))/alpha - s^2``: the state-evolution map minus the identity, in ``s^2``."""
    return _Residual(alpha, groups)(s)


class _Residual:
    """``G(s)`` for one (alpha, groups), each call one compiled Newton solve of g(s), started from the line
    through the last two (log s, log g) (the solver's calls march geometrically and then bisect in s, along
    which log g is close to linear in log s; the start only sets the number of Newton steps). ``passes``
    counts the quadrature passes spent (diagnostics)."""

    def __init__(self, alpha, groups, u0=0.0):
        self.alpha = float(alpha)
        self.arrays = _group_arrays(groups)
        self.grid = half_grid()
        self.history = [(None, float(u0))]
        self.passes = 0

    def _start(self, s):
        (ls1, u1), (ls2, u2) = self.history[-2:] if len(self.history) >= 2 else (self.history[-1],) * 2
        if ls1 is None or ls2 is None or ls1 == ls2:
            return u2
        step = (u2 - u1) / (ls2 - ls1) * (math.log(s) - ls2)
        return u2 + max(-2.0, min(2.0, step))

    def g_eps(self, s):
        g, eps, status, passes = _solve_g(float(s), self.alpha, *self.arrays, *self.grid, self._start(s))
        self.passes += passes
        if status != G_OK:
            raise ArithmeticError(_G_ERRORS[status])
        self.history = [self.history[-1], (math.log(s), math.log(g))]
        return g, eps

    def __call__(self, s):
        return self.g_eps(s)[1] / self.alpha - s * s


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

    G = _Residual(alpha, groups)
    root = select_root(G, s0, ratio=s_min_ratio ** (-1.0 / (n_scan - 1)),
                       s_min=s_min_ratio * s0 * (1.0 - 1e-12), s_max=s_max_ratio * s0)
    if root is None:
        return {"eps": 0.0, "s": 0.0, "g": float("nan"), "perfect": True}
    return {"eps": alpha * root * root, "s": root, "g": G.g_eps(root)[0], "perfect": False}


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
