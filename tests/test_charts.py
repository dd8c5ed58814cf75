"""Charts and downloads, on the fictional numeric casebook (every figure in it is made up)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import random
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from casebook.charts import ChartRenderer, Point, bar_fill, fill, line_fill
from casebook.chartsvg import WIDTH, draw, nice_ticks, number_label, tick_label
from casebook.site import prepare_site

from sitebuild import build_project, make_project

FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"


@pytest.fixture(scope="module")
def fig_site(tmp_path_factory) -> Path:
    return build_project(make_project(tmp_path_factory.mktemp("figures"), FIGURES))


def figures_in(html: str) -> list[str]:
    return re.findall(r'<figure class="cb-chart".*?</figure>', html, re.S)


def page(site: Path, rel: str) -> str:
    return (site / rel / "index.html").read_text(encoding="utf-8")


def test_cluster_page_has_trend_charts_with_summary_and_table(fig_site):
    html = page(fig_site, "cases/fictional-alpha")
    figs = figures_in(html)
    assert len(figs) == 2  # collective income and e-commerce sales; jobs has a single year
    income = figs[0]
    assert "<svg" in income and "<figcaption" in income
    assert "2019–2023年由52万元增至138万元，年均增长28%；2021年的数值原文脱敏（*），图中留空。" in income
    rows = re.findall(r"<tr class=\"cb-(disclosed|desensitised)\"><th scope=\"row\">[^<]*</th><td>(\d{4})年</td>"
                      r"<td class=\"cb-num\">([^<]*)</td>", income)
    assert rows == [("disclosed", "2019", "52万元"), ("disclosed", "2020", "68万元"),
                    ("desensitised", "2021", "*（脱敏）"), ("disclosed", "2022", "110万元"),
                    ("disclosed", "2023", "138万元")]
    assert 'role="img"' in income and "aria-label=\"村集体经营性收入（虚构）（万元）。2019–2023年" in income


def test_desensitised_year_is_a_gap_not_a_zero(fig_site):
    income = figures_in(page(fig_site, "cases/fictional-alpha"))[0]
    svg = income[income.index("<svg"):income.index("</svg>")]
    line = re.search(r'class="mark-line[^"]*".*?<path[^>]* d="([^"]+)"', svg, re.S).group(1)
    assert line.count("M") == 2, "the line must break at the desensitised year"
    labels = re.findall(r">(20\d\d)</text>", svg)
    assert labels == ["2019", "2020", "2021", "2022", "2023"], "the year axis keeps its full domain"
    assert re.search(r">\*</text>", svg), "the gap is labelled *"
    points = re.findall(r'class="mark-symbol[^"]*".*?</g>', svg, re.S)[0]
    assert points.count("<circle") == 4  # four disclosed years, no point for the '*' year


def test_bars_absent_for_desensitised_cluster(fig_site):
    html = page(fig_site, "indicators/collective-income")
    figs = figures_in(html)
    assert len(figs) == 2  # lines over years, bars for the latest year
    bars = figs[1]
    svg = bars[bars.index("<svg"):bars.index("</svg>")]
    rect_group = re.search(r'class="mark-rect[^"]*".*?</g>', svg, re.S).group(0)
    assert rect_group.count("<rect") == 2  # 甲 and 乙; 丙 is desensitised: no bar
    assert "“虚构丙”组团" in svg and re.search(r">\*</text>", svg)
    assert "2023年“虚构甲”组团最高（138万元），“虚构乙”组团最低（60万元）；“虚构丙”组团2023年的数值原文脱敏（*），图中不画柱。" in bars


def test_cluster_without_chartable_figures_says_so(fig_site):
    html = page(fig_site, "cases/fictional-gamma")
    assert figures_in(html) == []
    assert "没有可以绘制成图的数值" in html


def test_real_casebook_has_honest_notices(real_site):
    for cid in ["source-prosperity", "grain-store", "mountain-road", "farming-weaving", "cloud-ecommerce"]:
        html = page(real_site, f"cases/{cid}")
        assert figures_in(html) == [] and "没有可以绘制成图的数值" in html
    assert list((real_site / "charts").glob("*.png")) == []


def test_downloads_open_and_match(fig_site):
    from openpyxl import load_workbook

    dl = fig_site / "downloads"
    raw = (dl / "共富案例库-全部数据.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV needs a BOM so Excel reads Chinese correctly"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 18
    alpha_2021 = next(r for r in rows if r["组团标识"] == "fictional-alpha" and r["指标标识"] == "collective-income"
                  and r["年份"] == "2021")
    assert alpha_2021["数值"] == "*" and alpha_2021["公开状态"] == "已脱敏" and alpha_2021["单位"] == "万元"
    ecom = next(r for r in rows if r["指标标识"] == "e-commerce-sales" and r["年份"] == "2021")
    assert ecom["数值"] == "1.2" and ecom["单位"] == "亿元"  # written as 12000万元, converted exactly
    assert all(r["来源"] for r in rows)

    ws = load_workbook(dl / "共富案例库-全部数据.xlsx").active
    table = list(ws.iter_rows(values_only=True))
    assert table[0][:4] == ("组团标识", "组团", "指标标识", "指标")
    values = {(r[0], r[2], r[4]): r[7] for r in table[1:]}
    assert values[("fictional-alpha", "collective-income", "2019")] == 52  # a number cell, not text
    assert values[("fictional-alpha", "collective-income", "2021")] == "*"
    assert values[("fictional-gamma", "jobs-created", "2023")] == "*"

    data = json.loads((dl / "共富案例库-全部数据.json").read_text(encoding="utf-8"))
    assert len(data) == 18 and {d["value"] for d in data if d["owner_id"] == "fictional-gamma"} == {"*"}

    one = list(csv.DictReader(io.StringIO((dl / "indicators" / "land-transferred" / "共富案例库-指标-流转土地面积-虚构.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["年份"], r["数值"]) for r in one] == [("2022", "3200"), ("2023", "4100")]

    package = json.loads((dl / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "tabular-data-package"
    for resource in package["resources"]:
        assert (dl / resource["path"]).is_file(), resource["path"]
    csv_res = next(r for r in package["resources"] if r["format"] == "csv")
    assert csv_res["schema"]["missingValues"] == [""]  # '*' is a desensitised value, not a missing one
    assert [f["name"] for f in csv_res["schema"]["fields"]] == list(rows[0].keys())


def test_downloads_are_linked_from_pages(fig_site):
    assert 'href="../../downloads/共富案例库-全部数据.xlsx"' in page(fig_site, "cases/fictional-alpha")
    assert 'href="../../downloads/indicators/collective-income/共富案例库-指标-村集体经营性收入-虚构.csv"' in page(fig_site, "indicators/collective-income")
    assert 'href="downloads/共富案例库-全部数据.xlsx"' in (fig_site / "index.html").read_text(encoding="utf-8")


def test_every_chart_offers_export_and_no_image_files_are_written(fig_site):
    html = page(fig_site, "cases/fictional-alpha")
    found = re.findall(r'<span class="cb-chart-export" data-chart="([a-z0-9-]+)" data-file="([^"]*)" hidden="">', html)
    exports = [chart for chart, _ in found]
    assert exports == ["trend-fictional-alpha-collective-income", "trend-fictional-alpha-e-commerce-sales"]
    assert [name for _, name in found] == exports  # the public edition's files are named by the chart alone
    assert not (fig_site / "charts").exists(), "PNGs are drawn in the reader's browser, not at build time"


def test_second_build_renders_no_chart(tmp_path):
    cache = tmp_path / "cache"
    first = prepare_site(FIGURES, chart_cache=cache)
    assert first.chart_stats.rendered == 9 and first.chart_stats.cached == 0
    second = prepare_site(FIGURES, chart_cache=cache)
    assert second.chart_stats.rendered == 0 and second.chart_stats.cached == 9
    assert [p.content for p in first.pages] == [p.content for p in second.pages]


def test_changed_figure_rerenders_only_its_charts(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    cache = tmp_path / "cache"
    prepare_site(cases, chart_cache=cache)
    path = cases / "clusters" / "fictional-beta.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: '4,100'", "value: 4200"), encoding="utf-8")
    stats = prepare_site(cases, chart_cache=cache).chart_stats
    assert stats.rendered == 2  # beta's land trend and the land comparison; nothing else
    assert stats.cached == 7


def _as_a_new_process_would() -> None:
    from casebook import render
    from casebook.validate import forget_kept

    render.forget_kept()
    forget_kept()


def _site_files(site) -> tuple[list[str], list[tuple[str, bytes]], dict[str, str]]:
    return [p.content for p in site.pages], [(a.path, a.content) for a in site.assets], site.chart_svgs


def test_charts_read_back_from_the_cache_are_the_charts_made_afresh(tmp_path):
    cache = tmp_path / "cache"
    fresh = prepare_site(FIGURES, chart_cache=cache)
    _as_a_new_process_would()
    again = prepare_site(FIGURES, chart_cache=cache)
    assert _site_files(again) == _site_files(fresh)
    # Only the comparison charts (made from every cluster) were specified again.
    compare = sum(1 for c in fresh.chart_svgs if c.startswith("compare-"))
    assert again.chart_stats.specs == compare < fresh.chart_stats.specs
    assert again.chart_stats.rendered == 0


@pytest.mark.parametrize("damage", ["not json", "[1]", '[{"v": 1}]', '[{"v": 2}]', "{}"])
def test_a_damaged_cached_chart_record_is_made_afresh(tmp_path, damage):
    from casebook.store import open_store

    cache = tmp_path / "cache"
    fresh = prepare_site(FIGURES, chart_cache=cache)
    store = open_store(cache)
    db = store._db
    assert db is not None
    db.execute("UPDATE entries SET value = ? WHERE ns = 'cluster-charts'", (damage.encode(),))
    _as_a_new_process_would()
    again = prepare_site(FIGURES, chart_cache=cache)
    assert _site_files(again) == _site_files(fresh)
    assert again.chart_stats.specs == fresh.chart_stats.specs


def test_a_chart_record_keeps_every_figure_exactly():
    from casebook.charts import Chart, from_record

    points = [Point("虚构甲", 2021, Decimal("1.50")), Point("虚构甲", 2022, "*", "约"),
              Point("虚构甲（项目）", 2023, Decimal("1E+3"), None)]
    chart = Chart("trend-x-y", "trend", "题", "万元", "虚构", points,
                  line_fill(points, "题", "万元", [2021, 2022, 2023], colour=False), key="k")
    back = from_record(json.loads(json.dumps(chart.record())))
    assert back is not None
    assert back.points == points and [str(p.value) for p in back.points] == ["1.50", "*", "1E+3"]
    assert back.spec_text == chart.spec_text and back.spec == chart.spec
    assert back.data_keys == chart.data_keys
    assert back.files() == chart.files()


def test_chart_labels_are_escaped(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    hostile = "</script><script>alert(1)</script><svg onload=alert(2)>"
    src = cases / "sources" / "fictional.txt"
    src.write_text(src.read_text(encoding="utf-8") + hostile + "\n", encoding="utf-8")
    path = cases / "clusters" / "fictional-beta.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: 虚构乙", f"name: '{hostile}'"), encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    html = page(site, "indicators/collective-income")
    assert "<script>alert(1)" not in html
    from html.parser import HTMLParser

    handlers = []

    class Attrs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            handlers.extend((tag, name) for name, _ in attrs if name.startswith("on"))

    Attrs().feed(html)
    assert handlers == [], "no element may carry an event handler"
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # shown as text in the chart's table and SVG


def test_renderer_without_cache_renders_every_time():
    from casebook.render import render_site
    from casebook.validate import load_casebook

    book, _ = load_casebook(FIGURES)
    renderer = ChartRenderer(None)
    render_site(book, charts=renderer)
    assert renderer.stats.rendered == 9 and renderer.stats.cached == 0


def test_many_clusters_keep_charts_readable():
    """At province scale the comparison drops the unreadable line chart and caps the bars."""
    from decimal import Decimal

    from casebook.charts import MAX_BARS, MAX_LINES, compare_charts
    from casebook.figures import ParsedFigure
    from casebook.models import Indicator, Observation

    ind = Indicator(id="x", name="虚构指标", unit="万元", definition="虚构。", direction="neutral", category="basics")
    series = []
    for i in range(40):
        for year in (2022, 2023):
            value = "*" if i % 10 == 0 else Decimal(i * 10 + year - 2022)
            obs = Observation(indicator="x", year=year, value=ParsedFigure(value, "万元"))
            series.append((f"虚构{i:02d}", obs))
    charts = compare_charts(ind, series)
    assert [c.kind for c in charts] == ["compare-bars"]  # 40 series > MAX_LINES
    assert MAX_LINES < 40 and len(charts[0].points) == MAX_BARS
    assert "只画数值最大的 30 个；全部 40 个见下表" in charts[0].summary
    assert charts[0].points[0].label == "虚构39"


def test_xlsx_text_never_becomes_a_formula(tmp_path):
    """Case text reaches the workbook as text: '=HYPERLINK(…)' in a quote must not run as a formula."""
    from decimal import Decimal

    from openpyxl import load_workbook

    from casebook.downloads import COLUMNS, to_xlsx

    row = {key: "" for key, _, _ in COLUMNS}
    row.update(owner="=HYPERLINK(\"http://example.org\",\"x\")", quote="+1+1", value=Decimal("12.5"), year="2023")
    star = dict(row, value="*")
    path = tmp_path / "t.xlsx"
    path.write_bytes(to_xlsx([row, star], "测试（虚构）"))
    ws = load_workbook(path).active
    owner, value = ws.cell(2, 2), ws.cell(2, 8)
    assert owner.data_type == "s" and owner.value.startswith("=HYPERLINK")
    assert ws.cell(2, 12).data_type == "s"
    assert value.data_type == "n" and value.value == 12.5
    assert ws.cell(3, 8).value == "*"
    assert to_xlsx([row, star], "测试（虚构）") == path.read_bytes(), "same data, same bytes"


# --------------------------------------------------------------------------- drawing any finite values
#
# `casebook check` bounds every figure (15 significant digits, 6 decimals, in the indicator's unit),
# but drawing must not depend on it: a chart is drawn for any finite values, however tiny, huge,
# equal or few (0.0000000001 once made the axis divide by zero and the build fail in English).

FLOAT_MAX = sys.float_info.max
EXTREMES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e-10, -1e-10, 0.000001, 0.000002, 0.1, 0.30000000000000004, 1.0,
            -1.0, 3.5, 100.0, 999999999999999.0, -999999999999999.0, 1e15, 1e16 + 2, 1e300, -1e300, FLOAT_MAX,
            -FLOAT_MAX, 123456789.012345]
IN_BOUNDS = [0.0, 0.000001, 0.000002, 0.1, 1.0, -1.0, 3.5, -100.0, 99.999999, 123456789.012345, 999999999999999.0,
             -999999999999999.0, 9999999.999999]


def any_float(rng: random.Random) -> float:
    if rng.random() < 0.5:
        return rng.choice(EXTREMES)
    value = rng.uniform(-1, 1) * 10.0 ** rng.randint(-330, 300)
    return value * rng.choice([1, 1, 1e8]) if math.isfinite(value * 1e8) else value


def bounded_float(rng: random.Random) -> float:
    if rng.random() < 0.5:
        return rng.choice(IN_BOUNDS)
    digits = rng.randint(1, 15)
    places = rng.randint(0, min(6, digits))
    return rng.choice([1, -1]) * rng.randint(0, 10**digits - 1) / 10**places


def check_ticks(lo: float, hi: float) -> list[float]:
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 10, (lo, hi, ticks)
    assert all(math.isfinite(t) for t in ticks), (lo, hi, ticks)
    assert all(a < b for a, b in itertools.pairwise(ticks)), (lo, hi, ticks)
    assert ticks[0] <= min(lo, hi) and ticks[-1] >= max(lo, hi), (lo, hi, ticks)
    for t in ticks:
        label = tick_label(t, ticks)
        assert label and not re.search("nan|inf", label), (lo, hi, label)
    return ticks


def test_axis_ticks_cover_any_finite_range():
    rng = random.Random(20240610)
    for lo, hi in [*itertools.product(EXTREMES, EXTREMES), *((any_float(rng), any_float(rng)) for _ in range(4000))]:
        check_ticks(lo, hi)


def test_axis_ticks_for_figures_check_accepts_are_round_and_exact():
    """Within check's bounds the ticks are round numbers, their labels exact and all different."""
    rng = random.Random(20240611)
    pairs = [*itertools.product(IN_BOUNDS, IN_BOUNDS), *((bounded_float(rng), bounded_float(rng)) for _ in range(3000))]
    for a, b in pairs:
        lo, hi = min(0.0, a, b), max(0.0, a, b)  # as the charts call it: the axis always shows 0
        ticks = check_ticks(lo, hi)
        labels = [tick_label(t, ticks) for t in ticks]
        assert len(set(labels)) == len(labels), (lo, hi, labels)
        assert [float(x.replace(",", "")) for x in labels] == ticks, (lo, hi, labels)
        assert 0.0 in ticks and len(ticks) <= 8
    for value in IN_BOUNDS + [bounded_float(rng) for _ in range(2000)]:
        label = number_label(value)
        assert float(label.replace(",", "")) == value and "e" not in label, (value, label)


