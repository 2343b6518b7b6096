"""Build the report: results, model sections, verification table; write HTML, Markdown, LaTeX.

Order of the document: a section per registered result (formula as MathML and
LaTeX, conditions, source, references), the registered model sections (see
``_sections.section``), then the verification table of ``proofs.run(pattern)``.
``pattern`` selects the claims that are checked; every result is always shown.
"""

from __future__ import annotations

import datetime
import fnmatch
import importlib.metadata
import logging
import re
from collections.abc import Callable
from pathlib import Path

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter
from tqdm import tqdm

import derive

from . import _html, _latex, _markdown
from ._sections import (Code, Context, Document, Formula, Heading, Items, Paragraph, SectionContent, Table,
                        sections)

log = logging.getLogger("proofs.report")

_CALLIGRAPHIC = {"L": "ℒ", "N": "𝒩", "O": "𝒪", "F": "ℱ", "H": "ℋ"}


def version() -> str:
    try:
        return importlib.metadata.version("lazyrich")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


# -- formulas ----------------------------------------------------------------------
def plain_name(tex: str) -> str:
    r"""A SymPy symbol name that the MathML printer shows like the LaTeX name
    (``\lambda`` → ``lambda`` → λ, ``a_0`` → a₀, ``\mathcal{L}^{*}`` → ℒ^*,
    ``t_{a_0 \to a_f}`` → ``t_a0→af``: nested scripts are flattened)."""
    s = re.sub(r"\\mathcal\{(\w)\}", lambda m: _CALLIGRAPHIC.get(m[1], m[1]), tex)
    s = re.sub(r"\\to\b", "→", s)
    s = re.sub(r"([_^])\{([^{}]*)\}", lambda m: m[1] + re.sub(r"[_^\s]", "", m[2]), s)
    return re.sub(r"[\\{}\s]", "", s)


class _MathML(MathMLPresentationPrinter):
    """SymPy's presentation-MathML printer with readable Piecewise (a brace and a table),
    summation indices (``i``, not ``idx(i)``) and undefined functions (``N(a)``, ``t_n(u)``)."""

    def _print_Piecewise(self, e):
        table = self.dom.createElement("mtable")
        table.setAttribute("columnalign", "left left")
        for value, cond in e.args:
            tr = self.dom.createElement("mtr")
            left, right = self.dom.createElement("mtd"), self.dom.createElement("mtd")
            left.appendChild(self._print(value))
            row = self.dom.createElement("mrow")
            text = self.dom.createElement("mtext")
            text.appendChild(self.dom.createTextNode("otherwise" if cond == sp.true else "if&#160;"))
            row.appendChild(text)
            if cond != sp.true:
                row.appendChild(self._print(cond))
            right.appendChild(row)
            tr.appendChild(left)
            tr.appendChild(right)
            table.appendChild(tr)
        brace = self.dom.createElement("mo")
        brace.appendChild(self.dom.createTextNode("{"))
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(brace)
        mrow.appendChild(table)
        return mrow

    def _print_Idx(self, e):
        return self._print(e.label)

    def _print_AppliedUndef(self, e):
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(self._print(sp.Symbol(e.func.__name__)))
        mrow.appendChild(self._paren_comma_separated(*e.args))
        return mrow


def to_mathml(expr) -> str:
    """Presentation MathML of ``expr`` (without the ``<math>`` element)."""
    return _MathML({}).doprint(expr)


def _lhs(tex: str, name: str) -> sp.Basic:
    plain = plain_name(tex) or name
    m = re.fullmatch(r"(\S+?)\((\w+)\)", plain)
    return sp.Function(m[1])(sp.Symbol(m[2])) if m else sp.Symbol(plain)


def _display_map(result) -> dict:
    """Parameter symbols -> plain symbols named after their LaTeX names."""
    out: dict = {}
    for p in result.params:
        shown = plain_name(p.tex) or p.name
        if p.vector:
            out[p.indexed] = sp.IndexedBase(shown)
            out[p.length] = sp.Symbol(f"n_{shown}")
        else:
            out[p.symbol] = sp.Symbol(shown)
    return out


def result_mathml(result) -> tuple[str, ...]:
    """One presentation-MathML string per output and definition; () if any conversion fails."""
    shown = _display_map(result)
    eqs = [(_lhs(o.tex, o.name), o.expr) for o in result.outputs] + list(result.definitions)
    try:
        return tuple(to_mathml(sp.Eq(lhs.xreplace(shown), rhs.xreplace(shown), evaluate=False))
                     for lhs, rhs in eqs)
    except Exception as exc:  # noqa: BLE001  the LaTeX is still shown
        log.warning("MathML conversion failed for %s: %s: %s", result.name, type(exc).__name__, exc)
        return ()


def result_blocks(result) -> list:
    """Heading, formula, conditions, source, references (and BibTeX) of one result."""
    latex = result.latex()
    source = latex + ("\n" + result.latex_conditions() if result.conditions_all() else "")
    blocks: list = [Heading(f"{result.name}: {result.title}", anchor=result.name),
                    Formula(latex, result_mathml(result), source),
                    Items(tuple(result.conditions_all()), label="Conditions")]
    if result.notes:
        blocks.append(Paragraph(result.notes))
    if result.source:
        blocks.append(Paragraph(f"Source: {result.source}"))
    if result.references:
        blocks.append(Paragraph("References: " + ", ".join(result.references)))
        blocks.append(Code(result.citation, label="BibTeX"))
    return blocks


