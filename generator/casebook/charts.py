"""Indicator charts: each one a Vega-Lite spec, drawn as SVG at build time (:mod:`casebook.chartsvg`)
and, in the reader's browser, by the vendored vega-embed when the reader asks (assets/charts.js).

One spec per chart, one template per kind of chart: the two templates (lines over years, bars for one
year) are built with Altair once per process (:func:`templates`; building and validating one costs
about 40 ms, filling it in a few microseconds), and each chart fills in its data, title, domains and
colours (:func:`fill`). Everything either drawing shows comes from that filled spec, which is also
what the reader downloads beside the chart (downloads/charts/<id>.vl.json and .csv).

Honest figures: only disclosed numbers are drawn. A desensitised value ('*') is a gap — its value is
null, so the line breaks, the bar is absent, and a '*' glyph stands in its place whose tooltip says
原文已脱敏 — and the year axis keeps every year of the series; a year the source gives no figure for
breaks the line too (a row with no value, 未给出). Nothing is ever interpolated, totalled or drawn at 0
in a value's place. A figure about a part of its owner (a project, an example) is drawn as a series
of its own, labelled with its scope (present.figure_label), never as the owner's. Each chart comes
with a Chinese summary generated from the data and a table of exactly the values plotted.

SVGs are cached on disk by a hash of their spec and of the drawing code: a chart whose spec has not
changed is never drawn twice, across builds. PNG export happens in the reader's browser from the
same SVG (assets/casebook.js), so a build writes no image files.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from .escaping import spreadsheet_text
from .figures import strip_zeros
from .models import Indicator, Observation
from .present import DESENSITISED_NOTE, STATES, chart_download_path, figure_label, year_text
from .present import point_text as _value_text  # a figure's text has one home: casebook.present

STAR = "*"
# The fields of a chart's data rows, as the templates name them (chartsvg reads the names from the
# spec itself): the series, the year (text: an ordinal axis of the years given), the value (null for
# a '*' or a year without a figure), whether it is a '*', and the texts the tooltip and a bar show.
SERIES, YEAR, VALUE, STARRED, WHEN, TEXT, LABEL = "series", "year", "value", "star", "when", "text", "label"
WIDTH = 640  # the whole chart, as chartsvg draws it and as vega-embed fits it
PLOT_HEIGHT = 220
BAR_STEP = 24
FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, Source Han Sans SC, sans-serif"
PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#b79a20", "#b279a2", "#ff9da6",
           "#9d755d", "#79706e", "#1b6e52", "#5a3d99"]  # Tableau 10 and two more: MAX_LINES is 12
SINGLE = "#a8201a"
GRID, AXIS, MUTED, INK = "#e3e3e3", "#888888", "#5f6368", "#222222"


@dataclass(frozen=True)
class Point:
    label: str  # the series: a cluster's name (or the indicator's, on a cluster page), with its scope
    year: int
    value: Decimal | str  # a number, or '*' when desensitised
    qualifier: str | None = None

    @property
    def disclosed(self) -> bool:
        return not isinstance(self.value, str)

    @property
    def amount(self) -> Decimal:
        """The disclosed number, for points already known to be disclosed: a '*' is never one."""
        if isinstance(self.value, str):
            raise ValueError(f"{self.label} {self.year}: a desensitised value has no number")
        return self.value


def table_order(points: list[Point]) -> list[Point]:
    """Points as the table beside a chart lists them: series in first-seen order, then by year."""
    order = {label: i for i, label in enumerate(dict.fromkeys(p.label for p in points))}
    return sorted(points, key=lambda p: (order[p.label], p.year))


@dataclass
class Chart:
    """One chart: its spec, the drawn SVG, and the words and table that go with it."""

    id: str
    kind: str  # "trend", "compare-lines" or "compare-bars"
    title: str
    unit: str
    summary: str
    points: list[Point]
    # What the chart's template is filled with (see :func:`fill`); the spec is made from it.
    fill: dict[str, Any] = field(default_factory=dict)
    svg: str = ""
    key: str = ""  # hash of the spec and the drawing code: the cache's key, and part of its page's
    _spec: dict[str, Any] | None = field(default=None, repr=False)
    _spec_text: str = field(default="", repr=False)
    _keys: list[tuple[str, str]] | None = field(default=None, repr=False)

    @property
    def template(self) -> str:
        return TEMPLATE_OF[self.kind]

    @property
    def spec(self) -> dict[str, Any]:
        """The chart's Vega-Lite spec, data inlined: its template filled in (made on first use), or
        read back from its text (a chart kept in the build cache, see :meth:`record`)."""
        if self._spec is None:
            self._spec = fill(self.template, self.fill) if self.fill else json.loads(self._spec_text)
        return self._spec

    @property
    def data_keys(self) -> list[tuple[str, str]]:
        """The series and year of each of the spec's data rows, in order (what the CSV lists)."""
        if self._keys is None:
            self._keys = [(row[SERIES], row[YEAR]) for row in self.spec["data"]["values"]]
        return self._keys

    def record(self) -> dict[str, Any]:
        """The chart, drawn, as JSON data for the build cache (:func:`from_record`): its spec as text
        and the key of its SVG (which the chart cache holds once), so a cluster whose data did not
        change costs its next build one read, not its charts' specs again."""
        points = [[p.label, p.year, str(p.value), p.disclosed, p.qualifier] for p in self.points]
        return {"v": 1, "id": self.id, "kind": self.kind, "title": self.title, "unit": self.unit,
                "summary": self.summary, "points": points, "key": self.key, "spec": self.spec_text,
                "rows": self.data_keys}

    @property
    def spec_text(self) -> str:
        """The spec as compact JSON: what its page carries (HTML-escaped, in an attribute) and hashes."""
        if not self._spec_text:
            self._spec_text = json.dumps(self.spec, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return self._spec_text

    def files(self, prefix: str = "", states: Any = None) -> list[tuple[str, bytes]]:
        """The chart's downloads: its spec with the data inlined, and its data as CSV (``prefix``:
        the edition's file mark, present.Edition.file_mark)."""
        # The very text the page carries (json's C encoder; indent= would take the Python one).
        return [(chart_download_path(self.id, "vl.json", prefix), (self.spec_text + "\n").encode("utf-8")),
                (chart_download_path(self.id, "csv", prefix), chart_csv(self, states))]


def from_record(r: Any) -> Chart | None:
    """A chart from :meth:`Chart.record`, its SVG not yet read (:func:`render` reads it by key);
    None for an entry this code did not write (it is then made afresh)."""
    try:
        if r.get("v") != 1 or r["kind"] not in TEMPLATE_OF or not (r["key"] and r["spec"]):
            return None
        points = [Point(str(label), int(year), Decimal(value) if number else str(value),
                        None if qualifier is None else str(qualifier))
                  for label, year, value, number, qualifier in r["points"]]
        keys = [(str(series), str(year)) for series, year in r["rows"]]
        return Chart(str(r["id"]), r["kind"], str(r["title"]), str(r["unit"]), str(r["summary"]), points,
                     key=str(r["key"]), _spec_text=str(r["spec"]), _keys=keys)
    except (ValueError, TypeError, KeyError, ArithmeticError, AttributeError):
        return None


@dataclass
class ChartStats:
    rendered: int = 0
    cached: int = 0
    seconds: float = 0.0  # drawing SVGs
    spec_seconds: float = 0.0  # filling templates (and building them, the first time in a process)
    specs: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.rendered + self.cached
        return self.cached / total if total else 0.0


@functools.cache
def _drawing_version() -> str:
    # Any change to the drawing code (or to the layout constants it takes from here) changes every
    # key, so stale SVGs are never reused.
    code = b"".join((resources.files("casebook") / name).read_bytes() for name in ("chartsvg.py", "charts.py"))
    return hashlib.sha256(code).hexdigest()[:16]


class ChartRenderer:
    """Draws specs to SVG through the build cache in ``cache_dir`` (None: no cache)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        from .store import open_store

        self.store = open_store(cache_dir)
        self.stats = ChartStats()
        if self.store.path is not None:
            _KEPT_IN[:] = [self.store]

    def key(self, spec: dict[str, Any] | str) -> str:
        text = spec if isinstance(spec, str) else json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256((text + _drawing_version()).encode("utf-8")).hexdigest()

    def cached(self, key: str) -> str | None:
        """The SVG drawn before under ``key``, if the cache has it."""
        svg = self.store.get_text("chart", key)
        if svg is not None:
            self.stats.cached += 1
        return svg

    def render(self, spec: dict[str, Any], key: str | None = None) -> str:
        """The chart's SVG, from the cache when present. Not yet sanitised: that happens where the
        SVG is put into its page (render.inline_charts), for drawn and cached SVGs alike."""
        key = key or self.key(spec)
        svg = self.cached(key)
        if svg is not None:
            return svg
        start = time.perf_counter()
        svg = _render_uncached(spec)
        self.stats.seconds += time.perf_counter() - start
        self.stats.rendered += 1
        self.store.put("chart", key, svg)
        return svg


# --------------------------------------------------------------------------- the templates

# Each kind of chart, by the template it fills: trend (one cluster's indicator, a series per scope)
# and compare-lines (clusters over years) are both lines over years; compare-bars is one year's bars.
TEMPLATE_OF = {"trend": "line", "compare-lines": "line", "compare-bars": "bars"}


@functools.cache
def templates() -> dict[str, dict[str, Any]]:
    """The chart templates, built with Altair once per process (Altair validates each against the
    Vega-Lite schema as it is built). Placeholders (domains, ticks, title, data) are filled per chart."""
    import altair as alt

    tooltip = [alt.Tooltip(f"{SERIES}:N", title="系列"), alt.Tooltip(f"{WHEN}:N", title="年份"),
               alt.Tooltip(f"{TEXT}:N", title="数值")]
    valid = alt.FieldValidPredicate(field=VALUE, valid=True)
    starred = alt.FieldEqualPredicate(field=STARRED, equal=True)
    star_mark: dict[str, Any] = {"text": STAR, "fontSize": 16, "fontWeight": "bold"}
    title = alt.Title("", anchor="start", fontSize=15, color=INK)
    # Numbers read as on the rest of the site (and in the static drawing): grouped by thousands,
    # with a hyphen-minus, not d3's default U+2212.
    locale = {"number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", ""], "minus": "-"}}
    config: dict[str, Any] = {"font": FONT, "view": {"stroke": None}, "locale": locale,
                              "axis": {"labelColor": MUTED, "titleColor": MUTED, "gridColor": GRID,
                                       "domainColor": AXIS, "tickColor": AXIS, "labelFontSize": 11,
                                       "titleFontSize": 12, "titleFontWeight": "normal"},
                              "legend": {"labelFontSize": 12, "labelLimit": 200, "symbolType": "circle"}}
    fit = alt.AutoSizeParams(type="fit-x", contains="padding")

    # Lines over years: the line breaks at every row without a value; points where there is one;
    # a '*' at the foot of the plot, in the series' colour, where the source hid the value.
    x = alt.X(f"{YEAR}:O", title="年份", sort=None, scale=alt.Scale(domain=[]),
              axis=alt.Axis(labelAngle=0, labelOverlap=True, grid=False))
    y = alt.Y(f"{VALUE}:Q", title="", scale=alt.Scale(domain=[0, 1], nice=False, zero=False),
              axis=alt.Axis(values=[0, 1], format=",.0f"))
    colour = alt.Color(f"{SERIES}:N", scale=alt.Scale(domain=[], range=[]),
                       legend=alt.Legend(orient="bottom", title=None, direction="horizontal"))
    line_layers = [
        alt.Chart().mark_line(strokeWidth=2, strokeJoin="round", invalid="break-paths-show-domains"),
        alt.Chart().mark_circle(size=50, opacity=1).transform_filter(valid).encode(tooltip=tooltip),
        alt.Chart().mark_text(baseline="bottom", dy=-4, **star_mark).transform_filter(starred)
        .encode(y=alt.YValue("height"), tooltip=tooltip),
    ]
    line = alt.layer(*line_layers, data=alt.Data(values=[])).encode(x=x, y=y, color=colour).properties(
        title=title, width=WIDTH, height=PLOT_HEIGHT, autosize=fit).configure(**config)

    # Bars for one year, one row per series (names stay readable however long); a '*' has no bar,
    # only the glyph at the start of its row.
    bar_y = alt.Y(f"{SERIES}:N", title=None, sort=None, scale=alt.Scale(domain=[]),
                  axis=alt.Axis(labelLimit=180, labelFontSize=12, labelColor=INK, ticks=False))
    bar_x = alt.X(f"{VALUE}:Q", title="", scale=alt.Scale(domain=[0, 1], nice=False, zero=False),
                  axis=alt.Axis(values=[0, 1], format=",.0f"))
    label: dict[str, Any] = {"fontSize": 11, "color": INK}
    bar_layers = [
        alt.Chart().mark_bar(color=SINGLE, height={"band": 0.67}).transform_filter(valid).encode(tooltip=tooltip),
        alt.Chart().mark_text(align="left", dx=4, **label).transform_filter(valid)
        .transform_filter(alt.FieldGTEPredicate(field=VALUE, gte=0)).encode(text=f"{LABEL}:N"),
        alt.Chart().mark_text(align="right", dx=-4, **label).transform_filter(valid)
        .transform_filter(alt.FieldLTPredicate(field=VALUE, lt=0)).encode(text=f"{LABEL}:N"),
        alt.Chart().mark_text(align="center", dx=8, color=MUTED, **star_mark).transform_filter(starred)
        .encode(x=alt.XValue(0), tooltip=tooltip),
    ]
    bars = alt.layer(*bar_layers, data=alt.Data(values=[])).encode(x=bar_x, y=bar_y).properties(
        title=title, width=WIDTH, height=alt.Step(BAR_STEP), autosize=fit).configure(**config)
    return {"line": line.to_dict(), "bars": bars.to_dict()}


# The build caches chart renderers were opened on: the templates' text is kept in the latest one.
_KEPT_IN: list[Any] = []


@functools.cache
def _template_text() -> dict[str, str]:
    # Importing Altair and building the templates took 0.6 s of every build, an edit rebuild's
    # included; their text is kept in the build cache by the code and Altair's version, since
    # the templates depend on nothing else.
    from importlib import metadata

    from .store import code_digest, content_hash

    store = _KEPT_IN[-1] if _KEPT_IN else None
    key = content_hash(code_digest(), metadata.version("altair"))
    if store is not None:
        with contextlib.suppress(ValueError, TypeError):
            kept = json.loads(store.get_text("chart-templates", key) or "null")
            if isinstance(kept, dict) and set(kept) == set(TEMPLATE_OF.values()) and all(
                    isinstance(v, str) for v in kept.values()):
                return kept
    text = {name: json.dumps(spec, ensure_ascii=False) for name, spec in templates().items()}
    if store is not None:
        store.put("chart-templates", key, json.dumps(text, ensure_ascii=False))
    return text


def fill(template: str, values: dict[str, Any]) -> dict[str, Any]:
    """A template filled in: ``values`` holds title, unit, ticks, format, rows and, for lines,
    years and colours (series → colour, legend or not), for bars the series' order."""
    spec = json.loads(_template_text()[template])  # a fresh copy, five times faster than deepcopy
    spec["title"]["text"] = values["title"]
    spec["data"]["values"] = values["rows"]
    enc = spec["encoding"]
    value_axis = enc["y"] if template == "line" else enc["x"]
    value_axis["title"] = values["unit"]
    value_axis["scale"]["domain"] = [values["ticks"][0], values["ticks"][-1]]
    value_axis["axis"]["values"] = values["ticks"]
    value_axis["axis"]["format"] = values["format"]
    if template == "line":
        enc["x"]["scale"]["domain"] = values["years"]
        enc["color"]["scale"]["domain"] = values["labels"]
        enc["color"]["scale"]["range"] = values["colours"]
        if len(values["labels"]) < 2:
            enc["color"]["legend"] = None  # one series: the title names it
    else:
        enc["y"]["scale"]["domain"] = values["labels"]
    return spec


# --------------------------------------------------------------------------- data → points


def points_from(observations: list[tuple[str, Observation]]) -> list[Point]:
    """Chartable points: whole-unit figures in a numeric year. A '*' year cannot be placed on an
    axis, so it stays out; a figure with a scope is labelled with it (投资额（旷野公园）) and is a
    series of its own, never drawn as its owner's."""
    out = []
    for label, obs in observations:
        if obs.value is None or not isinstance(obs.year, int):
            continue
        out.append(Point(figure_label(label, obs), obs.year, obs.value.value, obs.qualifier))
    return out


def _pct(ratio: float) -> str:
    pct = ratio * 100
    return f"{pct:.0f}%" if abs(pct) >= 10 else f"{pct:.1f}%"


def trend_summary(points: list[Point], unit: str) -> str:
    """E.g. 2020–2023年由52万元增至138万元，年均增长38%；2021年的数值脱敏。"""
    shown = sorted((p for p in points if p.disclosed), key=lambda p: p.year)
    hidden = sorted({p.year for p in points if not p.disclosed})
    parts = []
    if len(shown) >= 2:
        first, last = shown[0], shown[-1]
        v0, v1 = first.amount, last.amount
        span = f"{first.year}–{last.year}年"
        if v1 == v0:
            parts.append(f"{span}保持{_value_text(last, unit)}")
        else:
            verb = "增至" if v1 > v0 else "降至"
            text = f"{span}由{_value_text(first, unit)}{verb}{_value_text(last, unit)}"
            years = last.year - first.year
            if v0 > 0 and v1 > 0 and years > 0 and not (first.qualifier or last.qualifier):
                rate = (float(v1) / float(v0)) ** (1 / years) - 1
                text += f"，年均{'增长' if rate > 0 else '下降'}{_pct(abs(rate))}"
            parts.append(text)
    elif len(shown) == 1:
        parts.append(f"{shown[0].year}年为{_value_text(shown[0], unit)}")
    if hidden:
        parts.append("、".join(str(y) for y in hidden) + "年的数值原文脱敏（*），图中留空")
    return "；".join(parts) + "。" if parts else "没有可绘制的数值。"


def bars_summary(points: list[Point], year: int, unit: str) -> str:
    shown = sorted((p for p in points if p.disclosed), key=lambda p: p.amount, reverse=True)
    hidden = [p.label for p in points if not p.disclosed]
    parts = []
    if len(shown) >= 2:
        parts.append(f"{year}年{shown[0].label}最高（{_value_text(shown[0], unit)}），"
                     f"{shown[-1].label}最低（{_value_text(shown[-1], unit)}）")
    elif shown:
        parts.append(f"{year}年{shown[0].label}为{_value_text(shown[0], unit)}")
    if hidden:
        parts.append("、".join(hidden) + f"{year}年的数值原文脱敏（*），图中不画柱")
    return "；".join(parts) + "。"


# --------------------------------------------------------------------------- filling a template


def _row(label: str, year: int, point: Point | None, unit: str) -> dict[str, Any]:
    """One data row. A '*' and a year without a figure have no value (null: a gap, never 0)."""
    from .chartsvg import number_label

    if point is None:
        return {SERIES: label, YEAR: str(year), WHEN: year_text(year), VALUE: None, STARRED: False,
                TEXT: STATES["missing"].label, LABEL: ""}
    if not point.disclosed:
        return {SERIES: label, YEAR: str(year), WHEN: year_text(year), VALUE: None, STARRED: True,
                TEXT: DESENSITISED_NOTE, LABEL: ""}
    value = float(point.amount)
    return {SERIES: label, YEAR: str(year), WHEN: year_text(year), VALUE: value, STARRED: False,
            TEXT: _value_text(point, unit), LABEL: number_label(value)}


def _value_axis(points: list[Point]) -> tuple[list[float], str]:
    """Ticks covering every disclosed value and 0, and their number format (d3-format, as the
    static drawing labels them: thousands grouped, as many decimals as the step needs)."""
    from .chartsvg import nice_ticks, tick_decimals

    values = [float(p.amount) for p in points if p.disclosed]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]))
    return ticks, f",.{min(tick_decimals(ticks), 20)}f"


