"""The editor's loop: new → fill in → check → commit → change a figure → diff; and its tooling."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from casebook.models import FILE_MODELS
from casebook.reference import fields, reference_markdown
from casebook.schema import kind_schema

ROOT = Path(__file__).resolve().parents[1]
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "casebook", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def git(args: list[str], cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=编辑", "-c", "user.email=editor@example.org", *args], cwd=cwd,
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FICTIONAL, root / "cases")
    shutil.copytree(ROOT / "schema", root / "schema")
    source = root / "cases" / "sources" / "fictional.txt"
    source.write_text(source.read_text(encoding="utf-8") + "虚构新组团：虚构的第二个组团。\n", encoding="utf-8")
    git(["init", "-q", "-b", "main"], root)
    git(["add", "-A"], root)
    git(["commit", "-q", "-m", "初始"], root)
    return root


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


def test_editor_path_end_to_end(repo):
    proc = run(["new", "fictional-new", "--name", "虚构新组团"], repo)
    assert proc.returncode == 0, proc.stderr
    path = repo / "cases" / "clusters" / "fictional-new.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schema/cluster.schema.json\n")
    assert "name: '虚构新组团'" in text and "【待填写】" in text

    proc = run(["check", "--format", "json"], repo)
    assert proc.returncode == 1
    holes = [e for e in json.loads(proc.stdout)["errors"] if "占位文字" in e["message"]]
    assert {e["field"] for e in holes} == {"theme", "summary", "source", "location.district"}

    filled = (text.replace("theme: 【待填写】", "theme: 虚构新组团")
                  .replace("summary: 【待填写】", "summary: 编者为测试写的概述。")
                  .replace("source: 【待填写】", "source: fictional/clusters")
                  .replace("district: 【待填写】", "district: '*区'"))
    path.write_text(filled, encoding="utf-8")
    proc = run(["check"], repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 个组团" in proc.stdout
    git(["add", "-A"], repo)
    git(["commit", "-q", "-m", "新增组团"], repo)

    cluster = repo / "cases" / "clusters" / "fictional-a.yaml"
    # The quote (52万元) goes with the old figure: a value must agree with its quote.
    cluster.write_text(cluster.read_text(encoding="utf-8").replace(
        "value: 52\n    quote: 2022年村集体经营性收入52万元", "value: 55"), encoding="utf-8")
    proc = run(["diff", "HEAD", "--format", "json"], repo)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["facts"] == []
    assert report["figures"] == [{
        "owner_id": "fictional-a", "owner": "“虚构甲组团”组团", "indicator_id": "collective-income",
        "indicator": "村集体经营性收入（虚构测试）", "when": "2022年", "scope": "", "change": "changed",
        "old": "52万元", "new": "55万元"}]
    markdown = run(["diff", "HEAD"], repo).stdout
    assert "| “虚构甲组团”组团 | 村集体经营性收入（虚构测试） | 2022年 | 全部 | 52万元 | 55万元 | 数值改变 |" in markdown


def test_diff_names_disclosure_changes_and_other_facts(repo):
    cluster = repo / "cases" / "clusters" / "fictional-a.yaml"
    text = cluster.read_text(encoding="utf-8")
    text = text.replace("value: 138\n    quote: 2023年达到138万元", "value: '*'")  # became desensitised
    text = text.replace("    year: '*'\n    value: '*'", "    year: '*'\n    value: 1200")  # disclosed
    text = text.replace("industries:\n  - 虚构茶叶", "industries:\n  - 虚构茶叶\n  - 虚构甲组团")
    cluster.write_text(text, encoding="utf-8")
    git(["add", "-A"], repo)
    git(["commit", "-q", "-m", "改"], repo)
    report = json.loads(run(["diff", "HEAD~1", "HEAD", "--format", "json"], repo).stdout)
    changes = {(f["indicator_id"], f["change"], f["old"], f["new"]) for f in report["figures"]}
    assert changes == {("collective-income", "desensitised", "138万元", "*万元"),
                       ("land-transferred", "disclosed", "*余亩", "1,200余亩")}
    assert [(f["field"], f["change"], f["new"]) for f in report["facts"]] == [("主导产业", "added", "虚构甲组团")]
    assert report["from"] == "HEAD~1" and report["to"] == "HEAD"


def test_diff_without_changes(repo):
    proc = run(["diff", "HEAD"], repo)
    assert proc.returncode == 0 and "案例数据没有变化" in proc.stdout


def test_diff_unknown_revision(repo):
    proc = run(["diff", "no-such-branch"], repo)
    assert proc.returncode == 2
    assert "找不到版本“no-such-branch”" in proc.stderr
    no_traceback(proc)


def test_diff_outside_a_git_repository(tmp_path):
    shutil.copytree(FICTIONAL, tmp_path / "cases")
    proc = run(["diff", "HEAD"], tmp_path)
    assert proc.returncode == 2
    assert "不在 git 仓库中" in proc.stderr
    no_traceback(proc)


def test_diff_when_old_revision_does_not_parse(repo):
    cluster = repo / "cases" / "clusters" / "fictional-a.yaml"
    good = cluster.read_text(encoding="utf-8")
    cluster.write_text(good.replace("value: 52", "value: *"), encoding="utf-8")
    git(["commit", "-q", "-am", "坏"], repo)
    cluster.write_text(good, encoding="utf-8")
    before = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts)
    proc = run(["diff", "HEAD"], repo)
    assert proc.returncode == 1
    assert "版本“HEAD”中的案例文件有错误" in proc.stderr
    assert re.search(r"HEAD:cases/clusters/fictional-a\.yaml:\d+:12: .*带引号的 '\*'", proc.stderr)
    no_traceback(proc)
    assert sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts) == before


def test_new_refuses_existing_id_and_bad_slug(repo):
    existing = repo / "cases" / "clusters" / "fictional-a.yaml"
    before = existing.read_bytes()
    proc = run(["new", "fictional-a"], repo)
    assert proc.returncode == 1 and "已经存在" in proc.stderr
    assert existing.read_bytes() == before
    for bad in ["Tea_Valley", "茶谷", "tea-", "tea--", "../evil"]:
        proc = run(["new", bad], repo)
        assert proc.returncode == 2 and "不合规" in proc.stderr, bad
        no_traceback(proc)
    assert sorted(p.name for p in (repo / "cases" / "clusters").iterdir()) == ["fictional-a.yaml"]


def test_completeness_report(check, capsys):
    from casebook.cli import main

    assert main(["check", "--cases", str(FICTIONAL), "--completeness"]) == 0
    out = capsys.readouterr().out
    assert "数据完整度" in out and "合计：已公开 1，已脱敏 1，未给出 0" in out
    assert main(["check", "--cases", str(FICTIONAL), "--completeness", "--format", "json"]) == 0
    cells = json.loads(capsys.readouterr().out)["completeness"]
    assert {(c["indicator_id"], c["state"]) for c in cells} == {("collective-income", "disclosed"),
                                                                ("land-transferred", "desensitised")}
    assert all(c["sources"] == ["fictional/clusters"] for c in cells)


def test_completeness_page(real_site):
    html = (real_site / "completeness" / "index.html").read_text(encoding="utf-8")
    assert html.count('<td class="cb-state cb-state-') == 5 * 56
    assert "已脱敏 49 项" in html


# --------------------------------------------------------------------------- repository tooling

README_SETUP = "python3 -m venv .venv && .venv/bin/pip install -e ."
ALLOWED_RUN = (README_SETUP, ".venv/bin/casebook ", "gh pr comment ", "git fetch ", "cat casebook-diff.md",
               # the overlay of internal figures, fetched only where it may be (the publishing job)
               'git clone --depth 1 "', 'if [ -d "', 'if [ -n "', "else", "fi")


def run_lines(scripts: list[str]) -> list[str]:
    return [line.strip() for script in scripts for line in script.splitlines() if line.strip()]


def test_github_workflow_uses_only_readme_commands():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "casebook.yml").read_text(encoding="utf-8"))
    runs = run_lines([s["run"] for job in flow["jobs"].values() for s in job["steps"] if "run" in s])
    assert runs and all(line.startswith(ALLOWED_RUN) for line in runs), runs
    pr = " ".join(s.get("run", "") for s in flow["jobs"]["check"]["steps"])
    assert "casebook check --format github" in pr and "casebook build --strict" in pr and "casebook diff" in pr
    assert "gh pr comment" in pr
    deploy = flow["jobs"]["deploy"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])
    assert set(flow[True]) == {"pull_request", "push"}  # YAML 1.1 reads the key `on` as True
    # The internal figures reach the publishing job only, which builds with the leak check; a pull
    # request's job (unreviewed code) never sees them.
    assert "OVERLAY" not in yaml.safe_dump(flow["jobs"]["check"])
    published = " ".join(s.get("run", "") for s in deploy["steps"])
    assert "--leak-check" in published and "CASEBOOK_OVERLAY_TOKEN" in yaml.safe_dump(deploy)


def test_gitlab_ci_uses_only_readme_commands():
    ci = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    runs = run_lines([line for job in ("check", "pages") for line in ci[job]["script"]])
    assert all(line.startswith(ALLOWED_RUN) for line in runs), runs
    assert ci["pages"]["artifacts"]["paths"] == ["public"]
    assert any("casebook diff" in line for line in ci["check"]["script"])
    assert "OVERLAY" not in yaml.safe_dump(ci["check"]) and "--leak-check" in " ".join(ci["pages"]["script"])


def test_readme_documents_the_commands_workflows_use():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_SETUP in readme
    for sub in ["check", "build", "diff", "new", "serve"]:
        assert f"casebook {sub}" in readme, sub


def test_pre_commit_runs_check_on_case_files():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hook = config["repos"][0]["hooks"][0]
    assert hook["entry"].endswith("casebook check") and hook["files"] == "^cases/"
    assert hook["pass_filenames"] is False


def test_vscode_maps_every_schema():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    mapping = settings["yaml.schemas"]
    assert set(mapping) == {f"./schema/{kind}.schema.json" for kind in FILE_MODELS}
    for schema in mapping:
        assert (ROOT / schema).is_file()


def _schema_paths(node: dict, defs: dict, prefix: str = "") -> list[str]:
    out = []
    for name, prop in (node.get("properties") or {}).items():
        path = f"{prefix}{name}"
        out.append(path)
        target, is_list = prop, False
        for key in ("anyOf", "oneOf"):
            for option in prop.get(key, []):
                if "$ref" in option or option.get("type") == "array":
                    target = option
        if target.get("type") == "array":
            target, is_list = target.get("items", {}), True
        if "$ref" in target:
            sub = defs[target["$ref"].split("/")[-1]]
            out += _schema_paths(sub, defs, f"{path}[]." if is_list else f"{path}.")
    return out


@pytest.mark.parametrize("kind", list(FILE_MODELS))
def test_guide_documents_every_schema_field(kind):
    schema = kind_schema(kind)
    paths = _schema_paths(schema, schema.get("$defs", {}))
    assert len(paths) > 3
    reference = reference_markdown()
    section = reference.split(f"{{#{kind}}}")[1].split("\n## ")[0]
    documented = re.findall(r"^\| `([^`]+)` \|", section, re.M)
    assert set(paths) == set(documented)
    assert [p for p, *_ in fields(FILE_MODELS[kind])] == documented


def test_guide_pages_are_published(real_site):
    guide = (real_site / "guide" / "index.html").read_text(encoding="utf-8")
    assert "编辑指南" in guide and "怎样新增一个组团" in guide
    reference = (real_site / "guide" / "reference" / "index.html").read_text(encoding="utf-8")
    assert "<code>observations[].value</code>" in reference
