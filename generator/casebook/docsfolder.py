"""The docs-folder host: the build session drives an engine that runs no plugin of ours.

Zensical (Material's maintainers' successor to MkDocs) runs no third-party plugins, so a host there
cannot hook into page rendering as the MkDocs plugin does. This host needs nothing from the engine
but "build this folder": it writes a self-contained project folder that any MkDocs-compatible
engine can take, lets the engine build it as it would any project, and then finishes the built
files. It imports neither MkDocs nor the MkDocs adapter.

1. :func:`export` (after ``session.prepare``): ``out/docs/`` holds the hand-written pages and files
   and every generated page and asset; ``out/mkdocs.yml`` the project's settings with the session's
   navigation, styles and scripts, and without the ``casebook`` plugin. Every page is already safe
   as the engine will read it: each HTML block of a generated page is sanitised and its charts put
   in (each SVG sanitised), headings are Markdown-escaped by the templates, and every page's front
   matter — the title the engine prints raw in ``<title>``, header and navigation included — is
   plain text (:func:`casebook.escaping.plain_meta`), as are the navigation's titles. The engine
   also prints heading ids raw into the table of contents, so a hand-written heading id that could
   break out of that link is an error in its page, reported with the rest.
2. The engine builds ``out/`` (``mkdocs build``, ``properdocs build``; a Zensical adapter would run
   ``zensical build``).
3. :func:`finish` does over the built files what the plugin's page hooks do in the engine: the
   theme's article of every page is sanitised (hand-written pages are rendered by the engine and
   have had no other sanitising), the page's content — between markers written around it on export
   — gives the search documents, and then the session writes its registered outputs (search index,
   downloads). Every built HTML file gets the casebook's search worker.

:func:`build_with_engine` runs the three inside :meth:`BuildSession.run`, so the result is
published atomically like any `casebook build`.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from .content import _FRONT, _MMD_KEY, _MMD_MORE, MARKDOWN_SUFFIXES
from .errors import CasebookError, CasebookInvalid, CaseError, emit, printable, shown
from .escaping import html_title, plain_meta, plain_title
from .mdstash import split_html_blocks
from .publish import BuildFailed, UnsafeSiteDir, _inside
from .render import inline_charts
from .sanitize import _ID as _SAFE_ID
from .sanitize import sanitize
from .session import BuildSession, Settings
from .site import content_nav
from .validate import display_path

# The engines known to build a docs folder as MkDocs does (`-f CONFIG -d SITE`).
ENGINES: dict[str, tuple[str, ...]] = {"mkdocs": ("mkdocs", "build"), "properdocs": ("properdocs", "build")}
MARK = ".casebook-docs-folder"  # how a folder this host exported is recognised (and may be replaced)
# Written around every page's body: what lies between is the page's own content (the theme adds a
# heading, buttons, our print footer). Only what is indexed depends on them — the whole article is
# sanitised — so a page that imitates one only changes its own search text.
START = "<!-- casebook:page-start -->"
END = "<!-- casebook:page-end -->"
_ARTICLE = re.compile(r'<article class="md-content__inner[^"]*">')
_ARTICLE_END = "</article>"
# Every SVG of the article (charts, the theme's icons) is taken out while the rest is sanitised, and
# put back through inline_charts, which cleans each with the SVG-only allow-list. The slots are
# inline_charts' own; a page that writes one itself gets at most a copy of one of its own SVGs,
# cleaned the same way.
_SVG = re.compile(r"<svg\b.*?</svg\s*>", re.S | re.I)
_SLOT = '<span class="cb-chart-slot" data-chart="lifted-{}"></span>'


@dataclass(frozen=True)
class _Page:
    uri: str  # path in the docs folder
    dest: str  # built file, relative to the site directory
    url: str  # directory-style URL, as the engine gives it
    title: str  # plain, as the engine prints it


@dataclass
class _Export:
    pages: list[_Page]


# What export() wrote, for finish() of the same session (a session exports once per build).
_EXPORTS: weakref.WeakKeyDictionary[BuildSession, _Export] = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- the project's settings


class _Tagged:
    """A YAML value under a tag the safe loader does not know (``!!python/name:…``, ``!ENV``):
    kept as it was written, never constructed, and written back with its tag."""

    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tagged:
    value: Any
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return _Tagged(node.tag, value)


def _represent_tagged(dumper: yaml.SafeDumper, data: _Tagged) -> yaml.Node:
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


for _prefix in ("tag:yaml.org,2002:python/", "!"):
    _Loader.add_multi_constructor(_prefix, _construct_tagged)
_Dumper.add_representer(_Tagged, _represent_tagged)


def read_config(config_file: Path) -> dict[str, Any]:
    """The project's settings as written (tags kept, nothing constructed); BuildFailed, in
    Chinese, when they cannot be read as this host needs them."""
    hint = "提示：按 mkdocs.yml 的写法修正它（缩进、冒号、引号），或用 git 恢复它"
    try:
        data = yaml.load(config_file.read_text(encoding="utf-8-sig"), Loader=_Loader)  # a SafeLoader that constructs nothing unknown
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed(f"读不出站点配置“{shown(config_file)}”（{shown(exc)}）。{hint}") from exc
    except yaml.YAMLError as exc:
        raise BuildFailed(f"站点配置“{shown(config_file)}”不是正确的 YAML（{shown(exc)}）。{hint}") from exc
    if not isinstance(data, dict):
        raise BuildFailed(f"站点配置“{shown(config_file)}”应是“键: 值”的形式。{hint}")
    if "INHERIT" in data:
        raise BuildFailed(f"站点配置“{shown(config_file)}”用了 INHERIT，文档文件夹宿主不读取被继承的配置。"
                          "提示：把被继承的设置写进这个文件，或用 casebook build（不加 --docs-folder）构建")
    return data


def _plugins(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The plugins as (name, options), in order: MkDocs takes a list of names or one-key
    mappings, or a mapping of names."""
    raw = config.get("plugins")
    if raw is None:
        return [("search", {})]  # MkDocs' default
    items = list(raw.items()) if isinstance(raw, dict) else [
        next(iter(p.items())) if isinstance(p, dict) and len(p) == 1 else (p, {}) for p in raw or []]
    return [(str(name), options or {}) for name, options in items]


