"""Charts as Vega-Lite specs: built from Altair templates, drawn statically by chartsvg and live by the
vendored vega-embed (in a real Chromium), and both drawings of one spec agree. Every figure here is
虚构 (fictional), in tests/fixtures/fictional_figures or made up below."""

from __future__ import annotations

import csv
import html
import io
import json
import random
import re
import shutil
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from casebook.charts import (
    SERIES,
    STARRED,
    VALUE,
    Point,
    bar_fill,
    compare_charts,
    fill,
    line_fill,
    templates,
    trend_chart,
)
from casebook.chartsvg import draw, tick_label
from casebook.models import Indicator, Observation
from casebook.present import DESENSITISED_NOTE

from browser_support import serve_directory
from helpers import wait_until
from sitebuild import build_project, make_project

FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"
VENDOR = Path(__file__).resolve().parents[1] / "generator" / "casebook" / "assets" / "vendor"
SVG = "{http://www.w3.org/2000/svg}"
# Values `casebook check` lets through (15 significant digits, 6 decimals), negatives and 0 included.
BOUNDED = [0.0, 0.000001, 0.1, 1.0, -1.0, 3.5, -100.0, 52.0, 138.0, 99.999999, 123456789.012345, 4100.0,
           -999999999999999.0, 999999999999999.0, 9999999.999999, 12000.0, 0.5]


def _value(rng: random.Random) -> Decimal | str:
    if rng.random() < 0.2:
        return "*"
    if rng.random() < 0.5:
        return Decimal(rng.choice(BOUNDED))
    digits = rng.randint(1, 12)
    return Decimal(rng.choice([1, 1, 1, -1]) * rng.randint(0, 10**digits - 1)) / 10 ** rng.randint(0, min(4, digits))


def random_line(rng: random.Random) -> dict:
    """A line spec of 1–5 series over up to 8 years, with '*' values and years without a figure."""
    first, span = 2015, rng.randint(1, 8)
    points = []
    for s in range(rng.randint(1, 5)):
        for year in range(first, first + span):
            if rng.random() < 0.8:
                points.append(Point(f"虚构组团{s}", year, _value(rng)))
    if not any(p.disclosed for p in points):
        points.append(Point("虚构组团0", first, Decimal(7)))
    years = list(range(first, first + span))
    return fill("line", line_fill(points, "虚构指标（万元）", "万元", years, colour=rng.random() < 0.5))


def random_bars(rng: random.Random) -> dict:
    points = [Point(f"虚构组团{i}", 2023, _value(rng)) for i in range(rng.randint(1, 12))]
    return fill("bars", bar_fill(points, "虚构指标：2023年各组团对比（万元）", "万元", [p.label for p in points]))


