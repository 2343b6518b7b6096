"""Python entry points of the diagonal-network model that are not single registered results.

The registry holds the model's closed forms (``derive.get("diagonal.*")``). Two calls of
issue 8 take structured arguments that a scalar-parameter result cannot express, and are
public here:

* :func:`finetune_generalization_error`: the replica-symmetric fine-tuning error of the
  pretrain -> reset -> fine-tune pipeline for a teacher mixture (pretraining support
  ``rho_pt`` with amplitude ``a_pt``, fine-tuning density ``rho_ft``, overlap ``omega``),
  by protocol ``"merged"`` or ``"readout_reset"``; :func:`finetune_groups` gives the
  coordinate groups and their fine-tuning scales kappa_F that it solves with.
* :func:`regime_map`: which initialisation (c, lam/c, gamma) wins which task, over alpha;
  :func:`regime_kappas`, :func:`classify` and :func:`lam_sweep` are its parts, and
  ``REGIMES``, ``TASKS``, ``PRETRAINING`` its defaults.

Sign convention: lam = (readout)^2 - (first layer)^2, as everywhere in lazyrich, so a
smaller first layer is lam > 0 (the research note and the authors' code use the opposite
sign). Mathematics, conditions and sources: :mod:`derive._diagonal_generalization` and
:mod:`derive._diagonal_regimes` (setting: Anguita et al. 2026, ``anguita2026pretraining``).
"""

from ._diagonal_generalization import finetune_generalization_error, finetune_groups
from ._diagonal_regimes import PRETRAINING, REGIMES, TASKS, classify, lam_sweep, regime_kappas, regime_map

__all__ = ["PRETRAINING", "REGIMES", "TASKS", "classify", "finetune_generalization_error", "finetune_groups",
           "lam_sweep", "regime_kappas", "regime_map"]
