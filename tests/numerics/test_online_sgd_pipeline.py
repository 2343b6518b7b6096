"""One full-chain run on two threads: bit-for-bit the single-thread run for any lane split and any
interleaving of pipelined and single-thread blocks; the adaptive schedule's decisions."""

import math
import threading

import numba
import numpy as np
import pytest

from numerics.simulate import _online_sgd, _online_sgd_pipeline, _rng_fast
from numerics.simulate._online_sgd import LOSSES, UPDATES, _full_steps, online_sgd


class _Scripted:
    """A schedule that pipelines the blocks listed in ``plan`` (True) with the splits in ``splits``."""

    def __init__(self, plan, splits, take_back):
        self.TAKE_BACK = take_back
        self.plan, self.splits, self.k = list(plan), list(splits), 0
        self.split = self.splits[0]
        self.used = []  # splits of the blocks the helper drew its part of
        self.absent = 0  # tries where the calling thread took the helper's part back

    def helper_absent(self):
        self.absent += 1
        self.k += 1

    def pipelined(self):
        return self.plan[min(self.k, len(self.plan) - 1)]

    def solo_blocks(self):
        return 2  # two blocks per call alone: also exercises a solo stretch longer than a block

    def solo_block(self, rows, wall, blocks=1):
        self.k += blocks

    def pipelined_block(self, rows, nrows, sp, *times):
        self.used.append(sp)
        self.k += 1
        self.split = self.splits[self.k % len(self.splits)]


