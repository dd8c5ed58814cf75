"""The built site in a real Chromium: offline, navigable, accessible, printable."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_support import AXE, is_local

PAGES = ["", "alliance/", "cases/grain-store/", "cases/cloud-ecommerce/", "models/", "lessons/", "indicators/",
         "indicators/administrative-villages/", "tags/", "sources/", "about/", "404.html", "cases/", "compare/"]


@pytest.fixture(scope="module")
def site(real_site) -> Path:
    return real_site


@pytest.fixture(scope="module")
def base(real_base):
    return real_base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def file_url(site: Path, rel: str) -> str:
    target = site / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    return target.as_uri()


@pytest.mark.parametrize("rel", PAGES)
def test_zero_external_requests_over_http(page, base, rel):
    page.goto(base + rel)
    page.wait_for_load_state("networkidle")
    external = [u for u in page.requests if not is_local(u, base)]
    assert external == [], external
    assert page.errors == []


@pytest.mark.parametrize("over", ["http", "file"])
def test_the_internal_edition_makes_zero_external_requests(page, internal_site, internal_base, over):
    """Every page kind of the internal edition (a FICTIONAL overlay), over http and file://."""
    for rel in PAGES:
        page.requests.clear()
        page.goto(internal_base + rel if over == "http" else file_url(internal_site, rel))
        page.wait_for_load_state("networkidle")
        assert page.locator(".cb-edition").count() == 1, rel  # the banner, on every page
        external = [u for u in page.requests if not is_local(u, internal_base if over == "http" else "file://")]
        assert external == [], (rel, external)
    assert page.errors == []


@pytest.mark.parametrize("rel", PAGES)
def test_zero_external_requests_over_file(page, site, rel):
    page.goto(file_url(site, rel))
    page.wait_for_load_state("networkidle")
    external = [u for u in page.requests if not is_local(u, "file://")]
    assert external == [], external


def test_links_work_from_disk(page, site):
    """Opened from a folder (file://), directory links still land on pages, not folder listings."""
    page.goto(file_url(site, ""))
    page.click("a[href*='cases/grain-store']")
    page.wait_for_load_state()
    assert page.url.endswith("cases/grain-store/index.html")
    assert "“*粮仓”组团" in page.title()
    page.click(".md-sidebar--primary a.md-nav__link[href*='lessons/']")
    page.wait_for_load_state()
    assert page.url.endswith("lessons/index.html")


@pytest.mark.parametrize("rel", ["", "cases/grain-store/", "lessons/"])
def test_no_serious_accessibility_violations(page, base, rel):
    page.goto(base + rel)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(map(str, serious))


def test_print_hides_chrome_and_prints_address(page, base):
    page.goto(base + "cases/source-prosperity/")
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['.md-header', '.md-sidebar--primary', '.md-sidebar--secondary', '.md-footer']
        .map(s => document.querySelector(s)).filter(Boolean).map(e => getComputedStyle(e).display)""")
    assert hidden and set(hidden) == {"none"}
    # The address prints in every page's margin box (print.css), from the property casebook.js sets.
    address = page.evaluate("() => getComputedStyle(document.documentElement).getPropertyValue('--cb-page-address')")
    assert base + "cases/source-prosperity/" in address
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_readable_without_javascript(browser, base):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(base + "cases/mountain-road/")
    text = pg.inner_text("article")
    assert "“*天路”组团" in text and "雪乡共富菜园" in text and "数据" in text
    context.close()


def test_narrow_screen_has_no_horizontal_scroll(browser, base):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True)
    pg = context.new_page()
    pg.goto(base + "cases/cloud-ecommerce/")
    overflow = pg.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    context.close()


@pytest.fixture(scope="module")
def figures_site(tmp_path_factory) -> Path:
    from sitebuild import build_project, make_project

    return build_project(make_project(tmp_path_factory.mktemp("figs"), Path(__file__).parent / "fixtures"
                                      / "fictional_figures"))


@pytest.fixture(scope="module")
def figures_base(figures_site):
    from browser_support import serve_directory

    with serve_directory(figures_site) as url:
        yield url


@pytest.mark.parametrize("javascript", [True, False])
def test_charts_visible_with_and_without_javascript(browser, figures_base, javascript):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    requests = []
    pg.on("request", lambda r: requests.append(r.url))
    for rel in ["cases/fictional-alpha/", "indicators/collective-income/"]:
        pg.goto(figures_base + rel)
        pg.wait_for_load_state("networkidle")
        charts = pg.locator("figure.cb-chart .cb-chart-svg svg")
        assert charts.count() == 2
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
    assert [u for u in requests if not is_local(u, figures_base)] == []
    context.close()


def test_chart_page_accessibility(page, figures_base):
    page.goto(figures_base + "indicators/collective-income/")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(map(str, serious))


@pytest.mark.parametrize("over", ["http", "file"])
def test_chart_exports_png_and_svg_in_the_browser(browser, figures_site, figures_base, over):
    """PNG and SVG downloads are made from the inline chart by the page itself: no request, no file
    on the server, and they work when the site is opened from disk."""
    import struct

    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    if over == "http":
        pg.goto(figures_base + "cases/fictional-alpha/")
    else:
        pg.goto((figures_site / "cases" / "fictional-alpha" / "index.html").as_uri())
    pg.wait_for_load_state("networkidle")
    box = pg.locator(".cb-chart-export").first
    assert box.is_visible()
    with pg.expect_download() as got:
        box.locator("button.cb-chart-png").click()
    download = got.value
    assert download.suggested_filename == "trend-fictional-alpha-collective-income.png"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1280 and height > 400  # twice the 640-unit chart
    with pg.expect_download() as got:
        box.locator("button.cb-chart-svgdl").click()
    svg = Path(got.value.path()).read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "村集体经营性收入（虚构）" in svg and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert [u for u in requests if not (u.startswith(("blob:", "data:", "file:")) or is_local(u, figures_base))] == []
    context.close()