def specs(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    return [random_line(rng) if i % 2 == 0 else random_bars(rng) for i in range(count)]


# --------------------------------------------------------------------------- what the static drawing shows


def static_facts(spec: dict) -> dict:
    """What chartsvg drew for ``spec``, read back from the SVG."""
    root = ET.fromstring(draw(spec))

    def group(name: str) -> ET.Element:
        return next(g for g in root.iter(SVG + "g") if g.get("class") == name)

    line = spec["layer"][0]["mark"]["type"] == "line"
    value_axis = group("axis y" if line else "axis x")
    ticks = [t.text for t in value_axis.findall(SVG + "text") if t.get("text-anchor") == ("end" if line else "middle")]
    if not line:
        ticks = ticks[:-1]  # the last one is the axis title
    facts = {"kind": "line" if line else "bars", "stars": len(group("mark-star").findall(SVG + "text")),
             "ticks": ticks}
    if line:
        facts["points"] = len(group("mark-symbol").findall(SVG + "circle"))
        facts["segments"] = sorted(p.get("d").count("M") for p in group("mark-line").findall(SVG + "path"))
    else:
        facts["bars"] = len(group("mark-rect").findall(SVG + "rect"))
        facts["labels"] = sorted(t.text for t in group("mark-label").findall(SVG + "text"))
    return facts


def expected_facts(spec: dict) -> dict:
    """What the spec's data says must be drawn: a mark per value, a '*' per desensitised value and
    nothing else — a '*' never has a value, and a line breaks at every row without one."""
    rows = spec["data"]["values"]
    assert all(r[VALUE] is None for r in rows if r[STARRED]), "a '*' row must carry no value (never 0)"
    valid = [r for r in rows if r[VALUE] is not None]
    facts = {"stars": sum(r[STARRED] for r in rows)}
    if spec["layer"][0]["mark"]["type"] == "line":
        years = spec["encoding"]["x"]["scale"]["domain"]
        segments = []
        for label in spec["encoding"]["color"]["scale"]["domain"]:
            present = {r["year"] for r in valid if r[SERIES] == label}
            runs = "".join("1" if y in present else " " for y in years).split()
            if runs:
                segments.append(len(runs))
        facts.update(points=len(valid), segments=sorted(segments))
    else:
        facts.update(bars=len(valid), labels=sorted(r["label"] for r in valid))
    return facts


def test_templates_are_built_once_with_altair_and_every_spec_is_valid_vega_lite():
    import jsonschema
    from altair.vegalite.v6.schema import SCHEMA_URL, load_schema

    assert templates() is templates(), "the templates are built once per process"
    assert set(templates()) == {"line", "bars"}
    validator = jsonschema.Draft7Validator(load_schema())
    for spec in specs(20240701, 24):
        assert spec["$schema"] == SCHEMA_URL
        errors = sorted(validator.iter_errors(spec), key=str)
        assert errors == [], errors[0].message
        assert json.loads(json.dumps(spec, allow_nan=False)) == spec


def test_static_drawing_draws_what_the_spec_says():
    for spec in specs(20240702, 400):
        facts, expected = static_facts(spec), expected_facts(spec)
        assert {k: facts[k] for k in expected} == expected, spec["data"]["values"]
        axis = spec["encoding"]["y" if facts["kind"] == "line" else "x"]
        ticks = [float(t) for t in axis["axis"]["values"]]
        assert facts["ticks"] == [tick_label(t, ticks) for t in ticks]
        assert axis["scale"]["domain"] == [ticks[0], ticks[-1]] and ticks[0] <= 0 <= ticks[-1]


# --------------------------------------------------------------------------- the live drawing, in Chromium

# Draws each spec with vega-embed (as assets/charts.js calls it) and reads back what Vega drew.
VEGA_FACTS = """async (specs) => {
  const out = [];
  for (const spec of specs) {
    const box = document.createElement('div');
    document.body.appendChild(box);
    const {view} = await vegaEmbed(box, spec, {renderer: 'svg', actions: false, ast: true, defaultStyle: false});
    const line = spec.layer[0].mark.type === 'line';
    const marks = (i) => [...box.querySelectorAll(`.layer_${i}_marks > *`)];
    const valueScale = line ? 'y' : 'x';
    const ticks = [...box.querySelectorAll('.role-axis')].map(a => [...a.querySelectorAll('.role-axis-label text')]
        .map(t => t.textContent));
    const facts = {domain: view.scale(valueScale).domain(), categories: view.scale(line ? 'x' : 'y').domain(), ticks};
    if (line) {
      facts.points = marks(1).length;
      facts.segments = marks(0).map(p => ((p.getAttribute('d') || '').match(/M/g) || []).length).filter(n => n > 0).sort((a, b) => a - b);
      facts.stars = marks(2).filter(t => t.textContent === '*').length;
    } else {
      facts.bars = marks(0).length;
      facts.labels = [...marks(1), ...marks(2)].map(t => t.textContent).sort();
      facts.stars = marks(3).filter(t => t.textContent === '*').length;
    }
    out.push(facts);
    view.finalize();
    box.remove();
  }
  return out;
}"""


@pytest.fixture(scope="module")
def vega_page(browser, tmp_path_factory):
    root = tmp_path_factory.mktemp("vega")
    scripts = "".join(f'<script src="{n}"></script>' for n in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"))
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        shutil.copy(VENDOR / name, root / name)
    (root / "index.html").write_text(f"<!doctype html><meta charset=utf-8><title>虚构</title>{scripts}<body></body>",
                                     encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((root / "index.html").as_uri())  # over file://, as a reader opening the site from disk
    page.wait_for_function("() => typeof vegaEmbed === 'function'")
    yield page
    page.close()
    assert errors == []


def test_static_and_live_drawings_of_the_same_spec_agree(vega_page):
    """Marks, gaps for '*' and the axes' ranges: chartsvg's SVG and vega-embed's, spec by spec."""
    batch = specs(20240703, 60)
    live = vega_page.evaluate(VEGA_FACTS, batch)
    for spec, got in zip(batch, live, strict=True):
        mine = static_facts(spec)
        what = json.dumps(spec["data"]["values"], ensure_ascii=False)[:400]
        for key in ("points", "segments", "stars", "bars", "labels"):
            if key in mine:
                assert got[key] == mine[key], (key, got[key], mine[key], what)
        line = mine["kind"] == "line"
        axis = spec["encoding"]["y" if line else "x"]
        assert got["domain"] == axis["scale"]["domain"], what  # the value axis' range, exactly
        categories = spec["encoding"]["x" if line else "y"]["scale"]["domain"]
        assert got["categories"] == categories, what  # every year (or series), gaps included
        # The value axis is labelled with the same ticks, in the same words.
        assert mine["ticks"] in got["ticks"], (mine["ticks"], got["ticks"])


# --------------------------------------------------------------------------- on the built site


@pytest.fixture(scope="module")
def fig_site(tmp_path_factory) -> Path:
    return build_project(make_project(tmp_path_factory.mktemp("spec-figures"), FIGURES))


def page_specs(page_html: str) -> list[tuple[str, dict]]:
    """Each chart of a built page: its id and the spec its figure carries."""
    return [(m.group(1), json.loads(html.unescape(m.group(2))))
            for m in re.finditer(r'<figure class="cb-chart" id="chart-([a-z0-9-]+)"[^>]*data-cb-spec="([^"]*)"', page_html)]


def test_each_chart_downloads_its_spec_and_data_beside_it(fig_site):
    pages = [p for p in fig_site.rglob("index.html") if "cb-chart" in p.read_text(encoding="utf-8")]
    seen = 0
    for path in pages:
        text = path.read_text(encoding="utf-8")
        for chart_id, spec in page_specs(text):
            seen += 1
            rel = "../" * (len(path.relative_to(fig_site).parts) - 1)
            for ext in ("vl.json", "csv"):
                assert f'href="{rel}downloads/charts/{chart_id}.{ext}"' in text, (path, chart_id, ext)
            assert json.loads((fig_site / "downloads" / "charts" / f"{chart_id}.vl.json").read_text(encoding="utf-8")) == spec
            raw = (fig_site / "downloads" / "charts" / f"{chart_id}.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")
            rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
            data = spec["data"]["values"]
            assert [(r["系列"], r["年份"]) for r in rows] == [(d["series"], d["year"]) for d in data]
            for row, d in zip(rows, data, strict=True):
                if d["star"]:
                    assert row["数值"] == "*" and row["公开状态"] == "已脱敏" and d["text"] == DESENSITISED_NOTE
                elif d["value"] is None:
                    assert row["数值"] == "" and row["公开状态"] == "未给出"
                else:
                    assert float(row["数值"]) == d["value"] and row["公开状态"] == "已公开"
    assert seen == 9


LIVE = "(f) => f.cbView !== undefined && f.querySelector('.cb-chart-view svg') !== null"


def vendor_requests(requests: list[str]) -> list[str]:
    return sorted({u.rsplit("/", 1)[1] for u in requests if "/vendor/vega" in u})


@pytest.mark.parametrize("over", ["file", "http"])
def test_vega_loads_only_when_a_reader_asks_and_tooltips_say_desensitised(browser, fig_site, over):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    with serve_directory(fig_site) as base:
        def url(rel: str) -> str:
            return (fig_site / rel / "index.html").as_uri() if over == "file" else base + rel + "/"

        # A page without charts loads no vendor file, whatever the reader does.
        page.goto(url("lessons"))
        page.mouse.move(300, 300)
        page.keyboard.press("Tab")
        page.wait_for_load_state("networkidle")
        assert vendor_requests(requests) == []

        page.goto(url("cases/fictional-alpha"))
        page.wait_for_load_state("networkidle")
        assert vendor_requests(requests) == [], "nothing is loaded before the reader asks"
        fig = page.query_selector("figure.cb-chart")
        fig.query_selector(".cb-chart-svg").hover()
        page.wait_for_function(LIVE, arg=fig, timeout=30_000)
        assert vendor_requests(requests) == ["vega-embed.min.js", "vega-lite.min.js", "vega.min.js"]
        assert all(u.startswith(("file://", base)) for u in requests)
        assert fig.evaluate("f => f.querySelector('.cb-chart-svg > svg').style.display") == "none"
        # The '*' year: the tooltip says the value is desensitised, never a number.
        fig.query_selector(".cb-chart-view .layer_2_marks text").hover()
        tip = page.wait_for_selector("#vg-tooltip-element.visible")
        assert "2021年" in tip.inner_text() and "原文已脱敏" in tip.inner_text()
        fig.query_selector(".cb-chart-view .layer_1_marks > *").hover()
        wait_until(lambda: "52万元" in page.inner_text("#vg-tooltip-element"), 10, "the 2019 value's tooltip")
        # The second chart goes live from its button, by keyboard (focus), without loading anything again.
        second = page.query_selector_all("figure.cb-chart")[1]
        count = len(requests)
        second.query_selector(".cb-chart-live").focus()
        page.wait_for_function(LIVE, arg=second, timeout=30_000)
        assert vendor_requests(requests[count:]) == []
        second.query_selector(".cb-chart-live").click()  # back to the static drawing
        assert second.evaluate("f => f.querySelector('.cb-chart-svg > svg').style.display") == ""
        # Printed, the static drawing shows, not the live one.
        page.emulate_media(media="print")
        shown = fig.evaluate("f => [getComputedStyle(f.querySelector('.cb-chart-svg > svg')).display,"
                             " getComputedStyle(f.querySelector('.cb-chart-view')).display]")
        assert shown == ["block", "none"]
    context.close()
    assert errors == []


def test_vega_runs_under_a_policy_without_eval(browser, tmp_path):
    """charts.js draws a chart on a page whose Content Security Policy forbids eval and Function()."""
    assets = tmp_path / "assets"
    shutil.copytree(VENDOR, assets / "vendor")
    shutil.copy(VENDOR.parent / "charts.js", assets / "charts.js")
    # Proves the policy is in force: Function() must throw on this page.
    (assets / "probe.js").write_text("try { Function('return 1')(); window.evalAllowed = true; }"
                                     " catch (e) { window.evalAllowed = false; }", encoding="utf-8")
    spec = random_line(random.Random(5))
    (tmp_path / "index.html").write_text(
        "<!doctype html><meta charset=utf-8>"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'self'; object-src 'none'\"><title>虚构</title>"
        '<script src="assets/probe.js"></script><script src="assets/charts.js"></script>'
        f'<figure class="cb-chart" data-cb-spec="{html.escape(json.dumps(spec, ensure_ascii=False))}">'
        f'<div class="cb-chart-svg">{draw(spec)}</div><button type="button" class="cb-chart-live">交互查看</button></figure>',
        encoding="utf-8")
    page = browser.new_page()
    page.add_init_script("document.addEventListener('securitypolicyviolation',"
                         " e => (window.violations = window.violations || []).push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber))")
    with serve_directory(tmp_path) as base:
        page.goto(base)
        assert page.evaluate("window.evalAllowed") is False
        page.click(".cb-chart-live")
        fig = page.query_selector("figure.cb-chart")
        page.wait_for_function(LIVE, arg=fig, timeout=30_000)
        violations = page.evaluate("window.violations || []")
        assert [v for v in violations if "/probe.js:" not in v] == [], violations  # only the probe's own
        assert len(fig.query_selector_all(".cb-chart-view .layer_1_marks > *")) == expected_facts(spec)["points"]
    page.close()


# --------------------------------------------------------------------------- scopes and hostile text


def _ind() -> Indicator:
    return Indicator(id="x", name="投资额（虚构）", unit="万元", definition="虚构。", direction="neutral", category="basics")


def _obs(year: int, value: str, scope: str | None = None) -> Observation:
    return Observation.model_validate({"indicator": "x", "year": year, "value": value, "scope": scope})


def test_a_scoped_figure_is_its_own_series_labelled_with_its_scope():
    """A project's or an example's figure never reads as its owner's: its series and bar carry the scope."""
    series = [("“虚构甲”组团", _obs(2022, "10")), ("“虚构甲”组团", _obs(2023, "12")),
              ("“虚构甲”组团", _obs(2023, "3", "虚构公园")), ("党建联盟", _obs(2023, "3", "“虚构”党建联盟")),
              ("“虚构乙”组团", _obs(2023, "*", "虚构项目"))]
    charts = compare_charts(_ind(), series)
    assert [c.kind for c in charts] == ["compare-lines", "compare-bars"]
    for chart in charts:
        labels = {r["series"] for r in chart.spec["data"]["values"]}
        assert labels == {"“虚构甲”组团", "“虚构甲”组团（虚构公园）", "党建联盟（“虚构”党建联盟）", "“虚构乙”组团（虚构项目）"}
        assert "党建联盟" not in labels
        svg = draw(chart.spec)
        assert "党建联盟（“虚构”党建联盟）" in html.unescape(svg) or "党建联盟（“虚构”党建…" in html.unescape(svg)
    bars = charts[1].spec
    assert bars["encoding"]["y"]["scale"]["domain"][:3] == ["“虚构甲”组团", "“虚构甲”组团（虚构公园）", "党建联盟（“虚构”党建联盟）"]
    # On a cluster page the project's figures are a line of their own beside the cluster's.
    trend = trend_chart("trend-x", _ind(), [_obs(2021, "5"), _obs(2022, "6"), _obs(2022, "2", "虚构公园"),
                                            _obs(2023, "*", "虚构公园")])
    assert trend is not None and trend.spec["encoding"]["color"]["scale"]["domain"] == ["投资额（虚构）", "投资额（虚构）（虚构公园）"]
    assert trend.spec["encoding"]["color"]["legend"] is not None, "two series: the legend names both"
    assert "投资额（虚构）（虚构公园）：" in trend.summary


def test_scoped_figures_on_a_built_site(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    path = cases / "clusters" / "fictional-beta.yaml"
    text = path.read_text(encoding="utf-8")
    extra = ("  - {indicator: collective-income, year: 2022, value: 7, scope: 虚构公园}\n"
             "  - {indicator: collective-income, year: 2023, value: '*', scope: 虚构公园}\n")
    text = text.replace("observations:\n", "observations:\n" + extra, 1)
    assert extra in text
    path.write_text(text, encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    indicator = (site / "indicators" / "collective-income" / "index.html").read_text(encoding="utf-8")
    for _, spec in page_specs(indicator):
        labels = [r["series"] for r in spec["data"]["values"]]
        assert "“虚构乙”组团（虚构公园）" in labels
        scoped = [r for r in spec["data"]["values"] if r["series"] == "“虚构乙”组团（虚构公园）"]
        assert any(r["star"] and r["value"] is None for r in scoped)
    beta = (site / "cases" / "fictional-beta" / "index.html").read_text(encoding="utf-8")
    income = dict(page_specs(beta))["trend-fictional-beta-collective-income"]
    assert sorted(income["encoding"]["color"]["scale"]["domain"]) == ["村集体经营性收入（虚构）", "村集体经营性收入（虚构）（虚构公园）"]


HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


def test_hostile_labels_stay_text_in_the_spec_both_drawings_and_the_tooltip(browser, tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    source = cases / "sources" / "fictional.txt"  # a name must be the source's own words
    source.write_text(source.read_text(encoding="utf-8") + HOSTILE + "\n", encoding="utf-8")
    path = cases / "clusters" / "fictional-beta.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: 虚构乙", f"name: {json.dumps(HOSTILE)}"),
                    encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    target = site / "indicators" / "collective-income" / "index.html"
    text = target.read_text(encoding="utf-8")
    found = dict(page_specs(text))
    assert len(found) == 2 and all(any(HOSTILE in r["series"] for r in spec["data"]["values"]) for spec in found.values())
    assert "<script>alert" not in text and "<img src=x" not in text
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(target.as_uri())
    bars = page.query_selector("#chart-compare-collective-income-bars-2023")
    bars.query_selector(".cb-chart-svg").hover()
    page.wait_for_function(LIVE, arg=bars, timeout=30_000)
    for mark in bars.query_selector_all(".cb-chart-view .layer_0_marks > path"):
        mark.hover()
        tip = page.wait_for_selector("#vg-tooltip-element.visible")
        if HOSTILE in (tip.text_content() or ""):
            break
    else:
        raise AssertionError("no bar's tooltip named the hostile cluster")
    # Shown as text: nothing of it became an element, in the drawing or in the tooltip.
    bad = page.evaluate("() => document.querySelectorAll('.cb-chart-view img, .cb-chart-view script,"
                        " #vg-tooltip-element *:not(table, tbody, tr, td, h2)').length")
    assert bad == 0 and dialogs == []
    page.close()
