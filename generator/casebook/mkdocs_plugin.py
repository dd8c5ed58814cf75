"""MkDocs adapter: hooks only. Each MkDocs event is one call into the library's build session
(:mod:`casebook.session`), which owns validation, rendering, the cache, page keys, the registered
outputs (search index, downloads), the finishing of each page, staging and publishing; this module
only translates between it and MkDocs' objects (files, navigation, pages, settings, logging).

Registered as the ``casebook`` plugin (entry point in pyproject.toml); ProperDocs, the maintained
MkDocs 1.x fork, loads it unchanged. Library errors become PluginError here and nowhere else, so
`mkdocs build` fails with the same Chinese messages as `casebook check`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import ConfigurationError, PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from .mdstash import HtmlBlocks
from .present import cluster_path
from .session import PREVIEW, BuildSession, HostFile, Settings
from .site import content_nav

log = logging.getLogger("mkdocs.plugins.casebook")


class CasebookConfig(Config):
    cases = c.Type(str, default="cases")
    # The build cache (charts, pages, parsed files, downloads, manifests), kept across builds.
    cache_dir = c.Type(str, default=".cache/casebook")


class _GeneratedFile(File):
    """A generated file that an incremental build may skip when its content is unchanged."""

    unchanged = False

    def is_modified(self) -> bool:
        return not self.unchanged and super().is_modified()


def settings(config: MkDocsConfig, cases: Path | None = None, cache_dir: Path | None = None) -> Settings:
    """The session's settings from MkDocs' (``cases``/``cache_dir``: the command line's, first)."""
    project = Path(config.config_file_path or "mkdocs.yml").resolve().parent
    plugin = config.plugins.get("casebook")
    options = plugin.config if isinstance(plugin, CasebookPlugin) else {}
    if PREVIEW.overlay is not None and cache_dir is None:  # the preview of the internal edition
        from .overlay import INTERNAL_CACHE_DIR

        cache_dir = Path(INTERNAL_CACHE_DIR)
    made = Settings(
        project=project, config_file=Path(config.config_file_path or project / "mkdocs.yml").resolve(),
        cases=(project / (cases or PREVIEW.cases or options.get("cases") or "cases")).resolve(),
        cache_dir=(project / (cache_dir or options.get("cache_dir") or ".cache/casebook")).resolve(),
        docs_dir=Path(config.docs_dir), site_dir=Path(config.site_dir),
        overrides=Path(config.theme.custom_dir) if config.theme.custom_dir else None)
    if PREVIEW.overlay is not None:
        made = replace(made, overlay=PREVIEW.overlay, edition="internal")
    return made


class CasebookPlugin(BasePlugin[CasebookConfig]):
    session: BuildSession | None = None

    def use(self, session: BuildSession) -> None:
        """Build with the caller's session (the CLI's), not one made from the settings."""
        self.session = session

    # First, so Material's search plugin can be relieved of indexing before it starts.
    @event_priority(100)
    def on_config(self, config):
        _guard_host_logging()
        if self.session is None:  # `mkdocs build` / `properdocs build`: a session of its own
            self.session = BuildSession(settings(config))
        try:
            site = self.session.prepare(Path(config.site_dir))
        except Exception as exc:  # the library's own errors, in Chinese, with file:line:col
            raise PluginError(str(exc)) from exc
        config.docs_dir = str(self.session.docs_dir)
        # Through the plugin, not the session: the resident preview hands the plugin a new session.
        config.markdown_extensions.append(HtmlBlocks(self._wants_stash))
        _relieve_material_search(config)
        if config.nav is None:
            config.nav = site.nav + content_nav(Path(config.docs_dir), site.section_pages,
                                                  {p.path: p.title for p in site.pages})
        for css in site.stylesheets:
            if css not in config.extra_css:
                config.extra_css.append(css)
        polyfills = config.extra.setdefault("polyfills", [])
        for js in site.polyfills:
            if js not in polyfills:
                polyfills.append(js)
        for js in site.scripts:
            if js not in [str(s) for s in config.extra_javascript]:
                config.extra_javascript.append(js)
        config.extra.update(self.session.theme_extra())  # the footer, for theme_overrides/main.html
        return config

    def _wants_stash(self) -> bool:
        return self.session is not None and self.session.wants_stash()

    def on_files(self, files: Files, config) -> Files:
        assert self.session is not None
        hand_written = [(f.src_uri, Path(f.abs_src_path)) for f in files.documentation_pages() if f.abs_src_path]
        host_key = [config.nav, _config_values(config), [f.src_uri for f in files],
                    [config.extra_css, [str(j) for j in config.extra_javascript], config.extra],
                    [version("mkdocs"), version("mkdocs-material")]]
        plan = self.session.plan(hand_written, host_key)
        # Kept for the resident preview, which plans its updates against the same host state.
        self._hand_written, self._host_key = hand_written, host_key
        self._generated_uris = {item.path for item in plan.files}
        for item in plan.files:
            made = _GeneratedFile.generated(config, item.path, content=item.content)
            assert isinstance(made, _GeneratedFile)  # annotated as File, though it builds cls(...)
            made.unchanged = item.unchanged
            files.append(made)
        if plan.clean:
            from mkdocs.utils import clean_directory

            clean_directory(config.site_dir)
        self._files = files
        return files

    def on_nav(self, nav, config, files):
        # Section and page titles of the navigation are printed raw on every page (and the 404).
        assert self.session is not None
        for item in _nav_items(nav.items):
            if item.title is not None:
                item.title = self.session.plain_title(item.title)
        self._nav = nav
        return nav

    def on_page_markdown(self, markdown: str, page, config, files) -> str:
        assert self.session is not None
        self.session.begin_page(page.file.src_uri)
        return markdown

    def on_page_content(self, html: str, page, config, files) -> str:
        assert self.session is not None
        # Every title as plain text, set once MkDocs has derived them and before a template prints
        # them: the page's own (navigation, front matter or first heading), its front matter, its TOC.
        page.meta = self.session.plain_meta(page.meta)
        page.title = self.session.plain_title(page.title)
        if hasattr(page.toc, "items"):  # a TableOfContents once the page is rendered
            page.toc.items = self.session.plain_toc(page.toc.items)
        return self.session.finish_page(page.file.src_uri, page.url, page.title, html)

    def on_post_page(self, output: str, page, config) -> str:
        assert self.session is not None
        return self.session.finish_output(output)

    def on_post_template(self, output_content: str, template_name: str, config) -> str:
        assert self.session is not None
        return self.session.finish_template(output_content)  # 404.html has the search box too

    def on_post_build(self, config) -> None:
        assert self.session is not None
        self.session.finish(Path(config.site_dir), [f.src_uri for f in self._files.documentation_pages()])

    def on_build_error(self, error) -> None:
        if self.session is not None:
            self.session.abort()

    def on_serve(self, server, config, builder):
        assert self.session is not None
        for path in self.session.watched():
            server.watch(str(path))
        return server


def _config_values(config) -> dict:
    """Loaded settings every page shows (after !ENV, INHERIT): part of the incremental build's key."""
    keys = ("site_name", "site_url", "site_description", "site_author", "copyright", "repo_url", "repo_name",
            "edit_uri", "use_directory_urls", "markdown_extensions", "mdx_configs", "extra", "hooks")
    values = {k: config.get(k) for k in keys}
    values["theme"] = dict(config.theme)
    # Loaded, the hooks are modules (by their path as the settings name it, relative to the settings file).
    hooks = config.get("hooks") or {}
    files = [getattr(m, "__file__", None) for m in hooks.values()] if isinstance(hooks, dict) else []
    values["hook_code"] = [Path(f).read_text(encoding="utf-8") for f in files if f and Path(f).is_file()]
    values["hooks"] = list(hooks)
    return values


def _nav_items(items) -> list:
    out = []
    for item in items:
        out.append(item)
        out += _nav_items(getattr(item, "children", None) or [])
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

    logger = _safe_handler("mkdocs")
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def _safe_handler(name: str) -> logging.Logger:
    """The logger ``name`` with one terminal handler whose lines pass the printable gate."""
    logger = logging.getLogger(name)
    if not any(getattr(h, "_casebook", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(_SafeFormatter("%(levelname)-7s -  %(message)s"))
        handler._casebook = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return logger


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


def open_session(config_file: Path, cases: Path | None = None, *, strict: bool = False,
                 incremental_build: bool = True, cache_dir: Path | None = None) -> BuildSession:
    """A build session for the project of ``config_file``, its settings read as MkDocs reads them;
    raises BuildFailed, in Chinese, when they cannot be read."""
    from mkdocs.config import load_config

    from .publish import BuildFailed

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    try:
        probe = load_config(str(config_file))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        if isinstance(exc, (ConfigurationError, OSError, SystemExit)):
            raise BuildFailed(_reason(exc)) from exc
        # Anything else while reading the settings (an INHERIT file that is not settings…).
        raise BuildFailed(_reason(ConfigurationError(f"{type(exc).__name__}: {exc}"))) from exc
    return BuildSession(settings(probe, cases, cache_dir), strict=strict, incremental_build=incremental_build)


def build(config_file: Path, site_dir: Path | None = None, cases: Path | None = None,
          strict: bool = False, verbose: bool = False, incremental_build: bool = True,
          cache_dir: Path | None = None, session: BuildSession | None = None) -> Path:
    """Build the site with MkDocs, atomically (see BuildSession.run). ``session``: the caller's
    (the CLI holds one), else one made for ``config_file``."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    from .publish import BuildFailed

    _quiet_mkdocs_logging(verbose)
    session = session or open_session(config_file, cases, strict=strict, incremental_build=incremental_build,
                                      cache_dir=cache_dir)
    dirty_filter = _DropDirtyWarning()
    build_log = logging.getLogger("mkdocs.commands.build")

    def render(staging: Path, incremental: bool) -> None:
        try:
            config = load_config(str(config_file), site_dir=str(staging), strict=session.strict)
            plugin = config.plugins.get("casebook")
            if isinstance(plugin, CasebookPlugin):
                plugin.use(session)
            build_log.addFilter(dirty_filter)
            mkdocs_build(config, dirty=incremental)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise BuildFailed(_reason(exc, Path(site_dir) if site_dir else session.settings.site_dir)) from exc
        finally:
            build_log.removeFilter(dirty_filter)

    return session.run(render, Path(site_dir) if site_dir else None, host_inputs=_host_inputs(config_file))


def _host_inputs(config_file: Path) -> list[Any]:
    """What a MkDocs build reads beyond the project's own files: its settings as MkDocs reads them
    (INHERIT files merged, wherever they are; !ENV variables resolved) and the hook files they
    name, by content. Versions of MkDocs, the theme and the extensions are the installed
    packages', which the session keys by itself."""
    from mkdocs.utils.yaml import yaml_load

    try:
        with config_file.open("rb") as fh:
            loaded = yaml_load(fh)
    except Exception as exc:  # unreadable settings: the build itself says why
        return ["unreadable", repr(exc), os.urandom(8).hex()]
    hooks = loaded.get("hooks") if isinstance(loaded, dict) else None
    code = []
    for hook in hooks if isinstance(hooks, list) else []:
        path = config_file.parent / str(hook)
        code.append([str(hook), hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""])
    # (no memory addresses: a key that changed with them would never match)
    return ["mkdocs", re.sub(r" at 0x[0-9a-fA-F]+", "", repr(loaded)), code]


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


def serve(config_file: Path, cases: Path | None = None, dev_addr: str = "127.0.0.1:8000",
          overlay: Path | None = None) -> None:
    """Live preview (casebook.preview): one resident build; a saved case file re-renders only the
    pages made from it, and the browser reloads. ``cases``/``overlay`` reach every rebuild's
    session through the preview's state, which lives as long as the server."""
    from .collector import fewer_collections
    from .preview import serve as serve_preview
    from .session import error_banner

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    _quiet_mkdocs_logging(False)
    _safe_handler("casebook").setLevel(logging.INFO)  # the preview's own lines: ready, updated, errors
    host, _, port = dev_addr.rpartition(":")
    PREVIEW.active, PREVIEW.cases = True, Path(cases).resolve() if cases is not None else None
    PREVIEW.overlay = Path(overlay).resolve() if overlay is not None else None
    try:
        with fewer_collections():  # the resident session's objects live as long as the server
            serve_preview(Resident(Path(config_file)), host or "127.0.0.1", int(port), banner_html=error_banner)
    finally:
        PREVIEW.active, PREVIEW.cases, PREVIEW.overlay = False, None, None


class Resident:
    """The resident preview's MkDocs side (casebook.preview.Host). The first build is MkDocs'
    own, into a folder of the preview's; its settings, files, navigation and theme environment are
    kept. After a saved case file, a new session validates and renders the casebook (its caches
    make that the unchanged pages' cost), plans against the kept host state, and only the files
    whose content changed are converted and written, through MkDocs' own page steps and the same
    hooks as a build, so each is byte for byte what a full build writes. Anything that every page
    shows (navigation, settings, theme, hand-written pages, a page added or gone) means a full
    build into a fresh folder, swapped in when done."""

    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file
        self.site_dir: Path | None = None
        self.session: BuildSession | None = None
        self.plugin: CasebookPlugin | None = None
        self.config: MkDocsConfig | None = None
        self._pending: BuildSession | None = None
        self._after: set[Path] | None = None  # saved files whose first pages were written (finish does the rest)
        self._carried: dict[str, Any] | None = None  # the served site's manifest, with those pages
        self._written = 0  # how many pages the first pass wrote
        self._rest = 0  # how many the full session wrote after it
        self._errors: list[str] = []
        self._retired: list[Path] = []  # served folders replaced by a full build, removed once not served
        self.last = ""  # how the last update went: "full", "pages" (and how many) or "errors"

    def build(self) -> Path:
        import shutil
        import tempfile

        from mkdocs.commands.build import build as mkdocs_build
        from mkdocs.config import load_config

        site_dir = Path(tempfile.mkdtemp(prefix="casebook-preview-"))
        try:
            config = load_config(str(self.config_file), site_dir=str(site_dir))
            plugin = config.plugins.get("casebook")
            if not isinstance(plugin, CasebookPlugin):
                raise PluginError("mkdocs.yml 中没有 casebook 插件。提示：在 plugins 下加上 - casebook")
            session = BuildSession(settings(config))
            plugin.use(session)
            mkdocs_build(config)
        except BaseException:
            shutil.rmtree(site_dir, ignore_errors=True)
            raise
        # The theme's templates as the build had them, for the page updates that follow.
        self._env = config.plugins.on_env(config.theme.get_env(), config=config, files=plugin._files)
        session.keep_warm(site_dir)
        old, self.site_dir = self.site_dir, site_dir
        self.config, self.plugin, self.session, self._errors = config, plugin, session, []
        if old is not None:
            # Still served until the caller publishes the new folder: removed at the next call,
            # or a page opened meanwhile would not be found.
            self._retired.append(old)
        self.last = "full"
        return site_dir

    def _sweep(self) -> None:
        """Remove the folders replaced by a full build; called once the caller serves the new one
        (preview.serve publishes what update and finish give before it calls either again)."""
        import shutil

        for old in self._retired:
            shutil.rmtree(old, ignore_errors=True)
        self._retired = []

    def _cases_only(self, changed: set[Path]) -> bool:
        assert self.session is not None
        s = self.session.settings
        roots = [s.cases, *([s.overlay] if s.overlay is not None else [])]
        return all(any(p.is_relative_to(r) for r in roots) for p in changed)

    def update(self, changed: set[Path]) -> Path:
        self._sweep()
        old, config, plugin = self.session, self.config, self.plugin
        if old is None or config is None or plugin is None or self.site_dir is None:
            return self.build()
        if old.errors or not self._cases_only(changed):
            return self.build()
        # A saved cluster file: its own page first (validated with the whole casebook), the reload,
        # then the rest of the site (finish). Anything else: every page that changed, then the reload.
        if self._first(changed):
            self._after = changed if self.last != "errors" else None
            return self.site_dir
        return self._pages(old.manifest)

    def _first(self, changed: set[Path]) -> bool:
        """Write the pages of the saved cluster files, if that is all they change of what every
        page shows; False: nothing was written (a full session must decide)."""
        old, config, plugin = self.session, self.config, self.plugin
        assert old is not None and config is not None and plugin is not None and self.site_dir is not None
        clusters = old.settings.cases / "clusters"
        if not all(p.parent == clusters and p.suffix == ".yaml" and p.is_file() for p in changed):
            return False
        wanted = {cluster_path(p.stem) for p in changed}
        if not wanted <= plugin._generated_uris:
            return False  # a new cluster: a page the site does not have yet
        first = BuildSession(old.settings)
        first.previous = old.manifest
        site = first.prepare(self.site_dir, only=wanted.__contains__)
        if first.errors:
            first.abort()
            self._errors, self.last = first.errors, "errors"
            return True
        if not self._same_host(first, site):
            return False
        self._errors = []
        written = self._write(first, [f for f in first.first_pages() if f.path in wanted])
        self._carried, self._written, self.last = first.carried(), written, f"first {written}"
        return True

    def _same_host(self, session: BuildSession, site: Any) -> bool:
        """Whether what every page shows (navigation, the footer's values, stylesheets and scripts)
        is what the served pages show."""
        from .colophon import EXTRA_KEY

        config = self.config
        assert config is not None
        nav = site.nav + content_nav(Path(config.docs_dir), site.section_pages, {p.path: p.title for p in site.pages})
        return (nav == config.nav and session.theme_extra()[EXTRA_KEY] == config.extra.get(EXTRA_KEY)
                and all(css in config.extra_css for css in site.stylesheets)
                and all(js in [str(j) for j in config.extra_javascript] for js in site.scripts))

    def _write(self, session: BuildSession, files: list[HostFile]) -> int:
        """Convert and write the changed files through MkDocs' own page steps; the pages written."""
        from mkdocs.commands.build import _build_page, _populate_page

        config, plugin = self.config, self.plugin
        assert config is not None and plugin is not None
        by_uri = {f.src_uri: f for f in plugin._files}
        pages = []
        plugin.use(session)
        for item in files:
            if item.unchanged:
                continue
            file = by_uri[item.path]
            file.content_bytes = item.content if isinstance(item.content, bytes) else item.content.encode("utf-8")
            if file.is_documentation_page() and file.page is not None:
                pages.append(file.page)
            else:
                file.copy_file()
        for page in pages:
            _populate_page(page, config, plugin._files)
        doc_files = plugin._files.documentation_pages()
        for page in pages:
            _build_page(page, config, doc_files, plugin._nav, self._env)
        return len(pages)

    def _pages(self, served: dict[str, Any] | None) -> Path:
        """A full session planned against the served site (``served``: its manifest), and every
        page that changed written."""
        old, plugin = self.session, self.plugin
        assert old is not None and plugin is not None and self.site_dir is not None
        new = BuildSession(old.settings)
        new.previous = served  # what the served site was made from: pages, search documents
        site = new.prepare(self.site_dir)
        if new.errors:  # the last good site stays served, the errors over it
            new.abort()
            self._errors, self.last = new.errors, "errors"
            return self.site_dir
        self._errors = []
        plan = new.plan(plugin._hand_written, plugin._host_key) if self._same_host(new, site) else None
        if plan is None or plan.full or {item.path for item in plan.files} != plugin._generated_uris:
            new.abort()
            return self.build()
        self._rest = self._write(new, plan.files)
        self._pending, self.last = new, f"pages {self._rest + self._written}"
        return self.site_dir

    def finish(self) -> Path | None:
        """The outputs that follow the pages; after a first pass (see _first), the rest of the
        site's pages first. The folder to serve again when that wrote pages (or errors to show)."""
        self._sweep()
        root = None
        if self._after is not None:
            self._after, carried, self._carried = None, self._carried, None
            root = self._pages(carried)
            self._written = 0
            if self.last == "full" or self.last == "errors":
                return root
            if self._rest == 0:
                root = None  # nothing more changed: no second reload
        new, self._pending = self._pending, None
        if new is not None and self.plugin is not None and self.site_dir is not None:
            new.finish(self.site_dir, [f.src_uri for f in self.plugin._files.documentation_pages()])
            self.session = new
        return root

    def errors(self) -> tuple[list[str], bool]:
        return self._errors, True

    def watched(self) -> list[Path]:
        session = self.session or open_session(self.config_file)  # before the first build: from the settings
        s = session.settings
        extra = [s.docs_dir, *([s.overrides] if s.overrides is not None else [])]
        return [self.config_file, *session.watched(), *extra]

    def close(self) -> None:
        import shutil

        self._sweep()
        if self.site_dir is not None:
            shutil.rmtree(self.site_dir, ignore_errors=True)