def line_fill(points: list[Point], title: str, unit: str, years: list[int], colour: bool) -> dict[str, Any]:
    """Lines over ``years``: a row for every series and year, so the line breaks wherever a year
    has no disclosed value."""
    labels = list(dict.fromkeys(p.label for p in points))
    by_key = {(p.label, p.year): p for p in points}
    rows = [_row(label, year, by_key.get((label, year)), unit) for label in labels for year in years]
    ticks, fmt = _value_axis(points)
    colours = ([PALETTE[i % len(PALETTE)] for i in range(len(labels))] if colour or len(labels) > 1
               else [SINGLE] * len(labels))
    return {"title": title, "unit": unit, "years": [str(y) for y in years], "labels": labels,
            "colours": colours, "ticks": ticks, "format": fmt, "rows": rows}


def bar_fill(points: list[Point], title: str, unit: str, labels: list[str]) -> dict[str, Any]:
    ticks, fmt = _value_axis(points)
    rows = [_row(p.label, p.year, p, unit) for p in points]
    return {"title": title, "unit": unit, "labels": labels, "ticks": ticks, "format": fmt, "rows": rows}


def chart_csv(chart: Chart, states: Any = None) -> bytes:
    """The chart's data rows as CSV (UTF-8 with BOM, for Excel): exact figures, '*' for a
    desensitised one, empty where the source gives none; case text made inert for spreadsheets."""
    states = states or STATES  # the edition's words (present.Edition.states)
    exact = {(p.label, str(p.year)): p for p in chart.points}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["系列", "年份", "数值", "单位", "限定词", "公开状态"])
    for series, year in chart.data_keys:
        point = exact.get((series, year))
        qualifier: str | None = None
        if point is None:
            value, state = "", states["missing"].label
        elif point.disclosed:
            value, state, qualifier = format(strip_zeros(point.amount), "f"), states["disclosed"].label, point.qualifier
        else:
            value, state, qualifier = STAR, states["desensitised"].label, point.qualifier
        writer.writerow([spreadsheet_text(series), year, value, chart.unit,
                         spreadsheet_text(qualifier or ""), state])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- charts for pages


