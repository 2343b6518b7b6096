"""numerics._replica_diagonal: the scalar prox, the one-dimensional moments, the solver's input
checks and branch selection (the fixed point state evolution reaches from the zero estimate, below
or above it), and the finite-d teachers used to validate it."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import numerics._replica_diagonal as rd
from numerics._replica_diagonal import (
    bernoulli_gaussian_groups,
    bernoulli_gaussian_teacher,
    finetune_teachers,
    group_moments,
    prox,
    residual,
    select_root,
    simulate_single_task,
    solve,
)

U = np.finfo(float).eps


@settings(max_examples=50)
@given(lk=st.floats(-8, 4), lg=st.floats(-6, 6), lz=st.floats(-280, 3), sign=st.sampled_from([-1.0, 0.0, 1.0]))
@example(lk=-8.0, lg=6.0, lz=-3.0, sign=1.0)
@example(lk=4.0, lg=-6.0, lz=3.0, sign=-1.0)
@example(lk=0.0, lg=0.0, lz=0.0, sign=0.0)
def test_prox_solves_its_equation(lk, lg, lz, sign):
    # |z| >= 1e-280: below that xhat ~ z kappa/g can go subnormal and lose relative precision
    kappa, g, z = 10.0**lk, 10.0**lg, sign * 10.0**lz
    xh = prox(z, g, kappa)
    # backward error of one rounding per term (the equation's terms, not its residual, set the scale)
    term = 0.5 * g * math.asinh(2 * xh / kappa)
    assert abs(xh + term - z) <= 8 * U * (abs(z) + abs(xh) + abs(term))
    assert abs(xh) <= abs(z) and prox(-z, g, kappa) == -xh


def test_prox_against_mpmath():
    mpmath.mp.dps = 30
    for z, g, kappa in ((3.0, 3.0, 1.0), (0.2, 10.0, 1e-6), (50.0, 0.1, 1e3)):
        ref = mpmath.findroot(lambda x: x + g / 2 * mpmath.asinh(2 * x / kappa) - z, (0, z), solver="anderson")
        assert abs(prox(z, g, kappa) - float(ref)) <= 4 * U * abs(float(ref))


@pytest.mark.parametrize("v", [0.0, 0.5, 10.0])
def test_moments_without_penalty(v):
    """g = 0: xhat = z, so E(x - xhat)^2 = s^2 and the degrees of freedom are 1 (trapezoid: spectral)."""
    mse, dof = group_moments(0.7, 0.0, 1.0, v, 10.0, 4001)
    assert abs(mse - 0.49) <= 1e-12 and abs(dof - 1.0) <= 1e-14


def test_moments_ridge_limit():
    """kappa -> inf: xhat = z / (1 + g/kappa) + O(z^3/kappa^2): a zero group has mse s^2/(1 + g/kappa)^2."""
    s, g, kappa = 0.8, 5e7, 1e8
    mse, dof = group_moments(s, g, kappa, 0.0, 10.0, 4001)
    shrink = 1 / (1 + g / kappa)
    assert abs(mse - (s * shrink) ** 2) <= 1e-12 and abs(dof - shrink) <= 1e-12


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.2, 1.5])
def test_solve_rejects_alpha(alpha):
    with pytest.raises(ValueError, match="^alpha"):
        solve(alpha, [(1.0, 1.0, 1.0)])


def test_teachers_are_exact():
    rng = np.random.default_rng(3)
    b = bernoulli_gaussian_teacher(1000, 0.1, rng)
    assert np.count_nonzero(b) == 100 and abs(np.dot(b, b) / 1000 - 1) <= 1e-13
    pt, ft = finetune_teachers(1000, 0.2, 1.5, 0.1, 0.3, rng)
    assert np.count_nonzero(pt) == 200 and set(np.abs(pt[pt != 0])) == {1.5}
    assert np.count_nonzero(ft) == 100 and np.count_nonzero(pt[ft != 0]) == 30


def test_simulation_is_seeded():
    assert simulate_single_task(1.0, 0.3, 0.1, 200, 7) == simulate_single_task(1.0, 0.3, 0.1, 200, 7)


# -- branch selection --------------------------------------------------------------------------------
# Solver precision (numerics._replica_diagonal.solve): Brent on s stops within XTOL_S * s0 + RTOL_S * s;
# the residual G(s) = eps/alpha - s^2 is a trapezoid sum of GRID_POINTS terms, rounded to about
# sqrt(GRID_POINTS) u relative to its two terms.
XTOL_S, RTOL_S = 1e-14, 1e-13
SUM_ROUNDING = 4 * math.sqrt(rd.GRID_POINTS) * U


def state_evolution(alpha, groups, n_iter):
    """Iterates of s_{t+1}^2 = eps(s_t, g(s_t))/alpha from the zero estimate s_0^2 = E beta*^2/alpha,
    stopped after n_iter steps or once a step is below a few ulps."""
    s = math.sqrt(sum(p * v for p, _, v in groups) / alpha)
    out = [s]
    for _ in range(n_iter):
        s = math.sqrt(rd.moments(s, rd._g_of_s(s, alpha, groups), groups)[0] / alpha)
        out.append(s)
        if abs(out[-1] - out[-2]) <= 4 * U * s:
            break
    return np.array(out)


def check_branch(kappa, alpha, rho, n_iter):
    """Assert that solve() returns a fixed point to working precision AND the one the state evolution
    from the zero estimate goes to; returns (solution, iterates, converged)."""
    groups = bernoulli_gaussian_groups(kappa, rho)
    sol = solve(alpha, groups)
    it = state_evolution(alpha, groups, n_iter)
    steps = np.diff(it)
    direction = np.sign(steps[0])
    # the map is increasing, so the iteration is monotone: s_{t+1}^2 - s_t^2 = G(s_t) keeps one sign
    # (up to the rounding of the converged steps)
    assert np.all(steps * direction >= -SUM_ROUNDING * it[1:])
    if sol["perfect"]:
        assert direction < 0 and it[-1] > 0
        return sol, it, False
    s, s0 = sol["s"], it[0]
    tol = XTOL_S * s0 + RTOL_S * s
    # (a) a fixed point: |G(s)| within Brent's stopping tolerance times the slope, plus the sum's rounding
    G = residual(s, alpha, groups)
    h = 1e-6 * s
    slope = (residual(s + h, alpha, groups) - residual(s - h, alpha, groups)) / (2 * h)
    assert abs(G) <= abs(slope) * tol + SUM_ROUNDING * (sol["eps"] / alpha + s * s)
    # (b) on the branch of the iteration: the iterates stay on s0's side of s (a monotone map never
    # crosses a fixed point), and G keeps the sign of the motion between the last iterate and s
    assert np.all((it - s) * direction <= tol + SUM_ROUNDING * s)
    between = np.linspace(it[-1], s, 6)[:-1]
    assert all(residual(x, alpha, groups) * direction > 0 for x in between if abs(x - s) > 1e-9 * s)
    # (c) where the iteration has converged (last step below 1e-12 s, contracting): it ends within
    # Brent's tolerance plus the iteration's own tail of s
    tail = iteration_tail(it)
    converged = abs(steps[-1]) <= 1e-12 * s and tail is not None
    if converged:
        assert abs(it[-1] - s) <= tail + tol
    return sol, it, converged


def iteration_tail(it):
    """Bound on |lim - it[-1]| for a monotone, linearly convergent iteration: the last step d times
    q/(1 - q), q the largest of the last three contraction ratios measured on steps well above rounding
    (1e3 ulps), plus the rounding of the last iterate; None when it is not contracting."""
    steps = np.diff(it)
    clean = np.abs(steps[:-1]) > 1e3 * U * np.abs(it[1:-1])
    ratios = (steps[1:] / np.where(clean, steps[:-1], 1.0))[clean]
    if ratios.size == 0 or not (0.0 <= ratios[-3:].max() < 1.0):
        return None
    q = ratios[-3:].max()
    return abs(steps[-1]) * q / (1.0 - q) + 4 * U * abs(it[-1])


def test_worse_than_zero_estimate_goes_up():
    """kappa = 0.005, alpha = 0.05, rho = 0.9: the rich interpolator of a dense teacher from 5 % samples
    is worse than predicting 0. A downward-only search reported perfect recovery (error 0); the fixed
    point is above s0, with error > E beta*^2 = 1, and equals the iteration's limit."""
    sol, it, converged = check_branch(0.005, 0.05, 0.9, n_iter=200)
    assert converged and sol["eps"] > 1.0 and sol["s"] > it[0]
    # the iteration ran to a step of a few ulps; its limit agrees with the solver to Brent's tolerance plus
    # the iteration's tail; eps = alpha s^2 doubles the relative error
    rel = (XTOL_S * it[0] + RTOL_S * sol["s"] + iteration_tail(it)) / sol["s"] + 4 * U
    assert abs(0.05 * it[-1] ** 2 - sol["eps"]) <= 2 * rel * sol["eps"]


