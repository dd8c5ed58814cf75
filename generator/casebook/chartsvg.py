"""Draw a chart's Vega-Lite spec as static SVG, at build time (for print, for readers without
script, and for speed); the same spec is drawn by vega-embed when a reader asks (assets/charts.js).

Why not Vega itself: rendering through vl-convert costs 60 ms a chart (most of it measuring text),
and a province casebook has thousands of charts; drawing the two layouts the templates make
(:func:`casebook.charts.templates`: lines over years, bars for one year) costs well under a
millisecond. What is drawn is read from the spec — the marks of its layers and their filters, the
fields they encode, the axes' titles, domains and tick values, the colour scale and whether there is
a legend, the title and the data — so both drawings show the same marks on the same axes
(tests/test_chart_spec.py compares them in Chromium). Only the layout (margins, text sizes) is this
module's own. A spec with a mark or filter it does not know is refused, not half drawn.

The rules of honest figures are the spec's: a row without a value is a gap in its line and has no
bar; a '*' row is marked with the '*' glyph, in its series' colour, at the foot of the plot; the year
axis keeps every year; no value is ever invented, interpolated or totalled. Every piece of text is
XML-escaped here, and the page's sanitiser checks the result again.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from html import escape
from typing import Any

from .charts import AXIS, FONT, GRID, INK, MUTED, PLOT_HEIGHT, WIDTH

__all__ = ["FONT", "WIDTH", "draw", "nice_ticks", "number_label", "tick_decimals", "tick_label"]


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


def tick_decimals(ticks: list[float]) -> int:
    """How many decimals the ticks' step needs (0.5 → 1, 0.02 → 2, 10 → 0)."""
    gaps = [b - a for a, b in itertools.pairwise(ticks) if b > a]
    step = min(gaps) if gaps else 1.0
    return max(0, -math.floor(math.log10(step))) if step < 1 else 0


def tick_label(value: float, ticks: list[float]) -> str:
    decimals = tick_decimals(ticks)
    value += 0.0  # -0.0 reads 0
    if decimals > 12:
        return repr(value)
    return _plain(f"{value:,.{decimals}f}", value)


def number_label(value: float) -> str:
    """A plotted value as the bar's label: thousands grouped, no trailing zeros."""
    if value == 0:
        return "0"
    return _plain(f"{value:,.6f}".rstrip("0").rstrip("."), value)


# --------------------------------------------------------------------------- reading the spec


def _mark(layer: dict[str, Any]) -> dict[str, Any]:
    mark = layer["mark"]
    return mark if isinstance(mark, dict) else {"type": mark}


