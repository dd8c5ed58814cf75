"""The build session owns the build; the MkDocs adapter is hooks only; page kinds are one table."""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import pytest

from casebook import present
from casebook.derive import derive, ordered_clusters, ordered_lessons
from casebook.pages import EVERY_BUILD, KINDS, NAV_LIMIT, Context, PageKind, planned_pages
from casebook.validate import load_casebook

from sitebuild import ROOT, build_project, make_project, tree_digest

PACKAGE = ROOT / "generator" / "casebook"
ADAPTER = PACKAGE / "mkdocs_plugin.py"
# What the adapter may not reach into: the session owns the cache, page keys, search, downloads,
# sanitising, rendering and validation.
OFF_LIMITS = {"store", "search", "downloads", "sanitize", "incremental", "render", "charts", "validate", "derive",
              "figures", "loader"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out.add(node.module or "")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("casebook"):
            out.add((node.module or "").removeprefix("casebook."))
    return out


def test_the_adapter_imports_no_cache_search_download_or_sanitiser_module():
    used = _imported_modules(ADAPTER)
    assert "session" in used
    assert not used & OFF_LIMITS, used & OFF_LIMITS


def test_every_hook_calls_into_the_session():
    tree = ast.parse(ADAPTER.read_text(encoding="utf-8"))
    plugin = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CasebookPlugin")
    hooks = [f for f in plugin.body if isinstance(f, ast.FunctionDef) and f.name.startswith("on_")]
    assert len(hooks) >= 10
    for hook in hooks:
        calls = [n for n in ast.walk(hook) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == "session"]
        assert calls, f"{hook.name} does not call the build session"


def test_no_environment_variable_carries_build_settings():
    """The CLI hands its session to the host: no CASEBOOK_* variable, no attribute set on a plugin
    from outside (only the plugin's own ``use``)."""
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"os\.environ\[|CASEBOOK_", text), path.name
        assert not re.search(r"plugin\.(previous|manifest|site|session)\s*=", text), path.name


def test_a_page_kind_must_say_what_its_page_is_made_from():
    with pytest.raises(TypeError):
        PageKind("x", "x.md.j2", lambda item: "x.md", lambda ctx, item: "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        PageKind("x", "x.md.j2", lambda item: "x.md", lambda ctx, item: "x", None)  # type: ignore[arg-type]
    PageKind("x", "x.md.j2", lambda item: "x.md", lambda ctx, item: "x", EVERY_BUILD)


def _context(cases: Path, clusters: int | None = None) -> Context:
    book, errors = load_casebook(cases)
    assert not errors
    ordered = ordered_clusters(book)
    if clusters is not None:  # the same clusters listed again under new ids: only the count matters here
        ordered = [ordered[i % len(ordered)].model_copy(update={"id": f"c{i}"}) for i in range(clusters)]
    return Context(book, derive(book), {f"cases/{c.id}": [] for c in ordered}
                   | {f"indicators/{i}": [] for i in book.indicators}, ordered, ordered_lessons(book), "")


@pytest.mark.parametrize("clusters", [None, NAV_LIMIT + 1])
def test_pages_and_navigation_come_from_the_one_table(clusters):
    ctx = _context(ROOT / "cases", clusters)
    pages, nav = planned_pages(ctx)
    paths = [p.path for p in pages]
    assert len(paths) == len(set(paths)), "two pages at one path"
    for page in pages:
        assert page.url == present.page_url(page.path)
    assert {p.kind.name for p in pages} == {k.name for k in KINDS if k.when(ctx)}
    listed = [v if isinstance(v, str) else [next(iter(x.values())) for x in v] for entry in nav for v in entry.values()]
    flat = [p for item in listed for p in ([item] if isinstance(item, str) else item)]
    assert set(flat) <= set(paths)
    assert list(nav[0].items()) == [("首页", "index.md")]
    clusters_entry = next(entry["组团"] for entry in nav if "组团" in entry)
    if ctx.many:
        assert clusters_entry == "cases/index.md"
    else:
        assert [next(iter(x.values())) for x in clusters_entry] == [present.cluster_path(c.id) for c in ctx.clusters]
    # Every page is in the navigation or reached from a page that is: indicator pages from the
    # indicators index, cluster pages from the clusters index, the field reference from the guide.
    assert set(paths) - set(flat) <= {p.path for p in pages if p.kind.name in {"indicator", "cluster", "reference"}}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("session")
    project = make_project(tmp, ROOT / "cases")
    site = build_project(project)
    first = tree_digest(site / "downloads")
    (project / "cases" / "clusters" / "grain-store.yaml").touch()
    build_project(project)
    return project, site, first


def test_downloads_are_cached_in_the_one_store(built):
    project, site, first = built
    cache = project / ".cache" / "casebook"
    assert not (cache / "downloads").exists(), "a second cache beside the store"
    with sqlite3.connect(cache / "cache.sqlite") as db:
        kinds = dict(db.execute("SELECT ns, count(*) FROM entries GROUP BY ns").fetchall())
    xlsx = [p for p in first if p.endswith(".xlsx")]
    assert kinds.get("download", 0) == 2 * len(xlsx), kinds  # a workbook and a JSON per table
    assert tree_digest(site / "downloads") == first


def test_editor_pages_are_published_but_not_in_the_readers_navigation_or_search(built):
    _, site, _ = built
    assert (site / "guide" / "index.html").is_file() and (site / "guide" / "reference" / "index.html").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    nav = home[home.index('<nav class="md-nav md-nav--primary"'):]
    nav = nav[:nav.index("</nav>")]
    assert "guide/" not in nav and "字段参考" not in nav, "the editors' pages are in the readers' navigation"
    table = "".join(p.read_text(encoding="utf-8") for p in (site / "search" / "titles").glob("*.js"))
    assert "guide/" not in table and "编辑指南" not in table
    assert "about/" in table  # the other hand-written pages still answer searches
    about = (site / "about" / "index.html").read_text(encoding="utf-8")
    assert 'href="../guide/"' in about and 'href="../guide/reference/"' in about
