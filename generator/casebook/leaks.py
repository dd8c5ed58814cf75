"""The leak check of the internal edition: proof that a built public site holds none of the
overlay's secrets (the real values behind the public files' ``*``, the real names behind ``*山镇``,
the real years behind ``year: '*'``).

``casebook build --leak-check DIR`` builds the public site into a staging folder, calls
:func:`scan` on it with the overlay's secrets, and publishes nothing when a secret is found.
:func:`describe` words the refusal for the data owner, naming the published file, the public case
file a planted value most likely came from (:func:`origin`), and the overlay entry it matches.

What counts as a secret being written (every form a reader, a spreadsheet or a search engine
would take for it):

- a figure: its value in every unit that measures the same quantity (8367亩, 0.8367万亩, 557.8公顷),
  plain, thousands-grouped (8,367; also with a full-width comma), with trailing zeros (8367.0),
  written with 万/亿 (0.8367万, 1.2345万), in full-width digits; on digit boundaries (8367 is not in
  18367, 8367.5 or 2.8367). A value of fewer than three significant digits (30人, 5%, 100) would
  be found everywhere, so it counts only with a unit of its quantity right after it (a qualifier
  余/多 between allowed; in running text not a space, which is how the site sets its own counts), or in a table (HTML, CSV, JSON, a workbook) in the cell before
  the cell that holds its unit: the figure and its unit side by side, as every table the
  site publishes writes them. Written as a bare number, or with a unit of another quantity (the
  year 2019年 beside a secret head count of 2019), it is not that figure.
- a year: ``2019年`` (digits and 年), never the bare number.
- a name: its text. Text is compared after NFKC (full-width and compatibility characters read as
  what they show), with character references (``&#38738;``), JSON ``\\u`` escapes and
  percent-encoded UTF-8 in URLs decoded.

A form that occurs in one of ``public_texts`` (the public source document) is public already and
is dropped: a clean casebook is never refused for what it already publishes.

Every published file is read, in the form its readers read it (see :func:`_scan_file`): pages and
SVG as markup with their attributes, search data and downloads as JSON and CSV, workbooks and Word
files member by member (a worksheet as rows of cells), gzip decompressed; paths are published too,
and are read. Digits that are never a figure are passed over (names are still looked for
there): the geometry, sizes, colours, ids and URLs of markup, the theme's stylesheets and
configuration, JSON keys and layout and bookkeeping members (a chart's width, a file's byte
count), a number that is part of a Latin word (a digest, rId12, 8367px). Skipped whole: the
theme's and the package's static files where the built file is byte for byte the one they ship
(they hold no case text, and minified scripts hold every number), the search index's term shards
(every term in them is a substring of the titles and texts the index also holds, which are read;
a shard's keys are term prefixes, so 8367 is a key wherever 83670 is written), and binary files
(images, fonts, PDF: the site publishes none; its text would need a PDF reader).

Secrets come from the data owner; page and case text from pull requests. Everything a message
shows passes through :func:`casebook.errors.shown`.
"""

from __future__ import annotations

import collections
import functools
import gzip
import html
import importlib.util
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from .errors import shown
from .figures import (
    FAMILY_LINKS,
    FOREIGN_UNITS,
    MAX_DECIMAL_PLACES,
    QUOTE_UNITS,
    SUFFIX_QUALIFIERS,
    UNIT_ALIASES,
    UNIT_FAMILIES,
    strip_zeros,
)

SecretKind = Literal["figure", "name", "year"]


@dataclass(frozen=True)
class Secret:
    """One overlay-only fact the public site must not hold."""

    kind: SecretKind
    entry: str  # where it is in the overlay, for the message: "overlay/clusters/grain-store.yaml:12"
    case_file: str  # the public case file it belongs to (display path)
    label: str  # what it is, in Chinese: "水田面积（*粮仓）", "乡镇名称“*山镇”"
    text: str = ""  # name: the real text; year: the real year as digits
    value: Decimal | None = None  # figure: the real value in ``unit``
    unit: str = ""  # figure: the catalogue unit


@dataclass(frozen=True)
class Leak:
    """A secret found in a published file."""

    file: str  # relative to the site root, posix; a zip member as "x.xlsx!xl/sharedStrings.xml"
    secret: Secret
    form: str  # the written form found: "8,367", "0.8367万亩", "青山镇"
    excerpt: str  # about 30 characters either side, on one line


# A value with fewer significant digits than this counts only beside its unit (see the module doc).
SPECIFIC_DIGITS = 3
LISTED_LEAKS = 50  # blocks describe() prints; the rest are counted
_PARALLEL_BYTES = 24_000_000  # below this a site is scanned in this process: starting workers costs more
_MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a zip member or gzip body larger than this is not a file we wrote

_Key = tuple[object, ...]  # what a hit is a hit of: ("q", quantity, base value), ("n", number), ("y", year), ("name", text)
_Mode = Literal["text", "markup", "csv", "json"]

# --------------------------------------------------------------------------- units and quantities


def _measure_table() -> dict[str, tuple[str, Decimal]]:
    """Every spelling of a unit → (the quantity it measures, its size in that quantity's base
    unit). Families that measure one quantity share it (平方米 is 0.0015亩), and so do the units
    quotes use (公顷, ‰): a secret written in any of them is the same secret."""
    table: dict[str, tuple[str, Decimal]] = {}
    for family, members in UNIT_FAMILIES.items():
        target, scale = FAMILY_LINKS.get(family, (family, Decimal(1)))
        for unit, factor in members.items():
            table[unit] = (target, scale * factor)
    for alias, unit in UNIT_ALIASES.items():
        table[alias] = table[unit]
    for unit, (family, factor) in QUOTE_UNITS.items():
        if unit != "成":  # 3成 is 30%, but 成 after a number is as often 成员, 成立, 成效
            table[unit] = (family, factor)
    table["人民币"] = table["元"]
    return table


_MEASURES = _measure_table()
# Read longest first, foreign units included, so 人次 is never read as 人 and 个月 never as 个.
_SPELLINGS = tuple(sorted({*_MEASURES, *FOREIGN_UNITS}, key=len, reverse=True))
_MAGNITUDES = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}
_MAX_DECIMALS = MAX_DECIMAL_PLACES  # more decimals is not a way anyone writes a figure (figures.py)


@functools.cache
def _sizes(quantity: str) -> dict[Decimal, list[str]]:
    """The sizes a quantity's units come in, each with its spellings."""
    out: dict[Decimal, list[str]] = {}
    for spelling, (q, size) in _MEASURES.items():
        if q == quantity:
            out.setdefault(size, []).append(spelling)
    return out


# Wide enough for every figure (15 significant digits, factors up to 10^8) times every factor.
_EXACT = Context(prec=60)


def _exact_quotient(a: Decimal, b: Decimal) -> Decimal | None:
    """a / b when it is an exact decimal of at most _MAX_DECIMALS places, else None."""
    q = strip_zeros(_EXACT.divide(a, b))
    if _EXACT.multiply(q, b) != a:
        return None
    exponent = q.as_tuple().exponent
    assert isinstance(exponent, int)
    return q if -exponent <= _MAX_DECIMALS else None