def _setting(config: dict[str, Any], key: str, default: str | None, where: str | None = None) -> str | None:
    value = config.get(key, default)
    if value is None or isinstance(value, str):
        return value
    raise BuildFailed(f"站点配置中“{where or key}”的值应是一个路径（文档文件夹宿主不解析 !ENV 等标记）。"
                      f"提示：把它写成普通的相对路径，如 {default or key}")


def settings(config_file: Path, cases: Path | None = None, cache_dir: Path | None = None) -> Settings:
    """The session's settings from the project's mkdocs.yml, read as plain YAML (``cases`` and
    ``cache_dir``: the command line's, first)."""
    config_file = Path(config_file).resolve()
    config = read_config(config_file)
    project = config_file.parent
    theme: dict[str, Any] = config["theme"] if isinstance(config.get("theme"), dict) else {}
    found: Any = next((o for name, o in _plugins(config) if name == "casebook"), None)
    options: dict[str, Any] = found if isinstance(found, dict) else {}
    overrides = _setting(theme, "custom_dir", None, "theme.custom_dir")
    docs_dir = _setting(config, "docs_dir", "docs")
    site_dir = _setting(config, "site_dir", "site")
    assert docs_dir is not None and site_dir is not None
    return Settings(
        project=project, config_file=config_file,
        cases=(project / (cases or _setting(options, "cases", "cases", "plugins.casebook.cases") or "cases")).resolve(),
        cache_dir=(project / (cache_dir or _setting(options, "cache_dir", ".cache/casebook", "plugins.casebook.cache_dir")
                              or ".cache/casebook")).resolve(),
        docs_dir=(project / docs_dir).resolve(), site_dir=(project / site_dir).resolve(),
        overrides=(project / overrides).resolve() if overrides else None)


def open_session(config_file: Path, cases: Path | None = None, *, strict: bool = False,
                 cache_dir: Path | None = None) -> BuildSession:
    """A build session for the project of ``config_file``. Never incremental: the engine writes
    every file of the site, so there is nothing of the published one to continue."""
    return BuildSession(settings(config_file, cases, cache_dir), strict=strict, incremental_build=False)


# --------------------------------------------------------------------------- 1. export


