"""The resident preview (`casebook serve`, mkdocs_plugin.Resident): after a saved case file only the
pages made from it are converted and written, and the served site is then exactly what a full build
gives; what every page shows means a full build; a broken file keeps the last good site (FICTIONAL
casebooks only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casebook.mkdocs_plugin import Resident
from casebook.session import PREVIEW
from test_incremental import FIGURES, edit_beta

from sitebuild import build_project, make_project, tree_digest


@pytest.fixture
def project(tmp_path) -> Path:
    cases = tmp_path / "src"
    shutil.copytree(FIGURES, cases)
    return make_project(tmp_path, cases)


@pytest.fixture
def resident(project, monkeypatch):
    monkeypatch.chdir(project)
    PREVIEW.active = True
    host = Resident(project / "mkdocs.yml")
    try:
        yield host
    finally:
        host.close()
        PREVIEW.active = False
        PREVIEW.last_good.clear()


def full_build(project: Path, tmp: Path) -> str:
    return tree_digest(build_project(project, tmp / "fresh-site", cache_dir=tmp / "fresh-cache"))


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def update(host: Resident, *paths: Path) -> Path:
    """What the preview serves after the save: the folder finish gives, when it gives one (a
    saved page written first and the rest found to need a full build), as preview.serve does."""
    root = host.update(set(paths))
    return host.finish() or root


CLUSTER = "clusters/fictional-alpha.yaml"
# Edits of the case files, each with how the preview is expected to take it: only the pages made
# from the file ("pages"), or a full build because every page shows what changed ("full").
EDITS = {
    "figure": ("clusters/fictional-beta.yaml", "value: '4,100'", "value: 4200", "pages"),
    "cluster text": (CLUSTER, "summary: ", "summary: 补充说明（测试）。", "pages"),
    "cluster source": (CLUSTER, "source: fictional/figures", "source: fictional", "pages"),
    "lesson": ("lessons/*", "summary: ", "summary: 补充说明（测试）。", "pages"),
    "indicator catalogue": ("indicators.yaml", "definition: ", "definition: 补充说明（测试）。", "pages"),
    # What the derived view and every page's lists are made from (kept per loaded model, book.ByModel).
    "cluster name": (CLUSTER, "name: 虚构甲\n", "name: 虚构甲组\n", "full"),
    "industry": (CLUSTER, "  - 虚构茶叶\n", "  - 虚构茶叶\n  - 虚构竹笋\n", "pages"),
    "model name": (CLUSTER, "name: “虚构共富”", "name: 虚构共富", "pages"),
    "figure added": (CLUSTER, "  - {indicator: jobs-created, year: 2023, value: 120}\n",
                     "  - {indicator: jobs-created, year: 2023, value: 120}\n"
                     "  - {indicator: jobs-created, year: 2022, value: 90}\n", "full"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_update_gives_the_full_build_site(project, resident, tmp_path, edit):
    where, old, new, how = EDITS[edit]
    resident.build()
    path = next((project / "cases").glob(where))
    replace_in(path, old, new)
    root = update(resident, path)
    assert resident.last.split()[0] == how, resident.last
    assert tree_digest(root) == full_build(project, tmp_path)


def test_an_update_converts_only_the_pages_made_from_the_file(project, resident):
    root = resident.build()
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.html")}
    edit_beta(project)
    update(resident, project / "cases" / "clusters" / "fictional-beta.yaml")
    written = {p.relative_to(root).as_posix() for p, t in before.items() if p.stat().st_mtime_ns != t}
    assert "cases/fictional-beta/index.html" in written
    assert "cases/fictional-alpha/index.html" not in written
    assert "4,200" in (root / "cases" / "fictional-beta" / "index.html").read_text(encoding="utf-8")
    assert int(resident.last.split()[1]) == len(written) < len(before) / 2


def test_a_removed_cluster_and_a_hand_written_page_mean_a_full_build(project, resident, tmp_path):
    resident.build()
    gone = project / "cases" / "clusters" / "fictional-gamma.yaml"
    gone.unlink()
    root = update(resident, gone)
    assert resident.last == "full" and not (root / "cases" / "fictional-gamma").exists()
    about = project / "content" / "about.md"
    replace_in(about, "\n", "\n\n补充一段说明（测试）。\n")
    root = update(resident, about)
    assert resident.last == "full"
    assert tree_digest(root) == full_build(project, tmp_path)


def test_a_full_build_leaves_the_served_folder_whole_until_the_next_one_is_served(project, resident):
    """A full build writes a fresh folder; the one being served stays whole until the preview has
    published the new one (the next call), or a page opened in between would not be found."""
    first = resident.build()
    about = project / "content" / "about.md"
    replace_in(about, "\n", "\n\n补充一段说明（测试）。\n")
    second = resident.update({about})
    assert resident.last == "full" and second != first
    assert (first / "index.html").is_file() and (first / "cases" / "fictional-beta" / "index.html").is_file()
    assert resident.finish() is None
    assert not first.exists(), "once the new folder is served, the old one is removed"
    replace_in(about, "\n", "\n\n再补充一段说明（测试）。\n")
    third = resident.update({about})
    assert second.is_dir() and third.is_dir()
    resident.close()
    assert not second.exists() and not third.exists()


def test_a_broken_file_keeps_the_last_good_site_and_says_where(project, resident, tmp_path):
    root = resident.build()
    good = tree_digest(root)
    path = project / "cases" / "clusters" / "fictional-beta.yaml"
    replace_in(path, "value: '4,100'", "value: <script>alert(1)</script>")
    assert update(resident, path) == root
    errors, last_good = resident.errors()
    assert resident.last == "errors" and last_good
    assert any("fictional-beta.yaml:" in e for e in errors)
    assert tree_digest(root) == good, "nothing of the last good site is written while a file is broken"
    replace_in(path, "value: <script>alert(1)</script>", "value: 4200")
    root = update(resident, path)
    assert resident.errors()[0] == [] and resident.last.startswith("pages")
    assert tree_digest(root) == full_build(project, tmp_path)


def test_a_saved_cluster_page_is_written_first_and_the_rest_after(project, resident, tmp_path):
    """After a saved cluster file, update writes that cluster's page alone (the open page reloads
    at once); finish writes every other page it changed, and says so, so the open page reloads
    again: then the served site is exactly a full build's, its search index included."""
    root = resident.build()
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    path = project / "cases" / "clusters" / "fictional-beta.yaml"
    replace_in(path, "value: '4,100'", "value: 4200")
    assert resident.update({path}) == root
    assert resident.last == "first 1"
    written = {p.relative_to(root).as_posix() for p, t in before.items() if p.stat().st_mtime_ns != t}
    assert written == {"cases/fictional-beta/index.html"}
    assert "4,200" in (root / "cases" / "fictional-beta" / "index.html").read_text(encoding="utf-8")
    again = resident.finish()
    rest = {p.relative_to(root).as_posix() for p, t in before.items()
            if p.stat().st_mtime_ns != t and p.suffix == ".html"} - written
    assert rest, "the figure shows on the pages that compare every cluster"
    assert again == root and resident.last == f"pages {1 + len(rest)}"
    assert tree_digest(root) == full_build(project, tmp_path)
    # A second save: the search index follows the page written first (not converted again after).
    replace_in(path, "value: 4200", "value: 4300")
    resident.update({path})
    resident.finish()
    assert tree_digest(root) == full_build(project, tmp_path / "again")


