"""Report section (c) of issue 7: the fixture, the fitted exponents it yields, and the live consistency check."""

import numpy as np
import pytest

from numerics.simulate._lowrank_finetune import default_max_steps, hitting_grid
from proofs.report._lowrank_finetune import (
    KS,
    MODES,
    live_check,
    load_fixture,
    scaling_data,
)


@pytest.fixture(scope="module")
def fixture():
    return load_fixture()


def test_fixture_is_complete(fixture):
    ds = fixture["ds"]
    assert list(ds) == [64, 128, 256, 512, 1024]
    for mode in MODES:
        for k in KS:
            h = fixture["hits"][(mode, k)]
            assert h.shape == (5, fixture["runs"])
            caps = np.array([default_max_steps(mode, k, int(d)) for d in ds])
            assert np.array_equal(fixture["max_steps"][f"{mode}/{k}"], caps)
            fin = np.isfinite(h)
            assert (h[fin] >= 1).all() and (h[fin] <= np.broadcast_to(caps[:, None], h.shape)[fin]).all()


def test_fixture_reproduces_from_its_seed(fixture):
    """The first runs of the fixture's cheapest cells, re-run: the same hitting steps (prefix-stable seeding).
    Bitwise on one machine; another libm could move a step by one, hence the tolerance of one step."""
    live = hitting_grid(ds=(64,), ks=(1, 2), runs=4, seed=fixture["seed"])["hits"]
    for key, h in live.items():
        np.testing.assert_allclose(h[0], fixture["hits"][key][0, :4], atol=1)


def test_fitted_exponents_separate_the_laws(fixture):
    """The thresholds sit between the competing laws' local exponents on d = 64-1024: d (1) against
    d log d (1 + 1/ln d >= 1.14), and d log d (<= 1.24) against d^2 (2); the whole 95% interval must fall on
    one side."""
    sd = scaling_data(fixture, boot=400)
    for k in KS:
        ft = sd["fits"][("finetune", k)]
        assert ft["ci"][0] <= ft["exponent"] <= ft["ci"][1]
        assert 0.9 < ft["ci"][0] and ft["ci"][1] < 1.1  # fine-tuning: the d law for every k
    assert sd["fits"][("scratch", 1)]["ci"][1] < 1.1  # from scratch, k = 1: d
    assert 1.05 < sd["fits"][("scratch", 2)]["ci"][0] and sd["fits"][("scratch", 2)]["ci"][1] < 1.5  # k = 2: above d
    assert sd["fits"][("scratch", 3)]["ci"][0] > 1.5  # k = 3: d^2, not d log d
    for f in sd["fits"].values():
        assert f["censored"] == 0 and f["boot_used"] == 400


def test_live_check_detects_a_wrong_fixture(fixture):
    small = {"ds": (64,), "runs": 8, "boot": 100}
    ok = live_check(fixture, **small)
    assert ok["max_z"] < 4.0
    bad = {**fixture, "hits": {k: v * 3.0 for k, v in fixture["hits"].items()}}  # steps off by a factor 3
    assert live_check(bad, **small)["max_z"] > 4.0
