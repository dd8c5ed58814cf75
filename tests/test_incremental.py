"""Incremental builds: after an edit only changed pages are rebuilt, and the site is exactly the one
a full build gives (FICTIONAL casebooks only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitebuild import build_project, make_project, tree_digest

FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"


def mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


@pytest.fixture
def project(tmp_path) -> Path:
    cases = tmp_path / "src"
    shutil.copytree(FIGURES, cases)
    project = make_project(tmp_path, cases)
    # Front matter of a hand-written page shows in every page's navigation (Material's subtitle).
    about = project / "content" / "about.md"
    about.write_text("---\nsubtitle: 测试副标题\n---\n\n" + about.read_text(encoding="utf-8"), encoding="utf-8")
    return project


def full_build(project: Path, tmp: Path) -> Path:
    """The same project built from nothing: a directory no build has used, and an empty cache (so
    no page, chart or parsed file of the incremental builds can leak into the comparison)."""
    return build_project(project, tmp / "fresh-site", cache_dir=tmp / "fresh-cache")


def edit_beta(project: Path) -> None:
    path = project / "cases" / "clusters" / "fictional-beta.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: '4,100'", "value: 4200"), encoding="utf-8")


def test_edit_rebuilds_only_what_changed_and_equals_a_full_build(project, tmp_path):
    site = build_project(project)
    before = mtimes(site)
    edit_beta(project)
    build_project(project)
    after = mtimes(site)
    changed = {p for p in after if after[p] != before.get(p)}
    assert "cases/fictional-beta/index.html" in changed
    assert "indicators/land-transferred/index.html" in changed
    assert "cases/fictional-alpha/index.html" not in changed, "an untouched cluster's page is not rebuilt"
    assert "indicators/collective-income/index.html" not in changed
    assert "4,200" in (site / "cases" / "fictional-beta" / "index.html").read_text(encoding="utf-8")
    assert tree_digest(site) == tree_digest(full_build(project, tmp_path))


def test_nothing_changed_rebuilds_no_page(project):
    """Each build in its own process, as from the command line: nothing in the key may depend on
    the process (such as a function's address in the Markdown settings)."""
    import subprocess
    import sys

    def cli_build() -> None:
        subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, check=True, capture_output=True)

    cli_build()
    site = project / "site"
    before = mtimes(site)
    cli_build()
    after = mtimes(site)
    rebuilt = {p for p in after if after[p] != before[p] and p.endswith(".html") and p != "404.html"}
    # Only the hand-written pages, which are always read (their front matter shows in the navigation).
    assert rebuilt == {"about/index.html", "guide/index.html"}


@pytest.mark.parametrize("change", ["config", "content", "removed cluster", "site touched", "cluster text",
                                    "lesson", "indicator catalogue", "cluster source"])
def test_other_changes_still_give_the_full_build_site(project, tmp_path, change):
    site = build_project(project)
    if change == "config":
        config = project / "mkdocs.yml"
        config.write_text(config.read_text(encoding="utf-8").replace("site_description: ", "site_description: 新"),
                          encoding="utf-8")
    elif change == "content":
        about = project / "content" / "about.md"
        about.write_text(about.read_text(encoding="utf-8") + "\n补充一段说明（测试）。\n", encoding="utf-8")
    elif change == "removed cluster":
        (project / "cases" / "clusters" / "fictional-gamma.yaml").unlink()
    elif change == "cluster text":
        path = project / "cases" / "clusters" / "fictional-alpha.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("summary: ", "summary: 补充说明（测试）。", 1),
                        encoding="utf-8")
    elif change == "cluster source":  # shown on the indicator pages too, as each figure's source
        path = project / "cases" / "clusters" / "fictional-alpha.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("source: fictional/figures", "source: fictional"),
                        encoding="utf-8")
    elif change == "lesson":
        path = next((project / "cases" / "lessons").glob("*.yaml"))
        path.write_text(path.read_text(encoding="utf-8").replace("summary: ", "summary: 补充说明（测试）。", 1),
                        encoding="utf-8")
    elif change == "indicator catalogue":
        path = project / "cases" / "indicators.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("definition: ", "definition: 补充说明（测试）。", 1),
                        encoding="utf-8")
    else:
        (site / "cases" / "fictional-alpha" / "index.html").write_text("tampered", encoding="utf-8")
    build_project(project)
    assert tree_digest(site) == tree_digest(full_build(project, tmp_path))
    if change == "removed cluster":
        assert not (site / "cases" / "fictional-gamma").exists()


def test_strict_build_checks_every_page(project):
    site = build_project(project)
    before = mtimes(site)
    build_project(project, strict=True)
    after = mtimes(site)
    assert after["cases/fictional-alpha/index.html"] != before["cases/fictional-alpha/index.html"]


def test_the_published_site_is_never_written_in_place(project, tmp_path):
    """Until the swap, the published site must stay exactly as it was, even through hard links."""
    import os

    site = build_project(project)
    mirror = tmp_path / "mirror"
    for path in site.rglob("*"):
        if path.is_file():
            (mirror / path.relative_to(site)).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, mirror / path.relative_to(site))  # the same files, not copies
    before = tree_digest(mirror)
    edit_beta(project)
    build_project(project)
    assert tree_digest(mirror) == before
