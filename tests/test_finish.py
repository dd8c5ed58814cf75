"""The reader-grade finish, measured in a real Chromium on real builds at a desktop and a phone
width: every table the generator writes (each class its templates use) and every Markdown table has
padding, rules, a header told apart and aligned with its column, numbers right-aligned beside their
units, and on a phone either readable columns or a scroller with a cue — never a page that scrolls
sideways nor a cell of one or two characters a line; term lists are chips, the source's words wear
quotation marks, a '*' is a masked value whose explanation a tap shows; axe finds nothing serious in
either colour scheme; print still lays tables out on the page.

Sites: the real casebook, and a FICTIONAL synthetic casebook of 40 clusters (benchmarks/synthetic.py):
the only one with the all-clusters index, and with charts (so chart-data tables).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from browser_support import AXE, serve_directory

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "generator" / "casebook" / "templates"
WIDTHS = [1366, 390]
# The pages a reader meets first (issue 14); the pages that hold each table class are added to them.
NAMED = {"real": ["", "cases/grain-store/", "indicators/investment/", "completeness/", "models/", "alliance/",
                  "sources/", "lessons/"],
         "internal": ["", "cases/grain-store/", "cases/mountain-road/", "indicators/investment/", "completeness/",
                      "alliance/", "compare/", "cases/"]}


def template_table_classes() -> set[str]:
    return {m for f in TEMPLATES.glob("*.j2") for m in re.findall(r'<table class="([^"]+)"', f.read_text("utf-8"))}


def test_the_table_classes_are_found_in_the_templates():
    # Guard: the tests below check every class listed here; an empty list would check nothing.
    assert {"cb-figures", "cb-completeness", "cb-chart-data", "cb-cluster-index"} <= template_table_classes()


@pytest.fixture(scope="module")
def sites(real_site, internal_site, tmp_path_factory) -> dict[str, Path]:
    from sitebuild import build_project, make_project

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic import write_casebook

    tmp = tmp_path_factory.mktemp("finish-many")
    many = build_project(make_project(tmp, write_casebook(tmp / "cases-src", 40)))
    # The internal edition (a FICTIONAL overlay): its banner and real figures on every page kind.
    return {"real": real_site, "many": many, "internal": internal_site}


@pytest.fixture(scope="module")
def bases(sites):
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield {key: stack.enter_context(serve_directory(root)) for key, root in sites.items()}


def _page_rel(site: Path, html: Path) -> str:
    rel = html.relative_to(site).as_posix()
    return rel[: -len("index.html")] if rel.endswith("index.html") else rel


@pytest.fixture(scope="module")
def pages(sites) -> dict[str, list[str]]:
    """For each site, the named pages plus, for every table class of the templates and for
    Markdown tables (no class), the page where that table is largest — so each kind is measured
    where it is hardest to lay out."""
    wanted = template_table_classes() | {""}
    best: dict[str, tuple[int, str, str]] = {}
    for key, site in sites.items():
        for html in sorted(site.rglob("*.html")):
            text = html.read_text(encoding="utf-8")
            article = text[text.find("<article"):]
            for m in re.finditer(r'<table( class="([^"]+)")?>', article):
                cls = m.group(2) or ""
                size = article.find("</table>", m.end()) - m.end()
                if cls in wanted and size > best.get(cls, (-1, "", ""))[0]:
                    best[cls] = (size, key, _page_rel(site, html))
    missing = wanted - best.keys()
    assert not missing, f"no built page has these tables, so nothing tests them: {sorted(missing)}"
    out = {key: list(NAMED.get(key, [])) for key in sites}
    for _, key, rel in best.values():
        if rel not in out[key]:
            out[key].append(rel)
    return out


def _visits(pages):
    return [(key, rel) for key, rels in pages.items() for rel in rels]


# One pass over a page, returning every problem found (empty when the finish holds). Widths are
# measured in each element's own em. "Rules" are a border or box-shadow of the row or its cells.
REPORT = r"""() => {
  const out = [], px = v => parseFloat(v) || 0, cs = (e, p) => getComputedStyle(e, p);
  const where = e => (e.closest('table') ? 'table.' + (e.closest('table').className || '(markdown)') + ' ' : '')
                     + e.tagName.toLowerCase() + ' "' + e.textContent.trim().slice(0, 24) + '"';
  const seen = e => { const r = e.getBoundingClientRect(); return r.width > 1 && r.height > 1 && cs(e).visibility !== 'hidden'; };
  const ruled = e => { const s = cs(e);
    return ['Top', 'Bottom'].some(side => px(s['border' + side + 'Width']) >= 1 && s['border' + side + 'Style'] !== 'none'
             && !/rgba\([^)]*,\s*0\)$/.test(s['border' + side + 'Color'])) || s.boxShadow !== 'none'; };
  // Line boxes of an element's content: its rects grouped by vertical overlap (a badge or a mask
  // on a line has its own top, not its own line).
  const lines = el => { const r = document.createRange(); r.selectNodeContents(el);
    const rects = [...r.getClientRects()].filter(x => x.width > 0 && x.height > 0).sort((a, b) => a.top - b.top);
    let n = 0, bottom = -Infinity;
    for (const x of rects) { if (x.top >= bottom - 2) { n++; bottom = x.bottom; } else bottom = Math.max(bottom, x.bottom); }
    return n; };
  const doc = document.documentElement;
  if (doc.scrollWidth - doc.clientWidth > 1) out.push('the page scrolls sideways by ' + (doc.scrollWidth - doc.clientWidth) + ' px');
  const article = document.querySelector('article') || document.body;
  for (const table of article.querySelectorAll('table')) {
    if (!seen(table)) continue;
    const generated = /\bcb-/.test(table.className);
    if (generated && !table.parentElement.classList.contains('cb-table-wrap')) out.push(where(table) + ' is not in .cb-table-wrap');
    // The element that scrolls the table sideways, if any: its wrapper (ours, Material's) or itself.
    let scroller = null;
    for (let e = table; e && e !== article; e = e.parentElement)
      if (/(auto|scroll)/.test(cs(e).overflowX)) { scroller = e; break; }
    const scrolls = !!scroller && scroller.scrollWidth > scroller.clientWidth + 1;
    if (scrolls && generated && cs(scroller).backgroundImage === 'none') out.push(where(table) + ' scrolls without a visible cue');
    const head = table.tHead;
    const stacked = !head || head.getBoundingClientRect().height <= 1;
    if (head && !stacked) for (const th of head.querySelectorAll('th')) {
      const s = cs(th);
      if (px(s.fontWeight) < 600) out.push(where(th) + ' header is not bold');
      if (s.backgroundColor === 'rgba(0, 0, 0, 0)' && px(s.borderBottomWidth) < 2) out.push(where(th) + ' header has neither band nor firm rule');
    }
    const body = [...table.querySelectorAll('tbody tr')].filter(seen);
    for (const tr of body) {
      const cells = [...tr.cells].filter(seen);
      if (!(ruled(tr) || cells.some(ruled))) out.push(where(cells[0] || tr) + ' row has no rule');
      cells.forEach((cell, i) => {
        const s = cs(cell), em = px(s.fontSize), text = cell.textContent.replace(/\s+/g, '');
        for (const side of ['Top', 'Right', 'Bottom', 'Left'])
          if (px(s['padding' + side]) < 4) { out.push(where(cell) + ' padding-' + side.toLowerCase() + ' ' + s['padding' + side]); break; }
        const n = lines(cell);
        if (text.length >= 6 && n > 1 && text.length / n < 3) out.push(where(cell) + ' wraps ' + text.length + ' characters on ' + n + ' lines');
        if (!stacked && !scrolls && cell.getBoundingClientRect().width < 3 * em) out.push(where(cell) + ' is ' + Math.round(cell.getBoundingClientRect().width) + ' px wide, under 3 em, and the table does not scroll');
        if (stacked || cell.tagName !== 'TD') return;
        const fig = cell.querySelector('.cb-fig');
        const numeric = (fig && fig.textContent.trim() === cell.textContent.trim()) || /^\d+$/.test(cell.textContent.trim())
              || (head && /^数值$/.test((head.rows[0].cells[i] || {}).textContent || ''));
        const align = s.textAlign;
        if (numeric && align !== 'right') out.push(where(cell) + ' is a number aligned ' + align);
        if (!numeric && !table.classList.contains('cb-completeness') && !['left', 'start'].includes(align)) out.push(where(cell) + ' aligned ' + align);
        const hd = head && head.rows[0].cells[i];
        if (hd && seen(hd) && cs(hd).textAlign !== align && !(['left', 'start'].includes(cs(hd).textAlign) && ['left', 'start'].includes(align)))
          out.push(where(hd) + ' header aligned ' + cs(hd).textAlign + ' over cells aligned ' + align);
        // A figure and its unit read together: the gap between the two texts is under an em and a half.
        if (fig && numeric && cell.nextElementSibling && head && /单位/.test(head.rows[0].cells[i + 1]?.textContent || '')
            && cell.nextElementSibling.textContent.trim()) {
          const a = document.createRange(); a.selectNodeContents(cell);
          const b = document.createRange(); b.selectNodeContents(cell.nextElementSibling);
          const gap = [...b.getClientRects()][0].left - [...a.getClientRects()].pop().right;
          if (gap > 1.5 * em) out.push(where(cell) + ' stands ' + Math.round(gap) + ' px from its unit');
        }
      });
    }
  }
  for (const li of article.querySelectorAll('ul.cb-terms > li')) {
    const s = cs(li), ul = cs(li.parentElement);
    if (!/flex|inline/.test(ul.display)) out.push(where(li) + ' chip list is display ' + ul.display);
    if (px(s.borderTopLeftRadius) < 4) out.push(where(li) + ' chip has radius ' + s.borderTopLeftRadius);
    if (px(s.paddingLeft) < 4 || px(s.paddingRight) < 4) out.push(where(li) + ' chip has padding ' + s.padding);
    if (/mono|courier|consolas/i.test(s.fontFamily) || s.fontFamily === cs(document.body).getPropertyValue('--md-code-font').trim())
      out.push(where(li) + ' chip is set in ' + s.fontFamily);
    if (li.getBoundingClientRect().width >= li.parentElement.getBoundingClientRect().width - 1 && li.textContent.trim().length < 8)
      out.push(where(li) + ' short chip fills its whole line');
  }
  for (const q of article.querySelectorAll('q')) {
    if (!seen(q)) continue;
    if (q.closest('.cb-terms')) continue;  // a chip's outline marks the term
    if (q.closest('.cb-formula')) {
      if (px(cs(q.closest('.cb-formula')).borderLeftWidth) < 2) out.push(where(q) + ' formula is not set off as a quotation');
      continue;
    }
    // The marks as drawn: the element is wider than its own text by at least one mark's width.
    const r = document.createRange(); r.selectNodeContents(q);
    const textWidth = [...r.getClientRects()].reduce((a, x) => a + x.width, 0);
    const boxWidth = [...q.getClientRects()].reduce((a, x) => a + x.width, 0);
    const own = /^[“‘「『]/.test(q.textContent.trim()) && /[”’」』]$/.test(q.textContent.trim());
    if (!own && boxWidth - textWidth < 0.5 * px(cs(q).fontSize)) out.push(where(q) + ' shows no quotation marks');
  }
  for (const quoted of article.querySelectorAll('.cb-quoted')) {
    // Its first line starts below the last line of the outcome before it.
    const before = document.createRange(); before.setStart(quoted.parentElement, 0); before.setEndBefore(quoted);
    const above = [...before.getClientRects()].filter(x => x.width > 0);
    const own = [...quoted.getClientRects()].filter(x => x.width > 0);
    if (above.length && own.length && own[0].top < Math.max(...above.map(x => x.bottom)) - 1)
      out.push(where(quoted) + ' shares a line with the outcome it quotes');
  }
  for (const star of article.querySelectorAll('abbr.cb-star')) {
    if (!seen(star)) continue;
    const s = cs(star);
    if (s.backgroundColor === 'rgba(0, 0, 0, 0)') out.push(where(star) + ' * is not masked');
    if (!star.title) out.push(where(star) + ' * has no explanation');
    if (star.closest('.cb-fig') && star.getAttribute('tabindex') !== '0') out.push(where(star) + ' figure * cannot be tapped or focused');
  }
  return out;
}"""


def _context(browser, width: int, scheme: str = "light"):
    phone = width < 600
    return browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN", is_mobile=phone,
                               has_touch=phone, color_scheme=scheme)


@pytest.mark.parametrize("width", WIDTHS)
def test_tables_chips_quotes_and_masks(browser, bases, pages, width):
    context = _context(browser, width)
    page = context.new_page()
    problems = []
    try:
        for key, rel in _visits(pages):
            page.goto(bases[key] + rel)
            page.wait_for_load_state("load")
            problems += [f"{key}:/{rel} @{width}: {p}" for p in page.evaluate(REPORT)]
    finally:
        context.close()
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} problems)"


def test_a_tap_on_a_star_shows_its_explanation(browser, bases, pages):
    """Touch screens show no tooltips: tapping a figure's '*' focuses it and the explanation (its
    title) appears on screen, fixed to the viewport so no table scroller clips it."""
    context = _context(browser, 390)
    page = context.new_page()
    tapped = 0
    try:
        for key, rel in _visits(pages):
            page.goto(bases[key] + rel)
            page.wait_for_load_state("load")
            stars = page.locator("article .cb-fig abbr.cb-star")
            if stars.count() == 0:
                continue
            star = stars.nth(stars.count() - 1)  # the last: deepest in a scroller or card
            star.scroll_into_view_if_needed()
            star.tap()
            shown = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e, '::after');
                return {tag: e.tagName, title: e.title, content: s.content, position: s.position, display: s.display,
                        bottom: parseFloat(s.bottom), colour: s.color, background: s.backgroundColor}; }""")
            assert shown["tag"] == "ABBR", (rel, shown)
            assert shown["title"] and shown["title"] in shown["content"], (rel, shown)
            assert shown["position"] == "fixed" and shown["display"] != "none" and 0 <= shown["bottom"] < 100, (rel, shown)
            assert shown["colour"] != shown["background"], (rel, shown)
            page.locator("h1").first.tap()  # focus leaves: the explanation goes
            assert page.evaluate("() => getComputedStyle(document.querySelector('article .cb-fig abbr.cb-star'),"
                                 " '::after').content") in ("none", "normal")
            tapped += 1
    finally:
        context.close()
    assert tapped >= 3  # home cards, a cluster's table, an indicator's table at least


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_accessibility_violations(browser, bases, pages, width, scheme):
    context = _context(browser, width, scheme)
    page = context.new_page()
    found = []
    try:
        for key, rel in _visits(pages):
            page.goto(bases[key] + rel)
            page.wait_for_load_state("load")
            assert page.evaluate("() => document.body.dataset.mdColorScheme") == ("slate" if scheme == "dark" else "default")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            found += [f"{key}:/{rel} @{width} {scheme}: {v['id']} {v['impact']} {[n['target'] for n in v['nodes']][:3]}"
                      for v in result["violations"] if v["impact"] in ("serious", "critical")]
    finally:
        context.close()
    assert not found, "\n".join(found)


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_dark_scheme_draws_rules_and_bands_from_its_own_palette(browser, bases):
    """In the slate scheme the header rule, row rules and chips are lighter than the page, not the
    light palette's dark greys (a token resolved on :root would keep those)."""
    context = _context(browser, 1366, "dark")
    page = context.new_page()
    try:
        page.goto(bases["real"] + "cases/grain-store/")
        got = page.evaluate("""() => { const c = e => getComputedStyle(e);
            const th = document.querySelector('table.cb-figures thead th:nth-child(2)');
            const td = document.querySelector('table.cb-figures tbody td');
            const chip = document.querySelector('.cb-terms li');
            return {bg: c(document.body).backgroundColor, head: c(th).borderBottomColor, row: c(td).borderBottomColor,
                    band: c(th).backgroundColor, chip: c(chip).backgroundColor, chipText: c(chip).color}; }""")
    finally:
        context.close()
    bg = _luminance(got["bg"])
    assert bg < 0.25, got
    for key in ("head", "row", "chipText"):
        assert _luminance(got[key]) > bg, (key, got)
    assert got["band"] != "rgba(0, 0, 0, 0)" and "0, 0, 0," not in got["band"], got


def test_print_lays_every_table_on_the_page(browser, bases, pages):
    """On paper there is no scroller: each table fits the printed column (A4 at 96 dpi)."""
    page = browser.new_page(viewport={"width": 794, "height": 1123})
    try:
        for key, rel in _visits(pages):
            page.goto(bases[key] + rel)
            page.emulate_media(media="print")
            over = page.evaluate("""() => [...document.querySelectorAll('article .cb-table-wrap')].filter(w =>
                getComputedStyle(w).overflowX !== 'visible' || w.firstElementChild.getBoundingClientRect().right
                > document.querySelector('article').getBoundingClientRect().right + 1).map(w => w.firstElementChild.className)""")
            assert not over, (rel, over)
            page.emulate_media(media="screen")
    finally:
        page.close()
