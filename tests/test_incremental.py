"""Incremental builds: after an edit only changed pages are rebuilt, and the site is exactly the one
a full build gives (FICTIONAL casebooks only)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
    texts = [p for p in after if p.startswith("search/text/")]
    assert texts and [p for p in texts if p not in changed], "unchanged pages' search texts are linked in, not written"
    assert [p for p in texts if p in changed], "the edited page's search text is written"
    assert tree_digest(site) == tree_digest(full_build(project, tmp_path))


def test_nothing_changed_rebuilds_no_page(project):
    """Each build in its own process, as from the command line: nothing in the key may depend on
    the process (such as a function's address in the Markdown settings). A second build with every
    input as it was, onto the site as the first left it, writes nothing at all and says so."""
    import subprocess
    import sys

    def cli_build() -> str:
        return subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, check=True, capture_output=True,
                              text=True).stdout

    assert "网站已生成" in cli_build()
    site = project / "site"
    before = mtimes(site)
    out = cli_build()
    assert "网站已是最新" in out and "casebook build --strict" in out, out
    assert mtimes(site) == before, "a build with nothing changed writes no file"
    (project / "content" / "about.md").touch()  # the same bytes: still nothing to build
    assert "网站已是最新" in cli_build()
    assert mtimes(site) == before


HOOK = "def on_post_page(output, page, config):\n    return output.replace('</body>', '<!-- {} --></body>')\n"


@pytest.mark.parametrize("change", ["config", "content", "removed cluster", "site touched", "cluster text",
                                    "lesson", "indicator catalogue", "cluster source", "site file removed",
                                    "site file added", "theme override", "hook file", "environment variable",
                                    "a new case file"])
def test_other_changes_still_give_the_full_build_site(project, tmp_path, change, monkeypatch):
    """Every kind of input a build reads, changed after a build, is built (never the no-op)."""
    # (The hook's two texts differ in length: Python reuses a compiled module of the same size and
    # second, whatever the build does.)
    if change == "hook file":  # MkDocs runs hooks named in the settings: a file beside them
        (project / "hooks").mkdir()
        (project / "hooks" / "mark.py").write_text(HOOK.format("标记一"), encoding="utf-8")
        config = project / "mkdocs.yml"
        config.write_text(config.read_text(encoding="utf-8") + "\nhooks:\n  - hooks/mark.py\n", encoding="utf-8")
    if change == "environment variable":
        monkeypatch.setenv("CASEBOOK_TEST_DESCRIPTION", "说明一（测试）")
        config = project / "mkdocs.yml"
        text = config.read_text(encoding="utf-8")
        config.write_text(re.sub(r"^site_description: .*$", "site_description: !ENV [CASEBOOK_TEST_DESCRIPTION, 无]",
                                 text, count=1, flags=re.M), encoding="utf-8")
    site = build_project(project)
    if change == "hook file":
        assert "<!-- 标记一 -->" in (site / "index.html").read_text(encoding="utf-8")
        (project / "hooks" / "mark.py").write_text(HOOK.format("标记二号"), encoding="utf-8")
    elif change == "environment variable":
        assert "说明一（测试）" in (site / "index.html").read_text(encoding="utf-8")
        monkeypatch.setenv("CASEBOOK_TEST_DESCRIPTION", "说明二（测试）")
    elif change == "theme override":
        main = next((project / "theme_overrides").rglob("*.html"))
        main.write_text(main.read_text(encoding="utf-8") + "\n{# 测试 #}\n", encoding="utf-8")
    elif change == "site file removed":
        (site / "cases" / "fictional-alpha" / "index.html").unlink()
    elif change == "site file added":
        (site / "extra.html").write_text("不是构建写的", encoding="utf-8")
    elif change == "a new case file":
        beta = project / "cases" / "clusters" / "fictional-beta.yaml"
        text = beta.read_text(encoding="utf-8")
        assert "id: fictional-beta" in text
        (project / "cases" / "clusters" / "fictional-delta.yaml").write_text(
            text.replace("id: fictional-beta", "id: fictional-delta"), encoding="utf-8")
    elif change == "config":
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
    elif change == "site touched":
        (site / "cases" / "fictional-alpha" / "index.html").write_text("tampered", encoding="utf-8")
    before = mtimes(site)
    if change == "hook file":  # MkDocs loads a hook once per process: a build of its own
        import subprocess
        import sys

        subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, check=True, capture_output=True)
    else:
        build_project(project)
    assert mtimes(site) != before, "built, not left as it was"
    if change != "hook file":  # (in this process, MkDocs would run the hook it loaded first)
        assert tree_digest(site) == tree_digest(full_build(project, tmp_path))
    if change == "removed cluster":
        assert not (site / "cases" / "fictional-gamma").exists()
    if change == "site file added":
        assert not (site / "extra.html").exists()
    home = (site / "index.html").read_text(encoding="utf-8")
    if change == "hook file":
        assert "<!-- 标记二号 -->" in home and "标记一" not in home
    if change == "environment variable":
        assert "说明二（测试）" in home
    if change == "a new case file":
        assert (site / "cases" / "fictional-delta" / "index.html").is_file()


def test_a_leak_checked_build_always_checks(tmp_path):
    """A build with the leak check is never the no-op: the check is what it is run for."""
    from casebook.mkdocs_plugin import build, open_session

    from sitebuild import ROOT, fictional_overlay

    project = make_project(tmp_path, ROOT / "cases")  # the (FICTIONAL) overlay is the real casebook's
    overlay = fictional_overlay(tmp_path)
    for _ in range(2):
        session = open_session(project / "mkdocs.yml")
        session.use_overlay(overlay, internal=False)
        build(project / "mkdocs.yml", session=session)
        assert not session.skipped and session.leak_report is not None
    session = open_session(project / "mkdocs.yml")
    session.use_overlay(overlay, internal=True)
    build(project / "mkdocs.yml", session=session)
    session = open_session(project / "mkdocs.yml")
    session.use_overlay(overlay, internal=True)
    build(project / "mkdocs.yml", session=session)
    assert session.skipped, "the internal edition, built again with nothing changed, is left as it is"


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


def _check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "casebook", "check", "--cases", "cases"], cwd=project,
                          capture_output=True, text=True)


def test_check_reads_back_what_a_build_validated_unless_git_tracks_the_cache(project):
    """`casebook check` beside a build cache reads clean, unchanged files back from it (as the build
    does); a cache that arrived in a commit is never read. Seen through a cached model altered to name
    an indicator its file does not: only a check that read it reports that."""
    import sqlite3

    assert _check(project).returncode == 0
    # From the project folder, as the check runs: a file's messages name it as seen from there.
    subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, check=True, capture_output=True)
    with sqlite3.connect(project / ".cache" / "casebook" / "cache.sqlite") as db:
        rows = db.execute("SELECT key, value FROM entries WHERE ns = 'model'").fetchall()
        altered = [(bytes(v).decode().replace('"indicator":"collective-income"', '"indicator":"no-such-indicator"'), k)
                   for k, v in rows]  # the clusters' figures, not the catalogue's own entry
        assert any("no-such-indicator" in text for text, _ in altered)
        db.executemany("UPDATE entries SET value = ? WHERE ns = 'model' AND key = ?",
                       [(text.encode(), k) for text, k in altered])
    read = _check(project)
    assert read.returncode == 1 and "no-such-indicator" in read.stdout, read.stdout + read.stderr
    env = {**os.environ, "GIT_AUTHOR_NAME": "虚构", "GIT_AUTHOR_EMAIL": "x@example.invalid",
           "GIT_COMMITTER_NAME": "虚构", "GIT_COMMITTER_EMAIL": "x@example.invalid"}
    for cmd in (["init", "-q"], ["add", "-f", "."], ["commit", "-q", "-m", "虚构：缓存被提交"]):
        subprocess.run(["git", *cmd], cwd=project, env=env, check=True, capture_output=True)
    tracked = _check(project)
    assert tracked.returncode == 0 and "检查通过" in tracked.stdout, tracked.stdout + tracked.stderr


def test_no_build_is_skipped_for_an_input_found_beyond_the_project_files(project, tmp_path, monkeypatch):
    """Settings inherited from a hidden file and from outside the project, the variables they
    name, a hook outside the project: each changed after a build is built, never 网站已是最新."""
    outer = tmp_path / "outer.yml"
    outer.write_text("copyright: !ENV [CASEBOOK_TEST_COPY, 无]\n", encoding="utf-8")
    (project / ".base.yml").write_text(f"INHERIT: {outer}\nsite_author: 作者一（测试）\n", encoding="utf-8")
    hook = tmp_path / "outhook.py"
    hook.write_text(HOOK.format("钩子一"), encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(f"INHERIT: .base.yml\nhooks:\n  - {hook}\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("CASEBOOK_TEST_COPY", "版权一（测试）")

    def cli_build() -> tuple[str, str]:
        out = subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, check=True,
                             capture_output=True, text=True).stdout
        return out, (project / "site" / "index.html").read_text(encoding="utf-8")

    out, home = cli_build()
    assert "作者一（测试）" in home and "版权一（测试）" in home and "钩子一" in home
    changes = [
        (lambda: (project / ".base.yml").write_text((project / ".base.yml").read_text(encoding="utf-8")
                                                    .replace("作者一", "作者二"), encoding="utf-8"), "作者二（测试）"),
        (lambda: outer.write_text("copyright: !ENV [CASEBOOK_TEST_COPY2, 版权三（测试）]\n", encoding="utf-8"),
         "版权三（测试）"),
        (lambda: monkeypatch.setenv("CASEBOOK_TEST_COPY2", "版权四（测试）"), "版权四（测试）"),
        (lambda: hook.write_text(HOOK.format("钩子二号"), encoding="utf-8"), "钩子二号"),
    ]
    for change, shown in changes:
        change()
        out, home = cli_build()
        assert "网站已是最新" not in out and shown in home, (shown, out)


def test_a_linked_folder_among_the_pages_is_never_a_no_op(project, tmp_path):
    """A build refuses a symbolic link among the hand-written pages: a second build must say so
    too, not find the (unreadable) folder unchanged."""
    build_project(project)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "x.md").write_text("# 共享（测试）\n", encoding="utf-8")
    (project / "content" / "shared").symlink_to(tmp_path / "shared")
    proc = subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1 and "网站已是最新" not in proc.stdout and "符号链接" in proc.stderr, proc.stdout + proc.stderr


def test_an_input_changed_while_the_build_ran_and_changed_back_is_built_again(project):
    """The key is taken before the build: an edit during it (here by a hook, at the build's end),
    then undone, must not leave the site of the edit as if it were the site of the undone file."""
    about = project / "content" / "about.md"
    original = about.read_text(encoding="utf-8")
    (project / "hooks").mkdir()
    (project / "hooks" / "edit.py").write_text(
        "from pathlib import Path\n\n\ndef on_page_markdown(markdown, page, config, files):\n"
        f"    Path({str(about)!r}).write_text({original!r} + '\\n中途的改动（测试）\\n', encoding='utf-8')\n"
        "    return markdown\n", encoding="utf-8")
    config = project / "mkdocs.yml"
    plain = config.read_text(encoding="utf-8")
    config.write_text(plain + "\nhooks:\n  - hooks/edit.py\n", encoding="utf-8")

    def cli_build() -> str:
        return subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, check=True,
                              capture_output=True, text=True).stdout

    cli_build()
    about.write_text(original, encoding="utf-8")  # undone after the build
    assert "网站已是最新" not in cli_build()


# --------------------------------------------------------------------------- the write-ups' second process


@pytest.fixture
def in_parent(monkeypatch) -> list[str]:
    """Every write-up the build's own process makes (the second process's are not seen here)."""
    import casebook.writeup_docx as wd

    made: list[str] = []
    real = wd.site_documents

    def spy(*args, **kwargs):
        for path, key, data in real(*args, **kwargs):
            made.append(path)
            yield path, key, data

    monkeypatch.setattr(wd, "site_documents", spy)
    return made


def test_write_ups_made_beside_the_build_are_the_ones_the_build_would_make(project, tmp_path, in_parent,
                                                                           monkeypatch):
    """A command's build has the write-ups made by a second process while it renders pages; the
    site is file for file the one made with every write-up made in the build's own process, and
    after an edit only the edited cluster's write-up and the whole casebook's are written again."""
    from casebook import present
    from casebook.session import BuildSession

    site = build_project(project)
    assert in_parent == [], "the second process made the write-ups"
    before = mtimes(site)
    edit_beta(project)
    build_project(project)
    after = mtimes(site)
    changed = {p for p in after if after[p] != before.get(p)}
    assert present.writeup_path("fictional-beta") in changed and present.writeup_path() in changed
    assert present.writeup_path("fictional-alpha") not in changed, "an unchanged write-up is linked in"
    assert in_parent == []
    monkeypatch.setattr(BuildSession, "_start_writeups", lambda self, site_dir: None)
    fresh = full_build(project, tmp_path)
    assert len(in_parent) == len([p for p in after if p.startswith("downloads/") and p.endswith(".docx")]) > 2
    assert tree_digest(site) == tree_digest(fresh)


def test_write_ups_of_a_casebook_other_than_the_pages_are_never_published(project, tmp_path, in_parent,
                                                                         monkeypatch):
    """The second process reads the casebook itself: when it read other files (an editor saved
    during the build) its write-ups are set aside and the build makes them from the casebook its
    pages show; when it fails, the build makes them too."""
    from concurrent.futures import Future

    import casebook.writeup_docx as wd

    other = tmp_path / "other-cases"
    shutil.copytree(project / "cases", other)
    beta = other / "clusters" / "fictional-beta.yaml"
    beta.write_text(beta.read_text(encoding="utf-8").replace("value: '4,100'", "value: 4300"), encoding="utf-8")
    real = wd.start_site_documents
    monkeypatch.setattr(wd, "start_site_documents", lambda cases, *rest: real(other, *rest))
    site = build_project(project)
    assert len(in_parent) > 2, "the build made the write-ups itself"
    assert tree_digest(site) == tree_digest(full_build(project, tmp_path))

    def failing(*_):
        future: Future = Future()
        future.set_exception(RuntimeError("生成经验材料失败：虚构"))
        return future

    monkeypatch.setattr(wd, "start_site_documents", failing)
    in_parent.clear()
    shutil.rmtree(site)
    build_project(project)
    assert len(in_parent) > 2
    assert tree_digest(site) == tree_digest(tmp_path / "fresh-site")
