"""The colophon (casebook.colophon): who publishes the casebook, when it was last updated, its source —
computed by the library from the case files and the git history, never from the build time, and
shown under every page by every host, the same in a full and an incremental build.

Data: the fictional casebook under tests/fixtures (虚构), in real git repositories made here with
fixed commit dates; sites built by real MkDocs, the docs-folder host and ProperDocs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest

from casebook.colophon import UNKNOWN_DATE, UNKNOWN_PUBLISHER, colophon
from casebook.validate import load_casebook

from sitebuild import build_project, make_project

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
SECTION = re.compile(r'<section class="cb-colophon".*?</section>', re.S)


def git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "虚构编者", "GIT_AUTHOR_EMAIL": "editor@example.org",
           "GIT_COMMITTER_NAME": "虚构编者", "GIT_COMMITTER_EMAIL": "editor@example.org"}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def commit_all(repo: Path, date: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"虚构提交 {date}", date=date)


def requires_git() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")


def set_source(cases: Path, **fields: str | None) -> None:
    """Set (or, with None, remove) top-level fields of the fictional source document."""
    path = cases / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in fields.items():
        text = re.sub(rf"^    {key}: .*\n", "", text, flags=re.M)
        if value is not None:
            text = text.replace("    kind: 虚构测试材料\n", f"    kind: 虚构测试材料\n    {key}: {value}\n", 1)
    path.write_text(text, encoding="utf-8")


def the_colophon(cases: Path):
    book, errors = load_casebook(cases)
    assert not errors, errors
    return colophon(book, cases)


def test_the_date_is_the_last_commit_to_the_cases_else_the_sources_else_unknown(tmp_path, monkeypatch):
    requires_git()
    repo = tmp_path / "repo"
    cases = repo / "cases"
    shutil.copytree(FICTIONAL, cases)
    # Not in a repository: the latest date of a source document.
    c = the_colophon(cases)
    assert (c.updated, c.updated_from) == (dt.date(2024, 5, 1), "data")
    assert c.updated_text() == "更新日期：2024年5月1日"
    set_source(cases, date=None)
    assert the_colophon(cases).updated is None and the_colophon(cases).updated_text() == UNKNOWN_DATE
    set_source(cases, date="2024-05-01")

    git(repo, "init", "-q")
    (repo / "README.md").write_text("虚构项目\n", encoding="utf-8")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "虚构", date="2020-01-02T09:00:00+08:00")
    # In a repository where no commit has touched the cases yet: still the data.
    assert the_colophon(cases).updated_from == "data"
    commit_all(repo, "2021-03-04T10:00:00+08:00")
    c = the_colophon(cases)
    assert (c.updated, c.updated_from) == (dt.date(2021, 3, 4), "git")
    # A commit elsewhere in the repository is not an update of the casebook.
    (repo / "README.md").write_text("虚构项目，第二版\n", encoding="utf-8")
    commit_all(repo, "2022-08-09T10:00:00+08:00")
    assert the_colophon(cases).updated == dt.date(2021, 3, 4)
    # An edit not yet committed is not one either; committed, it is.
    (cases / "README.md").write_text("虚构的说明，已修改\n", encoding="utf-8")
    assert the_colophon(cases).updated == dt.date(2021, 3, 4)
    commit_all(repo, "2023-06-07T23:30:00+08:00")
    assert the_colophon(cases).updated == dt.date(2023, 6, 7)
    # Without git the data answers again — never the day of the build.
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    c = the_colophon(cases)
    assert (c.updated, c.updated_from) == (dt.date(2024, 5, 1), "data")
    assert c.updated != dt.date.today() or dt.date.today() == dt.date(2024, 5, 1)


@pytest.mark.parametrize("publisher, masks", [(None, 0), ('"*"', 1), ('"*区*镇虚构办公室"', 2), ("虚构农业农村局", 0)])
def test_the_publisher_is_shown_as_written_with_each_star_masked(tmp_path, publisher, masks):
    cases = tmp_path / "cases"
    shutil.copytree(FICTIONAL, cases)
    if publisher is not None:
        text = cases / "sources" / "fictional.txt"
        text.write_text(text.read_text(encoding="utf-8") + publisher.strip('"') + "\n", encoding="utf-8")
    set_source(cases, publisher=publisher)
    c = the_colophon(cases)
    html = str(c.publisher_html())
    assert html.count('<abbr class="cb-star"') == masks
    if publisher is None:
        assert c.publisher is None and html == UNKNOWN_PUBLISHER and c.publisher_text() == UNKNOWN_PUBLISHER
    else:
        written = publisher.strip('"')
        assert c.publisher == written and c.publisher_text() == f"发布单位：{written}"
        assert re.sub(r"<[^>]+>", "", html) == f"发布单位：{written}"
    values = c.theme_values()
    assert values["source_title_html"] == "虚构测试材料（非真实数据）" and values["source_href"] == "sources/#fictional"
    assert set(values) == {"publisher_html", "updated_html", "source_title_html", "source_more_html", "source_href",
                           "print_text", "edition_mark_html", "edition_notice_html"}
    assert values["edition_mark_html"] == values["edition_notice_html"] == ""  # the public edition says nothing


# --------------------------------------------------------------------------- the footer in built sites


@pytest.fixture(scope="module")
def dated_project(tmp_path_factory) -> Path:
    """A project whose cases were last committed on 2021-03-04 (虚构), with a masked publisher."""
    requires_git()
    tmp = tmp_path_factory.mktemp("colophon")
    cases = tmp / "src-cases"
    shutil.copytree(FICTIONAL, cases)
    text = cases / "sources" / "fictional.txt"
    text.write_text(text.read_text(encoding="utf-8") + "*区虚构办公室\n", encoding="utf-8")
    set_source(cases, publisher='"*区虚构办公室"')
    project = make_project(tmp, cases)
    (project / ".gitignore").write_text(".cache/\nsite/\n", encoding="utf-8")  # as a real project keeps them out
    git(project, "init", "-q")
    commit_all(project, "2021-03-04T10:00:00+08:00")
    return project


def footers(site: Path) -> dict[str, str]:
    out = {}
    for page in sorted(site.rglob("*.html")):
        found = SECTION.findall(page.read_text(encoding="utf-8"))
        assert len(found) == 1, (page, len(found))
        out[page.relative_to(site).as_posix()] = found[0]
    return out


def test_every_page_has_the_footer_the_same_in_a_full_and_an_incremental_build(dated_project, tmp_path):
    from casebook.mkdocs_plugin import build

    site = build_project(dated_project)
    first = footers(site)
    assert len(first) >= 10
    for rel, section in first.items():
        assert "发布单位：" in section and section.count('<abbr class="cb-star"') == 1, rel
        assert '更新日期：<time datetime="2021-03-04">2021年3月4日</time>' in section, rel
        link = re.search(r'来源：<a href="([^"]*)">虚构测试材料（非真实数据）</a>', section)
        target = urljoin(f"http://site.example/{rel}", link.group(1)) if link else ""
        assert target.replace("/index.html#", "/#") == "http://site.example/sources/#fictional", (rel, target)
    # An edit to a cluster, not committed: an incremental build, whose footer is unchanged.
    cluster = dated_project / "cases" / "clusters" / "fictional-a.yaml"
    cluster.write_text(cluster.read_text(encoding="utf-8").replace(
        "summary: 虚构的测试组团，数据均为编造，仅供测试。", "summary: 虚构的测试组团，数据均为编造，仅供测试，已修改。"), encoding="utf-8")
    again = build_project(dated_project)
    full = build(dated_project / "mkdocs.yml", tmp_path / "full", incremental_build=False)
    assert footers(again) == first == footers(full)
    assert "已修改" in (again / "cases" / "fictional-a" / "index.html").read_text(encoding="utf-8")
    # Committed, the edit is an update: every page says so, incremental or full.
    commit_all(dated_project, "2022-11-12T10:00:00+08:00")
    later = footers(build_project(dated_project))
    assert later == footers(build(dated_project / "mkdocs.yml", tmp_path / "full2", incremental_build=False))
    assert all("2022年11月12日" in s and "2021年3月4日" not in s for s in later.values())


def test_the_docs_folder_host_and_properdocs_show_the_same_footer(dated_project, tmp_path, capsys):
    from casebook.cli import main

    mkdocs_site = footers(build_project(dated_project, tmp_path / "mkdocs-site"))
    rc = main(["build", "--config", str(dated_project / "mkdocs.yml"), "--docs-folder", str(tmp_path / "folder"),
               "--site-dir", str(tmp_path / "folder-site")])
    assert rc == 0, capsys.readouterr().err
    folder_site = footers(tmp_path / "folder-site")
    assert {k: v for k, v in folder_site.items() if k in mkdocs_site} == mkdocs_site

    from test_second_host import properdocs

    proc = properdocs(dated_project, "-d", str(tmp_path / "proper-site"))
    assert proc.returncode == 0, proc.stderr
    assert footers(tmp_path / "proper-site") == mkdocs_site
