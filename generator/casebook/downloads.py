"""Data downloads: every figure as CSV (UTF-8 with BOM, for Excel), XLSX and JSON, for the whole
casebook and for each indicator, described by a Frictionless ``datapackage.json``.

Each row carries owner (cluster or alliance), indicator, year, value — a number, or '*' where the
source is desensitised, or empty where the source gives none — unit, disclosure state (in the
site's words: present.STATES), scope (全组团 / 全区 when the figure covers its whole owner) and
source. Every workbook has a 数据说明 sheet after the data: what '*' and blank mean, units, sources,
edition and export date, and one row per data column with the metadata attributes of DB33/T
2426-2022. File names say what a file holds (present.download_stem). Files are byte-for-byte
reproducible (no timestamps; the export date is the casebook's last update, not the build's), so
an unchanged casebook publishes unchanged files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .book import Casebook
from .derive import Derived
from .escaping import spreadsheet_text
from .figures import DESENSITISED, strip_zeros
from .present import (
    DATAPACKAGE_PATH,
    DESENSITISED_NOTE,
    DOWNLOAD_PREFIX,
    EDITIONS,
    EDITORIAL_MARKS,
    PUBLIC,
    STATES,
    Edition,
    State,
    StateName,
    disclosure,
    download_path,
    download_stem,
    scope_text,
    source_labels,
)
from .store import Store, code_digest, content_hash

T = TypeVar("T")

# (key in JSON, column title in CSV/XLSX, Frictionless type of the CSV column)
COLUMNS: list[tuple[str, str, str]] = [
    ("owner_id", "组团标识", "string"),
    ("owner", "组团", "string"),
    ("indicator_id", "指标标识", "string"),
    ("indicator", "指标", "string"),
    ("year", "年份", "string"),
    ("period", "时期", "string"),
    ("qualifier", "限定词", "string"),
    # A number or '*' (see VALUE_PATTERN): Table Schema has no "number or desensitised" type.
    ("value", "数值", "string"),
    ("unit", "单位", "string"),
    ("disclosure", "公开状态", "string"),
    ("scope", "统计范围", "string"),
    ("quote", "原文", "string"),
    ("source", "来源", "string"),
    # What in the row is the editors' rather than the source's (a document title they gave it).
    ("editorial", "编者标注", "string"),
]

EDITION = PUBLIC.label  # the label of the edition a table belongs to (present.EDITIONS)
UNKNOWN = "不详"  # a date or a publisher the casebook does not record
EDITORS = "共富案例库编者"
FROM_SOURCE = "来源文档的发布单位（见“来源”列）"
NOT_APPLICABLE = "不适用"
NOTES_SHEET = "数据说明"

# The value column's text in the CSV: a plain decimal as the source gives it, or '*'. Grouped
# whole: frictionless anchors a pattern as ^…$, which would bind to the first alternative only.
VALUE_PATTERN = r"(-?[0-9]+(\.[0-9]+)?|\*)"
YEAR_PATTERN = r"([0-9]{4}|\*)"

# Per column, the DB33/T 2426-2022 attributes that are not the same for every column — 数据类型
# (the standard's words: 字符型, 数值型), who the content comes from (来源机构) — and what it holds.
FIELD_NOTES: dict[str, tuple[str, str, str]] = {
    "owner_id": ("字符型", EDITORS, "组团（或联盟）的英文短标识，全库唯一，可用来合并表格"),
    "owner": ("字符型", EDITORS, "组团或联盟的名称"),
    "indicator_id": ("字符型", EDITORS, "指标的英文短标识，全库唯一"),
    "indicator": ("字符型", EDITORS, "指标名称，口径见网站“指标”页"),
    "year": ("字符型", FROM_SOURCE, "数据所属的四位年份；原文年份脱敏时为 *；为空表示原文未注明年份，见“时期”"),
    "period": ("字符型", FROM_SOURCE, "原文所说的时期，如“近三年”“‘十三五’以来”；为空表示原文未说明"),
    "qualifier": ("字符型", FROM_SOURCE, "原文对数值的限定，如“超”“近”“以上”；为空表示原文是确数"),
    "value": ("数值型（脱敏处为字符 *）", FROM_SOURCE,
              f"按“单位”列的单位填写的数值；* 表示{DESENSITISED_NOTE}，不是 0；"
              f"为空表示{STATES['missing'].note}"),
    "unit": ("字符型", EDITORS, "数值的计量单位；原文用其他单位时已精确换算为指标目录规定的单位"),
    "disclosure": ("字符型", EDITORS, "、".join(f"{s.label}（{s.note}）" for s in STATES.values())),
    "scope": ("字符型", FROM_SOURCE, "数值涵盖的范围：全组团、全区，或组团的一部分（如某个项目），"
                                     "后者不能当作全组团的数据"),
    "quote": ("字符型", FROM_SOURCE, "原文中给出这项数据的原话，逐字照录"),
    "source": ("字符型", EDITORS, "来源文档的题名及章节"),
    "editorial": ("字符型", EDITORS, f"“来源题名{EDITORIAL_MARKS['label']}”表示来源文档原无题名，题名由编者拟定"),
}


@dataclass(frozen=True)
class Table:
    """One download table and what its 数据说明 sheet says about it."""

    key: str  # its resources' names in datapackage.json (ASCII): casebook, indicator-<id>
    stem: str  # present.download_stem
    title: str  # 全部数据, or the indicator's name
    rows: list[dict[str, Any]]
    edition: str = EDITION
    updated: str = UNKNOWN  # the casebook's last update (YYYY-MM-DD) or 不详: the export date
    publisher: str = UNKNOWN  # the casebook's publisher as its source writes it (may hold '*'), or 不详


@dataclass(frozen=True)
class DataFile:
    path: str  # site-relative, e.g. downloads/共富案例库-全部数据.csv
    content: bytes


def rows(book: Casebook, d: Derived, indicator_id: str | None = None,
         states: Mapping[StateName, State] | None = None) -> list[dict[str, Any]]:
    """The table's rows; ``states``: the edition's words for a figure's state (Edition.states)."""
    words: Mapping[StateName, State] = states or STATES
    label = source_labels(book.sources)
    out = []
    for ind_id, figures in d.figures_by_indicator.items():
        if indicator_id is not None and ind_id != indicator_id:
            continue
        ind = book.indicators.get(ind_id)
        for fig in figures:
            obs = fig.observation
            value: Any = None
            if obs.value is not None:
                value = obs.value.value if obs.value.value == DESENSITISED else strip_zeros(obs.value.value)
            owner_source = (book.clusters[fig.owner.id].source if fig.owner.kind == "cluster"
                            else book.alliance.source if book.alliance else None)
            ref = obs.source or owner_source
            doc = book.sources.get((ref or "").partition("/")[0])
            out.append({
                "owner_id": fig.owner.id,
                "owner": fig.owner.name,
                "indicator_id": ind_id,
                "indicator": ind.name if ind else ind_id,
                "year": "" if obs.year is None else str(obs.year),
                "period": obs.period or "",
                "qualifier": obs.qualifier or "",
                "value": value,
                "unit": obs.unit or (ind.unit if ind else ""),
                "disclosure": words[disclosure(obs)].label,
                # The site's words for a figure without a scope (全组团 / 全区): a blank here could be
                # read as "unknown", and a part's figure must never pass for the whole owner's.
                "scope": scope_text(obs, fig.owner.kind),
                "quote": obs.quote or "",
                "source": label(ref),
                "editorial": f"来源题名{EDITORIAL_MARKS['label']}" if doc and doc.basis == "editorial" else "",
            })
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    # Text (case text, '*') is made inert for spreadsheets; a number is written as the number it is.
    return format(value, "f") if not isinstance(value, str) else spreadsheet_text(value)


