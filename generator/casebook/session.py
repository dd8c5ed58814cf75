"""One build of a casebook, whichever host renders its pages.

A host (MkDocs, ProperDocs, a docs-folder engine) is a thin adapter that calls into a
:class:`BuildSession` at fixed points; everything else is here: the one cache handle, validation
and rendering (:func:`casebook.site.prepare_site`), page keys and the manifest of the last published
site (incremental builds), the registered outputs that are not host pages (search index,
downloads — later editions and write-ups), the "finish one page" step (sanitise, search documents,
charts), staging, the lock and atomic publish, and the live preview's last good site.

The order a host follows::

    session = BuildSession(Settings(...))          # the CLI makes it, or the host from its config
    site = session.prepare()                       # validate + render; CasebookInvalid when invalid
    plan = session.plan(hand_written, host_key)    # which generated files are unchanged; full or not
    for each page: session.wants_stash(uri) … session.finish_page(uri, url, title, html)
                   session.finish_output(html)     # the page as written, or any templated file
    session.finish(site_dir, page_uris)            # registered outputs into the built site
    session.abort()                                # on a failed build

and :meth:`BuildSession.run` wraps a host's build of a staging directory in the lock, the
incremental base and the atomic publish.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import incremental, render, validate
from .collector import fewer_collections
from .colophon import EXTRA_KEY, STYLESHEET, Colophon, colophon
from .downloads import download_paths, move_downloads
from .errors import emit, shown
from .escaping import html_title, plain_meta
from .pages import EDITOR_SECTION, NOT_SEARCHED
from .publish import BuildFailed, checked_site_dir, downloads_dir
from .render import Site, SiteAsset, SitePage, chart_ids, inline_charts, package_assets
from .sanitize import kept_id, sanitize
from .search import SearchDoc, SearchIndex, docs_from_json, docs_to_json, page_documents, use_casebook_worker
from .site import prepare_site
from .store import Store, code_digest, committed_files, content_hash, open_store

log = logging.getLogger("casebook")


@dataclass(frozen=True)
class Settings:
    """Where a build reads and writes; a host reads these from its own configuration."""

    project: Path
    config_file: Path
    cases: Path
    cache_dir: Path
    docs_dir: Path
    site_dir: Path
    overrides: Path | None = None
    # The overlay of real figures (casebook.overlay): built from in the internal edition; in the
    # public one, what it discloses is applied and, with leak_check, the built site is searched
    # for everything else it holds before anything is published.
    overlay: Path | None = None
    edition: str = "public"
    leak_check: bool = False

    def protected(self) -> dict[str, Path]:
        """What the editor owns, which no site directory may be, hold or lie inside."""
        out = {"案例目录": self.cases, "页面目录（docs_dir）": self.docs_dir, "git 仓库": self.project / ".git",
               "配置文件": self.config_file}
        if self.overrides is not None:
            out["主题覆盖目录"] = self.overrides
        out["构建缓存"] = self.cache_dir
        if self.overlay is not None:
            out["内部数据目录"] = self.overlay
        return out


@dataclass(frozen=True)
class HostFile:
    """A file the host writes as part of its site: a generated page (Markdown) or an asset."""

    path: str
    content: str | bytes
    unchanged: bool = False  # an incremental build may leave the published file as it is


@dataclass(frozen=True)
class Plan:
    files: list[HostFile]
    full: bool  # True: the site directory starts empty (nothing of the published site is reused)
    clean: bool  # True: the host must empty the site directory it was given before writing


@dataclass
class Output:
    """A registered output written beside the host's pages: its paths (known before the build,
    part of the incremental key) and how to write it into a built site."""

    name: str
    paths: Callable[[BuildSession], list[str]]
    write: Callable[[BuildSession, Path], None]


@dataclass
class _Preview:
    """The live preview (`casebook serve`): while a case file is broken, the last good site stays
    served with the Chinese errors laid over every page, and the next good save replaces it.
    Kept for the life of the serving process, across the sessions of its rebuilds."""

    active: bool = False
    last_good: dict[Path, Site] = field(default_factory=dict)
    docs_dirs: set[Path] = field(default_factory=set)
    cases: Path | None = None  # `casebook serve --cases DIR`: for the session of every rebuild
    overlay: Path | None = None  # `casebook serve --overlay DIR`: every rebuild is the internal edition
    _empty: Path | None = None

    def empty_docs(self) -> Path:
        import tempfile

        if self._empty is None or not self._empty.is_dir():
            self._empty = Path(tempfile.mkdtemp(prefix="casebook-preview-docs-"))
        return self._empty

    def fallback(self, cases: Path) -> Site:
        good = self.last_good.get(cases)
        if good is not None:
            return replace(good, downloads=None)  # its downloads were moved into the last site already
        page = SitePage("index.md", "", "案例文件有错误", "# 案例文件有错误\n\n按页面上方的提示修正后，预览会自动刷新。\n")
        return Site(pages=[page], assets=package_assets(), nav=[{"首页": "index.md"}])


PREVIEW = _Preview()


def forget_kept() -> None:
    """Start like a new process: nothing kept from earlier builds in this one (models, their checks,
    template environments, drawn charts) — all read from the cache, or made, again."""
    from . import writeup_docx

    validate.forget_kept()
    render.forget_kept()
    writeup_docx.forget_kept()


class BuildSession:
    """Everything one build needs beyond the host's own page rendering."""

    def __init__(self, settings: Settings, *, strict: bool = False, incremental_build: bool = True) -> None:
        self.settings = settings
        self.strict = strict
        self.incremental_build = incremental_build and not strict
        self.store: Store = Store(None)
        self.site: Site | None = None
        self.outputs: list[Output] = [Output("downloads", _download_paths, _write_downloads),
                                      Output("search", lambda s: [], _write_search),
                                      Output("writeups", _writeup_paths, _write_writeups)]
        # The published site an incremental build continues, and its manifest (run() sets them).
        self.previous: dict[str, Any] | None = None
        self.previous_site: Path | None = None
        self.manifest: dict[str, Any] | None = None
        self.docs_dir = settings.docs_dir  # the preview swaps it for an empty folder while broken
        self.errors: list[str] = []  # shown over the preview's pages
        self._last_good_shown = False
        self._generated: set[str] = set()
        self._current: str | None = None
        self._docs: dict[str, tuple[str, str, list[SearchDoc]]] = {}
        self._downloads_dir: Path | None = None
        self._writeups: Any = None  # the write-ups' second process (a Future), when one was started
        self._writeups_dir: Path | None = None
        self.colophon: Colophon | None = None  # the footer's data (prepare)
        self.leak_report: tuple[int, float] | None = None  # secrets searched for, seconds (leak_check)
        self._dropped: set[str] = set()  # files of the published site an incremental build no longer has
        self.skipped = False  # run() found nothing changed and left the published site as it was

    def use_overlay(self, overlay: Path, *, internal: bool) -> None:
        """Build with an overlay of real figures: the internal edition (into site-internal/ with
        a cache of its own, unless a site directory is given), or the public one checked for leaks."""
        from .overlay import INTERNAL_CACHE_DIR, INTERNAL_SITE_DIR

        s = self.settings
        if internal:
            self.settings = replace(s, overlay=overlay.resolve(), edition="internal", leak_check=False,
                                    site_dir=s.project / INTERNAL_SITE_DIR, cache_dir=s.project / INTERNAL_CACHE_DIR)
        else:
            self.settings = replace(s, overlay=overlay.resolve(), edition="public", leak_check=True)

    def internal_target_refused(self, target: Path, public_site: Path) -> str | None:
        """Why the internal edition may not be written to ``target``: the public site's folder."""
        if self.settings.edition != "internal":
            return None
        try:
            t, p = target.resolve(), public_site.resolve()
        except (OSError, RuntimeError):  # a symlink loop: the site directory's own check says so
            return None
        if t == p or t.is_relative_to(p) or p.is_relative_to(t):
            return (f"内部版不能写入“{shown(target)}”：它就是、包含或在公开版网站的目录之内，真实数值会随公开版发布。"
                    "提示：省略 --site-dir（默认写入 site-internal/），或另选一个目录")
        return None

    # ------------------------------------------------------------------ before the host renders

    def prepare(self, site_dir: Path | None = None, only: Callable[[str], bool] | None = None) -> Site:
        """Check the site directory and the cache, validate and render (raises a library error, in
        Chinese, when anything is invalid — except in the preview, which falls back to the last good
        site and shows the errors). ``site_dir``: where the host writes (a staging directory).
        ``only``: render just these pages (a page's path → wanted), no outputs (see first_pages)."""
        s = self.settings
        checked_site_dir(site_dir or s.site_dir, s.protected(), s.project)
        s.cache_dir.mkdir(parents=True, exist_ok=True)
        if planted := committed_files(s.cache_dir):
            raise BuildFailed(f"构建缓存“{shown(s.cache_dir)}”中有提交进版本库的文件（如 {shown(planted[0])}），不予使用："
                              "缓存中的页面和下载文件会原样发布。提示：运行 git rm -r --cached .cache 并提交，再重新构建")
        self.store = open_store(s.cache_dir)
        # The downloads are written by a second process while pages are rendered and built.
        self._downloads_dir = downloads_dir(site_dir or s.site_dir)
        try:
            if only is None:
                self._start_writeups(site_dir or s.site_dir)
            self.site = prepare_site(s.cases, s.overrides, s.cache_dir, None if only else self._downloads_dir,
                                     s.docs_dir, store=self.store, overlay=s.overlay, edition=s.edition, only=only,
                                     keep=PREVIEW.active)  # a command builds once: nothing kept for later
        except Exception as exc:  # the library's own errors, in Chinese, with file:line:col
            self.abort()
            if not PREVIEW.active:
                raise
            self._last_good_shown = s.cases in PREVIEW.last_good
            self.site = PREVIEW.fallback(s.cases)
            # The hand-written pages may be what is broken (a name the host cannot read): while the
            # errors show, the host reads none of them; the real folder stays watched.
            PREVIEW.docs_dirs.add(s.docs_dir)
            self.docs_dir = PREVIEW.empty_docs()
            self.errors = str(exc).splitlines() or [type(exc).__name__]
            for line in self.errors:
                log.error("%s", line)
        else:
            if PREVIEW.active and only is None:  # a site of a few pages is no fallback
                PREVIEW.last_good[s.cases] = self.site
        # The footer of every page (theme_extra) and of every printed page (a stylesheet asset).
        self.colophon = colophon(self.site.book, s.cases, self.site.edition)
        assets = [a for a in self.site.assets if a.path != STYLESHEET]
        self.site = replace(self.site, assets=[*assets, SiteAsset(STYLESHEET, self.colophon.stylesheet().encode())])
        stats = self.site.chart_stats
        log.info("casebook: %d pages generated in %.2f s; charts %d rendered, %d from cache (%.2f s rendering)",
                 len(self.site.pages), self.site.generation_seconds, stats.rendered, stats.cached, stats.seconds)
        return self.site

    def plan(self, hand_written: Iterable[tuple[str, Path]], host_key: Any) -> Plan:
        """The files the host writes, each with its page key (a hash of what it is made from), and
        whether this build continues the published site. ``hand_written``: the host's own pages
        (uri, file), judged by content like ours; ``host_key``: everything of the host's that
        every page shows (its settings, navigation, file list, versions)."""
        site = self._site()
        self._generated = {page.path for page in site.pages}
        self._docs = {}
        hashes: dict[str, str] = {}
        made: list[tuple[str, str | bytes]] = []
        for page in site.pages:
            hashes[page.path] = _page_hash(site, page)
            made.append((page.path, page.content))
        for asset in site.assets:
            hashes[asset.path] = content_hash(asset.content)
            made.append((asset.path, asset.content))
        for uri, src in hand_written:
            if uri not in hashes:
                hashes[uri] = content_hash(src.read_bytes())
        outputs = [p for out in self.outputs for p in out.paths(self)]
        key = incremental.global_key(self.settings.config_file, self.settings.overrides, code_digest(),
                                     [host_key, outputs])
        self.manifest = {"global": key, "files": hashes}
        previous, clean = self.previous, False
        if previous is not None and previous.get("global") != key:
            # Something every page depends on changed: start again from an empty directory.
            self.previous, previous, clean = None, None, True
        # Hand-written pages are always rebuilt (they are few): their front matter (icon, subtitle,
        # status) shows in every page's navigation, and only a page that is read has it.
        files = [HostFile(path, content, previous is not None and previous["files"].get(path) == hashes[path])
                 for path, content in made]
        return Plan(files, full=previous is None, clean=clean)

    def first_pages(self) -> list[HostFile]:
        """The pages of a site prepared with ``only`` (the live preview's first pass after a save),
        each judged unchanged or not against the served site's manifest (``previous``). What the
        rest of the site needs (its other pages, assets, outputs, the manifest) is a full
        session's: this one only has its pages converted and written."""
        site = self._site()
        self._generated = {page.path for page in site.pages}
        self._docs = {}
        files = (self.previous or {}).get("files", {})
        return [HostFile(page.path, page.content, files.get(page.path) == _page_hash(site, page))
                for page in site.pages]

    def carried(self) -> dict[str, Any] | None:
        """The served site's manifest as it stands after this session's pages were written (see
        first_pages): their hashes and search documents in it, so a session that follows does not
        convert them again and indexes them as they now are."""
        if self.previous is None:
            return None
        site = self._site()
        out = {**self.previous, "files": dict(self.previous["files"]), "search": dict(self.previous.get("search", {}))}
        for page in site.pages:
            if page.path in self._docs:
                out["files"][page.path] = _page_hash(site, page)
                out["search"][page.path] = docs_to_json(self._docs[page.path])
        return out

    # ------------------------------------------------------------------ page by page

    def begin_page(self, uri: str) -> None:
        """The host is about to convert this page's Markdown (see :meth:`wants_stash`)."""
        self._current = uri

    def wants_stash(self) -> bool:
        """Whether the page being converted is generated (its HTML blocks are kept from Markdown)."""
        return self._current in self._generated

    def finish_page(self, uri: str, url: str, title: str, html: str) -> str:
        """A page's converted content, finished: sanitised, and its search documents taken."""
        html = sanitize(html)
        self._docs[uri] = page_documents(url, title, html)
        self._current = None
        return html

    def finish_output(self, html: str) -> str:
        """A page as the host writes it (theme applied): charts in, search pointed at ours."""
        return use_casebook_worker(inline_charts(html, self._site().chart_svgs))

    @staticmethod
    def finish_template(html: str) -> str:
        """A file the host makes from a template alone (404.html): it has the search box too."""
        return use_casebook_worker(html)

    def theme_extra(self) -> dict[str, Any]:
        """What the host puts into its settings' ``extra`` for the theme's templates (the footer's
        values, plain strings already escaped where they are HTML)."""
        if self.colophon is None:
            raise RuntimeError("BuildSession.prepare() first")
        return {EXTRA_KEY: self.colophon.theme_values()}

    @staticmethod
    def plain_title(title: str | None) -> str:
        return html_title(title or "")

    @staticmethod
    def plain_meta(meta: dict) -> dict:
        return plain_meta(meta)

    def plain_toc(self, entries: list) -> list:
        """A table of contents as plain text: heading titles plain, ids (printed raw in links)
        escaped, and entries for headings whose id the sanitiser removes left out (their
        sub-entries moving up), so no link points at nothing. Entries are the host's objects with
        ``title``, ``id`` and ``children``."""
        from markupsafe import escape

        out = []
        for entry in entries:
            children = self.plain_toc(entry.children)
            if not kept_id(entry.id):
                out += children
                continue
            entry.title = html_title(entry.title)
            entry.id = str(escape(entry.id))
            entry.children = children
            out.append(entry)
        return out

    # ------------------------------------------------------------------ after the host renders

    def finish(self, site_dir: Path, page_uris: Iterable[str]) -> None:
        """Write the registered outputs into the built site; ``page_uris``: every page of the site
        in the host's order (the search index follows it)."""
        self._page_uris = list(page_uris)
        for output in self.outputs:
            started = time.perf_counter()
            output.write(self, site_dir)
            log.info("casebook: %s in %.2f s", output.name, time.perf_counter() - started)
        if self.previous is not None and self.previous_site is not None:
            # Everything this build did not write is the published site's, unchanged: linked in,
            # now that nothing more will be written in place (later writes replace, never modify).
            tree = self.previous["tree"]
            incremental.link_unchanged(self.previous_site, site_dir, [rel for rel in tree if rel not in self._dropped])
        if self.errors:
            _show_errors(site_dir, self.errors, self._last_good_shown)

    def keep_warm(self, site_dir: Path) -> None:
        """After a preview's first build (into ``site_dir``): its first pass after a save, run once
        with no page wanted, so the first save finds the casebook's models, and what is made from
        each of them, kept in the process, as every later save does (at 10,000 clusters the first
        save took 10 s, the next ones 1.5 s)."""
        if self.errors or self.store.path is None:
            return
        level = log.level
        log.setLevel(logging.WARNING)  # not a build the editor asked for: no "pages generated" line
        try:
            BuildSession(self.settings).prepare(site_dir, only=lambda _path: False)
        finally:
            log.setLevel(level)

    def abort(self) -> None:
        """A failed build: no downloads or write-ups left behind (waited for first, or the second
        process would recreate the folder being removed)."""
        for future in (self.site.downloads if self.site is not None else None, self._writeups):
            if future is not None:
                with contextlib.suppress(Exception):
                    future.result(timeout=300)
        for folder in (self._downloads_dir, self._writeups_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def _start_writeups(self, site_dir: Path) -> None:
        """The write-ups made by a second process while this one validates and renders the pages
        (see _write_writeups). Not in the live preview, whose first page must not share the cores, nor
        with an overlay (the child reads the public casebook only)."""
        from .writeup_docx import REFERENCE, start_site_documents

        s = self.settings
        if PREVIEW.active or s.overlay is not None or self.store.path is None:
            return
        reference = s.overrides / REFERENCE if s.overrides is not None else None
        self._writeups_dir = downloads_dir(site_dir)  # beside the staging directory, like the downloads'
        self._writeups = start_site_documents(s.cases, reference, s.cache_dir, self._writeups_dir,
                                              self._published_writeups())

    def _published_writeups(self) -> dict[str, str] | None:
        """The write-ups' keys of the published site this build continues, by path."""
        if self.previous is None or self.previous_site is None:
            return None
        return dict(self.previous.get("writeups") or {})

    def watched(self) -> list[Path]:
        """What the live preview watches beyond the host's own files."""
        overlay = [self.settings.overlay] if self.settings.overlay is not None else []
        return [self.settings.cases, *overlay, *sorted(PREVIEW.docs_dirs)]

    # ------------------------------------------------------------------ the whole build

    def run(self, render: Callable[[Path, bool], None], site_dir: Path | None = None, host_inputs: Any = None) -> Path:
        """Build the site atomically: ``render(staging, incremental)`` has the host build into a
        staging directory (calling back into this session), which is then swapped in whole.

        A site directory that would put the editor's files at risk raises UnsafeSiteDir before
        anything is written. On any failure the staging directory is removed, the previous site is
        left exactly as it was, and BuildFailed carries the reason in Chinese. Builds of one site
        directory run one at a time. When the published site was built by this casebook from the
        same configuration, only changed pages are rebuilt (not in strict mode). ``host_inputs``:
        what of the host's a build reads beyond the project's files (its settings as it reads them,
        the hooks they name); given, a build whose inputs are all as the published site's were, onto
        that site untouched, writes nothing (``skipped``) — never with strict or a leak check."""
        from . import publish as pub

        s = self.settings
        protected = s.protected()
        target = pub.checked_site_dir(site_dir or s.site_dir, protected, s.project)
        protected["项目目录"] = s.project
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with fewer_collections(), pub.site_lock(target, list(protected.values())) as lock:
                pub._step("locked")
                inputs = None
                # (A cache git tracks is refused by prepare(): never a no-op past that refusal.)
                if (host_inputs is not None and self.incremental_build and not s.leak_check
                        and not committed_files(s.cache_dir)):
                    inputs = self._inputs_key(host_inputs, target)
                    if inputs is not None and target.is_dir() and incremental.unchanged(s.cache_dir, target, inputs):
                        log.info("casebook: nothing changed since the published site was built; left as it is")
                        self.skipped = True
                        return target
                if self.incremental_build and target.is_dir():
                    self.previous = incremental.load_previous(s.cache_dir, target)
                    self.previous_site = target
                staging = pub.staging_dir(target, lock)
                try:
                    # An incremental build starts from an empty staging directory too: the host writes
                    # what changed, and the rest is linked in from the published site (finish).
                    render(staging, self.previous is not None)
                except BaseException:
                    pub.discard(staging)
                    raise
                pub._step("built")
                try:
                    self._check_leaks(staging)
                except BaseException:
                    pub.discard(staging)
                    raise
                pub.publish(staging, target, lock)
                # The new site is published: what follows may fail without making the build a failure.
                if self.manifest is not None:
                    try:
                        # An input changed while the build ran (and may change back): then the
                        # site is not known to be what those inputs make, and the next build builds.
                        if inputs is not None and self._inputs_key(host_inputs, target) != inputs:
                            inputs = None
                        incremental.save(s.cache_dir, target, self.manifest, inputs)
                    except OSError as exc:
                        emit(f"注意：网站已发布，但未能记录构建清单（{pub.describe_os_error(exc)}）；下次构建将完整重建。",
                             err=True)
                pub._step("saved")
        except OSError as exc:  # the site directory itself: read-only, full, not permitted
            raise BuildFailed(pub.describe_os_error(exc, target)) from exc
        return target

    def _inputs_key(self, host_inputs: Any, target: Path) -> str | None:
        from .colophon import last_commit_date

        s = self.settings
        # The footer's date is the last commit's; a year bound of the data checks is this year's.
        extra = [code_digest(), host_inputs, repr(s), self.strict, str(last_commit_date(s.cases)),
                 time.localtime().tm_year]
        return incremental.inputs_key([s.cases, s.docs_dir, s.overrides, s.overlay, s.config_file], s.project,
                                      [target, s.cache_dir], extra)

    def _check_leaks(self, built: Path) -> None:
        """With leak_check: search every file of the built public site for every value and name
        that only the overlay holds; one found refuses the build (nothing is published)."""
        if not self.settings.leak_check:
            return
        site = self._site()
        if site.overlay is None or site.edition.internal:
            raise BuildFailed("泄密检查需要内部数据目录，且只检查公开版。提示：casebook build --leak-check 内部数据目录")
        from .leaks import describe, scan
        from .overlay import public_texts, secrets

        started = time.perf_counter()
        found = secrets(site.public_book, site.overlay)
        # Public already: the source documents, and the hand-written pages beside the casebook.
        pages = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.settings.docs_dir.rglob("*.md"))]
        leaks = scan(built, found, [*public_texts(site.public_book), *pages])
        self.leak_report = (len(found), time.perf_counter() - started)
        log.info("casebook: leak check of %d secrets in %.2f s", len(found), self.leak_report[1])
        if leaks:
            raise BuildFailed(describe(leaks, _case_texts(site.public_book)))

    def _site(self) -> Site:
        if self.site is None:
            raise RuntimeError("BuildSession.prepare() first")
        return self.site


