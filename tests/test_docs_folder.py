"""The docs-folder host (issue 11): the build session drives an engine that runs no plugin of ours.

The real casebook is built both ways — `casebook build` (MkDocs with the casebook plugin) and the
docs folder (casebook.docsfolder: every page written into a plain project folder, built by a real
`mkdocs build` subprocess whose settings hold no casebook plugin, then finished) — and the two
sites are compared file by file. Hostile case text (the 虚构 casebooks of test_injection_fields)
goes through the docs folder too. Nothing is mocked.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from casebook import docsfolder
from casebook.cli import main
from casebook.publish import BuildFailed, UnsafeSiteDir
from test_injection_fields import hostile_book, hostile_content

from sitebuild import make_project, tree_digest

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
WORKER = "assets/casebook/worker/search.js"
# The hostile hand-written page's heading whose id breaks out of an attribute: the docs folder
# refuses it (test_unsafe_heading_ids_are_refused), so the page is audited without it.
UNSAFE_ID_HEADING = "## 编号 {: id='a\" onmouseover=\"alert(7)' }\n\n"
# Theme overrides arrive by pull request too: a cluster template whose block holds raw markup (as a
# template bug printing a value unescaped would), for the sanitiser — the second wall — to remove.
TEMPLATE_PAYLOAD = "<p>模板里的虚构载荷<img src=x onerror=alert('t1')><script>alert('t2')</script></p>"


def test_the_docs_folder_host_loads_no_mkdocs():
    """The host-neutral path: importing it and building a session's settings loads neither MkDocs,
    ProperDocs, Material nor the MkDocs adapter (the engine is another process)."""
    probe = ("import sys; from pathlib import Path; from casebook import docsfolder; "
             f"docsfolder.settings(Path({str(ROOT / 'mkdocs.yml')!r})); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mkdocs', 'properdocs', 'material') "
             "or m == 'casebook.mkdocs_plugin'))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def folder_build(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The real casebook through the docs folder, built by plain `mkdocs build` (strict, as in CI):
    (project, folder, site)."""
    tmp = tmp_path_factory.mktemp("docs-folder")
    project = make_project(tmp, CASES)
    session = docsfolder.open_session(project / "mkdocs.yml", strict=True)
    site = docsfolder.build_with_engine(project / "mkdocs.yml", tmp / "folder", tmp / "site", session=session)
    return project, tmp / "folder", site


# --------------------------------------------------------------------------- reading built pages


_BLOCKS = {"address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl", "dt",
           "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "nav",
           "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}


class Main(HTMLParser):
    """The main content of a Material page (its <article class="md-content__inner">): the text a
    reader sees, block by block, and every tag in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # <article> elements open, ours counted from 1
        self.skip = 0  # inside <script>/<style>: not shown
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        if not self.depth:
            if tag == "article" and "md-content__inner" in (dict(attrs).get("class") or ""):
                self.depth = 1
            return
        self.depth += tag == "article"
        self.skip += tag in ("script", "style")
        self.tags.append(tag)
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if not self.depth:
            return
        self.depth -= tag == "article"
        self.skip -= tag in ("script", "style") and self.skip > 0
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        # White space between blocks is not seen, and runs of it inside one read as one space.
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def main_content(path: Path) -> Main:
    parsed = Main()
    parsed.feed(path.read_text(encoding="utf-8"))
    assert parsed.tags, f"{path}: no main content"
    return parsed


class Navigation(HTMLParser):
    """The links of a Material page's main navigation (<nav class="md-nav md-nav--primary">):
    (address, text) in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "nav" and (self.depth or "md-nav--primary" in classes):
            self.depth += 1
        elif tag == "a" and self.depth:
            self._href = dict(attrs).get("href") or ""
            self.links.append((self._href, ""))

    def handle_endtag(self, tag):
        if tag == "nav" and self.depth:
            self.depth -= 1
        elif tag == "a":
            self._href = None

    def handle_data(self, data):
        if self._href is not None and self.links:
            href, text = self.links[-1]
            self.links[-1] = (href, " ".join((text + " " + data).split()))


def navigation(path: Path) -> list[tuple[str, str]]:
    parsed = Navigation()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed.links


def page_title(path: Path) -> str:
    m = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S)
    assert m, path
    return m.group(1)


class Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script:
            self.scripts.append(data)


def attributes(text: str) -> Attributes:
    parsed = Attributes()
    parsed.feed(text)
    return parsed


def pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


