"""Markdown writer: formulas as ``$$ ... $$`` LaTeX blocks, figures linked as PNG files
(``fig-*.png`` beside ``report.md``), tables as pipe tables."""

from __future__ import annotations

import re

from ._sections import Code, Document, Figure, Formula, Heading, Items, Paragraph, SectionContent, Table


def escape(text: str) -> str:
    """Escape Markdown's inline markup characters."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)


def _cell(text: str) -> str:
    return escape(text).replace("\n", " ")


def _table(b: Table) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in b.header) + " |",
             "|" + "|".join("---" for _ in b.header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
    if b.caption:
        lines += ["", f"*{escape(b.caption)}*"]
    return "\n".join(lines)


def _block(b, numbers: dict[str, int]) -> str:
    if isinstance(b, Heading):
        return f"### {escape(b.text)}"
    if isinstance(b, Paragraph):
        return escape(b.text)
    if isinstance(b, Formula):
        return f"$$\n{b.latex}\n$$"
    if isinstance(b, Items):
        items = "\n".join(f"- {escape(i)}" for i in b.items)
        return f"**{escape(b.label)}**\n\n{items}" if b.label else items
    if isinstance(b, Code):
        fence = "````" if "```" in b.text else "```"
        label = f"**{escape(b.label)}**\n\n" if b.label else ""
        return f"{label}{fence}\n{b.text}\n{fence}"
    if isinstance(b, Figure):
        n = numbers[b.name]
        return f"![Figure {n}]({b.filename})\n\n**Figure {n}.** {escape(b.caption)}"
    if isinstance(b, Table):
        return _table(b)
    raise TypeError(f"no Markdown for block {type(b).__name__}")


def _section(s: SectionContent, numbers: dict[str, int]) -> str:
    return "\n\n".join([f"## {escape(s.title)}", *(_block(b, numbers) for b in s.blocks)])


def render(doc: Document) -> str:
    """The report as one Markdown file."""
    numbers = {f.name: k + 1 for k, f in enumerate(doc.figures)}
    head = f"# {escape(doc.title)}\n\n" + "  \n".join(escape(m) for m in doc.meta)
    return "\n\n".join([head, *(_section(s, numbers) for s in doc.sections)]) + "\n"
