"""The leak check of the internal edition (issue 15): casebook.leaks finds an overlay's secrets in a
built public site, in every kind of file the site publishes and every form a secret can be written
in, and words the refusal safely.

Every secret here is fictional (虚构): 8367 亩 of paddy, the town 青山镇, 30 people, the year 2019.
Files are real: pages and SVG as written by hand, workbooks written with openpyxl, Word files with
python-docx, gzip with the standard library, and two real MkDocs builds of the project's casebook.
"""

from __future__ import annotations

import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
import xlsxwriter
from docx import Document
from openpyxl import Workbook

from casebook import leaks
from casebook.figures import UNIT_FAMILIES, convert
from casebook.leaks import HIDDEN, Leak, Secret, describe, forms, origin, scan

from helpers import line_of, replace
from sitebuild import build_project, make_project

ROOT = Path(__file__).resolve().parents[1]
CASE = "cases/clusters/grain-store.yaml"
PADDY = Secret("figure", "overlay/clusters/grain-store.yaml:12", CASE, "水田面积（*粮仓）（虚构）",
               value=Decimal(8367), unit="亩")
TOWN = Secret("name", "overlay/clusters/grain-store.yaml:3", CASE, "乡镇名称“*山镇”（虚构）", text="青山镇")
PEOPLE = Secret("figure", "overlay/clusters/grain-store.yaml:20", CASE, "带动就业人数（虚构）",
                value=Decimal(30), unit="人")
YEAR = Secret("year", "overlay/clusters/grain-store.yaml:25", CASE, "土地流转年份（虚构）", text="2019")
ALL = [PADDY, TOWN, PEOPLE, YEAR]


