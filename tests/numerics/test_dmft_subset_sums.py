"""Subset-sum tables of the mean-field Euler step: every row against the direct sum, the size rule."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numerics import _dmft_subset_sums as sub
from numerics._dmft_subset_sums import TABLE_BYTES, build_tables, group_bits, new_tables

EPS = np.finfo(float).eps


def _direct(KT, delta, bits, g, a):
    """sum over the set bits j of a of delta_p KT_p, p = g bits + j, added in the order of j."""
    out = np.zeros(KT.shape[1])
    for j in range(bits):
        if a >> j & 1:
            out = out + delta[g * bits + j] * KT[g * bits + j]
    return out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), P=st.integers(1, 19), M=st.integers(1, 7), bits=st.sampled_from([1, 2, 4, 8]))
@example(seed=0, P=16, M=5, bits=8)  # the benchmark's grouping: two full groups
@example(seed=1, P=9, M=3, bits=8)  # a last group of one point
def test_every_table_row_is_its_subset_sum(seed, P, M, bits):
    rng = np.random.default_rng(seed)
    KT = rng.standard_normal((P, M))
    delta = rng.standard_normal(P)
    T = new_tables(P, M, bits)
    build_tables(KT, delta, bits, T)
    scale = np.abs(delta)[:, None] * np.abs(KT)
    for g in range(T.shape[0]):
        n = min(bits, P - g * bits)
        # the table row and the direct sum are each at most n roundings of size <= eps (sum of |terms|)
        # away from the exact subset sum (the products delta_p K_p are the same in both)
        tol = 2 * n * EPS * scale[g * bits:g * bits + n].sum(0)
        for a in range(1 << n):
            assert np.all(np.abs(T[g, a] - _direct(KT, delta, bits, g, a)) <= tol)
        assert np.all(T[g, 0] == 0.0)


def test_a_table_with_the_bits_mapped_to_the_wrong_points_fails_the_check():
    # mutation: reverse the bit -> point map inside a group; the rows no longer match the direct sums
    rng = np.random.default_rng(3)
    P, M, bits = 8, 4, 8
    KT, delta = rng.standard_normal((P, M)), rng.standard_normal(P)
    T = new_tables(P, M, bits)
    build_tables(KT, delta, bits, T)
    wrong = [T[0, int(f"{a:08b}"[::-1], 2)] for a in range(256)]
    errors = [np.max(np.abs(w - _direct(KT, delta, bits, 0, a))) for a, w in enumerate(wrong)]
    assert max(errors) > 1e-3


@pytest.mark.parametrize("P, M, bits", [(16, 96, 8), (40, 300, 4), (200, 1000, 1), (0, 5, 8)])
def test_group_bits_keeps_the_tables_under_the_bound(P, M, bits):
    assert group_bits(P, M) == bits
    T = new_tables(P, M, group_bits(P, M))
    assert T.nbytes <= TABLE_BYTES or group_bits(P, M) == 1
    assert T.shape[0] >= 1


def test_group_bits_follows_the_bound(monkeypatch):
    monkeypatch.setattr(sub, "TABLE_BYTES", 4 * 16 * 96 * 8)  # 16 points in 4 groups of 4: 16 rows each
    assert group_bits(16, 96) == 4
    monkeypatch.setattr(sub, "TABLE_BYTES", 1)
    assert group_bits(16, 96) == 1


def test_the_empty_training_set_gives_the_zero_update():
    T = new_tables(0, 3, 8)
    build_tables(np.empty((0, 3)), np.empty(0), 8, T)
    assert np.all(T[0, 0] == 0.0)


def test_all_subsets_are_reached_by_their_bit_patterns():
    # a_g enumerates each subset of the group once: 2**n distinct rows for distinct delta
    P, M, bits = 3, 1, 4
    KT = np.ones((P, M))
    delta = np.array([1.0, 2.0, 4.0])
    T = new_tables(P, M, bits)
    build_tables(KT, delta, bits, T)
    assert [T[0, a, 0] for a in range(1 << P)] == [float(a) for a in range(1 << P)]
