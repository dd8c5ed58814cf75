"""Golden tests: the pages rendered from the fictional casebook, compared with reviewed copies.

A change to a golden file is reviewed like code. To regenerate after an intended change:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from casebook.render import render_site
from casebook.validate import load_casebook

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
GOLDEN = Path(__file__).parent / "golden"
PAGES = ["index.md", "cases/fictional-a.md", "lessons.md", "indicators/collective-income.md", "models.md"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    book, errors = load_casebook(FICTIONAL)
    assert errors == []
    return {p.path: p.content for p in render_site(book).pages}


@pytest.mark.parametrize("path", PAGES)
def test_page_matches_golden(rendered, path):
    golden = GOLDEN / path.replace("/", "__")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered[path], encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run with UPDATE_GOLDEN=1"
    assert rendered[path] == golden.read_text(encoding="utf-8")
