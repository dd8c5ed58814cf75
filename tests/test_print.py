"""Print: every kind of page, printed by a real Chromium to PDF (``page.pdf(prefer_css_page_size=True)``,
as a reader's print dialog lays it out) and read back with poppler (pdftotext, pdftoppm).

Each printed page is A4 and carries at its foot its number ("第 N 页 / 共 M 页"), the casebook's
colophon line (source, publisher, update date) and the page's address; page 1 opens with the title
block and the page's title; no page before the last is half blank; no table row and no chart is split
across pages, a short table stays on one page, a long one repeats its header on every page; an
address outside the site is printed after its link; no chrome and no dark colours reach the paper;
and the colophon, which comes from case files, prints as the text it is however hostile.

Sites: the real casebook (every page kind and the hand-written pages); a FICTIONAL synthetic casebook
(benchmarks/synthetic.py: charts, a clusters index of many rows, a 虚构 hand-written page with an
outside link); the fictional casebook under tests/fixtures with a hostile publisher and title (虚构).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser_support import serve_directory
from sitebuild import build_project, make_project

ROOT = Path(__file__).resolve().parents[1]
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
PAGE_NUMBER = re.compile(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页")
# The body of an A4 page (mm): print.css's @page margins, top 16 and bottom 22.
A4_MM, TOP_MM, BOTTOM_MM = 297, 16, 22
OUTSIDE_LINK = "https://example.org/xugou/print-check"
HOSTILE_PUBLISHER = '*区虚构办公室"</style><script>alert("p1")</script>\\\'&'
HOSTILE_TITLE = '虚构材料</style><img src=x onerror=alert("t1")>";}@page{x'


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def require_poppler() -> None:
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.skip("print tests need poppler-utils (pdftotext, pdftoppm): apt-get install poppler-utils")


# --------------------------------------------------------------------------- sites and pages


def page_rels(site: Path, kinds: set[str] | None = None) -> dict[str, str]:
    """One page of every page kind the casebook of ``site`` has (its URL, site-relative), by kind,
    from the one table of page kinds; and the hand-written pages, by their URL."""
    from casebook import present
    from casebook.derive import derive, ordered_clusters, ordered_lessons
    from casebook.pages import Context, planned_pages
    from casebook.validate import load_casebook

    book, errors = load_casebook(site.parent / "cases")
    assert not errors
    ordered = ordered_clusters(book)
    ctx = Context(book, derive(book), {f"cases/{c.id}": [] for c in ordered}
                  | {f"indicators/{i}": [] for i in book.indicators}, ordered, ordered_lessons(book), "")
    pages, _ = planned_pages(ctx)
    out: dict[str, str] = {}
    for page in pages:
        if kinds is None or page.kind.name in kinds:
            out.setdefault(page.kind.name, present.page_url(page.path))
    for md in sorted((site.parent / "content").rglob("*.md")):
        rel = present.page_url(md.relative_to(site.parent / "content").as_posix())
        out.setdefault(f"content:{rel}", rel)
    return out


@pytest.fixture(scope="module")
def many_site(tmp_path_factory) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import write_casebook

    tmp = tmp_path_factory.mktemp("print-many")
    project = make_project(tmp, write_casebook(tmp / "cases-src", 24))
    (project / "content" / "print-check.md").write_text(
        "# 打印检查页（虚构）\n\n本页为测试虚构，链接到站外的一个虚构地址："
        f"[虚构的站外资料]({OUTSIDE_LINK})。\n", encoding="utf-8")
    return build_project(project)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    """The fictional casebook whose source document has a hostile publisher and title (虚构)."""
    tmp = tmp_path_factory.mktemp("print-hostile")
    cases = tmp / "cases"
    shutil.copytree(FICTIONAL, cases)
    text = cases / "sources" / "fictional.txt"
    text.write_text(text.read_text(encoding="utf-8") + HOSTILE_PUBLISHER + "\n", encoding="utf-8")
    sources = cases / "sources.yaml"
    yaml_text = sources.read_text(encoding="utf-8")
    old = "    title: 虚构测试材料（非真实数据）\n"
    assert old in yaml_text
    sources.write_text(yaml_text.replace(old, f"    title: {json.dumps(HOSTILE_TITLE, ensure_ascii=False)}\n"
                                         f"    publisher: {json.dumps(HOSTILE_PUBLISHER, ensure_ascii=False)}\n"),
                       encoding="utf-8")
    return build_project(make_project(tmp, cases))


# --------------------------------------------------------------------------- printing and reading back

MARK_JS = """() => {
  // Text markers at the two ends of every table row and of every chart with its caption, so the
  // PDF's text says on which page each end landed. Small and unbreakable; real text, as printed.
  const mark = (el, text, atEnd) => {
    const s = document.createElement('span');
    s.style.whiteSpace = 'nowrap'; s.style.fontSize = '6pt';
    s.textContent = text;
    atEnd ? el.append(s) : el.prepend(s);
  };
  const tables = [...document.querySelectorAll('article table')].map((t, i) => {
    if (t.tHead && t.tHead.rows.length) mark(t.tHead.rows[0].cells[0], `@T${i}H@`, false);
    const rows = [...t.tBodies].flatMap(b => [...b.rows]);
    rows.forEach((r, j) => {
      mark(r.cells[0], `@T${i}R${j}a@`, false);
      mark(r.cells[r.cells.length - 1], `@T${i}R${j}z@`, true);
    });
    const head = t.tHead && t.tHead.rows.length ? t.tHead.rows[0] : null;
    return {rows: rows.length, head: !!head, columns: head ? head.cells.length : 0};
  });
  const figures = [...document.querySelectorAll('article figure')].map((f, i) => {
    const start = f.querySelector('.cb-chart-svg') || f;
    mark(start, `@F${i}a@`, false);
    mark(f.querySelector('figcaption') || f, `@F${i}z@`, true);
    return i;
  });
  const h1 = document.querySelector('article h1');
  const title = h1 ? h1.cloneNode(true) : null;
  if (title) title.querySelectorAll('.headerlink').forEach(a => a.remove());
  return {tables, figures: figures.length, title: title ? title.textContent.trim() : ''};
}"""


class Printed:
    """A page printed to PDF and read back: its pages' text, their ink, and what was marked."""

    def __init__(self, pdf: Path, marked: dict) -> None:
        self.pdf = pdf
        self.marked = marked
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        self.size = re.search(r"Page size:\s*(.*)", info).group(1)  # type: ignore[union-attr]
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        self.pages = text.split("\f")
        if self.pages and not self.pages[-1].strip():
            self.pages.pop()

    def where(self, marker: str) -> list[int]:
        """The pages (1-based) whose text holds ``marker``, once per occurrence."""
        return [i + 1 for i, page in enumerate(self.pages) for _ in range(squash(page).count(marker))]

    def fills(self) -> list[float]:
        """How far down each page's body the ink reaches (0: blank, 1: to the foot margin)."""
        from PIL import Image

        out = self.pdf.with_suffix("")
        subprocess.run(["pdftoppm", "-r", "30", "-gray", str(self.pdf), str(out)], check=True)
        fills = []
        for png in sorted(out.parent.glob(out.name + "-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
            image = Image.open(png).convert("L")
            width, height = image.size
            top, bottom = round(height * TOP_MM / A4_MM), round(height * (A4_MM - BOTTOM_MM) / A4_MM)
            px = image.load()
            assert px is not None
            last = next((y for y in range(bottom - 1, top - 1, -1) if any(px[x, y] < 128 for x in range(width))), top)
            fills.append((last - top) / (bottom - top))
        return fills

    def pixels(self, page: int = 1) -> list[int]:
        from PIL import Image

        out = self.pdf.with_name(self.pdf.stem + "-px")
        subprocess.run(["pdftoppm", "-r", "30", "-gray", "-f", str(page), "-l", str(page), "-singlefile",
                        str(self.pdf), str(out)], check=True)
        image = Image.open(out.with_suffix(".pgm")).convert("L")
        return [image.getpixel((x, y)) for y in range(image.height) for x in range(image.width)]  # type: ignore[misc]


def print_page(browser, base: str, rel: str, out: Path, *, dark: bool = False, javascript: bool = True,
               mark: bool = True) -> Printed:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=javascript,
                                  color_scheme="dark" if dark else "light")
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base + rel)
        marked = page.evaluate(MARK_JS) if mark and javascript else {}
        pdf = out / (re.sub(r"[^a-z0-9]+", "-", rel).strip("-") or "home") / "page.pdf"
        pdf.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        assert not dialogs, dialogs  # nothing of the page ran anything
        return Printed(pdf, marked)
    finally:
        context.close()


