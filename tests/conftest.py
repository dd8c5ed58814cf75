"""Shared test helpers. Fictional data lives in tests/fixtures/fictional and says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from casebook.cli import main

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A writable copy of the fictional casebook."""
    target = tmp_path / "cases"
    shutil.copytree(FICTIONAL, target)
    return target


class Checker:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, cases: Path, fmt: str = "text") -> tuple[int, str]:
        self.capsys.readouterr()
        rc = main(["check", "--cases", str(cases), "--format", fmt])
        return rc, self.capsys.readouterr().out

    def json(self, cases: Path) -> tuple[int, dict]:
        rc, out = self(cases, "json")
        return rc, json.loads(out)


@pytest.fixture
def check(capsys: pytest.CaptureFixture[str]) -> Checker:
    return Checker(capsys)


@pytest.fixture(scope="session")
def real_site(tmp_path_factory) -> Path:
    """The real casebook, built once per test session by a real MkDocs build."""
    from sitebuild import build_project, make_project

    return build_project(make_project(tmp_path_factory.mktemp("real"), CASES))


@pytest.fixture(scope="session")
def internal_site(tmp_path_factory) -> Path:
    """The real casebook's internal edition with the FICTIONAL (虚构) overlay of tests/fixtures."""
    from sitebuild import build_edition, fictional_overlay, make_project

    tmp = tmp_path_factory.mktemp("internal")
    return build_edition(make_project(tmp, CASES), fictional_overlay(tmp))


@pytest.fixture(scope="session")
def internal_base(internal_site):
    from browser_support import serve_directory

    with serve_directory(internal_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from browser_support import CHROMIUM, CHROMIUM_ARGS, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def real_base(real_site):
    from browser_support import serve_directory

    with serve_directory(real_site) as url:
        yield url
