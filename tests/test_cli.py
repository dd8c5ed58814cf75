"""`casebook check` output formats and exit codes."""

from __future__ import annotations

import re

from casebook.cli import main

from helpers import CLUSTER, replace


def test_text_format_line_shape(check, book):
    replace(book, CLUSTER, "value: 52", "value: 五十二")
    rc, out = check(book)
    assert rc == 1
    line = out.strip().splitlines()[0]
    assert re.fullmatch(r".+fictional-a\.yaml:\d+:12: 数值 \(observations\[0\]\.value\): .+。提示：.+", line), line


def test_text_format_success_summary(check, book):
    rc, out = check(book)
    assert rc == 0
    assert "检查通过" in out and "1 个组团" in out


def test_json_format(check, book):
    rc, payload = check.json(book)
    assert rc == 0
    assert payload == {"ok": True, "errors": [],
                       "counts": {"clusters": 1, "lessons": 1, "indicators": 2, "observations": 3, "files": 4}}
    replace(book, CLUSTER, "value: 52", "value: 五十二")
    rc, payload = check.json(book)
    assert rc == 1 and payload["ok"] is False
    assert set(payload["errors"][0]) == {"file", "line", "column", "field", "message"}


def test_github_format(check, book):
    replace(book, CLUSTER, "value: 52", "value: 五十二")
    rc, out = check(book, "github")
    assert rc == 1
    line = out.strip()
    assert line.startswith("::error file=") and ",line=" in line and ",col=12," in line
    assert "title=数值 (observations[0].value)" in line
    assert "::无法识别数值“五十二”" in line


def test_github_format_escapes_newlines(check, book):
    replace(book, CLUSTER, "value: 52", "value: '100%\\n'")
    rc, out = check(book, "github")
    assert rc == 1
    assert len(out.strip().splitlines()) == 1


def test_usage_errors_exit_2(capsys, tmp_path):
    assert main(["check", "--cases", str(tmp_path / "missing")]) == 2
    try:
        main(["check", "--format", "yaml"])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover
        raise AssertionError("argparse accepted a bad format")


def test_empty_directory_is_invalid(check, tmp_path):
    rc, payload = check.json(tmp_path)
    assert rc == 1
    assert "没有案例文件" in payload["errors"][0]["message"]


def test_stray_file_is_reported(check, book):
    (book / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    rc, payload = check.json(book)
    assert rc == 1
    assert "不认识这个文件的位置" in payload["errors"][0]["message"]