SVG = "{http://www.w3.org/2000/svg}"
NUMERIC = ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height")


def _points(label: str, values: list[float | None], first_year: int = 2000) -> list[Point]:
    # None stands for a desensitised value ('*'); every float is exactly a Decimal.
    return [Point(label, first_year + i, "*" if v is None else Decimal(v)) for i, v in enumerate(values)]


def line_spec(series: list[list[float | None]]) -> dict:
    """A line chart's spec as the site makes one: the line template filled with these values."""
    points = [p for i, values in enumerate(series) for p in _points(f"虚构组团{i}", values)]
    years = list(range(2000, 2000 + max(len(s) for s in series)))
    return fill("line", line_fill(points, "虚构指标（万元）", "万元", years, colour=len(series) > 1))


def bar_spec(values: list[float | None]) -> dict:
    points = [Point(f"虚构组团{i}", 2023, "*" if v is None else Decimal(v)) for i, v in enumerate(values)]
    return fill("bars", bar_fill(points, "虚构指标：2023年各组团对比（亿元）", "亿元", [p.label for p in points]))


def drawn(spec: dict) -> tuple[ET.Element, float]:
    """The drawn SVG, parsed; every coordinate it holds is finite and inside its view box."""
    svg = draw(spec)
    root = ET.fromstring(svg)
    height = float(root.get("height"))
    for el in root.iter():
        for name in NUMERIC:
            if el.get(name) is not None:
                number = float(el.get(name))
                assert math.isfinite(number), (name, el.attrib)
                limit = WIDTH if name.startswith(("x", "cx", "width")) else height
                if name in ("x", "x1", "x2", "cx", "y", "y1", "y2", "cy") and el.tag != SVG + "text":
                    assert -0.05 <= number <= limit + 0.05, (name, number, spec["rows"])
        for number in re.findall(r"-?[\d.]+(?:e[+-]?\d+)?|nan|inf", el.get("d") or ""):
            assert math.isfinite(float(number)) and -0.05 <= float(number) <= max(WIDTH, height) + 0.05, el.get("d")
    return root, height


