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
from collections.abc import Callable, Mapping, Set
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
    "span": {"data-chart", "data-file"},
    "figure": {"data-cb-spec"},  # a chart's Vega-Lite spec, for assets/charts.js (text in an attribute)
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


def _paint(value: str) -> bool:
    return _PAINT.fullmatch(value.strip()) is not None


# --------------------------------------------------------------------------- value checks
#
# The attributes whose value decides whether they stay, each with its test, by attribute name alone
# (on whatever tag): the one place these rules live. nh3's allow-lists say which attributes a tag may
# have; only these need their value looked at, and nh3 can only do that by calling back into Python
# for every attribute of every element (a third of the cost of cleaning a page, more for a chart).
# So a document is cleaned without the callback first and the few attributes below are checked in
# the result; only if one fails is it cleaned again with the callback, which drops exactly those.
Check = Callable[[str], bool]
_PAGE_CHECKS: dict[str, Check] = {
    "id": kept_id,
    # An image from another host is a request from the reader's browser: offline first.
    "src": _local,
    **dict.fromkeys(_PAINT_ATTRS, _paint),
}
_SVG_CHECKS: dict[str, Check] = dict.fromkeys(_PAINT_ATTRS, _paint)


def _filter(checks: Mapping[str, Check]) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, name: str, value: str) -> str | None:
        check = checks.get(name)
        return value if check is None or check(value) else None
    return keep


def _checked(checks: Mapping[str, Check]) -> re.Pattern[str]:
    """Every checked attribute as nh3 writes it out (html5ever): one ASCII space, the lower-case
    name, ="…", the value with &, ", <, > and no-break space escaped as entities. (A literal space
    first, not any white space: the regex engine then skips ahead to each space, five times faster.)"""
    names = "|".join(re.escape(name) for name in sorted(checks))
    return re.compile(rf' ({names})="([^"]*)"')


def _passes(cleaned: str, checks: Mapping[str, Check], pattern: re.Pattern[str]) -> bool:
    """Whether every checked attribute left in ``cleaned`` passes its check, so the callback would
    have kept them all and the result is the same. A match may also start in text (id="…" in a
    sentence) or inside another value (alt=" src="): it is checked all the same, and at worst sends
    the document the slow way. Never taken as passing: a value with an entity (it is not the value
    as written), or with an "=". A match holds no quote, so one that runs on over a real attribute
    ends at that attribute's opening quote and holds its ' name=': every real attribute is matched
    itself or makes the match over it fail."""
    for name, value in set(pattern.findall(cleaned)):  # a chart repeats a few colours hundreds of times
        if "&" in value or "=" in value or not checks[name](value):
            return False
    return True


class _Sanitizer:
    """nh3 cleaners built once (building one from the allow-lists costs more than cleaning a chart)."""

    def __init__(self, options: _CleanOptions, checks: Mapping[str, Check]) -> None:
        self.fast = nh3.Cleaner(**options)
        self.filtered = nh3.Cleaner(attribute_filter=_filter(checks), **options)
        self.checks, self.pattern = checks, _checked(checks)

    def clean(self, html: str) -> str:
        cleaned = self.fast.clean(html)
        if _passes(cleaned, self.checks, self.pattern):
            return cleaned
        return self.filtered.clean(html)


_PAGE = _Sanitizer(_ALLOWED, _PAGE_CHECKS)


def sanitize(html: str) -> str:
    """The page HTML with everything outside the allow-list removed."""
    return _PAGE.clean(html)


# A chart is SVG and nothing else: no HTML, no links, no ids (it sits before Material's own elements).
_SVG_ONLY = _CleanOptions(
    tags=_SVG_TAGS,
    attributes={tag: _SVG_ATTRS | {"class"} for tag in _SVG_TAGS},
    generic_attribute_prefixes=set(),
    url_schemes=set(),
    link_rel=None,
    strip_comments=True,
)


_SVG = _Sanitizer(_SVG_ONLY, _SVG_CHECKS)


def sanitize_svg(svg: str) -> str:
    """A chart's SVG with everything but the SVG allow-list removed (cheaper than :func:`sanitize`,
    which matters: every chart of every page built goes through it)."""
    return _SVG.clean(svg)