def test_a_broken_cluster_file_shows_its_errors_without_a_second_pass(project, resident):
    root = resident.build()
    good = tree_digest(root)
    path = project / "cases" / CLUSTER
    replace_in(path, "summary: ", "summary: [未闭合\n")
    assert resident.update({path}) == root
    assert resident.last == "errors" and any("fictional-alpha.yaml:" in e for e in resident.errors()[0])
    assert resident.finish() is None
    assert tree_digest(root) == good


def test_kept_reads_follow_every_change_of_a_file(tmp_path, monkeypatch):
    """The resident load keeps what it read of each file by the file's status: a file left as it
    was is not read again, and any write is seen — a new status, or the same modification time and
    size set back by hand (only the change time differs), or a write just after the read."""
    import os

    from casebook import validate
    from casebook.store import open_store

    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    monkeypatch.chdir(tmp_path)
    store = open_store(tmp_path / "cache")
    validate.forget_kept()
    path = next((cases / "clusters").glob("*.yaml"))
    monkeypatch.setattr(validate, "_SETTLING", 0)  # every file here was written a moment ago
    names = lambda: {c.id: c.name for c in validate.load_casebook(cases, store, keep=True)[0].clusters.values()}  # noqa: E731
    before = names()
    assert path not in validate._READ  # parsed afresh: its decoded data is never kept
    assert names() == before
    assert path in validate._READ  # read back from the build cache: kept
    text = path.read_text(encoding="utf-8")
    cid = next(k for k, v in before.items() if v in text)
    name = before[cid]
    swapped = name[::-1] if name[::-1] != name else name + "x"
    aged = path.stat()
    path.write_text(text.replace(f"name: {name}", f"name: {swapped[:len(name)]}", 1), encoding="utf-8")
    os.utime(path, ns=(aged.st_atime_ns, aged.st_mtime_ns))
    assert path.stat().st_size == aged.st_size and path.stat().st_mtime_ns == aged.st_mtime_ns
    assert names()[cid] == swapped[:len(name)]
    path.write_text(text.replace(f"name: {name}", "name: 虚构的新名称", 1), encoding="utf-8")
    assert names()[cid] == "虚构的新名称"
    monkeypatch.setattr(validate, "_SETTLING", 2_000_000_000)
    path.write_text(text.replace(f"name: {name}", "name: 虚构的又一名称", 1), encoding="utf-8")
    assert names()[cid] == "虚构的又一名称"
    assert path not in validate._READ  # just written: read again next time, never kept
    validate.forget_kept()


