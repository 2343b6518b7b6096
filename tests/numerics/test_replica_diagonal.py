"""numerics._replica_diagonal: the scalar prox, the one-dimensional moments, the solver's input
checks and the finite-d teachers used to validate it."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._replica_diagonal import (
    bernoulli_gaussian_teacher,
    finetune_teachers,
    group_moments,
    prox,
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
