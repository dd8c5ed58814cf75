"""Sanitise page HTML with an allow-list (nh3), after Markdown and templates have done their part.

Templates already escape case text; this is the second wall. It keeps what Markdown, the templates
and inline SVG charts produce, and drops everything else: <script>, <style>, <iframe>, event
handlers, and any URL scheme but http(s), mailto and relative links (so javascript: and data: go,
however they are spelled — ammonia parses like a browser, entities and mixed case included).

Nor may a page's body reach into the theme's own machinery: ids beginning with ``__`` are Material's
(``__config`` holds its configuration and is read with querySelector, so an earlier element of that
id — a heading named "__config" is enough — would replace it; ``__search``, ``__drawer`` are its
toggles), and ``data-*`` attributes other than the casebook's own are dropped (``data-md-component``
would mount Material components, one of which fetches from GitHub).

Charts are cleaned by :func:`sanitize_svg` where they are put into a page (render.inline_charts),
whether just drawn or read back from the build cache: a cache entry is never trusted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from typing import TypedDict

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
    "span": {"data-chart"},
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


class _CleanOptions(TypedDict):
    """The keyword arguments given to nh3.clean, typed so each is checked against its signature."""

    tags: Set[str]
    attributes: Mapping[str, Set[str]]
    generic_attribute_prefixes: Set[str]
    url_schemes: Set[str]
    link_rel: str | None
    strip_comments: bool


_ALLOWED = _CleanOptions(
    tags=_TEXT_TAGS | _SVG_TAGS,
    attributes=_attributes(),
    generic_attribute_prefixes={"aria-"},
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
    strip_comments=True,
)


# Word characters (Chinese included, as MkDocs' slugs make them), digits, - _ . : only: anything
# else can break the theme's lookups (a quote breaks its [id="…"] selector, a % its URI decoding).
_ID = re.compile(r"[\w.:-]+")


def kept_id(ident: str) -> bool:
    """Whether an element id may stay: not one of Material's (``__…``), and one that a script can
    look up (the theme finds headings by ``[id="…"]``; a quote or backslash there is a broken
    selector, and its script stops). Ids the casebook makes (slugs) always are. The table of
    contents drops entries whose id is not (mkdocs_plugin), so no link points at nothing."""
    return not ident.startswith("__") and _ID.fullmatch(ident) is not None


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "id" and not kept_id(value):
        return None
    if name in _PAINT_ATTRS:
        return _svg_attribute(tag, name, value)
    if name == "src" and not _local(value):
        return None  # an image from another host is a request from the reader's browser: offline first
    return value


_URL_NOISE = re.compile(r"[\t\n\r]")
_URL_ENDS = "".join(chr(c) for c in range(0x21))


def _local(url: str) -> bool:
    """A URL of this site: relative, with no scheme and no host (``//host`` included), read the way
    a browser reads it (tabs and line breaks anywhere dropped, controls and spaces at the ends,
    backslashes taken as slashes)."""
    u = _URL_NOISE.sub("", url).strip(_URL_ENDS).replace("\\", "/")
    return not u.startswith("//") and re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", u) is None


# SVG paint and clipping values are CSS: url(…) there fetches, unless it names an element here.
_PAINT_ATTRS = {"fill", "stroke", "stop-color", "clip-path"}
_PAINT = re.compile(r"none|currentColor|#[0-9a-fA-F]{3,8}|[a-zA-Z]{1,30}|url\(#[\w.-]+\)|rgba?\([\d.%\s,]+\)")


def _svg_attribute(tag: str, name: str, value: str) -> str | None:
    return value if name not in _PAINT_ATTRS or _PAINT.fullmatch(value.strip()) else None


def sanitize(html: str) -> str:
    """The page HTML with everything outside the allow-list removed."""
    return nh3.clean(html, attribute_filter=_attribute, **_ALLOWED)


# A chart is SVG and nothing else: no HTML, no links, no ids (it sits before Material's own elements).
_SVG_ONLY = _CleanOptions(
    tags=_SVG_TAGS,
    attributes={tag: _SVG_ATTRS | {"class"} for tag in _SVG_TAGS},
    generic_attribute_prefixes=set(),
    url_schemes=set(),
    link_rel=None,
    strip_comments=True,
)


def sanitize_svg(svg: str) -> str:
    """A chart's SVG with everything but the SVG allow-list removed (a quarter cheaper than
    :func:`sanitize`, which matters: every chart of every page built goes through it)."""
    return nh3.clean(svg, attribute_filter=_svg_attribute, **_SVG_ONLY)