# --------------------------------------------------------------------------- the real casebook, both ways


def test_the_folder_is_a_project_that_runs_no_casebook_plugin(folder_build, real_site):
    """What the engine was given: a project whose settings (as MkDocs itself reads them) name no
    casebook plugin but keep the search box, whose navigation is the session's, and whose docs hold
    every page and asset the site has."""
    from mkdocs.config import load_config

    project, folder, _ = folder_build
    config = load_config(str(folder / "mkdocs.yml"))
    assert "casebook" not in config.plugins and "material/search" in config.plugins
    assert Path(config.docs_dir) == folder / "docs"
    assert config.theme.custom_dir == str(folder / "theme_overrides")
    navigated = {p for p in re.findall(r": ([\w/.-]+\.md)$", (folder / "mkdocs.yml").read_text(encoding="utf-8"), re.M)}
    assert {"index.md", "about.md", "cases/grain-store.md"} <= navigated
    assert all((folder / "docs" / p).is_file() for p in navigated)
    # Every page of the plugin's site has its Markdown in the folder, every asset its bytes.
    sources = {p.relative_to(folder / "docs").as_posix() for p in (folder / "docs").rglob("*.md")}
    expected = {("index.md" if rel == "index.html" else rel.removesuffix("/index.html") + ".md")
                for rel in pages(real_site) if rel != "404.html"}
    expected = {p if p in sources else p.removesuffix(".md") + "/index.md" for p in expected}
    assert expected == sources
    for asset in (real_site / "assets" / "casebook").rglob("*"):
        if asset.is_file():
            rel = asset.relative_to(real_site).as_posix()
            assert (folder / "docs" / rel).read_bytes() == asset.read_bytes(), rel
    # The project's files are the editor's: the folder is a copy, never the project itself.
    assert not (project / "docs").exists() and (project / "content" / "about.md").is_file()


def test_both_hosts_build_the_same_pages_and_files(folder_build, real_site):
    """The same HTML pages; every other file (search index, downloads, assets) byte for byte, the
    sitemap's content too (its gzip header holds the build time)."""
    _, _, site = folder_build
    assert pages(site) == pages(real_site)
    ours, theirs = tree_digest(real_site), tree_digest(site)
    assert sorted(ours) == sorted(theirs)
    for rel, digest in ours.items():
        if rel.endswith(".html"):
            continue
        if rel.endswith(".gz"):
            assert gzip.decompress((site / rel).read_bytes()) == gzip.decompress((real_site / rel).read_bytes()), rel
        else:
            assert theirs[rel] == digest, rel
    downloads = [rel for rel in ours if rel.startswith("downloads/")]
    assert any(rel.endswith(".xlsx") for rel in downloads) and any(rel.endswith(".csv") for rel in downloads)


def test_every_page_shows_the_same_title_navigation_and_text(folder_build, real_site):
    """Generated and hand-written pages alike: the visible text of the main content (white space
    normalised, block by block), the page title and the navigation (every link and its text) are
    the same as the plugin's."""
    _, _, site = folder_build
    compared = 0
    for rel in pages(real_site):
        if rel == "404.html":
            continue
        mine, theirs = main_content(real_site / rel).text, main_content(site / rel).text
        assert mine == theirs, rel
        assert page_title(site / rel) == page_title(real_site / rel), rel
        assert navigation(site / rel) == navigation(real_site / rel), rel
        compared += 1
    assert compared >= 70  # every cluster, indicator and index page, and the hand-written ones
    assert len(navigation(site / "index.html")) >= 10


def test_search_is_the_casebooks_own(folder_build):
    """The search index is the casebook's (written by the session, not Material's plugin, which the
    folder keeps only for its search box), and every HTML file points the box at its worker."""
    _, _, site = folder_build
    manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    index = manifest["config"]["casebook"]
    assert index["pages"] >= 70 and index["shards"] >= 1 and manifest["docs"] == []
    for name in ("search_index.js", "pages.js", "titles/0.js", "shards/0.js", "text/0.js"):
        assert (site / "search" / name).is_file(), name
    for rel in pages(site):
        config = re.search(r'<script id="__config" type="application/json">(.*?)</script>',
                           (site / rel).read_text(encoding="utf-8"), re.S)
        assert config, rel
        assert json.loads(config.group(1))["search"].endswith(WORKER), rel


