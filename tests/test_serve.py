"""`casebook serve`: a live preview that rebuilds when a case file is saved."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from helpers import wait_until
from sitebuild import make_project

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.read().decode("utf-8")
    except OSError:
        return ""


def wait_for(url: str, has: str, seconds: float, what: str, lacks: str | None = None) -> str:
    """The page at ``url`` once it holds ``has`` (and not ``lacks``), or a failure saying ``what``
    did not happen in time. A page that cannot be fetched never counts: it holds nothing."""
    def ready() -> str:
        html = fetch(url)
        return html if has in html and (lacks is None or lacks not in html) else ""
    return wait_until(ready, seconds, what)


def start_serve(project: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "casebook", "serve", "--dev-addr", f"127.0.0.1:{port}"],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_serve_rebuilds_when_a_case_file_changes(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    proc, port = start_serve(project)
    url = f"http://127.0.0.1:{port}/cases/fictional-a/"
    try:
        wait_for(url, "虚构的测试组团", 60, "the preview to start")
        case = project / "cases" / "clusters" / "fictional-a.yaml"
        case.write_text(case.read_text(encoding="utf-8").replace("虚构的测试组团", "改过的虚构测试组团"), encoding="utf-8")
        wait_for(url, "改过的虚构测试组团", 30, "the preview to rebuild after the case file changed")
    finally:
        stop(proc)


def test_serve_shows_the_chinese_error_while_a_file_is_broken_and_recovers(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    case = project / "cases" / "clusters" / "fictional-a.yaml"
    good = case.read_text(encoding="utf-8")
    # Broken from the start: the preview still starts and says what is wrong, where.
    case.write_text(good.replace("name: 虚构甲组团", "name: [虚构甲组团", 1), encoding="utf-8")
    proc, port = start_serve(project)
    home, page = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/cases/fictional-a/"
    try:
        assert "fictional-a.yaml:" in wait_for(home, "案例文件有错误", 60, "the preview to start with a broken file")
        case.write_text(good, encoding="utf-8")
        html = wait_for(page, "虚构的测试组团", 30, "the preview to recover once the file was fixed")
        assert "cb-preview-errors" not in html
        # Broken again: the last good page stays, with the errors over it; an injection in the error shows as text.
        case.write_text(good.replace("value: 52", "value: <script>alert(1)</script>", 1), encoding="utf-8")
        html = wait_for(page, "cb-preview-errors", 30, "the preview to show the error")
        assert "虚构的测试组团" in html and "fictional-a.yaml:" in html
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
        case.write_text(good.replace("虚构的测试组团", "修好的虚构测试组团"), encoding="utf-8")
        assert "cb-preview-errors" not in wait_for(page, "修好的虚构测试组团", 30, "the preview to rebuild once fixed")
    finally:
        stop(proc)


def test_serve_shows_a_broken_hand_written_page_and_recovers(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    bad = project / "content" / "bad\udcff.md"  # a file name that is not UTF-8
    bad.write_text("# 坏文件名（虚构）\n", encoding="utf-8")
    proc, port = start_serve(project)
    home = f"http://127.0.0.1:{port}/"
    try:
        wait_for(home, "文件名含有无法识别的字符", 60, "the preview to show the page's error")
        bad.unlink()
        # The banner goes with the next good build, not necessarily with the first page served after
        # the removal: wait for a page that is whole and clean, fetched in one piece.
        wait_for(home, "虚构", 30, "the preview to recover once the file was gone", lacks="cb-preview-errors")
    finally:
        stop(proc)


def test_an_open_page_reloads_itself_after_a_save_and_shows_errors(tmp_path, browser):
    """In a real browser: the preview's page follows saves without a manual reload (its reload script
    asks the preview itself, no other host), and a broken file's error shows over the page."""
    project = make_project(tmp_path, FICTIONAL)
    proc, port = start_serve(project)
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/cases/fictional-a/"
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        wait_for(url, "虚构的测试组团", 60, "the preview to start")
        page.goto(url)
        case = project / "cases" / "clusters" / "fictional-a.yaml"
        good = case.read_text(encoding="utf-8")
        case.write_text(good.replace("虚构的测试组团", "改过的虚构测试组团"), encoding="utf-8")
        # Polled across the reload itself: between two documents there is no body yet.
        page.wait_for_function("!!document.body && document.body.innerText.includes('改过的虚构测试组团')",
                               timeout=30_000)
        case.write_text(good.replace("value: 52", "value: <script>alert(1)</script>", 1), encoding="utf-8")
        page.wait_for_selector(".cb-preview-errors", timeout=30_000)
        assert "fictional-a.yaml:" in page.inner_text(".cb-preview-errors")
        assert "<script>alert(1)</script>" in page.inner_text(".cb-preview-errors"), "shown as text"
        assert [r for r in requests if not r.startswith(base)] == []
    finally:
        page.close()
        stop(proc)
