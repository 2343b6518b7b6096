r"""Subset-sum tables for the rank-P field update of the single-site Monte Carlo (:mod:`numerics._two_stage_dmft`).

One Euler step moves every site s by :math:`h_s \mathrel{+}= \eta\gamma z_s \sum_{p \in A_s} \Delta_p K_p`, where
:math:`K_p = K_x(x_p, \cdot)` is row p of KT (over the M points) and :math:`A_s` the training points where
:math:`\phi'(h_{s,p}) \ne 0`: all P of them for φ = identity, the active ones (h > 0) for ReLU. The vector
:math:`u_A = \sum_{p\in A}\Delta_p K_p` depends on the site only through its active set A, so it is shared.
The P points are cut into G groups of ``bits`` consecutive points; for each group every subset sum
:math:`T_g[a] = \sum_{j:\ \text{bit } j \text{ of } a} \Delta_{g\,\text{bits}+j} K_{g\,\text{bits}+j}` is tabulated
once per step (:func:`build_tables`, :math:`2^{\text{bits}}` rows of M per group, one vector addition each), and a
site's update is :math:`u_{A_s} = \sum_g T_g[a_g(s)]` with :math:`a_g(s)` the group's activity bits: G row
additions per site instead of |A_s| scaled rows (G = 2 instead of about 8 at P = 16).

Rounding: :math:`\eta\gamma z_s\,(\sum_g T_g[a_g])` associates the same terms differently from
:math:`\sum_p (\eta\gamma\Delta_p z_s)K_p` (relative differences of a few units in the last place of the
update); the tables are built in a fixed order on one thread, so results do not depend on the thread count.

``bits`` is 8 (256 rows per group) unless the tables would exceed :data:`TABLE_BYTES`; then 4, 2 or 1
(with bits = 1 a group is the single row :math:`\Delta_p K_p`, i.e. the direct rank-P update).
"""

from __future__ import annotations

import numba
import numpy as np

#: upper bound on the tables' size: small enough to stay in the second-level cache at the benchmark's
#: sizes (P = 16, M = 96: 2 x 256 x 96 doubles = 384 KiB)
TABLE_BYTES = 1 << 20


def group_bits(P: int, M: int) -> int:
    """Points per group: the largest of 8, 4, 2, 1 whose tables fit in :data:`TABLE_BYTES` (1 always does
    the job, with tables the size of KT)."""
    for bits in (8, 4, 2):
        groups = -(-P // bits)
        if groups * (1 << bits) * M * 8 <= TABLE_BYTES:
            return bits
    return 1


def new_tables(P: int, M: int, bits: int) -> np.ndarray:
    """Storage for :func:`build_tables`: (groups, 2**bits, M), at least one group (P = 0: the zero update)."""
    return np.empty((max(1, -(-P // bits)), 1 << bits, M))


@numba.njit(cache=True, error_model="numpy", nogil=True)
def build_tables(KT, delta, bits, T):
    """T[g, a] = sum over the set bits j of a of delta[g bits + j] KT[g bits + j] (rows past P count as absent).

    Each row is one vector addition to a row with one bit fewer (its lowest bit cleared), so a table costs
    2**bits M additions; the rows of a group's last, partial block that name points past P are never read
    (a site's activity bits only name existing points) and are left as they are."""
    P, M = KT.shape
    G = T.shape[0]
    for g in range(G):
        base = g * bits
        n = min(bits, P - base)
        for m in range(M):
            T[g, 0, m] = 0.0
        for a in range(1, 1 << n):
            low = a & (-a)
            j = 0
            while (low >> j) != 1:
                j += 1
            prev = T[g, a ^ low]
            row = T[g, a]
            d = delta[base + j]
            k = KT[base + j]
            for m in range(M):
                row[m] = prev[m] + d * k[m]
