"""Two-layer linear network simulators against references independent of them.

References: the exact lam = 0 solution a(t) = s a0 / (a0 + (s - a0) e^{-2 s t})
(Saxe, McClelland & Ganguli 2014, arXiv:1312.6120) and, for general lam, the
scalar mode ODE da/dt = sqrt(lam^2 + 4 a^2)(s - a) (Domine, Anguita et al.,
ICLR 2025, arXiv:2409.14623) integrated on its own with solve_ivp.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.stats import linregress

from numerics.simulate import aligned_init, gradient_descent, gradient_flow

SHAPES = [(3, 3), (3, 5), (5, 3)]
S = np.array([3.0, 2.0, 1.0])
A0 = np.array([0.05, 0.1, 0.02])
TIMES = np.linspace(0.0, 4.0, 9)


def scalar_reference(lam, s, a0, t):
    """Modes from da/dt = sqrt(lam^2 + 4 a^2)(s - a), one scalar ODE per mode."""
    def solve(si, ai):
        sol = solve_ivp(lambda _, a: np.sqrt(lam**2 + 4 * a**2) * (si - a), (0.0, t[-1]), [ai],
                        method="DOP853", t_eval=t, rtol=1e-12, atol=1e-14)
        return sol.y[0]
    return np.stack([solve(si, ai) for si, ai in zip(s, a0)], axis=1)


def saxe_exact(s, a0, t):
    """Exact lam = 0 mode a(t) = s a0 / (a0 + (s - a0) e^{-2 s t}), a0 > 0."""
    t = t[:, None]
    return s * a0 / (a0 + (s - a0) * np.exp(-2 * s * t))


def test_scalar_reference_matches_exact_lam0_solution():
    ref = scalar_reference(0.0, S, A0, TIMES)
    np.testing.assert_allclose(ref, saxe_exact(S, A0, TIMES), rtol=1e-10, atol=0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       lam=st.sampled_from([-3.0, -0.2, 0.0, 0.5, 4.0]),
       shape=st.sampled_from(SHAPES),
       Lstar=st.sampled_from([0.0, 0.7]))
def test_init_is_balanced_aligned_and_whitened(seed, lam, shape, Lstar):
    Ni, No = shape
    rng = np.random.default_rng(seed)
    s = rng.uniform(1.5, 3.0, 3)
    a0 = rng.uniform(-1.0, 1.0, 3)
    task = aligned_init(lam, s, a0, Ni=Ni, No=No, Lstar=Lstar, seed=seed)
    W1, W2 = task.W1, task.W2
    C = W2.T @ W2 - W1 @ W1.T
    scale = max(np.abs(W2.T @ W2).max(), np.abs(W1 @ W1.T).max())
    assert np.abs(C - lam * np.eye(3)).max() <= 1e-13 * scale
    np.testing.assert_allclose(task.X @ task.X.T / task.P, np.eye(Ni), rtol=0, atol=1e-13)
    np.testing.assert_allclose(task.Y @ task.X.T / task.P, task.Syx, rtol=0, atol=1e-13)
    traj = gradient_flow(task, [0.0, 0.0])
    np.testing.assert_allclose(traj.modes, np.tile(a0, (2, 1)), rtol=0, atol=1e-13 * max(1, abs(lam)))
    np.testing.assert_allclose(traj.product[0], (task.U * a0) @ task.V.T, rtol=0, atol=1e-13 * max(1, abs(lam)))
    np.testing.assert_allclose(traj.loss, 0.5 * np.sum((s - a0) ** 2) + Lstar, rtol=1e-12, atol=0)


@pytest.mark.parametrize("lam", [-2.0, 0.0, 2.0])
def test_init_with_zero_modes(lam):
    a0 = np.array([0.0, 0.3, -0.2])
    task = aligned_init(lam, S, a0, Ni=3, No=5, seed=5)
    C = task.W2.T @ task.W2 - task.W1 @ task.W1.T
    np.testing.assert_allclose(C, lam * np.eye(3), rtol=0, atol=1e-13 * max(1, abs(lam)))
    np.testing.assert_allclose(gradient_flow(task, [0.0]).modes[0], a0, rtol=0, atol=1e-14)


def test_one_descent_step_is_the_explicit_data_gradient():
    task = aligned_init(-1.0, S, np.array([0.4, -0.3, 0.2]), Ni=5, No=3, Lstar=0.2, seed=2)
    W1, W2, X, Y, P, eta = task.W1, task.W2, task.X, task.Y, task.P, 0.1
    R = Y - W2 @ W1 @ X
    step = gradient_descent(task, eta, 1)
    np.testing.assert_allclose(step.W1, W1 + eta / P * W2.T @ R @ X.T, rtol=0, atol=1e-13)
    np.testing.assert_allclose(step.W2, W2 + eta / P * R @ X.T @ W1.T, rtol=0, atol=1e-13)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("lam", [-3.0, 0.0, 0.5])
def test_flow_matches_scalar_mode_reference(lam, shape):
    Ni, No = shape
    task = aligned_init(lam, S, A0, Ni=Ni, No=No, seed=7)
    traj = gradient_flow(task, TIMES)
    ref = scalar_reference(lam, S, A0, TIMES)
    rel = np.abs(traj.modes - ref) / np.abs(ref)
    assert rel.max() <= 1e-8
    assert traj.imbalance.max() <= 1e-9
    np.testing.assert_allclose(traj.conserved[-1], lam * np.eye(3), rtol=0, atol=1e-9)
    if lam == 0.0:
        np.testing.assert_allclose(traj.modes, saxe_exact(S, A0, TIMES), rtol=1e-8, atol=0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_flow_mixed_sign_modes_match_reference(seed):
    """Modes crossing zero (lam != 0) and the product staying U diag(a) V^T."""
    lam = 0.5
    a0 = np.array([-0.4, 0.3, -0.05])
    task = aligned_init(lam, S, a0, Ni=5, No=3, seed=seed)
    traj = gradient_flow(task, TIMES)
    ref = scalar_reference(lam, S, a0, TIMES)
    assert np.abs(traj.modes - ref).max() <= 1e-8 * S.max()
    aligned = np.einsum("ik,tk,jk->tij", task.U, ref, task.V)
    assert np.abs(traj.product - aligned).max() <= 1e-8 * S.max()


@pytest.mark.parametrize("lam", [-1.0, 0.5])
def test_loss_identity_along_flow(lam):
    Lstar = 0.3
    task = aligned_init(lam, S, A0, Ni=3, No=5, P=11, Lstar=Lstar, seed=3)
    traj = gradient_flow(task, TIMES)
    expected = 0.5 * np.sum((S - traj.modes) ** 2, axis=1) + Lstar
    np.testing.assert_allclose(traj.loss, expected, rtol=0, atol=1e-10)
    assert traj.loss[-1] < traj.loss[0]


def test_gradient_descent_is_first_order():
    T = 2.0
    task = aligned_init(0.5, np.array([1.0, 0.5, 0.3]), np.full(3, 0.05), Ni=3, No=3, seed=11)
    flow_end = gradient_flow(task, [T]).product[-1]
    etas = np.array([0.04, 0.02, 0.01, 0.005])
    errors = []
    for eta in etas:
        traj = gradient_descent(task, eta, round(T / eta), record_every=10)
        assert traj.t[-1] == pytest.approx(T)
        errors.append(np.linalg.norm(traj.product[-1] - flow_end))
    fit = linregress(np.log(etas), np.log(errors))
    assert abs(fit.slope - 1) <= 0.2


def test_gradient_descent_records_times_and_initial_state():
    task = aligned_init(0.0, S, A0, Ni=3, No=3, seed=0)
    traj = gradient_descent(task, 0.01, 25, record_every=10)
    np.testing.assert_allclose(traj.t, [0.0, 0.1, 0.2, 0.25])
    np.testing.assert_allclose(traj.modes[0], A0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("kwargs, name", [
    (dict(s=[3.0, -1.0, 1.0]), "s"),
    (dict(s=[3.0, np.nan, 1.0]), "s"),
    (dict(s=[3.0, 2.0]), "s"),
    (dict(Nh=4), "Nh"),
    (dict(Nh=2), "Nh"),
    (dict(lam=1.0, No=3, Ni=3, Nh=4), "Nh"),
    (dict(Lstar=-0.1), "Lstar"),
    (dict(Lstar=0.1, P=3), "Lstar"),
    (dict(a0=[0.1, np.inf, 0.1]), "a0"),
    (dict(lam=np.nan), "lam"),
])
def test_invalid_init_raises(kwargs, name):
    args = dict(lam=0.5, s=S, a0=A0, Ni=3, No=3) | kwargs
    lam, s, a0 = args.pop("lam"), args.pop("s"), args.pop("a0")
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        aligned_init(lam, s, a0, **args)


def test_invalid_Nh_message_gives_rank_argument():
    with pytest.raises(ValueError, match=r"min\(Ni, No\).*rank-deficient"):
        aligned_init(1.0, S, A0, Ni=3, No=3, Nh=4)


@pytest.mark.parametrize("t", [[-0.1, 1.0], [1.0, 0.5], [[0.0, 1.0]], [], [0.0, np.inf]])
def test_invalid_times_raise(t):
    task = aligned_init(0.5, S, A0, Ni=3, No=3)
    with pytest.raises(ValueError, match=r"\bt\b"):
        gradient_flow(task, t)


@pytest.mark.parametrize("eta", [0.0, -0.1, np.nan])
def test_invalid_eta_raises(eta):
    task = aligned_init(0.5, S, A0, Ni=3, No=3)
    with pytest.raises(ValueError, match=r"\beta\b"):
        gradient_descent(task, eta, 10)
