"""Sanitise page HTML with an allow-list (nh3), after Markdown and templates have done their part.

Templates already escape case text; this is the second wall. It keeps what Markdown, the templates
and inline SVG charts produce, and drops everything else: <script>, <style>, <iframe>, event
handlers, and any URL scheme but http(s), mailto and relative links (so javascript: and data: go,
however they are spelled — ammonia parses like a browser, entities and mixed case included).
"""

from __future__ import annotations

import nh3

_TEXT_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "nav", "ol", "p", "pre", "q", "s",
    "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "u", "ul", "article", "aside", "label", "input", "button",
}
_SVG_TAGS = {"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
             "tspan", "title", "desc", "defs", "clippath", "lineargradient", "stop"}
_COMMON = {"class", "id", "title", "lang", "dir", "role", "tabindex", "hidden"}
_ATTRS: dict[str, set[str]] = {
    "a": {"href", "rel"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "ol": {"start", "reversed"},
    "details": {"open"},
    "time": {"datetime"},
    "q": {"cite"},
    "input": {"type", "checked", "disabled"},
    "button": {"type"},
    "col": {"span"},
    "colgroup": {"span"},
}
_SVG_ATTRS = {"viewBox", "preserveAspectRatio", "viewbox", "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry",
              "d", "points", "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity",
              "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "opacity", "transform",
              "font-family", "font-size", "font-weight", "text-anchor", "dominant-baseline", "dx", "dy",
              "clip-path", "xmlns", "preserveaspectratio", "offset", "stop-color", "aria-hidden",
              "aria-label", "aria-labelledby", "aria-describedby", "focusable"}


def _attributes() -> dict[str, set[str]]:
    attrs = {"*": set(_COMMON)}
    for tag, names in _ATTRS.items():
        attrs[tag] = set(names)
    for tag in _SVG_TAGS:
        attrs[tag] = set(_SVG_ATTRS)
    return attrs


_ALLOWED = dict(
    tags=_TEXT_TAGS | _SVG_TAGS,
    attributes=_attributes(),
    generic_attribute_prefixes={"aria-", "data-"},
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
    strip_comments=True,
)


def sanitize(html: str) -> str:
    """The page HTML with everything outside the allow-list removed."""
    return nh3.clean(html, **_ALLOWED)
