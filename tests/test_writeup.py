"""The write-up (经验材料) as Word and PDF: layout per GB/T 9704-2012 read back with python-docx and
poppler, every fact of the casebook present, `*` and qualifiers kept, hostile case text inert, the
CLI's usage errors, and the site's downloads (a real MkDocs build)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from casebook import present
from casebook.book import Casebook
from casebook.cli import main
from casebook.derive import ordered_clusters, ordered_lessons
from casebook.models import Cluster, Lesson, iter_verbatim
from casebook.validate import load_casebook
from casebook.writeup import (
    UNKNOWN_ISSUER,
    Closing,
    FigureTable,
    Heading,
    Note,
    Paragraph,
    Run,
    Title,
    Writeup,
    balanced_lines,
    build_writeup,
    chinese_number,
    clean,
)
from casebook.writeup_docx import REFERENCE, default_reference, render_docx
from casebook.writeup_pdf import pdf_available, print_html, render_pdf

from sitebuild import ROOT, build_project, make_project

CASES = ROOT / "cases"
FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"
COMMITTED = ROOT / "theme_overrides" / REFERENCE


@pytest.fixture(scope="module")
def book() -> Casebook:
    book, errors = load_casebook(CASES)
    assert not errors, errors[:3]
    assert len(book.clusters) >= 5 and len(book.lessons) >= 5  # the guard: a casebook is checked, not nothing
    return book


@pytest.fixture(scope="module")
def whole_docx(book: Casebook) -> bytes:
    return render_docx(build_writeup(book), COMMITTED)


def paragraphs(data: bytes):
    return Document(io.BytesIO(data)).paragraphs


def doc_text(data: bytes) -> str:
    """Every paragraph's and every table cell's text, as python-docx reads them back."""
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def style_fonts(style) -> dict[str, str]:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    return {k: fonts.get(qn(f"w:{k}")) for k in ("ascii", "hAnsi", "eastAsia")}


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("reference", ["committed", "built-in"])
def test_docx_page_grid_and_page_numbers_follow_gbt_9704(book: Casebook, reference: str) -> None:
    data = render_docx(build_writeup(book, [ordered_clusters(book)[0].id]),
                       COMMITTED if reference == "committed" else None)
    doc = Document(io.BytesIO(data))
    (section,) = doc.sections
    assert (section.page_width.twips, section.page_height.twips) == (Mm(210).twips, Mm(297).twips)  # A4
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                   section.right_margin)] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars"
    pitch, space = int(grid.get(qn("w:linePitch"))), int(grid.get(qn("w:charSpace")))
    body_h = section.page_height.twips - section.top_margin.twips - section.bottom_margin.twips
    body_w = section.page_width.twips - section.left_margin.twips - section.right_margin.twips
    assert body_h // pitch == 22  # 22 lines of the grid fill the 225 mm 版心 …
    assert int(body_w / 20 // (16 + space / 4096)) == 28  # … and 28 characters of 16 pt its width
    # Page numbers: different odd and even footers, a PAGE field between one-character dashes.
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        (para,) = [p for p in footer.paragraphs if p.text.strip()]
        assert para.text == "— 1 —"
        assert para.alignment is not None and para.alignment.name == align.upper()
        instr = [t.text for t in para._p.iter(qn("w:instrText"))]
        assert [i.strip() for i in instr] == ["PAGE"]
        assert [f.get(qn("w:fldCharType")) for f in para._p.iter(qn("w:fldChar"))] == ["begin", "separate", "end"]
        assert para.style.font.size == Pt(14)  # 4号


def test_docx_fonts_and_sizes_per_level(whole_docx: bytes) -> None:
    doc = Document(io.BytesIO(whole_docx))
    expect = {"Normal": ("仿宋_GB2312", 16, False), "Title": ("方正小标宋简体", 22, False),
              "Heading 1": ("黑体", 16, False), "Heading 2": ("楷体_GB2312", 16, False),
              "Heading 3": ("仿宋_GB2312", 16, True)}
    for name, (east_asia, size, bold) in expect.items():
        style = doc.styles[name]
        assert style_fonts(style)["eastAsia"] == east_asia, name
        assert style.font.size == Pt(size), name
        assert bool(style.font.bold) is bold, name
        assert style.element.rPr.find(qn("w:rFonts")).get(qn("w:asciiTheme")) is None  # no theme font wins
    assert doc.styles["Title"].paragraph_format.alignment.name == "CENTER"
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        ind = doc.styles[name].element.pPr.find(qn("w:ind"))
        assert ind.get(qn("w:firstLineChars")) == "200", name  # two characters
    # A machine without a 公文 font is told which to use instead (the font table's alternatives).
    table = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    alts = dict(re.findall(rb'<w:font w:name="([^"]+)"><w:altName w:val="([^"]+)"', table.blob))
    assert alts["仿宋_GB2312".encode()] == "仿宋".encode() and "方正小标宋简体".encode() in alts
    # Paragraphs carry styles, not fonts of their own: a reference document restyles them all.
    body = doc.element.body
    assert not list(body.iter(qn("w:rFonts"))) and not list(body.iter(qn("w:sz")))


def test_committed_reference_is_the_built_in_default() -> None:
    """theme_overrides/writeup/reference.docx is what the code builds (regenerate it with
    casebook.writeup_docx.write_reference after changing the layout)."""
    committed = zipfile.ZipFile(COMMITTED)
    out = io.BytesIO()
    default_reference().save(out)
    built = zipfile.ZipFile(out)
    for part in ("word/styles.xml", "word/settings.xml", "word/fontTable.xml", "word/footer1.xml",
                 "word/footer2.xml"):
        assert committed.read(part) == built.read(part), part
    sect = re.compile(rb"<w:sectPr.*</w:sectPr>", re.S)
    assert sect.findall(committed.read("word/document.xml")) == sect.findall(built.read("word/document.xml"))
    assert "docProps/thumbnail.jpeg" not in committed.namelist()


def test_docx_is_reproducible(book: Casebook, whole_docx: bytes) -> None:
    assert render_docx(build_writeup(book), COMMITTED) == whole_docx


# --------------------------------------------------------------------------- content


def test_headings_are_numbered_per_level(whole_docx: bytes) -> None:
    numbers = {"Heading 1": re.compile(r"^([一二三四五六七八九十]+)、\S"),
               "Heading 2": re.compile(r"^（([一二三四五六七八九十]+)）\S"),
               "Heading 3": re.compile(r"^(\d+)\.\S")}
    counters = {name: 0 for name in numbers}
    seen = 0
    for p in paragraphs(whole_docx):
        name = p.style.name
        if name not in numbers:
            continue
        m = numbers[name].match(p.text)
        assert m, (name, p.text)
        counters[name] += 1
        # A level restarts after its parent: 一、（一）1. 2. （二）1. … 二、（一）…
        for deeper in list(numbers)[list(numbers).index(name) + 1:]:
            counters[deeper] = 0
        n = counters[name]
        assert m.group(1) == (str(n) if name == "Heading 3" else chinese_number(n)), p.text
        seen += 1
    assert counters["Heading 1"] == 3 and seen > 30  # alliance, clusters, lessons


def test_every_cluster_lesson_and_quote_is_in_the_document(book: Casebook, whole_docx: bytes) -> None:
    text = doc_text(whole_docx)
    headings = [p.text for p in paragraphs(whole_docx) if p.style.name.startswith("Heading")]
    for c in ordered_clusters(book):
        assert any(h.endswith(f"{present.cluster_title(c)}，{c.theme}") for h in headings), c.id
    for lesson in ordered_lessons(book):
        assert any(h.endswith(lesson.title) for h in headings), lesson.id
    quotes = 0
    models: list = [*book.clusters.values(), *book.lessons.values(), book.alliance]
    for model in models:
        for loc, quote, _ in iter_verbatim(model):
            assert clean(quote) in text, (getattr(model, "id", ""), loc, quote)
            quotes += 1
    assert quotes > 300
    for model in models:  # what the editors wrote is there too, word for word
        for name in ("summary",):
            assert clean(getattr(model, name)) in text


def test_every_figure_keeps_its_star_qualifier_unit_and_scope(book: Casebook, whole_docx: bytes) -> None:
    doc = Document(io.BytesIO(whole_docx))
    rows = [tuple(cell.text for cell in row.cells) for table in doc.tables for row in table.rows[1:]]
    observations = [o for c in ordered_clusters(book) for o in c.observations]
    observations += book.alliance.observations if book.alliance else []
    assert len(rows) == len(observations)  # one row per figure, in every table
    stars = qualified = 0
    for obs in observations:
        figure = present.figure_text(obs)
        assert any(r[1] == figure and (not obs.quote or f"“{clean(obs.quote)}”" in " ".join(r)) for r in rows), figure
        stars += present.disclosure(obs) == "desensitised"
        qualified += bool(obs.qualifier)
    assert stars > 50 and qualified > 10
    assert sum(r[1].count("*") for r in rows) == sum(present.figure_text(o).count("*") for o in observations)
    assert not any(re.fullmatch(r"0\D*", r[1]) for r in rows)  # a '*' never became 0
    assert "近*人" in {r[1] for r in rows} and "*余万元" in {r[1] for r in rows} and "超*万元" in {r[1] for r in rows}


def test_issuing_unit_and_date_close_the_document(book: Casebook, whole_docx: bytes) -> None:
    texts = [p.text for p in paragraphs(whole_docx) if p.text]
    assert texts[-2] == UNKNOWN_ISSUER  # the seed's source gives neither
    assert "*" in texts[-1] and texts[-1].startswith("（")
    doc = Document(io.BytesIO(whole_docx))
    closing = next(p for p in doc.paragraphs if p.text == UNKNOWN_ISSUER)
    assert closing.style.name == "落款" and closing.style.paragraph_format.alignment.name == "RIGHT"
    # With a publisher and date in sources.yaml, they sign it (date in Arabic numerals, GB/T 9704).
    dated = book.sources[next(iter(book.sources))].model_copy(
        update={"publisher": "虚构区委组织部", "date": __import__("datetime").date(2024, 5, 10)})
    other = Casebook(book.root, book.clusters, book.lessons, book.indicators,
                     {**book.sources, dated.id: dated}, book.alliance)
    lines = [b.lines for b in build_writeup(other).blocks if type(b).__name__ == "Closing"]
    assert lines == [("虚构区委组织部", "2024年5月10日")]


def test_selected_clusters_keep_their_lessons_only(book: Casebook) -> None:
    c = ordered_clusters(book)[1]
    writeup = build_writeup(book, [c.id])
    heads = [b for b in writeup.blocks if isinstance(b, Heading)]
    assert heads[0].full == f"一、{present.cluster_title(c)}，{c.theme}"
    assert writeup.title == f"{present.cluster_title(c)}经验材料"
    others = [x for x in ordered_clusters(book) if x.id != c.id]
    text = writeup.text()
    assert not any(f"{present.cluster_title(x)}，{x.theme}" in text for x in others)
    mine = {x.title for x in ordered_lessons(book) if x in _lessons_of(book, c)}
    assert mine and {h.text for h in heads if h.level == 2} >= mine
    assert not any(x.title in {h.text for h in heads} for x in ordered_lessons(book) if x.title not in mine)


def _lessons_of(book: Casebook, c: Cluster) -> list[Lesson]:
    from casebook.derive import derive

    return derive(book).lessons_for(c.id)


def test_fictional_figures_show_in_the_tables() -> None:
    book, errors = load_casebook(FIGURES)
    assert not errors
    writeup = build_writeup(book)
    assert "虚构" in writeup.title
    tables = [b for b in writeup.blocks if isinstance(b, FigureTable)]
    cells = {cell for t in tables for row in t.rows for cell in row}
    assert {"52万元", "1.2亿元", "*万元", "*亿元", "120个"} <= cells
    data = render_docx(writeup)
    assert "1.2亿元" in doc_text(data) and "注：* 表示原文已脱敏" in doc_text(data)


def test_charts_are_in_both_documents_with_their_captions_and_words(tmp_path: Path) -> None:
    """The fictional numeric casebook's trend charts: a PNG at print resolution in the Word file
    (alt text = the chart's summary), vector graphics in the PDF, each captioned 图N under it."""
    from PIL import Image

    from casebook.charts import ChartRenderer
    from casebook.charts import render as draw
    from casebook.render import cluster_charts
    from casebook.writeup import ChartImage

    book, errors = load_casebook(FIGURES)
    assert not errors
    charts = [c for cl in ordered_clusters(book) for c in cluster_charts(book, cl)]
    draw(charts, ChartRenderer(None))
    assert len(charts) >= 2
    writeup = build_writeup(book)
    images = [b for b in writeup.blocks if isinstance(b, ChartImage)]
    assert [b.caption for b in images] == [f"图{i}　{c.title}" for i, c in enumerate(charts, 1)]
    assert [b.summary for b in images] == [c.summary for c in charts] and all(b.summary for b in images)
    doc = Document(io.BytesIO(render_docx(writeup)))
    assert len(doc.inline_shapes) == len(charts)
    for shape, chart in zip(doc.inline_shapes, charts, strict=True):
        assert abs(shape.width - Mm(150)) < Mm(1)
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        png = Image.open(io.BytesIO(doc.part.related_parts[blip].blob))
        assert png.format == "PNG" and png.width >= 1100  # 150 mm at 200 dpi
        assert len(png.convert("L").getcolors(maxcolors=1 << 16) or []) > 8  # drawn, not blank
        assert shape._inline.docPr.get("descr") == chart.summary
    captions = [p.text for p in doc.paragraphs if p.text.startswith("图")]
    assert captions == [b.caption for b in images]
    if pdf_available():
        pdf = tmp_path / "f.pdf"
        pdf.write_bytes(render_pdf(writeup))
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        for b, chart in zip(images, charts, strict=True):
            assert b.caption.replace("　", " ") in text and text.count(chart.title) >= 2  # the SVG's own title too


def test_a_casebook_without_disclosed_series_has_no_chart(book: Casebook) -> None:
    from casebook.writeup import ChartImage

    assert not [b for b in build_writeup(book).blocks if isinstance(b, ChartImage)]


def test_long_titles_break_into_balanced_whole_lines() -> None:
    assert balanced_lines("以党建联盟引领区域性乡村共同富裕的经验材料", 20) == ["以党建联盟引领区域性", "乡村共同富裕的经验材料"]
    for title in ("“源头共富”组团、“*粮仓”组团、“*天路”组团经验材料", "甲" * 61, "“" + "甲" * 30 + "”组团经验材料"):
        lines = balanced_lines(title, 20)
        assert "".join(lines) == title and all(len(x) <= 20 for x in lines)
        assert max(map(len, lines)) - min(map(len, lines)) <= 8
        assert all(x.count("“") == x.count("”") for x in lines[:-1]) or "“" + "甲" * 30 in title


# --------------------------------------------------------------------------- hostile text

HOSTILE = ['<w:p><w:r><w:t>x</w:t></w:r></w:p>', "{PAGE}", '=cmd|"/C calc"!A0', "]]>&amp;&#x41;",
           '</w:t><w:fldSimple w:instr="PAGE"/><w:t>', "<script>alert(1)</script>", "{{ 7*7 }}"]
CONTROL = ["\x1b[31m", "\u202e", "\x00", "\x0b"]
# Identifiers, references and figures: not text. A list of nested models under one of these names
# (a cluster's mechanisms and models) is text all the same and is poisoned.
_REFS = {"id", "indicator", "source", "strand", "kind", "status", "clusters", "mechanisms", "models", "strands",
         "examples", "unit", "qualifier", "year", "value", "basis", "order"}


def _poison(model, marks: list[str], payloads: list[str]):
    """A copy of ``model`` with every text field (not ids, references or figures), nested models
    and lists included, replaced by a numbered hostile payload."""
    from pydantic import BaseModel

    def hostile(value):
        if isinstance(value, BaseModel):
            return _poison(value, marks, payloads)
        if isinstance(value, list):
            return [hostile(v) for v in value]
        if isinstance(value, str):
            marks.append(f"PX{len(marks)}X{payloads[len(marks) % len(payloads)]}")
            return marks[-1]
        return value

    def is_ref(name: str) -> bool:
        value = getattr(model, name)
        return name in _REFS and not (isinstance(value, list) and value and isinstance(value[0], BaseModel))

    return model.model_copy(update={name: hostile(getattr(model, name)) for name in type(model).model_fields
                                    if not is_ref(name)})


def _hostile_book(payloads: list[str]) -> tuple[Casebook, list[str]]:
    book, errors = load_casebook(CASES)
    assert not errors
    marks: list[str] = []
    clusters = {k: _poison(c, marks, payloads) for k, c in book.clusters.items()}
    lessons = {k: _poison(x, marks, payloads) for k, x in book.lessons.items()}
    alliance = _poison(book.alliance, marks, payloads)
    return Casebook(book.root, clusters, lessons, book.indicators, book.sources, alliance), marks


def test_hostile_case_text_stays_literal_text_in_every_field() -> None:
    """Each text field of every cluster, lesson and the alliance carries a payload; each shows as
    the same literal text (so also: the write-up shows every field), and none becomes markup."""
    hostile, marks = _hostile_book(HOSTILE)
    assert len(marks) > 500
    data = render_docx(build_writeup(hostile))
    text = doc_text(data)
    missing = [m for m in marks if m not in text]
    assert not missing, missing[:5]
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "<w:fldSimple" not in xml and "<w:instrText" not in xml and "<script" not in xml
    assert xml.count("<w:p>") + xml.count("<w:p ") == len(Document(io.BytesIO(data)).element.body.findall(qn("w:p"))) + sum(
        len(t._tbl.findall(".//" + qn("w:p"))) for t in Document(io.BytesIO(data)).tables)
    html = print_html(build_writeup(hostile))
    assert "<script" not in html and "<w:p>" not in html and "{{ 7*7 }}" in html
    assert "&lt;w:p&gt;" in html


def test_control_characters_become_visible_escapes() -> None:
    from casebook.errors import shown

    hostile, marks = _hostile_book(CONTROL)
    data = render_docx(build_writeup(hostile))  # lxml refuses raw controls: this would raise
    text = doc_text(data)
    # Shown as `casebook check` shows them (\u001b), every one, in every field.
    assert not [m for m in marks if shown(m) not in text]
    assert "PX0X\\u001b[31m" in text and "\\u202e" in text and "\\u0000" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e]", text)