def results_section(names: list[str]) -> SectionContent:
    blocks: list = [Paragraph(f"{len(names)} registered results.")]
    for name in names:
        try:
            blocks += result_blocks(derive.get(name))
        except Exception as exc:  # noqa: BLE001  one unprintable result must not sink the report
            log.exception("result %s could not be rendered", name)
            blocks += [Heading(name, anchor=name), Paragraph(f"Could not render: {type(exc).__name__}: {exc}")]
    return SectionContent("Results", blocks, key="results")


# -- verification ------------------------------------------------------------------
def _num(x) -> str:
    return "" if x is None else f"{x:.2e}"


def verification_section(outcomes: list, pattern: str | None = None, *, scope: str | None = None) -> SectionContent:
    """The verification table (status, claim, statement, method, measured, bound) and its summary;
    ``scope`` says which claims were selected when not all of them (default: those matching ``pattern``)."""
    npass = sum(o.passed for o in outcomes)
    scope = scope or (f"claims matching {pattern!r}" if pattern else None)
    summary = Paragraph(f"{npass}/{len(outcomes)} claims verified" + (f" ({scope})." if scope else "."))
    if not outcomes:
        why = f"no claim matches: {scope}" if scope else "no claims are registered"
        return SectionContent("Verification", [summary, Paragraph(f"The table is empty: {why}.")],
                              key="verification")
    rows = tuple(("PASS" if o.passed else "FAIL", o.claim.name, o.claim.statement, o.claim.method,
                  _num(o.evidence.measured), _num(o.evidence.bound)) for o in outcomes)
    table = Table(("status", "claim", "statement", "method", "measured", "bound"), rows,
                  caption="Claims checked by proofs.run: measured ≤ bound for numerical evidence.",
                  widths=("l", "p{0.2\\linewidth}", "p{0.34\\linewidth}", "p{0.1\\linewidth}", "l", "l"))
    blocks: list = [summary, table]
    failed = [f"{o.claim.name}: {o.error or o.evidence.detail}" for o in outcomes if not o.passed]
    if failed:
        blocks.append(Items(tuple(failed), label="Failures"))
    return SectionContent("Verification", blocks, key="verification")


# -- orchestration -----------------------------------------------------------------
def _model_section(sec, ctx: Context) -> SectionContent:
    try:
        content = sec.build(ctx)
    except Exception as exc:  # noqa: BLE001  one broken section must not sink the report
        log.exception("report section %s failed", sec.key)
        ctx.data.setdefault("errors", []).append(f"{sec.key}: {type(exc).__name__}: {exc}")
        content = SectionContent(sec.key, [Paragraph(f"This section failed: {type(exc).__name__}: {exc}")])
    content.key = content.key or sec.key
    return content


def selected_sections(only: str | None = None):
    """The registered sections whose key matches the glob ``only`` (all when None)."""
    secs = sections()
    if only is None:
        return secs
    chosen = [s for s in secs if fnmatch.fnmatchcase(s.key, only)]
    if not chosen:
        raise ValueError(f"only: no report section matches {only!r} (sections: {', '.join(s.key for s in secs)})")
    return chosen


def document(ctx: Context, *, bar: Callable[[str], None] = lambda _: None, only: str | None = None) -> Document:
    """Compute the whole report (``bar(step)`` is called after each step); ``only`` is a glob
    on section keys that restricts the model sections."""
    import proofs

    from derive._result import recording_use

    chosen = selected_sections(only)
    parts = [results_section(derive.names())]
    bar("results")
    with recording_use() as used:
        for sec in chosen:
            parts.append(_model_section(sec, ctx))
            bar(sec.key)
    progress = (lambda it: tqdm(list(it), desc="verifying", leave=False)) if ctx.progress else None
    if only is not None and ctx.pattern is None:
        # a partial report verifies the claims about the results its sections evaluated
        selected = [c for c in proofs.claims() if used.intersection(c.results)]
        outcomes = [proofs.check(c) for c in (progress(selected) if progress else selected)]
        scope = f"claims about the results evaluated by the sections matching {only!r}"
    else:
        outcomes = proofs.run(ctx.pattern, progress=progress)
        scope = None
    ctx.data["outcomes"] = outcomes
    parts.append(verification_section(outcomes, ctx.pattern, scope=scope))
    bar("verification")
    meta = (f"lazyrich {version()}", f"Generated on {datetime.date.today().isoformat()}")
    doc = Document("lazyrich report", meta, parts)
    names = [f.name for f in doc.figures]
    if len(names) != len(set(names)):
        raise ValueError(f"duplicate figure names in the report: {sorted(names)}")
    return doc


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def build(out_dir: Path, *, progress: bool = True, pattern: str | None = None, only: str | None = None) -> Path:
    """Write ``index.html``, ``report.md``, ``report.tex`` and the ``fig-*.png`` figures into
    ``out_dir`` (created if needed); return the path of ``index.html``.

    ``pattern`` (a glob, as for ``proofs.run``) selects the claims that are verified; every
    registered result is shown whatever it is. ``only`` (a glob on section keys) restricts the
    model sections. ``progress`` shows tqdm bars on stderr.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(out_dir, pattern=pattern, progress=progress)
    steps = 3 + len(selected_sections(only))
    with tqdm(total=steps, desc="report", unit="step", disable=not progress) as pbar:
        def bar(step: str) -> None:
            pbar.set_postfix_str(step)
            pbar.update()

        doc = document(ctx, bar=bar, only=only)
        for fig in doc.figures:
            (out_dir / fig.filename).write_bytes(fig.png)
        _write(out_dir / "index.html", _html.render(doc))
        _write(out_dir / "report.md", _markdown.render(doc))
        _write(out_dir / "report.tex", _latex.render(doc))
        bar("written")
    return out_dir / "index.html"
