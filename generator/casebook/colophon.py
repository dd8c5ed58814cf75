"""The casebook's colophon: who publishes it, when it was last updated and what it is drawn from.

It is shown in the footer of every page on screen and at the foot of every printed page. The
library owns it: :func:`colophon` computes it once per build from the validated casebook and its
folder; a host passes it on unchanged, as the plain and pre-escaped values a theme template prints
(:meth:`Colophon.theme_values`, put into the host's ``extra`` settings under :data:`EXTRA_KEY`) and
as a stylesheet whose CSS strings the printed page's margin boxes show (:meth:`Colophon.stylesheet`,
a site asset at :data:`STYLESHEET`).

The update date is the last commit that touched the cases folder, else the latest date of a source
document, else unknown — never the build time, so the same casebook at the same commit has the same
footer in a full and an incremental build, on any host. The publisher and the title come from
cases/sources.yaml, which arrives by pull request: they are escaped here for HTML and for CSS.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from markupsafe import Markup, escape

from .book import Casebook
from .figures import DESENSITISED
from .models import Source
from .present import PUBLIC, URLS, Edition, source_url
from .writeup import date_text

UNKNOWN_PUBLISHER = "发布单位不详"
UNKNOWN_DATE = "更新日期不详"
# The explanation a masked '*' in the publisher's name carries (its tooltip), as a figure's does.
PUBLISHER_MASK_NOTE = "原文已将此处脱敏为 *，不作推测"
EXTRA_KEY = "casebook_colophon"  # where a host's settings (``extra``) hold the theme values
STYLESHEET = "assets/casebook/colophon.css"  # a generated asset: one per casebook, not per page
# git must answer quickly; a slow or hung git (a network file system) leaves the date to the data.
_GIT_TIMEOUT = 20
# Variables that would point git at another repository than the one holding the cases folder.
_GIT_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CEILING_DIRECTORIES")

UpdatedFrom = Literal["git", "data"]


@dataclass(frozen=True)
class Colophon:
    """What the footer says, as data; every way of showing it is a method, so none can drift."""

    publisher: str | None  # the source document's publisher as written (may be or hold '*'); None: not given
    updated: _dt.date | None  # the casebook's last update; None: unknown
    updated_from: UpdatedFrom | None  # where ``updated`` was read
    source_id: str | None  # the casebook's source document (see main_source); None: none is known
    source_title: str | None
    other_sources: int = 0  # further documents on the sources page
    mark: str = ""  # the edition's mark (内部资料) on every page and printed page; "" for the public one
    notice: str = ""  # the edition's banner sentence

    # ---- plain text

    def publisher_text(self) -> str:
        return f"发布单位：{self.publisher}" if self.publisher else UNKNOWN_PUBLISHER

    def updated_text(self) -> str:
        return f"更新日期：{date_text(self.updated)}" if self.updated else UNKNOWN_DATE

    def source_text(self) -> str:
        if self.source_title is None:
            return "来源：见来源页"
        return f"来源：{self.source_title}{self._more()}"

    def print_text(self) -> str:
        """The line at the foot of every printed page."""
        return " · ".join((self.source_text(), self.publisher_text(), self.updated_text()))

    # ---- HTML (every piece of case text escaped; a '*' masked as a figure's is)

    def publisher_html(self) -> Markup:
        if not self.publisher:
            return Markup(escape(UNKNOWN_PUBLISHER))
        return Markup("发布单位：") + masked_html(self.publisher)

    def updated_html(self) -> Markup:
        if self.updated is None:
            return Markup(escape(UNKNOWN_DATE))
        return Markup('更新日期：<time datetime="{}">{}</time>').format(self.updated.isoformat(), date_text(self.updated))

    def source_href(self) -> str:
        """Site-relative: the source document's entry on the sources page, or the page."""
        return source_url(self.source_id) if self.source_id else URLS.sources

    def theme_values(self) -> dict[str, str]:
        """What a theme template prints, as plain strings (a host's settings hold only those): the
        ``*_html`` values are escaped HTML, printed as they are; ``source_href`` is site-relative,
        for the theme's ``url`` filter; ``source_title_html`` is the link's text and
        ``source_more_html`` what follows the link."""
        title = self.source_title if self.source_title is not None else "来源页"
        return {
            "publisher_html": str(self.publisher_html()),
            "updated_html": str(self.updated_html()),
            "source_title_html": str(escape(title)),
            "source_more_html": str(escape(self._more())),
            "source_href": self.source_href(),
            "print_text": self.print_text(),
            # The edition: a banner on every page, a robots noindex, the printed pages' header.
            "edition_mark_html": str(escape(self.mark)),
            "edition_notice_html": str(escape(self.notice)),
        }

    # ---- print

    def stylesheet(self) -> str:
        """The custom property the printed page's margin box shows. Margin boxes cannot read the
        page's text (Chromium has no ``string-set``), but they inherit custom properties from the
        root element, so the line reaches every printed page from here."""
        return ("/* Generated by casebook (colophon.py): the line at the foot of every printed page. */\n"
                f":root {{ --cb-colophon: {css_string(self.print_text())}; --cb-edition: {css_string(self.mark)}; }}\n")

    def _more(self) -> str:
        return f"等 {self.other_sources + 1} 份文档" if self.other_sources else ""