def test_no_script_in_any_main_content_and_no_other_host(folder_build, real_site):
    """No <script> in any page's main content. Nothing in any built file loads from another host
    (no src, srcset, poster, data or action, no CSS url(), naming one); the only links to one are
    the project's own, in its hand-written pages, exactly as the plugin's site has them."""
    project, _, site = folder_build
    for rel in pages(site):
        assert "script" not in main_content(site / rel).tags, rel
    hand_written = {("index.html" if p.stem == "index" and p.parent == Path(".") else
                     (p.parent / ("" if p.stem == "index" else p.stem) / "index.html").as_posix())
                    for p in (q.relative_to(project / "content") for q in (project / "content").rglob("*.md"))}
    linked: dict[Path, set[tuple[str, str]]] = {}
    for root in (site, real_site):
        links = linked.setdefault(root, set())
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".html", ".xml", ".svg", ".css", ".js"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            rel = path.relative_to(root).as_posix()
            if path.suffix != ".html":
                # Markup and styles that fetch: an attribute or a CSS url() naming another host.
                assert not re.search(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)(?:https?:)?//""", text,
                                     re.I), path
                continue
            for tag, attrs in attributes(text).tags:
                for name in ("src", "srcset", "action", "data", "poster", "href"):
                    value = attrs.get(name, "").strip().lower()
                    if value.startswith(("http:", "https:", "//")):
                        assert name == "href" and tag == "a" and rel in hand_written, (path, tag, name, value)
                        links.add((rel, value))
    assert linked[site] == linked[real_site]


