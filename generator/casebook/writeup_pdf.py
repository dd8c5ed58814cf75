"""The write-up as a PDF: the same blocks as the Word document, laid out by a print stylesheet.

Engine: WeasyPrint. Both engines were measured on the real casebook (five clusters, five lessons)
with this module's print HTML, on the project's 2-core machine under load: WeasyPrint made the whole
write-up (36 A4 pages) in 3.8 s (2.5 s of CPU; importing it costs another 1.3 s once) and one
cluster (7–9 pages) in about 0.8 s of CPU; Chromium's ``--headless --print-to-pdf`` took 4.2–5.2 s
for the whole and 3.7 s for one cluster, most of it starting the browser. WeasyPrint is chosen
because (1) it is a Python dependency that ``pip install`` brings, runs in the process and needs
only Pango (≥ 1.44; Debian's ``libpango-1.0-0``/``libpangoft2-1.0-0``, which Chromium pulls in
too), while Chromium is a 300 MB system program a district office PC rarely has, which the library
would have to drive as a subprocess; (2) it implements CSS Paged Media as specified — page margin
boxes on ``:left``/``:right`` pages (odd page numbers right, even left, as GB/T 9704 asks),
``counter(page)``, repeated table heads — and embeds subsetted CID fonts with their names (Noto
CJK where the 公文 fonts are absent), where Chromium embedded every font as nameless Type 3 fonts,
which print shops and PDF checkers reject; (3) its output is reproducible, so the tests can read it.
The site does not build PDFs (several seconds per build, for a format the Word document already
serves); ``casebook writeup --out 经验材料.pdf`` does.

The print HTML is built here from the blocks with every piece of text escaped (case text is data,
never markup); it loads nothing from anywhere (fonts are the system's, named, never fetched).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from .sanitize import sanitize_svg
from .writeup import (
    TITLE_CHARS,
    ChartImage,
    Closing,
    FigureTable,
    Heading,
    Note,
    Paragraph,
    Title,
    Writeup,
    balanced_lines,
    column_shares,
)

# GB/T 9704-2012's page, in CSS. The character pitch makes exactly 28 characters a line
# (156 mm / 28) and the line height exactly 22 lines a page (225 mm / 22); computed here, as
# numbers, because WeasyPrint does not evaluate calc() in these properties.
_PT_PER_MM = 72 / 25.4
CHAR_PITCH = 156 * _PT_PER_MM / 28  # pt
LINE_PITCH = 225 * _PT_PER_MM / 22  # pt
# The letter-spacing that makes a 16 pt character take one grid cell, a hair under so that 28
# cells never exceed the line through rounding.
TRACKING = CHAR_PITCH - 16 - 0.005
_FANGSONG = '"仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "Noto Serif CJK SC", serif'
_HEI = '"黑体", "SimHei", "STHeiti", "Noto Sans CJK SC", sans-serif'
_KAI = '"楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "AR PL UKai CN", "Noto Serif CJK SC", serif'
_SONG = '"宋体", "SimSun", "Noto Serif CJK SC", serif'
PRINT_CSS = f"""
@font-face {{ font-family: "cb-title"; src: local("方正小标宋简体"), local("FZXiaoBiaoSong-B05S"),
  local("Noto Serif CJK SC Bold"), local("NotoSerifCJKsc-Bold"), local("Source Han Serif SC Bold"); }}
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
@page :right {{ @bottom-right {{ content: "— " counter(page) " —"; font: 14pt {_SONG};
  vertical-align: top; padding-top: 7mm; padding-right: 1em; white-space: nowrap; width: 40mm; text-align: right; }} }}
@page :left {{ @bottom-left {{ content: "— " counter(page) " —"; font: 14pt {_SONG};
  vertical-align: top; padding-top: 7mm; padding-left: 1em; white-space: nowrap; width: 40mm; text-align: left; }} }}
html {{ font-family: {_FANGSONG}; font-size: 16pt; line-height: {LINE_PITCH:.3f}pt; color: #000;
  letter-spacing: {TRACKING:.3f}pt; }}
body {{ margin: 0; }}
h1, h2, h3, p {{ margin: 0; font-size: 16pt; font-weight: normal; text-align: justify;
  text-indent: {2 * CHAR_PITCH:.3f}pt; orphans: 2; widows: 2; }}
h1, h2, h3, .cb-caption {{ break-after: avoid; }}
h1 {{ font-family: {_HEI}; }}
h2 {{ font-family: {_KAI}; }}
h3 {{ font-weight: bold; }}
.cb-title {{ font-family: "cb-title", {_SONG}; font-size: 22pt; line-height: 1.5; text-align: center;
  text-indent: 0; letter-spacing: 0; margin-bottom: {LINE_PITCH:.3f}pt; }}
