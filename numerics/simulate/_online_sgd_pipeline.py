r"""One full-chain online-SGD run on two cores: the inputs of the next block of steps are drawn while the
current block's steps run.

The inputs ``x_t`` of online SGD are i.i.d. and independent of the weights, so they can be drawn ahead.
Drawing the ``d`` normals of a step (``numerics.simulate._rng_fast``, about 1.0 us at ``d = 512``) costs
about five times the step itself (one projection and one axpy, about 0.2 us), so one run is split into
blocks of ``B`` steps (1 MiB of inputs) and two threads work as a double-buffered pipeline:

* the calling thread runs the SGD steps of block ``k`` (``_full_steps``), then draws block ``k+1``'s
  normals for the lanes ``[0, split)``;
* a helper thread meanwhile draws block ``k+1``'s normals for the lanes ``[split, lanes)``.

Each lane is an independent xoshiro256+ stream (``_rng_fast.fill_block``), so the numbers do not depend
on the split nor on which thread draws them: the run is bit-for-bit the one of the thread-pool path
(tested for scripted splits and switches). The split balances the two threads from their measured
times (``_Schedule``).

Hand-offs are ``threading.Lock`` acquisitions (a waiting thread sleeps in the kernel) and the Numba
functions release the GIL, so nothing spins. Whether the helper pays depends on the other core: on the
project's 2-vCPU VM, with the other core free, pipelined blocks ran 1.2-1.3x faster than the calling
thread alone (not 2x: two threads drawing at once each ran about 35 % slower, as did two independent
runs, whose parallel speed-up varied between 1.15x and 1.96x with the host's load); with the other core
taken, a hand-off waits for the scheduler and pipelined blocks ran up to 1.4x *slower*. So the schedule
tries pipelined blocks and falls back to blocks drawn by the calling thread alone (in 64 KiB chunks, as
the thread-pool path) when they do not pay, with an exponential back-off between tries; a helper that
has not started its part when the calling thread has finished its own is not waited for (the calling
thread takes the part back and draws it). Measured cost of all this while other processes held the
second core (2026-11-23, 1-min load 2.0-2.4): a single run 0.87-0.94x the speed of the one-thread path.
(A ``prange`` over lane ranges, measured before, was 10-50x slower under load: OpenMP workers spin at
every launch while the other core is busy.)
"""

from __future__ import annotations

import threading
import time

import numpy as np

from . import _rng_fast

PIPE_BYTES = 1 << 20  # inputs per block and buffer: 1 MiB (two buffers stay in the shared L3)
MIN_LANES = 32  # below d = 128 a step's normals are too cheap to be worth a hand-off per block
SOLO_BYTES = 1 << 16  # inputs per chunk when the calling thread draws alone (64 KiB: L2, as the thread pool)
last_schedule = None  # the schedule of the latest run (diagnostics: ``tried``, ``kept`` pipelined blocks)
_ALIGN = 8  # split at multiples of 8 lanes (64 bytes of each state and input row): few shared cache lines


class _Helper(threading.Thread):
    """A thread that runs one submitted job at a time and reports its duration.

    A job not yet started can be taken back (``take_back``): the helper then skips it. So a caller whose
    helper is not scheduled (the other core is busy) runs the job itself instead of waiting for it, and
    only checks later (``idle``) that the helper has woken, before submitting again.
    """

    def __init__(self):
        super().__init__(daemon=True, name="online-sgd-normals")
        self._go = threading.Lock()
        self._go.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._claim = threading.Lock()
        self._job = None
        self._error = None
        self._pending = False  # submitted, and its end not yet collected by wait() or idle()
        self.elapsed = 0.0

    def run(self):
        while True:
            self._go.acquire()
            job = self._job
            if job is None:
                return
            t0 = time.perf_counter()
            if self._claim.acquire(blocking=False):  # not taken back: run it
                try:
                    job()
                except Exception as exc:  # noqa: BLE001 - any error of the job is re-raised in the caller by wait()
                    self._error = exc
            self.elapsed = time.perf_counter() - t0
            self._done.release()

    def submit(self, job):
        self._job = job
        self._claim = threading.Lock()
        self._pending = True
        self._go.release()

    def take_back(self):
        """True if the submitted job had not started (the helper will skip it: the caller runs it)."""
        return self._claim.acquire(blocking=False)

    def idle(self):
        """Whether the helper can take a job (collecting the end of the last one if it has come)."""
        if self._pending and self._done.acquire(blocking=False):
            self._pending = False
        return not self._pending

    def wait(self):
        self._done.acquire()
        self._pending = False
        if self._error is not None:
            raise self._error

    def stop(self):
        if self._pending:
            self._done.acquire()
        self._job = None
        self._go.release()
        self.join()


