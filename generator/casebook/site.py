"""The site stage: from a casebook directory to everything a static-site generator needs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .book import Casebook
from .charts import ChartRenderer
from .content import check_content
from .derive import derive
from .downloads import download_tables, start_downloads
from .errors import CasebookInvalid, CaseError
from .overlay import Overlay
from .pages import EDITOR_SECTION
from .present import EDITIONS
from .publish import BuildFailed as BuildFailed  # re-exported: where callers have always found it
from .render import PageCache, Site, render_site
from .store import Store, open_store
from .validate import load_casebook


def prepare_site(cases: Path, overrides: Path | None = None, chart_cache: Path | None = None,
                 downloads_to: Path | None = None, docs_dir: Path | None = None, store: Store | None = None,
                 overlay: Path | None = None, edition: str = "public",
                 only: Callable[[str], bool] | None = None, keep: bool = True) -> Site:
    """Load, validate and render; raise CasebookInvalid (every error) if the casebook is invalid.

    ``docs_dir`` (the hand-written pages) and ``overrides`` are checked like case files (see content).
    ``chart_cache`` is the build cache directory (charts, pages, parsed files), kept across builds.
    With ``downloads_to``, the downloads are written there by a second process, started as soon as
    the data is valid so that it runs alongside page rendering; ``site.downloads`` gives the paths.
    ``store``: the build session's handle on the cache (by default, the one in ``chart_cache``).
    ``overlay`` (a folder of real figures and names, see casebook.overlay) is checked against the
    casebook; ``edition`` "internal" builds from it, "public" applies only what it discloses.
    ``only`` (a page's path → whether it is wanted): validate the whole casebook but render only
    those pages, and no downloads (the live preview's first pass after a save; see render_site).
    ``keep``: keep what was read from the cache, and what is made from each model, in the process
    for the next build (load_casebook, derive, render_site).
    """
    start = time.perf_counter()
    store = store or open_store(chart_cache)
    book, errors = load_casebook(cases, store, keep=keep)
    # The hand-written pages and theme overrides come by pull request too: checked alike, all at once.
    errors += check_content(docs_dir, overrides) if docs_dir is not None else []
    public, read = book, None
    if overlay is not None and not errors:
        book, read, more = edition_book(book, cases, overlay, edition)
        errors += more
    if errors:
        raise CasebookInvalid(errors)
    the_edition = EDITIONS[edition]
    derived = derive(book, keep=keep)
    tables, source_titles = download_tables(book, derived, the_edition) if only is None else ([], [])
    downloads = None
    if downloads_to is not None and only is None:
        downloads = start_downloads(tables, source_titles, chart_cache, downloads_to)
    site = render_site(book, overrides, ChartRenderer(chart_cache), PageCache(store), derived, the_edition, only,
                       keep=keep)
    site.download_tables, site.source_titles, site.downloads = tables, source_titles, downloads
    site.book = book  # for outputs made from the data, not the pages (the write-ups)
    site.public_book, site.overlay, site.edition = public, read, the_edition
    store.commit()
    site.generation_seconds = time.perf_counter() - start
    return site


def edition_book(book: Casebook, cases: Path, overlay: Path, edition: str) -> tuple[Casebook, Overlay | None,
                                                                                     list[CaseError]]:
    """The casebook of an edition: the overlay read and checked against the public casebook, then
    applied whole (internal) or only where it discloses (public). Refused inside the public
    repository, where its real figures would be one commit away from publication."""
    from .overlay import internal_book, load_overlay, placement_error, public_book

    if not overlay.is_dir():
        return book, None, [CaseError(str(overlay), 1, 1, "", "找不到内部数据目录。"
                                      "提示：用 casebook overlay init 目录 生成骨架，或检查路径")]
    refused = placement_error(overlay, cases)
    if refused:
        return book, None, [CaseError(str(overlay), 1, 1, "", refused)]
    read, errors = load_overlay(overlay, book)
    if errors:
        return book, read, errors
    return (internal_book(book, read) if edition == "internal" else public_book(book, read)), read, []


def content_nav(docs_dir: Path, generated: list[str] | None = None, titles: dict[str, str] | None = None) -> list[Any]:
    """Hand-written pages (content/) after the generated ones, in file-name order. A folder becomes a
    section titled by its index page's heading; generated pages inside that folder (such as the
    field reference under guide/) join its section. The editors' pages (pages.EDITOR_SECTION) are
    not the readers': left out, and reached from the about page."""
    titles = titles or {}
    paths = set(generated or [])
    if docs_dir.is_dir():
        paths |= {p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md")
                  if not any(part.startswith((".", "_")) for part in p.relative_to(docs_dir).parts)}
    paths = {p for p in paths if not p.startswith(EDITOR_SECTION)}
    paths.discard("index.md")
    top = sorted(p for p in paths if "/" not in p)
    folders: dict[str, list[str]] = {}
    for p in sorted(paths - set(top)):
        folder = p.split("/", 1)[0]
        if (docs_dir / folder / "index.md").is_file():  # only hand-written sections
            folders.setdefault(folder, []).append(p)
    # Titles are given, not left for MkDocs to read from each page: an incremental build does not
    # read unchanged pages, and the navigation must not depend on which pages were read.
    nav: list[Any] = [{_heading(docs_dir / p) or Path(p).stem: p} for p in top]
    for folder, pages in folders.items():
        index = f"{folder}/index.md"
        ordered = [index] + [p for p in pages if p != index]
        nav.append({_heading(docs_dir / index) or folder:
                    [{(_heading(docs_dir / p) or titles.get(p) or Path(p).stem): p} for p in ordered]})
    return nav


def _heading(path: Path) -> str | None:
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None