def _page_hash(site: Site, page: SitePage) -> str:
    """A generated page's key in the manifest: its Markdown and the charts put into it."""
    return content_hash(page.content, *(site.chart_svgs.get(i, "") for i in chart_ids(page.content)))


# --------------------------------------------------------------------------- registered outputs


def _download_paths(session: BuildSession) -> list[str]:
    return download_paths(session._site().download_tables)


def _write_downloads(session: BuildSession, site_dir: Path) -> None:
    # Downloads come from the second process; a file whose bytes are unchanged is left as it was.
    site = session._site()
    if site.downloads is not None and session._downloads_dir is not None:
        move_downloads(site.downloads.result(), session._downloads_dir, site_dir, session.store)


def _write_search(session: BuildSession, site_dir: Path) -> None:
    # Pages an incremental build skipped keep the search documents they had.
    earlier = (session.previous or {}).get("search", {})
    index, entries = SearchIndex(store=session.store), {}
    for uri in session._page_uris:
        if uri.startswith(EDITOR_SECTION) or uri in NOT_SEARCHED:  # the editors' pages answer no reader's search
            continue
        if uri in session._docs:
            entry = session._docs[uri]
        elif uri in earlier:
            entry = docs_from_json(earlier[uri])
        else:
            raise BuildFailed(f"内部错误：页面 {uri} 没有检索内容。提示：删除 .cache/casebook/builds 后重新构建")
        index.add_docs(*entry)
        entries[uri] = docs_to_json(entry)
    # The published site's search files that are still the same are linked in after the build
    # (finish), not written again; those no longer part of the index are not linked in.
    tree = (session.previous or {}).get("tree", {}) if session.previous_site is not None else {}
    published = {rel[7:] for rel in tree if rel.startswith("search/")}
    stats = index.write(site_dir, (session.previous or {}).get("search_files"), published)
    session._dropped |= {f"search/{name}" for name in published
                         if name.startswith(("shards/", "text/", "titles/")) and name not in stats["files"]}
    assert session.manifest is not None
    session.manifest.update(stamp=stats["stamp"], search=entries, search_files=stats["hashes"])
    log.info("casebook: search index of %d documents in %d shards (%.1f MB)", stats["docs"], stats["shards"],
             stats["bytes"] / 1e6)


