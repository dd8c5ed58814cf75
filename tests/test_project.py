"""The project's own promises: the README's two commands, CI calling them, lint-clean code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_starts_with_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = text.split("## ")[0]
    assert head.count("```bash") == 2, "the README must open with exactly two commands"
    main_cmd, test_cmd = readme_commands()
    assert "casebook" in main_cmd and "pytest" in test_cmd


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()
    assert "set -euo pipefail" in ci


def test_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "generator", "tests", "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean(tmp_path):
    # pyproject's [tool.mypy] says what is checked and how strictly; the cache stays out of the checkout.
    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Every module of the library was checked, not only some: the configuration names them all.
    checked = re.search(r"no issues found in (\d+) source files", proc.stdout)
    modules = list((ROOT / "generator" / "casebook").rglob("*.py"))
    assert checked and int(checked.group(1)) == len(modules), proc.stdout


def test_console_script_reports_usage_errors_in_chinese(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "casebook", "check", "--cases", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "找不到案例目录" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "casebook", "check", "--format", "xml"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "用法错误" in proc.stderr
