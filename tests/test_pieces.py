"""Pages made from every cluster (the finder, the comparison, the completeness grid) keep each
cluster's piece of them in the build cache (render._Pieces): after an edit, the page is the page
rendered afresh, whatever was edited, and only the edited cluster's pieces are rendered again.
Run on the fictional numeric casebook (every figure in it is made up, 虚构)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from casebook import render
from casebook.render import CELL_END, PageCache, render_site
from casebook.store import Store
from casebook.validate import load_casebook

FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"
WITH_PIECES = ("cases/index.md", "compare.md", "completeness.md")

# Edits of a cluster file that change what its pieces show, each the kind a pull request makes.
EDITS = {
    "name": ("name: 虚构乙", "name: '虚构乙改'"),
    "figure": ("year: 2023, value: 60}", "year: 2023, value: 61}"),
    "hostile name": ("name: 虚构乙", "name: '<script>alert(1)</script>" + CELL_END + "&lt;'"),
    "separator in text": ("name: 虚构乙", "name: '" + CELL_END + CELL_END + "'"),
}


def _pages(cases: Path, store: Store | None) -> dict[str, str]:
    book, errors = load_casebook(cases)
    assert not errors
    site = render_site(book, pages=PageCache(store) if store is not None else None)
    return {p.path: p.content for p in site.pages if p.path in WITH_PIECES}


def _edit(cases: Path, old: str, new: str) -> None:
    path = cases / "clusters" / "fictional-beta.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if new.startswith("name: '"):  # a name is quoted from the source: the source says it too
        source = cases / "sources" / "fictional.txt"
        name = new.removeprefix("name: '").removesuffix("'")
        source.write_text(source.read_text(encoding="utf-8") + name + "\n", encoding="utf-8")


def _count(store: Store) -> int:
    assert store._db is not None
    return store._db.execute("SELECT COUNT(*) FROM entries WHERE ns = 'piece'").fetchone()[0]


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_a_page_of_pieces_after_an_edit_is_the_page_rendered_afresh(tmp_path, edit):
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    store = Store(tmp_path / "cache.sqlite")
    before = _pages(cases, store)
    assert before == _pages(cases, None)
    kept = _count(store)
    assert kept == 3 * 3, "a piece per cluster on each of the three pages"
    old, new = EDITS[edit]
    _edit(cases, old, new)
    render.forget_kept()
    after = _pages(cases, store)
    assert after == _pages(cases, None)
    assert after != before
    assert _count(store) == kept + 3, "only the edited cluster's pieces were rendered again"


def test_case_text_never_splits_a_column(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FIGURES, cases)
    _edit(cases, "name: 虚构乙", f"name: '{CELL_END}'")
    pages = _pages(cases, Store(tmp_path / "cache.sqlite"))
    for content in pages.values():
        assert CELL_END not in content, "the separator is the template's alone, never written out"
    # The comparison: a header and the same number of cells in every row, one per cluster.
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", pages["compare.md"], re.S)
    assert rows and all(len(re.findall(r"<t[dh][ >]", row)) == 1 + 3 for row in rows)


def test_a_piece_is_named_by_its_template_never_by_a_path():
    book, _ = load_casebook(FIGURES)
    renderer = render._Renderer(book, render.derive(book), render.environment(), PageCache(None), "k",
                                lambda c: c.model_dump_json())
    pieces = render._Pieces(renderer, "compare/", lambda c: c.model_dump_json())
    with pytest.raises(ValueError, match="not a piece"):
        pieces("../cluster", next(iter(book.clusters.values())))
