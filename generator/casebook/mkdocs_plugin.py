"""MkDocs adapter: hands the library's pages and assets to MkDocs. No logic of its own lives here.

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
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from .render import Site, inline_charts, restore_html_blocks, stash_html_blocks
from .sanitize import sanitize
from .search import SearchIndex
from .site import CACHE_ENV, CASES_ENV, content_nav, prepare_site

log = logging.getLogger("mkdocs.plugins.casebook")


class CasebookConfig(Config):
    cases = c.Type(str, default="cases")
    # Rendered chart SVGs, by spec hash; an unchanged chart is never rendered twice across builds.
    cache_dir = c.Type(str, default=".cache/casebook")


class CasebookPlugin(BasePlugin[CasebookConfig]):
    site: Site | None = None
    _generated: set[str]
    _stash: dict[str, list[str]]
    # Unguessable per build, so no text in a case file can pose as a placeholder.
    _nonce = ""

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
        try:
            self.site = prepare_site(self._cases_dir(config), overrides, self._cache_dir(config))
        except Exception as exc:  # the library's own errors, in Chinese, with file:line:col
            raise PluginError(str(exc)) from exc
        _relieve_material_search(config)
        stats = self.site.chart_stats
        log.info("casebook: %d pages generated in %.2f s; charts %d rendered, %d from cache (%.2f s rendering)",
                 len(self.site.pages), self.site.generation_seconds, stats.rendered, stats.cached, stats.seconds)
        if config.nav is None:
            config.nav = self.site.nav + content_nav(Path(config.docs_dir), self.site.section_pages)
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
        self._search = SearchIndex()
        self._stash, self._nonce = {}, secrets.token_hex(8)
        for page in self.site.pages:
            files.append(File.generated(config, page.path, content=page.content))
        for asset in self.site.assets:
            files.append(File.generated(config, asset.path, content=asset.content))
        return files

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
        self._search.add_page(page.url, page.title or "", html)
        return html

    def on_post_page(self, output: str, page, config) -> str:
        assert self.site is not None
        return inline_charts(output, self.site.chart_svgs)

    def on_post_build(self, config) -> None:
        stats = self._search.write(Path(config.site_dir))
        log.info("casebook: search index of %d documents in %d shards (%.1f MB)", stats["docs"], stats["shards"],
                 stats["bytes"] / 1e6)

    def on_serve(self, server, config, builder):
        server.watch(str(self._cases_dir(config)))
        return server


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
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler._casebook = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def build(config_file: Path, site_dir: Path | None = None, cases: Path | None = None,
          strict: bool = False, verbose: bool = False) -> Path:
    """Build the site atomically: into a staging directory, then swapped in whole.

    On any failure the staging directory is removed, the previous site is left exactly as it was,
    and BuildFailed carries the reason.
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    from .site import BuildFailed, discard, publish, staging_dir

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    _quiet_mkdocs_logging(verbose)
    if cases is not None:
        os.environ[CASES_ENV] = str(Path(cases).resolve())
    try:
        probe = load_config(str(config_file))
        target = Path(site_dir) if site_dir else Path(probe.site_dir)
        staging = staging_dir(target)
        try:
            config = load_config(str(config_file), site_dir=str(staging), strict=strict)
            mkdocs_build(config)
        except BaseException as exc:
            discard(staging)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise BuildFailed(_reason(exc)) from exc
        publish(staging, target)
        return target
    finally:
        if cases is not None:
            os.environ.pop(CASES_ENV, None)


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, PluginError) and cause is not None and hasattr(cause, "errors"):
        return str(cause)
    message = str(exc).strip() or type(exc).__name__
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
    mkdocs_serve(str(config_file), livereload=True, dev_addr=dev_addr)
