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


# A pause of fixed length (Python's time.sleep/asyncio.sleep or a bare sleep imported from them,
# Playwright's wait_for_timeout, a JavaScript timer) guesses how long something takes. Written so
# that this file's own patterns do not match themselves.
PAUSE = re.compile(r"\b(?:sleep|wait_for_timeout|waitForTimeout|setTimeout)\s*\(")
TEST_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts")


def fixed_pauses(tests: Path) -> list[str]:
    """Every fixed pause in the test files under ``tests`` (node_modules aside), as "file:line: text",
    except the sleep between two polls inside helpers.wait_until, the one deadline-polling helper."""
    import ast

    allowed: set[int] = set()
    helpers = tests / "helpers.py"
    if helpers.is_file():
        for node in ast.walk(ast.parse(helpers.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == "wait_until":
                allowed = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    found = []
    for path in sorted(tests.rglob("*")):
        if "node_modules" in path.relative_to(tests).parts or path.suffix not in TEST_SUFFIXES or not path.is_file():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in PAUSE.finditer(line):
                if path == helpers and n in allowed and match.group().startswith("sleep"):
                    continue
                found.append(f"{path.relative_to(tests)}:{n}: {line.strip()}")
    return found


def test_tests_wait_for_conditions_not_for_time():
    """Issue 11: a test waits for what it needs (helpers.wait_until, Playwright's waits on the page),
    never a fixed time: too short on a busy machine, too long everywhere else."""
    assert fixed_pauses(ROOT / "tests") == []


def test_every_kind_of_fixed_pause_is_found(tmp_path):
    """The check above, on a fictional tests folder (虚构) holding each kind of pause, spelled in
    each way, and the one allowed sleep."""
    sleep, timeout = "sl" + "eep", "wait_for_time" + "out"
    (tmp_path / "helpers.py").write_text(
        f"import time\n\n\ndef wait_until(p, t, what):\n    while not p():\n        time.{sleep}(0.05)\n\n\n"
        f"def nap():\n    time.{sleep}(1)\n", encoding="utf-8")
    kinds = {
        "test_a.py": f"import time\ntime.{sleep}(0.3)\n",
        "test_b.py": f"from time import {sleep}\n{sleep} (1)\n",
        "test_c.py": f"import asyncio\nawait asyncio.{sleep}(1)\n",
        "test_d.py": f"page.{timeout}(300)\n",
        "test_e.py": f'CHILD = """\nimport time\ntime.{sleep}(4)\n"""\n',  # in a child's script
        "browser/test_f.mjs": "await new Promise(r => set" + "Timeout(r, 300));\n",
        "browser/test_g.js": "await page.waitFor" + "Timeout(300);\n",
    }
    for rel, text in kinds.items():
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    modules = tmp_path / "browser" / "node_modules" / "x"
    modules.mkdir(parents=True)
    (modules / "index.js").write_text("set" + "Timeout(f, 1);\n", encoding="utf-8")  # not ours: not read
    found = fixed_pauses(tmp_path)
    assert sorted({f.split(":")[0] for f in found}) == sorted(["helpers.py", *kinds])
    assert [f for f in found if f.startswith("helpers.py")] == [f"helpers.py:10: time.{sleep}(1)"]