def site_with(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    site = tmp_path / "site"
    for rel, body in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    return site


def found(leaks_found: list[Leak]) -> set[tuple[str, str, str]]:
    """(file, secret label, form) of each leak."""
    return {(leak.file, leak.secret.label, leak.form) for leak in leaks_found}


def text_leaks(tmp_path: Path, text: str, secrets: list[Secret] | None = None, name: str = "page.txt") -> set[str]:
    """The forms found in one published text file."""
    return {leak.form for leak in scan(site_with(tmp_path, {name: text}), secrets or ALL)}


# --------------------------------------------------------------------------- every kind of file


def test_page_text_and_attributes_are_read_but_not_drawing_geometry(tmp_path: Path) -> None:
    spec = json.dumps({"data": {"values": [{"town": "青山镇", "value": 8367, "text": "8,367亩"}]}}, ensure_ascii=False)
    page = f"""<!doctype html><html><head><title>虚构</title>
<style>.x {{ width: 8367px }}</style>
<script id="__config" type="application/json">{{"search.result.one": "找到 30 人"}}</script></head>
<body><article>
<p>组团水田面积8,367亩（虚构）。</p>
<img src="a.png" alt="青山镇航拍（虚构）">
<figure data-cb-spec="{spec.replace('"', '&quot;')}"></figure>
<svg viewBox="0 0 8367 300" role="img" aria-label="2019年的图（虚构）"><rect x="8367" width="8367"/>
<text x="12" y="8367">30 人</text></svg>
</article></body></html>"""
    got = found(scan(site_with(tmp_path, {"cases/grain-store/index.html": page}), ALL))
    assert got == {
        ("cases/grain-store/index.html", PADDY.label, "8,367亩"),  # prose
        ("cases/grain-store/index.html", TOWN.label, "青山镇"),  # alt, and the spec's string
        ("cases/grain-store/index.html", PADDY.label, "8367"),  # the spec's number
        ("cases/grain-store/index.html", YEAR.label, "2019年"),  # aria-label
    }
    # "30 人" in the SVG is set as the site sets its own counts (a space before the unit): a small
    # number so written is not taken for a figure (the chart's data table, value and unit in cells
    # of their own, is where a drawn figure is found).
    # ... and never the stylesheet's 8367px, the theme's "找到 30 人", or coordinates and sizes.


def test_inline_markup_does_not_hide_a_secret(tmp_path: Path) -> None:
    page = "<p>面积8<b>367</b>亩，<span class=\"x\">青山</span>镇，<em>30</em>人</p>"
    assert text_leaks(tmp_path, page, name="a.html") == {"8367亩", "青山镇", "30人"}


def test_escapes_that_hide_a_name_are_decoded(tmp_path: Path) -> None:
    files = {
        "a.html": "<p>&#38738;&#x5c71;镇</p>",  # character references
        "b.json": json.dumps({"t": "青山镇"}, ensure_ascii=True),  # JSON \\u escapes
        "c.html": f'<a href="../tags/{quote("青山镇")}/">标签</a>',  # a percent-encoded URL
        "d.txt": "青\u2f2d镇",  # a Kangxi radical that NFKC reads as 山
        "e.txt": "\uff18\uff13\uff16\uff17亩",  # full-width digits
    }
    got = {(leak.file, leak.secret.label) for leak in scan(site_with(tmp_path, files), ALL)}
    assert got == {("a.html", TOWN.label), ("b.json", TOWN.label), ("c.html", TOWN.label),
                   ("d.txt", TOWN.label), ("e.txt", PADDY.label)}


def test_search_index_files(tmp_path: Path) -> None:
    # Documents are numbered by their keys: document 8367 is no figure.
    text = "\ufeff__cbText(4," + json.dumps({"8367": "组团位于青山镇，水田面积8,367亩"}, ensure_ascii=False) + ");"
    titles = "\ufeff__cbTitles(0," + json.dumps([["cases/x/", "“青山镇”组团", [["", "x"]]]], ensure_ascii=False) + ");"
    # A shard's keys are term prefixes (8367 is a term of 83670): made only from the texts above.
    shard = "\ufeff__cbShard(0," + json.dumps({"8367": [4], "青山": [4]}, ensure_ascii=False) + ");"
    site = site_with(tmp_path, {"search/text/4.js": text, "search/titles/0.js": titles, "search/shards/0.js": shard})
    assert found(scan(site, ALL)) == {("search/text/4.js", TOWN.label, "青山镇"),
                                      ("search/text/4.js", PADDY.label, "8,367亩"),
                                      ("search/titles/0.js", TOWN.label, "青山镇")}


def test_csv_cells(tmp_path: Path) -> None:
    csv_text = ("\ufeff组团,指标,年份,限定词,数值,单位,原文\r\n"
                "虚构,人数,2023,,30,人,带动30余人就业\r\n"  # the figure and its unit side by side; the quote
                "虚构,人数,30,,12,人,\r\n"  # 30 in the year's cell, not beside a unit: no figure
                '虚构,面积,2023,,8367,亩,"水田8,367亩"\r\n')
    got = found(scan(site_with(tmp_path, {"downloads/all.csv": csv_text}), ALL))
    assert got == {("downloads/all.csv", PEOPLE.label, "30人"), ("downloads/all.csv", PEOPLE.label, "30余人"),
                   ("downloads/all.csv", PADDY.label, "8367亩"), ("downloads/all.csv", PADDY.label, "8,367亩")}


def test_json_values(tmp_path: Path) -> None:
    rows = [{"owner": "虚构", "year": "30", "value": 12, "unit": "人"},  # 30 is no figure here
            {"owner": "虚构", "year": "2023", "value": 30, "unit": "人"},
            {"owner": "虚构", "domain": [5, 8367]}]  # a number in an array, beside another
    body = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"
    got = found(scan(site_with(tmp_path, {"downloads/all.json": body}), ALL))
    assert got == {("downloads/all.json", PEOPLE.label, "30人"), ("downloads/all.json", PADDY.label, "8367")}


ROWS = [["组团", "年份", "数值", "单位", "原文"], ["虚构", 2023, 30, "人", "水田面积8,367亩"], ["虚构", 2023, 8367, "亩", "虚构"]]


def test_digits_that_are_no_figure(tmp_path: Path) -> None:
    # A data package's byte counts and digests, a chart's layout, ids and sizes in text: never
    # figures, whatever their digits.
    package = json.dumps({"resources": [{"path": "a.csv", "bytes": 8367, "hash": "sha256:08367ab8367cd"}],
                          "config": {"view": {"continuousWidth": 8367}}, "data": [{"value": 8367}]})
    site = site_with(tmp_path, {"downloads/datapackage.json": package, "a.txt": "rId8367、8367px、v8367、x.8367"})
    assert found(scan(site, ALL)) == {("downloads/datapackage.json", PADDY.label, "8367")}  # the value only


def test_workbook_written_by_openpyxl(tmp_path: Path) -> None:
    # openpyxl writes text inline, every Chinese character as a character reference.
    wb = Workbook()
    for row in ROWS:
        wb.active.append(row)
    wb.active.title = "青山镇"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    got = found(scan(site_with(tmp_path, {"downloads/x.xlsx": path.read_bytes()}), ALL))
    assert got == {("downloads/x.xlsx!xl/worksheets/sheet1.xml", PEOPLE.label, "30人"),
                   ("downloads/x.xlsx!xl/worksheets/sheet1.xml", PADDY.label, "8367亩"),
                   ("downloads/x.xlsx!xl/worksheets/sheet1.xml", PADDY.label, "8,367亩"),
                   ("downloads/x.xlsx!xl/workbook.xml", TOWN.label, "青山镇")}  # the sheet's name


def test_workbook_written_as_the_site_writes_them(tmp_path: Path) -> None:
    # XlsxWriter (the site's downloads) keeps text in shared strings, a cell holding an index into
    # them: with this many strings one cell holds index 8367, which is no figure of the sheet.
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("青山镇")
    for r, row in enumerate([*ROWS, *([f"虚构{chr(0x4E00 + n)}"] for n in range(9000))]):
        for c, value in enumerate(row):
            (ws.write_number if isinstance(value, int) else ws.write_string)(r, c, value)
    wb.close()
    got = found(scan(site_with(tmp_path, {"downloads/x.xlsx": path.read_bytes()}), ALL))
    assert got == {("downloads/x.xlsx!xl/worksheets/sheet1.xml", PEOPLE.label, "30人"),
                   ("downloads/x.xlsx!xl/worksheets/sheet1.xml", PADDY.label, "8367亩"),
                   ("downloads/x.xlsx!xl/sharedStrings.xml", PADDY.label, "8,367亩"),
                   ("downloads/x.xlsx!xl/workbook.xml", TOWN.label, "青山镇"),
                   ("downloads/x.xlsx!docProps/app.xml", TOWN.label, "青山镇")}


def test_word_document_runs_and_tables(tmp_path: Path) -> None:
    doc = Document()
    para = doc.add_paragraph("组团位于")
    para.add_run("青山").bold = True  # one name in two runs
    para.add_run("镇（虚构）")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "30"
    table.cell(0, 1).text = "人"
    doc.core_properties.title = "2019年经验材料（虚构）"
    path = tmp_path / "w.docx"
    doc.save(str(path))
    got = found(scan(site_with(tmp_path, {"downloads/w.docx": path.read_bytes()}), ALL))
    assert got == {("downloads/w.docx!word/document.xml", TOWN.label, "青山镇"),
                   ("downloads/w.docx!word/document.xml", PEOPLE.label, "30人"),
                   ("downloads/w.docx!docProps/core.xml", YEAR.label, "2019年")}


def test_gzip_svg_css_and_paths(tmp_path: Path) -> None:
    sitemap = f"<urlset><url><loc>https://example.invalid/tags/{quote('青山镇')}/</loc></url></urlset>"
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect x="8367" y="0"/><text x="1">8,367</text></svg>'
    css = ':root { --cb-colophon: "来源：虚构 \\9752\\5c71 镇"; } .a { width: 8367px; }'
    site = site_with(tmp_path, {"sitemap.xml.gz": gzip.compress(sitemap.encode()), "charts/a.svg": svg,
                                "assets/casebook/colophon.css": css, "tags/青山镇/index.txt": "虚构"})
    assert found(scan(site, ALL)) == {("sitemap.xml.gz", TOWN.label, "青山镇"),
                                      ("charts/a.svg", PADDY.label, "8,367"),
                                      ("assets/casebook/colophon.css", TOWN.label, "青山镇"),
                                      ("tags/青山镇/index.txt", TOWN.label, "青山镇")}  # the path itself


def test_shipped_static_files_are_skipped_only_when_unchanged(tmp_path: Path) -> None:
    shipped = (ROOT / "generator" / "casebook" / "assets" / "casebook.js").read_text(encoding="utf-8")
    # A name the package's own script happens to contain: found only in a copy that was changed.
    word = next(w for w in shipped.split() if len(w) >= 8 and w.isidentifier())
    secret = Secret("name", "overlay/x.yaml:1", CASE, "虚构名称", text=word)
    site = site_with(tmp_path, {"assets/casebook/casebook.js": shipped,
                                "assets/casebook/find.js": shipped + "\n// 虚构"})
    assert {leak.file for leak in scan(site, [secret])} == {"assets/casebook/find.js"}


# --------------------------------------------------------------------------- forms


def family_cases() -> list[tuple[str, str, Decimal]]:
    """Every unit of every family with more than one, a specific value in its base unit."""
    out = []
    for members in UNIT_FAMILIES.values():
        base = next(u for u, k in members.items() if k == 1)
        # 123,456,000: six significant digits, and in every unit of its family six decimals at most
        # (more is not a way anyone writes a figure, see figures.MAX_DECIMAL_PLACES).
        out += [(base, unit, Decimal("123456000")) for unit in members if unit != base]
    return out


@pytest.mark.parametrize(("unit", "written_in", "value"), family_cases())
def test_a_figure_is_found_in_every_unit_of_its_family(tmp_path: Path, unit: str, written_in: str,
                                                        value: Decimal) -> None:
    secret = Secret("figure", "overlay/x.yaml:1", CASE, "虚构指标", value=value, unit=unit)
    converted = convert(value, unit, written_in)
    texts = [f"共{converted:f}{written_in}", f"共{converted:,f}{written_in}", f"共{converted:f} {written_in}"]
    for text in texts:
        assert text_leaks(tmp_path, text, [secret]), text
    # ... and in the unit it is kept in, with 万/亿 spelled out as the source would.
    assert text_leaks(tmp_path, f"约{value / 10000:f}万{unit}", [secret])


def test_every_listed_form_is_found(tmp_path: Path) -> None:
    secrets = [PADDY, TOWN, PEOPLE, YEAR,
               Secret("figure", "o:1", CASE, "投资（虚构）", value=Decimal("12345"), unit="元"),
               Secret("figure", "o:2", CASE, "比例（虚构）", value=Decimal("5"), unit="%"),
               Secret("figure", "o:3", CASE, "面积（虚构）", value=Decimal("3.25"), unit="平方公里")]
    for secret in secrets:
        listed = forms(secret)
        assert listed
        for form in listed:
            assert text_leaks(tmp_path, f"虚构：{form}。", [secret]) == {form}, form


@pytest.mark.parametrize("text", ["18367", "83670", "8367.5", "2.8367", "8,3670", "18,367", "1.8367万",
                                  "8367年", "8367", "8367人"])
def test_digit_boundaries(tmp_path: Path, text: str) -> None:
    # Only the whole number 8367 is the figure, bare or in its own quantity's unit; 8367年 is a
    # year or a span of years and 8367人 a head count, not an area.
    expected = text == "8367"
    assert bool(text_leaks(tmp_path, f"虚构{text}。", [PADDY])) is expected


def test_trailing_zeros_and_grouping(tmp_path: Path) -> None:
    for text in ["8367.0", "8367.00亩", "8,367.0亩", "0.83670万亩", "8，367亩", "８，３６７亩"]:
        assert text_leaks(tmp_path, f"虚构{text}。", [PADDY]), text


LOW = [Secret("figure", "o:1", CASE, "人数（虚构）", value=Decimal(30), unit="人"),
       Secret("figure", "o:2", CASE, "比例（虚构）", value=Decimal(5), unit="%"),
       Secret("figure", "o:3", CASE, "个数（虚构）", value=Decimal(100), unit="个"),
       Secret("figure", "o:4", CASE, "人数（虚构）", value=Decimal(30000), unit="人")]


@pytest.mark.parametrize("secret", LOW, ids=lambda s: f"{s.value}{s.unit}")
def test_low_specificity_needs_its_unit(tmp_path: Path, secret: Secret) -> None:
    assert secret.value is not None
    number = f"{secret.value:f}"
    for text in [f"共{number}{secret.unit}", f"共{number}余{secret.unit}",
                 f"共{number}多{secret.unit}", f"共{secret.value:,f}{secret.unit}"]:
        assert text_leaks(tmp_path, text, [secret]), text
    # With a space before the unit it is set as the site's own counts are ("全部 40 个见下表"):
    # a small number is then not taken for the figure; a specific one still is.
    assert bool(text_leaks(tmp_path, f"共{number} {secret.unit}", [secret])) is (len(number.strip("0")) >= 3)
    # Not the figure: a bare number, a longer or a decimal one, one in a unit of another quantity.
    for text in [f"共{number}", f"第{number}页", f"共1{number}{secret.unit}", f"共{number}.5{secret.unit}",
                 f"共{number}个月", f"共{number}年", f"共{number}人次"]:
        assert not text_leaks(tmp_path, text, [secret]), text


def test_low_specificity_in_other_units_of_its_family(tmp_path: Path) -> None:
    assert text_leaks(tmp_path, "约3万人", [LOW[3]]) == {"3万人"}
    assert text_leaks(tmp_path, "约0.003万人", [LOW[0]]) == {"0.003万人"}
    assert not text_leaks(tmp_path, "约3万", [LOW[3]])


def test_years_need_nian(tmp_path: Path) -> None:
    assert text_leaks(tmp_path, "自2019年起", [YEAR]) == {"2019年"}
    assert text_leaks(tmp_path, "自2019 年起", [YEAR]) == {"2019 年"}
    for text in ["编号2019", "12019年", "2019.5年", "2019人"]:
        assert not text_leaks(tmp_path, text, [YEAR]), text


def test_hostile_secret_text_is_literal(tmp_path: Path) -> None:
    odd = Secret("name", "o:1", CASE, "虚构", text="(青)山.*镇[")
    assert text_leaks(tmp_path, "虚构(青)山.*镇[。青山镇", [odd]) == {"(青)山.*镇["}


# --------------------------------------------------------------------------- what is public already


def test_public_texts_drop_what_they_already_publish(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"a.txt": "水田面积8367亩，约0.8367万亩；青山镇；带动30人；编号8367"})
    assert scan(site, ALL, public_texts=["原文：水田面积8,367亩。组团在青山镇。"]) == [
        Leak("a.txt", PEOPLE, "30人", "水田面积8367亩，约0.8367万亩；青山镇；带动30人；编号8367")]
    # A public number alone does not make the figure public: 8367人次 is another quantity.
    forms_left = {leak.form for leak in scan(site, [PADDY], public_texts=["游客8367人次"])}
    assert forms_left == {"8367亩", "0.8367万亩"}


