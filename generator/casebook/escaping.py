"""Escaping for the places case text lands in that Jinja's HTML autoescape does not cover.

One function per context, used everywhere that context occurs:

- :func:`md_escape` — text inside generated Markdown (headings, where Markdown still runs);
- :func:`plain_title` / :func:`html_title` / :func:`plain_meta` — titles and front matter that
  MkDocs and Material print without escaping (``<title>``, header, navigation, table of contents,
  footer links, meta tags);
- :func:`spreadsheet_text` — a text cell of a published CSV file.

HTML in templates is Jinja's autoescape, SVG text is :func:`html.escape` in chartsvg, JSON is
:func:`json.dumps`, search results are escaped by the search worker, and every page body is
sanitised at the end (:mod:`casebook.sanitize`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from markupsafe import Markup, escape

# Characters Python-Markdown treats as escapable; a backslash before any other character would show.
_MD_SPECIALS = set("\\`*_{}[]()>#+-.!|")


_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def md_escape(text: Any) -> Markup:
    """Text safe inside a Markdown heading, paragraph or table cell: HTML-escaped, Markdown
    syntax neutralised, on one line."""
    # Every character Python-Markdown (or a browser) may take as a line break ends the line here,
    # so no text can start a block of its own (a setext "===" heading, an indented code block).
    html_text = _LINE_BREAKS.sub(" ", str(escape(str(text))))
    return Markup("".join("\\" + ch if ch in _MD_SPECIALS else ch for ch in html_text))


_TITLE_LOOKALIKES = str.maketrans({"<": "＜", ">": "＞", "&": "＆", '"': "＂", "'": "＇"})
# Bidirectional controls reorder the text after them: in a window title or a navigation entry an
# override would turn the site's own words around it backwards (U+061C, U+200E/F, U+202A–E, U+2066–9).
_BIDI_CONTROLS = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def plain_title(text: Any) -> str:
    """A page title for MkDocs: its theme prints titles without escaping (navigation, header,
    table of contents) and through ``striptags``, which also unescapes entities (``<title>``), and
    escaped once more in some attributes — no single escaping is right for all of them. So the
    HTML-significant characters are swapped for their full-width look-alikes, which read the same
    and mean nothing to HTML, in every one of those places. Real names never contain them; hostile
    ones lose their bite. Control and bidirectional-override characters are dropped and white space
    folded to single spaces: a title is one line of text."""
    text = "".join(ch if unicodedata.category(ch) != "Cc" else " " for ch in str(text)).translate(_BIDI_CONTROLS)
    return " ".join(text.split()).translate(_TITLE_LOOKALIKES)


_TAG = re.compile(r"<[^>]*>")


def html_title(fragment: Any) -> str:
    """:func:`plain_title` of a title MkDocs took from a rendered heading (HTML: tags, entities).
    A title that is already plain comes back unchanged, so this may run more than once."""
    return plain_title(html.unescape(_TAG.sub("", str(fragment))))


def plain_meta(value: Any) -> Any:
    """Front matter as the theme may print it: every string :func:`plain_title`, at any depth
    (Material prints ``title``, ``description``, ``subtitle`` and others raw, in text and in
    attributes). Other values (true, numbers) are left as they are."""
    if isinstance(value, str):
        return plain_title(value)
    if isinstance(value, dict):
        return {k: plain_meta(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_meta(v) for v in value]
    return value


# OWASP's CSV-injection list: a cell starting with one of these is a formula to Excel, LibreOffice
# and Google Sheets ("=HYPERLINK(…)", "+cmd|…", "@SUM(…)", "-2+3"), or becomes one once its
# leading tab or carriage return is trimmed.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """A text cell for CSV: one that a spreadsheet would read as a formula gets a leading
    apostrophe, which spreadsheets show as text and do not evaluate. Numbers are never passed here
    (they are number cells and stay numbers)."""
    return "'" + text if text.startswith(_FORMULA_START) else text