def error_banner(errors: list[str], last_good: bool) -> str:
    """The preview's errors as one block of HTML laid over a page, every line escaped."""
    from markupsafe import escape

    items = "".join(f"<li>{escape(e)}</li>" for e in errors[:200])
    more = f"<p>……另有 {len(errors) - 200} 个问题，见终端输出。</p>" if len(errors) > 200 else ""
    banner = ('<div class="cb-preview-errors" role="alert" style="position:sticky;top:0;z-index:10;'
              'background:#fff4f4;color:#7a0000;border-bottom:3px solid #c00;padding:.8rem 1.2rem;'
              'font-size:.8rem;max-height:50vh;overflow:auto"><strong>案例文件有错误，网站未更新。'
              f'{"下面显示的是上一次正确的版本；" if last_good else ""}修正并保存后会自动刷新。</strong>'
              f'<ul style="margin:.4rem 0 0 1rem">{items}</ul>{more}</div>')
    return banner


def _show_errors(site_dir: Path, errors: list[str], last_good: bool) -> None:
    banner = error_banner(errors, last_good)
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        at = html.find(">", html.find("<body")) + 1 if "<body" in html else 0
        page.write_text(html[:at] + banner + html[at:], encoding="utf-8")


# The write-ups (downloads/经验材料.docx, one per cluster): made from the casebook the site was
# validated from; none while the preview shows a broken casebook's errors.
def _writeup_book(session: BuildSession) -> Any:
    return None if session.errors else session._site().book


