"""Hand-written pages (content/) and theme overrides come by pull request like case files: no link out
of the project, no special files, front matter readable and limited to what a page needs, and nothing
on a page that can fetch from another host, break the theme's scripts or redirect the reader."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from casebook.content import ALLOWED_META, check_content

from sitebuild import build_project, make_project

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, FICTIONAL)


def errors_of(project: Path) -> list[tuple[str, int, str]]:
    found = check_content(project / "content", project / "theme_overrides")
    return [(Path(e.file).name, e.line, e.message) for e in found]


def test_the_projects_own_pages_pass(project):
    assert check_content(project / "content", project / "theme_overrides") == []


@pytest.mark.parametrize("where", ["content", "content/guide", "theme_overrides", "theme_overrides/partials"])
@pytest.mark.parametrize("kind", ["file", "folder", "dangling"])
def test_symbolic_links_are_refused_wherever_they_are(project, tmp_path, where, kind):
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "token.txt").write_text("SECRET-虚构", encoding="utf-8")
    link = project / where / "link.txt"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to({"file": secret / "token.txt", "folder": secret, "dangling": tmp_path / "nope"}[kind])
    found = errors_of(project)
    assert [(n, line) for n, line, _ in found] == [("link.txt", 1)]
    assert "符号链接" in found[0][2] and "提示" in found[0][2]


def test_special_files_are_refused(project):
    os.mkfifo(project / "content" / "pipe.md")
    found = errors_of(project)
    assert [(n, line) for n, line, _ in found] == [("pipe.md", 1)] and "不是普通文件" in found[0][2]


@pytest.mark.parametrize(("front", "line", "words"), [
    ("title: [未闭合\n", 2, "没有成对"),
    ("template: redirect.html\n", 2, "不允许“template”"),
    ("title: 好\nlocation: \"javascript:alert(1)//\"\n", 3, "不允许“location”"),
    ("redirect: https://evil.example/\n", 2, "不允许“redirect”"),
    ("icon: ../../../../etc/passwd\n", 2, "图标名"),
    ("status: \"new\\\" onload=\\\"x\"\n", 2, "状态名"),
    ("hide:\n  - everything\n", 2, "navigation"),
    ("- 一\n- 二\n", 2, "字段名: 值"),
])
def test_front_matter_is_read_and_limited(project, front, line, words):
    (project / "content" / "page.md").write_text(f"---\n{front}---\n# 页面（虚构）\n", encoding="utf-8")
    found = errors_of(project)
    assert [(n, ln) for n, ln, _ in found] == [("page.md", line)], found
    assert words in found[0][2] and "提示" in found[0][2]


def test_allowed_front_matter_passes(project):
    (project / "content" / "page.md").write_text(
        "---\ntitle: 页面（虚构）\ndescription: 说明\nicon: material/book-open\nstatus: new\n"
        "hide:\n  - toc\n  - footer\nsearch:\n  exclude: true\ntags:\n  - 虚构\n---\n# 页面\n", encoding="utf-8")
    assert errors_of(project) == []
    assert set(ALLOWED_META) >= {"title", "description", "icon", "status", "hide", "search"}


def test_a_build_with_a_bad_page_fails_and_says_where(project):
    import subprocess
    import sys

    (project / "content" / "page.md").write_text("---\ntemplate: redirect.html\n---\n# 页面\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "casebook", "build"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "content/page.md:2:1" in proc.stderr and "原有网站保持不变" in proc.stderr


HOSTILE_PAGE = """# 敌意页面（虚构）

配置示例："search": "assets/javascripts/workers/search.0123abcd.min.js" 结束。

