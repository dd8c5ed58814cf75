"""Indicator charts: specs from the data, drawn as SVG at build time (:mod:`casebook.chartsvg`).

Honest figures: only disclosed numbers are drawn. A desensitised value ('*') is a gap — the line
breaks, the bar is absent and a '*' stands at the baseline in its place — and the year axis keeps
every year of the series. Unknown values are simply not there. Each chart comes with a Chinese
summary generated from the data and a table of exactly the values plotted.

SVGs are cached on disk by a hash of their spec and of the drawing code: a chart whose spec has not
changed is never drawn twice, across builds. PNG export happens in the reader's browser from the
same SVG (assets/casebook.js), so a build writes no image files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from .models import Indicator, Observation
from .present import point_text as _value_text  # a figure's text has one home: casebook.present

STAR = "*"


@dataclass(frozen=True)
class Point:
    label: str  # the series: a cluster's name (or the indicator's, on a cluster page)
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
    spec: dict[str, Any]
    svg: str = ""
    key: str = ""  # hash of the spec and the drawing code: the cache's key, and part of its page's


@dataclass
class ChartStats:
    rendered: int = 0
    cached: int = 0
    seconds: float = 0.0

    @property
    def hit_rate(self) -> float:
        total = self.rendered + self.cached
        return self.cached / total if total else 0.0


@functools.cache
def _drawing_version() -> str:
    # Any change to the drawing code changes every key, so stale SVGs are never reused.
    code = (resources.files("casebook") / "chartsvg.py").read_bytes()
    return hashlib.sha256(code).hexdigest()[:16]


class ChartRenderer:
    """Draws specs to SVG through the build cache in ``cache_dir`` (None: no cache)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        from .store import open_store

        self.store = open_store(cache_dir)
        self.stats = ChartStats()

    def key(self, spec: dict[str, Any]) -> str:
        material = json.dumps(spec, sort_keys=True, ensure_ascii=False) + _drawing_version()
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def render(self, spec: dict[str, Any], key: str | None = None) -> str:
        """The chart's SVG, from the cache when present. Not yet sanitised: that happens where the
        SVG is put into its page (render.inline_charts), for drawn and cached SVGs alike."""
        key = key or self.key(spec)
        svg = self.store.get_text("chart", key)
        if svg is not None:
            self.stats.cached += 1
            return svg
        start = time.perf_counter()
        svg = _render_uncached(spec)
        self.stats.seconds += time.perf_counter() - start
        self.stats.rendered += 1
        self.store.put("chart", key, svg)
        return svg


# --------------------------------------------------------------------------- data → points


def points_from(observations: list[tuple[str, Observation]]) -> list[Point]:
    """Chartable points: whole-unit figures in a numeric year. A '*' year cannot be placed on an
    axis and a scoped figure (one project, one example) is not the cluster's, so both stay out."""
    out = []
    for label, obs in observations:
        if obs.value is None or not isinstance(obs.year, int) or obs.scope:
            continue
        out.append(Point(label, obs.year, obs.value.value, obs.qualifier))
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


# --------------------------------------------------------------------------- specs


def _rows(points: list[Point]) -> list[dict[str, Any]]:
    # Desensitised values go in as null (a gap), with a separate flag for the '*' marker.
    return [{"series": p.label, "year": str(p.year), "value": float(p.amount) if p.disclosed else None,
             "star": not p.disclosed} for p in points]


def line_spec(points: list[Point], title: str, unit: str, years: list[int], colour: bool) -> dict[str, Any]:
    labels = list(dict.fromkeys(p.label for p in points))
    return {"kind": "line", "title": title, "unit": unit, "years": [str(y) for y in years], "labels": labels,
            "colour": colour, "rows": _rows(points)}


def bar_spec(points: list[Point], title: str, unit: str, labels: list[str]) -> dict[str, Any]:
    return {"kind": "bars", "title": title, "unit": unit, "labels": labels, "rows": _rows(points)}


# --------------------------------------------------------------------------- charts for pages


def _years(points: list[Point]) -> list[int]:
    ys = sorted({p.year for p in points})
    return list(range(ys[0], ys[-1] + 1)) if ys else []


def trend_chart(chart_id: str, indicator: Indicator, observations: list[Observation]) -> Chart | None:
    """A cluster's series for one indicator, if at least two years have disclosed values."""
    points = points_from([(indicator.name, o) for o in observations])
    if len({p.year for p in points if p.disclosed}) < 2:
        return None
    title = f"{indicator.name}（{indicator.unit}）"
    spec = line_spec(points, title, indicator.unit, _years(points), colour=False)
    return Chart(chart_id, "trend", title, indicator.unit, trend_summary(points, indicator.unit), points, spec)


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
        spec = line_spec(points, title, unit, _years(points), colour=True)
        per_label = []
        for label in labels:
            mine = [p for p in points if p.label == label]
            per_label.append(f"{label}：{trend_summary(mine, unit)}")
        charts.append(Chart(f"compare-{indicator.id}-lines", "compare-lines", title, unit, " ".join(per_label),
                            points, spec))
    year = max(p.year for p in disclosed)
    that_year = [p for p in points if p.year == year]
    if len(that_year) >= 2 or not charts:
        shown, note = that_year, ""
        if len(that_year) > MAX_BARS:
            top = sorted((p for p in that_year if p.disclosed), key=lambda p: p.amount, reverse=True)[:MAX_BARS]
            shown = top
            note = f"组团较多，图中只画数值最大的 {len(top)} 个；全部 {len(that_year)} 个见下表。"
        title = f"{indicator.name}：{year}年各组团对比（{unit}）"
        spec = bar_spec(shown, title, unit, [p.label for p in shown])
        charts.append(Chart(f"compare-{indicator.id}-bars-{year}", "compare-bars", title, unit,
                            bars_summary(that_year, year, unit) + note, shown, spec))
    return charts


def render(charts: list[Chart], renderer: ChartRenderer) -> list[Chart]:
    """Fill in every chart's SVG (from the cache when its spec has been drawn before)."""
    for chart in charts:
        if not chart.svg:
            chart.key = chart.key or renderer.key(chart.spec)
            chart.svg = renderer.render(chart.spec, chart.key)
    return charts


def _render_uncached(spec: dict[str, Any]) -> str:
    from .chartsvg import draw

    return draw(spec)