@settings(max_examples=12)
@given(lk=st.floats(-3, 2), alpha=st.floats(0.02, 0.95), rho=st.floats(0.02, 1.0))
@example(lk=math.log10(0.005), alpha=0.05, rho=0.9)      # old failure: reported 0, true error 1.03
@example(lk=-3.0, alpha=0.02, rho=0.05)                  # old failure: sparse teacher, G(s0) > 0
@example(lk=math.log10(0.0316), alpha=0.02, rho=1.0)     # old failure: G(s0) barely positive
@example(lk=math.log10(0.05), alpha=0.6, rho=0.1)        # note D8: flat residual near the l1 transition
@example(lk=2.0, alpha=0.95, rho=1.0)                    # ridge-like, slowest contraction (q ~ alpha)
def test_solution_is_the_state_evolution_limit(lk, alpha, rho):
    check_branch(10.0**lk, alpha, rho, n_iter=40)


def test_downward_only_search_fails_the_check(monkeypatch):
    """Mutation: restricting the search to below s0 (the old solver) must fail the branch check."""
    march = rd._march
    monkeypatch.setattr(rd, "_march", lambda G, s0, G0, direction, *a: march(G, s0, G0, -1, *a))
    with pytest.raises(AssertionError):
        check_branch(0.005, 0.05, 0.9, n_iter=200)


