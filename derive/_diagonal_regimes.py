r"""The four fine-tuning regimes of a diagonal network: which initialisation wins which task (issue 8, item 6).

Setting (Anguita, Locatello, Saxe et al. 2026; research note diagonal-linear.md §5): pretraining from
the (c, lam) initialisation on a teacher with support fraction ``rho_pt`` and amplitude ``a_pt``,
then a reset (``"merged"``: first-layer paths merged, readout to gamma; ``"readout_reset"``: readout to
gamma, gamma = 0 only) and fine-tuning on a Bernoulli-Gaussian task of density ``rho_ft`` whose support
overlaps the pretraining support in a fraction ``omega`` (``omega = 1``: the task reuses pretrained
features; ``omega = 0``: it needs new ones). Pretraining is taken to have recovered its teacher, so
fine-tuning is the Bregman projection with two scales: ``kappa_on`` on pretrained features and
``kappa_off`` elsewhere (``diagonal.kappa_ft_merged`` / ``diagonal.kappa_ft_readout_reset`` at
``beta_pt = a_pt`` and ``0``), and its proportional-limit error is
:func:`derive._diagonal_generalization.finetune_generalization_error` (note §4, DERIVED+CHECKED D9).

Signs are lazyrich's: ``lam = v^2 - w^2`` (readout minus first layer), so ``lam > 0`` is a *smaller
first layer*; the note's and the authors' ``lambda/c = -0.99`` is ``lam/c = +0.99`` here.

The four regimes are read off the two scales (a derived classification, not the paper's text):

* rich / lazy: ``kappa_on < a_pt`` (pretrained features are used sparsely, l1-like) or not
  (weighted-ridge-like on them); the potential is ``~ b^2/kappa`` for ``|b| << kappa`` and
  ``~ (|b|/2) log(|b|/kappa)`` for ``|b| >> kappa``;
* dependent on / independent of pretraining: ``kappa_on / kappa_off > DEPENDENCE_RATIO`` or not.

Representative initialisations (merged reset; the authors' working notes use c = 1e-6 and a readout
gamma; ours use c = 1e-3, where the same mechanisms hold and the simulations are well conditioned):

* rich, independent: ``lam = c`` (a zero first layer at initialisation): after pretraining
  ``w_+ + w_- = 0`` exactly (note §3.5), so the merged reset leaves ``kappa_F = 2 gamma^2`` on every
  coordinate; a small gamma = 0.003 makes it uniformly rich (near min-l1), blind to pretraining;
* rich, dependent ("reuse and refine", nested feature selection): ``lam/c = +0.99`` (smaller
  first layer), gamma = 0: ``kappa_on ~ 2 (c - lam) a_pt / c = 0.02``, ``kappa_off = 4 (c - lam)``;
* lazy, dependent: ``lam/c = -0.99`` (larger first layer), gamma = 0: ``kappa_on ~ 4 a_pt``;
* lazy, independent: ``lam = 0``, gamma = 10: ``kappa_F ~ 2 gamma^2 = 200`` everywhere (ridge).

Tasks (the note's §5 table, rho_pt = 0.1, a_pt = 1): sparse new features (rho_ft = 0.01, omega = 0),
a sparse subset of pretrained features (0.01, 1), dense on pretrained features (0.1, 1),
dense new features (0.9, 0).
"""

from __future__ import annotations

import numpy as np

from ._diagonal_generalization import finetune_generalization_error, finetune_groups

PRETRAINING = {"rho_pt": 0.1, "a_pt": 1.0}
PROTOCOL = "merged"
DEPENDENCE_RATIO = 10.0

# name: (label, c, lam/c, gamma)
REGIMES = {
    "rich_independent": ("rich, independent of PT", 1e-3, 1.0, 0.003),
    "rich_dependent": ("rich, dependent on PT (reuse + refine)", 1e-3, 0.99, 0.0),
    "lazy_dependent": ("lazy, dependent on PT", 1e-3, -0.99, 0.0),
    "lazy_independent": ("lazy, independent of PT", 1e-3, 0.0, 10.0),
}
# name: (label, rho_ft, omega); listed so that task k is the one regime k should win
TASKS = {
    "sparse_new": ("sparse, new features", 0.01, 0.0),
    "sparse_reused": ("sparse subset of PT features", 0.01, 1.0),
    "dense_reused": ("dense on PT features", 0.1, 1.0),
    "dense_new": ("dense, new features", 0.9, 0.0),
}