def _writeup_paths(session: BuildSession) -> list[str]:
    from .writeup_docx import site_paths

    book = _writeup_book(session)
    return [] if book is None else site_paths(book, session._site().edition)


def _write_writeups(session: BuildSession, site_dir: Path) -> None:
    import os

    from .store import write_atomic
    from .writeup_docx import REFERENCE, site_documents, site_paths

    book = _writeup_book(session)
    child, folder = session._writeups, session._writeups_dir
    session._writeups = session._writeups_dir = None
    try:
        if book is None:
            return
        published = session._published_writeups()  # plan() may have started the site afresh since
        keys: dict[str, str] = {}
        done = None
        if child is not None:
            try:
                done = child.result()
            except Exception:  # any failure of the child: its message may quote case text, never shown
                log.warning("casebook: 经验材料子进程未能完成，改在本进程生成")
        if done is not None:
            docs, entries, digests = done
            # The child's documents are this build's only if it read the casebook the pages show,
            # and left out only what the site this build continues has, with the same key.
            ours = {display: f.digest for display, f in book.files.items()}
            if (digests == ours and all(ours.values()) and [d[0] for d in docs] == site_paths(book)
                    and all(wrote or (published or {}).get(path) == key for path, key, wrote in docs)):
                assert folder is not None
                for ns, key, value in entries:
                    session.store.put(ns, key, value)
                for path, key, wrote in docs:
                    if wrote:
                        (site_dir / path).parent.mkdir(parents=True, exist_ok=True)
                        os.replace(folder / path, site_dir / path)
                    keys[path] = key
            else:
                log.info("casebook: the write-ups' process read another casebook; made here instead")
                done = None
        if done is None:
            overrides = session.settings.overrides
            reference = overrides / REFERENCE if overrides is not None else None
            for path, key, data in site_documents(book, reference, session.store, session._site().edition, published):
                if data is not None:  # else the published file, linked in after the build (finish)
                    write_atomic(site_dir / path, data)
                keys[path] = key
        if session.manifest is not None:
            session.manifest["writeups"] = keys
        session.store.commit()
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _case_texts(book: Any) -> dict[str, str]:
    """The public case files' text by display path: where a leaked value was most likely typed."""
    out: dict[str, str] = {}
    for display, loaded in book.files.items():
        try:
            out[display] = loaded.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return out