def _two_root_residual(s):
    """G(1) = 0.36 > 0, G(1/1.41) < 0: roots at 0.8 (below the start) and 1.3 (above); G -> -inf."""
    return -(s - 0.8) * (s - 1.3) * (s + 5.0)


def test_select_root_goes_up_even_when_g_changes_sign_just_below():
    """The second old flaw: G(s0) >= 0 and negative at the next point below made the old scan return the
    root below s0, which the iteration (moving up) never reaches. Synthetic G with both roots."""
    kw = {"ratio": 1e-7 ** (-1 / 47), "s_min": 1e-7, "s_max": 1e6}
    assert _two_root_residual(1.0) > 0 > _two_root_residual(1.0 / kw["ratio"])
    assert abs(select_root(_two_root_residual, 1.0, **kw) - 1.3) <= 1e-13
    assert abs(select_root(lambda s: -_two_root_residual(s), 1.0, **kw) - 0.8) <= 1e-13  # downward: 0.8
    assert select_root(lambda s: -(s - 1.0), 1.0, **kw) == 1.0                              # G(s0) = 0: s0
    assert select_root(lambda s: -s, 1.0, **kw) is None                                     # no root: -> 0


def test_select_root_reports_divergence():
    with pytest.raises(ArithmeticError, match="^alpha"):
        select_root(lambda s: s, 1.0, ratio=2.0, s_min=1e-7, s_max=1e3)


