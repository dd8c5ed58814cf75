"""MkDocs adapter: hands the library's pages, assets, search index and incremental-build decisions
to MkDocs. What to build, how to key it and how to index it live in the library modules it calls.

Registered as the ``casebook`` plugin (entry point in pyproject.toml). Library errors become
PluginError here and nowhere else, so `mkdocs build` fails with the same Chinese messages as
`casebook check`.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import ConfigurationError, PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from . import incremental
from .downloads import download_paths, move_downloads
from .errors import emit, shown
from .escaping import html_title, plain_meta
from .render import Site, chart_ids, inline_charts, restore_html_blocks, stash_html_blocks
from .sanitize import kept_id, sanitize
from .search import SearchDoc, SearchIndex, docs_from_json, docs_to_json, page_documents, use_casebook_worker
from .site import CACHE_ENV, CASES_ENV, content_nav, prepare_site
from .store import code_digest, content_hash, open_store

log = logging.getLogger("mkdocs.plugins.casebook")


class CasebookConfig(Config):
    cases = c.Type(str, default="cases")
    # Rendered chart SVGs, by spec hash; an unchanged chart is never rendered twice across builds.
    cache_dir = c.Type(str, default=".cache/casebook")


class _GeneratedFile(File):
    """A generated file that an incremental build may skip when its content is unchanged."""

    unchanged = False

    def is_modified(self) -> bool:
        return not self.unchanged and super().is_modified()


def _generated_file(config: MkDocsConfig, path: str, content: str | bytes) -> _GeneratedFile:
    made = _GeneratedFile.generated(config, path, content=content)
    # MkDocs annotates File.generated as returning File, though it builds cls(...): narrowed here.
    assert isinstance(made, _GeneratedFile)
    return made


class CasebookPlugin(BasePlugin[CasebookConfig]):
    site: Site | None = None
    _generated: set[str]
    _stash: dict[str, list[str]]
    # Unguessable per build, so no text in a case file can pose as a placeholder.
    _nonce = ""
    # Set by build() for an incremental build: the manifest of the site being replaced, and where it is.
    previous: dict | None = None
    previous_site: Path | None = None
    # After a build: the manifest describing it (build() saves it once the site is published).
    manifest: dict | None = None

    def _cases_dir(self, config) -> Path:
        base = Path(config.config_file_path or ".").parent
        return (base / (os.environ.get(CASES_ENV) or self.config.cases)).resolve()

    def _cache_dir(self, config) -> Path:
        base = Path(config.config_file_path or ".").parent
        return (base / (os.environ.get(CACHE_ENV) or self.config.cache_dir)).resolve()

    # First, so Material's search plugin can be relieved of indexing before it starts.
    @event_priority(100)
    def on_config(self, config):
        overrides = Path(config.theme.custom_dir) if config.theme.custom_dir else None
        from .publish import BuildFailed, UnsafeSiteDir, checked_site_dir, downloads_dir

        _guard_host_logging()

        # `mkdocs build -d DIR` empties DIR: never one that holds or lies inside the editor's files.
        try:
            checked_site_dir(Path(config.site_dir), protected_paths(config, self),
                             Path(config.config_file_path or "mkdocs.yml").resolve().parent)
        except (UnsafeSiteDir, BuildFailed) as exc:
            raise PluginError(str(exc)) from exc
        cache = self._cache_dir(config)
        cache.mkdir(parents=True, exist_ok=True)
        from .store import committed_files

        if planted := committed_files(cache):
            raise PluginError(f"构建缓存“{shown(cache)}”中有提交进版本库的文件（如 {shown(planted[0])}），不予使用："
                              "缓存中的页面和下载文件会原样发布。提示：运行 git rm -r --cached .cache 并提交，再重新构建")
        cases = self._cases_dir(config)
        # The downloads are written by a second process while pages are rendered and built.
        self._downloads_dir = downloads_dir(Path(config.site_dir))
        self._preview_errors: list[str] = []
        try:
            self.site = prepare_site(cases, overrides, cache, self._downloads_dir, Path(config.docs_dir))
        except Exception as exc:  # the library's own errors, in Chinese, with file:line:col
            self.on_build_error(exc)
            if not _PREVIEW.active:
                raise PluginError(str(exc)) from exc
            self._last_good_shown = cases in _PREVIEW.last_good
            self.site = _PREVIEW.fallback(cases, exc)
            # The hand-written pages may be what is broken (a name MkDocs cannot read): while the
            # errors show, MkDocs reads none of them; the real folder stays watched (on_serve).
            _PREVIEW.docs_dirs.add(Path(config.docs_dir))
            config.docs_dir = _PREVIEW.empty_docs()
            self._preview_errors = str(exc).splitlines() or [type(exc).__name__]
            for line in self._preview_errors:
                log.error("%s", line)
        else:
            if _PREVIEW.active:
                _PREVIEW.last_good[cases] = self.site
        _relieve_material_search(config)
        stats = self.site.chart_stats
        log.info("casebook: %d pages generated in %.2f s; charts %d rendered, %d from cache (%.2f s rendering)",
                 len(self.site.pages), self.site.generation_seconds, stats.rendered, stats.cached, stats.seconds)
        if config.nav is None:
            config.nav = self.site.nav + content_nav(Path(config.docs_dir), self.site.section_pages,
                                                       {p.path: p.title for p in self.site.pages})
        for css in self.site.stylesheets:
            if css not in config.extra_css:
                config.extra_css.append(css)
        polyfills = config.extra.setdefault("polyfills", [])
        for js in self.site.polyfills:
            if js not in polyfills:
                polyfills.append(js)
        for js in self.site.scripts:
            if js not in [str(s) for s in config.extra_javascript]:
                config.extra_javascript.append(js)
        return config

    def on_files(self, files: Files, config) -> Files:
        assert self.site is not None
        self._generated = {page.path for page in self.site.pages}
        self._stash, self._nonce = {}, secrets.token_hex(8)
        self._docs: dict[str, tuple[str, str, list[SearchDoc]]] = {}
        hashes: dict[str, str] = {}
        made: list[_GeneratedFile] = []
        for page in self.site.pages:
            svgs = [self.site.chart_svgs.get(i, "") for i in chart_ids(page.content)]
            hashes[page.path] = content_hash(page.content, *svgs)
            made.append(_generated_file(config, page.path, page.content))
        for asset in self.site.assets:
            hashes[asset.path] = content_hash(asset.content)
            made.append(_generated_file(config, asset.path, asset.content))
        for f in made:
            files.append(f)
        # Hand-written pages too are judged by their content, not by file times.
        written = [(doc.src_uri, src) for doc in files.documentation_pages()
                   if (src := doc.abs_src_path) and doc.src_uri not in hashes]
        for src_uri, src in written:
            hashes[src_uri] = content_hash(Path(src).read_bytes())
        self._files = files
        overrides = Path(config.theme.custom_dir) if config.theme.custom_dir else None
        key = incremental.global_key(
            Path(config.config_file_path or "mkdocs.yml"), overrides, code_digest(), [config.nav, incremental.config_values(config)],
            [f.src_uri for f in files] + download_paths(self.site.download_tables), [config.extra_css, [str(j) for j in config.extra_javascript], config.extra])
        self.manifest = {"global": key, "files": hashes}
        previous = self.previous
        if previous is not None and previous.get("global") == key:
            for f in made:
                f.unchanged = previous["files"].get(f.src_uri) == hashes[f.src_uri]
            # Hand-written pages are always rebuilt (they are few): their front matter (icon, subtitle,
            # status) shows in every page's navigation, and only a page that is read has it.
        elif previous is not None:
            # Something every page depends on changed: start again from an empty directory.
            from mkdocs.utils import clean_directory

            clean_directory(config.site_dir)
            self.previous = None
        return files

    def on_nav(self, nav, config, files):
        # Section and page titles of the navigation are printed raw on every page (and the 404).
        for item in _nav_items(nav.items):
            if item.title is not None:
                item.title = html_title(item.title)
        return nav

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        if page.file.src_uri not in self._generated:
            return markdown
        markdown, self._stash[page.file.src_uri] = stash_html_blocks(markdown, self._nonce)
        return markdown

    def on_page_content(self, html: str, page, config, files) -> str:
        blocks = self._stash.pop(page.file.src_uri, None)
        if blocks is not None:
            html = restore_html_blocks(html, blocks, self._nonce)
        html = sanitize(html)
        _plain_titles(page)
        self._docs[page.file.src_uri] = page_documents(page.url, page.title or "", html)
        return html

    def on_post_page(self, output: str, page, config) -> str:
        assert self.site is not None
        return use_casebook_worker(inline_charts(output, self.site.chart_svgs))

    def on_post_template(self, output_content: str, template_name: str, config) -> str:
        return use_casebook_worker(output_content)  # 404.html has the search box too

    def on_post_build(self, config) -> None:
        import time

        t0 = time.perf_counter()
        # Downloads come from the second process; a file whose bytes are unchanged is left as it was.
        assert self.site is not None
        if self.site.downloads is not None:
            move_downloads(self.site.downloads.result(), self._downloads_dir, Path(config.site_dir))
        if self.previous is not None and self.previous_site is not None:
            # Everything this build did not write is the published site's, unchanged: linked in,
            # now that nothing more will be written in place (later writes replace, never modify).
            incremental.link_unchanged(self.previous_site, Path(config.site_dir), self.previous["tree"])
        t1 = time.perf_counter()
        # Pages an incremental build skipped keep the search documents they had.
        earlier = (self.previous or {}).get("search", {})
        index, entries = SearchIndex(store=open_store(self._cache_dir(config))), {}
        for f in self._files.documentation_pages():
            if f.src_uri in self._docs:
                entry = self._docs[f.src_uri]
            elif f.src_uri in earlier:
                entry = docs_from_json(earlier[f.src_uri])
            else:
                raise PluginError(f"内部错误：页面 {f.src_uri} 没有检索内容。提示：删除 .cache/casebook/builds 后重新构建")
            index.add_docs(*entry)
            entries[f.src_uri] = docs_to_json(entry)
        stats = index.write(Path(config.site_dir), (self.previous or {}).get("search_files"))
        assert self.manifest is not None
        self.manifest.update(stamp=stats["stamp"], search=entries, search_files=stats["hashes"])
        log.info("casebook: search index of %d documents in %d shards (%.1f MB); waited %.2f s for downloads, "
                 "%.2f s for the index", stats["docs"], stats["shards"], stats["bytes"] / 1e6, t1 - t0,
                 time.perf_counter() - t1)
        if self._preview_errors:
            _PREVIEW.show_errors(Path(config.site_dir), self._preview_errors, self._last_good_shown)

    def on_build_error(self, error) -> None:
        import contextlib
        import shutil

        # Let the downloads process finish first, or it would recreate the folder being removed.
        if self.site is not None and self.site.downloads is not None:
            with contextlib.suppress(Exception):
                self.site.downloads.result(timeout=120)
        if getattr(self, "_downloads_dir", None) is not None:
            shutil.rmtree(self._downloads_dir, ignore_errors=True)

    def on_serve(self, server, config, builder):
        server.watch(str(self._cases_dir(config)))
        for docs in _PREVIEW.docs_dirs:
            server.watch(str(docs))
        return server


class _Preview:
    """The live preview (`casebook serve`): while a case file is broken, the last good site stays
    served with the Chinese errors laid over every page, and the next good save replaces it."""

    def __init__(self) -> None:
        self.active = False
        self.last_good: dict[Path, Site] = {}
        self.docs_dirs: set[Path] = set()
        self._empty: Path | None = None

    def empty_docs(self) -> str:
        import tempfile

        if self._empty is None or not self._empty.is_dir():
            self._empty = Path(tempfile.mkdtemp(prefix="casebook-preview-docs-"))
        return str(self._empty)

    def fallback(self, cases: Path, exc: Exception) -> Site:
        from dataclasses import replace

        from .render import SitePage, package_assets

        good = self.last_good.get(cases)
        if good is not None:
            return replace(good, downloads=None)  # its downloads were moved into the last site already
        page = SitePage("index.md", "", "案例文件有错误", "# 案例文件有错误\n\n按页面上方的提示修正后，预览会自动刷新。\n")
        return Site(pages=[page], assets=package_assets(), nav=[{"首页": "index.md"}])

    @staticmethod
    def show_errors(site_dir: Path, errors: list[str], last_good: bool) -> None:
        from markupsafe import escape

        items = "".join(f"<li>{escape(e)}</li>" for e in errors[:200])
        more = f"<p>……另有 {len(errors) - 200} 个问题，见终端输出。</p>" if len(errors) > 200 else ""
        banner = ('<div class="cb-preview-errors" role="alert" style="position:sticky;top:0;z-index:10;'
                  'background:#fff4f4;color:#7a0000;border-bottom:3px solid #c00;padding:.8rem 1.2rem;'
                  'font-size:.8rem;max-height:50vh;overflow:auto"><strong>案例文件有错误，网站未更新。'
                  f'{"下面显示的是上一次正确的版本；" if last_good else ""}修正并保存后会自动刷新。</strong>'
                  f'<ul style="margin:.4rem 0 0 1rem">{items}</ul>{more}</div>')
        for page in site_dir.rglob("*.html"):
            html = page.read_text(encoding="utf-8")
            at = html.find(">", html.find("<body")) + 1 if "<body" in html else 0
            page.write_text(html[:at] + banner + html[at:], encoding="utf-8")


_PREVIEW = _Preview()


def _nav_items(items) -> list:
    out = []
    for item in items:
        out.append(item)
        out += _nav_items(getattr(item, "children", None) or [])
    return out


def _plain_titles(page) -> None:
    """Every title of a page as plain text (see escaping.plain_title), set once MkDocs has derived
    them from the rendered page and before any template prints them: the page's own (from the
    navigation, front matter or first heading), its front matter, and its table of contents
    (heading text; ids, printed raw in links, escaped — and entries for headings whose id the
    sanitiser removed are left out, their sub-entries moving up)."""
    page.meta = plain_meta(page.meta)
    page.title = html_title(page.title or "")
    if hasattr(page.toc, "items"):  # a TableOfContents once the page is rendered
        page.toc.items = _plain_toc(page.toc.items)


def _plain_toc(entries: list) -> list:
    from markupsafe import escape

    out = []
    for entry in entries:
        children = _plain_toc(entry.children)
        if not kept_id(entry.id):
            out += children
            continue
        entry.title = html_title(entry.title)
        entry.id = str(escape(entry.id))
        entry.children = children
        out.append(entry)
    return out


def _relieve_material_search(config) -> None:
    """Keep Material's search plugin for its search box, but not its indexing: the casebook writes
    its own chunked index (casebook.search), and Material's per-page lunr indexing with jieba was a
    third of a build at a thousand pages. Its page-context and post-build handlers are taken out of
    the event lists MkDocs runs (it registers bound methods when the plugin is loaded)."""
    search = config.plugins.get("material/search") or config.plugins.get("search")
    if search is None:
        return
    for event in ("page_context", "post_build"):
        handlers = config.plugins.events.get(event, [])
        handlers[:] = [h for h in handlers if getattr(h, "__self__", None) is not search]


# --------------------------------------------------------------------------- driving MkDocs


def _quiet_mkdocs_logging(verbose: bool) -> None:
    import logging

    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_casebook", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(_SafeFormatter("%(levelname)-7s -  %(message)s"))
        handler._casebook = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


class _SafeFormatter(logging.Formatter):
    """MkDocs' log lines can quote case text (a warning about a page, our errors): through the same
    gate as every printed message, so none can start a CI workflow command or a terminal escape."""

    def format(self, record: logging.LogRecord) -> str:
        from .errors import printable

        return printable(super().format(record))


class _SafeRecords(logging.Filter):
    """The same gate for the host's own handlers (`mkdocs build`, `properdocs build`): a record's
    text is made printable before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        import contextlib

        from .errors import printable

        with contextlib.suppress(Exception):  # a malformed log call: left for logging's own error report
            record.msg, record.args = printable(record.getMessage()), ()
        return True


