"""Report content shared by the three writers, and the registry of model sections.

A section is a function ``(ctx: Context) -> SectionContent`` registered with
:func:`section`; each solvable model adds its own (``_lambda_balanced.py`` is
the first)::

    from proofs.report import Paragraph, SectionContent, section

    @section("mymodel", order=20)
    def mymodel(ctx):
        return SectionContent("My model", [Paragraph("...")])

A :class:`SectionContent` is a title and a list of blocks (:class:`Heading`,
:class:`Paragraph`, :class:`Formula`, :class:`Items`, :class:`Code`,
:class:`Figure`, :class:`Table`); the HTML, Markdown and LaTeX writers each
render every block kind, so a section never formats anything itself. Text is
plain Unicode; the writers escape it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# -- blocks ------------------------------------------------------------------------
@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section (``anchor`` becomes an HTML id / LaTeX label)."""

    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Formula:
    """Display math: ``latex`` is the body (e.g. an ``aligned`` block); ``mathml`` holds one
    presentation-MathML string per equation (without ``<math>``), empty when conversion failed;
    ``source`` is the LaTeX shown beside the MathML (defaults to ``latex``)."""

    latex: str
    mathml: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Items:
    """A bulleted list, optionally introduced by ``label``."""

    items: tuple[str, ...]
    label: str = ""


@dataclass(frozen=True)
class Code:
    """Verbatim text (BibTeX, say), shown collapsed under ``label`` in HTML."""

    text: str
    label: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG figure; ``name`` is the file stem (``fig-...``), ``data`` the plotted numbers."""

    name: str
    png: bytes = field(repr=False)
    caption: str
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if not self.name.startswith("fig-") or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ValueError(f"figure name {self.name!r} must look like 'fig-some-name'")

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


@dataclass(frozen=True)
class Table:
    """A table of strings; ``widths`` are optional LaTeX column specs (``l``, ``p{4cm}``, ...)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    widths: tuple[str, ...] = ()


Block = Heading | Paragraph | Formula | Items | Code | Figure | Table


@dataclass
class SectionContent:
    """What a section contributes: a title and blocks (``key`` is filled in by the builder)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    key: str = ""

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


@dataclass
class Document:
    """The whole report: title, metadata lines, sections in order."""

    title: str
    meta: tuple[str, ...]
    sections: list[SectionContent]

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]


# -- context -----------------------------------------------------------------------
@dataclass
class Context:
    """What a section may use: the output directory, the claim pattern, and ``data``,
    a dict in which sections leave the numbers they computed (keyed ``"<section>.<what>"``)."""

    out_dir: Path
    pattern: str | None = None
    progress: bool = False
    data: dict[str, Any] = field(default_factory=dict)


# -- registry ----------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """A registered section: its key, its order in the report, and its builder."""

    key: str
    order: float
    build: Callable[[Context], SectionContent]


_SECTIONS: dict[str, Section] = {}


def section(key: str, *, order: float = 100):
    """Decorator registering ``fn(ctx) -> SectionContent`` as the report section ``key``.

    Sections appear after the results and before the verification table, by
    increasing ``order`` (then key). Registering another function under a taken
    key raises ``ValueError``; re-registering the same function (a module reload) replaces it.
    """

    def deco(fn: Callable[[Context], SectionContent]) -> Callable[[Context], SectionContent]:
        old = _SECTIONS.get(key)
        if old is not None and (old.build.__module__, old.build.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"a report section named {key!r} is already registered ({old.build.__qualname__})")
        _SECTIONS[key] = Section(key, float(order), fn)
        return fn

    return deco


def sections() -> list[Section]:
    """The registered sections in report order."""
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