def export(session: BuildSession, out: Path, site_dir: Path | None = None) -> Path:
    """Write the docs folder ``out`` (after ``session.prepare``): ``docs/``, ``mkdocs.yml`` and
    the theme overrides. ``site_dir``: where the engine is to build, written into the settings for
    engines that take no ``-d`` (by default ``site/`` inside the folder, so an engine run on the
    folder by hand never writes over a published site). Returns the folder's settings file."""
    site = session.site
    if site is None:
        raise RuntimeError("BuildSession.prepare() first")
    s = session.settings
    out = _fresh_folder(out, s, None)
    docs = out / "docs"
    config = read_config(s.config_file)
    use_directory_urls = config.get("use_directory_urls", True) is not False

    # Titles the engine prints from the navigation: ours (as the plugin sets them), or the project's own.
    if config.get("nav") is None:
        nav = site.nav + content_nav(session.docs_dir, site.section_pages, {p.path: p.title for p in site.pages})
    else:
        nav = config["nav"]
    nav = _plain_nav(nav)
    nav_titles = dict(_nav_pages(nav))

    pages: list[_Page] = []
    hand_written: list[tuple[str, Path]] = []
    problems: list[CaseError] = []
    toc_ids = _TocIds(config)
    # The hand-written pages and files, in the order MkDocs reads them (index first in each folder).
    for src_dir, dirnames, filenames in os.walk(session.docs_dir):
        rel_dir = Path(src_dir).relative_to(session.docs_dir)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (rel_dir == Path(".") and d == "templates"))
        for name in sorted((f for f in filenames if not f.startswith(".")),
                           key=lambda f: (os.path.splitext(f)[0] not in ("index", "README"), f)):
            src = Path(src_dir) / name
            uri = (rel_dir / name).as_posix()
            target = docs / uri
            target.parent.mkdir(parents=True, exist_ok=True)
            if not name.lower().endswith(MARKDOWN_SUFFIXES):
                shutil.copyfile(src, target)  # check_content allows only inert kinds here
                continue
            text = src.read_text(encoding="utf-8-sig")
            meta, body = _split_meta(text)
            problems += toc_ids.check(src, text, body)
            title = _page_title(uri, nav_titles, meta, _first_heading(body))
            target.write_text(_page_markdown(meta, title, uri in nav_titles, body), encoding="utf-8")
            pages.append(_page(uri, title, use_directory_urls))
            hand_written.append((uri, src))
    if problems:
        raise CasebookInvalid(problems)
    for page in site.pages:
        # Generated pages: each HTML block sanitised here, as the plugin does after Markdown, and the
        # charts put in; headings around the blocks are Markdown, escaped by the templates.
        body = inline_charts(split_html_blocks(page.content, sanitize), site.chart_svgs)
        title = _page_title(page.path, nav_titles, {}, page.title)
        target = docs / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_page_markdown({}, title, page.path in nav_titles, body), encoding="utf-8")
        pages.append(_page(page.path, title, use_directory_urls))
    for asset in site.assets:
        target = docs / asset.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(asset.content)

    config_path = out / "mkdocs.yml"
    text = _folder_config(session, config, nav, out, site_dir)
    config_path.write_text(text, encoding="utf-8")
    # The session's manifest and search state; the key is everything of this host every page shows.
    session.plan(hand_written, ["docs-folder", text])
    _EXPORTS[session] = _Export(pages)
    return config_path


def check_folder(out: Path, settings: Settings, site_dir: Path | None = None) -> Path:
    """The docs folder ``out``, resolved, or UnsafeSiteDir (Chinese, with a fix; nothing written):
    it may neither be, hold nor lie inside the editor's files, the project or the site, and an
    existing folder must be empty or one this host exported (which every export replaces)."""
    folder = Path(os.path.abspath(out)).resolve()
    protected = {**settings.protected(), "项目目录": settings.project, "输出目录": Path(site_dir or settings.site_dir)}
    hint = "提示：用 --docs-folder 指定项目之外的一个空目录或不存在的目录，如 /tmp/casebook-docs"
    for label, path in protected.items():
        path = Path(os.path.abspath(path)).resolve()
        if _inside(folder, path) or _inside(path, folder):
            relation = "就是" if folder == path else ("位于" if _inside(folder, path) else "包含")
            raise UnsafeSiteDir(f"文档文件夹“{shown(out)}”{relation}{label}（{shown(path)}），导出会覆盖或删除其中的文件。{hint}")
    if os.path.lexists(folder) and not folder.is_dir():
        raise UnsafeSiteDir(f"文档文件夹“{shown(out)}”是一个已有的文件，不是目录，不会覆盖它。{hint}")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARK).is_file():
        raise UnsafeSiteDir(f"文档文件夹“{shown(out)}”已有其他内容，不是本工具导出的，不会覆盖它。{hint}")
    return folder


