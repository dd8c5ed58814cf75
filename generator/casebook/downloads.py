"""Data downloads: every figure as CSV (UTF-8 with BOM, for Excel), XLSX and JSON, for the whole
casebook and for each indicator, described by a Frictionless ``datapackage.json``.

Each row carries owner (cluster or alliance), indicator, year, value — a number, or '*' where the
source is desensitised, or empty where the source gives none — unit, disclosure state (in the
site's words: present.STATES) and source. Files are byte-for-byte reproducible (no timestamps), so
an unchanged casebook publishes unchanged files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .book import Casebook
from .derive import Derived
from .escaping import spreadsheet_text
from .figures import strip_zeros
from .present import (
    DATAPACKAGE_PATH,
    EDITORIAL_MARKS,
    STATE_LABELS,
    STATES,
    disclosure,
    download_path,
    download_stem,
    source_label,
)
from .store import Store, code_digest, content_hash

# (key in JSON, column title in CSV/XLSX, Frictionless type)
COLUMNS: list[tuple[str, str, str]] = [
    ("owner_id", "组团标识", "string"),
    ("owner", "组团", "string"),
    ("indicator_id", "指标标识", "string"),
    ("indicator", "指标", "string"),
    ("year", "年份", "string"),
    ("period", "时期", "string"),
    ("qualifier", "限定词", "string"),
    ("value", "数值", "number"),
    ("unit", "单位", "string"),
    ("disclosure", "公开状态", "string"),
    ("scope", "统计范围", "string"),
    ("quote", "原文", "string"),
    ("source", "来源", "string"),
    # What in the row is the editors' rather than the source's (a document title they gave it).
    ("editorial", "编者标注", "string"),
]


@dataclass(frozen=True)
class DataFile:
    path: str  # site-relative, e.g. downloads/casebook.csv
    content: bytes


def rows(book: Casebook, d: Derived, indicator_id: str | None = None) -> list[dict[str, Any]]:
    out = []
    for ind_id, figures in d.figures_by_indicator.items():
        if indicator_id is not None and ind_id != indicator_id:
            continue
        ind = book.indicators.get(ind_id)
        for fig in figures:
            obs = fig.observation
            value: Any = None
            if obs.value is not None:
                value = obs.value.value if obs.value.value == "*" else strip_zeros(obs.value.value)
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
                "disclosure": STATE_LABELS[disclosure(obs)],
                "scope": obs.scope or "",
                "quote": obs.quote or "",
                "source": source_label(book.sources, ref),
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


def to_xlsx(data: list[dict[str, Any]], sheet: str) -> bytes:
    """An Excel workbook: bold header row frozen, figures as real number cells ('*' stays text).

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
    wb.set_properties({"created": dt.datetime(2020, 1, 1), "author": "共富案例库"})
    ws = wb.add_worksheet(sheet_title(sheet))
    for col, width in enumerate((18, 16, 22, 24, 8, 12, 8, 12, 8, 12, 20, 36, 40, 14)):
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
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
    wb.close()
    return buf.getvalue()


_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def sheet_title(text: str) -> str:
    """A worksheet name Excel accepts, from any text: none of []:*?/\\ or control characters, no
    apostrophe at either end, 1–31 characters, and not Excel's reserved "History". (A workbook
    here has one sheet, so names are unique.)"""
    text = "".join(ch for ch in text if ch.isprintable()).translate(_SHEET_FORBIDDEN)
    text = text.strip().strip("'")[:31].rstrip().strip("'")
    if not text or text.lower() == "history":
        return "数据" if not text else text + "_"
    return text


def _schema() -> dict[str, Any]:
    return {
        "fields": [{"name": title, "title": title, "type": kind, "description": key} for key, title, kind in COLUMNS],
        # '*' marks a value the source desensitised; it is not a number and never zero.
        "missingValues": ["", "*"],
    }


