"""Escaping for the places case text lands in that Jinja's HTML autoescape does not cover."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

# Characters Python-Markdown treats as escapable; a backslash before any other character would show.
_MD_SPECIALS = set("\\`*_{}[]()>#+-.!|")


def md_escape(text: Any) -> Markup:
    """Text safe inside a Markdown heading, paragraph or table cell: HTML-escaped, Markdown
    syntax neutralised, on one line."""
    html = str(escape(str(text)))
    return Markup("".join("\\" + ch if ch in _MD_SPECIALS else ch for ch in html).replace("\n", " "))


_TITLE_LOOKALIKES = str.maketrans({"<": "＜", ">": "＞", "&": "＆", '"': "＂", "'": "＇"})


def plain_title(text: str) -> str:
    """A page title for MkDocs: its theme prints titles without escaping (navigation, <title>
    after ``striptags``, which also unescapes entities), so HTML-significant characters are swapped
    for their full-width look-alikes. Real names never contain them; hostile ones lose their bite.
    """
    return " ".join(str(text).split()).translate(_TITLE_LOOKALIKES)
