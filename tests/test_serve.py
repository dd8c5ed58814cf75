"""`casebook serve`: a live preview that rebuilds when a case file is saved."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def wait_for(url: str, needle: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if needle in fetch(url):
            return True
        time.sleep(0.3)
    return False


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
        assert wait_for(url, "虚构的测试组团", 60), "preview did not start"
        case = project / "cases" / "clusters" / "fictional-a.yaml"
        case.write_text(case.read_text(encoding="utf-8").replace("虚构的测试组团", "改过的虚构测试组团"), encoding="utf-8")
        assert wait_for(url, "改过的虚构测试组团", 30), "preview did not rebuild after the case file changed"
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
        assert wait_for(home, "案例文件有错误", 60), "the preview did not start with a broken file"
        assert "fictional-a.yaml:" in fetch(home)
        case.write_text(good, encoding="utf-8")
        assert wait_for(page, "虚构的测试组团", 30), "the preview did not recover once the file was fixed"
        assert "cb-preview-errors" not in fetch(page)
        # Broken again: the last good page stays, with the errors over it; an injection in the error shows as text.
        case.write_text(good.replace("value: 52", "value: <script>alert(1)</script>", 1), encoding="utf-8")
        assert wait_for(page, "cb-preview-errors", 30), "the preview did not show the error"
        html = fetch(page)
        assert "虚构的测试组团" in html and "fictional-a.yaml:" in html
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
        case.write_text(good.replace("虚构的测试组团", "修好的虚构测试组团"), encoding="utf-8")
        assert wait_for(page, "修好的虚构测试组团", 30)
        assert "cb-preview-errors" not in fetch(page)
    finally:
        stop(proc)


def test_serve_shows_a_broken_hand_written_page_and_recovers(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    bad = project / "content" / "bad\udcff.md"  # a file name that is not UTF-8
    bad.write_text("# 坏文件名（虚构）\n", encoding="utf-8")
    proc, port = start_serve(project)
    home = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(home, "文件名含有无法识别的字符", 60), "the preview did not show the page's error"
        bad.unlink()
        assert wait_for(home, "虚构", 30)
        deadline = time.monotonic() + 30
        while "cb-preview-errors" in fetch(home) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "cb-preview-errors" not in fetch(home), "the preview did not recover once the file was gone"
    finally:
        stop(proc)
