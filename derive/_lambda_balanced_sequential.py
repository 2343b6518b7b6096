r"""Sequential tasks for λ-balanced networks: chaining the exact solution, and the forgetting metric.

Setting (Braun et al. 2022 §continual learning; Anguita 2024 thesis §2.3.4, §4.4; research note §1.9):
tasks ``Syx_1, Syx_2, ...`` (whitened inputs) trained one after the other by gradient flow. The
conserved ``lam`` carries over from task to task, so the closed form chains: train task j for a
time ``T_j`` from the current weights, then continue with task j + 1 from ``QQ^T(T_j)``, whose
weights are recovered from any factor ``Q = [W1^T; W2]`` of ``QQ^T`` (QQ^T does not see the
hidden rotation ``R``, and ``W2^T W2 - W1 W1^T = lam I`` is invariant under it).

Loss on task i: ``L_i = (1/2)||W2 W1 - Syx_i||_F^2 + L*_i``. Forgetting of task i when task k is
trained after task j (thesis Thm 4.4.1, via Braun et al. 2022), at convergence:

.. math:: F_i(T_j, T_k) = \tfrac12\|\Sigma_k - \Sigma_i\|_F^2 - \tfrac12\|\Sigma_j - \Sigma_i\|_F^2 ,

independent of λ (λ changes only the path).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from numerics import _qqt

from ._domain import Param, real
from ._registry import register
from ._result import Result

REFS = ("braun2022exact", "anguita2024thesis", "domine2025lazy")


def weights_from_qqt(Q: np.ndarray, Ni: int, Nh: int) -> tuple[np.ndarray, np.ndarray]:
    """A factor [W1^T; W2] of QQ^T with Nh columns (the top Nh eigenpairs; QQ^T has rank <= Nh)."""
    ev, O = np.linalg.eigh(Q)
    F = O[:, -Nh:] * np.sqrt(np.clip(ev[-Nh:], 0.0, None))
    return np.ascontiguousarray(F[:Ni].T), np.ascontiguousarray(F[Ni:])


def chain(W1, W2, tasks, durations, n_t: int = 200) -> dict:
    """Train the tasks in order for the given durations with the exact solution.

    Returns ``t`` (concatenated times), ``loss`` (len(tasks), T): loss (without L*) on every task,
    ``task_index`` (T,) of the task being trained, and the weights at each switch. Raises the
    closed form's ``ValueError`` (e.g. a singular B) if a switch lands on a start it cannot handle.
    """
    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float)
    Ni, Nh = W1.shape[1], W1.shape[0]
    ts, losses, idx, switches, t0 = [], [], [], [(W1, W2)], 0.0
    for j, (S, T) in enumerate(zip(tasks, durations)):
        f = _qqt.factorise(W1, W2, S)
        tl = np.linspace(0.0, T, n_t)
        Q = _qqt.evaluate_qqt(f, tl)
        W = Q[:, Ni:, :Ni]
        losses.append([0.5 * np.sum((W - Si) ** 2, axis=(1, 2)) for Si in tasks])
        ts.append(t0 + tl)
        idx.append(np.full(n_t, j))
        W1, W2 = weights_from_qqt(Q[-1], Ni, Nh)
        switches.append((W1, W2))
        t0 += T
    return {"t": np.concatenate(ts), "loss": np.concatenate([np.array(x) for x in losses], axis=1),
            "task_index": np.concatenate(idx), "weights": switches}


P_SI = Param("Syx_i", real(), r"\Sigma_i", "task i whose forgetting is measured (No x Ni)", ndim=2)
P_SJ = Param("Syx_j", real(), r"\Sigma_j", "task learned first (No x Ni)", ndim=2)
P_SK = Param("Syx_k", real(), r"\Sigma_k", "task learned next (No x Ni)", ndim=2)


def _forgetting(Syx_i, Syx_j, Syx_k):
    if not (Syx_i.shape == Syx_j.shape == Syx_k.shape):
        raise ValueError(f"Syx_j: all tasks must have the same shape, got {Syx_i.shape}, {Syx_j.shape}, {Syx_k.shape}")
    return np.asarray(0.5 * np.sum((Syx_k - Syx_i) ** 2) - 0.5 * np.sum((Syx_j - Syx_i) ** 2))


def _forgetting_mp(Syx_i, Syx_j, Syx_k):
    def sq(A):
        return sum(A[r, c] ** 2 for r in range(A.rows) for c in range(A.cols))
    return (sq(Syx_k - Syx_i) - sq(Syx_j - Syx_i)) / 2


_Si, _Sj, _Sk = (sp.MatrixSymbol(x, sp.Symbol("N_o"), sp.Symbol("N_i")) for x in (r"\Sigma_i", r"\Sigma_j", r"\Sigma_k"))
forgetting = register(Result(
    "lambda_balanced.forgetting",
    title="Forgetting F_i(T_j, T_k) of task i when task k is learned after task j (at convergence)",
    params=[P_SI, P_SJ, P_SK],
    expr=sp.Trace((_Sk - _Si).T * (_Sk - _Si)) / 2 - sp.Trace((_Sj - _Si).T * (_Sj - _Si)) / 2,
    output="F", output_latex="F_i(T_j, T_k)",
    evaluator=_forgetting, mp=_forgetting_mp,
    conditions=("whitened inputs; each task trained to convergence (W2 W1 = Syx of the task)",
                "independent of lam: lam changes only the path between the tasks",
                "the loss difference L_i(after k) - L_i(after j); L*_i cancels"),
    source=("Braun et al. 2022 (continual learning with exact solutions); Anguita 2024 thesis §4.4 (Thm 4.4.1); "
            "research note §1.9"),
    references=REFS,
))

__all__ = ["chain", "forgetting", "weights_from_qqt"]
