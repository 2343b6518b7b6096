"""lazyrich report (``lazyrich report``): results, model sections and the verification table
written as ``index.html`` (self-contained), ``report.md`` and ``report.tex`` with ``fig-*.png``.

Each model adds its section with :func:`section`; see ``_sections``.
"""

from ._build import build as build
from ._sections import (
    Code as Code,
    Context as Context,
    Document as Document,
    Figure as Figure,
    Formula as Formula,
    Heading as Heading,
    Items as Items,
    Paragraph as Paragraph,
    Section as Section,
    SectionContent as SectionContent,
    Table as Table,
    section as section,
    sections as sections,
)
from . import _lambda_balanced  # noqa: F401,E402  (registers the lambda_balanced section)
from . import (  # noqa: F401,E402  (register their sections)
    _diagonal,
    _diagonal_regimes,
    _lambda_balanced_matrix,
    _lazy_features,
    _learning_curve,
    _linear_teacher,
    _lowrank_finetune,
    _mean_field,
    _two_stage,
)

__all__ = ["Code", "Context", "Document", "Figure", "Formula", "Heading", "Items", "Paragraph", "Section",
           "SectionContent", "Table", "build", "section", "sections"]