# -- the solver's kernels: half grid, warm-started prox, Newton on log g --------------------------------
@settings(max_examples=50)
@given(lk=st.floats(-6, 4), lg=st.floats(-6, 4), la=st.floats(-250, 3), frac=st.floats(0.0, 1.0))
@example(lk=-3.0, lg=0.0, la=-3.0, frac=0.0)     # deep in the soft-threshold corner, start at 0
@example(lk=-3.0, lg=-1.0, la=-1.0, frac=1.0)    # start at the upper end a (above the root)
@example(lk=4.0, lg=-6.0, la=3.0, frac=0.5)      # ridge-like, almost no shrinkage
def test_warm_prox_equals_cold_prox(lk, lg, la, frac):
    """_prox_from (any start in [0, a], early stop on the Newton error estimate) solves the prox equation
    to the same backward error as prox, and agrees with it within the forward error that backward error
    allows (one rounding per term, divided by the slope f' = 1 + g/W)."""
    kappa, g, a = 10.0**lk, 10.0**lg, 10.0**la
    x, inv_df, W = rd._prox_from(a, g, kappa, 2.0 / kappa, frac * a)
    ref = prox(a, g, kappa)
    term = 0.5 * g * math.asinh(2 * x / kappa)
    scale = 8 * U * (a + x + term)
    assert 0.0 <= x <= a and abs(x + term - a) <= scale
    assert abs(x - ref) <= 2 * scale / (1.0 + g / math.sqrt(kappa**2 + 4 * ref**2))
    # the predictor data come from the last Newton iterate, within 1e-6 x of xhat (W >= 2x)
    assert abs(W - math.hypot(kappa, 2 * x)) <= 2e-6 * W and abs(inv_df - W / (W + g)) <= 4 * U * inv_df


@settings(max_examples=40)
@given(ls=st.floats(-3, 1), lg=st.floats(-4, 2), lk=st.floats(-4, 3), v=st.sampled_from([0.0, 1.0, 10.0]),
       M=st.integers(3, 80))
@example(ls=-1.0, lg=-2.0, lk=-3.0, v=10.0, M=rd.GRID_POINTS)
@example(ls=0.0, lg=0.0, lk=0.0, v=1.0, M=4000)                 # even M: no centre node
def test_half_grid_moments_equal_full_grid(ls, lg, lk, v, M):
    """moments (half grid, warm prox) = group_moments (full grid, cold prox): the same nodes (to an ulp of T)
    and weights, so they differ only by roundings: of the two sums (4 sqrt(M) u relative each), and of the
    error e = z v/(v + s^2) - xhat, which cancels (|z|, |xhat| <= T sd): |d e^2| <= 2 |e| 8 u T sd per node."""
    s, g, kappa = 10.0**ls, 10.0**lg, 10.0**lk
    eps, dof = rd.moments(s, g, [(1.0, kappa, v)], 10.0, M)
    ref_eps, ref_dof = group_moments(s, g, kappa, v, 10.0, M)
    rounding = 2 * 4 * math.sqrt(M) * U
    sd = math.sqrt(v + s * s)
    t = -10.0 + np.arange(M) * (20.0 / (M - 1))
    w = np.exp(-0.5 * t * t)
    w[[0, -1]] *= 0.5
    e = np.array([z * v / (v + s * s) - prox(z, g, kappa) for z in sd * t])
    cancellation = 16 * U * 10.0 * sd * np.dot(w, np.abs(e)) / w.sum()
    assert abs(eps - ref_eps) <= rounding * ref_eps + cancellation and abs(dof - ref_dof) <= rounding * ref_dof