def test_values_kept_by_model_follow_the_loaded_objects():
    from casebook.book import ByModel

    made: list[str] = []

    class Model:  # a loaded model stands in: only its identity matters
        def __init__(self, name: str) -> None:
            self.name = name

    def make(model: Model):
        return lambda: made.append(model.name) or model.name

    memo: ByModel[str] = ByModel()
    a, b = Model("a"), Model("b")
    memo.next_round()
    assert [memo.get(a, make(a)), memo.get(b, make(b))] == ["a", "b"]
    memo.next_round()
    assert memo.get(a, make(a)) == "a" and made == ["a", "b"]  # kept: not made again
    b2 = Model("b2")  # a file changed: a new object, made afresh
    assert memo.get(b2, make(b2)) == "b2" and made == ["a", "b", "b2"]
    memo.next_round()
    memo.next_round()  # b was not used in the last round: let go, and made again when it comes back
    assert memo.get(b, make(b)) == "b" and made == ["a", "b", "b2", "b"]
    assert memo.get(a, make(a)) == "a" and made.count("a") == 2


def test_the_first_save_makes_only_the_saved_clusters_pieces(project, resident, monkeypatch):
    """The preview's warm-up (BuildSession.keep_warm) leaves every cluster's kept pieces made: the
    first save makes the saved cluster's alone, as every later save does."""
    from casebook import derive, validate

    monkeypatch.setattr(validate, "_SETTLING", 0)  # every file here was written a moment ago
    resident.build()
    made: list[str] = []
    share = derive._share
    monkeypatch.setattr(derive, "_share", lambda cluster: made.append(cluster.id) or share(cluster))
    path = project / "cases" / CLUSTER
    replace_in(path, "summary: ", "summary: 补充说明（测试）。")
    resident.update({path})  # the first pass: the saved cluster's page, before the reload
    assert made == ["fictional-alpha"]
    resident.finish()
