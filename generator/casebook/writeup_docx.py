"""The write-up as a Word document in the layout of GB/T 9704-2012 (党政机关公文格式).

The layout lives in a reference ``.docx`` — page, margins, character grid, footers with page
numbers and the styles the blocks use — and the generator only fills it: a district restyles its
write-ups (its own 版头 in the header, other fonts) by replacing
``theme_overrides/writeup/reference.docx``, designed in Word or WPS, with no code change. Without
one, :func:`default_reference` builds the default, which meets GB/T 9704:

- A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (版心 156 × 225 mm);
- body 3号 (16 pt) 仿宋_GB2312, 22 lines × 28 characters (the document grid, and exact line spacing
  of one grid line so editors without the grid keep 22 lines too), first-line indent two characters;
- title 2号 (22 pt) 方正小标宋简体, centred; headings 黑体 (一、), 楷体_GB2312 (（一）), 仿宋 bold (1.);
- page numbers 4号 in the form — 1 —, odd pages right and even pages left, one character in.

Fonts are named, never shipped: East Asian names go in ``w:eastAsia`` and the font table gives each
an alternative (仿宋_GB2312 → 仿宋, 方正小标宋简体 → 宋体 …) for machines that lack it.

python-docx has no API for East Asian font names, the PAGE field, the character grid, a repeated
table header or the font table's alternatives; that OOXML is written here, in the one section
marked "raw OOXML", and nowhere else.

Case text only ever becomes the text of a run (``w:t``): never a field, a style or markup.
"""

from __future__ import annotations

import copy
import datetime as _dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph
from lxml import etree  # type: ignore[import-untyped]  # python-docx's own XML library

from .book import Casebook
from .derive import derive, ordered_clusters
from .present import PUBLIC, Edition, writeup_path
from .store import Store, code_digest, content_hash
from .writeup import (
    TITLE_CHARS,
    Block,
    ChartImage,
    Closing,
    FigureTable,
    Heading,
    Note,
    Paragraph,
    Title,
    Writeup,
    balanced_lines,
    build_writeup,
    column_shares,
)

# --------------------------------------------------------------------------- the layout (GB/T 9704-2012)

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
LINES, CHARS = 22, 28
BODY_PT, TITLE_PT, PAGE_NUMBER_PT, TABLE_PT = 16, 22, 14, 12  # 3号, 2号, 4号, 小4号

# Fonts by role: (East Asian name, Western name). The East Asian name is what GB/T 9704 names.
BODY_FONT = ("仿宋_GB2312", "Times New Roman")
TITLE_FONT = ("方正小标宋简体", "Times New Roman")
HEADING_FONTS = {1: ("黑体", "Times New Roman"), 2: ("楷体_GB2312", "Times New Roman"),
                 3: ("仿宋_GB2312", "Times New Roman")}
PAGE_NUMBER_FONT = ("宋体", "宋体")  # GB/T 9704: 4号半角宋体阿拉伯数字
# What Word (and WPS) use where a named font is missing: the font table's w:altName.
FONT_ALTERNATIVES = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体", "黑体": "SimHei",
                     "宋体": "SimSun"}

# The styles the blocks use, by name: a reference document restyles them.
STYLE_BODY = "Normal"
STYLE_TITLE = "Title"
STYLE_HEADINGS = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3"}
STYLE_TABLE_TEXT = "表格文字"
STYLE_TABLE_CAPTION = "表题"
STYLE_TABLE_NOTE = "表注"
STYLE_CLOSING = "落款"
STYLE_NOTE = "附注"
STYLE_PAGE_NUMBER = "页码"
STYLE_TABLE = "Table Grid"

REFERENCE = Path("writeup") / "reference.docx"  # under theme_overrides/


def text_width() -> int:
    """The 版心's width in twips, as Word computes it from the page and margins."""
    return PAGE_WIDTH.twips - MARGINS["left"].twips - MARGINS["right"].twips


def line_pitch() -> int:
    """One grid line in twips: the 版心's height over 22 lines, rounded down so that 22 fit."""
    height = PAGE_HEIGHT.twips - MARGINS["top"].twips - MARGINS["bottom"].twips
    return height // LINES


def char_space() -> int:
    """w:charSpace: how far a grid character is from the body font's size, in 1/4096 pt, rounded
    down so that 28 characters fit the line."""
    pitch_pt = text_width() / 20 / CHARS
    return int((pitch_pt - BODY_PT) * 4096 // 1)


# --------------------------------------------------------------------------- raw OOXML
#
# Everything python-docx has no API for, in one place.


def set_fonts(rpr_owner: object, east_asia: str, western: str) -> None:
    """Name a style's or run's fonts: East Asian text in ``east_asia``, Latin in ``western``.
    Theme font attributes (which win over named fonts) are removed."""
    rpr = rpr_owner.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), western)
    fonts.set(qn("w:hAnsi"), western)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), western)
    fonts.set(qn("w:hint"), "eastAsia")