def _renders(value: Decimal) -> list[str]:
    """A number as it is written: plain, and thousands-grouped when that differs."""
    value = strip_zeros(value)
    plain, grouped = format(value, "f"), f"{value:,f}"
    return [plain] if plain == grouped else [plain, grouped]


def _significant_digits(value: Decimal) -> int:
    """How many significant digits ``value`` has (8367 → 4, 30 → 1, 0.05 → 1, 100.5 → 4)."""
    value = abs(strip_zeros(value))
    if not value:
        return 0
    return len(value.normalize(_EXACT).as_tuple().digits)


def _specific(value: Decimal) -> bool:
    return _significant_digits(value) >= SPECIFIC_DIGITS


# --------------------------------------------------------------------------- characters


@functools.cache
def _compatible() -> dict[str, tuple[str, ...]]:
    """For each text, the characters NFKC folds into it: 8 ← ８, 青 ← ⾭, % ← ％, m2 ← ㎡. The
    scanner matches those too instead of normalising every file (that would double its time)."""
    out: dict[str, list[str]] = collections.defaultdict(list)
    for cp in range(0x80, 0x30000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch and 0 < len(folded) <= 4:
            out[folded].append(ch)
    return {k: tuple(v) for k, v in out.items()}


def _char(ch: str) -> str:
    """A regex for one character and every character NFKC folds into it."""
    extra = _compatible().get(ch, ())
    if not extra:
        return re.escape(ch)
    return "[" + "".join(_class_escape(c) for c in (ch, *extra)) + "]"


def _class_escape(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch


def _text(s: str) -> str:
    """A regex for a string, each character as :func:`_char`, and any single character that NFKC
    folds into the whole string (㎡ for m2)."""
    body = "".join(_char(c) for c in s)
    whole = [c for c in _compatible().get(s, ()) if len(s) > 1]
    return f"(?:{body}|{'|'.join(re.escape(c) for c in whole)})" if whole else body


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- what may stand between a number and its unit

_SPACE = r"(?:[ \t\u00a0\u2009\u202f\u3000]|&nbsp;|&#160;|&#xa0;)"
_BETWEEN = "|".join(SUFFIX_QUALIFIERS)
# The next cell of a table, when a figure's unit stands there: CSV (with or without quotes), JSON
# (the next member or array item), a workbook row as read here, an HTML table row.
_NEXT_CELL = (r'(?:"?,"?|"?\s*,\s*(?:"[^"\\]{1,40}"\s*:\s*)?"|\x1f+'
              r"|</t[dh]>\s*<t[dh]\b[^>]*>)")


@functools.cache
def _unit_lookahead() -> str:
    """What must follow a number of few significant digits (on the raw text): a catalogue unit."""
    units = "|".join(_text(u) for u in sorted(_MEASURES, key=len, reverse=True))
    mags = "[" + "".join(_class_escape(c) for m in _MAGNITUDES for c in (m, *_compatible().get(m, ()))) + "]"
    return (f"(?={_NEXT_CELL}?{_SPACE}{{0,2}}(?:{_BETWEEN})?{_SPACE}?{mags}?(?:{_BETWEEN})?{_SPACE}?"
            f"(?:{units}))")


@functools.cache
def _year_lookahead() -> str:
    return f"(?={_SPACE}?{_char('年')})"


# On a folded window (NFKC: ASCII digits, ， as ",", spaces as " "): the number, then its tail.
_NUM_PROSE = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?")
_NUM_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_UNIT_SPELLING = "|".join(re.escape(s) for s in _SPELLINGS)
_TAIL = re.compile(
    rf"(?: |&nbsp;|&#160;|&#xa0;){{0,2}}(?P<q1>{_BETWEEN})? ?(?P<mag>[万亿])?(?P<q2>{_BETWEEN})? ?"
    rf"(?P<unit>{_UNIT_SPELLING})?")
# A unit in the next table cell: the cell holds the unit and nothing else (a qualifier has a cell
# of its own in every table the site writes).
_CELL_TAIL = re.compile(rf"(?P<cell>{_NEXT_CELL})\s*(?P<mag>[万亿])?(?P<unit>{_UNIT_SPELLING})")
# Where a table cell ends, by mode: the unit found in the next cell must be that whole cell.
_CELL_END = {"csv": re.compile(r'"?(?:,|\r?\n|\r|$)'), "json": re.compile(r'"'),
             "text": re.compile(r"\x1f|\n|$"), "markup": re.compile(r"\s*<")}


# --------------------------------------------------------------------------- forms


def _figure_values(secret: Secret) -> tuple[str | None, Decimal | None, dict[Decimal, list[str]]]:
    """(quantity, value in the quantity's base unit, {value in a unit: [its spellings]})."""
    if secret.value is None:
        return None, None, {}
    value = abs(secret.value)
    measure = _MEASURES.get(secret.unit)
    if measure is None:
        return None, None, {strip_zeros(value): []}
    quantity, size = measure
    base = strip_zeros(_EXACT.multiply(value, size))
    values: dict[Decimal, list[str]] = {}
    for unit_size, spellings in _sizes(quantity).items():
        converted = _exact_quotient(base, unit_size)
        if converted is not None:
            values.setdefault(converted, []).extend(spellings)
    return quantity, base, values


def _number_words(values: Iterable[Decimal]) -> set[str]:
    """The digit strings a scan looks for: each value, and each value in 万 and 亿 (1.2345万)."""
    out: set[str] = set()
    for v in values:
        out.update(_renders(v))
        for magnitude in _MAGNITUDES.values():
            scaled = _exact_quotient(v, magnitude)
            if scaled is not None and scaled:
                out.update(_renders(scaled))
    return out


def forms(secret: Secret) -> list[str]:
    """Every way the scan finds ``secret`` written, as plain strings: a name's text, a year with
    年, a figure in each unit of its quantity (plain and grouped, and with 万/亿), and for a figure
    of three or more significant digits the bare numbers too. Beyond these the scan tolerates a
    space or a qualifier between number and unit, trailing zeros, full-width digits and commas,
    compatibility characters, and a unit in the next table cell."""
    if secret.kind == "name":
        name = _fold(secret.text).strip()
        return [name] if name else []
    if secret.kind == "year":
        return [f"{secret.text}年"] if secret.text.isdigit() else []
    _, _, values = _figure_values(secret)
    specific = secret.value is not None and _specific(secret.value)
    out: list[str] = []
    for v, spellings in values.items():
        units = [s for s in spellings if s in _WRITTEN_UNITS]
        for written in _renders(v):
            out += [written + s for s in units]
            if specific:
                out.append(written)
        for mag, magnitude in _MAGNITUDES.items():
            scaled = _exact_quotient(v, magnitude)
            for written in _renders(scaled) if scaled else []:
                out += [written + mag + s for s in units if s[0] not in _MAGNITUDES and s not in ("%", "‰", "年")]
                if specific:
                    out.append(written + mag)
    return list(dict.fromkeys(out))


# The units forms() lists (aliases such as 名 for 人 are found too, but not listed).
_WRITTEN_UNITS = frozenset({*(u for members in UNIT_FAMILIES.values() for u in members), *QUOTE_UNITS} - {"成"})


# --------------------------------------------------------------------------- the plan: every secret in two regexes


def _trie(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, shared prefixes written once, longer first (a comma
    also matches the full-width comma, which groups thousands in Chinese text too)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [("[,\uff0c]" if ch == "," else re.escape(ch)) + emit(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


def _number_pattern(specific: set[str], unspecific: set[str], years: set[str]) -> str:
    """One regex for every number a secret may be written as: a specific one anywhere, one of few
    significant digits only before a unit, a year only before 年.

    Most of a site's digits are no secret, so the pattern must give up on a number quickly: it
    branches on the first digit (the engine skips straight to digits and tries at most ten
    branches there), which may not follow a digit or a decimal point (nothing is found inside
    18367 or 2.8367); it matches only a whole number (8367, 8367.0, 0.83670: trailing zeros after
    a decimal point are allowed), read by an atomic group that never backtracks to a shorter
    word; and the unit a number of few digits needs is looked for only once it is one."""
    end = "(?![0-9]|[.\uff0e][0-9])"
    alts = []
    for digit in "0123456789":
        parts = []
        for words, after in ((specific, ""), (unspecific, _unit_lookahead()), (years, _year_lookahead())):
            mine = [w for w in words if w[0] == digit]
            for decimal in (False, True):
                group = [w[1:] for w in mine if ("." in w) == decimal]
                if not group:
                    continue
                rest = _trie(group)
                zeros = "0*+" if decimal else "(?:\\.0+)?+"
                parts.append(f"(?>{rest}){zeros}{end}{after}" if rest else f"{zeros}{end}{after}")
        if parts:
            alts.append(f"{digit}(?<![0-9.]{digit})(?:{'|'.join(parts)})")
    if alts:
        # A number in full-width digits (８３６７) is read whole by _number_at, which folds it.
        alts.append("[\uff10-\uff19](?<![0-9.\uff0e\uff10-\uff19][\uff10-\uff19])")
    return "|".join(alts)


def _rotated_trie(names: dict[str, list[tuple[str, int]]]) -> str:
    """A regex matching names from their rarest character on (``names``: the text from that
    character on → the names it ends, each with that character's offset), each checked whole by a
    lookbehind. Python's
    regex engine tries a branch's alternatives one by one, so a trie rooted at common characters
    (山, 大, 新) costs a thousand tries at most places in a Chinese text; rooted at rare ones it is
    tried only where they stand."""
    root: dict[str, Any] = {}
    for rest, entries in names.items():
        node = root
        for ch in rest:
            node = node.setdefault(ch, {})
        node.setdefault("", set()).update(name for name, _ in entries)

    def emit(node: dict[str, Any]) -> str:
        alts = [_char(ch) + emit(node[ch]) for ch in sorted(k for k in node if k)]
        alts += ["(?<=" + "".join(_char(c) for c in name) + ")" for name in sorted(node.get("", ()))]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(root) if root else ""


class _Plan:
    """What the scan looks for, compiled once per scan (and once per worker process)."""

    def __init__(self, secrets: Sequence[Secret], frequency: dict[str, int] | None = None) -> None:
        self.secrets = list(secrets)
        self.names: dict[str, list[int]] = {}
        self.bare: dict[Decimal, list[int]] = {}  # specific figures: every value in every unit
        self.quantity: dict[tuple[str, Decimal], list[int]] = {}
        self.years: dict[int, list[int]] = {}
        specific_words: set[str] = set()
        unspecific_words: set[str] = set()
        year_words: set[str] = set()
        for i, secret in enumerate(self.secrets):
            if secret.kind == "name":
                name = _fold(secret.text).strip()
                if name:
                    self.names.setdefault(name, []).append(i)
            elif secret.kind == "year":
                if secret.text.isdigit():
                    self.years.setdefault(int(secret.text), []).append(i)
                    year_words.add(str(int(secret.text)))
            elif secret.value is not None:
                quantity, base, values = _figure_values(secret)
                if quantity is not None and base is not None:
                    self.quantity.setdefault((quantity, base), []).append(i)
                specific = _specific(secret.value)
                if specific:
                    for v in values:
                        self.bare.setdefault(v, []).append(i)
                if specific or quantity is not None:
                    (specific_words if specific else unspecific_words).update(_number_words(values))
        freq = frequency or {}
        self.rotations: dict[str, list[tuple[str, int]]] = {}
        for name in self.names:
            at = min(range(len(name)), key=lambda k: (freq.get(name[k], 0), -k))
            self.rotations.setdefault(name[at:], []).append((name, at))
        self.rotation_lengths = sorted({len(r) for r in self.rotations}, reverse=True)
        name_pattern = _rotated_trie(self.rotations)
        number_pattern = _number_pattern(specific_words, unspecific_words, year_words)
        self.name_rx = re.compile(name_pattern) if name_pattern else None
        self.number_rx = re.compile(number_pattern) if number_pattern else None


# --------------------------------------------------------------------------- scanning one text


@dataclass(frozen=True)
class _Hit:
    secret: int
    form: str
    start: int
    end: int
    key: _Key
    covers: tuple[_Key, ...]  # every key the written text makes public, when it is a public text


# Attributes whose values are drawing, layout or addressing, never figures: their digits are
# coordinates, sizes, colours, counts of table cells, ids and URLs (names in them are still found).
_NUMBERLESS_ATTRS = frozenset({
    "viewbox", "preserveaspectratio", "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy",
    "r", "rx", "ry", "d", "points", "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity",
    "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "opacity", "transform", "font-family",
    "font-size", "font-weight", "text-anchor", "dominant-baseline", "dx", "dy", "clip-path", "offset",
    "stop-color", "style", "class", "colspan", "rowspan", "span", "start", "tabindex", "integrity",
    "sizes", "media", "loading", "xmlns", "version", "focusable", "href", "src", "srcset", "id", "for",
    "headers", "xlink:href", "aria-hidden", "data-md-color-scheme", "data-md-color-primary",
    "data-md-color-accent",
})
_ATTR_NAME = re.compile(r"([\w:.-]+)\s*=\s*$")


# Blocks of a page whose digits are the theme's, never case text: stylesheets, and Material's
# configuration (its search strings say "找到 1 个符合条件的结果"); page content cannot hold either
# (the sanitiser drops <style> and <script>), so the ones there are the theme's.
_THEME_BLOCK = re.compile(r'<style\b.*?</style>|<script id="__config"[^>]*>.*?</script>', re.S)


def _numberless(text: str, at: int, theme: list[tuple[int, int]]) -> bool:
    """Whether a number at ``at`` in markup is part of the markup itself: inside a tag but not in
    an attribute value, in a drawing, layout or address attribute, or in a theme block."""
    # Looked for near the number only: tags the scan must see through are short, and a long run of
    # case text without one (a hostile page) must not make each of its numbers a search to the start.
    lt, gt = text.rfind("<", max(0, at - 4096), at), text.rfind(">", max(0, at - 4096), at)
    if lt > gt:
        seg = text[lt:at]
        q = max(seg.rfind('="'), seg.rfind("='"), seg.rfind('= "'))
        if q < 0:
            return True
        quote_at = q + 1 if seg[q + 1] in "\"'" else q + 2
        if seg[quote_at] in seg[quote_at + 1:]:
            return True  # that value has closed: this is between attributes
        name = _ATTR_NAME.search(seg, max(0, q - 64), quote_at)
        return name is None or name.group(1).lower() in _NUMBERLESS_ATTRS
    return any(a <= at < b for a, b in theme)


# A whole value of a table (CSV cell, JSON number or string): what stands around it.
_VALUE_START = {"csv": frozenset(("", ",", "\n", "\r")), "json": frozenset(("", ":", "[", ",", " ", "\n", "\t"))}
_VALUE_END = {"csv": frozenset(("", ",", "\n", "\r")), "json": frozenset(("", ",", "]", "}", " ", "\n", "\r", "\t"))}


def _bare_value(text: str, at: int, window: str, mode: _Mode) -> bool:
    """Whether the number at ``at`` is a whole value of a CSV row or JSON document, outside any
    quoted text: then a comma beside it parts values (5,367 is 5 and 367), where in text it
    groups thousands (5,367 is 5367)."""
    if mode not in _VALUE_START:
        return False
    number = _NUM_PLAIN.match(window)
    if number is None:
        return False
    prev = text[at - 1] if at else ""
    if mode == "json":
        while prev in (" ", "\t") and at > 1:
            at -= 1
            prev = text[at - 1]
    return prev in _VALUE_START[mode] and window[number.end():number.end() + 1] in _VALUE_END[mode]


def _scan_text(plan: _Plan, text: str, mode: _Mode, public: bool = False) -> list[_Hit]:
    """Every hit of a secret in ``text`` (already decoded, see :func:`_decoded`). In a ``public``
    text a specific number counts in any unit: the number itself is public there (游客8367人次
    makes a bare 8367 public, though not 8367亩)."""
    hits: list[_Hit] = []
    if plan.name_rx is not None:
        _scan_names(plan, text, hits)
    if plan.number_rx is not None:
        theme = ([(m.start(), m.end()) for m in _THEME_BLOCK.finditer(text)]
                 if mode == "markup" and ("<style" in text or "__config" in text) else [])
        rx, pos = plan.number_rx, 0
        while (m := rx.search(text, pos)) is not None:
            pos = m.start() + 1
            _number_at(plan, text, m.start(), mode, theme, hits, public)
    return hits


def _scan_names(plan: _Plan, text: str, hits: list[_Hit]) -> None:
    assert plan.name_rx is not None
    pos = 0
    while (m := plan.name_rx.search(text, pos)) is not None:
        at = m.start()
        pos = at + 1
        seen: set[str] = set()
        for length in plan.rotation_lengths:
            for name, offset in plan.rotations.get(_fold(text[at:at + length]), ()):
                start = at - offset
                written = text[start:start + len(name)] if start >= 0 else ""
                if name in seen or _fold(written) != name:
                    continue
                seen.add(name)
                key: _Key = ("name", name)
                hits.extend(_Hit(i, written, start, start + len(name), key, (key,)) for i in plan.names[name])


def _number_at(plan: _Plan, text: str, at: int, mode: _Mode, theme: list[tuple[int, int]],
               hits: list[_Hit], public: bool = False) -> None:
    """Read the number written at ``at`` with what follows it, and record the secrets it is."""
    prev = text[at - 1] if at else ""
    if prev.isdigit():
        return
    before = text[at - 2] if at > 1 else ""
    if prev in ".\uff0e" and before.isdigit():
        return  # 2.8367
    if mode == "markup" and _numberless(text, at, theme):
        return
    raw = text[at:at + 96]
    window = _fold(raw)
    plain = _bare_value(text, at, window, mode)
    if prev == "," and before.isdigit() and not plain:
        return  # 18,367: a thousands group, not a number of its own
    if mode == "json" and _json_bookkeeping(text, at, window, plain):
        return
    m = (_NUM_PLAIN if plain else _NUM_PROSE).match(window)
    if m is None:
        return
    digits = m.group()
    if window[m.end():m.end() + 1] == "." and window[m.end() + 1:m.end() + 2].isdigit():
        return  # 1.6.1: a version, not a number
    try:
        n = Decimal(digits.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the patterns admit only decimals
        return
    cells = _CELL_TAIL.match(window, m.end())
    if cells is not None and not _whole_cells(text, at, window, cells, mode):
        cells = None  # "30,人" in prose is no figure and its unit
    tail = cells or _TAIL.match(window, m.end())
    assert tail is not None  # every part of _TAIL is optional
    unit = tail.group("unit")
    if unit is None and (_LATIN.fullmatch(prev) or _LATIN.fullmatch(window[m.end():m.end() + 1])):
        return  # part of a word: a digest (sha256:1466db2c…), an id (rId12), a size (8367px)
    magnitude = _MAGNITUDES.get(tail.group("mag") or "", Decimal(1))
    end = tail.end() if unit or magnitude != 1 else m.end()
    form = window[:end].strip()
    if cells is not None:
        form = digits + (tail.group("mag") or "") + (unit or "")  # the two cells, read as one figure
    raw_end = at + (end if len(window) == len(raw) else len(digits))
    measure = _MEASURES.get(unit) if unit else None
    found: dict[int, _Key] = {}
    covers: list[_Key] = []
    if measure is not None:
        quantity, size = measure
        base = strip_zeros(_EXACT.multiply(_EXACT.multiply(n, magnitude), size))
        qkey: _Key = ("q", quantity, base)
        covers.append(qkey)
        # The site's own counts are typeset with a space before the unit ("全部 40 个见下表",
        # "5 个组团"); the source's figures, and a value typed into a case file, are not. A small
        # number with a space before its unit in running text is taken for one of ours: otherwise a
        # real count of 5 would refuse every clean build that says it has 5 clusters.
        spaced = cells is None and mode in ("text", "markup") and tail.group(0)[:1] in (" ", "&")
        for i in plan.quantity.get((quantity, base), ()):
            secret_value = plan.secrets[i].value
            if spaced and not public and secret_value is not None and not _specific(secret_value):
                continue
            found.setdefault(i, qkey)
    numbers = {strip_zeros(n), strip_zeros(_EXACT.multiply(n, magnitude))}
    covers += [("n", v) for v in numbers]
    for v in numbers:
        for i in plan.bare.get(v, ()):
            # A bare number, or one in a unit of its own quantity (8367万亩 still writes 8367); in a
            # unit of another quantity it is another figure (2019年 is a year, not 2019 people).
            if public or measure is None or _MEASURES.get(plan.secrets[i].unit, ("",))[0] == measure[0]:
                found.setdefault(i, ("n", v))
    if unit == "年" and magnitude == 1 and digits.isdigit():
        ykey: _Key = ("y", int(digits))
        covers.append(ykey)
        for i in plan.years.get(int(digits), ()):
            found.setdefault(i, ykey)
    for i, key in found.items():
        hits.append(_Hit(i, form, at, raw_end, key, tuple(covers)))


# How cells part, by mode (see _NEXT_CELL), and what may stand before a cell's first character.
_CELL_SEPARATOR = {
    "csv": re.compile(r'"?,"?'),
    "json": re.compile(r'"?,"?|"?\s*,\s*(?:"[^"\\]{1,40}"\s*:\s*)?"'),
    "text": re.compile(r"\x1f+"),
    "markup": re.compile(r"</t[dh]>\s*<t[dh]\b[^>]*>"),
}
_CELL_START = {"csv": ("", ",", "\n", "\r", '"'), "json": ("", ":", "[", ",", " ", "\n", "\t", '"'),
               "text": ("", "\x1f", "\n"), "markup": (">",)}


_LATIN = re.compile(r"[A-Za-z_]")
_JSON_KEY_END = re.compile(r'"\s*:')
# Keys whose numbers are layout, sizes and bookkeeping, never figures: a chart's configuration, a
# data package's byte counts, the search index's own counts.
_NUMBERLESS_KEYS = frozenset({
    "bytes", "size", "width", "height", "continuouswidth", "continuousheight", "discretewidth",
    "discreteheight", "fontsize", "labelfontsize", "titlefontsize", "labellimit", "labelangle",
    "labelpadding", "titlepadding", "symbolsize", "strokewidth", "opacity", "fillopacity",
    "strokeopacity", "dx", "dy", "x", "y", "x2", "y2", "band", "padding", "offset", "angle", "tickcount",
    "cornerradius", "columns", "spacing", "zindex", "version", "stamp", "shards", "docs", "pages", "limit",
})


def _json_bookkeeping(text: str, at: int, window: str, plain: bool) -> bool:
    """Whether a number in JSON is a key ({"137": …}: the search index numbers its documents so)
    or the value of a key in _NUMBERLESS_KEYS (a file's size, a chart's width)."""
    number = _NUM_PLAIN.match(window)
    if number is not None and text[at - 1:at] == '"' and _JSON_KEY_END.match(window, number.end()):
        return True
    return plain and (_json_key(text, at) or "").lower() in _NUMBERLESS_KEYS


def _json_key(text: str, at: int) -> str | None:
    """The key of the JSON member whose value starts at ``at`` (None in an array)."""
    i = at - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] != ":":
        return None
    i -= 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] != '"':
        return None
    start = text.rfind('"', max(0, i - 64), i)
    return text[start + 1:i] if start >= 0 else None


def _whole_cells(text: str, at: int, window: str, tail: re.Match[str], mode: _Mode) -> bool:
    """Whether a number and the unit after it are two whole, neighbouring table cells of the kind
    the file has: the number all of its cell, the next cell all unit."""
    if _CELL_SEPARATOR[mode].fullmatch(tail.group("cell")) is None:
        return False
    prev = text[at - 1] if at else ""
    if prev not in _CELL_START[mode]:
        return False
    if prev == '"' and (text[at - 2] if at > 1 else "") not in _CELL_START[mode]:
        return False
    return _CELL_END[mode].match(window, tail.end()) is not None


# --------------------------------------------------------------------------- decoding and views

_NCR = re.compile(r"&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})(?:\\u([dD][c-fC-F][0-9a-fA-F]{2}))?")
_PERCENT = re.compile(r"%[89a-fA-F][0-9a-fA-F](?:%[0-9a-fA-F]{2})*")
# Kept encoded: what would change the structure the scan reads (markup, JSON strings, lines).
_STRUCTURAL = set('<>&"\'\\') | {chr(c) for c in range(0x20)} | {"\x7f", "\u2028", "\u2029"}


def _decode_ncr(m: re.Match[str]) -> str:
    body = m.group()[2:-1]
    try:
        ch = chr(int(body[1:], 16) if body[:1] in "xX" else int(body))
    except (ValueError, OverflowError):
        return m.group()
    return m.group() if ch in _STRUCTURAL or 0xD800 <= ord(ch) < 0xE000 else ch


def _decode_u(m: re.Match[str]) -> str:
    high = int(m.group(1), 16)
    if m.group(2) and 0xD800 <= high < 0xDC00:
        return chr(0x10000 + ((high - 0xD800) << 10) + (int(m.group(2), 16) - 0xDC00))
    rest = m.group()[6:]  # a lone low surrogate after it: not a character, stays escaped
    if 0xD800 <= high < 0xE000 or chr(high) in _STRUCTURAL:
        return m.group()
    return chr(high) + rest


def _decode_percent(m: re.Match[str]) -> str:
    try:
        out = bytes.fromhex(m.group().replace("%", "")).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return m.group()
    return out if all(ord(c) >= 0x80 for c in out) else m.group()


def _decoded(text: str, markup: bool) -> str:
    """``text`` with the escapes that could hide a secret decoded, where there are any: character
    references (markup), JSON ``\\u`` escapes, percent-encoded UTF-8. Escapes of markup, quotes,
    backslashes and line breaks stay: the scan reads the structure they keep."""
    if markup and "&#" in text:
        text = _NCR.sub(_decode_ncr, text)
    if "\\u" in text:
        text = _U_ESCAPE.sub(_decode_u, text)
    if "%" in text:
        text = _PERCENT.sub(_decode_percent, text)
    return text


# Inline formatting the reader sees as one run of text: "8<b>367</b>" reads 8367. Removed (with a
# class, which holds no text) so a figure or a name split by it is found whole.
_INLINE = re.compile(r"</?(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|i|ins|kbd|mark|q|s|samp|small|span"
                     r"|strong|sub|sup|tspan|u|var)(?:\s+class=\"[^\"<>]*\")?\s*>")
# Office XML: paragraphs and rows end lines, cells end cells, every other tag is nothing (a run
# boundary inside a word is invisible); text-bearing attributes are read beside the text. Plain
# replacements: the closing tags of WordprocessingML, SpreadsheetML, DrawingML and ODF.
_XML_BREAKS = (("</w:p></w:tc>", "\x1f"), ("</w:tr>", "\n"), ("</w:p>", "\n"), ("</a:p>", "\n"), ("</text:p>", "\n"), ("</text:h>", "\n"), ("</si>", "\n"),
               ("</row>", "\n"), ("<w:br/>", "\n"), ("<w:cr/>", "\n"), ("</w:tc>", "\x1f"), ("</c>", "\x1f"),
               ("<w:tab/>", "\x1f"), ("</table:table-cell>", "\x1f"))
_XML_TAG = re.compile(r"<[^>]*>")
_XML_TEXT_ATTRS = ("descr", "title", "name", "alt", "tooltip", "Target")
_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
_SHARED_CELL = re.compile(r"<c\b[^>]*\bt=\"(?:s|b|e)\"[^>]*>.*?</c>", re.S)
_SHARED_STRING = re.compile(r"<si>(.*?)</si>", re.S)
_CSS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.S)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?")


# An inline drawing's attributes are its geometry (most digits a page has): dropped before the
# scan, but for its text alternative. Other attributes stay; _numberless reads around the rest.
_SVG_ATTR = re.compile(r'\s(?!aria-|role=)[\w:.-]+="[^"]*"')


def _markup_view(text: str) -> str:
    """A page as the scan reads it: inline formatting gone (so 8<b>367</b> reads 8367), drawings
    without their geometry."""
    text = _INLINE.sub("", text)
    if "<svg" not in text:
        return text
    out, pos = [], 0
    while (start := text.find("<svg", pos)) >= 0:
        end = text.find("</svg>", start)
        if end < 0:
            break
        out += [text[pos:start], _SVG_ATTR.sub("", text[start:end])]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _xml_text(xml: str) -> str:
    for tag, mark in _XML_BREAKS:
        if tag in xml:
            xml = xml.replace(tag, mark)
    text = _XML_TAG.sub("", xml)
    attrs = [v for a in _XML_TEXT_ATTRS if f'{a}="' in xml for v in _xml_attribute(a).findall(xml)]
    if attrs:
        text += "\n" + "\n".join(attrs)
    return html.unescape(text) if "&" in text else text


@functools.cache
def _xml_attribute(name: str) -> re.Pattern[str]:
    return re.compile(rf'{name}="([^"]*)"')  # a literal start: the engine skips to it


def _sheet_text(xml: str, shared: list[str], units: dict[int, str]) -> str:
    """A worksheet's cells, one row a line, cells parted by \x1f. A shared-string cell holds an
    index into the shared strings (read on their own, so not here: the index is no figure),
    except when that string is a unit: then the unit stands in its cell, beside the figure."""
    if units:
        unit_cell = re.compile(r'<c\b[^>]*\bt="s"[^>]*>\s*<v>(' + "|".join(map(str, sorted(units)))
                               + r")</v>\s*</c>")
        xml = unit_cell.sub(lambda m: "\x1f" + units[int(m.group(1))] + "\x1f", xml)
    return _xml_text(_SHARED_CELL.sub("\x1f", xml))


def _css_text(css: str) -> str:
    """A stylesheet's strings (case text reaches CSS only as a string: the colophon), escapes read."""
    strings = [s[1:-1] for s in _CSS_STRING.findall(css)]
    return "\n".join(_CSS_ESCAPE.sub(lambda m: _safe_chr(int(m.group(1), 16)), s) for s in strings)


def _safe_chr(cp: int) -> str:
    return chr(cp) if 0x20 <= cp < 0x110000 and not 0xD800 <= cp < 0xE000 else " "


@dataclass(frozen=True)
class _Found:
    file: str
    secret: int
    form: str
    excerpt: str
    key: _Key
    order: int


def _excerpt(text: str, start: int, end: int, markup: bool) -> str:
    """About 30 characters either side, on one line (table cells parted by " | ")."""
    piece = text[max(0, start - 30):end + 30]
    if markup:
        piece = html.unescape(_XML_TAG.sub(" ", piece))
    piece = piece.replace("\x1f", " | ")
    return " ".join(piece.split())


def _found(plan: _Plan, label: str, text: str, mode: _Mode) -> list[_Found]:
    return [_Found(label, h.secret, h.form, _excerpt(text, h.start, h.end, mode == "markup"), h.key, h.start)
            for h in _scan_text(plan, text, mode)]


_SKIP_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp", ".tif", ".tiff",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".webm", ".ogg", ".wav", ".wasm",
    ".pdf",  # text in compressed streams: not read (the site publishes no PDF; the CLI writes them)
})
_MARKUP = frozenset({".html", ".htm", ".xhtml", ".svg", ".xml", ".rss", ".atom"})
_JSON = frozenset({".json", ".js", ".mjs", ".webmanifest", ".map", ".geojson"})
_CSV = frozenset({".csv", ".tsv"})
_ZIP = frozenset({".xlsx", ".docx", ".pptx", ".odt", ".ods", ".odp", ".epub"})


# A chart's Vega-Lite spec, held by its figure for the chart script: the same JSON the chart's
# download (downloads/charts/<id>.vl.json) holds, so it is read once for both (see _json_document).
_SPEC_ATTR = re.compile(r'data-cb-spec="([^"]*)"')


def _attribute_text(value: str) -> str:
    """An attribute's value as text. A spec escapes little but its quotes: those are replaced
    directly (html.unescape calls back into Python for each of thousands)."""
    plain = value.replace("&quot;", '"')
    return plain if "&" not in plain else html.unescape(value)


def _json_document(plan: _Plan, label: str, text: str, cache: dict[tuple[object, ...], list[_Found]]) -> list[_Found]:
    """A JSON document, wherever it is published; one already read (a chart's spec in its page and
    in its download) is not read again."""
    key: tuple[object, ...] = ("json", text.rstrip("\r\n"))
    if key not in cache:
        cache[key] = _found(plan, label, _decoded(text, markup=False), "json")
    return [_relabel(f, label) for f in cache[key]]


def _utf8(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _scan_file(plan: _Plan, rel: str, data: bytes, cache: dict[tuple[object, ...], list[_Found]]) -> list[_Found]:
    """Every hit in one published file, read as its readers read it."""
    suffix = os.path.splitext(rel)[1].lower()
    if suffix == ".gz":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                inner = gz.read(_MAX_MEMBER_BYTES)
        except (OSError, EOFError):
            return []
        return [_relabel(f, rel) for f in _scan_file(plan, rel[:-3], inner, cache)]
    if suffix in _SKIP_SUFFIXES:
        return []
    if suffix in _ZIP or data[:4] == b"PK\x03\x04":
        return _scan_zip(plan, rel, data, cache)
    text = _utf8(data)
    if suffix in _MARKUP:
        specs = _SPEC_ATTR.findall(text) if 'data-cb-spec="' in text else []
        if specs:
            text = _SPEC_ATTR.sub('data-cb-spec=""', text)
        found = _found(plan, rel, _decoded(_markup_view(text), markup=True), "markup")
        for spec in specs:
            found += _json_document(plan, rel, _attribute_text(spec), cache)
        return found
    if suffix in _JSON:
        return _json_document(plan, rel, text, cache)
    if suffix in _CSV:
        return _found(plan, rel, _decoded(text, markup=False), "csv")
    if suffix == ".css":
        return _found(plan, rel, _decoded(_css_text(text), markup=False), "text")
    if b"\x00" in data[:4096]:
        return []  # binary of a kind not listed: no text to read
    return _found(plan, rel, _decoded(text, markup=False), "text")


def _relabel(f: _Found, label: str) -> _Found:
    return _Found(label, f.secret, f.form, f.excerpt, f.key, f.order)


def _scan_zip(plan: _Plan, rel: str, data: bytes, cache: dict[tuple[object, ...], list[_Found]]) -> list[_Found]:
    """Every XML part of an Office file (or any zip) as text; worksheets as rows of cells. A part
    identical to one already read (a template's styles in a thousand write-ups) is read once."""
    out: list[_Found] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return []
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and i.file_size <= _MAX_MEMBER_BYTES]
        names = {i.filename for i in infos}
        shared: list[str] = []
        units: dict[int, str] = {}
        if "xl/sharedStrings.xml" in names and any(_SHEET.fullmatch(i.filename) for i in infos):
            xml = _utf8(archive.read("xl/sharedStrings.xml"))
            shared = [html.unescape(_XML_TAG.sub("", s)) for s in _SHARED_STRING.findall(xml)]
            units = {index: s for index, s in enumerate(shared) if s in _MEASURES}
        for info in infos:
            member = info.filename
            label = f"{rel}!{member}"
            suffix = os.path.splitext(member)[1].lower()
            sheet = _SHEET.fullmatch(member) is not None
            key = (info.CRC, info.file_size, suffix, sheet and tuple(sorted(units.items())))
            if key in cache:
                out += [_relabel(f, label) for f in cache[key]]
                continue
            body = archive.read(info)
            if suffix in (".xml", ".rels", ".vml"):
                text = _utf8(body)
                view = _sheet_text(text, shared, units) if sheet else _xml_text(text)
                found = _found(plan, label, _decoded(view, markup=False), "text")
            else:
                found = _scan_file(plan, label, body, cache)
            cache[key] = found
            out += found
    return out


# --------------------------------------------------------------------------- the site


def _shipped_roots() -> list[tuple[str, Path]]:
    """Where the static files a site copies verbatim come from: the package's assets (served
    under assets/casebook/, see render.package_assets) and the Material theme's (under assets/)."""
    roots = [("assets/casebook/", Path(__file__).parent / "assets")]
    theme = importlib.util.find_spec("material")
    if theme is not None and theme.origin:
        roots.append(("assets/", Path(theme.origin).parent / "templates" / "assets"))
    return roots


def _is_shipped(rel: str, path: Path, roots: list[tuple[str, Path]]) -> bool:
    """Whether a built file is, byte for byte, a static file the package or the theme ships: such
    a file holds no case text (and a minified script holds every number there is)."""
    for prefix, root in roots:
        if rel.startswith(prefix):
            source = root / rel[len(prefix):]
            try:
                if source.is_file() and source.stat().st_size == path.stat().st_size:
                    return source.read_bytes() == path.read_bytes()
            except OSError:
                return False
            return False
    return False


def _derived(rel: str) -> bool:
    """Files made only from other published files, read there (see the module doc)."""
    return rel.startswith("search/shards/") and rel.endswith(".js")


def _site_files(site_dir: Path) -> list[tuple[str, Path, int]]:
    """The files to read, with their sizes: every file but those skipped (see the module doc)."""
    roots = _shipped_roots()
    out = []
    for folder, dirs, names in os.walk(site_dir):
        dirs.sort()
        base = Path(folder)
        prefix = base.relative_to(site_dir).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        for name in names:
            path, rel = base / name, prefix + name
            if _derived(rel) or (rel.startswith("assets/") and _is_shipped(rel, path, roots)):
                continue
            try:
                out.append((rel, path, path.stat().st_size))
            except OSError:
                continue  # gone while listed: nothing is published there
    return sorted(out)


def _frequency(texts: Iterable[str]) -> dict[str, int]:
    counter: collections.Counter[str] = collections.Counter()
    for text in texts:
        counter.update(text)
    return dict(counter)


def _sample(files: list[tuple[str, Path, int]], public: list[str]) -> Iterator[str]:
    """Text to count characters in (about a megabyte), so a name is looked for from its rarest
    character on."""
    left = 500_000
    for text in public:
        if left <= 0:
            break
        yield text[:left]
        left -= len(text)
    for page in [p for rel, p, _ in files if rel.endswith(".html")][:8]:
        yield page.read_bytes()[:65_536].decode("utf-8", errors="ignore")


def scan(site_dir: Path, secrets: Iterable[Secret], public_texts: Iterable[str] = ()) -> list[Leak]:
    """Every place a secret is written in the site at ``site_dir`` (see the module doc), in file
    order; one leak per file, secret and written form. Forms that occur in ``public_texts`` are
    public already and not reported. A large site is read by helper processes too (one per core)."""
    from concurrent.futures import ThreadPoolExecutor

    secret_list = list(secrets)
    public = list(public_texts)
    files = _site_files(site_dir)
    plan = _Plan(secret_list, _frequency(_sample(files, public)))
    if plan.name_rx is None and plan.number_rx is None:
        return []
    workers = _workers() if sum(size for _, _, size in files) >= _PARALLEL_BYTES else 1
    shares = _deal(files, workers)
    with ThreadPoolExecutor(max(workers - 1, 1)) as pool:
        helpers = [pool.submit(_helper, plan, site_dir, share) for share in shares[1:] if share]
        covered: set[tuple[int, _Key]] = set()  # what the public texts make public, meanwhile
        for text in public:
            for hit in _scan_text(plan, _decoded(text, markup=True), "text", public=True):
                covered.update((hit.secret, k) for k in hit.covers)
        found = _path_hits(plan, files) + _scan_files(plan, site_dir, shares[0])
        for helper in helpers:
            found += helper.result()
    leaks: list[Leak] = []
    seen: set[tuple[str, int, str]] = set()
    for f in sorted(found, key=lambda f: (f.file, f.order)):
        if (f.secret, f.key) in covered or (f.file, f.secret, f.form) in seen:
            continue
        seen.add((f.file, f.secret, f.form))
        leaks.append(Leak(f.file, secret_list[f.secret], f.form, f.excerpt))
    return leaks


def _path_hits(plan: _Plan, files: list[tuple[str, Path, int]]) -> list[_Found]:
    """Secrets in the published paths themselves (a name in a tag page's folder, a file name)."""
    paths = "\n".join(rel for rel, _, _ in files)
    out = []
    for f in _found(plan, "", paths, "text"):
        rel = files[paths.count("\n", 0, f.order)][0]
        out.append(_Found(rel, f.secret, f.form, rel, f.key, -1))
    return out


def _scan_files(plan: _Plan, site_dir: Path, rels: Iterable[str]) -> list[_Found]:
    cache: dict[tuple[object, ...], list[_Found]] = {}
    out: list[_Found] = []
    for rel in rels:
        out += _scan_file(plan, rel, (site_dir / rel).read_bytes(), cache)
    return out


def _workers() -> int:
    """Processes to scan a large site with: one per core, at most four (past that, reading the
    files and starting the helpers take as long as they save)."""
    return min(os.cpu_count() or 1, 4)


def _deal(files: list[tuple[str, Path, int]], workers: int) -> list[list[str]]:
    """The files in ``workers`` shares of like cost (the first is this process's)."""
    shares: list[list[str]] = [[] for _ in range(workers)]
    if workers == 1:
        shares[0] = [rel for rel, _, _ in files]
        return shares
    loads = [0.0] + [_HELPER_COST] * (workers - 1)
    costs = sorted(((size * _cost(rel) + _FILE_COST, rel) for rel, _, size in files), reverse=True)
    # Pages and chart downloads hold the same specs (read once, see _json_document): kept in one
    # process when that does not leave it with much more than its share.
    group = [(c, rel) for c, rel in costs if _in_spec_group(rel)]
    if sum(c for c, _ in group) <= 1.15 * sum(c for c, _ in costs) / workers:
        shares[0] = [rel for _, rel in group]
        loads[0] = sum(c for c, _ in group)
        costs = [(c, rel) for c, rel in costs if not _in_spec_group(rel)]
    for cost, rel in costs:
        k = loads.index(min(loads))
        shares[k].append(rel)
        loads[k] += cost
    return shares


def _helper(plan: _Plan, site_dir: Path, share: list[str]) -> list[_Found]:
    """Scan ``share`` in a helper process: a plain child interpreter fed through a pipe, as the
    downloads' helper is (see downloads.start_downloads): spawn would re-run the caller's main
    script, fork is unsafe under the live-preview server's threads."""
    import pickle
    import subprocess
    import sys

    payload = pickle.dumps((plan, str(site_dir), share), protocol=pickle.HIGHEST_PROTOCOL)
    # -I: the installed package, never a 'casebook' folder that happens to be in the working directory
    proc = subprocess.Popen([sys.executable, "-I", "-c", "from casebook.leaks import _child; _child()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(payload)
    if proc.returncode != 0:
        raise RuntimeError("泄密检查的辅助进程失败，网站没有发布：" + err.decode("utf-8", "replace")[-2000:])
    found: list[_Found] = pickle.loads(out)
    return found


# Seconds per byte of each kind, relative (measured on a 1,000-cluster site): a workbook or a Word
# file costs more than its bytes, being compressed; a chart download is mostly its page's spec.
_COSTS = {".docx": 4.2, ".xlsx": 20.0, ".html": 1.0, ".json": 1.0, ".js": 1.3, ".csv": 1.0}
_FILE_COST = 4000.0  # what opening and reading any file costs, as bytes of a page
_HELPER_COST = 20e6  # starting a helper and compiling its plan (about a second), as bytes of pages


def _cost(rel: str) -> float:
    if rel.startswith("downloads/charts/"):
        return 0.1
    return _COSTS.get(os.path.splitext(rel)[1].lower(), 1.0)


def _in_spec_group(rel: str) -> bool:
    return rel.endswith(".html") or rel.startswith("downloads/charts/")


def _child() -> None:
    """A helper process of :func:`scan` (see _helper): its share of the files in, its hits out."""
    import pickle
    import sys

    plan, site_dir, rels = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(_scan_files(plan, Path(site_dir), rels), protocol=pickle.HIGHEST_PROTOCOL))


# --------------------------------------------------------------------------- the message

_YAML_FIELD = re.compile(r"^\s*(?:-\s+)?(value|year)\s*:\s*['\"]?([0-9][0-9,.]*)['\"]?\s*(?:#.*)?$", re.M)


def origin(leak: Leak, case_files: dict[str, str]) -> str | None:
    """Where the leaked form is written in a public case file ("cases/clusters/x.yaml:17"): the
    likely source of a planted leak. The secret's own case file is looked in first; then any
    file, the same form first, then any form of the secret, then a ``value:``/``year:`` field
    holding its number. None when no public case file holds it."""
    plan = _Plan([leak.secret])
    wanted = {h.key for h in _scan_text(plan, leak.form, "text")}
    order = sorted(case_files, key=lambda p: (p != leak.secret.case_file, p))
    fallback: str | None = None
    for path in order:
        text = _decoded(case_files[path], markup=False)
        for hit in _scan_text(plan, text, "text"):
            where = f"{path}:{text.count(chr(10), 0, hit.start) + 1}"
            if hit.key in wanted:
                return where
            fallback = fallback or where
    if fallback:
        return fallback
    numbers = _origin_numbers(leak.secret)
    for path in order:
        for m in _YAML_FIELD.finditer(case_files[path]):
            try:
                n = strip_zeros(Decimal(m.group(2).replace(",", "")))
            except InvalidOperation:
                continue
            if (m.group(1) == "value") == (leak.secret.kind == "figure") and n in numbers:
                return f"{path}:{case_files[path].count(chr(10), 0, m.start(2)) + 1}"
    return None


def _origin_numbers(secret: Secret) -> set[Decimal]:
    if secret.kind == "year":
        return {Decimal(secret.text)} if secret.text.isdigit() else set()
    if secret.kind == "figure":
        return set(_figure_values(secret)[2])
    return set()


HIDDEN = "〔内部数据，已隐去〕"


def describe(leaks: list[Leak], case_files: dict[str, str], redact: bool = True) -> str:
    """The refusal in Chinese: one block per leak (the first :data:`LISTED_LEAKS`), each naming
    the published file, the public case file and line it most likely came from, the overlay entry
    it matches, and how to fix it. Every piece of case or overlay text is shown through
    :func:`~casebook.errors.shown`: one line, no control characters.

    ``redact`` (the default): the secret itself is never printed, in the form found or in the
    context around it — this message lands in CI logs, which a public repository publishes; the
    file and line say where to look."""
    if not leaks:
        return "公开版中没有发现内部数据。"
    lines = [f"公开版网站中发现 {len(leaks)} 处只应出现在内部版中的数据，网站没有发布："]
    for n, found in enumerate(leaks[:LISTED_LEAKS], start=1):
        where = origin(found, case_files)
        leak = found
        if redact:
            leak = Leak(found.file, found.secret, HIDDEN, found.excerpt.replace(found.form, HIDDEN))
            if found.secret.text:
                leak = Leak(leak.file, leak.secret, HIDDEN, leak.excerpt.replace(found.secret.text, HIDDEN))
        secret = leak.secret
        what = {"figure": "真实数值", "name": "真实名称", "year": "真实年份"}[secret.kind]
        lines.append(f"{n}. 公开文件 {shown(leak.file)} 中出现{what}{'' if redact else '“' + shown(leak.form) + '”'}"
                     f"（{shown(secret.label)}）")
        lines.append(f"   上下文：{shown(leak.excerpt)}")
        lines.append(f"   内部数据：{shown(secret.entry)}（对应公开案例文件 {shown(secret.case_file)}）")
        if where is not None:
            path, _, line = where.rpartition(":")
            lines.append(f"   可能的来源：{shown(where)}")
            lines.append(f"   提示：把 {shown(path)} 第 {line} 行中的{what}改回脱敏写法（带 * 的写法），"
                         f"公开的案例文件只写 '*'，{what}只写在内部数据目录中；改好后重新生成")
        else:
            lines.append("   可能的来源：公开的案例文件中没有找到这个写法")
            lines.append(f"   提示：在公开的案例文件、content/ 与模板中查找这项{what}并改回脱敏写法（带 * 的写法），"
                         f"公开版只写 '*'；若原文已经公开了它，请核对内部数据 {shown(secret.entry)} 是否应当保密")
    if len(leaks) > LISTED_LEAKS:
        lines.append(f"另有 {len(leaks) - LISTED_LEAKS} 处未列出（同样处理后重新生成即可看到）。")
    return "\n".join(lines)
