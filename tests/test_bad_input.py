"""Every kind of bad input gets a Chinese message naming file, line, column and field, and exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from casebook.loader import MAX_BYTES

from helpers import CLUSTER, line_of, replace


def only_error(check, book: Path) -> dict:
    rc, payload = check.json(book)
    assert rc == 1 and payload["ok"] is False
    assert len(payload["errors"]) == 1, payload["errors"]
    return payload["errors"][0]


def test_duplicate_key(check, book):
    replace(book, CLUSTER, "summary:", "name: 重复的名称\nsummary:")
    err = only_error(check, book)
    assert err["file"].endswith(CLUSTER)
    assert err["line"] == line_of(book, CLUSTER, "重复的名称")
    assert err["column"] == 1
    assert "字段“name”重复出现（第一次在第 3 行）" in err["message"]


def test_unquoted_star(check, book):
    replace(book, CLUSTER, "value: '*'", "value: *")
    err = only_error(check, book)
    assert err["line"] == line_of(book, CLUSTER, "value: *")
    assert err["column"] == 12
    assert "带引号的 '*'" in err["message"]


def test_unquoted_star_prefix_text(check, book):
    replace(book, CLUSTER, "district: '*区'", "district: *区")
    err = only_error(check, book)
    assert err["line"] == line_of(book, CLUSTER, "district: *区")
    assert "'*区'" in err["message"]


def test_tab_indentation(check, book):
    replace(book, CLUSTER, "  town: '*镇'", "\ttown: '*镇'")
    rc, out = check(book)
    assert rc == 1
    line = line_of(book, CLUSTER, "\ttown")
    assert f"{CLUSTER}:{line}:1: 缩进里有制表符（Tab）" in out
    assert "提示：" in out


@pytest.mark.parametrize("bad, col", [("summary：虚构", 8), ("summary:　虚构", 9)])
def test_fullwidth_colon_or_space(check, book, bad, col):
    replace(book, CLUSTER, "summary: 虚构", bad)
    err = only_error(check, book)
    assert err["line"] == line_of(book, CLUSTER, bad)
    assert err["column"] == col
    assert err["field"] == "summary"
    assert "全角" in err["message"] and "提示：" in err["message"]


def test_gbk_file(check, book):
    path = book / CLUSTER
    text = path.read_text(encoding="utf-8").replace("'*区'", "'*区'").replace("“", '"').replace("”", '"')
    path.write_bytes(text.encode("gbk"))
    err = only_error(check, book)
    assert "不是 UTF-8 编码" in err["message"] and "GBK" in err["message"]
    assert err["line"] == line_of_bytes(path, "虚构".encode("gbk"))
    assert "另存为" in err["message"]


def line_of_bytes(path: Path, needle: bytes) -> int:
    for n, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_bom_is_fine(check, book):
    path = book / CLUSTER
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    rc, out = check(book)
    assert rc == 0, out


def test_unknown_key(check, book):
    replace(book, CLUSTER, "summary:", "sumary: 拼错了\nsummary:")
    err = only_error(check, book)
    assert err["line"] == line_of(book, CLUSTER, "sumary")
    assert err["column"] == 1
    assert err["field"] == "sumary"
    assert "未知字段“sumary”" in err["message"] and "是不是想写“summary”" in err["message"]


def test_unknown_nested_key(check, book):
    replace(book, CLUSTER, "    quote: 2023年达到138万元", "    quote: 2023年达到138万元\n    yaer: 2023")
    err = only_error(check, book)
    assert err["field"] == "observations[1].yaer"
    assert err["line"] == line_of(book, CLUSTER, "yaer")
    assert err["column"] == 5
    assert "是不是想写“year”" in err["message"]


def test_wrong_type(check, book):
    replace(book, CLUSTER, "industries:\n  - 虚构茶叶", "industries: 虚构茶叶")
    err = only_error(check, book)
    assert err["field"] == "industries"
    assert err["line"] == line_of(book, CLUSTER, "industries: 虚构茶叶")
    assert err["column"] == 13
    assert "应为列表" in err["message"] and "“- ”" in err["message"]


def test_missing_required_field(check, book):
    replace(book, CLUSTER, "summary: 虚构的测试组团，数据均为编造，仅供测试。\n", "")
    err = only_error(check, book)
    assert err["field"] == "summary"
    assert err["line"] == 2 and err["column"] == 1
    assert "缺少必填字段“summary”" in err["message"]


def test_missing_nested_field(check, book):
    replace(book, CLUSTER, "    description: 虚构的测试模式。\n", "")
    err = only_error(check, book)
    assert err["field"] == "models[0].description"
    assert err["line"] == line_of(book, CLUSTER, "id: fictional-three-belts")


def test_unknown_reference(check, book):
    replace(book, "lessons/fictional-lesson.yaml", "  - fictional-a", "  - fictional-b")
    replace(book, CLUSTER, "indicator: land-transferred", "indicator: land-transfered")
    rc, payload = check.json(book)
    assert rc == 1
    errs = {e["field"]: e for e in payload["errors"]}
    assert set(errs) == {"clusters[0]", "observations[2].indicator"}
    assert "不存在的组团“fictional-b”" in errs["clusters[0]"]["message"]
    assert errs["clusters[0]"]["line"] == line_of(book, "lessons/fictional-lesson.yaml", "fictional-b")
    assert "是不是想写“land-transferred”" in errs["observations[2].indicator"]["message"]


def test_unknown_source_section(check, book):
    replace(book, CLUSTER, "source: fictional/clusters", "source: fictional/clustres")
    err = only_error(check, book)
    assert err["field"] == "source"
    assert "章节“clustres”" in err["message"] and "clusters" in err["message"]


def test_impossible_date(check, book):
    replace(book, "sources.yaml", "date: 2024-05-01", "date: 2023-02-30")
    err = only_error(check, book)
    assert err["file"].endswith("sources.yaml")
    assert err["field"] == "sources[0].date"
    assert err["line"] == line_of(book, "sources.yaml", "2023-02-30")
    assert "日期“2023-02-30”无效" in err["message"]


@pytest.mark.parametrize("bad", ["五十二", "52万", "52个亿", "abc", "1,20"])
def test_unparseable_figure(check, book, bad):
    replace(book, CLUSTER, "value: 52", f"value: {bad}")
    err = only_error(check, book)
    assert err["field"] == "observations[0].value"
    assert err["line"] == line_of(book, CLUSTER, f"value: {bad}")
    assert err["column"] == 12
    assert "提示：" in err["message"]


def test_figure_in_wrong_unit_family(check, book):
    replace(book, CLUSTER, "value: 52", "value: 52亩")
    err = only_error(check, book)
    assert "单位“亩”与指标目录" in err["message"] and "不能换算" in err["message"]


def test_explicit_unit_differs_from_catalogue(check, book):
    replace(book, CLUSTER, "value: 52", "value: 52\n    unit: 亩")
    err = only_error(check, book)
    assert err["field"] == "observations[0].unit"
    assert "单位“亩”与指标目录" in err["message"] and "“万元”" in err["message"]


def test_unit_in_text_and_field_must_agree(check, book):
    replace(book, CLUSTER, "value: 52", "value: 52万元\n    unit: 亿元")
    err = only_error(check, book)
    assert "只保留一处单位" in err["message"]


def test_year_out_of_range(check, book):
    replace(book, CLUSTER, "year: 2022", "year: 1850")
    err = only_error(check, book)
    assert err["field"] == "observations[0].year"
    assert "年份 1850 超出范围" in err["message"]


def test_duplicate_id_across_files(check, book):
    other = book / "clusters" / "fictional-b.yaml"
    text = (book / CLUSTER).read_text(encoding="utf-8").replace("id: fictional-a", "id: fictional-b")
    other.write_text(text, encoding="utf-8")
    rc, payload = check.json(book)
    assert rc == 1
    messages = [e["message"] for e in payload["errors"]]
    assert any("标识“fictional-three-belts”重复" in m for m in messages)
    assert all(e["file"].endswith("fictional-b.yaml") for e in payload["errors"])


def test_id_must_match_file_name(check, book):
    (book / CLUSTER).rename(book / "clusters" / "renamed.yaml")
    replace(book, "lessons/fictional-lesson.yaml", "  - fictional-a", "  - fictional-a")
    rc, payload = check.json(book)
    assert rc == 1
    assert any("与文件名“renamed.yaml”不一致" in e["message"] for e in payload["errors"])


def test_file_over_size_cap(check, book):
    path = book / CLUSTER
    path.write_text(path.read_text(encoding="utf-8") + "# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
    err = only_error(check, book)
    assert err["line"] == 1 and "文件过大" in err["message"]


def test_deep_nesting_rejected(check, book):
    (book / CLUSTER).write_text("id: " + "[" * 200_000 + "\n", encoding="utf-8")
    err = only_error(check, book)
    assert "嵌套超过" in err["message"] and err["line"] == 1


def test_alias_bomb_rejected(check, book):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(ord("b"), ord("j")):
        prev = chr(i - 1)
        lines.append(f"{chr(i)}: &{chr(i)} [" + ",".join([f"*{prev}"] * 9) + "]")
    (book / CLUSTER).write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = only_error(check, book)
    assert err["line"] == 1 and err["column"] == 4
    assert "不支持锚点“&a”" in err["message"]


def test_hostile_input_does_not_hang(tmp_path, book):
    """The alias bomb and the bracket flood, through the real command, in a bounded time."""
    (book / CLUSTER).write_text("a: &a [1]\nb: [*a, *a]\nc: " + "{" * 200_000 + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "casebook", "check", "--cases", str(book)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "不支持锚点" in proc.stdout


def test_directives_tags_and_multiple_documents(check, book):
    path = book / CLUSTER
    original = path.read_text(encoding="utf-8")
    for bad, expected in [("%YAML 1.1\n---\n" + original, "不支持 %YAML"),
                          (original + "---\nid: again\n", "只能有一个文档"),
                          (original.replace("name: 虚构甲组团", "name: !!python/object 虚构甲组团"), "不支持类型标签")]:
        path.write_text(bad, encoding="utf-8")
        rc, out = check(book)
        assert rc == 1 and expected in out, out


def test_all_errors_reported_at_once(check, book):
    replace(book, CLUSTER, "summary:", "sumary: x\nsummary:")
    replace(book, CLUSTER, "value: 52", "value: 五十二")
    replace(book, "lessons/fictional-lesson.yaml", "order: 1", "order: 第一")
    replace(book, "sources.yaml", "date: 2024-05-01", "date: 2024-13-01")
    rc, payload = check.json(book)
    assert rc == 1
    assert len(payload["errors"]) == 4
    assert len({e["file"] for e in payload["errors"]}) == 3


def test_yaml_11_words_stay_text(check, book):
    """NO, on, 0123 and 1:20 are what the editor wrote where the schema expects text."""
    from casebook.validate import load_casebook

    replace(book, CLUSTER, "  - 虚构茶叶", "  - NO\n  - on\n  - 0123\n  - 1:20\n  - 1e3\n  - null_value")
    lines = (book / "sources" / "fictional.txt").read_text(encoding="utf-8")
    (book / "sources" / "fictional.txt").write_text(lines + "NO on 0123 1:20 1e3 null_value\n", encoding="utf-8")
    loaded, errors = load_casebook(book)
    assert errors == []
    assert loaded.clusters["fictional-a"].industries == ["NO", "on", "0123", "1:20", "1e3", "null_value"]


def test_nothing_written_by_check(check, book):
    before = {p: p.stat().st_mtime_ns for p in book.rglob("*")}
    replace(book, CLUSTER, "value: 52", "value: 五十二")
    before = {p: p.stat().st_mtime_ns for p in book.rglob("*")}
    check(book)
    check(book, "json")
    assert {p: p.stat().st_mtime_ns for p in book.rglob("*")} == before


def test_a_named_pipe_among_the_case_files_is_reported_never_opened(tmp_path):
    import os
    import shutil

    from conftest import CASES

    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    os.mkfifo(cases / "clusters" / "pipe.yaml")  # opening it would block for ever
    proc = subprocess.run([sys.executable, "-m", "casebook", "check", "--cases", str(cases)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "pipe.yaml:1:1: 这不是普通文件" in proc.stdout


def test_a_misspelt_singleton_file_gets_the_rename_hint(tmp_path, check):
    import shutil

    from conftest import CASES

    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    (cases / "alliance.yaml").rename(cases / "alliance.yml")
    rc, out = check(cases)
    assert rc == 1
    assert "alliance.yml:1:1: 文件扩展名应为 .yaml" in out and "不认识这个文件的位置" not in out


def test_a_linked_folder_in_the_casebook_is_reported_not_skipped(tmp_path, check):
    import shutil

    from conftest import CASES

    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    shutil.move(cases / "lessons", tmp_path / "elsewhere")
    (cases / "lessons").symlink_to(tmp_path / "elsewhere")
    rc, out = check(cases)
    assert rc == 1 and "lessons:1:1: 案例文件不能是符号链接" in out


@pytest.mark.parametrize("field, ref, wanted, kind", [
    ("models", "fictional-mechanism", "mechanisms", "机制"),  # a mechanism listed as a model
    ("strands", "fictional-mechanism", "mechanisms", "机制"),
    ("mechanisms", "fictional-three-belts", "models", "发展模式"),  # a model listed as a mechanism
])
def test_lesson_link_of_the_wrong_kind_names_the_right_field(check, book, field, ref, wanted, kind):
    replace(book, "lessons/fictional-lesson.yaml", "mechanisms:\n  - fictional-mechanism\n", f"{field}:\n  - {ref}\n")
    err = only_error(check, book)
    assert err["field"] == f"{field}[0]" and err["line"] == line_of(book, "lessons/fictional-lesson.yaml", f"  - {ref}")
    assert f"“{ref}”是{kind}，不能写在 {field} 下" in err["message"] and f"提示：把它移到 {wanted} 下" in err["message"]


def test_model_example_must_exist(check, book):
    replace(book, CLUSTER, "  - id: fictional-three-belts\n", "  - id: fictional-three-belts\n    examples:\n      - nowhere\n")
    err = only_error(check, book)
    assert err["field"] == "models[0].examples[0]"
    assert "不存在的典型事例“nowhere”" in err["message"]
