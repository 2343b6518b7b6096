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
}


def bibtex(key: str) -> str:
    """The BibTeX entry for ``key``; ``KeyError`` naming the known keys otherwise."""
    try:
        return ENTRIES[key]
    except KeyError:
        raise KeyError(f"unknown reference {key!r}; known: {', '.join(sorted(ENTRIES))}") from None
