"""Downloads an official can use (issue 14): file names that say what they hold, a 数据说明 sheet in
every workbook, an autofilter and a frozen header, and a datapackage.json that the `frictionless`
library validates — with '*' kept as what it is (desensitised), never a missing value or a number.

Built from a copy of the fictional figures fixture (虚构) with a publisher, a source date, a scoped
figure, a figure without a value and hostile indicator names added; real MkDocs builds, files read
back with openpyxl, csv and frictionless.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import unicodedata
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest
import yaml
from frictionless import Package, Resource, validate
from openpyxl import load_workbook

from casebook.derive import derive
from casebook.downloads import COLUMNS, FIELD_TABLE_HEADER, NOTES_SHEET, download_tables, write_downloads
from casebook.present import EDITIONS, NAME_LIMIT, download_name, download_path, download_stem
from casebook.validate import load_casebook

from sitebuild import build_project, make_project

FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"
PUBLISHER = "虚构*区农业农村局"  # desensitised in the source: shown as written
SOURCE_DATE = "2023-06-30"
# Hostile and awkward indicator names (case text arrives by pull request): path and URL syntax,
# a direction override, a formula, the notes sheet's own name, nothing usable at all, too long.
HOSTILE = {
    "collective-income": "../../村集体/收入 #1?&x=%2e（万元）",
    "e-commerce-sales": NOTES_SHEET,
    "jobs-created": "（ /\\:*?\"<>| ）",  # control and direction characters the loader refuses itself
    "land-transferred": "=HYPERLINK(\"http://evil.example\")" + "流转" * 40,
}


def fixture_copy(tmp: Path, names: dict[str, str] | None = None) -> Path:
    cases = tmp / "cases"
    shutil.copytree(FIGURES, cases)
    src = yaml.safe_load((cases / "sources.yaml").read_text(encoding="utf-8"))
    src["sources"][0].update(publisher=PUBLISHER, date=SOURCE_DATE)
    with (cases / "sources" / "fictional.txt").open("a", encoding="utf-8") as fh:
        fh.write(f"\n发布单位：{PUBLISHER}（虚构）\n")  # quoted fields must stand in the source text
    (cases / "sources.yaml").write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    alpha = cases / "clusters" / "fictional-alpha.yaml"
    text = alpha.read_text(encoding="utf-8").replace(
        "  - {indicator: jobs-created, year: 2023, value: 120}",
        "  - {indicator: jobs-created, year: 2023, value: 120}\n"
        "  - {indicator: jobs-created, year: 2022, value: 40, scope: 虚构公园项目}\n"
        "  - {indicator: land-transferred, year: 2021, period: 虚构的三年间}")
    alpha.write_text(text, encoding="utf-8")
    if names:
        cat = yaml.safe_load((cases / "indicators.yaml").read_text(encoding="utf-8"))
        for ind in cat["indicators"]:
            ind["name"] = names.get(ind["id"], ind["name"])
        (cases / "indicators.yaml").write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    return cases


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("downloads")
    return build_project(make_project(tmp, fixture_copy(tmp)))


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    return build_project(make_project(tmp, fixture_copy(tmp, HOSTILE)))


def catalogue(site: Path) -> dict[str, str]:
    cases = site.parent / "cases"
    return {i["id"]: i["name"] for i in yaml.safe_load((cases / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]}


def download_links(site: Path) -> dict[str, set[str]]:
    """Every link to a data download on every page, resolved to a site-relative path, by page."""
    out: dict[str, set[str]] = {}
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        for href in re.findall(r'href="([^"#]*downloads/[^"#]*)"', page.read_text(encoding="utf-8")):
            target = unquote(urljoin("http://x/" + rel, href).removeprefix("http://x/"))
            out.setdefault(target, set()).add(rel)
    return out


def table_files(site: Path, ext: str) -> list[Path]:
    """The data tables' files (downloads/ also holds the write-ups and the charts' own files)."""
    dl = site / "downloads"
    return sorted([*dl.glob(f"共富案例库-*.{ext}"), *(dl / "indicators").rglob(f"*.{ext}")])


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize("which", ["site", "hostile_site"])
def test_every_link_reaches_a_file_whose_name_says_what_it_holds(which, request):
    site: Path = request.getfixturevalue(which)
    names = catalogue(site)
    links = download_links(site)
    expected = {download_path(download_stem(), ext) for ext in ("csv", "xlsx", "json")}
    expected |= {download_path(download_stem(i, n), ext) for i, n in names.items() for ext in ("csv", "xlsx", "json")}
    assert expected <= set(links), expected - set(links)
    for target in links:
        path = (site / target).resolve()
        assert path.is_file() and path.is_relative_to((site / "downloads").resolve()), target
    assert {p.name for p in (site / "downloads").glob("*全部数据*")} == {f"共富案例库-全部数据.{e}" for e in ("csv", "xlsx", "json")}
    for ind_id, name in names.items():
        files = sorted(p.name for p in (site / "downloads" / "indicators" / ind_id).iterdir())
        stem = f"共富案例库-指标-{download_name(name) or ind_id}"
        assert files == [f"{stem}.{e}" for e in ("csv", "json", "xlsx")], files
        # Its indicator page links its own files; the whole casebook's are linked from the home page too.
        page = f"indicators/{ind_id}/index.html"
        assert all(page in links[download_path(download_stem(ind_id, name), e)] for e in ("csv", "xlsx", "json"))
    assert "index.html" in links[download_path(download_stem(), "xlsx")]
    if which == "site":  # plain names come through whole
        assert (site / "downloads" / "indicators" / "collective-income" / "共富案例库-指标-村集体经营性收入-虚构.xlsx").is_file()


def test_hostile_names_make_plain_file_names(hostile_site):
    got = {p.parent.name: p.stem for p in (hostile_site / "downloads" / "indicators").rglob("*.csv")}
    assert got["collective-income"] == "共富案例库-指标-村集体-收入-1-x-2e-万元"
    assert got["e-commerce-sales"] == "共富案例库-指标-数据说明"
    assert got["jobs-created"] == "共富案例库-指标-jobs-created"  # nothing of the name was usable
    assert got["land-transferred"] == "共富案例库-指标-HYPERLINK-http-evil-example-" + "流转" * 6  # 40 characters


def _sample_names() -> list[str]:
    # Every BMP character and two beyond it: any character a name may hold.
    return [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF] + ["\U0001F600", "\U00020000"]


def test_any_name_gives_a_file_name_of_letters_digits_and_dashes():
    """The whole class of input: every character (alone and inside a name) and long names."""
    for ch in _sample_names():
        for text in (ch, f"收入{ch}{ch}（万元）", ch * 3 + "." + ch):
            piece = download_name(text)
            assert re.fullmatch(r"[\w-]*", piece), (hex(ord(ch)), piece)
            assert not piece.startswith(("-", "_")) and not piece.endswith(("-", "_")), (hex(ord(ch)), piece)
            assert piece == unicodedata.normalize("NFKC", piece) and len(piece) <= NAME_LIMIT
            assert ".." not in piece and "/" not in piece and "\\" not in piece
    assert download_name("额" * 200) == "额" * NAME_LIMIT
    assert len(download_stem("x", "额" * 200).encode("utf-8")) < 200  # well below a file system's 255 bytes
    with pytest.raises(ValueError):
        download_stem("x")  # an indicator's link without its name would point at no file
    with pytest.raises(ValueError):
        download_stem("../x", "名称")  # ids are slugs


# --------------------------------------------------------------------------- the workbook


def workbooks(site: Path) -> list[Path]:
    books = table_files(site, "xlsx")
    assert len(books) == 1 + len(catalogue(site))
    return books


@pytest.mark.parametrize("which", ["site", "hostile_site"])
def test_every_workbook_has_a_filtered_frozen_data_sheet_then_the_notes(which, request):
    site: Path = request.getfixturevalue(which)
    for path in workbooks(site):
        wb = load_workbook(path)
        data, notes = wb.worksheets
        assert notes.title == NOTES_SHEET and data.title != NOTES_SHEET and wb.active is data, path.name
        header = [c.value for c in data[1]]
        assert header == [title for _, title, _ in COLUMNS]
        assert data.freeze_panes == "A2", path.name
        last = data.cell(1, len(COLUMNS)).column_letter
        assert data.auto_filter.ref == f"A1:{last}{max(data.max_row, 2)}", (path.name, data.auto_filter.ref)
        # The same rows as the CSV beside it.
        rows = csv_rows(path.with_suffix(".csv"))
        assert data.max_row == len(rows) + 1


def _notes(path: Path) -> tuple[dict[str, list[str]], list[tuple[str, ...]]]:
    ws = load_workbook(path)[NOTES_SHEET]
    about: dict[str, list[str]] = {}
    fields: list[tuple[str, ...]] = []
    in_fields = False
    for row in ws.iter_rows(min_row=2, values_only=True):
        cells = tuple("" if c is None else str(c) for c in row)
        if not any(cells):
            continue
        if cells[: len(FIELD_TABLE_HEADER)] == FIELD_TABLE_HEADER:
            in_fields = True
        elif in_fields:
            fields.append(cells[: len(FIELD_TABLE_HEADER)])
        elif cells[1]:
            about.setdefault(cells[0], []).append(cells[1])
    return about, fields


def test_the_notes_sheet_explains_star_blank_units_sources_edition_and_date(site):
    for path in workbooks(site):
        about, fields = _notes(path)
        rows = csv_rows(path.with_suffix(".csv"))
        assert about["版本"] == ["公开版"]
        # No git history in a test project: the export date is the latest source date, never today.
        assert about["导出日期"][0].startswith(SOURCE_DATE)
        assert about["发布单位"] == [PUBLISHER]  # the source's own '*', as written
        assert "不是 0" in about["数值为 *"][0] and "已脱敏" in about["数值为 *"][0]
        assert "未给出" in about["数值为空"][0]
        units = list(dict.fromkeys(r["单位"] for r in rows))
        assert about["计量单位"][0].endswith("本表涉及：" + "、".join(units))
        assert about["来源"] == list(dict.fromkeys(r["来源"] for r in rows))
        # DB33/T 2426-2022's attributes, one row per column of the data sheet.
        assert FIELD_TABLE_HEADER[:6] == ("中文名称", "数据类型", "计量单位", "来源机构", "版本", "发布日期")
        assert [f[0] for f in fields] == [title for _, title, _ in COLUMNS]
        assert {f[4] for f in fields} == {"公开版"} and {f[5] for f in fields} == {SOURCE_DATE}
        assert all(all(f[:4]) for f in fields), fields  # every attribute filled in
        value = next(f for f in fields if f[0] == "数值")
        assert value[2] == (units[0] if len(units) == 1 else "见“单位”列")
        assert "*" in value[1] and "不是 0" in value[6]


def test_export_date_is_the_last_commit_to_the_cases_and_the_edition_a_parameter(tmp_path):
    cases = fixture_copy(tmp_path)
    env = {"GIT_AUTHOR_NAME": "虚构", "GIT_AUTHOR_EMAIL": "x@example.invalid", "GIT_COMMITTER_NAME": "虚构",
           "GIT_COMMITTER_EMAIL": "x@example.invalid", "GIT_COMMITTER_DATE": "2021-03-04T05:06:07+08:00",
           "GIT_AUTHOR_DATE": "2021-03-04T05:06:07+08:00", "PATH": "/usr/bin:/bin"}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "虚构"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, env=env, check=True)
    book, errors = load_casebook(cases)
    assert errors == []
    for which in ("public", "internal"):
        edition = EDITIONS[which]
        tables, titles = download_tables(book, derive(book), edition)
        label = edition.label
        assert {t.updated for t in tables} == {"2021-03-04"} and {t.edition for t in tables} == {label}
        files, _ = write_downloads(tables, titles)
        by_path = {f.path: f.content for f in files}
        out = tmp_path / which
        out.mkdir()
        # The internal edition's files are named as such, and so is every workbook's sheet.
        named = download_path(download_stem(prefix=edition.prefix), "xlsx")
        assert ("内部资料" in named) == edition.internal
        (out / "a.xlsx").write_bytes(by_path[named])
        about, fields = _notes(out / "a.xlsx")
        assert about["版本"] == [label] and about["导出日期"][0].startswith("2021-03-04")
        assert {f[4] for f in fields} == {label}
        assert ("内部资料" in " ".join(load_workbook(out / "a.xlsx").sheetnames)) == edition.internal
        package = json.loads(by_path["downloads/datapackage.json"])
        assert label in package["title"] and "2021-03-04" in package["description"]


# --------------------------------------------------------------------------- the data package


@pytest.mark.parametrize("which", ["site", "hostile_site"])
def test_datapackage_is_valid_for_frictionless_and_describes_every_file(which, request):
    site: Path = request.getfixturevalue(which)
    dl = site / "downloads"
    report = validate(str(dl / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "type", "note"])[:10]
    assert len(report.tasks) == 3 * (1 + len(catalogue(site)))
    assert all(t.stats["rows"] for t in report.tasks), "every table was read, row by row"
    package = json.loads((dl / "datapackage.json").read_text(encoding="utf-8"))
    described = {res["path"] for res in package["resources"]}
    on_disk = {p.relative_to(dl).as_posix() for ext in ("csv", "xlsx", "json") for p in table_files(site, ext)}
    assert described == on_disk
    for res in package["resources"]:
        body = (dl / res["path"]).read_bytes()
        assert res["hash"] == "sha256:" + hashlib.sha256(body).hexdigest(), res["path"]
        assert res.get("bytes", len(body)) == len(body)
        assert re.fullmatch(r"[a-z0-9-]+", res["name"])


def test_star_is_a_desensitised_value_not_a_missing_one(site):
    """Read as a data tool reads them (frictionless casts by the schema): '*' comes back as '*' and a
    blank as nothing, in the CSV, the workbook and the JSON, each agreeing with 公开状态."""
    package = Package(str(site / "downloads" / "datapackage.json"))
    seen = set()
    for res in package.resources:
        assert res.schema.missing_values == [""]
        value = "value" if res.format == "json" else "数值"
        state = "disclosure" if res.format == "json" else "公开状态"
        for row in res.read_rows():
            v = row[value]
            if row[state] == "已脱敏":
                assert v == "*", (res.name, row)
            elif row[state] == "未给出":
                assert v is None, (res.name, row)
            else:
                assert row[state] == "已公开"
                # A number: text of one in the CSV (its pattern checked), a number elsewhere.
                assert (re.fullmatch(r"-?\d+(\.\d+)?", v) if res.format == "csv"
                        else isinstance(v, int | float | Decimal) and not isinstance(v, bool)), (res.name, v)
            seen.add((res.format, row[state]))
    assert seen == {(f, s) for f in ("csv", "xlsx", "json") for s in ("已脱敏", "未给出", "已公开")}


def test_every_row_keeps_its_scope(site):
    for path in table_files(site, "csv"):
        rows = csv_rows(path)
        assert rows and all(r["统计范围"] for r in rows), path.name
        jobs = [r for r in rows if r["指标标识"] == "jobs-created" and r["组团标识"] == "fictional-alpha"]
        if jobs:
            assert {(r["年份"], r["统计范围"]) for r in jobs} == {("2023", "全组团"), ("2022", "虚构公园项目")}


@pytest.mark.parametrize("cell, column, error", [
    ("52万", "数值", "constraint-error"),  # not a number, not '*'
    ("0", "公开状态", "constraint-error"),  # not one of the three states
    ("52*", "数值", "constraint-error"),
    ("23", "年份", "constraint-error"),
    ("20233", "年份", "constraint-error"),
    ("", "组团标识", "constraint-error"),  # required
])
def test_frictionless_catches_a_wrong_cell(site, tmp_path, cell, column, error):
    """The schema is a real check: one wrong cell in a copy of the CSV makes the resource invalid."""
    dl = tmp_path / "downloads"
    shutil.copytree(site / "downloads", dl)
    package = json.loads((dl / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in package["resources"] if r["name"] == "casebook-csv")
    rows = list(csv.reader(io.StringIO((dl / res["path"]).read_text(encoding="utf-8-sig"), newline="")))
    rows[1][rows[0].index(column)] = cell
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (dl / res["path"]).write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    descriptor = {k: v for k, v in res.items() if k not in ("hash", "bytes")}
    report = Resource(descriptor, basepath=str(dl)).validate()
    assert not report.valid
    assert {e.type for e in report.tasks[0].errors} == {error}
    assert report.tasks[0].errors[0].field_name == column  # type: ignore[attr-defined]
    # The untouched file is valid under the same descriptor.
    assert Resource(descriptor, basepath=str(site / "downloads")).validate().valid


def test_the_hostile_workbook_keeps_both_sheets_and_text_as_text(hostile_site):
    path = next((hostile_site / "downloads" / "indicators" / "e-commerce-sales").glob("*.xlsx"))
    wb = load_workbook(path)
    assert wb.sheetnames == [NOTES_SHEET + "_", NOTES_SHEET]
    path = next((hostile_site / "downloads" / "indicators" / "land-transferred").glob("*.xlsx"))
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f"
    assert load_workbook(path).worksheets[0]["D2"].value.startswith("=HYPERLINK")  # shown as written, inert