def _fresh_folder(out: Path, settings: Settings, site_dir: Path | None) -> Path:
    folder = check_folder(out, settings, site_dir)
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARK).write_text("casebook docs folder: replaced by every export\n", encoding="utf-8")
    return folder


def _split_meta(text: str) -> tuple[dict[str, Any], str]:
    """A hand-written page's settings and body, read as MkDocs reads them (YAML front matter, or
    MultiMarkdown ``key: value`` lines up to a blank line); check_content has checked both."""
    if m := _FRONT.match(text):
        data = yaml.safe_load(m.group(1) or "")
        if isinstance(data, dict):
            return data, text[m.end():].lstrip("\n")
        return {}, text
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta: dict[str, Any] = {}
    key = None
    for i, line in enumerate(lines):
        if line.strip() == "":
            return meta, "\n".join(lines[i + 1:]) if meta else text
        if m1 := _MMD_KEY.match(line):
            key = m1.group("key").lower().strip()
            meta[key] = f"{meta.get(key, '')} {m1.group('value').strip()}".strip()
        elif (m2 := _MMD_MORE.match(line)) and key:
            meta[key] = f"{meta[key]} {m2.group('value').strip()}"
        else:
            return meta, "\n".join(lines[i:]) if meta else text
    return meta, "" if meta else text


class _TocIds:
    """The heading ids of hand-written pages, as the engine will make them. The engine prints each
    into the page's table of contents as it is (``href="#…"``); the plugin makes them safe where
    MkDocs hands it the table, but an engine that runs no plugin hands it to nobody. So the pages
    are converted here with the project's Markdown extensions, and an id that could break out of
    that attribute or the theme's lookups — anything but word characters, digits, - _ . : — is an
    error in the page (ids the casebook makes are slugs, never that)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.extensions: list[str] = []
        self.configs: dict[str, dict[str, Any]] = {}
        for item in config.get("markdown_extensions") or []:
            name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
            self.extensions.append(str(name))
            if isinstance(options, dict):  # settings under a tag (a slugify function) are left out
                self.configs[str(name)] = {k: v for k, v in options.items() if not _tagged(v)}
        for name in ("toc", "tables", "fenced_code"):  # MkDocs adds these to every project
            if name not in self.extensions:
                self.extensions.append(name)

    def check(self, path: Path, text: str, body: str) -> list[CaseError]:
        import markdown

        try:
            md = markdown.Markdown(extensions=self.extensions, extension_configs=self.configs)
            md.convert(body)
        except Exception:  # an extension that needs a setting left out above: the ones that make ids
            md = markdown.Markdown(extensions=["attr_list", "md_in_html", "toc", "tables", "fenced_code"])
            md.convert(body)
        errors = []
        lines = text.splitlines()
        for ident, name in _ids(getattr(md, "toc_tokens", [])):
            if _SAFE_ID.fullmatch(ident):
                continue
            # The heading's line: where its id or its text is written (the first such line).
            needles = [ident, html.escape(ident), html.unescape(name).strip()]
            line = next((n for needle in needles if needle for n, row in enumerate(lines, start=1) if needle in row), 1)
            errors.append(CaseError(display_path(path), line, 1, "", f"标题的编号“{ident}”含有引号、空格等字符，"
                                    "而引擎会把编号原样写进目录的链接，页面可能因此被插入脚本。"
                                    "提示：编号只用字母、数字、汉字和 - _ . :，如 {#section-1}"))
        return errors


def _ids(tokens: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (id, text) of a table of contents, at any depth."""
    return [pair for t in tokens for pair in [(str(t.get("id", "")), str(t.get("name", ""))),
                                               *_ids(t.get("children", []))]]


def _tagged(value: Any) -> bool:
    if isinstance(value, _Tagged):
        return True
    if isinstance(value, dict):
        return any(_tagged(v) for v in value.values())
    if isinstance(value, list):
        return any(_tagged(v) for v in value)
    return False


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        if line.startswith("# "):
            return html_title(line[2:].strip())
    return None


def _page_title(uri: str, nav_titles: dict[str, str], meta: dict[str, Any], heading: str | None) -> str:
    # The engine's order (navigation, front matter, first heading, file name), made plain.
    title = nav_titles.get(uri) or meta.get("title") or heading or Path(uri).stem
    return plain_title(title)