@pytest.mark.parametrize("heading", [
    "## 编号 {: id='a\" onmouseover=\"alert(7)' }",
    '## 编号 {: id="a\'><script>alert(8)</script>" }',
    '## 编号 {: #a"b }',
    "## 编号 {: id='带 空格' }",
    '<h2 markdown="1" id="x&quot; onfocus=&quot;alert(10)">编号</h2>',
    '<div markdown="1">\n\n## 编号 {: id=\'q"x\' }\n\n</div>',
])
def test_unsafe_heading_ids_are_refused(tmp_path, capsys, heading):
    """A hand-written heading id the engine would print into the table of contents as it is (the
    plugin makes it safe; an engine without plugins cannot) fails the build with a Chinese error
    located at the heading, whichever way the id is written, and nothing is published."""
    project = make_project(tmp_path, FICTIONAL)
    page = project / "content" / "hostile.md"
    text = f"# 虚构手写页\n\n正文。\n\n{heading}\n\n虚构。\n"
    page.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "编号" in row)
    site = tmp_path / "site"
    capsys.readouterr()
    rc = main(["build", "--config", str(project / "mkdocs.yml"), "--docs-folder", str(tmp_path / "folder"),
               "--site-dir", str(site)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert re.search(rf"hostile\.md:{line}:1: 标题的编号“.+”.*提示：", err), err
    assert "Traceback" not in err and not site.exists()


def test_safe_heading_ids_build(tmp_path, capsys):
    """The check refuses only what is unsafe: ids of word characters, digits and - _ . : build."""
    project = make_project(tmp_path, FICTIONAL)
    (project / "content" / "ids.md").write_text(
        "# 虚构编号页\n\n## 甲 {#section-1}\n\n## 乙 {: id='第二节.v2:b_c' }\n\n## __config\n\n虚构。\n", encoding="utf-8")
    rc = main(["build", "--config", str(project / "mkdocs.yml"), "--docs-folder", str(tmp_path / "folder"),
               "--site-dir", str(tmp_path / "site")])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "经文档文件夹" in out.out
    html = (tmp_path / "site" / "ids" / "index.html").read_text(encoding="utf-8")
    assert 'id="section-1"' in html and 'id="第二节.v2:b_c"' in html
    # A heading named like Material's configuration element keeps no such id (the sanitiser's rule).
    assert html.count('id="__config"') == 1


# --------------------------------------------------------------------------- hostile case text


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> tuple[Path, Path]:
    """Hostile text in every text field of every kind of case file (two clusters) and in the
    hand-written pages (titles, front matter, headings, a section), built through the docs folder
    by the command line: (folder, site)."""
    tmp = tmp_path_factory.mktemp("hostile-folder")
    cases, _ = hostile_book(tmp, 2)
    project = make_project(tmp, cases)
    hostile_content(project)
    page = project / "content" / "hostile.md"
    text = page.read_text(encoding="utf-8")
    assert UNSAFE_ID_HEADING in text
    page.write_text(text.replace(UNSAFE_ID_HEADING, ""), encoding="utf-8")
    template = (ROOT / "generator" / "casebook" / "templates" / "cluster.md.j2").read_text(encoding="utf-8")
    assert '<div class="cb-lead">\n' in template
    (project / "theme_overrides" / "casebook").mkdir()
    (project / "theme_overrides" / "casebook" / "cluster.md.j2").write_text(
        template.replace('<div class="cb-lead">\n', f'<div class="cb-lead">\n{TEMPLATE_PAYLOAD}\n', 1), encoding="utf-8")
    rc = main(["build", "--config", str(project / "mkdocs.yml"), "--docs-folder", str(tmp / "folder"),
               "--site-dir", str(tmp / "site"), "--strict"])
    assert rc == 0
    return project, tmp / "folder", tmp / "site"


def test_hostile_text_survives_nowhere_in_the_docs_folder_build(hostile_folder):
    """In every built page, not only the main content: no element or attribute that runs or loads
    anything from case text, no URL scheme but the site's own, no payload in any script."""
    _, _, site = hostile_folder
    assert len(pages(site)) >= 20
    for rel in pages(site):
        html = (site / rel).read_text(encoding="utf-8")
        parsed = attributes(html)
        for tag, attrs in parsed.tags:
            assert tag not in ("iframe", "style", "object", "embed", "base"), (rel, tag)
            for name, value in attrs.items():
                assert not name.startswith("on"), (rel, tag, name, value)
                squeezed = re.sub(r"\s", "", value).lower()
                assert not squeezed.startswith(("javascript:", "data:", "vbscript:")), (rel, tag, name, value)
                # A chart's Vega-Lite spec holds case text as JSON strings: inert data in an escaped attribute.
                spec = (tag, name) == ("figure", "data-cb-spec") and isinstance(json.loads(value), dict)
                assert "alert(" not in value or spec or name in ("title", "alt", "aria-label", "content"), (rel, tag, name)
            if tag == "script":
                assert not attrs.get("src") or not re.match(r"\s*(https?:)?//", attrs["src"]), (rel, attrs)
        assert not any("alert(" in s for s in parsed.scripts), rel
        assert "script" not in main_content(site / rel).tags, rel
        assert "onerror=" not in html.replace("onerror=alert", ""), rel  # only ever as shown text


def test_generated_pages_in_the_folder_are_safe_before_any_finishing(hostile_folder):
    """The folder itself, before the engine and finish(): every generated page's HTML blocks are
    already sanitised (an engine run on the folder by hand gets no script, handler or foreign URL
    from case text or a template), and every page's front matter is plain text."""
    project, folder, _ = hostile_folder
    checked = 0
    for path in sorted((folder / "docs").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        front, body = text.split("\n---\n", 1) if text.startswith("---\n") else ("", text)
        meta = yaml.safe_load(front.removeprefix("---\n")) or {}
        assert not any(ch in str(v) for v in meta.values() for ch in "<>\"'&"), (path, meta)
        if (project / "content" / path.relative_to(folder / "docs")).exists():
            continue  # a hand-written page's body is the editor's Markdown: finish() sanitises what it becomes
        for tag, attrs in attributes(body).tags:
            assert tag not in ("script", "iframe", "style", "object", "embed"), (path, tag)
            assert not any(name.startswith("on") for name in attrs), (path, tag, attrs)
            assert not any(re.sub(r"\s", "", v).lower().startswith(("javascript:", "data:")) for v in attrs.values())
        checked += 1
    assert checked >= 15  # every generated page: clusters, indicators, indices
    # The template's payload reached the folder, and only its text did.
    assert "模板里的虚构载荷" in (folder / "docs" / "cases" / "fictional-a.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- where the folder may go


def test_the_folder_may_not_be_among_the_editors_files(tmp_path):
    """The folder is emptied by every export: the project, its case files, pages, overrides, cache,
    configuration and site, and any folder with other content, are refused (usage error, nothing
    written); a folder this host exported before is replaced."""
    project = make_project(tmp_path, FICTIONAL)
    settings = docsfolder.settings(project / "mkdocs.yml")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "笔记.txt").write_text("编辑的笔记（虚构）", encoding="utf-8")
    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / docsfolder.MARK).write_text("", encoding="utf-8")
    (exported / "stale.md").write_text("旧导出（虚构）", encoding="utf-8")
    before = tree_digest(tmp_path)
    for folder in (project, project / "cases", project / "content", project / "theme_overrides",
                   project / ".cache", project / "site", project / "mkdocs.yml", project / "build" / "docs",
                   tmp_path, tmp_path / "notes"):
        with pytest.raises(UnsafeSiteDir) as refused:
            docsfolder.check_folder(folder, settings)
        assert "提示：" in str(refused.value), folder
    assert tree_digest(tmp_path) == before
    assert docsfolder.check_folder(exported, settings) == exported.resolve()
    rc = main(["build", "--config", str(project / "mkdocs.yml"), "--docs-folder", str(tmp_path / "notes")])
    assert rc == 2 and tree_digest(tmp_path) == before


def test_a_broken_casebook_fails_as_casebook_check_does(tmp_path, capsys):
    """The docs folder reports every case error of `casebook check`, in Chinese, and publishes nothing."""
    project = make_project(tmp_path, FICTIONAL)
    path = project / "cases" / "clusters" / "fictional-a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 52\n", "value: 53\n", 1), encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "casebook", "check", "--cases", "cases"], cwd=project,
                           capture_output=True, text=True, timeout=300)
    errors = [line for line in check.stdout.splitlines() if line.startswith("cases/")]
    assert check.returncode == 1 and errors, check.stdout
    capsys.readouterr()
    rc = main(["build", "--config", str(project / "mkdocs.yml"), "--docs-folder", str(tmp_path / "folder"),
               "--site-dir", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert rc == 1 and "构建失败" in err
    assert all(e.split(":", 1)[1] in err for e in errors), err
    assert not (tmp_path / "site").exists()


def test_the_engine_failing_is_a_chinese_build_failure(tmp_path):
    """An engine that fails (here: a module that is not one) fails the build with its log, in
    Chinese, and the previous site stays as it was."""
    project = make_project(tmp_path, FICTIONAL)
    site = docsfolder.build_with_engine(project / "mkdocs.yml", tmp_path / "folder", tmp_path / "site")
    before = tree_digest(site)
    with pytest.raises(BuildFailed, match=r"(?s)文档引擎 .* 构建失败.*No module named.*提示："):
        docsfolder.build_with_engine(project / "mkdocs.yml", tmp_path / "folder", site,
                                     engine=("casebook.no_such_engine", "build"))
    assert tree_digest(site) == before


def test_each_engine_builds_the_folder(tmp_path):
    """Every engine the host knows builds the folder (each page names the engine that wrote it),
    and the finished sites hold the same pages, search index and downloads."""
    from test_second_host import properdocs_command

    properdocs_command()  # skips outside CI when ProperDocs is missing, fails in CI
    project = make_project(tmp_path, FICTIONAL)
    sites = {name: docsfolder.build_with_engine(project / "mkdocs.yml", tmp_path / f"folder-{name}",
                                                tmp_path / f"site-{name}", engine=engine)
             for name, engine in docsfolder.ENGINES.items()}
    for name, site in sites.items():
        tag = re.search(r'<meta name="generator" content="([^"]+)"', (site / "index.html").read_text(encoding="utf-8"))
        assert tag and ("ProperDocs" in tag.group(1)) == (name == "properdocs"), tag
    first, *others = sites.values()
    shared = {rel: digest for rel, digest in tree_digest(first).items() if rel.startswith(("search/", "downloads/"))}
    assert any(rel.startswith("downloads/") for rel in shared) and "search/titles/0.js" in shared
    for site in others:
        assert pages(site) == pages(first)
        assert {rel: d for rel, d in tree_digest(site).items() if rel.startswith(("search/", "downloads/"))} == shared


# --------------------------------------------------------------------------- in a browser


def test_search_works_in_the_docs_folder_site(folder_build, browser):
    """Material's search box, answered by the casebook's worker, finds Chinese text in the docs
    folder's site: results are drawn, they hold the words, every link stays on the site, and no
    page script fails."""
    from browser_support import serve_directory

    box = "[data-md-component=search-query]"
    _, _, site = folder_build
    with serve_directory(site) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base)
        page.click(box)
        page.fill(box, "粮仓")
        page.dispatch_event(box, "keyup")
        page.wait_for_selector(".md-search-result__item", timeout=20_000)
        found = page.evaluate("""() => [...document.querySelectorAll('.md-search-result__item a')]
                                 .map(a => ({href: a.href, text: a.textContent}))""")
        page.close()
    assert found and any("粮仓" in item["text"] for item in found), found
    assert all(item["href"].startswith(base) for item in found), found
    assert errors == []