def colophon(book: Casebook | None, cases: Path, edition: Edition = PUBLIC) -> Colophon:
    """The colophon of the casebook in ``cases`` (``book``: its validated data; None while the live
    preview shows a broken casebook, when only the date can still be read)."""
    doc = main_source(book) if book is not None else None
    updated: _dt.date | None = last_commit_date(cases)
    updated_from: UpdatedFrom | None = "git" if updated is not None else None
    if updated is None and book is not None:
        updated = max((s.date for s in book.sources.values() if s.date is not None), default=None)
        updated_from = "data" if updated is not None else None
    return Colophon(
        publisher=doc.publisher if doc is not None and doc.publisher else None,
        updated=updated, updated_from=updated_from,
        source_id=doc.id if doc is not None else None,
        source_title=doc.title if doc is not None else None,
        other_sources=max(len(book.sources) - 1, 0) if book is not None and doc is not None else 0,
        mark=edition.mark, notice=edition.notice,
    )


def main_source(book: Casebook) -> Source | None:
    """The casebook's source document: the one the alliance, the clusters and the lessons cite most
    (ties: the first cited), else the first listed; None when no document is listed."""
    refs: Iterable[str | None] = [book.alliance.source if book.alliance else None]
    refs = [*refs, *(c.source for c in book.clusters.values()), *(x.source for x in book.lessons.values())]
    counts: dict[str, int] = {}
    for ref in refs:
        doc_id = (ref or "").partition("/")[0]
        if doc_id in book.sources:
            counts[doc_id] = counts.get(doc_id, 0) + 1
    if counts:
        best = max(counts.values())
        return book.sources[next(d for d, n in counts.items() if n == best)]
    return next(iter(book.sources.values()), None)


def last_commit_date(folder: Path) -> _dt.date | None:
    """The date of the last commit that touched ``folder`` (``git log -1 --format=%cs``); None when
    git is missing or fails, the folder is not in a repository, or no commit touched it."""
    git = shutil.which("git")
    if git is None or not folder.is_dir():
        return None
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    try:
        proc = subprocess.run([git, "-c", "log.showSignature=false", "log", "-1", "--format=%cs", "--", "."],
                              cwd=folder, capture_output=True, text=True, timeout=_GIT_TIMEOUT, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    try:
        return _dt.date.fromisoformat(proc.stdout.strip())
    except ValueError:
        return None


def masked_html(text: str) -> Markup:
    """Text as written, each '*' in the mask a desensitised figure wears (its explanation a tap away)."""
    star = Markup('<abbr class="cb-star" title="{}" tabindex="0">{}</abbr>').format(PUBLISHER_MASK_NOTE, DESENSITISED)
    return star.join(escape(part) for part in text.split(DESENSITISED))


def css_string(text: str) -> str:
    """``text`` as a CSS string literal: every character that could end the string, begin an escape,
    or end the element a stylesheet may sit in, and every control character, as a hex escape."""
    out = []
    for ch in text:
        if ch in "\"'\\<>&" or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