def first_line_chars(ppr_owner: object, chars: int) -> None:
    """A first-line indent of ``chars`` characters (w:firstLineChars), which follows the font size
    and the grid, with the same in twips for programs that read only that."""
    ppr = ppr_owner.get_or_add_pPr()  # type: ignore[attr-defined]
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), str(chars * 100))
    ind.set(qn("w:firstLine"), str(chars * BODY_PT * 20))


def side_chars(ppr_owner: object, left: int = 0, right: int = 0) -> None:
    """Left and right indents in characters (落款右空四字, 页码空一字)."""
    ppr = ppr_owner.get_or_add_pPr()  # type: ignore[attr-defined]
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    if left:
        ind.set(qn("w:leftChars"), str(left * 100))
        ind.set(qn("w:left"), str(left * BODY_PT * 20))
    if right:
        ind.set(qn("w:rightChars"), str(right * 100))
        ind.set(qn("w:right"), str(right * BODY_PT * 20))


def no_grid_snap(ppr_owner: object) -> None:
    """Text set in its own line height, not snapped to the body's grid (tables, page numbers)."""
    ppr = ppr_owner.get_or_add_pPr()  # type: ignore[attr-defined]
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    ppr.insert(0, snap)


def outline_level(ppr_owner: object, level: int) -> None:
    ppr = ppr_owner.get_or_add_pPr()  # type: ignore[attr-defined]
    for old in ppr.findall(qn("w:outlineLvl")):
        ppr.remove(old)
    lvl = OxmlElement("w:outlineLvl")
    lvl.set(qn("w:val"), str(level))
    ppr.append(lvl)


def doc_grid(sect_pr: object) -> None:
    """The 22 × 28 character grid (w:docGrid type linesAndChars)."""
    for old in sect_pr.findall(qn("w:docGrid")):  # type: ignore[attr-defined]
        sect_pr.remove(old)  # type: ignore[attr-defined]
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(line_pitch()))
    grid.set(qn("w:charSpace"), str(char_space()))
    sect_pr.append(grid)  # type: ignore[attr-defined]


def page_number_field(paragraph: DocxParagraph) -> None:
    """— PAGE —: the one-character dashes as text around a PAGE field (w:fldChar begin/instr/end)."""
    paragraph.add_run("— ")
    for kind, instr in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif instr == " PAGE ":
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = instr
            run._r.append(code)
        else:
            run.text = instr or ""
    paragraph.add_run(" —")


def repeat_header(table: Table) -> None:
    """The table's first row repeats at the top of every page it runs onto (w:tblHeader)."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    tr_pr.append(flag)


def cant_split(table: Table) -> None:
    for row in table.rows:
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))


def doc_defaults(doc: DocxDocument) -> None:
    """The document-wide default run: the body font and size, which the character grid counts in."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for old in list(rpr):
        if old.tag in (qn("w:rFonts"), qn("w:sz"), qn("w:szCs"), qn("w:lang")):
            rpr.remove(old)
    fonts = OxmlElement("w:rFonts")
    fonts.set(qn("w:ascii"), BODY_FONT[1])
    fonts.set(qn("w:hAnsi"), BODY_FONT[1])
    fonts.set(qn("w:eastAsia"), BODY_FONT[0])
    fonts.set(qn("w:cs"), BODY_FONT[1])
    rpr.insert(0, fonts)
    for tag in ("w:sz", "w:szCs"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(BODY_PT * 2))
        rpr.append(el)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)