def regime_kappas(c, lam, gamma, *, protocol=PROTOCOL, a_pt=PRETRAINING["a_pt"]):
    """(kappa_on, kappa_off): the fine-tuning scale on a pretrained feature (beta_PT = a_pt) and on any other."""
    groups = finetune_groups(c=c, lam=lam, gamma=gamma, protocol=protocol, rho_pt=0.5, a_pt=a_pt,
                             rho_ft=0.5, omega=0.5)  # a feasible task containing all four groups
    return groups[0][1], groups[1][1]


def classify(kappa_on, kappa_off, *, a_pt=PRETRAINING["a_pt"]):
    """("rich" | "lazy", "dependent" | "independent") from the two fine-tuning scales (see the module doc)."""
    return ("rich" if kappa_on < a_pt else "lazy",
            "dependent" if kappa_on / kappa_off > DEPENDENCE_RATIO else "independent")


def regime_map(alphas, *, regimes=REGIMES, tasks=TASKS, protocol=PROTOCOL, pretraining=PRETRAINING) -> dict:
    """Fine-tuning error of every regime on every task at every alpha (replica-symmetric, proportional limit).

    Returns a dict of arrays: ``eps`` (regime, task, alpha), per-coordinate ``||beta - beta*||^2 / d``
    with ``E beta*^2 = 1`` (1 is the error of predicting 0); ``winner`` (task, alpha), the index of the
    regime with the smallest error; ``kappa_on``, ``kappa_off``, ``rich``, ``dependent`` (regime);
    and the names. ``regimes`` maps name -> (label, c, lam/c, gamma); ``tasks`` name -> (label, rho_ft, omega).
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    eps = np.empty((len(regimes), len(tasks), alphas.size))
    kon, koff, rich, dep = [], [], [], []
    for i, (_, c, ratio, gamma) in enumerate(regimes.values()):
        k1, k0 = regime_kappas(c, ratio * c, gamma, protocol=protocol, a_pt=pretraining["a_pt"])
        r, dd = classify(k1, k0, a_pt=pretraining["a_pt"])
        kon.append(k1), koff.append(k0), rich.append(r == "rich"), dep.append(dd == "dependent")
        for j, (_, rho_ft, omega) in enumerate(tasks.values()):
            for k, a in enumerate(alphas):
                eps[i, j, k] = finetune_generalization_error(c=c, lam=ratio * c, gamma=gamma, protocol=protocol,
                                                             rho_ft=rho_ft, omega=omega, alpha=a, **pretraining)
    return {"alphas": alphas, "eps": eps, "winner": np.argmin(eps, axis=0), "regimes": list(regimes),
            "tasks": list(tasks), "kappa_on": np.array(kon), "kappa_off": np.array(koff),
            "rich": np.array(rich), "dependent": np.array(dep), "protocol": protocol}


def lam_sweep(ratios, *, task, alpha, c=1e-3, gamma=0.0, protocols=("merged", "readout_reset"),
              pretraining=PRETRAINING) -> dict:
    """Error against the relative scale lam/c (lazyrich sign: > 0 is a smaller first layer) for one task.

    ``task`` is (rho_ft, omega). Returns ``ratios`` and ``eps`` (protocol, ratio). The readout reset
    needs gamma = 0 (a nonzero centre otherwise) and |lam| < c (a zero first layer never moves).
    """
    ratios = np.asarray(ratios, dtype=float)
    rho_ft, omega = task
    eps = np.array([[finetune_generalization_error(c=c, lam=r * c, gamma=gamma, protocol=p, rho_ft=rho_ft,
                                                   omega=omega, alpha=alpha, **pretraining) for r in ratios]
                    for p in protocols])
    return {"ratios": ratios, "eps": eps, "protocols": list(protocols), "c": c, "gamma": gamma,
            "rho_ft": rho_ft, "omega": omega, "alpha": alpha}


__all__ = ["DEPENDENCE_RATIO", "PRETRAINING", "REGIMES", "TASKS", "classify", "lam_sweep", "regime_kappas",
           "regime_map"]