@pytest.fixture(scope="module")
def printed(browser, real_site, many_site, tmp_path_factory) -> dict[str, tuple[str, Printed]]:
    """Every page kind of the real casebook and the hand-written pages; of the synthetic one, the
    kinds whose pages grow with the data (charts, the clusters index) and the outside link's page.
    By "site:kind": (the page's address, the print)."""
    require_poppler()
    out = tmp_path_factory.mktemp("print-pdfs")
    wanted = {"real": (real_site, None), "many": (many_site, {"cluster", "indicator", "clusters", "completeness"})}
    result: dict[str, tuple[str, Printed]] = {}
    for key, (site, kinds) in wanted.items():
        rels = page_rels(site, kinds)
        if key == "many":
            rels = {k: v for k, v in rels.items() if not k.startswith("content:") or "print-check" in v}
        with serve_directory(site) as base:
            for kind, rel in rels.items():
                result[f"{key}:{kind}"] = (base + rel, print_page(browser, base, rel, out / key))
    return result


# --------------------------------------------------------------------------- the tests


def test_every_page_kind_prints_as_a_clean_a4_document(printed, real_site):
    """One test over the prints, so that one worker makes them (pytest-xdist gives each worker its
    own module fixtures); each check reports on its own, all of them at once."""
    checks = [_every_page_kind_is_printed, _a4_with_number_colophon_and_address,
              _title_block_on_page_one_and_no_half_blank_page, _no_row_or_chart_split_and_long_tables_repeat_their_header,
              _outside_links_print_their_address]
    failures = []
    for check in checks:
        try:
            check(printed, real_site)
        except AssertionError as exc:
            failures.append(f"{check.__name__}: {exc}")
    assert not failures, "\n\n".join(failures)