def _keeps(layer: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether a layer's filters keep a data row. Only field predicates are read; a spec with any
    other filter is refused (the templates use none), so no row is ever drawn by a guess."""
    for step in layer.get("transform", []):
        pred = step.get("filter")
        if not isinstance(pred, dict) or "field" not in pred or len(step) != 1:
            raise ValueError(f"chartsvg cannot draw the transform {step!r}")
        value = row.get(pred["field"])
        valid = value is not None and not (isinstance(value, float) and math.isnan(value))
        for op, arg in pred.items():
            if op == "field":
                continue
            if op == "valid":
                ok = valid == arg
            elif op == "equal":
                ok = value == arg
            elif op in ("gte", "lt"):
                ok = valid and (value >= arg if op == "gte" else value < arg)
            else:
                raise ValueError(f"chartsvg cannot draw the filter {pred!r}")
            if not ok:
                return False
    return True


def _layers(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each layer as (role, mark, layer): "line", "circle", "bar", "star" (a text mark of a fixed
    glyph) or "label" (a text mark of a field)."""
    out = []
    for layer in spec["layer"]:
        mark = _mark(layer)
        kind = mark["type"]
        if kind == "text":
            if "text" in mark:
                kind = "star"
            elif "field" in layer.get("encoding", {}).get("text", {}):
                kind = "label"
            else:
                raise ValueError("chartsvg cannot draw a text mark without text")
        elif kind not in ("line", "circle", "bar"):
            raise ValueError(f"chartsvg cannot draw the mark {kind!r}")
        out.append((kind, mark, layer))
    return out


def _value_scale(channel: dict[str, Any]) -> tuple[float, float, list[float]]:
    lo, hi = (float(v) for v in channel["scale"]["domain"])
    ticks = [float(t) for t in channel["axis"]["values"]]
    if not lo < hi or ticks != sorted(ticks) or ticks[0] < lo or ticks[-1] > hi:
        raise ValueError(f"chartsvg: the value axis {lo}..{hi} does not hold its ticks {ticks}")
    return lo, hi, ticks


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
    """Lines over the x domain (years), one per colour-domain series: a row without a value breaks
    its line; the '*' layer's rows are marked at the foot of the plot."""
    enc = spec["encoding"]
    x_field, y_field, c_field = enc["x"]["field"], enc["y"]["field"], enc["color"]["field"]
    years: list[str] = [str(y) for y in enc["x"]["scale"]["domain"]]
    labels: list[str] = list(enc["color"]["scale"]["domain"])
    colours: list[str] = list(enc["color"]["scale"]["range"])
    colour_of = dict(zip(labels, colours, strict=True))
    rows: list[dict[str, Any]] = spec["data"]["values"]
    lo, hi, ticks = _value_scale(enc["y"])
    tick_texts = [tick_label(t, ticks) for t in ticks]
    left = min(34 + max(text_width(t, 11) for t in tick_texts), WIDTH / 2)  # the plot keeps half the width
    right, top, plot_h = WIDTH - 16, 40.0, float(spec.get("height", PLOT_HEIGHT))
    bottom = top + plot_h

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
    body.append(_t(14, mid, str(enc["y"].get("title") or ""), size=12, anchor="middle", fill=MUTED,
                   extra=f' transform="rotate(-90 14 {mid:.1f})"'))
    body.append("</g><g class=\"axis x\">")
    body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="{AXIS}"></line>')
    label_every = max(1, math.ceil(len(years) * 34 / (right - left)))  # keep year labels apart
    for i, year in enumerate(years):
        if i % label_every == 0:
            body.append(_t(x_of[year], bottom + 16, year, size=11, anchor="middle", fill=MUTED))
    body.append(_t((left + right) / 2, bottom + 34, str(enc["x"].get("title") or ""), size=12, anchor="middle",
                   fill=MUTED))
    body.append("</g>")
    groups = {"line": ['<g class="mark-line">'], "circle": ['<g class="mark-symbol">'],
              "star": ['<g class="mark-star">']}
    for role, mark, layer in _layers(spec):
        if role not in groups:
            raise ValueError(f"chartsvg cannot draw a {role} layer over years")
        mine = [r for r in rows if _keeps(layer, r) and str(r[x_field]) in x_of]
        out = groups[role]
        if role == "line":
            width = mark.get("strokeWidth", 2)
            for label in labels:
                by_year = {str(r[x_field]): r for r in mine if r[c_field] == label}
                path, pen_down = [], False
                for year in years:
                    row = by_year.get(year)
                    if row is None or row[y_field] is None:
                        pen_down = False  # a gap: the next value starts a new segment
                        continue
                    path.append(f"{'L' if pen_down else 'M'}{x_of[year]:.1f},{y_of(row[y_field]):.1f}")
                    pen_down = True
                if path:
                    out.append(f'<path d="{"".join(path)}" fill="none" stroke="{colour_of[label]}" '
                               f'stroke-width="{width:g}" stroke-linejoin="round"></path>')
        elif role == "circle":
            for r in mine:
                out.append(f'<circle cx="{x_of[str(r[x_field])]:.1f}" cy="{y_of(r[y_field]):.1f}" r="4" '
                           f'fill="{colour_of[r[c_field]]}"></circle>')
        else:
            for r in mine:
                out.append(_t(x_of[str(r[x_field])], bottom + float(mark.get("dy", 0)), str(mark["text"]),
                              size=float(mark.get("fontSize", 16)), anchor="middle", fill=colour_of[r[c_field]],
                              weight=str(mark.get("fontWeight", "bold"))))
    for parts in groups.values():
        body += [*parts, "</g>"]
    height = bottom + 44
    if enc["color"].get("legend") is not None:
        legend, used = _legend(labels, colours, height - 4)
        body += legend
        height += used
    return _frame(height, body, spec["title"]["text"])


def draw_bars(spec: dict[str, Any]) -> str:
    """Horizontal bars, one row per series of the y domain (names stay readable however long); a
    row without a value has no bar, and the '*' layer's rows show the glyph at the row's start."""
    enc = spec["encoding"]
    x_field, y_field = enc["x"]["field"], enc["y"]["field"]
    labels: list[str] = list(enc["y"]["scale"]["domain"])
    rows: list[dict[str, Any]] = spec["data"]["values"]
    lo, hi, ticks = _value_scale(enc["x"])
    names = [clip(label, 12, 180) for label in labels]
    left = 16 + max([text_width(n, 12) for n in names] or [0])
    right, top = WIDTH - 64, 40.0
    row_h = float(spec.get("height", {}).get("step", 24)) if isinstance(spec.get("height"), dict) else 24.0
    bottom = top + row_h * len(labels)
    row_of = {label: i for i, label in enumerate(labels)}

    def x_of(v: float) -> float:
        return left + scale(v, lo, hi) * (right - left)

    zero = x_of(min(max(0.0, lo), hi))
    body = ['<g class="axis x">']
    for t in ticks:
        x = x_of(t)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{GRID}"></line>')
        body.append(_t(x, bottom + 16, tick_label(t, ticks), size=11, anchor="middle", fill=MUTED))
    body.append(_t((left + right) / 2, bottom + 34, str(enc["x"].get("title") or ""), size=12, anchor="middle",
                   fill=MUTED))
    body.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{AXIS}"></line>')
    body.append('</g><g class="axis y">')
    for i, name in enumerate(names):
        body.append(_t(left - 8, top + row_h * i + 16, name, anchor="end"))
    body.append("</g>")
    groups = {"bar": ['<g class="mark-rect">'], "label": ['<g class="mark-label">'], "star": ['<g class="mark-star">']}
    for role, mark, layer in _layers(spec):
        if role not in groups:
            raise ValueError(f"chartsvg cannot draw a {role} layer in a bar chart")
        out = groups[role]
        for r in rows:
            if r[y_field] not in row_of or not _keeps(layer, r):
                continue
            y = top + row_h * row_of[r[y_field]] + 4
            if role == "bar":
                x0, x1 = sorted((zero, x_of(r[x_field])))
                out.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                           f'height="{row_h - 8:.1f}" fill="{mark.get("color", INK)}"></rect>')
            elif role == "label":
                anchor = "end" if mark.get("align") == "right" else "start"
                text = str(r[layer["encoding"]["text"]["field"]])
                out.append(_t(x_of(r[x_field]) + float(mark.get("dx", 0)), y + 12, text,
                              size=float(mark.get("fontSize", 11)), anchor=anchor, fill=mark.get("color", INK)))
            else:
                out.append(_t(left + float(mark.get("dx", 0)), y + 14, str(mark["text"]),
                              size=float(mark.get("fontSize", 16)), anchor="middle", fill=mark.get("color", MUTED),
                              weight=str(mark.get("fontWeight", "bold"))))
    for parts in groups.values():
        body += [*parts, "</g>"]
    return _frame(bottom + 44, body, spec["title"]["text"])


def draw(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec as the charts' templates make it, drawn: lines if its first layer is a line."""
    return draw_line(spec) if _mark(spec["layer"][0])["type"] == "line" else draw_bars(spec)
