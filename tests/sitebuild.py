"""Helpers to build real sites in temporary directories (a real MkDocs build, never mocked)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from casebook.mkdocs_plugin import build

ROOT = Path(__file__).resolve().parents[1]


def make_project(tmp: Path, cases: Path) -> Path:
    """A copy of the project's site setup (mkdocs.yml, content/, theme_overrides/) around ``cases``."""
    project = tmp / "project"
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    for name in ("content", "theme_overrides"):
        if not (project / name).exists():
            shutil.copytree(ROOT / name, project / name)
    if (project / "cases").resolve() != cases.resolve():
        if (project / "cases").exists():
            shutil.rmtree(project / "cases")
        shutil.copytree(cases, project / "cases")
    return project


def build_project(project: Path, site: Path | None = None, strict: bool = False, cache_dir: Path | None = None) -> Path:
    return build(project / "mkdocs.yml", site or project / "site", strict=strict, cache_dir=cache_dir)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


FICTIONAL_OVERLAY = ROOT / "tests" / "fixtures" / "overlay-fictional"
CASES_DIR = ROOT / "cases"


def fictional_overlay(tmp: Path) -> Path:
    """A copy of the FICTIONAL (虚构) overlay outside the project: inside it, it is refused."""
    target = tmp / "overlay-fictional"
    if not target.exists():
        shutil.copytree(FICTIONAL_OVERLAY, target)
    return target


def build_edition(project: Path, overlay: Path, internal: bool = True, site: Path | None = None) -> Path:
    """The internal edition (into site-internal/ unless ``site``), or the public one leak-checked."""
    from casebook.mkdocs_plugin import open_session

    session = open_session(project / "mkdocs.yml")
    session.use_overlay(overlay, internal=internal)
    return build(project / "mkdocs.yml", site, session=session)