def _every_page_kind_is_printed(printed, real_site):
    from casebook.pages import KINDS

    kinds = {name.split(":", 1)[1] for name in printed if name.startswith("real:")}
    assert {k.name for k in KINDS} <= kinds, {k.name for k in KINDS} - kinds
    assert {"content:about/", "content:guide/"} <= kinds
    # The checks below look at tables and charts: there must be some of each, long and short.
    tables = [t for _, p in printed.values() for t in p.marked["tables"]]
    assert sum(p.marked["figures"] for _, p in printed.values()) >= 2
    assert any(t["rows"] > 20 for t in tables) and any(t["rows"] <= 8 and t["columns"] <= 6 for t in tables)


def _a4_with_number_colophon_and_address(printed, real_site):
    from casebook.colophon import colophon
    from casebook.validate import load_casebook

    for name, (address, p) in printed.items():
        site = real_site if name.startswith("real:") else None
        assert "(A4)" in p.size or p.size.startswith("595"), (name, p.size)
        total = len(p.pages)
        assert total >= 1
        for i, text in enumerate(p.pages, 1):
            numbers = PAGE_NUMBER.findall(text)
            assert numbers == [(str(i), str(total))], (name, i, numbers)
            assert squash(address) in squash(text), (name, i, "address missing")
            assert "来源：" in squash(text), (name, i)
        if site is not None:
            book, _ = load_casebook(site.parent / "cases")
            line = colophon(book, site.parent / "cases").print_text()
            assert all(squash(line) in squash(PAGE_NUMBER.sub("", text)) for text in p.pages), (name, line)


def _title_block_on_page_one_and_no_half_blank_page(printed, real_site):
    for name, (_, p) in printed.items():
        first = p.pages[0]
        assert p.marked["title"] and squash(p.marked["title"]) in squash(first), (name, p.marked["title"])
        head = next(line for line in first.splitlines() if line.strip())
        assert "共富案例库" in head, (name, head)  # the title block, above the title
        fills = p.fills()
        assert len(fills) == len(p.pages)
        if len(fills) > 1:
            assert fills[0] >= 0.6, (name, "page 1 half blank", fills)
            # No page before the last is half blank either (a block kept whole leaves at most this).
            assert min(fills[:-1]) >= 0.5, (name, fills)