def _page_markdown(meta: dict[str, Any], title: str, in_nav: bool, body: str) -> str:
    """A page as the engine reads it: front matter plain text (the theme prints it raw), and the
    body between the content markers. A page the navigation does not title and its front matter
    does not either is given its title here: the engine would take it from the first heading,
    entities unescaped, and print it raw."""
    if not in_nav and "title" not in meta:
        meta = {**meta, "title": title}
    front = f"---\n{yaml.safe_dump(plain_meta(meta), allow_unicode=True, sort_keys=False)}---\n\n" if meta else ""
    return f"{front}{START}\n\n{body.rstrip()}\n\n{END}\n"


def _page(uri: str, title: str, use_directory_urls: bool) -> _Page:
    parent, name = os.path.split(uri)
    stem = os.path.splitext(name)[0]
    if stem in ("index", "README") or not use_directory_urls:
        dest = os.path.join(parent, ("index" if stem in ("index", "README") else stem) + ".html")
    else:
        dest = os.path.join(parent, stem, "index.html")
    url = dest
    if use_directory_urls and os.path.basename(dest) == "index.html":
        url = (os.path.dirname(dest) or ".") + "/"
    return _Page(uri, dest, "" if url == "./" else quote(url), title)


def _plain_nav(items: Any) -> Any:
    """The navigation with every title plain (MkDocs' theme prints them raw on every page)."""
    if isinstance(items, list):
        return [_plain_nav(i) for i in items]
    if isinstance(items, dict):
        return {plain_title(k): _plain_nav(v) for k, v in items.items()}
    return items


def _nav_pages(items: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str):
                    out.append((value, title))
                else:
                    out += _nav_pages(value)
    return out