def font_alternatives(doc: DocxDocument) -> None:
    """The font table's entries for the 公文 fonts, each with its alternative (w:altName) and the
    GB2312 character set, so a machine without 仿宋_GB2312 sets 仿宋, not a Latin font."""
    part = next((rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable")), None)
    if part is None:
        return
    from docx.oxml.parser import parse_xml

    root = parse_xml(part.blob)
    for name, alt in FONT_ALTERNATIVES.items():
        for old in root.findall(qn("w:font")):
            if old.get(qn("w:name")) == name:
                root.remove(old)
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        for tag, val in (("w:altName", alt), ("w:charset", "86"), ("w:family", "modern"), ("w:pitch", "fixed")):
            el = OxmlElement(tag)
            el.set(qn("w:val"), val)
            font.append(el)
        root.append(font)
    from docx.opc.oxml import serialize_part_xml

    part._blob = serialize_part_xml(root)


# --------------------------------------------------------------------------- the default reference


def default_reference() -> DocxDocument:
    """A document holding the GB/T 9704 layout and styles and no content: what the generator fills
    when the project has no reference of its own, and what ``casebook writeup --reference-out``
    writes for a district to start its own from."""
    doc = Document()
    _drop_thumbnail(doc)
    _prune_styles(doc)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    doc_defaults(doc)
    font_alternatives(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    # The page number's dash line sits 7 mm below the 版心 (GB/T 9704 7.5).
    section.header_distance = Mm(15)
    section.footer_distance = Mm(35 - 7 - 6)
    section.gutter = Mm(0)
    doc_grid(section._sectPr)
    _styles(doc)
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
                                (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left")):
        footer.is_linked_to_previous = False
        para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        para.style = doc.styles[STYLE_PAGE_NUMBER]
        para.alignment = align
        side_chars(para._p, **{side: 1})
        page_number_field(para)
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
    props = doc.core_properties
    props.author, props.comments, props.title, props.last_modified_by = "共富案例库", "", "", ""
    props.revision = 1
    return doc


def _drop_thumbnail(doc: DocxDocument) -> None:
    # python-docx's template carries its own logo as the file's thumbnail.
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg.rels[rid]


# Kept from python-docx's template besides the styles the blocks use: the defaults every document
# needs. Its 160-odd others (Light Shading Accent 4 …) only make a district's restyling harder.
_KEPT_STYLES = {"Default Paragraph Font", "Normal Table", "No List", "Table Grid", "Header", "Footer"}


def _prune_styles(doc: DocxDocument) -> None:
    ours = {STYLE_BODY, STYLE_TITLE, *STYLE_HEADINGS.values()}
    root = doc.styles.element
    for style in root.findall(qn("w:style")):
        name = style.find(qn("w:name"))
        if name is None or name.get(qn("w:val")) not in ours | _KEPT_STYLES | {"heading 1", "heading 2", "heading 3",
                                                                                "header", "footer", "Title"}:
            root.remove(style)
    for style in root.findall(qn("w:style")):
        for link in style.findall(qn("w:link")):  # the linked character styles are gone
            style.remove(link)
    # stylesWithEffects is a Word 2010 copy of the styles that Word ignores once styles.xml changes.
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            del doc.part.rels[rid]


def _paragraph_style(doc: DocxDocument, name: str, base: str | None = STYLE_BODY) -> ParagraphStyle:
    from docx.enum.style import WD_STYLE_TYPE

    try:
        style = doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    assert isinstance(style, ParagraphStyle)
    if base is not None and name != base:
        style.base_style = doc.styles[base]
    style.quick_style = True
    return style


def _styles(doc: DocxDocument) -> None:
    pitch = Twips(line_pitch())
    body = _paragraph_style(doc, STYLE_BODY, None)
    _font(body, BODY_FONT, BODY_PT)
    pf = body.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, pitch
    pf.space_before = pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.widow_control = True
    first_line_chars(body.element, 2)

    title = _paragraph_style(doc, STYLE_TITLE)
    _font(title, TITLE_FONT, TITLE_PT)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The title stands on its own, a blank line under it (GB/T 9704 7.3.3).
    title.paragraph_format.space_after = pitch
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    title.paragraph_format.line_spacing = Pt(TITLE_PT * 1.5)
    title.paragraph_format.first_line_indent = Pt(0)
    _clear_indent(title)
    _clear_border(title)
    no_grid_snap(title.element)  # its 22 pt lines keep their own height, not two grid lines each
    for level, name in STYLE_HEADINGS.items():
        style = _paragraph_style(doc, name)
        _font(style, HEADING_FONTS[level], BODY_PT, bold=level == 3)
        hf = style.paragraph_format
        hf.keep_with_next = True
        hf.space_before = hf.space_after = Pt(0)
        hf.line_spacing_rule, hf.line_spacing = WD_LINE_SPACING.EXACTLY, pitch
        hf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        first_line_chars(style.element, 2)
        outline_level(style.element, level - 1)

    caption = _paragraph_style(doc, STYLE_TABLE_CAPTION)
    _font(caption, HEADING_FONTS[2], BODY_PT)
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.keep_with_next = True
    _clear_indent(caption)
    caption.paragraph_format.first_line_indent = Pt(0)

    cell = _paragraph_style(doc, STYLE_TABLE_TEXT)
    _font(cell, BODY_FONT, TABLE_PT)
    cf = cell.paragraph_format
    cf.line_spacing_rule, cf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(TABLE_PT * 1.35)
    cf.alignment = WD_ALIGN_PARAGRAPH.LEFT
    cf.first_line_indent = Pt(0)
    _clear_indent(cell)
    no_grid_snap(cell.element)

    note = _paragraph_style(doc, STYLE_TABLE_NOTE)
    _font(note, BODY_FONT, TABLE_PT)
    nf = note.paragraph_format
    nf.line_spacing_rule, nf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(TABLE_PT * 1.5)
    _clear_indent(note)
    nf.first_line_indent = Pt(0)
    no_grid_snap(note.element)

    closing = _paragraph_style(doc, STYLE_CLOSING)
    closing.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    closing.paragraph_format.first_line_indent = Pt(0)
    _clear_indent(closing)
    side_chars(closing.element, right=4)  # 成文日期右空四字
    closing.paragraph_format.keep_together = True

    _paragraph_style(doc, STYLE_NOTE)  # 附注: body text, indented two characters like it

    number = _paragraph_style(doc, STYLE_PAGE_NUMBER, None)
    _font(number, PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
    number.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    number.paragraph_format.space_before = number.paragraph_format.space_after = Pt(0)
    no_grid_snap(number.element)


def _font(style: ParagraphStyle, fonts: tuple[str, str], size: float, bold: bool = False) -> None:
    font = style.font
    font.size = Pt(size)
    font.bold = bold
    font.italic = False
    font.color.rgb = RGBColor(0, 0, 0)
    set_fonts(style.element, *fonts)


def _clear_indent(style: ParagraphStyle) -> None:
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:ind")):
        ppr.remove(old)
    ind = OxmlElement("w:ind")
    ind.set(qn("w:firstLineChars"), "0")
    ind.set(qn("w:firstLine"), "0")
    ppr.append(ind)


def _clear_border(style: ParagraphStyle) -> None:
    # The template's Title has a coloured rule under it and widened letters; a 公文 title has neither.
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:pBdr")) + ppr.findall(qn("w:contextualSpacing")):
        ppr.remove(old)
    rpr = style.element.get_or_add_rPr()
    for old in rpr.findall(qn("w:spacing")) + rpr.findall(qn("w:kern")):
        rpr.remove(old)


# --------------------------------------------------------------------------- filling the reference


def reference_document(reference: Path | None = None) -> DocxDocument:
    """The reference to fill: the project's own (``theme_overrides/writeup/reference.docx``) when
    there is one, else the default; its body emptied, its section (page, grid, footers) kept."""
    if reference is None or not reference.is_file():
        return default_reference()
    doc = Document(str(reference))
    body = doc.element.body
    sect = body.find(qn("w:sectPr"))
    for child in list(body):
        if child is not sect:
            body.remove(child)
    return doc


def _mark_headers(doc: DocxDocument, mark: str) -> None:
    """The edition's mark (内部资料) at the top left of every page, 3号黑体, where GB/T 9704 puts
    a document's 密级: in the odd and even pages' headers, above whatever 版头 the reference has."""
    section = doc.sections[0]
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        para = header.paragraphs[0] if header.paragraphs and not header.paragraphs[0].text else header.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.LEFT
        run = para.add_run(mark)
        set_fonts(run._r, "黑体", "Times New Roman")
        run.font.size = Pt(16)


def render_docx(writeup: Writeup, reference: Path | None = None, store: Store | None = None, *,
                in_place: bool = False) -> bytes:
    """The write-up as the bytes of a .docx: the reference filled with its blocks. Reproducible:
    the same write-up and reference give the same bytes (fixed dates in the file and its zip).
    ``store`` keeps each block's XML (see :class:`_Blocks`): a write-up remade after one edit
    renders only the blocks that changed. ``in_place``: every block rendered into the document
    itself, slowly — the file the kept blocks must give (tests)."""
    if not in_place and not any(isinstance(b, ChartImage) for b in writeup.blocks):
        skeleton = _skeleton(reference, writeup.mark)
        if skeleton is not None:
            return skeleton.fill(writeup, _Blocks(reference, store))
    doc = reference_document(reference)
    styles = _StyleIds(doc)
    if writeup.mark:
        _mark_headers(doc, writeup.mark)
    blocks = _Blocks(reference, store)
    sect = doc.element.body.find(qn("w:sectPr"))
    for block in writeup.blocks:
        if in_place or isinstance(block, ChartImage) or sect is None:
            # A picture is a part of its own document, named by the document's relationships.
            _add_block(doc, block, styles)
            continue
        for element in blocks.elements(block):
            sect.addprevious(element)
    return _saved(doc, writeup.title)


def _saved(doc: DocxDocument, title: str) -> bytes:
    return _reproducible(_members(_package(doc, title)))


def _package(doc: DocxDocument, title: str) -> bytes:
    props = doc.core_properties
    # The document's properties hold at most 255 characters (python-docx refuses more); the full
    # title is on the first page. Case text may be that long (a cluster's name, hostile or not).
    props.title = title[:255]
    props.created = props.modified = props.last_printed = _stamp()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        return [(info, src.read(info.filename)) for info in src.infolist()]


_BODY_HOLE = "casebook-body"
_TITLE_HOLE = "casebook-title-0c4f"


class _Skeleton:
    """An empty write-up's package, saved once per reference and mark, with a hole where the body
    goes and one for the title: a write-up without pictures is its blocks' XML, as the document
    serialises it, poured into the holes and zipped — no python-docx document per write-up (two
    references built and a package saved cost ~60 ms, a minute at a province's thousand). The
    parts are the ones :func:`_saved` writes for the same blocks, byte for byte (tests compare)."""

    def __init__(self, doc: DocxDocument) -> None:
        body = doc.element.body
        sect = body.find(qn("w:sectPr"))
        assert sect is not None
        sect.addprevious(etree.Comment(_BODY_HOLE))
        # Blocks serialised inside a body under this document's own namespace declarations.
        self.root_tag, self.nsmap, self.body_tag = doc.element.tag, dict(doc.element.nsmap), body.tag
        self.body_attrib = dict(body.attrib)
        self.members = _members(_package(doc, _TITLE_HOLE))

    def inline(self, elements: list[Any]) -> bytes:
        """The elements as they are written inside this document's body."""
        root = etree.Element(self.root_tag, nsmap=self.nsmap)
        body = etree.SubElement(root, self.body_tag, attrib=self.body_attrib)
        body.extend(elements)
        text = etree.tostring(body, encoding="unicode")
        if not len(body):
            return b""
        return text[text.index(">") + 1:text.rindex("</")].encode("utf-8")

    def fill(self, writeup: Writeup, blocks: _Blocks) -> bytes:
        hole, title_hole = f"<!--{_BODY_HOLE}-->".encode(), _TITLE_HOLE.encode()
        body = b"".join(blocks.inline(block, self) for block in writeup.blocks)
        holder = etree.Element("t")
        holder.text = writeup.title[:255]  # escaped as the document's own text is (and refused as it is)
        title = etree.tostring(holder, encoding="unicode")[3:-4].encode("utf-8") if holder.text else b""
        filled = []
        for info, data in self.members:
            if hole in data:
                data = data.replace(hole, body, 1)
            elif title_hole in data:
                data = data.replace(title_hole, title, 1)
            filled.append((info, data))
        return _reproducible(filled)


def _skeleton(reference: Path | None, mark: str) -> _Skeleton | None:
    ref = reference.read_bytes() if reference is not None and reference.is_file() else b""
    key = content_hash(code_digest(), ref, mark)
    if key not in _SKELETONS:
        doc = reference_document(reference)
        if doc.element.body.find(qn("w:sectPr")) is None:
            _SKELETONS[key] = None
        else:
            if mark:
                _mark_headers(doc, mark)
            _SKELETONS[key] = _Skeleton(doc)
    return _SKELETONS[key]


_SKELETONS: dict[str, _Skeleton | None] = {}


def _add_block(doc: DocxDocument, block: Block, styles: _StyleIds) -> None:
    """One block appended to the document's body."""
    if isinstance(block, Title):
        para = _text_paragraph(doc, styles[STYLE_TITLE], [])
        for i, line in enumerate(balanced_lines(block.text, TITLE_CHARS)):
            run = para.add_run()
            if i:
                run.add_break()  # a line break of ours between the title's balanced lines
            if line:  # no empty w:t: kept XML read back would write it <w:t/>, not <w:t></w:t>
                run.add_text(line)
    elif isinstance(block, Heading):
        _text_paragraph(doc, styles[STYLE_HEADINGS[block.level]], [(block.full, False)])
    elif isinstance(block, Paragraph):
        _text_paragraph(doc, styles[STYLE_BODY], [(r.text, r.bold) for r in block.runs])
    elif isinstance(block, FigureTable):
        _table(doc, block, styles)
    elif isinstance(block, ChartImage):
        _chart(doc, block, styles)
    elif isinstance(block, Closing):
        _text_paragraph(doc, styles[STYLE_BODY], [])  # a blank line before the signature (GB/T 9704 7.3.5)
        for line in block.lines:
            _text_paragraph(doc, styles[STYLE_CLOSING], [(line, False)])
    elif isinstance(block, Note):
        _text_paragraph(doc, styles[STYLE_NOTE], [(block.text, False)])


class _Blocks:
    """Each block's body XML, made once. A block is rendered alone into a small document of the
    same reference (python-docx looks for the body's end on every paragraph it adds, so filling one
    big document cost time in its length squared) and its elements are moved into the write-up;
    lxml drops the namespace declarations the document already makes, so the saved file is the
    one rendering in place gives. Kept in memory for the documents of one build, and in the build
    cache by a hash of the block, the reference and the code."""

    NS = "docx-block"

    def __init__(self, reference: Path | None, store: Store | None) -> None:
        self.reference, self.store = reference, store
        ref = reference.read_bytes() if reference is not None and reference.is_file() else b""
        self.layout = content_hash(code_digest(), ref)

    def inline(self, block: Block, skeleton: _Skeleton) -> bytes:
        """The block's XML as written inside the skeleton's body, kept in the process."""
        key = content_hash(self.layout, repr(block))
        data = _INLINE_MEMO.get(key)
        if data is None:
            data = skeleton.inline(self.elements(block, key))
            if len(_INLINE_MEMO) > 200_000:
                _INLINE_MEMO.clear()
            _INLINE_MEMO[key] = data
        return data

    def elements(self, block: Block, key: str | None = None) -> list[Any]:
        key = key or content_hash(self.layout, repr(block))
        xml = _BLOCK_MEMO.get(key)
        if xml is None and self.store is not None:
            xml = self.store.get(self.NS, key)
        fresh = None
        if xml is None:
            fresh = self._render(block)
            xml = etree.tostring(fresh)
            if self.store is not None:
                self.store.put(self.NS, key, xml)
        global _memo_bytes
        if key not in _BLOCK_MEMO:
            if _memo_bytes > _BLOCK_MEMO_BYTES:
                _BLOCK_MEMO.clear()
                _memo_bytes = 0
            _BLOCK_MEMO[key] = xml
            _memo_bytes += len(xml)
        return list(fresh if fresh is not None else parse_xml(xml))

    def _render(self, block: Block) -> Any:
        # One scratch document per reference in the process: its body is emptied after each block.
        if self.layout not in _SCRATCH:
            scratch = reference_document(self.reference)
            _SCRATCH[self.layout] = scratch, _StyleIds(scratch)
        doc, styles = _SCRATCH[self.layout]
        _add_block(doc, block, styles)
        body = doc.element.body
        holder = OxmlElement("w:body")
        for child in list(body):
            if child.tag != _SECT_PR:
                holder.append(child)  # moved out: the scratch body is empty again
        return holder


_SECT_PR = qn("w:sectPr")
# The blocks of a build's write-ups: the whole casebook's and each cluster's share most of them.
_BLOCK_MEMO: dict[str, bytes] = {}
_BLOCK_MEMO_BYTES = 256 * 2**20  # a 1,000-cluster write-up's blocks take about 30 MB
_memo_bytes = 0
_INLINE_MEMO: dict[str, bytes] = {}  # the same, as written inside a document's body (_Skeleton)
_SCRATCH: dict[str, tuple[DocxDocument, _StyleIds]] = {}


def forget_kept() -> None:
    """Nothing kept in the process: blocks and skeletons read from the cache, or made, again."""
    global _memo_bytes
    _BLOCK_MEMO.clear()
    _INLINE_MEMO.clear()
    _SKELETONS.clear()
    _SCRATCH.clear()
    _PARAGRAPHS.clear()
    _TABLES.clear()
    _memo_bytes = 0


class _StyleIds:
    """Style ids by name, looked up once: python-docx resolves a name by scanning every style of
    the document for each paragraph, which was most of the time a write-up took. A style a
    district's reference lacks falls back to its body style rather than failing."""

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self.ids: dict[str, str | None] = {}
        self._names: set[str] | None = None

    def has(self, name: str) -> bool:
        """Whether the document defines a style of this name (not a fallback)."""
        if self._names is None:
            self._names = {s.name for s in self.doc.styles if s.name}
        return name in self._names

    def __getitem__(self, name: str) -> str | None:
        if name not in self.ids:
            try:
                self.ids[name] = self.doc.styles[name].style_id
            except KeyError:
                self.ids[name] = None if name == STYLE_BODY else self[STYLE_BODY]
        return self.ids[name]


def _styled(para: DocxParagraph, style_id: str | None) -> DocxParagraph:
    if style_id is not None:
        para._p.get_or_add_pPr().style = style_id
    return para


def _text_paragraph(doc: DocxDocument, style_id: str | None, runs: Iterable[tuple[str, bool]]) -> DocxParagraph:
    """A paragraph of runs appended to the body: a copy of one made through python-docx for the
    same style and bold runs, its texts set as python-docx sets them (its element layer costs
    ~0.4 ms a paragraph, seconds for a province's write-up)."""
    runs = list(runs)
    key = (style_id, tuple(bold for _, bold in runs))
    template = _PARAGRAPHS.get(key)
    if template is None:
        para = _styled(doc.add_paragraph(), style_id)
        _add_runs(para, [("", bold) for _, bold in runs])
        template = _PARAGRAPHS[key] = copy.deepcopy(para._p)
        para._p.getparent().remove(para._p)
    p = copy.deepcopy(template)
    for r, (text, _) in zip(p.r_lst, runs, strict=True):
        _set_text(r, text)
    _append_to_body(doc, p)
    return DocxParagraph(p, doc._body)


def _append_to_body(doc: DocxDocument, element: Any) -> None:
    """At the body's end, before its section properties (where python-docx adds a block)."""
    body = doc.element.body
    sect = body.find(_SECT_PR)
    if sect is not None:
        sect.addprevious(element)
    else:
        body.append(element)


# Paragraphs by (style id, bold runs), with empty runs: what _text_paragraph copies.
_PARAGRAPHS: dict[tuple[str | None, tuple[bool, ...]], Any] = {}


def _add_runs(para: DocxParagraph, runs: Iterable[tuple[str, bool]]) -> None:
    for text, bold in runs:
        run = para.add_run()
        # Assigned as the text of one w:t: python-docx escapes it and turns no character into
        # markup (writeup.clean already made tabs and breaks plain spaces).
        run.text = text
        if bold:
            run.bold = True


CHART_WIDTH_MM = 150  # inside the 156 mm 版心


def _chart(doc: DocxDocument, block: ChartImage, styles: _StyleIds) -> None:
    """A chart as a centred picture (PNG at print resolution, raster.svg_png) with its caption under
    it and its summary as the picture's alt text. The body's exact line pitch would clip a picture
    to one line, so its paragraph is single-spaced, unindented and off the character grid."""
    from .raster import svg_png

    para = _styled(doc.add_paragraph(), styles[STYLE_BODY])
    fmt = para.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.first_line_indent = Pt(0)
    fmt.keep_with_next = True
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    para._p.get_or_add_pPr().append(snap)
    run = para.add_run()
    run.add_picture(io.BytesIO(svg_png(block.svg, CHART_WIDTH_MM)), width=Mm(CHART_WIDTH_MM))
    doc_pr = run._r.find(".//" + qn("wp:docPr"))
    if doc_pr is not None:
        doc_pr.set("name", block.caption[:255])
        doc_pr.set("descr", block.summary)
    _text_paragraph(doc, styles[STYLE_TABLE_CAPTION], [(block.caption, False)])


def _table(doc: DocxDocument, block: FigureTable, styles: _StyleIds) -> None:
    _text_paragraph(doc, styles[STYLE_TABLE_CAPTION], [(block.caption, False)])
    ncols = len(block.columns)
    table_style = styles[STYLE_TABLE] if styles.has(STYLE_TABLE) else None
    cell_style = styles[STYLE_TABLE_TEXT]
    if all(len(values) == ncols for values in block.rows):
        # A copy of the table made once through python-docx for the same columns and styles, with
        # one empty body row that every row of this table copies (python-docx's cell layer costs
        # 0.2 ms a cell, seconds for a province's tables).
        key = (block.columns, table_style, cell_style, doc._block_width)
        if key not in _TABLES:
            made = _new_table(doc, block.columns, [tuple("" for _ in block.columns)], table_style, cell_style)
            _TABLES[key] = copy.deepcopy(made)
            made.getparent().remove(made)
        tbl = copy.deepcopy(_TABLES[key])
        template = tbl.tr_lst[1]
        tbl.remove(template)
        for values in block.rows:
            tr = copy.deepcopy(template)
            for run, value in zip(tr.iter(_W_R), values, strict=True):  # one run a cell
                _set_text(run, value)
            tbl.append(tr)
        _append_to_body(doc, tbl)
    else:
        _new_table(doc, block.columns, block.rows, table_style, cell_style)
    for note in block.notes:
        _text_paragraph(doc, styles[STYLE_TABLE_NOTE], [(note, False)])


# Tables by (columns, table and text styles, width), with one empty body row: what _table copies.
_TABLES: dict[tuple[Any, ...], Any] = {}


def _new_table(doc: DocxDocument, columns: tuple[str, ...], rows: Iterable[tuple[str, ...]],
               table_style: str | None, cell_style: str | None) -> Any:
    """A table made through python-docx: the header row bold and centred, widths by column."""
    rows = [columns, *rows]
    ncols = len(columns)
    table = doc.add_table(rows=len(rows), cols=ncols)
    if table_style is not None:
        table._tbl.tblPr.style = table_style
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    shares = column_shares(columns)
    width = text_width()
    widths = [Twips(width * s // sum(shares)) for s in shares]
    # All cells read once, row by row: python-docx's table.rows[r] and row.cells each walk the whole
    # table, which made a province casebook's 1,000-row table quadratic (minutes per build).
    cells = table._cells
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = cells[r * ncols + c]
            cell.width = widths[c]
            para = _styled(cell.paragraphs[0], cell_style)
            _add_runs(para, [(value, r == 0)])
            if r == 0:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for c, col in enumerate(table.columns):
        col.width = widths[c]
    repeat_header(table)
    cant_split(table)
    return table._tbl


_W_T, _W_R, _XML_SPACE = qn("w:t"), qn("w:r"), qn("xml:space")
_RUN_BREAKS = frozenset("\t\r\n")


def _set_text(run: Any, value: str) -> None:
    """An empty run's text as python-docx's ``text`` would set it (one w:t, spaces at its ends
    kept), without its per-character state machine; a tab or a break goes through python-docx."""
    if not value:
        return
    if _RUN_BREAKS.isdisjoint(value):
        t = etree.SubElement(run, _W_T)
        t.text = value  # lxml escapes it, and refuses what XML cannot hold, as python-docx does
        if len(value.strip()) < len(value):
            t.set(_XML_SPACE, "preserve")
    else:
        run.text = value


def _stamp() -> _dt.datetime:
    """The date written into the file and its zip members: fixed, so that a document's bytes
    depend on its content alone — not on the day, the clock or the build's environment (a site
    built twice, by two hosts, or from the cache is the same file for file)."""
    return _dt.datetime(2024, 1, 1)


def _reproducible(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    """The same package with every member dated alike (zipfile stamps members with the time)."""
    stamp = _stamp().timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            member = copy.copy(info)
            member.date_time = stamp
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, data)
    return out.getvalue()


def write_reference(path: Path) -> Path:
    """Write the default reference (for theme_overrides/writeup/reference.docx), reproducibly."""
    out = io.BytesIO()
    doc = default_reference()
    props = doc.core_properties
    props.created = props.modified = props.last_printed = _stamp()
    doc.save(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_reproducible(_members(out.getvalue())))
    return path


# --------------------------------------------------------------------------- on the site


def site_paths(book: Casebook, edition: Edition = PUBLIC) -> list[str]:
    """The write-ups the site offers: the whole casebook's and one per cluster (Word)."""
    name = edition.writeup
    return [writeup_path(name=name), *(writeup_path(c.id, name=name) for c in ordered_clusters(book))]


def site_documents(book: Casebook, reference: Path | None, store: Store, edition: Edition = PUBLIC,
                   published: dict[str, str] | None = None) -> Iterator[tuple[str, str, bytes | None]]:
    """Each of :func:`site_paths` with its key and bytes. A document is kept in the build cache by
    a hash of its blocks, the reference and the code, so only the write-ups whose text changed are
    made again (a cluster's edit remakes its own, the whole casebook's, and those whose lessons name
    it). ``published``: the keys of the site an incremental build continues, by path; a document
    whose key is the same there comes with no bytes (the published file is it, and is linked in)."""
    ref = reference.read_bytes() if reference is not None and reference.is_file() else b""
    derived = derive(book)
    layout = content_hash(code_digest(), ref)
    paths = site_paths(book, edition)
    published = published or {}
    for path, ids in zip(paths, [None, *([c.id] for c in ordered_clusters(book))], strict=True):
        # The site's copies carry the tables, not the charts: rasterising every chart for Word costs
        # about 0.25 s each (WeasyPrint lays out its text), minutes at a province's thousands of charts,
        # and the page beside the download has the charts and their files. `casebook writeup` draws them.
        writeup = build_writeup(book, ids, derived, charts=False, mark=edition.mark)
        key = content_hash(layout, repr(writeup))
        if published.get(path) == key:
            yield path, key, None
            continue
        data = store.get("writeup", key)
        if data is None:
            data = render_docx(writeup, reference, store)
            store.put("writeup", key, data)
        yield path, key, data


# What the write-ups' process hands back: each document's path, key and whether it wrote it; the
# build cache's new entries; and the case files it read, by display path → digest.
SiteDocuments = tuple[list[tuple[str, str, bool]], list[tuple[str, str, bytes]], dict[str, str]]


def start_site_documents(cases: Path, reference: Path | None, cache_dir: Path, out_dir: Path,
                         published: dict[str, str] | None) -> Future[SiteDocuments]:
    """The public edition's :func:`site_documents`, written into ``out_dir`` by a second process
    while the host renders the pages: at province scale they are most of a cold build. The child
    reads the casebook back from the build cache (never written: its new entries come back), so it
    is the casebook the pages show only when it read the same files: the build compares their
    digests with its own (see the session's write-ups output)."""
    import pickle

    from .downloads import second_process

    payload = pickle.dumps((cases, reference, cache_dir, out_dir, published), protocol=pickle.HIGHEST_PROTOCOL)
    return second_process("casebook.writeup_docx", payload, "生成经验材料失败",
                          pickle.loads)  # our own child's answer, never a file


def _child() -> None:
    import os
    import pickle
    import sys

    from .store import Collecting, open_store, write_atomic
    from .validate import load_casebook

    # The answer is a pickle on stdout, which the build loads: nothing else may ever reach it (a
    # message printing case text there could be read as pickle instructions). Whatever prints,
    # from Python or from a library's C code, goes to stderr; the answer to a copy of the pipe.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    cases, reference, cache_dir, out_dir, published = pickle.loads(sys.stdin.buffer.read())
    store = Collecting(open_store(cache_dir))
    book, errors = load_casebook(cases, store, keep=False)
    digests = {display: f.digest for display, f in book.files.items()}
    docs: list[tuple[str, str, bool]] = []
    if not errors:
        for path, key, data in site_documents(book, reference, store, PUBLIC, published):
            if data is not None:
                write_atomic(out_dir / path, data)
            docs.append((path, key, data is not None))
    entries = [(ns, key, value) for (ns, key), value in store.entries.items() if ns in ("writeup", _Blocks.NS)]
    answer.write(pickle.dumps((docs, entries, digests), protocol=pickle.HIGHEST_PROTOCOL))
    answer.close()
