"""Draw chart specs as SVG: the two kinds of chart the site has, drawn directly.

Why not Vega: rendering through vl-convert costs 60 ms a chart (most of it measuring text), and a
province casebook has thousands of charts; these two fixed layouts cost well under a millisecond.
The rules of honest figures are the same: a desensitised value is a gap in the line or an absent
bar, marked with '*' at the baseline in its series' colour; the year axis keeps every year; no value
is ever invented, interpolated or totalled.

Specs are plain, JSON-serialisable dicts (see :func:`casebook.charts.line_spec` and ``bar_spec``), so
they can be hashed for the cache. Every piece of text is XML-escaped here, and the page's sanitiser
checks the result again.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from html import escape
from typing import Any

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, Source Han Sans SC, sans-serif"
WIDTH = 640
PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#b79a20", "#b279a2", "#ff9da6",
           "#9d755d", "#79706e", "#1b6e52", "#5a3d99"]  # Tableau 10 and two more: MAX_LINES is 12
SINGLE = "#a8201a"
GRID, AXIS, MUTED, INK = "#e3e3e3", "#888888", "#5f6368", "#222222"


# --------------------------------------------------------------------------- text and numbers


def text_width(text: str, size: float) -> float:
    """Estimated width: full-width (CJK) characters are one em, the rest about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def clip(text: str, size: float, limit: float) -> str:
    if text_width(text, size) <= limit:
        return text
    while text and text_width(text + "…", size) > limit:
        text = text[:-1]
    return text + "…"


def _t(x: float, y: float, text: str, size: float = 12, anchor: str = "start", fill: str = INK,
       weight: str | None = None, extra: str = "") -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}"'
            f'{bold}{extra}>{escape(text)}</text>')


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2 or 5 × a power of ten), for any finite
    lo and hi: at least two, strictly increasing, all finite, the first ≤ lo and the last ≥ hi.

    The step is found in Decimal, which holds every float exactly. Worked in floats, a span of
    1e-10 once gave ticks rounded to 0 (the scale then divided by zero) and a span near 1e308
    overflowed; here a tick past the float range is replaced by the bound it would have covered."""
    lo, hi = min(lo, hi), max(lo, hi)
    low, high = Decimal(lo), Decimal(hi)
    if low == high:
        high = low + (abs(low) or 1)
    with localcontext() as ctx:
        ctx.prec = 60
        raw = (high - low) / max(count, 1)
        step = Decimal(1).scaleb(raw.adjusted())  # the power of ten at or below raw
        for mult in (1, 2, 5, 10):
            if raw <= step * mult:
                step *= mult
                break
        first = int((low / step).to_integral_value(ROUND_FLOOR))
        last = int((high / step).to_integral_value(ROUND_CEILING))
        # A step finer than the floats near lo and hi makes neighbouring ticks one float: keep one.
        ticks = sorted({float(i * step) for i in range(first, last + 1)} - {math.inf, -math.inf})
    if not ticks or ticks[0] > lo:
        ticks.insert(0, lo)
    if ticks[-1] < hi:
        ticks.append(hi)
    if len(ticks) < 2:  # lo == hi at the edge of the float range: the axis runs from 0 to it
        ticks = sorted({0.0, lo})
    return ticks


def scale(value: float, lo: float, hi: float) -> float:
    """Where ``value`` lies from ``lo`` (0) to ``hi`` (1), for lo < hi; hi - lo may exceed the
    largest float, so then the halves are used."""
    span = hi - lo
    if math.isinf(span):
        return (value / 2 - lo / 2) / (hi / 2 - lo / 2)
    return (value - lo) / span


def _plain(text: str, value: float) -> str:
    # Fixed-point text is exact and readable for every figure check accepts (15 significant digits,
    # 6 decimals); past that (only for values check never lets through) the float's own shortest
    # exact form is shown rather than a rounded or endless number.
    return text if len(text) <= 27 and (value == 0 or float(text.replace(",", "")) != 0) else repr(value)


def tick_label(value: float, ticks: list[float]) -> str:
    gaps = [b - a for a, b in itertools.pairwise(ticks) if b > a]
    step = min(gaps) if gaps else 1.0
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    value += 0.0  # -0.0 reads 0
    if decimals > 12:
        return repr(value)
    return _plain(f"{value:,.{decimals}f}", value)


def number_label(value: float) -> str:
    """A plotted value as the bar's label: thousands grouped, no trailing zeros."""
    if value == 0:
        return "0"
    return _plain(f"{value:,.6f}".rstrip("0").rstrip("."), value)


# --------------------------------------------------------------------------- charts


def _frame(height: float, body: list[str], title: str) -> str:
    size = 15.0
    while text_width(title, size) > WIDTH - 8 and size > 11:
        size -= 1
    head = _t(4, 20, clip(title, size, WIDTH - 8), size=size, weight="bold")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="cb-svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" font-family="{FONT}" aria-hidden="true" focusable="false">'
            f'<rect class="background" width="{WIDTH}" height="{height:.0f}" fill="#ffffff"></rect>'
            + head + "".join(body) + "</svg>")


def _legend(labels: list[str], colours: list[str], top: float) -> tuple[list[str], float]:
    """Swatches and names flowing in rows under the chart; returns the parts and the height used."""
    out, x, y = ['<g class="legend">'], 12.0, top + 12
    for label, colour in zip(labels, colours, strict=True):
        name = clip(label, 12, 200)
        width = 18 + text_width(name, 12) + 16
        if x + width > WIDTH - 8 and x > 12:
            x, y = 12.0, y + 20
        out.append(f'<circle cx="{x + 5:.1f}" cy="{y - 4:.1f}" r="5" fill="{colour}"></circle>')
        out.append(_t(x + 14, y, name))
        x += width
    out.append("</g>")
    return out, y - top + 10


