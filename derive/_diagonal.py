"""diagonal.*: two-path diagonal linear networks through pretraining and fine-tuning (issue 8).

Setting: Anguita, Locatello, Saxe, Mondelli, Mancini, Lippl, Dominé, "A Theory of How
Pretraining Shapes Inductive Bias in Fine-Tuning" (arXiv 2602.20062, 2026), cited for the
setting only; every formula is from the research note diagonal-linear.md (DERIVED+CHECKED)
and re-checked by lazyrich's claims ``diagonal.*``.

Sign convention: lazyrich's ``lam = v^2 - w^2`` (readout squared minus first layer squared);
the note and the authors' code use the opposite sign. The translation happens once, in
:data:`derive._diagonal_model.NOTE_LAM`; ``lam > 0`` is a smaller first layer.

Results:

* ``diagonal.potential`` -- phi_kappa and its first two derivatives (:mod:`._diagonal_model`);
* ``diagonal.implicit_bias`` -- Bregman projection of a stage's start onto the
  interpolators (:mod:`._diagonal_bias`);
* ``diagonal.weights_after_pretraining``, ``diagonal.kappa_ft_readout_reset``,
  ``diagonal.kappa_ft_merged`` -- the pretrain -> fine-tune pipeline (:mod:`._diagonal_finetune`).
"""

from ._diagonal_bias import implicit_bias, implicit_bias_mp
from ._diagonal_finetune import (
           kappa_ft_merged,
           kappa_ft_readout_reset,
           weights_after_pretraining,
)
from ._diagonal_model import azulay_qk, network_flow, potential, woodworth_q

__all__ = ["azulay_qk", "implicit_bias", "implicit_bias_mp", "kappa_ft_merged", "kappa_ft_readout_reset",
           "network_flow", "potential", "weights_after_pretraining", "woodworth_q"]