![远程图](https://evil.example/track.png) ![协议相对](//evil.example/t2.png)

<img src="https://evil.example/t3.png" alt="x">

<img src="/&#9;/evil-tab.example/x.png" alt="x"> <img src="&#1;//evil-ctl.example/x.png" alt="x">
<img src="/
/evil-lf.example/x.png" alt="x"> <img src=" HTTPS://evil-case.example/x.png" alt="x">

<svg><rect width="9" height="9" fill="url(http://evil-fill.example/a.svg#p)"/><rect width="9" height="9"
stroke="url(https://evil-stroke.example/a.svg#p)" clip-path="url(http://evil-clip.example/c.svg#c)"/></svg>

## 坏百分号 {: #d%zz }

## 引号标题 {: #b%22c }

## 正常标题 {: #plain-id }

核桃 虚构检索词
"""


def test_a_hostile_hand_written_page_fetches_nothing_and_breaks_no_script(project, browser):
    from browser_support import is_local, serve_directory

    (project / "content" / "hostile.md").write_text(HOSTILE_PAGE, encoding="utf-8")
    site = build_project(project)
    html = (site / "hostile" / "index.html").read_text(encoding="utf-8")
    assert 'src="https://evil' not in html and 'src="//evil' not in html
    assert 'id="d%zz"' not in html and 'id="b%22c"' not in html and 'id="plain-id"' in html
    with serve_directory(site) as base:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        foreign: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: foreign.append(r.url) if not is_local(r.url, base) else None)
        page.goto(base + "hostile/")
        page.click("[data-md-component=search-query]")
        page.wait_for_function(
            "() => !/初始化/.test(document.querySelector('.md-search-result__meta').textContent)", timeout=20_000)
        page.fill("[data-md-component=search-query]", "虚构检索词")
        page.wait_for_function("() => document.querySelectorAll('.md-search-result__item').length > 0",
                               timeout=10_000)
        page.close()
    assert errors == [] and foreign == []


@pytest.mark.parametrize("host", ["mkdocs", "properdocs"])
def test_the_hosts_own_log_lines_cannot_drive_a_terminal_or_ci(project, tmp_path, host):
    import shutil
    import subprocess

    if shutil.which(host) is None and not (Path(sys.executable).parent / host).exists():
        pytest.fail(f"{host} is not installed")
    (project / "content" / "bad.md").write_text("# 页（虚构）\n\n[坏链接](nowhere\x1b[2J\n::error::x.md)\n",
                                                encoding="utf-8")
    proc = subprocess.run([str(Path(sys.executable).parent / host), "build", "-f", "mkdocs.yml", "-d", str(tmp_path / "o")],
                          cwd=project, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    out = proc.stdout + proc.stderr
    assert "nowhere" in out, out  # the warning is there, made harmless
    assert "\x1b" not in out and not any(line.lstrip().startswith("::") for line in out.splitlines())


def test_check_reports_the_hand_written_pages_too(project, capsys):
    from casebook.cli import main

    (project / "content" / "page.md").write_text("---\ntemplate: redirect.html\n---\n# 页面（虚构）\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--cases", str(project / "cases"), "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert "page.md,line=2,col=1" in out and "template" in out
    (project / "content" / "page.md").unlink()
    assert main(["check", "--cases", str(project / "cases")]) == 0


@pytest.mark.parametrize("name", ["fm.markdown", "fm.mdown", "fm.mkdn", "fm.mkd", "FM.MD"])
def test_every_markdown_spelling_gets_the_page_checks(project, name):
    (project / "content" / name).write_text("---\ntemplate: redirect.html\nlocation: javascript:alert(2)//\n---\n# y\n",
                                            encoding="utf-8")
    assert [(n, line) for n, line, _ in errors_of(project)] == [(name, 2), (name, 3)]


@pytest.mark.parametrize("name", ["x.html", "x.htm", "x.js", "x.svg", "x.css", "x.xml", "x.xhtml", "x.json"])
def test_files_published_as_they_are_must_be_inert(project, name):
    (project / "content" / name).write_text("<script>alert(1)</script>", encoding="utf-8")
    assert [(n, line) for n, line, _ in errors_of(project)] == [(name, 1)]


def test_attachments_of_inert_kinds_pass(project):
    for name in ("a.png", "b.pdf", "c.csv", "d.txt"):
        (project / "content" / name).write_bytes(b"x")
    assert errors_of(project) == []