# --------------------------------------------------------------------------- the message


def test_describe_names_file_origin_entry_and_fix(tmp_path: Path) -> None:
    case_files = {CASE: "id: grain-store\nsummary: >-\n  水田面积8,367亩（虚构）\n", "cases/other.yaml": "id: x\n"}
    leak = Leak("cases/grain-store/index.html", PADDY, "8,367亩", "……水田面积8,367亩（虚构）……")
    assert origin(leak, case_files) == f"{CASE}:3"
    message = describe([leak], case_files)
    for part in ("cases/grain-store/index.html", f"{CASE}:3", "第 3 行", PADDY.entry, PADDY.label, "提示："):
        assert part in message, part
    assert "'*'" in message
    # The refusal lands in CI logs, public for a public repository: the secret itself is hidden.
    assert "8,367" not in message and "8367" not in message and HIDDEN in message
    shown_too = describe([leak], case_files, redact=False)  # for a data owner's own terminal
    assert "8,367亩" in shown_too
    # A value written only in a field: still found, on its line.
    assert origin(leak, {CASE: "observations:\n  - indicator: paddy-area\n    value: 8367\n"}) == f"{CASE}:3"
    assert origin(leak, {"cases/other.yaml": "id: x\n"}) is None
    assert "没有找到" in describe([leak], {})