def _years(points: list[Point]) -> list[int]:
    ys = sorted({p.year for p in points})
    return list(range(ys[0], ys[-1] + 1)) if ys else []


def _series_summary(points: list[Point], unit: str, named: bool) -> str:
    """Each series' trend, after its name (always when ``named``: clusters compared; on a cluster's
    own chart only when a scope makes a second series)."""
    labels = list(dict.fromkeys(p.label for p in points))
    if len(labels) == 1 and not named:
        return trend_summary(points, unit)
    return " ".join(f"{label}：{trend_summary([p for p in points if p.label == label], unit)}" for label in labels)


def trend_chart(chart_id: str, indicator: Indicator, observations: list[Observation]) -> Chart | None:
    """A cluster's series for one indicator — one line per scope the figures have — if one of
    them has at least two years of disclosed values."""
    points = points_from([(indicator.name, o) for o in observations])
    labels = dict.fromkeys(p.label for p in points)
    if not any(len({p.year for p in points if p.label == label and p.disclosed}) >= 2 for label in labels):
        return None
    title = f"{indicator.name}（{indicator.unit}）"
    values = line_fill(points, title, indicator.unit, _years(points), colour=False)
    return Chart(chart_id, "trend", title, indicator.unit, _series_summary(points, indicator.unit, named=False), points, values)


