"""numerics._replica_diagonal: the scalar prox, the one-dimensional moments, the solver's input
checks and branch selection (the fixed point state evolution reaches from the zero estimate, below
or above it), and the finite-d teachers used to validate it."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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
