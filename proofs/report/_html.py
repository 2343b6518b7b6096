"""HTML writer: one self-contained, offline page.

No external CSS, scripts or fonts: the style is inline, figures are base64 PNG
data URIs, formulas are presentation MathML (``<math display="block">``) with
their LaTeX source in a ``<details>`` element beside them.
"""

from __future__ import annotations

import base64
import re
from html import escape

from ._sections import Code, Document, Figure, Formula, Heading, Items, Paragraph, SectionContent, Table

CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1b1b1b; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ccc; margin-top: 2.5rem; }
.meta { color: #555; }
.formula { margin: 1rem 0; padding: 0.5rem 1rem; background: #f7f7f9; border-radius: 4px; overflow-x: auto; }
pre { background: #f3f3f3; padding: 0.5rem; overflow-x: auto; font-size: 0.85rem; white-space: pre-wrap; }
figure { margin: 1.5rem 0; text-align: center; } figure img { max-width: 100%; }
figcaption { text-align: left; font-size: 0.9rem; color: #333; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
td.pass { color: #0a6b0a; font-weight: bold; } td.fail { color: #b00020; font-weight: bold; }
summary { cursor: pointer; color: #444; font-size: 0.85rem; }
"""


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)


def _formula(b: Formula) -> str:
    source = escape(b.source or b.latex)
    if not b.mathml:
        return f'<div class="formula"><pre class="latex">{source}</pre></div>'
    maths = "\n".join(f'<math display="block">{m}</math>' for m in b.mathml)
    return (f'<div class="formula">\n{maths}\n'
            f"<details><summary>LaTeX source</summary><pre>{source}</pre></details>\n</div>")


def _table(b: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in b.header)
    rows = []
    for row in b.rows:
        cells = "".join(f'<td class="{c.lower()}">{c}</td>' if c in ("PASS", "FAIL") else f"<td>{escape(c)}</td>"
                        for c in row)
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{escape(b.caption)}</caption>" if b.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"


def _block(b, numbers: dict[str, int]) -> str:
    if isinstance(b, Heading):
        attr = f' id="{_id(b.anchor)}"' if b.anchor else ""
        return f"<h3{attr}>{escape(b.text)}</h3>"
    if isinstance(b, Paragraph):
        return f"<p>{escape(b.text)}</p>"
    if isinstance(b, Formula):
        return _formula(b)
    if isinstance(b, Items):
        label = f"<p><strong>{escape(b.label)}</strong></p>" if b.label else ""
        return label + "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Code):
        return f"<details><summary>{escape(b.label or 'code')}</summary><pre>{escape(b.text)}</pre></details>"
    if isinstance(b, Figure):
        data = base64.b64encode(b.png).decode("ascii")
        return (f'<figure id="{_id(b.name)}"><img alt="{escape(b.name)}" src="data:image/png;base64,{data}">'
                f"<figcaption><strong>Figure {numbers[b.name]}.</strong> {escape(b.caption)}</figcaption></figure>")
    if isinstance(b, Table):
        return _table(b)
    raise TypeError(f"no HTML for block {type(b).__name__}")


def _section(s: SectionContent, numbers: dict[str, int]) -> str:
    body = "\n".join(_block(b, numbers) for b in s.blocks)
    return f'<section id="{_id(s.key)}">\n<h2>{escape(s.title)}</h2>\n{body}\n</section>'


def render(doc: Document) -> str:
    """The report as one HTML5 page."""
    numbers = {f.name: k + 1 for k, f in enumerate(doc.figures)}
    toc = "".join(f'<li><a href="#{_id(s.key)}">{escape(s.title)}</a></li>' for s in doc.sections)
    meta = " · ".join(escape(m) for m in doc.meta)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{escape(doc.title)}</h1>", f'<p class="meta">{meta}</p>', f"<nav><ul>{toc}</ul></nav>",
        *(_section(s, numbers) for s in doc.sections),
        "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"