b {{ font-weight: bold; }}
.cb-caption {{ font-family: {_KAI}; text-align: center; text-indent: 0; }}
table {{ width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 12pt; line-height: 1.35; letter-spacing: 0; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
th, td {{ border: 0.5pt solid #000; padding: 1mm 1.2mm; text-align: left; vertical-align: top; }}
th {{ font-weight: bold; text-align: center; }}
.cb-chart {{ margin: 0; break-inside: avoid; text-indent: 0; }}
.cb-chart svg {{ display: block; width: 150mm; height: auto; margin: 0 auto; }}
.cb-table-note {{ font-size: 12pt; line-height: 1.5; text-indent: 0; letter-spacing: 0; }}
.cb-closing {{ text-align: right; text-indent: 0; padding-right: {4 * CHAR_PITCH:.3f}pt; break-inside: avoid; }}
.cb-closing-first {{ margin-top: {LINE_PITCH:.3f}pt; }}
"""


def print_html(writeup: Writeup) -> str:
    """The write-up as one HTML page for printing: its blocks in order, every text escaped."""
    parts: list[Markup] = []
    first_closing = True
    for block in writeup.blocks:
        if isinstance(block, Title):
            lines = balanced_lines(block.text, TITLE_CHARS)
            parts.append(Markup('<p class="cb-title">{}</p>').format(Markup("<br>").join(lines)))
        elif isinstance(block, Heading):
            parts.append(Markup("<h{0}>{1}</h{0}>").format(block.level, block.full))
        elif isinstance(block, Paragraph):
            runs = Markup("").join(Markup("<b>{}</b>").format(r.text) if r.bold else escape(r.text)
                                   for r in block.runs)
            parts.append(Markup("<p>{}</p>").format(runs))
        elif isinstance(block, FigureTable):
            parts.append(_table(block))
        elif isinstance(block, ChartImage):
            # Vector in the PDF: the sanitised SVG itself, its text drawn in the document's fonts.
            parts.append(Markup('<figure class="cb-chart">{}<figcaption class="cb-caption">{}</figcaption></figure>')
                         .format(Markup(sanitize_svg(block.svg)), block.caption))
        elif isinstance(block, Closing):
            for line in block.lines:
                cls = "cb-closing cb-closing-first" if first_closing else "cb-closing"
                parts.append(Markup('<p class="{}">{}</p>').format(cls, line))
                first_closing = False
        elif isinstance(block, Note):
            parts.append(Markup("<p>{}</p>").format(block.text))
    body = Markup("\n").join(parts)
    return str(Markup('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{}</title>'
                      "<style>{}{}</style></head><body>\n{}\n</body></html>\n").format(
        writeup.title, Markup(PRINT_CSS), Markup(_mark_css(writeup.mark)), body))


def _mark_css(mark: str) -> str:
    """The edition's mark (内部资料) at the top left of every page, 3号黑体, as in the Word file."""
    if not mark:
        return ""
    from .colophon import css_string

    return (f"@page {{ @top-left {{ content: {css_string(mark)}; font: 16pt {_HEI}; vertical-align: bottom;"
            " padding-bottom: 6mm; white-space: nowrap; }} }}\n")


def _table(block: FigureTable) -> Markup:
    shares = column_shares(block.columns)
    cols = Markup("").join(Markup('<col style="width:{:.2f}%">').format(100 * s / sum(shares)) for s in shares)
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(c) for c in block.columns)
    rows = Markup("").join(
        Markup("<tr>{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(v) for v in row))
        for row in block.rows)
    notes = Markup("").join(Markup('<p class="cb-table-note">{}</p>').format(n) for n in block.notes)
    return Markup('<p class="cb-caption">{}</p><table><colgroup>{}</colgroup><thead><tr>{}</tr></thead>'
                  "<tbody>{}</tbody></table>{}").format(block.caption, cols, head, rows, notes)


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango it needs) is missing: the message says how to install it, in Chinese."""


def pdf_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def render_pdf(writeup: Writeup) -> bytes:
    """The write-up as the bytes of a PDF (A4, GB/T 9704 page, fonts embedded)."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Python package is there, Pango is not
        raise PdfUnavailable("生成 PDF 需要 WeasyPrint 及其依赖的 Pango 库。"
                             "提示：运行 .venv/bin/pip install weasyprint；Debian/Ubuntu 另需 "
                             "apt-get install libpango-1.0-0 libpangoft2-1.0-0") from exc
    # No base URL, and a fetcher that gives out only the system's font files (local() in the
    # stylesheet arrives as their file: URLs): the page loads nothing else from anywhere.
    html = weasyprint.HTML(string=print_html(writeup), base_url=None, url_fetcher=_fonts_only(weasyprint))
    return html.write_pdf()


_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2")


def _font_file(url: str) -> None:
    if not (url.startswith("file://") and url.lower().endswith(_FONT_SUFFIXES)):
        raise ValueError(f"the write-up loads nothing but system fonts: {url[:200]}")


def _fonts_only(weasyprint: Any) -> Any:
    """A URL fetcher that fetches font files and nothing else, for WeasyPrint's newer API (a
    URLFetcher class, 68 and later) and its older one (a function)."""
    base = getattr(weasyprint, "URLFetcher", None)
    if base is not None:
        class FontsOnly(base):  # type: ignore[misc, valid-type]
            def fetch(self, url: str, headers: Any = None) -> Any:
                _font_file(url)
                return super().fetch(url, headers)

        return FontsOnly(allowed_protocols=("file",))
    default = weasyprint.default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        _font_file(url)
        return default(url, *args, **kwargs)

    return fetch