def test_half_grid_is_the_positive_half():
    t, w, norm = rd.half_grid()
    full = -rd.GRID_T + np.arange(rd.GRID_POINTS) * (2 * rd.GRID_T / (rd.GRID_POINTS - 1))
    full_w = np.exp(-0.5 * full**2)
    full_w[[0, -1]] *= 0.5
    assert t[0] == 0.0 and np.allclose(t, full[rd.GRID_POINTS // 2:], rtol=0, atol=8 * U * rd.GRID_T)
    assert abs(norm - math.fsum(full_w)) <= 4 * U * norm and w[0] == 1.0 and w[-1] == full_w[-1] * 2
    with pytest.raises(ValueError, match="^M"):
        rd.half_grid(10.0, 1)


def _dof(s, g, groups):
    return rd.moments(s, g, groups)[1]


def derivative_bound(s, g, groups, h=1e-3):
    """(central difference of dof in u = log g, its error bound): truncation |D(h) - D(2h)| (3x the h^2
    term of D(h)) plus an O(h^4) allowance 1e-12 and the rounding of the two sums divided by h."""
    d1 = (_dof(s, g * math.exp(h), groups) - _dof(s, g * math.exp(-h), groups)) / (2 * h)
    d2 = (_dof(s, g * math.exp(2 * h), groups) - _dof(s, g * math.exp(-2 * h), groups)) / (4 * h)
    return d1, abs(d2 - d1) + 1e-12 + 2 * SUM_ROUNDING * _dof(s, g, groups) / h


@settings(max_examples=30)
@given(ls=st.floats(-3, 1), lg=st.floats(-4, 2), lk=st.floats(-4, 3), rho=st.floats(0.02, 1.0))
@example(ls=-1.5, lg=-2.0, lk=-3.0, rho=0.1)    # rich: soft-threshold corner of width ~kappa
@example(ls=0.0, lg=1.0, lk=3.0, rho=1.0)       # ridge-like
def test_dof_derivative_against_central_difference(ls, lg, lk, rho):
    s, g, kappa = 10.0**ls, 10.0**lg, 10.0**lk
    groups = bernoulli_gaussian_groups(kappa, rho)
    _, _, ddof = rd._mixture_pass(s, g, *rd._group_arrays(groups), *rd.half_grid())
    fd, bound = derivative_bound(s, g, groups)
    assert ddof < 0 and abs(ddof - fd) <= bound


def test_dof_derivative_mutation():
    """Mutation: the derivative without the implicit dependence of xhat on g (d xhat/du = 0, i.e. dropping
    the 4 xhat (|z| - xhat) term) fails the central-difference check; the full formula, evaluated here in
    NumPy from the cold prox on the grid, equals the kernel's to the rounding of the sum."""
    s, g, kappa, v = 0.3, 0.05, 1e-2, 10.0
    groups = [(1.0, kappa, v)]
    t, w, norm = rd.half_grid()
    z = math.sqrt(v + s * s) * t
    x = np.array([prox(zi, g, kappa) for zi in z])
    W = np.sqrt(kappa**2 + 4 * x * x)
    full = -g * np.dot(w, (W * (W + g) + 4 * x * (z - x)) / (W + g) ** 3) / norm
    mutant = -g * np.dot(w, W * (W + g) / (W + g) ** 3) / norm
    _, _, ddof = rd._mixture_pass(s, g, *rd._group_arrays(groups), t, w, norm)
    fd, bound = derivative_bound(s, g, groups)
    assert abs(full - ddof) <= SUM_ROUNDING * abs(full) and abs(ddof - fd) <= bound
    assert abs(mutant - fd) > 100 * bound


#: Newton's stopping tolerance on log g, read once (the mutation test changes the module's)
XTOL_LOG_G = rd.XTOL_LOG_G


def brent_log_g(s, alpha, groups):
    """log g(s) by Brent's method on log g (the previous solver's route) at its tightest tolerance."""
    def f(lg):
        return _dof(s, math.exp(lg), groups) - alpha
    hi = 5.0
    while f(hi) > 0:
        hi += 10.0
    return brentq(f, -40.0, hi, xtol=1e-15, rtol=4 * U)


def check_g_against_brent(log_g, s, alpha, groups):
    """|log g - Brent's root| within Newton's step tolerance, Brent's, and the rounding of dof (two sums)
    over the slope d dof/d log g."""
    ref = brent_log_g(s, alpha, groups)
    _, dof, ddof = rd._mixture_pass(s, math.exp(ref), *rd._group_arrays(groups), *rd.half_grid())
    bound = XTOL_LOG_G + 1e-15 + 4 * U * abs(ref) + 2 * SUM_ROUNDING * dof / abs(ddof)
    assert abs(log_g - ref) <= bound
    return bound


@settings(max_examples=30)
@given(ls=st.floats(-3, 1), lk=st.floats(-4, 3), alpha=st.floats(0.02, 0.98), rho=st.floats(0.02, 1.0),
       u0=st.floats(-30.0, 30.0))
@example(ls=-2.0, lk=-3.0, alpha=0.9, rho=0.1, u0=0.0)      # rich, near-perfect recovery (small s)
@example(ls=0.5, lk=3.0, alpha=0.02, rho=1.0, u0=-30.0)     # ridge-like, far start
@example(ls=-1.0, lk=-4.0, alpha=0.98, rho=0.02, u0=30.0)
def test_newton_g_equals_brent_g(ls, lk, alpha, rho, u0):
    s = 10.0**ls
    groups = bernoulli_gaussian_groups(10.0**lk, rho)
    # the bound is ~1e-14 to 1e-12 (the rounding term grows where dof is flat in log g); observed |diff| <= 3e-14
    check_g_against_brent(math.log(rd._g_of_s(s, alpha, groups, u0)), s, alpha, groups)


def test_newton_g_mutation(monkeypatch):
    """Mutation: Newton stopped at a step of 1e-3 instead of XTOL_LOG_G (the interpreted kernel reads the
    module constant) fails the comparison with Brent's root; unmutated, the same code passes it."""
    s, alpha, groups = 0.5, 0.3, bernoulli_gaussian_groups(0.05, 0.1)
    args = (s, alpha, *rd._group_arrays(groups), *rd.half_grid(), 3.0)
    check_g_against_brent(math.log(rd._solve_g.py_func(*args)[0]), s, alpha, groups)
    monkeypatch.setattr(rd, "XTOL_LOG_G", 1e-3)
    with pytest.raises(AssertionError):
        check_g_against_brent(math.log(rd._solve_g.py_func(*args)[0]), s, alpha, groups)


def test_g_of_s_reports_no_root():
    # dof <= 1 (up to the rounding of the sum: alpha = 1 has roots at working precision near g = 0)
    with pytest.raises(ArithmeticError, match="degrees of freedom below alpha"):
        rd._g_of_s(0.5, 1.5, [(1.0, 1e-3, 0.0)])
    with pytest.raises(ArithmeticError, match="no root below exp"):
        rd._g_of_s(1.0, 1e-300, [(1.0, 1e10, 0.0)])


# Solutions of the previous solver (full grid, cold prox, Brent on log g; numerics/_replica_diagonal.py at
# commit 11c03d5), (kappa, alpha, rho, eps, perfect, s above s0) for the single task and (protocol, c, lam,
# omega, alpha, eps, perfect) for the fine-tuning mixture (rho_pt = 0.2, a_pt = 1, rho_ft = 0.1, gamma = 0).
PREVIOUS_SINGLE = (
    (0.001, 0.1, 0.1, 0.837800615879198, False, False),
    (0.001, 0.1, 0.5, 1.0172189251455872, False, True),
    (0.001, 0.3, 0.1, 0.1511439258483678, False, False),
    (0.001, 0.3, 0.5, 0.7528415989876873, False, False),
    (0.001, 0.6, 0.1, 0.0001386663581649217, False, False),
    (0.001, 0.6, 0.5, 0.27867216565646374, False, False),
    (0.001, 0.9, 0.1, 6.746046064250575e-07, False, False),
    (0.001, 0.9, 0.5, 0.0014463364157482575, False, False),
    (0.05, 0.1, 0.1, 0.8195407061370044, False, False),
    (0.05, 0.1, 0.5, 0.9419063326985241, False, False),
    (0.05, 0.3, 0.1, 0.2538365683639184, False, False),
    (0.05, 0.3, 0.5, 0.7011064424516957, False, False),
    (0.05, 0.6, 0.1, 0.009948289335471601, False, False),
    (0.05, 0.6, 0.5, 0.2834542504862927, False, False),
    (0.05, 0.9, 0.1, 0.00032737920030432454, False, False),
    (0.05, 0.9, 0.5, 0.012975914991126831, False, False),
    (1.0, 0.1, 0.1, 0.8795725772164031, False, False),
    (1.0, 0.1, 0.5, 0.8987055400510958, False, False),
    (1.0, 0.3, 0.1, 0.5255127744515876, False, False),
    (1.0, 0.3, 0.5, 0.6802264791249713, False, False),
    (1.0, 0.6, 0.1, 0.14825380146964928, False, False),
    (1.0, 0.6, 0.5, 0.34027932442521863, False, False),
    (1.0, 0.9, 0.1, 0.017446513681309755, False, False),
    (1.0, 0.9, 0.5, 0.06104702605649638, False, False),
    (20.0, 0.1, 0.1, 0.899919128832107, False, False),
    (20.0, 0.1, 0.5, 0.8999910273138029, False, False),
    (20.0, 0.3, 0.1, 0.6983175291028265, False, False),
    (20.0, 0.3, 0.5, 0.699812505801067, False, False),
    (20.0, 0.6, 0.1, 0.39266871634434436, False, False),
    (20.0, 0.6, 0.5, 0.39915372666529997, False, False),
    (20.0, 0.9, 0.1, 0.09441392009408515, False, False),
    (20.0, 0.9, 0.5, 0.09929889158031614, False, False),
    (0.005, 0.05, 0.9, 1.0323284919136178, False, True),      # the branch above s0
    (0.0001, 0.6, 0.02, 3.454444367802579e-08, False, False),
    (0.0001, 0.9, 0.05, 4.233416319423085e-09, False, False),
    (1000.0, 0.5, 1.0, 0.500000000000167, False, False),
    (0.0316, 0.02, 1.0, 1.001152249972156, False, True),
    (0.001, 0.02, 0.05, 1.0209368315664245, False, True),
    (1e-08, 0.6, 0.02, 0.0, True, False),
    (1e-06, 0.9, 0.05, 1.2919835075074671e-12, False, False),
)
PREVIOUS_MIXTURE = (
    ('merged', 0.01, 0.009, 0.5, 0.1, 0.8110341618867433, False),
    ('merged', 0.01, 0.009, 0.5, 0.5, 0.005037390516776573, False),
    ('merged', 0.01, 0.009, 0.5, 0.9, 5.77737897460458e-06, False),
    ('readout_reset', 0.01, 0.009, 0.0, 0.3, 0.7326857073351647, False),
    ('readout_reset', 0.01, 0.009, 1.0, 0.3, 0.00035259547076737146, False),
    ('merged', 1.0, -0.9, 1.0, 0.3, 0.6286952766984357, False),
)


def check_previous(eps, perfect, ref_eps, ref_perfect):
    """Same branch, eps to 1e-12 relative, or to both solvers' stopping tolerance on s (Brent, xtol 1e-14 s0)
    where s is far below s0 (eps = alpha s^2, E beta*^2 = 1 so s0/s = 1/sqrt(eps))."""
    assert perfect == ref_perfect
    if not perfect:
        assert abs(eps - ref_eps) <= max(1e-12, 8 * XTOL_S / math.sqrt(ref_eps)) * ref_eps
    else:
        assert eps == 0.0


@pytest.mark.parametrize("kappa, alpha, rho, ref_eps, ref_perfect, ref_above", PREVIOUS_SINGLE)
def test_single_task_unchanged(kappa, alpha, rho, ref_eps, ref_perfect, ref_above):
    sol = solve(alpha, bernoulli_gaussian_groups(kappa, rho))
    check_previous(sol["eps"], sol["perfect"], ref_eps, ref_perfect)
    assert (sol["s"] > math.sqrt(1.0 / alpha)) == ref_above


@pytest.mark.parametrize("protocol, c, lam, omega, alpha, ref_eps, ref_perfect", PREVIOUS_MIXTURE)
def test_finetune_mixture_unchanged(protocol, c, lam, omega, alpha, ref_eps, ref_perfect):
    from derive._diagonal_generalization import finetune_groups

    groups = finetune_groups(c=c, lam=lam, gamma=0.0, protocol=protocol, rho_pt=0.2, a_pt=1.0, rho_ft=0.1,
                             omega=omega)
    sol = solve(alpha, groups)
    check_previous(sol["eps"], sol["perfect"], ref_eps, ref_perfect)


def test_solve_is_reproducible():
    groups = bernoulli_gaussian_groups(1e-3, 0.1)
    assert solve(0.6, groups) == solve(0.6, groups)