MAX_LINES = 12  # more series than this make a line chart unreadable; the table has them all
MAX_BARS = 30


def compare_charts(indicator: Indicator, series: list[tuple[str, Observation]]) -> list[Chart]:
    """Clusters compared on one indicator: lines over years, and bars for the latest year.

    With many clusters the lines are left out and the bars show the largest MAX_BARS disclosed
    values (the summary says so); every figure stays in the table beside the charts.
    """
    points = points_from(series)
    disclosed = [p for p in points if p.disclosed]
    if not disclosed:
        return []
    charts: list[Chart] = []
    unit = indicator.unit
    labels = list(dict.fromkeys(p.label for p in points))
    if len({p.year for p in disclosed}) >= 2 and len(labels) <= MAX_LINES:
        title = f"{indicator.name}：各组团历年对比（{unit}）"
        values = line_fill(points, title, unit, _years(points), colour=True)
        charts.append(Chart(f"compare-{indicator.id}-lines", "compare-lines", title, unit,
                            _series_summary(points, unit, named=True), points, values))
    year = max(p.year for p in disclosed)
    that_year = [p for p in points if p.year == year]
    if len(that_year) >= 2 or not charts:
        shown, note = that_year, ""
        if len(that_year) > MAX_BARS:
            top = sorted((p for p in that_year if p.disclosed), key=lambda p: p.amount, reverse=True)[:MAX_BARS]
            shown = top
            note = f"组团较多，图中只画数值最大的 {len(top)} 个；全部 {len(that_year)} 个见下表。"
        title = f"{indicator.name}：{year}年各组团对比（{unit}）"
        values = bar_fill(shown, title, unit, list(dict.fromkeys(p.label for p in shown)))
        charts.append(Chart(f"compare-{indicator.id}-bars-{year}", "compare-bars", title, unit,
                            bars_summary(that_year, year, unit) + note, shown, values))
    return charts


def render(charts: list[Chart], renderer: ChartRenderer) -> list[Chart]:
    """Fill in every chart's spec and SVG (the SVG from the cache when the spec was drawn before)."""
    for chart in charts:
        if chart.svg:
            continue
        if not chart.key:
            start = time.perf_counter()
            text = chart.spec_text
            renderer.stats.spec_seconds += time.perf_counter() - start
            renderer.stats.specs += 1
            chart.key = renderer.key(text)
        # A chart read back from the cache has its key and spec text: its spec is parsed only to draw
        # it (render looks the key up again then: a second lookup, only before drawing).
        svg = renderer.cached(chart.key)
        chart.svg = svg if svg is not None else renderer.render(chart.spec, chart.key)
    return charts


def chart_files(charts: list[Chart], prefix: str = "", states: Any = None) -> list[tuple[str, bytes]]:
    """Every chart's downloads (site-relative path, bytes), for the site's files."""
    return [f for chart in charts for f in chart.files(prefix, states)]


def _render_uncached(spec: dict[str, Any]) -> str:
    from .chartsvg import draw

    return draw(spec)