def to_csv(data: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([title for _, title, _ in COLUMNS])
    for row in data:
        writer.writerow([_cell(row[key]) for key, _, _ in COLUMNS])
    # The BOM tells Excel the file is UTF-8; without it Chinese opens as mojibake.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_json(data: list[dict[str, Any]]) -> bytes:
    def plain(v: Any) -> Any:
        if v is None or isinstance(v, str):
            return v
        return int(v) if v == v.to_integral() else float(v)

    # One record per line: readable, diffable, and written by json's C encoder (indent= is not).
    lines = [json.dumps({k: plain(v) if k == "value" else v for k, v in row.items()}, ensure_ascii=False)
             for row in data]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")


# --------------------------------------------------------------------------- 数据说明


def _distinct(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def about_rows(data: list[dict[str, Any]], title: str, sheet: str, edition: str = EDITION,
               updated: str = UNKNOWN, publisher: str = UNKNOWN) -> list[tuple[str, str]]:
    """The 数据说明 sheet's first part, one (item, explanation) per line: what the table holds, its
    edition and export date, what '*' and blank mean, its units and its sources."""
    states = _edition_states(edition)
    units = _distinct(row["unit"] for row in data)
    date = (f"{updated}（案例库最后更新的日期，不是生成本文件的时间）" if updated != UNKNOWN
            else f"{UNKNOWN}（案例库未记录更新日期）")
    lines = [
        ("数据内容", f"{DOWNLOAD_PREFIX}·{title}：共 {len(data)} 条数据，在工作表“{sheet}”中，"
                     "每行一项数据（一个组团或联盟、一个指标、一个年份或时期）"),
        ("版本", edition),
        # As the source writes it: a '*' in it is the source's own mask, never filled in.
        ("发布单位", publisher),
        ("导出日期", date),
        ("数值为 *", f"{DESENSITISED_NOTE}：原文以 * 代替了这个数字。它不是 0，也不是缺失，"
                     f"不能当作数字计算、求和或估算；公开状态列为“{states['desensitised'].label}”"),
        ("数值为空", f"{states['missing'].note}（原文只说“数十人”之类，或没有写这项数字）；"
                     f"公开状态列为“{states['missing'].label}”"),
        ("其他列为空", "原文没有这一项，如没有注明年份、时期或限定词"),
        ("计量单位", "数值按同一行“单位”列的单位填写" + (f"；本表涉及：{'、'.join(units)}" if units else "")),
        ("统计范围", "“全组团”“全区”指整个组团或联盟；其他写法指组团的一部分（如某个项目），不是全组团的数据"),
        ("文字与公式", "表中文字一律按文本保存：以 = + - @ 开头的内容不会被当作公式执行"),
    ]
    sources = _distinct(row["source"] for row in data)
    lines += [("来源", s) for s in sources] or [("来源", "无")]
    return lines


FIELD_TABLE_HEADER = ("中文名称", "数据类型", "计量单位", "来源机构", "版本", "发布日期", "说明")


def field_rows(data: list[dict[str, Any]], edition: str = EDITION,
               updated: str = UNKNOWN) -> list[tuple[str, ...]]:
    """One row per column of the data sheet, with the metadata attributes of DB33/T 2426-2022
    (FIELD_TABLE_HEADER) and what the column holds."""
    units = _distinct(row["unit"] for row in data)
    value_unit = units[0] if len(units) == 1 else "见“单位”列" if units else NOT_APPLICABLE
    out: list[tuple[str, ...]] = []
    for key, title, _ in COLUMNS:
        kind, origin, note = FIELD_NOTES[key]
        unit = value_unit if key == "value" else "年" if key == "year" else NOT_APPLICABLE
        out.append((title, kind, unit, origin, edition, updated, note))
    return out


# --------------------------------------------------------------------------- the workbook


def to_xlsx(data: list[dict[str, Any]], sheet: str, edition: str = EDITION, updated: str = UNKNOWN,
            publisher: str = UNKNOWN) -> bytes:
    """An Excel workbook: the data sheet first (bold header row frozen, an autofilter over every
    column, figures as real number cells, '*' stays text), then the 数据说明 sheet.

    XlsxWriter (with its shared-string table: repeated names and units are stored once) is 2.7
    times faster than openpyxl's write-only mode on a province casebook (37,055 rows: 2.1 s against
    5.7 s, median of 3), and with a fixed creation date it writes the same bytes for the same data
    (zip entry times included)."""
    import datetime as dt

    import xlsxwriter

    buf = io.BytesIO()
    # Every cell is written with an explicit type below; these make sure no string could ever be
    # turned into a formula, a hyperlink or a number behind our back.
    wb = xlsxwriter.Workbook(buf, {"strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    wb.set_properties({"created": dt.datetime(2020, 1, 1), "author": DOWNLOAD_PREFIX,
                       "title": f"{DOWNLOAD_PREFIX}·{sheet}（{edition}）"})
    mark = _edition_mark(edition)
    base = sheet[: -len(mark)] if mark and sheet.endswith(mark) else sheet
    data_title = sheet_title(base, mark)
    if data_title.casefold() == NOTES_SHEET:
        data_title += "_"  # Excel refuses two sheets of one name (an indicator may be called 数据说明)
    ws = wb.add_worksheet(data_title)
    for col, width in enumerate((18, 16, 22, 24, 8, 12, 8, 12, 8, 12, 20, 36, 40, 14)):
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.repeat_rows(0)  # printed, every page starts with the column titles
    # Filter buttons on the header: an official sorts and filters by cluster, year or state at once.
    ws.autofilter(0, 0, max(len(data), 1), len(COLUMNS) - 1)
    bold = wb.add_format({"bold": True})
    for c, (_, title, _) in enumerate(COLUMNS):
        ws.write_string(0, c, title, bold)
    for r, row in enumerate(data, start=1):
        for c, (key, _, _) in enumerate(COLUMNS):
            v = row[key]
            if v is None or v == "":
                continue
            if key == "value" and not isinstance(v, str):
                ws.write_number(r, c, int(v) if v == v.to_integral() else float(v))  # a number cell, not text
            else:
                # Always a string cell: case text such as "=HYPERLINK(…)" must never become a formula.
                ws.write_string(r, c, str(v))
    _notes_sheet(wb, data, sheet, data_title, (edition, updated, publisher), bold)
    wb.close()
    return buf.getvalue()


NOTE_WIDTHS = (14, 24, 12, 24, 10, 12, 60)  # the 数据说明 sheet's columns, in character widths


def _width(text: str) -> int:
    """Text's width in a spreadsheet's character units: a Han character or full-width form is two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit_row(ws: Any, row: int, cells: list[tuple[str, int]]) -> None:
    """Give a row of wrapped text (each cell's text with its column width) the lines it needs:
    spreadsheets keep a written file's row heights, and never grow a merged cell's row."""
    lines = max(-(-_width(text) // width) for text, width in cells)
    if lines > 1:
        ws.set_row(row, 16 * lines)


def _notes_sheet(wb: Any, data: list[dict[str, Any]], title: str, data_title: str, about: tuple[str, str, str],
                 bold: Any) -> None:
    edition, updated, publisher = about
    # Named as in every edition (readers look for it by name); its 版本 line says which edition.
    ws = wb.add_worksheet(NOTES_SHEET)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # printed, one page wide: the field table's columns stay together
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    label = wb.add_format({"bold": True, "valign": "top"})
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    for col, width in enumerate(NOTE_WIDTHS):
        ws.set_column(col, col, width, wrap)
    ws.write_string(0, 0, f"{DOWNLOAD_PREFIX}·{title}·{NOTES_SHEET}", wb.add_format({"bold": True, "font_size": 14}))
    r = 2
    for item, text in about_rows(data, title, data_title, edition, updated, publisher):
        ws.write_string(r, 0, item, label)
        ws.merge_range(r, 1, r, len(FIELD_TABLE_HEADER) - 1, "", wrap)
        ws.write_string(r, 1, text, wrap)  # always text: sources and units are case text
        _fit_row(ws, r, [(text, sum(NOTE_WIDTHS[1:]))])
        r += 1
    r += 1
    ws.write_string(r, 0, "字段说明（属性名称依照 DB33/T 2426—2022）", bold)
    r += 1
    for c, name in enumerate(FIELD_TABLE_HEADER):
        ws.write_string(r, c, name, head)
    for line in field_rows(data, edition, updated):
        r += 1
        for c, text in enumerate(line):
            ws.write_string(r, c, text, wrap)
        _fit_row(ws, r, list(zip(line, NOTE_WIDTHS, strict=True)))


_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _edition_mark(label: str) -> str:
    """The sheet-name suffix of the edition a table's label names: （内部资料）, or nothing."""
    return next((f"（{e.mark}）" for e in EDITIONS.values() if e.label == label and e.mark), "")


def _edition_states(label: str) -> Mapping[StateName, State]:
    """The state words of the edition a table's label names (Table.edition is its label)."""
    return next((e.states() for e in EDITIONS.values() if e.label == label), STATES)


def sheet_title(text: str, suffix: str = "") -> str:
    """A worksheet name Excel accepts, from any text: none of []:*?/\\ or control characters, no
    apostrophe at either end, 1–31 characters, and not Excel's reserved "History"."""
    text = "".join(ch for ch in text if ch.isprintable()).translate(_SHEET_FORBIDDEN)
    # The suffix (the edition's mark) is kept whole: a long name is cut, never the mark.
    suffix = "".join(ch for ch in suffix if ch.isprintable()).translate(_SHEET_FORBIDDEN)[:31]
    text = text.strip().strip("'")[: 31 - len(suffix)].rstrip().strip("'")
    if not text or text.lower() == "history":
        text = "数据" if not text else text + "_"
    return text + suffix


# --------------------------------------------------------------------------- the data package


def _schema(fmt: str) -> dict[str, Any]:
    """The Table Schema of one format's table. '*' is not a missing value: it is a figure the source
    has and hides, and a tool told it is missing would read it as null — the same as a figure the
    source never gave, ready to be dropped, imputed or summed as nothing. So the value column is
    typed for what it holds, a number or '*': in the CSV text matching VALUE_PATTERN (validated on
    every cell), in the workbook and the JSON, where numbers are numbers, "any" (a Table Schema
    field has one type); its description and the 公开状态 column say which is which. Only a blank
    is missing."""
    fields = []
    for key, title, kind in COLUMNS:
        field: dict[str, Any] = {"name": key if fmt == "json" else title, "title": title, "type": kind,
                                 "description": FIELD_NOTES[key][2]}
        constraints: dict[str, Any] = {}
        if key == "value":
            if fmt == "csv":
                constraints["pattern"] = VALUE_PATTERN
            else:
                field["type"] = "any"
        elif key == "year":
            constraints["pattern"] = YEAR_PATTERN
        elif key == "disclosure":
            # Either edition's words: one schema describes the files of both.
            constraints["enum"] = list(dict.fromkeys(st.label for e in EDITIONS.values() for st in e.states().values()))
        if key in ("owner_id", "owner", "indicator_id", "indicator", "unit", "disclosure", "scope", "source"):
            constraints["required"] = True
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


MEDIA_TYPES = {"csv": "text/csv", "json": "application/json",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def download_tables(book: Casebook, d: Derived, edition: Edition = PUBLIC) -> tuple[list[Table], list[str]]:
    """The tables to publish (the whole casebook, then one per indicator) and the source titles.

    The export date and the publisher are the footer's (colophon): the casebook's last update —
    the last commit to the cases folder, else its latest source date — never the build's time."""
    from .colophon import colophon

    info = colophon(book, book.root)
    updated = info.updated.isoformat() if info.updated else UNKNOWN
    publisher = info.publisher or UNKNOWN

    def table(key: str, stem: str, title: str, data: list[dict[str, Any]]) -> Table:
        # The internal edition's mark is in every file name, workbook sheet and title.
        title = f"{title}（{edition.mark}）" if edition.mark else title
        return Table(key, stem, title, data, edition.label, updated, publisher)

    states = edition.states()
    every = rows(book, d, None, states)
    # Each indicator's table is its rows of the whole one, in the same order (made once, not again).
    by_indicator: dict[str, list[dict[str, Any]]] = {}
    for row in every:
        by_indicator.setdefault(row["indicator_id"], []).append(row)
    tables = [table("casebook", download_stem(prefix=edition.prefix), "全部数据", every)]
    tables += [table(f"indicator-{ind_id}", download_stem(ind_id, ind.name, edition.prefix), ind.name,
                     by_indicator.get(ind_id, []))
               for ind_id, ind in book.indicators.items()]
    return tables, [s.title for s in book.sources.values()]


def download_paths(tables: list[Table]) -> list[str]:
    return [download_path(t.stem, ext) for t in tables for ext in ("csv", "xlsx", "json")] + [DATAPACKAGE_PATH]


def start_downloads(tables: list[Table], source_titles: list[str], cache_dir: Path | None,
                    out_dir: Path) -> Future[list[tuple[str, str | None]]]:
    """Write the downloads into ``out_dir`` from a second process while the pages are built: at
    province scale the workbooks are seconds of work, and a build has two cores. ``result()``
    waits, and gives the paths written, each with its cache key when it was made afresh (see
    :func:`move_downloads`, which keeps it in the build's store). The child (:func:`second_process`)
    only reads the build cache (in ``cache_dir``): the parent holds its write transaction."""
    import pickle

    payload = pickle.dumps((tables, source_titles, cache_dir, out_dir), protocol=pickle.HIGHEST_PROTOCOL)

    def read(out: bytes) -> list[tuple[str, str | None]]:
        return [(path, key or None) for path, _, key in (line.partition("\t") for line in out.decode("utf-8").splitlines())]

    return second_process("casebook.downloads", payload, "生成下载文件失败", read)


def second_process(module: str, payload: bytes, failure: str, read: Callable[[bytes], T]) -> Future[T]:
    """Run ``module._child()`` in a plain child interpreter fed ``payload`` on its stdin; the
    future gives ``read`` of its stdout. Not multiprocessing: spawn would re-run the caller's main
    script, fork is unsafe under the live-preview server's threads. ``failure``: the message of the
    RuntimeError raised when it fails (the end of its stderr follows)."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    # -I: the installed package, never a 'casebook' folder that happens to be in the working directory
    proc = subprocess.Popen([sys.executable, "-I", "-c", f"from {module} import _child; _child()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait() -> T:
        out, err = proc.communicate(payload)
        if proc.returncode != 0:
            raise RuntimeError(f"{failure}：" + err.decode("utf-8", "replace")[-2000:])
        return read(out)

    pool = ThreadPoolExecutor(1)
    future = pool.submit(wait)
    pool.shutdown(wait=False)
    return future


def move_downloads(written: list[tuple[str, str | None]], out_dir: Path, site_dir: Path,
                   store: Store | None = None) -> None:
    """Move the downloads written in ``out_dir`` into the site, leaving a file that already has the
    same bytes as it is (an incremental build keeps its time); those made afresh go into ``store``."""
    import shutil

    for rel, key in written:
        src, dest = out_dir / rel, site_dir / rel
        if key is not None and store is not None:
            store.put("download", key, src.read_bytes())
        try:
            if dest.read_bytes() == src.read_bytes():
                continue
        except OSError:
            pass
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(src, dest)
    shutil.rmtree(out_dir, ignore_errors=True)


def _child() -> None:
    import pickle
    import sys

    from .store import open_store, write_atomic

    tables, source_titles, cache_dir, out_dir = pickle.loads(sys.stdin.buffer.read())
    written = []
    files, fresh = write_downloads(tables, source_titles, open_store(cache_dir))
    for data in files:
        write_atomic(out_dir / data.path, data.content)
        written.append(f"{data.path}\t{fresh.get(data.path, '')}")
    sys.stdout.write("\n".join(written))


def write_downloads(tables: list[Table], source_titles: list[str],
                    cache: Store | None = None) -> tuple[list[DataFile], dict[str, str]]:
    """Every download, and the cache key of each workbook and JSON made afresh (by path). Those of a
    table whose CSV has not changed come from ``cache`` (the build store): at province scale writing
    them is most of the cost."""
    files: list[DataFile] = []
    fresh: dict[str, str] = {}
    resources = []

    def cached(kind: str, key: str, make: Callable[[], bytes], path: str) -> bytes:
        content = cache.get("download", f"{key}.{kind}") if cache is not None else None
        if content is None:
            content = make()
            fresh[path] = f"{key}.{kind}"
        return content

    def add(table: Table) -> None:
        data, title = table.rows, table.title
        csv_bytes = to_csv(data)
        # The 数据说明 sheet says the edition and date: a new one is a new workbook.
        key = content_hash(csv_bytes, title, table.edition, table.updated, table.publisher, code_digest())
        makers: dict[str, Callable[[], bytes]] = {
            "xlsx": lambda: to_xlsx(data, title, table.edition, table.updated, table.publisher),
            "json": lambda: to_json(data)}
        for ext in ("csv", "xlsx", "json"):
            path = download_path(table.stem, ext)
            content = csv_bytes if ext == "csv" else cached(ext, key, makers[ext], path)
            files.append(DataFile(path, content))
            resources.append({
                "name": f"{table.key}-{ext}", "title": f"{DOWNLOAD_PREFIX}·{title}（{ext.upper()}）",
                "path": path.split("/", 1)[1],  # relative to datapackage.json, which is in downloads/
                "format": ext, "mediatype": MEDIA_TYPES[ext],
                # The file is the one described (Frictionless checks both where it counts them).
                "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
                # Frictionless 5 reads a JSON table without counting its bytes and would report every
                # JSON file as the wrong size: its size is left out, its hash still pins it.
                **({} if ext == "json" else {"bytes": len(content)}),
                **({"encoding": "utf-8-sig"} if ext == "csv" else {"encoding": "utf-8"} if ext == "json" else {}),
                "profile": "tabular-data-resource", "schema": _schema(ext),
            })

    for table in tables:
        add(table)
    edition = tables[0].edition if tables else EDITION
    updated = tables[0].updated if tables else UNKNOWN
    package = {
        "profile": "tabular-data-package",
        "name": "casebook",
        "title": f"{DOWNLOAD_PREFIX}数据（{edition}）",
        "description": f"案例库中的全部指标数据，{edition}，导出日期 {updated}（案例库最后更新的日期）。"
                       "数值列为 * 表示原文脱敏、未公开，不是 0，也不是缺失；"
                       f"为空表示{STATES['missing'].note}（公开状态为“{STATES['missing'].label}”）。"
                       "CSV 中以 = + - @ 开头的文字前加了一个单引号（'），以免电子表格把它当作公式执行。"
                       f"每个 Excel 文件的“{NOTES_SHEET}”工作表逐列说明字段。",
        "sources": [{"title": title} for title in source_titles],
        "resources": resources,
    }
    files.append(DataFile(DATAPACKAGE_PATH,
                          (json.dumps(package, ensure_ascii=False, indent=1) + "\n").encode("utf-8")))
    return files, fresh
