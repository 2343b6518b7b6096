"""BibTeX entries for the sources lazyrich's results rest on.

Only bibliographic facts are recorded here; which statement a result takes from
which source (and theorem numbers, only where the research notes verified them)
is in each result's ``source`` field.
"""

from __future__ import annotations

ENTRIES: dict[str, str] = {
    "domine2025lazy": """@inproceedings{domine2025lazy,
  title     = {From Lazy to Rich: Exact Learning Dynamics in Deep Linear Networks},
  author    = {Domin{\\'e}, Cl{\\'e}mentine C. J. and Anguita, Nicolas and Proca, Alexandra M. and Braun, Lukas and Kunin, Daniel and Mediano, Pedro A. M. and Saxe, Andrew M.},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year      = {2025},
  eprint    = {2409.14623},
  archivePrefix = {arXiv}
}""",
    "anguita2024thesis": """@mastersthesis{anguita2024thesis,
  title  = {Learning Dynamics of Linear Neural Networks},
  author = {Anguita, Nicolas},
  school = {Imperial College London},
  year   = {2024},
  note   = {MEng thesis, supervised by P. A. M. Mediano with C. C. J. Domin{\\'e}}
}""",
    "saxe2014exact": """@inproceedings{saxe2014exact,
  title     = {Exact solutions to the nonlinear dynamics of learning in deep linear neural networks},
  author    = {Saxe, Andrew M. and McClelland, James L. and Ganguli, Surya},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year      = {2014},
  eprint    = {1312.6120},
  archivePrefix = {arXiv}
}""",
    "braun2022exact": """@inproceedings{braun2022exact,
  title     = {Exact learning dynamics of deep linear networks with prior knowledge},
  author    = {Braun, Lukas and Domin{\\'e}, Cl{\\'e}mentine C. J. and Fitzgerald, James E. and Saxe, Andrew M.},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2022}
}""",
    "kunin2024getrichquick": """@inproceedings{kunin2024getrichquick,
  title     = {Get rich quick: exact solutions reveal how unbalanced initializations promote rapid feature learning},
  author    = {Kunin, Daniel and Ravent{\\'o}s, Allan and Domin{\\'e}, Cl{\\'e}mentine C. J. and Chen, Feng and Klindt, David and Saxe, Andrew M. and Ganguli, Surya},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2024},
  eprint    = {2406.06158},
  archivePrefix = {arXiv}
}""",
    "shachaf2021theoretical": """@inproceedings{shachaf2021theoretical,
  title     = {A Theoretical Analysis of Fine-tuning with Linear Teachers},
  author    = {Shachaf, Gal and Brutzkus, Alon and Globerson, Amir},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2021},
  eprint    = {2107.01641},
  archivePrefix = {arXiv}
}""",
    "lauditi2026transfer": """@inproceedings{lauditi2026transfer,
  title     = {Transfer Learning in Infinite Width Feature Learning Networks},
  author    = {Lauditi, Clarissa and Bordelon, Blake and Pehlevan, Cengiz},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year      = {2026},
  eprint    = {2507.04448},
  archivePrefix = {arXiv}
}""",
    "lauditi2025adaptive": """@inproceedings{lauditi2025adaptive,
  title     = {Adaptive Kernel Predictors from Feature-Learning Infinite Limits of Neural Networks},
  author    = {Lauditi, Clarissa and Bordelon, Blake and Pehlevan, Cengiz},
  booktitle = {International Conference on Machine Learning (ICML)},
  year      = {2025},
  eprint    = {2502.07998},
  archivePrefix = {arXiv}
}""",
    "bordelon2020spectrum": """@inproceedings{bordelon2020spectrum,
  title     = {Spectrum Dependent Learning Curves in Kernel Regression and Wide Neural Networks},
  author    = {Bordelon, Blake and Canatar, Abdulkadir and Pehlevan, Cengiz},
  booktitle = {International Conference on Machine Learning (ICML)},
  year      = {2020},
  eprint    = {2002.02561},
  archivePrefix = {arXiv}
}""",
    "canatar2021spectral": """@article{canatar2021spectral,
  title   = {Spectral bias and task-model alignment explain generalization in kernel regression and infinitely wide neural networks},
  author  = {Canatar, Abdulkadir and Bordelon, Blake and Pehlevan, Cengiz},
  journal = {Nature Communications},
  year    = {2021},
  eprint  = {2006.13198},
  archivePrefix = {arXiv}
}""",
    "atanasov2022silent": """@inproceedings{atanasov2022silent,
  title     = {Neural Networks as Kernel Learners: The Silent Alignment Effect},
  author    = {Atanasov, Alexander and Bordelon, Blake and Pehlevan, Cengiz},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year      = {2022},
  eprint    = {2111.00034},
  archivePrefix = {arXiv}
}""",
    "bordelon2022selfconsistent": """@inproceedings{bordelon2022selfconsistent,
  title     = {Self-Consistent Dynamical Field Theory of Kernel Evolution in Wide Neural Networks},
  author    = {Bordelon, Blake and Pehlevan, Cengiz},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2022},
  eprint    = {2205.09653},
  archivePrefix = {arXiv}
}""",
    "dayi2025thesis": """@thesis{dayi2025thesis,
  title  = {Learning in Neural Networks: Lazy training, Feature Learning, and Fine-Tuning},
  author = {Dayi, Arif Kerem},
  school = {Harvard University, School of Engineering and Applied Sciences},
  type   = {Bachelor's thesis},
  year   = {2025}
}""",
    "dayi2025lowrank": """@inproceedings{dayi2025lowrank,
  title     = {Low-rank fine-tuning lies between lazy training and feature learning},
  author    = {Dayi, Arif Kerem and Chen, Sitan},
  booktitle = {Conference on Learning Theory (COLT)},
  year      = {2025},
  eprint    = {2411.15385},
  archivePrefix = {arXiv}
}""",
    "benarous2021online": """@article{benarous2021online,
  title   = {Online stochastic gradient descent on non-convex losses from high-dimensional inference},
  author  = {Ben Arous, G{\\'e}rard and Gheissari, Reza and Jagannath, Aukosh},
  journal = {Journal of Machine Learning Research},
  year    = {2021},
  eprint  = {2003.10409},
  archivePrefix = {arXiv}
}""",
    "cho2009kernel": """@inproceedings{cho2009kernel,
  title     = {Kernel Methods for Deep Learning},
  author    = {Cho, Youngmin and Saul, Lawrence K.},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2009}
}""",
    "jacot2018ntk": """@inproceedings{jacot2018ntk,
  title     = {Neural Tangent Kernel: Convergence and Generalization in Neural Networks},
  author    = {Jacot, Arthur and Gabriel, Franck and Hongler, Cl{\\'e}ment},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2018},
  eprint    = {1806.07572},
  archivePrefix = {arXiv}
}""",
    "chizat2019lazy": """@inproceedings{chizat2019lazy,
  title     = {On Lazy Training in Differentiable Programming},
  author    = {Chizat, L{\\'e}na{\\"i}c and Oyallon, Edouard and Bach, Francis},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2019},
  eprint    = {1812.07956},
  archivePrefix = {arXiv}
}""",
    "mei2018meanfield": """@article{mei2018meanfield,
  title   = {A mean field view of the landscape of two-layer neural networks},
  author  = {Mei, Song and Montanari, Andrea and Nguyen, Phan-Minh},
  journal = {Proceedings of the National Academy of Sciences},
  year    = {2018},
  eprint  = {1804.06561},
  archivePrefix = {arXiv}
}""",
    "abbe2022merged": """@inproceedings{abbe2022merged,
  title     = {The merged-staircase property: a necessary and nearly sufficient condition for {SGD} learning of sparse functions on two-layer neural networks},
  author    = {Abbe, Emmanuel and Boix-Adser{\\`a}, Enric and Misiakiewicz, Theodor},
  booktitle = {Conference on Learning Theory (COLT)},
  year      = {2022},
  eprint    = {2202.08658},
  archivePrefix = {arXiv}
}""",
    "anguita2026pretraining": """@misc{anguita2026pretraining,
  title  = {A Theory of How Pretraining Shapes Inductive Bias in Fine-Tuning},
  author = {Anguita, Nicol{\\'a}s and Locatello, Francesco and Saxe, Andrew M. and Mondelli, Marco and Mancini, Flavia and Lippl, Samuel and Domin{\\'e}, Cl{\\'e}mentine C. J.},
  year   = {2026},
  eprint = {2602.20062},
  archivePrefix = {arXiv}
}""",
    "lippl2024inductive": """@inproceedings{lippl2024inductive,
  title     = {Inductive biases of multi-task learning and finetuning: multiple regimes of feature reuse},
  author    = {Lippl, Samuel and Lindsey, Jack W.},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2024},
  eprint    = {2310.02396},
  archivePrefix = {arXiv}
}""",
    "woodworth2020kernel": """@inproceedings{woodworth2020kernel,
  title     = {Kernel and Rich Regimes in Overparametrized Models},
  author    = {Woodworth, Blake and Gunasekar, Suriya and Lee, Jason D. and Moroshko, Edward and Savarese, Pedro and Golan, Itay and Soudry, Daniel and Srebro, Nathan},
  booktitle = {Conference on Learning Theory (COLT)},
  year      = {2020},
  eprint    = {2002.09277},
  archivePrefix = {arXiv}
}""",
    "azulay2021implicit": """@inproceedings{azulay2021implicit,
  title     = {On the Implicit Bias of Initialization Shape: Beyond Infinitesimal Mirror Descent},
  author    = {Azulay, Shahar and Moroshko, Edward and Nacson, Mor Shpigel and Woodworth, Blake and Srebro, Nathan and Globerson, Amir and Soudry, Daniel},
  booktitle = {International Conference on Machine Learning (ICML)},
  year      = {2021},
  eprint    = {2102.09769},
  archivePrefix = {arXiv}
}""",
}


def bibtex(key: str) -> str:
    """The BibTeX entry for ``key``; ``KeyError`` naming the known keys otherwise."""
    try:
        return ENTRIES[key]
    except KeyError:
        raise KeyError(f"unknown reference {key!r}; known: {', '.join(sorted(ENTRIES))}") from None