def _guard_host_logging() -> None:
    for name in ("mkdocs", "properdocs"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, _SafeRecords) for f in handler.filters):
                handler.addFilter(_SafeRecords())


class _DropDirtyWarning(logging.Filter):
    # MkDocs warns that a dirty build may leave navigation stale. Ours is not MkDocs' --dirty: the
    # manifest makes any change to what every page shares a full build.
    def filter(self, record: logging.LogRecord) -> bool:
        return "'dirty' build" not in record.getMessage()


def build(config_file: Path, site_dir: Path | None = None, cases: Path | None = None,
          strict: bool = False, verbose: bool = False, incremental_build: bool = True) -> Path:
    """Build the site atomically: into a staging directory, then swapped in whole (see publish).

    A site directory that would put the editor's files at risk raises UnsafeSiteDir before anything
    is written. On any failure the staging directory is removed, the previous site is left exactly
    as it was, and BuildFailed carries the reason in Chinese. Builds of one site directory run one
    at a time. When the published site was built by this casebook from the same configuration, only
    changed pages are rebuilt (not in strict mode, which always checks every page).
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    from . import publish as pub
    from .publish import BuildFailed

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    _quiet_mkdocs_logging(verbose)
    if cases is not None:
        os.environ[CASES_ENV] = str(Path(cases).resolve())
    dirty_filter = _DropDirtyWarning()
    build_log = logging.getLogger("mkdocs.commands.build")
    try:
        try:
            probe = load_config(str(config_file))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            if isinstance(exc, (ConfigurationError, OSError, SystemExit)):
                raise BuildFailed(_reason(exc)) from exc
            # Anything else while reading the settings (an INHERIT file that is not settings…).
            raise BuildFailed(_reason(ConfigurationError(f"{type(exc).__name__}: {exc}"))) from exc
        plugin = probe.plugins.get("casebook")
        cache_dir = plugin._cache_dir(probe) if isinstance(plugin, CasebookPlugin) else None
        protected = protected_paths(probe, plugin)
        project = Path(config_file).resolve().parent
        target = pub.checked_site_dir(Path(site_dir) if site_dir else Path(probe.site_dir), protected, project)
        protected["项目目录"] = project
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with pub.site_lock(target, list(protected.values())) as lock:
                pub._step("locked")
                previous = None
                if incremental_build and not strict and cache_dir is not None and target.is_dir():
                    previous = incremental.load_previous(cache_dir, target)
                staging = pub.staging_dir(target, lock)
                try:
                    # An incremental build starts from an empty staging directory too: MkDocs writes what
                    # changed, and the rest is linked in from the published site at the end (on_post_build).
                    config = load_config(str(config_file), site_dir=str(staging), strict=strict)
                    plugin = config.plugins.get("casebook")
                    if plugin is not None:
                        plugin.previous, plugin.previous_site = previous, target
                    build_log.addFilter(dirty_filter)
                    mkdocs_build(config, dirty=previous is not None)
                except BaseException as exc:
                    pub.discard(staging)
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    raise BuildFailed(_reason(exc, target)) from exc
                finally:
                    build_log.removeFilter(dirty_filter)
                pub._step("built")
                pub.publish(staging, target, lock)
                # The new site is published: what follows may fail without making the build a failure.
                if plugin is not None and plugin.manifest is not None and cache_dir is not None:
                    try:
                        incremental.save(cache_dir, target, plugin.manifest)
                    except OSError as exc:
                        emit(f"注意：网站已发布，但未能记录构建清单（{pub.describe_os_error(exc)}）；下次构建将完整重建。",
                             err=True)
                pub._step("saved")
        except OSError as exc:  # the site directory itself: read-only, full, not permitted
            raise BuildFailed(pub.describe_os_error(exc, target)) from exc
        return target
    finally:
        if cases is not None:
            os.environ.pop(CASES_ENV, None)


def protected_paths(config, plugin) -> dict[str, Path]:
    """What the editor owns, which no site directory may be, hold or lie inside."""
    project = Path(config.config_file_path or "mkdocs.yml").resolve().parent
    out = {"案例目录": plugin._cases_dir(config) if isinstance(plugin, CasebookPlugin) else project / "cases",
           "页面目录（docs_dir）": Path(config.docs_dir), "git 仓库": project / ".git",
           "配置文件": Path(config.config_file_path or project / "mkdocs.yml")}
    if config.theme.custom_dir:
        out["主题覆盖目录"] = Path(config.theme.custom_dir)
    if isinstance(plugin, CasebookPlugin):
        out["构建缓存"] = plugin._cache_dir(config)
    return out


def _reason(exc: BaseException, site: Path | None = None) -> str:
    from .publish import describe_os_error

    cause = exc.__cause__ or exc.__context__
    for err in (exc, cause):
        if isinstance(err, OSError) and not isinstance(err, (BlockingIOError, InterruptedError)):
            return describe_os_error(err, site)
    if isinstance(exc, PluginError) and cause is not None and hasattr(cause, "errors"):
        return str(cause)
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, ConfigurationError) or "configuration" in message:
        # MkDocs explains configuration faults in English (above, or here): say what and where first.
        detail = "" if "Aborted with a configuration error" in message else f"（MkDocs 的说明：{message}）"
        return (f"站点配置文件有错误，未能读取{detail}。"
                "提示：按上方的 ERROR 行修正 mkdocs.yml（插件名、主题名、缩进和括号），或用 git 恢复它")
    if "BuildError" in message:
        return "构建出错，原因见上方的 ERROR 行。"
    if "strict mode" in message:
        return f"严格模式下出现警告，构建已中止（{message}）。提示：按上方的 WARNING 逐条修正"
    return message


def serve(config_file: Path, cases: Path | None = None, dev_addr: str = "127.0.0.1:8000") -> None:
    """Live preview: rebuilds when a page, template or case file changes, and reloads the browser."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    _quiet_mkdocs_logging(True)
    if cases is not None:
        os.environ[CASES_ENV] = str(Path(cases).resolve())
    _PREVIEW.active = True
    try:
        mkdocs_serve(str(config_file), livereload=True, dev_addr=dev_addr)
    finally:
        _PREVIEW.active = False