def _folder_config(session: BuildSession, config: dict[str, Any], nav: Any, out: Path,
                   site_dir: Path | None) -> str:
    """The folder's settings: the project's, with its docs and theme overrides in the folder, the
    session's navigation and assets (as the plugin's on_config adds them), and no casebook plugin."""
    site = session.site
    assert site is not None  # export() checked
    s = session.settings
    cfg = dict(config)
    cfg["docs_dir"] = "docs"
    cfg["site_dir"] = str(Path(os.path.abspath(site_dir))) if site_dir else "site"
    cfg["nav"] = nav
    theme = dict(cfg["theme"]) if isinstance(cfg.get("theme"), dict) else {"name": cfg.get("theme") or "mkdocs"}
    if s.overrides is not None and s.overrides.is_dir():
        shutil.copytree(s.overrides, out / s.overrides.name)
        theme["custom_dir"] = s.overrides.name
    cfg["theme"] = theme
    # The engine runs none of ours: the pages are finished already, and finish() does the rest.
    plugins = [(name, options) for name, options in _plugins(config) if name != "casebook"]
    cfg["plugins"] = [{name: options} if options else name for name, options in plugins]
    css = [str(c) for c in cfg.get("extra_css") or []]
    cfg["extra_css"] = css + [c for c in site.stylesheets if c not in css]
    scripts = list(cfg.get("extra_javascript") or [])
    cfg["extra_javascript"] = scripts + [j for j in site.scripts if j not in [str(x) for x in scripts]]
    extra = dict(cfg.get("extra") or {})
    polyfills = list(extra.get("polyfills") or [])
    extra["polyfills"] = polyfills + [j for j in site.polyfills if j not in polyfills]
    extra.update(session.theme_extra())  # the footer, as the plugin's on_config puts it
    cfg["extra"] = extra
    if isinstance(cfg.get("hooks"), list):  # paths relative to the project, which the folder is not in
        cfg["hooks"] = [str(s.project / h) if isinstance(h, str) else h for h in cfg["hooks"]]
    header = "# Written by casebook's docs-folder host (casebook build --docs-folder); every export replaces it.\n"
    return header + yaml.dump(cfg, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


# --------------------------------------------------------------------------- 3. finish


def finish(session: BuildSession, site_dir: Path) -> None:
    """After the engine built the folder into ``site_dir``: every page's article sanitised and its
    search documents taken, the casebook's search worker in every HTML file, then the session's
    registered outputs (search index, downloads)."""
    exported = _EXPORTS.get(session)
    if exported is None:
        raise RuntimeError("docsfolder.export() first")
    pages = {p.dest: p for p in exported.pages}
    for dest, page in pages.items():
        path = site_dir / dest
        if not path.is_file():
            raise BuildFailed(f"文档引擎没有生成页面 {shown(page.uri)}（应在 {shown(dest)}）。"
                              "提示：确认引擎读取了导出的 mkdocs.yml，且 use_directory_urls 的设置相同")
        path.write_text(_finish_page(session, page, path.read_text(encoding="utf-8")), encoding="utf-8")
    for path in sorted(site_dir.rglob("*.html")):
        rel = path.relative_to(site_dir).as_posix()
        if rel not in pages:  # 404.html and any page the theme makes from a template alone
            path.write_text(session.finish_template(path.read_text(encoding="utf-8")), encoding="utf-8")
    session.finish(site_dir, [p.uri for p in exported.pages])


def _finish_page(session: BuildSession, page: _Page, built: str) -> str:
    start = _ARTICLE.search(built)
    end = built.rfind(_ARTICLE_END)
    if start is None or end < start.end():
        raise BuildFailed(f"文档引擎生成的页面 {shown(page.dest)} 中找不到正文（<article class=\"md-content__inner\">）。"
                          "提示：文档文件夹宿主需要 Material 主题（或 Zensical 的 classic/modern 变体）")
    # Everything up to the last </article>: a page's own </article> cannot end the part sanitised early.
    inner = built[start.end():end]
    svgs: dict[str, str] = {}

    def lift(m: re.Match[str]) -> str:
        key = f"lifted-{len(svgs)}"
        svgs[key] = m.group(0)
        return _SLOT.format(len(svgs) - 1)

    inner = _SVG.sub(lift, inner)
    a, b = inner.find(START), inner.rfind(END)
    if a == -1 or b < a:
        before, content, after = "", inner, ""
    else:
        before, content, after = inner[:a], inner[a + len(START):b], inner[b + len(END):]
    content = session.finish_page(page.uri, page.url, page.title, content)
    inner = inline_charts(sanitize(before) + content + sanitize(after), svgs)
    return session.finish_template(built[:start.end()] + inner + built[end:])


# --------------------------------------------------------------------------- the whole build


def build_with_engine(config_file: Path, out: Path, site_dir: Path | None = None,
                      engine: Sequence[str] = ENGINES["mkdocs"], *, session: BuildSession | None = None,
                      verbose: bool = False) -> Path:
    """Build the site through a docs folder: export to ``out``, have ``engine`` (a module run with
    this Python, and its command) build it, finish. Atomic, locked and refused where the editor's
    files would be at risk, as every `casebook build`; returns the published site directory."""
    session = session or open_session(Path(config_file))
    session.incremental_build = False  # the engine writes every file: nothing of the published site is reused
    # Refused before anything is built; the site directory is checked by session.run.
    check_folder(out, session.settings, Path(site_dir) if site_dir else None)

    def render(staging: Path, incremental: bool) -> None:
        try:
            session.prepare(staging)
            config = export(session, out)
            _run_engine(engine, config, staging, strict=session.strict, verbose=verbose)
            finish(session, staging)
        except BaseException as exc:
            session.abort()
            if isinstance(exc, CasebookError) and not isinstance(exc, (BuildFailed, UnsafeSiteDir)):
                raise BuildFailed(str(exc)) from exc  # the casebook's own errors, every one of them
            raise

    return session.run(render, Path(site_dir) if site_dir else None)


def _run_engine(engine: Sequence[str], config: Path, site_dir: Path, *, strict: bool, verbose: bool) -> None:
    module, *command = engine
    args = [sys.executable, "-m", module, *command, "-f", str(config), "-d", str(site_dir)]
    args += ["--strict"] if strict else []
    args += [] if verbose else ["-q"]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    try:
        proc = subprocess.run(args, cwd=config.parent, capture_output=True, text=True, env=env, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildFailed(f"无法运行文档引擎 {shown(module)}（{shown(exc)}）。提示：确认它已安装在当前的 Python 环境中") from exc
    # The engine's log may quote page text: through the one gate every printed line passes.
    log = "\n".join(part for part in (proc.stdout.strip(), proc.stderr.strip()) if part)
    if proc.returncode != 0:
        tail = "\n".join(log.splitlines()[-30:])
        raise BuildFailed(f"文档引擎 {shown(module)} 构建失败（退出码 {proc.returncode}）：\n{printable(tail)}\n"
                          f"提示：按上面的说明修正；导出的文档文件夹在 {shown(config.parent)}，可直接用 {shown(module)} 构建来排查")
    if log:
        emit(log, err=True)