def block_rows(lanes: int, steps: int) -> int:
    """Steps per block: ``PIPE_BYTES`` of inputs (at least 16), at most ``steps``."""
    return max(1, min(steps, max(16, PIPE_BYTES // (32 * lanes))))


def usable(lanes: int, steps: int) -> bool:
    """Whether the two-thread pipeline pays: enough lanes to split and at least two blocks."""
    return lanes >= MIN_LANES and steps >= 2 * block_rows(lanes, steps)


def run_full_two_threads(steps_fn, draw_fn, step_args, d, steps, every, w, seed, m_row, n_row, block=None,
                         schedule=None):
    """One run of the full chain: ``steps_fn(d, step0, every, *step_args, w, xs, rows, m_row, n_row)`` on
    blocks of inputs drawn by two threads (see the module docstring), or ``draw_fn(d, step0, every,
    *step_args, w, lanes_state, xs, rows, m_row, n_row)`` (draws and steps by chunks of ``xs``) for blocks
    run by the calling thread alone. ``w`` is updated in place. ``schedule`` (tests) replaces the
    adaptive ``_Schedule``."""
    lanes = (d + 3) // 4
    block = block_rows(lanes, steps) if block is None else block
    lst = _rng_fast.lane_state(seed, lanes)
    # written once here: page faults on first touch would otherwise inflate the first (reference) timings
    bufs = (np.full((block, 4, lanes), 0.0), np.full((block, 4, lanes), 0.0))
    chunk = np.empty((max(1, min(block, SOLO_BYTES // (32 * lanes))), 4, lanes))  # for blocks run alone
    sched = _Schedule(lanes) if schedule is None else schedule
    helper = _Helper()
    helper.start()
    ready = False  # whether bufs[k % 2] already holds the next inputs
    step0 = k = 0
    try:
        while step0 < steps:
            cur, nxt = bufs[k % 2], bufs[(k + 1) % 2]
            rows = min(block, steps - step0)
            nrows = min(block, steps - step0 - rows)
            t0 = time.perf_counter()
            piped = ready and nrows and sched.pipelined()
            if piped and not helper.idle():
                # the helper has still not woken for a job taken back: this block's steps now, and alone for
                # a while (nothing waits for the scheduler)
                piped = False
                steps_fn(d, step0, every, *step_args, w, cur, rows, m_row, n_row)
                sched.helper_absent()
            elif piped:  # block k's inputs are in cur: the helper and this thread draw block k+1's into nxt
                piped = True
                sp = sched.split
                helper.submit(lambda out=nxt, r=nrows, p0=sp: _rng_fast.fill_block(lst, out, r, p0, lanes))
                steps_fn(d, step0, every, *step_args, w, cur, rows, m_row, n_row)
                t1 = time.perf_counter()
                _rng_fast.fill_block(lst, nxt, nrows, 0, sp)
                t2 = time.perf_counter()
                if sched.TAKE_BACK and helper.take_back():  # the helper has not started: draw its part here
                    _rng_fast.fill_block(lst, nxt, nrows, sp, lanes)
                    sched.helper_absent()
                else:
                    helper.wait()
                    sched.pipelined_block(rows, nrows, sp, t1 - t0, t2 - t1, helper.elapsed,
                                          time.perf_counter() - t0)
            elif ready:
                steps_fn(d, step0, every, *step_args, w, cur, rows, m_row, n_row)
            else:  # the calling thread alone, in chunks that stay in its L2 cache (as the thread-pool path),
                # as many blocks in one call as the schedule runs alone
                nb = sched.solo_blocks()
                rows = min(nb * block, steps - step0)
                nrows = min(block, steps - step0 - rows)
                draw_fn(d, step0, every, *step_args, w, lst, chunk, rows, m_row, n_row)
                sched.solo_block(rows, time.perf_counter() - t0, -(-rows // block))
            step0 += rows
            k += 1
            if not piped:  # (after a pipelined block nxt holds the next inputs: ready stays true)
                # before a pipelined block, this thread draws its inputs ahead
                ready = bool(nrows) and sched.pipelined()
                if ready:
                    _rng_fast.fill_block(lst, nxt, nrows, 0, lanes)
    finally:
        helper.stop()
    global last_schedule
    last_schedule = sched


class _Schedule:
    """When to use the helper, and the lane split that balances the two threads.

    Whether the helper pays depends on what else runs on the machine: with the other core taken, a
    hand-off waits for the scheduler (milliseconds), far longer than a block. So the first two blocks are
    run by the calling thread alone (its time per step, ``t_solo``, is the reference), then pipelined blocks
    are tried; a pipelined block whose time per step was not ``GAIN`` times below ``t_solo`` sends the
    run back to ``backoff`` blocks alone (which also refresh ``t_solo``), doubling each time up to
    ``MAX_BACKOFF`` and reset by a pipelined block that pays; every ``REFRESH``-th paying block is
    followed by one block alone, which keeps ``t_solo`` current. None of this changes the numbers, only
    which thread draws them.
    """

    GAIN = 1.05
    TAKE_BACK = True  # draw the helper's part here when it has not started (tests switch it off)
    FIRST_BACKOFF = 8
    MAX_BACKOFF = 1024
    REFRESH = 32

    def __init__(self, lanes):
        self.lanes = lanes
        self.split = _aligned(lanes // 2, lanes)
        self.t_solo = None  # seconds per step, calling thread alone
        self.t_step = None  # seconds per SGD step (pipelined blocks)
        self.t_lane = None  # seconds per lane-step of drawing while both threads draw: calling thread
        self.t_lane_helper = None  # the same, helper thread
        self.solo_left = 2
        self.backoff = self.FIRST_BACKOFF
        self.tried = self.kept = 0  # pipelined blocks run, and those that paid

    def pipelined(self):
        return self.solo_left <= 0

    @staticmethod
    def _ema(old, new):
        return new if old is None else 0.7 * old + 0.3 * new

    def helper_absent(self):
        """The helper had not started its part when this thread finished its own: a failed try."""
        self.tried += 1
        self._back_off()

    def solo_blocks(self):
        """How many blocks to run alone from here (at least one)."""
        return max(1, self.solo_left)

    def _back_off(self):
        self.solo_left = self.backoff
        self.backoff = min(2 * self.backoff, self.MAX_BACKOFF)

    def solo_block(self, rows, wall, blocks=1):
        self.t_solo = self._ema(self.t_solo, wall / rows)
        self.solo_left -= blocks

    def pipelined_block(self, rows, nrows, sp, t_steps, t_fill, t_helper, wall):
        self.tried += 1
        self.t_step = self._ema(self.t_step, t_steps / rows)
        self.t_lane = self._ema(self.t_lane, t_fill / (nrows * sp))
        self.t_lane_helper = self._ema(self.t_lane_helper, t_helper / (nrows * (self.lanes - sp)))
        # balance: t_step rows + t_lane nrows split = t_lane_helper nrows (lanes - split); a helper slowed
        # by other processes gets fewer lanes, which also makes a failed try cheaper
        a, b = self.t_lane * nrows, self.t_lane_helper * nrows
        self.split = _aligned((b * self.lanes - self.t_step * rows) / (a + b), self.lanes)
        if wall / rows * self.GAIN > self.t_solo:
            self._back_off()
        else:
            self.kept += 1
            self.backoff = self.FIRST_BACKOFF
            if self.kept % self.REFRESH == 0:  # one block alone now and then keeps t_solo current
                self.solo_left = 1


def _aligned(split, lanes):
    """``split`` rounded to a multiple of ``_ALIGN`` within ``[_ALIGN, lanes - _ALIGN]``."""
    s = round(split / _ALIGN) * _ALIGN
    return min(max(s, _ALIGN), lanes - _ALIGN)