def _single_thread(d, steps, every, args, w0, seed):
    """The thread-pool core on one run (the reference path)."""
    m = np.empty((1, steps // every + 1))
    n = np.empty_like(m)
    i64 = np.int64
    _online_sgd._CORE_BUILTIN(i64(d), i64(steps), i64(every), *args, w0[None, :].copy(), np.array([seed], dtype=np.int64),
                              i64(0), m, n)
    return m[0], n[0]


def _two_threads(d, steps, every, args, w0, seed, block, schedule):
    m = np.empty(steps // every + 1)
    n = np.empty_like(m)
    w = w0.copy()
    _online_sgd._record_start(w, m, n)
    _online_sgd_pipeline.run_full_two_threads(_full_steps, _online_sgd._draw_and_step, args, np.int64(d), np.int64(steps), np.int64(every), w,
                                              np.int64(seed), m, n, block=block, schedule=schedule)
    return m, n


@pytest.mark.parametrize("d, steps, every, block, update, plan, splits", [
    (130, 300, 10, 32, "free", [True], [8, 16, 24]),  # d not a multiple of 4, last block partial
    (128, 256, 16, 16, "spherical", [False, True, True, False, False, True], [8, 24]),  # switches both ways
    (64, 96, 96, 17, "free", [True, True, False, False, True], [8]),  # block not dividing steps
    (128, 320, 32, 16, "free", [True, True, False, True, True, False, False, True, False], [16, 8]),
])
def test_two_threads_give_the_single_thread_run_bit_for_bit(d, steps, every, block, update, plan, splits):
    rng = np.random.default_rng(d)
    w0 = rng.standard_normal(d)
    w0 /= np.linalg.norm(w0)
    args = (3e-3, np.int64(1), np.zeros(1), np.int64(1), np.zeros(1), np.int64(LOSSES["mse"]),
            np.int64(UPDATES[update]), 1.0)
    ref_m, ref_n = _single_thread(d, steps, every, args, w0, 77)
    # without take-back the calling thread waits for the helper: its part is drawn by the helper thread
    sched = _Scripted(plan, splits, take_back=False)
    m, n = _two_threads(d, steps, every, args, w0, 77, block, sched)
    assert sched.used and not sched.absent
    np.testing.assert_array_equal(m, ref_m)
    np.testing.assert_array_equal(n, ref_n)
    # with take-back, who draws the helper's part is up to the OS scheduler: any outcome gives the same run
    sched = _Scripted(plan, splits, take_back=True)
    m, n = _two_threads(d, steps, every, args, w0, 77, block, sched)
    assert sched.used or sched.absent
    np.testing.assert_array_equal(m, ref_m)
    np.testing.assert_array_equal(n, ref_n)
    # mutation: a split that lets both threads draw lane 8 (overlapping ranges) changes the run
    lanes = _rng_fast.lanes_for(d)
    lst = _rng_fast.lane_state(77, lanes)
    a = np.empty((2, 4, lanes))
    _rng_fast.fill_block(lst, a, 2, 0, 9)
    _rng_fast.fill_block(lst, a, 2, 8, lanes)
    b = np.empty_like(a)
    _rng_fast.fill_block(_rng_fast.lane_state(77, lanes), b, 2, 0, lanes)
    assert not np.array_equal(a, b)


def test_online_sgd_single_run_does_not_depend_on_the_thread_count():
    """The public entry: with two_threads, one run of two blocks or more takes the two-thread path
    (with 2 Numba threads allowed), and gives the run of the default path and of one thread."""
    kw = {"d": 128, "steps": 2048, "eta": 2e-3, "runs": 1, "student": "relu", "loss": "mse", "update": "free",
          "m0": 0.2, "every": 256, "seed": 5}
    assert _online_sgd_pipeline.usable(_rng_fast.lanes_for(128), 2048)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        _online_sgd_pipeline.last_schedule = None
        a = online_sgd(**kw, two_threads=True)
        assert _online_sgd_pipeline.last_schedule is not None  # it went through the pipeline
        c = online_sgd(**kw)
        numba.set_num_threads(1)
        b = online_sgd(**kw, two_threads=True)
    finally:
        numba.set_num_threads(old)
    for other in (b, c):
        np.testing.assert_array_equal(a.m, other.m)
        np.testing.assert_array_equal(a.norm, other.norm)
    assert abs(a.m[0, -1]) > 0.2  # it moved (learning from m0 = 0.2)


def test_schedule_backs_off_when_the_helper_does_not_pay_and_returns_when_it_does():
    s = _online_sgd_pipeline._Schedule(128)
    first = s.FIRST_BACKOFF
    assert not s.pipelined()
    s.solo_block(256, 256 * 1.0e-6)
    s.solo_block(256, 256 * 1.0e-6)
    assert s.pipelined() and math.isclose(s.t_solo, 1.0e-6)
    # a pipelined block at 0.97 us/step: gain 1.03 < 1.05, back to FIRST_BACKOFF blocks alone, then twice that
    s.pipelined_block(256, 256, 64, 50e-6, 100e-6, 150e-6, 256 * 0.97e-6)
    assert s.solo_left == first and s.backoff == 2 * first
    for _ in range(first):
        s.solo_block(256, 256 * 1.0e-6)
    s.pipelined_block(256, 256, 64, 50e-6, 100e-6, 150e-6, 256 * 0.97e-6)
    assert s.solo_left == 2 * first and s.backoff == 4 * first
    for _ in range(2 * first):
        s.solo_block(256, 256 * 1.0e-6)
    # 0.6 us/step pays: stays pipelined, backoff reset
    s.pipelined_block(256, 256, 64, 50e-6, 100e-6, 150e-6, 256 * 0.6e-6)
    assert s.pipelined() and s.backoff == first


def test_schedule_split_balances_the_two_threads():
    """t_step rows + a split = b (lanes - split) with a, b the per-lane drawing times of the two threads."""
    s = _online_sgd_pipeline._Schedule(128)
    s.solo_block(256, 256e-6)
    s.solo_block(256, 256e-6)
    # equal drawing speeds, steps worth 16 lanes of drawing: split = (128 - 16)/2 = 56
    s.pipelined_block(256, 256, 64, 256 * 16 * 10e-9, 256 * 64 * 10e-9, 256 * 64 * 10e-9, 256 * 0.5e-6)
    assert s.split == 56
    # a helper three times slower (another process on its core) gets fewer lanes
    s = _online_sgd_pipeline._Schedule(128)
    s.t_solo = 1.0
    s.pipelined_block(256, 256, 64, 0.0, 256 * 64 * 10e-9, 256 * 64 * 30e-9, 1e-9)
    assert s.split == 96  # 30 (128 - x) = 10 x


@pytest.mark.parametrize("split, lanes, expected", [(-3.0, 128, 8), (61.0, 128, 64), (500.0, 128, 120), (9.0, 33, 8)])
def test_split_is_aligned_and_leaves_both_threads_lanes(split, lanes, expected):
    assert _online_sgd_pipeline._aligned(split, lanes) == expected


def test_helper_reraises_the_error_of_its_job():
    h = _online_sgd_pipeline._Helper()
    h.start()
    try:
        h.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            h.wait()
    finally:
        h.stop()
    assert not h.is_alive()


def test_a_job_taken_back_before_the_helper_starts_is_skipped():
    h = _online_sgd_pipeline._Helper()
    ran = []
    h.submit(lambda: ran.append(1))  # the thread is not even started: the job cannot have begun
    assert h.take_back()
    assert not h.idle()
    h.start()
    for _ in range(2000):  # the helper wakes, finds the job claimed, skips it
        if h.idle():
            break
        threading.Event().wait(1e-3)
    assert h.idle() and ran == []
    h.submit(lambda: ran.append(2))  # a job not taken back runs
    h.wait()
    assert ran == [2] and not h.take_back()
    h.stop()
    assert not h.is_alive()