def group(root: ET.Element, name: str) -> ET.Element:
    return next(g for g in root.iter(SVG + "g") if g.get("class") == name)


def value_sets(rng: random.Random) -> list[list[float | None]]:
    sets: list[list[float | None]] = [[v] for v in EXTREMES] + [[v, v] for v in EXTREMES] + [[v, v, v] for v in EXTREMES]
    sets += [[a, b] for a, b in itertools.product(EXTREMES[::2], EXTREMES[1::2])]
    for _ in range(300):
        sets.append([None if rng.random() < 0.2 else any_float(rng) for _ in range(rng.randint(1, 8))])
    return sets


def test_line_charts_draw_any_finite_values():
    rng = random.Random(20240612)
    for values in value_sets(rng):
        series = [values] if rng.random() < 0.6 else [values, [any_float(rng) for _ in values]]
        spec = line_spec(series)
        root, _ = drawn(spec)
        disclosed = sum(v is not None for s in series for v in s)
        points = group(root, "mark-symbol").findall(SVG + "circle")
        assert len(points) == disclosed, values
        assert all(40 - 0.05 <= float(c.get("cy")) <= 260 + 0.05 for c in points), values  # inside the plot
        assert len(group(root, "mark-star").findall(SVG + "text")) == sum(v is None for s in series for v in s)


def test_bar_charts_draw_any_finite_values():
    rng = random.Random(20240613)
    for values in value_sets(rng):
        root, _ = drawn(bar_spec(values))
        bars = group(root, "mark-rect").findall(SVG + "rect")
        assert len(bars) == sum(v is not None for v in values), values
        assert all(float(b.get("x")) + float(b.get("width")) <= WIDTH for b in bars), values
        # A label per disclosed bar, on its bar's row (labels of negative bars are a layer of their own).
        rows = {round(float(b.get("y")) + 12, 1): b for b in bars}
        labels = group(root, "mark-label").findall(SVG + "text")
        assert len(labels) == len(bars) and {round(float(t.get("y")), 1) for t in labels} == set(rows), values
        shown = sorted(float(t.text.replace(",", "")) for t in labels)
        assert [v == 0 for v in shown] == [v == 0 for v in sorted(v for v in values if v is not None)], values
        assert len(group(root, "mark-star").findall(SVG + "text")) == sum(v is None for v in values)