# --------------------------------------------------------------------------- PDF

needs_pdf = pytest.mark.skipif(not pdf_available() or not shutil.which("pdftotext"),
                               reason="WeasyPrint (pip install weasyprint) and poppler-utils are needed")


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


@needs_pdf
def test_pdf_layout_text_fonts_and_page_numbers(book: Casebook, tmp_path: Path) -> None:
    c = ordered_clusters(book)[1]
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(render_pdf(build_writeup(book, [c.id])))
    info = _run("pdfinfo", str(pdf))
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    text = _run("pdftotext", "-layout", str(pdf), "-")
    flat = re.sub(r"\s+", "", text)
    assert f"{present.cluster_title(c)}，{c.theme}" in flat
    for lesson in _lessons_of(book, c):
        assert lesson.title in flat
    for obs in c.observations:
        assert present.figure_text(obs) in flat
    assert UNKNOWN_ISSUER in flat
    # 28 characters to a full line of body text.
    first = _run("pdftotext", "-f", "1", "-l", "1", str(pdf), "-")  # page 1: title and body text
    widths = [len(line.strip()) for line in first.splitlines() if line.strip() and "—" not in line]
    assert max(widths) == 28 and widths.count(28) >= 5
    # Every font embedded; CJK text from a CJK font.
    fonts = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert fonts and all(" yes " in f for f in fonts) and any("CJK" in f for f in fonts)
    # Page numbers — n —: odd pages right of the middle, even pages left.
    bbox = _run("pdftotext", "-bbox", str(pdf), "-")
    for n, page in enumerate(re.findall(r"<page .*?</page>", bbox, re.S), start=1):
        xs = [float(x) for x, word in re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]+)</word>', page) if word == str(n)]
        assert xs, n
        assert (xs[-1] > 595.28 / 2) is (n % 2 == 1), (n, xs[-1])
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(png)], check=True)
    (image,) = tmp_path.glob("page*.png")
    assert image.stat().st_size > 5000  # a page with text, not a blank


