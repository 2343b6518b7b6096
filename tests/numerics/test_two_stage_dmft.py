"""The two-stage single-site Monte Carlo: exact linear reduction, Monte Carlo error in standard errors,
the O(dt) Euler error, and input validation."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics._two_stage_dmft import (
    PARALLEL_SITES,
    euler_steps,
    initial_draws,
    linear_mean_field,
    make_task,
    readout,
    sample_moments,
    two_stage_dmft,
)

D, P1, P2, NT = 8, 6, 5, 10
KW = dict(gamma1=1.5, gamma2=0.7, dt=0.1, steps1=30, steps2=30)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), readout=st.sampled_from(["fresh", "continued"]),
       alpha=st.floats(-1.0, 1.0))
@example(seed=0, readout="fresh", alpha=1.0)
def test_linear_monte_carlo_equals_the_moment_recursion_at_its_own_sample_moments(seed, readout, alpha):
    # phi = identity: every site moves by one common linear map, so the recursion C <- B C B^T started
    # from the sample's own moments reproduces the S-site Monte Carlo to rounding
    task = make_task(D, P1, P2, NT, alpha, seed=seed)
    S = 50
    mc = two_stage_dmft(task, sites=S, activation="linear", readout=readout, seed=seed, progress=False, **KW)
    mom = linear_mean_field(task, readout=readout, C0=sample_moments(D, S, seed=seed), **KW)
    for k in ("source_train", "source_test", "target_train", "target_test"):
        np.testing.assert_allclose(mc[k], mom[k], rtol=1e-10, atol=1e-13)


def test_linear_monte_carlo_converges_to_the_mean_field_within_standard_errors():
    task = make_task(D, P1, P2, NT, 0.6, seed=3)
    mf = linear_mean_field(task, **KW)["target_test"]
    runs = np.stack([two_stage_dmft(task, sites=2000, activation="linear", seed=s, progress=False, **KW)["target_test"]
                     for s in range(12)])
    se = runs.std(0, ddof=1) / np.sqrt(runs.shape[0])
    z = np.abs(runs.mean(0) - mf)[1:] / se[1:]
    assert np.max(z) < 4.5  # max over ~30 correlated times; the O(1/S) bias is far below one s.e.
    # mutation: the mean field of the wrong richness is many standard errors away
    wrong = linear_mean_field(task, **{**KW, "gamma2": 2.0})["target_test"]
    assert np.max(np.abs(runs.mean(0) - wrong)[1:] / se[1:]) > 10


def test_euler_error_is_first_order_in_dt():
    task = make_task(D, P1, P2, NT, 0.6, seed=4)
    T = 3.0
    ends = [linear_mean_field(task, gamma1=1.5, gamma2=0.7, dt=T / n, steps1=n, steps2=n)["target_test"][-1]
            for n in (20, 40, 80)]
    ratio = (ends[0] - ends[1]) / (ends[1] - ends[2])
    assert ratio == pytest.approx(2.0, rel=0.1)  # global error c dt + O(dt^2)


def test_relu_monte_carlo_is_seeded_and_pretraining_lowers_the_source_loss():
    task = make_task(D, P1, P2, NT, 0.6, seed=5)
    a = two_stage_dmft(task, sites=500, seed=9, progress=False, **KW)
    b = two_stage_dmft(task, sites=500, seed=9, progress=False, **KW)
    np.testing.assert_array_equal(a["target_test"], b["target_test"])
    assert a["source_train"][-1] < 0.5 * a["source_train"][0]
    assert a["target_train"][-1] < 0.5 * a["target_train"][0]


@pytest.mark.parametrize("kw, msg", [
    (dict(gamma1=0.0), "gamma1: must be > 0"), (dict(gamma2=-1.0), "gamma2: must be > 0"),
    (dict(dt=0.0), "dt: must be > 0"), (dict(steps1=-1), "steps1:"), (dict(readout="x"), "readout:"),
    (dict(activation="tanh"), "activation:"), (dict(sites=0), "sites:")])
# C0 of the wrong shape is checked in test_linear_mean_field_rejects_a_wrong_moment_shape
def test_bad_input_names_the_parameter(kw, msg):
    task = make_task(D, P1, P2, NT, 0.6, seed=1)
    args = {**KW, "sites": 10, "progress": False, **kw}
    with pytest.raises(ValueError, match=msg):
        two_stage_dmft(task, **args)
    with pytest.raises(ValueError, match="alpha:"):
        make_task(D, P1, P2, NT, 1.5, seed=1)


def test_linear_mean_field_rejects_a_wrong_moment_shape():
    task = make_task(D, P1, P2, NT, 0.6, seed=1)
    with pytest.raises(ValueError, match="C0: must be"):
        linear_mean_field(task, C0=np.eye(D), **KW)


def _numpy_euler_steps(h, z, KT, train, y_train, gamma, dt, n_steps, relu):
    """The update of the module docstring in array form (every row of K, active or not), as a reference."""
    phi = (lambda v: np.maximum(v, 0.0)) if relu else (lambda v: v)
    dphi = (lambda v: (v > 0.0).astype(float)) if relu else (lambda v: np.ones_like(v))
    f_out = []
    for _ in range(n_steps):
        f = z @ phi(h) / (h.shape[0] * gamma)
        f_out.append(f)
        delta = (y_train - f[train]) / train.size
        Htr = h[:, train]
        dz = gamma * dt * (phi(Htr) @ delta)
        h = h + (gamma * dt * (z[:, None] * dphi(Htr)) * delta[None, :]) @ KT
        z = z + dz
    return h, z, np.array(f_out)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), relu=st.booleans(), sites=st.integers(1, 700))
@example(seed=0, relu=True, sites=257)  # one full block of sites and one more
def test_euler_steps_equal_the_array_form_of_the_update(seed, relu, sites):
    # the kernel skips the rows of K of inactive ReLU points and fuses the readout into the step: the same
    # update, so the same numbers up to the order of the sums over sites (rounding, ~1e-16 relative)
    task = make_task(D, P1, P2, NT, 0.6, seed=seed)
    train = task.source_train
    KT = np.ascontiguousarray(task.X[train] @ task.X.T / D)
    y = np.ascontiguousarray(task.y[train])
    xi, z, _ = initial_draws(D, sites, seed=seed)
    h = np.ascontiguousarray(xi @ task.X.T / np.sqrt(D))
    steps = 12
    h_ref, z_ref, f_ref = _numpy_euler_steps(h, z, KT, train, y, 1.5, 0.1, steps, relu)
    f_out = np.empty((steps, task.X.shape[0]))
    euler_steps(h, z, KT, train, y, 1.5, 0.1, steps, relu, f_out)
    scale = np.abs(h_ref).max()
    np.testing.assert_allclose(h, h_ref, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(z, z_ref, rtol=0, atol=1e-13 * np.abs(z_ref).max())
    np.testing.assert_allclose(f_out, f_ref, rtol=0, atol=1e-13 * max(1.0, np.abs(f_ref).max()))


@pytest.mark.parametrize("p_target", [P2, 16])  # one and two groups of subset-sum tables
def test_euler_steps_do_not_depend_on_the_number_of_threads(p_target):
    # fixed blocks of sites, summed in block order, tables built on one thread: bit-for-bit the same
    # results on 1 or 3 threads
    task = make_task(D, P1, p_target, NT, 0.6, seed=7)
    train = task.target_train
    KT = np.ascontiguousarray(task.X[train] @ task.X.T / D)
    y = np.ascontiguousarray(task.y[train])
    xi, z0, _ = initial_draws(D, PARALLEL_SITES + 300, seed=7)
    h0 = np.ascontiguousarray(xi @ task.X.T / np.sqrt(D))
    runs = []
    for threads in (1, 3):
        h, z, f_out = h0.copy(), z0.copy(), np.empty((5, task.X.shape[0]))
        euler_steps(h, z, KT, train, y, 0.8, 0.2, 5, True, f_out, threads=threads)
        runs.append((h, z, f_out))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(readout(runs[0][0], runs[0][1], 0.8, True), readout(runs[1][0], runs[1][1], 0.8, True))


def _grouping_case(P, relu, seed):
    task = make_task(D, P, P2, NT, 0.6, seed=seed)
    train = task.source_train
    KT = np.ascontiguousarray(task.X[train] @ task.X.T / D)
    y = np.ascontiguousarray(task.y[train])
    xi, z, _ = initial_draws(D, 300, seed=seed)
    h = np.ascontiguousarray(xi @ task.X.T / np.sqrt(D))
    return task, train, KT, y, h, z


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("P, table_bytes", [(16, None), (20, None), (33, None), (11, 1)],
                         ids=["two groups", "three groups", "five groups", "one point per group"])
def test_euler_steps_equal_the_array_form_for_every_grouping(P, table_bytes, relu, monkeypatch):
    # the subset-sum update is summed per table group: each branch of the site kernel (1, 2, 3 or more
    # groups, and the single-point groups of the memory fallback) gives the update to rounding
    import numerics._dmft_subset_sums as sub

    if table_bytes is not None:
        monkeypatch.setattr(sub, "TABLE_BYTES", table_bytes)
    task, train, KT, y, h, z = _grouping_case(P, relu, seed=P)
    groups = -(-P // sub.group_bits(P, task.X.shape[0]))
    assert groups == {16: 2, 20: 3, 33: 5, 11: 11}[P]
    steps = 8
    h_ref, z_ref, f_ref = _numpy_euler_steps(h, z, KT, train, y, 1.5, 0.1, steps, relu)
    f_out = np.empty((steps, task.X.shape[0]))
    euler_steps(h, z, KT, train, y, 1.5, 0.1, steps, relu, f_out)
    np.testing.assert_allclose(h, h_ref, rtol=0, atol=1e-13 * np.abs(h_ref).max())
    np.testing.assert_allclose(z, z_ref, rtol=0, atol=1e-13 * np.abs(z_ref).max())
    np.testing.assert_allclose(f_out, f_ref, rtol=0, atol=1e-13 * max(1.0, np.abs(f_ref).max()))


def test_a_table_naming_the_wrong_points_is_caught():
    # mutation: the same tables with the two groups of points swapped; one step then misses the array form
    # by many orders of magnitude more than the rounding tolerance of the tests above
    from numerics._dmft_subset_sums import build_tables, new_tables
    from numerics._two_stage_dmft import _block_step

    _, train, KT, y, h, z = _grouping_case(16, True, seed=2)
    h_ref, _, _ = _numpy_euler_steps(h, z, KT, train, y, 1.5, 0.1, 1, True)
    f = readout(h, z, 1.5, True)
    delta = (y - f[train]) / train.size
    results = []
    for order in (np.arange(16), np.r_[8:16, 0:8]):
        T = new_tables(16, h.shape[1], 8)
        build_tables(np.ascontiguousarray(KT[order]), np.ascontiguousarray(delta[order]), 8, T)
        h1, z1 = h.copy(), z.copy()
        _block_step(h1, z1, T, 3, train, delta, 1.5, 0.1, True, 0, h.shape[0], np.empty(h.shape[1]))
        results.append(np.abs(h1 - h_ref).max() / np.abs(h_ref).max())
    assert results[0] < 1e-13
    assert results[1] > 1e-6
