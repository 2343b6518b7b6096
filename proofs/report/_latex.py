r"""LaTeX writer: a standalone ``article`` (amsmath, graphicx) compilable with pdflatex.

Figures are included by file name (``fig-*.png`` beside ``report.tex``), formulas
are ``equation*`` blocks, tables are ``tabular``\ s (split every ``ROWS`` rows so a
long one does not run off the page). Text is escaped, and Unicode that pdflatex
cannot typeset (Greek, math signs) becomes the matching LaTeX command.
"""

from __future__ import annotations

import re
import unicodedata

from ._sections import Code, Document, Figure, Formula, Heading, Items, Paragraph, SectionContent, Table

ROWS = 12

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "|": r"\textbar{}",
    "<": r"\textless{}", ">": r"\textgreater{}",
}
_MATH = {
    "−": "-", "–": "--", "—": "---", "…": r"\ldots{}", "·": r"\ensuremath{\cdot}", "×": r"\ensuremath{\times}",
    "→": r"\ensuremath{\to}", "←": r"\ensuremath{\leftarrow}", "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}",
    "≠": r"\ensuremath{\neq}", "≈": r"\ensuremath{\approx}", "±": r"\ensuremath{\pm}", "∈": r"\ensuremath{\in}",
    "∞": r"\ensuremath{\infty}", "√": r"\ensuremath{\surd}", "²": r"\ensuremath{^{2}}", "³": r"\ensuremath{^{3}}",
    "ᵀ": r"\ensuremath{^{T}}", "ℒ": r"\ensuremath{\mathcal{L}}", "∑": r"\ensuremath{\sum}",
    "‖": r"\ensuremath{\|}", "°": r"\ensuremath{^\circ}", "’": "'", "‘": "`", "“": "``", "”": "''",
}
_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~", "\u0327": "c ",
            "\u030c": "v ", "\u0304": "="}
_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}


def _greek(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    m = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", name)
    if not m:
        return None
    letter = m[2].lower().replace("lamda", "lambda")
    if m[1] == "CAPITAL":
        letter = letter.capitalize()
        return rf"\ensuremath{{\{letter}}}" if letter in _GREEK_CAPITALS else _ascii_capital(ch)
    return "o" if letter == "omicron" else rf"\ensuremath{{\{letter}}}"


def _ascii_capital(ch: str) -> str:
    # Greek capitals that look like Latin ones (Alpha -> A, ...)
    return {"Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
            "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X"}.get(ch, "?")


def _char(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ord(ch) < 128:
        return ch
    if ch in _MATH:
        return _MATH[ch]
    greek = _greek(ch)
    if greek is not None:
        return greek
    base, *marks = unicodedata.normalize("NFD", ch)
    if ord(base) < 128 and marks and all(m in _ACCENTS for m in marks):
        out = _char(base)
        for m in marks:
            out = rf"\{_ACCENTS[m]}{{{out}}}"
        return out
    return "?"


def escape(text: str) -> str:
    """Escape LaTeX's special characters and turn non-ASCII into LaTeX commands."""
    return "".join(_char(c) for c in text)


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.:-]", "-", text)


def _table(b: Table) -> str:
    spec = "".join(b.widths) if len(b.widths) == len(b.header) else "l" * len(b.header)
    head = " & ".join(rf"\textbf{{{escape(h)}}}" for h in b.header) + r" \\ \hline"
    chunks = []
    for start in range(0, max(len(b.rows), 1), ROWS):
        rows = [" & ".join(escape(c) for c in row) + r" \\" for row in b.rows[start:start + ROWS]]
        chunks.append("\n".join([r"\begin{center}\small", rf"\begin{{tabular}}{{{spec}}}", r"\hline", head,
                                 *rows, r"\hline", r"\end{tabular}", r"\end{center}"]))
    if b.caption:
        chunks.append(rf"\noindent\emph{{{escape(b.caption)}}}")
    return "\n".join(chunks)


def _block(b) -> str:
    if isinstance(b, Heading):
        label = rf"\label{{{_label(b.anchor)}}}" if b.anchor else ""
        return rf"\subsection{{{escape(b.text)}}}{label}"
    if isinstance(b, Paragraph):
        return escape(b.text)
    if isinstance(b, Formula):
        return "\\begin{equation*}\n" + b.latex + "\n\\end{equation*}"
    if isinstance(b, Items):
        label = rf"\noindent\textbf{{{escape(b.label)}}}" + "\n" if b.label else ""
        items = "\n".join(rf"  \item {escape(i)}" for i in b.items)
        return f"{label}\\begin{{itemize}}\n{items}\n\\end{{itemize}}"
    if isinstance(b, Code):
        text = b.text.replace(r"\end{verbatim}", r"\end {verbatim}")
        label = rf"\noindent\textbf{{{escape(b.label)}}}" + "\n" if b.label else ""
        return f"{label}{{\\small\n\\begin{{verbatim}}\n{text}\n\\end{{verbatim}}\n}}"
    if isinstance(b, Figure):
        return "\n".join([r"\begin{figure}[htbp]", r"\centering",
                          rf"\includegraphics[width=0.85\linewidth]{{{b.filename}}}",
                          rf"\caption{{{escape(b.caption)}}}", rf"\label{{{_label(b.name)}}}", r"\end{figure}"])
    if isinstance(b, Table):
        return _table(b)
    raise TypeError(f"no LaTeX for block {type(b).__name__}")


def _section(s: SectionContent) -> str:
    head = rf"\section{{{escape(s.title)}}}\label{{sec:{_label(s.key)}}}"
    return "\n\n".join([head, *(_block(b) for b in s.blocks)])


PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[margin=2.2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
"""


def render(doc: Document) -> str:
    """The report as a standalone LaTeX article."""
    date = r" \\ ".join(escape(m) for m in doc.meta)
    body = "\n\n".join(_section(s) for s in doc.sections)
    return (PREAMBLE + rf"\title{{{escape(doc.title)}}}" + "\n" + r"\author{}" + "\n" + rf"\date{{{date}}}" + "\n"
            + "\\begin{document}\n\\maketitle\n\n" + body + "\n\n\\end{document}\n")