Table = tuple[str, str, list[dict[str, Any]]]  # (file stem, title, rows)


def download_tables(book: Casebook, d: Derived) -> tuple[list[Table], list[str]]:
    """The tables to publish (the whole casebook, then one per indicator) and the source titles."""
    tables = [(download_stem(), "全部数据", rows(book, d))]
    tables += [(download_stem(ind_id), ind.name, rows(book, d, ind_id)) for ind_id, ind in book.indicators.items()]
    return tables, [s.title for s in book.sources.values()]


def download_paths(tables: list[Table]) -> list[str]:
    return [download_path(stem, ext) for stem, _, _ in tables for ext in ("csv", "xlsx", "json")] + [DATAPACKAGE_PATH]


def start_downloads(tables: list[Table], source_titles: list[str], cache_dir: Path | None,
                    out_dir: Path) -> Future[list[tuple[str, str | None]]]:
    """Write the downloads into ``out_dir`` from a second process while the pages are built: at
    province scale the workbooks are seconds of work, and a build has two cores. ``result()``
    waits, and gives the paths written, each with its cache key when it was made afresh (see
    :func:`move_downloads`, which keeps it in the build's store).

    A plain child interpreter fed through a pipe, not multiprocessing: spawn would re-run the
    caller's main script, fork is unsafe under the live-preview server's threads. The child only
    reads the build cache (in ``cache_dir``): the parent holds its write transaction."""
    import pickle
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    payload = pickle.dumps((tables, source_titles, cache_dir, out_dir), protocol=pickle.HIGHEST_PROTOCOL)
    # -I: the installed package, never a 'casebook' folder that happens to be in the working directory
    proc = subprocess.Popen([sys.executable, "-I", "-c", "from casebook.downloads import _child; _child()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait() -> list[tuple[str, str | None]]:
        out, err = proc.communicate(payload)
        if proc.returncode != 0:
            raise RuntimeError("生成下载文件失败：" + err.decode("utf-8", "replace")[-2000:])
        return [(path, key or None) for path, _, key in (line.partition("\t") for line in out.decode("utf-8").splitlines())]

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

    def add(stem: str, data: list[dict[str, Any]], title: str) -> None:
        csv_bytes = to_csv(data)
        key = content_hash(csv_bytes, title, code_digest())
        for ext, content, media in (
                ("csv", csv_bytes, "text/csv"),
                ("xlsx", cached("xlsx", key, lambda: to_xlsx(data, title), download_path(stem, "xlsx")), None),
                ("json", cached("json", key, lambda: to_json(data), download_path(stem, "json")), "application/json")):
            path = download_path(stem, ext)
            files.append(DataFile(path, content))
            resource: dict[str, Any] = {
                "name": f"{stem.replace('/', '-')}-{ext}", "title": title, "path": path.split("/", 1)[1],
                "format": ext, "bytes": len(content),
            }
            if ext == "csv":
                resource.update({"profile": "tabular-data-resource", "encoding": "utf-8-sig", "mediatype": media,
                                 "schema": _schema()})
            elif ext == "xlsx":
                resource["mediatype"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            else:
                resource["mediatype"] = media
            resources.append(resource)

    for stem, title, data in tables:
        add(stem, data, title)
    package = {
        "profile": "data-package",
        "name": "casebook",
        "title": "共富案例库数据",
        "description": "案例库中的全部指标数据。数值列为 * 表示原文脱敏、未公开，不是 0；"
                       f"为空表示{STATES['missing'].note}（公开状态为“{STATES['missing'].label}”）。"
                       "CSV 中以 = + - @ 开头的文字前加了一个单引号（'），以免电子表格把它当作公式执行。",
        "sources": [{"title": title} for title in source_titles],
        "resources": resources,
    }
    files.append(DataFile(DATAPACKAGE_PATH,
                          (json.dumps(package, ensure_ascii=False, indent=1) + "\n").encode("utf-8")))
    return files, fresh