@needs_pdf
def test_pdf_of_hostile_text_prints_it_literally(tmp_path: Path) -> None:
    book, errors = load_casebook(FIGURES)
    assert not errors
    c = ordered_clusters(book)[0]
    bad = c.model_copy(update={"summary": "<b>粗</b>{PAGE}=cmd|<img src=http://example.invalid/x.png>"})
    hostile = Casebook(book.root, {**book.clusters, c.id: bad}, book.lessons, book.indicators, book.sources)
    pdf = tmp_path / "h.pdf"
    pdf.write_bytes(render_pdf(build_writeup(hostile, [c.id])))
    flat = re.sub(r"\s+", "", _run("pdftotext", str(pdf), "-"))
    assert "<b>粗</b>{PAGE}=cmd|<imgsrc=http://example.invalid/x.png>" in flat


# --------------------------------------------------------------------------- command line


def test_cli_writes_docx_and_refuses_bad_usage_in_chinese(tmp_path: Path, capsys) -> None:
    out = tmp_path / "经验材料.docx"
    assert main(["writeup", "--cases", str(FIGURES), "--out", str(out)]) == 0
    assert "经验材料已生成" in capsys.readouterr().out
    assert "虚构甲" in doc_text(out.read_bytes())
    cases: list[tuple[list[str], str]] = [
        (["--out", str(tmp_path / "x.txt")], ".docx"),
        (["--out", str(tmp_path / "x.docx"), "--cluster", "no-such"], "fictional-alpha"),
        (["--out", str(FIGURES / "clusters" / "x.docx")], "案例目录"),
        (["--out", str(tmp_path)], "目录"),
    ]
    for extra, hint in cases:
        assert main(["writeup", "--cases", str(FIGURES), *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("用法错误") and "提示：" in err and hint in err, err
    assert main(["writeup", "--cases", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "提示：" in capsys.readouterr().err
    assert not (FIGURES / "clusters" / "x.docx").exists()


def test_cli_refuses_an_invalid_casebook(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    path = cases / "clusters" / "fictional-alpha.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 52}", "value: 五十二}"), encoding="utf-8")
    assert main(["writeup", "--cases", str(cases), "--out", str(tmp_path / "x.docx")]) == 1
    captured = capsys.readouterr()
    assert "fictional-alpha.yaml" in captured.out and "未生成经验材料" in captured.err
    assert not (tmp_path / "x.docx").exists()


# --------------------------------------------------------------------------- on the site


def test_site_offers_the_writeups_as_downloads(tmp_path: Path) -> None:
    site = build_project(make_project(tmp_path, FIGURES))
    book, _ = load_casebook(FIGURES)
    whole = site / present.writeup_path()
    assert "虚构数值测试材料" in doc_text(whole.read_bytes())
    home = (site / "index.html").read_text(encoding="utf-8")
    assert _href_to(home, site, site / "index.html") == whole
    for c in ordered_clusters(book):
        page = site / present.cluster_url(c.id) / "index.html"
        target = _href_to(page.read_text(encoding="utf-8"), site, page)
        assert target == site / present.writeup_path(c.id)
        assert f"{present.cluster_title(c)}，{c.theme}" in doc_text(target.read_bytes())


def _href_to(html: str, site: Path, page: Path) -> Path:
    import urllib.parse

    (href,) = {h for h in re.findall(r'href="([^"]+\.docx)"', html)}
    target = (page.parent / urllib.parse.unquote(href)).resolve()
    assert target.is_file() and target.is_relative_to(site.resolve())
    return target


def test_blocks_from_the_build_cache_give_the_same_document(book: Casebook, whole_docx: bytes, tmp_path,
                                                            monkeypatch) -> None:
    """A write-up made from cached block XML (another build, a fresh process's memory) is the file
    rendering every block gives; after an edit only the changed block is rendered again."""
    import casebook.writeup_docx as wd
    from casebook.store import Store

    assert render_docx(build_writeup(book), COMMITTED, in_place=True) == whole_docx
    store = Store(tmp_path / "cache.sqlite")
    monkeypatch.setattr(wd, "_BLOCK_MEMO", {})
    assert render_docx(build_writeup(book), COMMITTED, store) == whole_docx
    monkeypatch.setattr(wd, "_BLOCK_MEMO", {})  # as a new build's process: every block from the store
    rendered: list[object] = []
    real = wd._Blocks._render
    monkeypatch.setattr(wd._Blocks, "_render", lambda self, block: rendered.append(block) or real(self, block))
    assert render_docx(build_writeup(book), COMMITTED, store) == whole_docx
    assert rendered == []
    writeup = build_writeup(book)
    at = next(i for i, b in enumerate(writeup.blocks) if isinstance(b, Paragraph))
    edited = replace(writeup.blocks[at], runs=(*writeup.blocks[at].runs, Run("（虚构补充）")))
    writeup.blocks[at] = edited
    data = render_docx(writeup, COMMITTED, store)
    assert rendered == [edited]
    assert data == render_docx(writeup, COMMITTED, in_place=True)
    assert "（虚构补充）" in doc_text(data)


@pytest.mark.parametrize("reference", [None, COMMITTED])
@pytest.mark.parametrize("mark", ["", "内部资料"])
def test_a_write_up_without_pictures_poured_into_its_skeleton_is_the_file_rendering_in_place_gives(
        book: Casebook, reference, mark: str, monkeypatch) -> None:
    """The site's write-ups (tables, no pictures) are their blocks poured into a package saved once
    per reference and mark: the whole casebook's and a cluster's are byte for byte the file that
    filling a python-docx document with every block gives, in both editions."""
    import casebook.writeup_docx as wd

    poured: list[object] = []
    real = wd._Skeleton.fill
    monkeypatch.setattr(wd._Skeleton, "fill", lambda self, w, b: poured.append(w) or real(self, w, b))
    for ids in (None, [ordered_clusters(book)[-1].id]):
        writeup = build_writeup(book, ids, charts=False, mark=mark)
        assert any(isinstance(b, FigureTable) for b in writeup.blocks)
        wd.forget_kept()
        poured.clear()
        data = render_docx(writeup, reference)
        assert poured == [writeup]  # the fast path was the one taken
        assert data == render_docx(writeup, reference, in_place=True)
        assert render_docx(writeup, reference) == data  # from the process's memory, again
        if mark:
            assert mark in Document(io.BytesIO(data)).sections[0].header.paragraphs[0].text


BLOCK_TEXTS = [" ", "  两端有空格  ", "\u3000全角空格\u3000", "<w:p>]]>&amp;&lt;\"'</w:p>", "<script>alert(1)</script>",
           "&#x3C;w:sectPr/&#x3E;", "\u202e\u200b零宽\ufeff", "𠀀𝟘😀", "（虚构）" * 300, ""]


@pytest.mark.parametrize("reference", [None, COMMITTED])
def test_hostile_text_in_every_kind_of_block_gives_the_file_rendering_in_place_gives(reference, monkeypatch) -> None:
    """Case text of every kind of block (FICTIONAL, hostile, blank, astral, very long) moved in as
    kept XML is the file rendering it in place gives, and reads back as written."""
    import casebook.writeup_docx as wd

    monkeypatch.setattr(wd, "_BLOCK_MEMO", {})
    blocks: list[object] = []
    for i, text in enumerate([*BLOCK_TEXTS, *HOSTILE]):
        blocks += [Title(text), Heading(1 + i % 3, "一、", text), Paragraph((Run(text, True), Run(text))),
                   FigureTable(text, ("指标", text), ((text, "*"), ("", text)), (text,)), Closing((text, text)),
                   Note(text)]
    writeup = Writeup("虚构" + BLOCK_TEXTS[3], blocks)  # type: ignore[arg-type]
    data = render_docx(writeup, reference)
    assert data == render_docx(writeup, reference, in_place=True)
    assert render_docx(writeup, reference) == data  # from memory, again
    text = doc_text(data)
    for t in [*BLOCK_TEXTS, *HOSTILE]:
        assert t.strip() in text