def _no_row_or_chart_split_and_long_tables_repeat_their_header(printed, real_site):
    split_tables = 0
    for name, (_, p) in printed.items():
        for i, table in enumerate(p.marked["tables"]):
            pages: set[int] = set()
            for j in range(table["rows"]):
                start, end = p.where(f"@T{i}R{j}a@"), p.where(f"@T{i}R{j}z@")
                assert len(start) == 1 and start == end, (name, f"table {i} row {j} split", start, end)
                pages.add(start[0])
            if table["rows"] <= 8 and table["columns"] <= 6:  # short (print.css): kept on one page
                assert len(pages) == 1, (name, f"short table {i} broken", sorted(pages))
            if len(pages) > 1:
                split_tables += 1
                assert table["head"]
                heads = set(p.where(f"@T{i}H@"))
                assert pages <= heads, (name, f"table {i} header not repeated", sorted(pages), sorted(heads))
        for k in range(p.marked["figures"]):
            start, end = p.where(f"@F{k}a@"), p.where(f"@F{k}z@")
            assert len(start) == 1 and start == end, (name, f"chart {k} split from its caption", start, end)
    assert split_tables >= 2  # long tables were printed, and each broke only between rows


def _outside_links_print_their_address(printed, real_site):
    _, p = printed["many:content:print-check/"]
    text = squash("".join(p.pages))
    assert "虚构的站外资料" in text and squash(OUTSIDE_LINK) in text


def test_no_chrome_in_print(browser, real_base):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.goto(real_base + "cases/grain-store/")
        page.emulate_media(media="print")
        shown = page.evaluate("""() => ['.md-header', '.md-tabs', '.md-sidebar--primary', '.md-sidebar--secondary',
            '.md-search', '.md-footer', '.md-top', '.headerlink', '.md-content__button', '.cb-colophon']
            .flatMap(s => [...document.querySelectorAll(s)].map(e => [s, getComputedStyle(e).display]))""")
        assert shown and {display for _, display in shown} == {"none"}, shown
        page.emulate_media(media="screen")
        # On screen the same chrome is there: the check above can fail.
        assert page.evaluate("() => getComputedStyle(document.querySelector('.md-header')).display") != "none"
    finally:
        page.close()


def test_a_dark_screen_prints_white(browser, real_base, tmp_path):
    require_poppler()
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(real_base + "cases/grain-store/")
        screen = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert screen != "rgb(255, 255, 255)", "the dark scheme is not in use: nothing to check"
    finally:
        context.close()
    p = print_page(browser, real_base, "cases/grain-store/", tmp_path, dark=True, mark=False)
    for n in range(1, len(p.pages) + 1):
        px = p.pixels(n)
        dark = sum(1 for v in px if v < 100) / len(px)
        assert sorted(px)[len(px) // 2] > 245 and dark < 0.08, (n, dark)


def test_print_without_javascript_keeps_numbers_and_ends_with_the_colophon(browser, real_base, tmp_path):
    require_poppler()
    p = print_page(browser, real_base, "cases/grain-store/", tmp_path, javascript=False)
    for i, text in enumerate(p.pages, 1):
        assert PAGE_NUMBER.findall(text) == [(str(i), str(len(p.pages)))]
        assert "来源：" in text
    last = squash(p.pages[-1])
    assert "本页地址：/cases/grain-store/" in last and "发布单位" in last


def test_a_hostile_colophon_prints_as_text(browser, hostile_site, tmp_path):
    require_poppler()
    with serve_directory(hostile_site) as base:
        p = print_page(browser, base, "cases/fictional-a/", tmp_path, mark=False)
        page = browser.new_page()
        try:
            page.goto(base + "cases/fictional-a/")
            found = page.evaluate("""() => ({
                text: document.querySelector('.cb-colophon__line').textContent,
                injected: document.querySelectorAll('.cb-colophon :is(script, img, style, iframe)').length,
                masks: document.querySelectorAll('.cb-colophon__publisher abbr.cb-star').length})""")
        finally:
            page.close()
    assert found["injected"] == 0
    assert found["masks"] == 1  # the '*' wears the mask of a desensitised figure
    assert HOSTILE_PUBLISHER in found["text"] and HOSTILE_TITLE in found["text"]
    for text in p.pages:  # the margin box (its lines beside the page number's): the CSS string ended nowhere early
        line = f"来源：{HOSTILE_TITLE} · 发布单位：{HOSTILE_PUBLISHER} · 更新日期：2024年5月1日"
        assert squash(line) in squash(PAGE_NUMBER.sub("", text)), text
