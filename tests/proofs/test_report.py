"""The report builder (``proofs.report.build``): documents, self-containment, section data, writers.

The report is built once per module. Its verification step is restricted to a
pattern that matches no claim, so this file's run time does not grow with the
claims; the verification table is tested on synthetic outcomes instead.
"""

import re

import numpy as np
import pytest
import sympy as sp

import derive
import proofs
import proofs.report as report
from proofs.report import _build, _html, _latex, _markdown
from proofs.report._lambda_balanced import A0, FAMILY_LAMS, S, family_data

NO_CLAIM = "report-test: matches no claim"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    index = report.build(out, progress=True, pattern=NO_CLAIM, only="lambda_balanced")
    return out, index


def read(out, name):
    return (out / name).read_text(encoding="utf-8")


def test_writes_the_three_documents_and_figures(built):
    out, index = built
    assert index == out / "index.html"
    for name in ("index.html", "report.md", "report.tex"):
        assert (out / name).is_file(), name
    pngs = sorted(out.glob("fig-*.png"))
    assert len(pngs) >= 2
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_html_is_self_contained(built):
    out, _ = built
    html = read(out, "index.html")
    assert "<math" in html and '<math display="block">' in html
    assert "data:image/png;base64," in html
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.I)
    assert external == []
    assert "<link" not in html and "<script" not in html
    for name in derive.names():
        assert name in html, name
    assert "<details>" in html and r"\begin{aligned}" in html  # LaTeX source beside the MathML


def test_latex_and_markdown(built):
    out, _ = built
    tex, md = read(out, "report.tex"), read(out, "report.md")
    assert r"\documentclass" in tex and r"\begin{document}" in tex and tex.rstrip().endswith(r"\end{document}")
    assert "$$" in md
    for png in out.glob("fig-*.png"):
        assert rf"\includegraphics[width=0.85\linewidth]{{{png.name}}}" in tex
        assert f"]({png.name})" in md
    assert "λ" not in tex  # Unicode Greek becomes \lambda for pdflatex
    assert "0/0 claims verified" in md and "no claim matches" in md


def test_sections_built_without_errors(built):
    out, _ = built
    md = read(out, "report.md")
    assert "This section failed" not in md and "is skipped" not in md
    assert re.search(r"largest relative deviation .* is \d\.\d\de-\d\d", md)


def test_family_uses_the_stated_parameters():
    d = family_data(simulate=False, n_t=11)
    assert d["theory"].shape == (len(FAMILY_LAMS), 11)
    assert d["t"][0] == 0.0
    np.testing.assert_allclose(d["theory"][:, 0], A0, rtol=1e-14)
    np.testing.assert_allclose(d["theory"][:, -1], S, rtol=1e-3)  # learned by t = 8


def test_family_simulation_matches_theory():
    d = family_data(n_markers=5)
    np.testing.assert_allclose(d["simulated"][:, 0], A0, rtol=1e-14)
    assert d["max_rel_dev"] < 1e-6


def _outcome(name, passed, measured=None, bound=None, error=""):
    claim = proofs.Claim(name, f"statement of {name} with a_b | x < y", "high-precision", ("r",),
                         lambda: None)
    return proofs.Outcome(claim, proofs.Evidence(passed, measured, bound, "detail"), 0.1, error)


def test_verification_table_in_every_format():
    outcomes = [_outcome("c.ok", True, 1e-20, 1e-15), _outcome("c.bad", False, error="boom")]
    sec = _build.verification_section(outcomes)
    doc = report.Document("t", ("m",), [sec])
    html, md, tex = _html.render(doc), _markdown.render(doc), _latex.render(doc)
    for text in (html, md, tex):
        assert "1/2 claims verified" in text
    assert '<td class="fail">FAIL</td>' in html and "1.00e-20" in html and "boom" in html
    assert "| PASS | c.ok |" in md and r"a\_b \| x \< y" in md
    assert r"\begin{tabular}" in tex and r"a\_b \textbar{} x \textless{} y" in tex


def test_mathml_failure_falls_back_to_latex(monkeypatch):
    def broken(expr):
        raise RuntimeError("no MathML today")

    monkeypatch.setattr(_build, "to_mathml", broken)
    result = derive.get(derive.names()[0])
    blocks = _build.result_blocks(result)
    formula = next(b for b in blocks if isinstance(b, report.Formula))
    assert formula.mathml == ()
    html = _html.render(report.Document("t", (), [report.SectionContent("s", blocks, key="s")]))
    assert "<math" not in html and "&amp;=" in html  # the aligned LaTeX, escaped, in a <pre>


def test_display_names_for_mathml():
    assert _build.plain_name(r"\lambda") == "lambda"
    assert _build.plain_name(r"\mathcal{L}^{*}") == "ℒ^*"
    assert _build.plain_name(r"t_{a_0 \to a_f}") == "t_a0→af"
    x = sp.Symbol("x")
    mml = _build.to_mathml(sp.Piecewise((x, x > 0), (sp.Function("N")(x), True)))
    assert "<mtable" in mml and "piecewise" not in mml and "<mi>N</mi>" in mml and "otherwise" in mml


def test_latex_escape():
    assert _latex.escape("a_b & 50% λ ≤ 1, é") == r"a\_b \& 50\% \ensuremath{\lambda} \ensuremath{\le} 1, \'{e}"


def test_section_registry():
    keys = [s.key for s in report.sections()]
    assert "lambda_balanced" in keys
    with pytest.raises(ValueError, match="already registered"):
        @report.section("lambda_balanced")
        def other(ctx):  # pragma: no cover - never called
            return report.SectionContent("x")


def test_only_selects_sections_by_glob():
    assert [s.key for s in _build.selected_sections("lambda_balanced")] == ["lambda_balanced"]
    assert "lambda_balanced_matrix" in [s.key for s in _build.selected_sections("lambda_bal*")]
    with pytest.raises(ValueError, match=r"^only: no report section matches 'nope\*'"):
        _build.selected_sections("nope*")


def test_only_verifies_the_claims_about_the_results_its_sections_evaluate(monkeypatch, tmp_path):
    """``--only`` without a claim pattern checks exactly the claims whose results the chosen
    sections evaluated (here one probe section evaluating saxe.depth_chain), not all of them."""
    from types import SimpleNamespace

    from proofs.report import _sections

    def probe(ctx):
        derive.get("saxe.depth_chain").evaluate(N=2, s=1.0, u0=0.1, t=1.0)
        return report.SectionContent("probe")

    # registered for this test only (monkeypatch removes it again)
    monkeypatch.setitem(_sections._SECTIONS, "test_only_probe", _sections.Section("test_only_probe", 1e9, probe))
    checked = []

    def fake_check(c):
        checked.append(c.name)
        return SimpleNamespace(passed=True, claim=c, error=None,
                               evidence=SimpleNamespace(measured=None, bound=None, detail=""))

    monkeypatch.setattr(proofs, "check", fake_check)
    doc = _build.document(report.Context(tmp_path), only="test_only_probe")
    monkeypatch.undo()
    assert "test_only_probe" not in [s.key for s in report.sections()]
    expected = [c.name for c in proofs.claims() if "saxe.depth_chain" in c.results]
    assert checked == expected and expected
    assert not any(n.startswith("lambda_balanced.") for n in checked)
    text = _markdown.render(doc)
    assert f"{len(expected)}/{len(expected)} claims verified (claims about the results evaluated by the " \
           "sections matching" in text