def draw_line(spec: dict[str, Any]) -> str:
    """Lines over years, one per series; '*' years break the line and are marked at the baseline."""
    years: list[str] = spec["years"]
    labels: list[str] = spec["labels"]
    rows: list[dict[str, Any]] = spec["rows"]
    colours = PALETTE[: len(labels)] if spec["colour"] else [SINGLE] * len(labels)
    colour_of = dict(zip(labels, colours, strict=True))
    values = [r["value"] for r in rows if r["value"] is not None]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]))
    tick_texts = [tick_label(t, ticks) for t in ticks]
    left = min(34 + max(text_width(t, 11) for t in tick_texts), WIDTH / 2)  # the plot keeps half the width
    right, top, plot_h = WIDTH - 16, 40.0, 220.0
    bottom = top + plot_h
    lo, hi = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return bottom - scale(v, lo, hi) * plot_h

    step = (right - left) / max(len(years), 1)
    x_of = {year: left + step * (i + 0.5) for i, year in enumerate(years)}
    body = ['<g class="axis y">']
    for t, text in zip(ticks, tick_texts, strict=True):
        y = y_of(t)
        body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"></line>')
        body.append(_t(left - 6, y + 4, text, size=11, anchor="end", fill=MUTED))
    mid = (top + bottom) / 2
    body.append(_t(14, mid, spec["unit"], size=12, anchor="middle", fill=MUTED,
                   extra=f' transform="rotate(-90 14 {mid:.1f})"'))
    body.append("</g><g class=\"axis x\">")
    body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="{AXIS}"></line>')
    label_every = max(1, math.ceil(len(years) * 34 / (right - left)))  # keep year labels apart
    for i, year in enumerate(years):
        if i % label_every == 0:
            body.append(_t(x_of[year], bottom + 16, year, size=11, anchor="middle", fill=MUTED))
    body.append(_t((left + right) / 2, bottom + 34, "年份", size=12, anchor="middle", fill=MUTED))
    body.append("</g>")
    lines, symbols, stars = ['<g class="mark-line">'], ['<g class="mark-symbol">'], ['<g class="mark-star">']
    for label in labels:
        mine = {r["year"]: r for r in rows if r["series"] == label}
        colour = colour_of[label]
        path, pen_down = [], False
        for year in years:
            row = mine.get(year)
            if row is None or row["value"] is None:
                pen_down = False  # a gap: the next value starts a new segment
                if row is not None and row["star"]:
                    stars.append(_t(x_of[year], bottom - 4, "*", size=16, anchor="middle", fill=colour,
                                    weight="bold"))
                continue
            x, y = x_of[year], y_of(row["value"])
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down = True
            symbols.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"></circle>')
        if path:
            lines.append(f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2" '
                         'stroke-linejoin="round"></path>')
    body += [*lines, "</g>", *symbols, "</g>", *stars, "</g>"]
    height = bottom + 44
    if spec["colour"] and len(labels) > 1:
        legend, used = _legend(labels, colours, height - 4)
        body += legend
        height += used
    return _frame(height, body, spec["title"])


def draw_bars(spec: dict[str, Any]) -> str:
    """Horizontal bars, one per series (names stay readable however long); a desensitised value
    has no bar, only a '*' at the baseline."""
    rows: list[dict[str, Any]] = spec["rows"]
    by_label = {r["series"]: r for r in rows}
    labels: list[str] = spec["labels"]
    values = [r["value"] for r in rows if r["value"] is not None]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]))
    names = [clip(label, 12, 180) for label in labels]
    left = 16 + max([text_width(n, 12) for n in names] or [0])
    right, top, row_h = WIDTH - 64, 40.0, 24.0
    bottom = top + row_h * len(labels)
    lo, hi = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return left + scale(v, lo, hi) * (right - left)

    body = ['<g class="axis x">']
    for t in ticks:
        x = x_of(t)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{GRID}"></line>')
        body.append(_t(x, bottom + 16, tick_label(t, ticks), size=11, anchor="middle", fill=MUTED))
    body.append(_t((left + right) / 2, bottom + 34, spec["unit"], size=12, anchor="middle", fill=MUTED))
    body.append(f'<line x1="{x_of(0):.1f}" x2="{x_of(0):.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{AXIS}"></line>')
    body.append('</g><g class="axis y">')
    for i, name in enumerate(names):
        body.append(_t(left - 8, top + row_h * i + 16, name, anchor="end"))
    body.append("</g>")
    bars, texts, stars = ['<g class="mark-rect">'], ['<g class="mark-label">'], ['<g class="mark-star">']
    for i, label in enumerate(labels):
        row = by_label.get(label)
        y = top + row_h * i + 4
        if row is None or row["value"] is None:
            if row is not None and row["star"]:
                stars.append(_t(x_of(0) + 8, y + 14, "*", size=16, anchor="middle", fill=MUTED, weight="bold"))
            continue
        x0, x1 = sorted((x_of(0), x_of(row["value"])))
        bars.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{row_h - 8:.1f}" '
                    f'fill="{SINGLE}"></rect>')
        if row["value"] >= 0:
            texts.append(_t(x1 + 4, y + 12, number_label(row["value"]), size=11, fill=INK))
        else:
            texts.append(_t(x0 - 4, y + 12, number_label(row["value"]), size=11, anchor="end", fill=INK))
    body += [*bars, "</g>", *texts, "</g>", *stars, "</g>"]
    return _frame(bottom + 44, body, spec["title"])


def draw(spec: dict[str, Any]) -> str:
    return draw_line(spec) if spec["kind"] == "line" else draw_bars(spec)