def test_describe_escapes_hostile_text_and_caps_the_list() -> None:
    hostile = Secret("name", "overlay/x.yaml:1\x1b[2J", "cases/x.yaml\n::error::虚构", "名称\x1b[31m红\u202e", text="青山镇")
    leak = Leak("a\x1b]8;;http://x\x07.html", hostile, "青山镇", "前\x1b[31m文\n::warning::后\r青山镇")
    message = describe([leak] * 60, {})
    assert "\x1b" not in message and "\x07" not in message and "\r" not in message and "\u202e" not in message
    assert "\\u001b" in message
    lines = message.split("\n")
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert message.count("公开文件 ") == leaks.LISTED_LEAKS
    assert lines[-1].startswith("另有 10 处")


# --------------------------------------------------------------------------- helpers in parallel


def test_helper_processes_find_what_one_process_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {f"p/{n}.html": f"<p>虚构{n}：水田{n}亩</p>" for n in range(40)}
    files["p/7.html"] = "<p>水田面积8,367亩，青山镇</p>"
    files["downloads/a.csv"] = "数值,单位\r\n30,人\r\n"
    site = site_with(tmp_path, files)
    alone = scan(site, ALL)
    monkeypatch.setattr(leaks, "_PARALLEL_BYTES", 0)
    monkeypatch.setattr(leaks, "_workers", lambda: 2)
    assert scan(site, ALL) == alone
    assert found(alone) == {("p/7.html", PADDY.label, "8,367亩"), ("p/7.html", TOWN.label, "青山镇"),
                            ("downloads/a.csv", PEOPLE.label, "30人")}


# --------------------------------------------------------------------------- the project's own site


def public_texts() -> list[str]:
    """What the project publishes as it is: the public source document, and the hand-written pages
    (the guide itself names 青山镇 as the example of a filled-in name)."""
    files = [*sorted((ROOT / "cases" / "sources").glob("*.txt")), *sorted((ROOT / "content").rglob("*.md"))]
    return [p.read_text(encoding="utf-8") for p in files]


def test_the_public_casebook_holds_no_fictional_secret(real_site: Path) -> None:
    assert scan(real_site, ALL, public_texts()) == []


def test_a_planted_value_is_found_in_page_and_search_index_and_traced_to_its_line(tmp_path: Path) -> None:
    book = tmp_path / "cases"
    shutil.copytree(ROOT / "cases", book)
    replace(book, "clusters/grain-store.yaml", "包含*个行政村和*亩水田，", "包含*个行政村和*亩水田（水田面积8,367亩），")
    site = build_project(make_project(tmp_path, book))
    found_leaks = scan(site, [PADDY, TOWN], public_texts())
    files = {leak.file for leak in found_leaks}
    assert "cases/grain-store/index.html" in files
    assert any(f.startswith("search/text/") for f in files)
    assert {leak.form for leak in found_leaks} == {"8,367亩"}
    assert all(leak.secret == PADDY for leak in found_leaks)
    case_files = {f"cases/{p.relative_to(book).as_posix()}": p.read_text(encoding="utf-8")
                  for p in sorted(book.rglob("*.yaml"))}
    page_leak = next(leak for leak in found_leaks if leak.file == "cases/grain-store/index.html")
    line = line_of(book, "clusters/grain-store.yaml", "8,367")
    assert origin(page_leak, case_files) == f"{CASE}:{line}"
    message = describe(found_leaks, case_files)
    assert f"{CASE}:{line}" in message and "cases/grain-store/index.html" in message
