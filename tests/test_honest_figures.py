"""Honest figures: `casebook check` holds every value to its quote, its unit and its catalogue
bounds; whatever check accepts, the site builds; editors' text in a message is shown, never
expanded; and a source file outside the casebook is refused before it is ever opened.

Each test edits a copy of the real casebook (cases/) in tmp_path; every figure or sentence added
for a test is fictional and says 虚构.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from casebook.charts import _number as chart_number
from casebook.figures import (
    UNIT_FAMILIES,
    FigureError,
    convert,
    format_figure,
    parse_figure,
    quote_figures,
    strip_zeros,
)
from casebook.render import _number as page_number

from helpers import line_of, replace
from sitebuild import build_project, make_project

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
FW = "clusters/farming-weaving.yaml"
GS = "clusters/grain-store.yaml"
MR = "clusters/mountain-road.yaml"
SP = "clusters/source-prosperity.yaml"
AL = "alliance.yaml"
VILLAGES = "  - indicator: administrative-villages\n    value: '*'\n    quote: 包含*个行政村\n"
FICTIONAL_SENTENCE = "虚构测试句：虚构项目投入3.2亿元，虚构的*山镇投入3.2亿元，虚构村收入增长*。"


@pytest.fixture
def real(tmp_path: Path) -> Path:
    """A writable copy of the real casebook, with one fictional sentence added to its source."""
    target = tmp_path / "cases"
    shutil.copytree(CASES, target)
    source = target / "sources" / "writeup.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\n" + FICTIONAL_SENTENCE + "\n", encoding="utf-8")
    return target


def errors(check, book: Path) -> list[dict]:
    rc, payload = check.json(book)
    assert (rc == 0) == payload["ok"] == (payload["errors"] == [])
    return payload["errors"]


def only_error(check, book: Path) -> dict:
    found = errors(check, book)
    assert len(found) == 1, found
    assert found[0]["message"].count("提示：") == 1
    return found[0]


def add_observation(book: Path, block: str, rel: str = FW) -> None:
    """Add an observation (YAML lines, indented as in the file) at the top of the file's list."""
    replace(book, rel, "observations:\n", "observations:\n" + block)


def assert_at(err: dict, book: Path, rel: str, needle: str, field: str, column: int) -> None:
    assert err["file"].endswith(rel)
    assert err["line"] == line_of(book, rel, needle)
    assert err["column"] == column
    assert err["field"] == field


def test_real_casebook_passes(check):
    assert errors(check, CASES) == []


def test_real_figures_written_in_chinese_numerals_agree(check, real):
    """The real data's 连续两年 = 2 and *三个村 = 3 pass; any other number beside them does not."""
    assert errors(check, real) == []
    replace(real, AL, "value: '3'\n    scope: “虹心”党建联盟", "value: '4'\n    scope: “虹心”党建联盟")
    replace(real, AL, "  - indicator: hosting-years\n    value: '2'", "  - indicator: hosting-years\n    value: '3'")
    found = errors(check, real)
    assert [(e["field"], e["line"]) for e in found] == [
        ("observations[10].value", line_of(real, AL, "value: '3'")),
        ("observations[11].value", line_of(real, AL, "value: '4'")),
    ]
    assert "原文“连续两年作为*市“人才山乡荟”活动承办地”中的数是“两年”" in found[0]["message"]
    assert "可以直接写 2年" in found[0]["message"]
    assert "中的数是“三个”" in found[1]["message"] and "可以直接写 3个" in found[1]["message"]


# --------------------------------------------------------------------------- value against quote

STAR = "*"


@pytest.mark.parametrize("quote, expected", [
    ("包含*个行政村", [("*个", STAR, "个", 1, None)]),
    ("带动村民人均纯收入提升*万余元", [("*万余元", STAR, "万元", 1, "余")]),
    ("发放低息贷款*亿", [("*亿", STAR, None, 10**8, None)]),
    ("电商销售额* 亿元", [("* 亿元", STAR, "亿元", 1, None)]),
    ("海拔*－*米", [("*", STAR, "米", 1, None), ("*米", STAR, "米", 1, None)]),
    ("连续两年作为", [("两年", 2, "年", 1, None)]),
    ("引领*三个村", [("*", STAR, None, 1, None), ("三个", 3, "个", 1, None)]),
    ("虚构：二〇二三年，一百零五个村", [("二〇二三年", 2023, "年", 1, None), ("一百零五个", 105, "个", 1, None)]),
    ("虚构：十二万余人", [("十二万余人", 120000, "人", 1, "余")]),
    ("虚构：投入3.2亿元", [("3.2亿元", Decimal("3.2"), "亿元", 1, None)]),
    ("虚构：岗位3万多个", [("3万多个", 3, "个", 10**4, "多")]),
    ("虚构：全村3，120户", [("3，120户", 3120, "户", 1, None), ("3", 3, None, 1, None), ("120户", 120, "户", 1, None)]),
    ("虚构：超过1,200万元", [("1,200万元", 1200, "万元", 1, "超"), ("1", 1, None, 1, "超"),
                              ("200万元", 200, "万元", 1, None)]),
    ("虚构：党员*名、近*位", [("*名", STAR, "人", 1, None), ("*位", STAR, "人", 1, "近")]),
    ("虚构：１２３亩，５０％", [("１２３亩", 123, "亩", 1, None), ("５０％", 50, "%", 1, None)]),
    ("虚构：节约*万元，附近*个村", [("*万元", STAR, "万元", 1, None), ("*个", STAR, "个", 1, None)]),
    ("虚构：第3批、第一次、一心一线四村九园、十里稻香", []),
])
def test_figures_read_from_quotes(quote, expected):
    got = [(f.text, f.value, f.unit, f.scale, f.qualifier) for f in quote_figures(quote)]
    assert got == [(t, v if v == STAR else Decimal(v), u, Decimal(k), q) for t, v, u, k, q in expected]




@pytest.mark.parametrize("value", ["0", "0.0", "-0", "5", "5.0", "'0个'", "'5'", "'约5个'"])
def test_number_beside_a_desensitised_quote(check, real, value):
    """A quote showing * for the figure (包含*个行政村) requires '*': never 0, never a guess."""
    replace(real, FW, VILLAGES, VILLAGES.replace("value: '*'", f"value: {value}  # 虚构"))
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert "原文“包含*个行政村”中这个数脱敏为“*个”" in err["message"]
    assert "写带引号的 '*'，绝不写成 0" in err["message"]


@pytest.mark.parametrize("value", ["0", "5", "-5"])
def test_number_beside_a_bare_star(check, real, value):
    """增长* shows the figure as * even with no unit after it."""
    add_observation(real, f"  - indicator: farmer-income-growth\n    value: {value}  # 虚构\n    quote: 虚构村收入增长*\n")
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert "原文“虚构村收入增长*”中这个数脱敏为“*”" in err["message"]


@pytest.mark.parametrize("value, ok", [("32000", True), ("'3.2亿元'", True), ("'*'", False), ("5", False)])
def test_star_in_a_name_is_not_the_figure(check, real, value, ok):
    """In 虚构的*山镇投入3.2亿元 the * is a place name; the figure is 3.2亿元."""
    add_observation(real, f"  - indicator: investment\n    value: {value}  # 虚构\n    quote: 虚构的*山镇投入3.2亿元\n")
    fields = [e["field"] for e in errors(check, real)]
    assert fields == ([] if ok else ["observations[0].value"])


@pytest.mark.parametrize("value", ["3.5", "3.2", "320", "'3.2万元'", "'32001万元'", "'*'", "'*亿元'", "'*万元'"])
def test_number_quote_requires_that_number(check, real, value):
    """投入3.2亿元 in a 万元 indicator allows exactly 32000万元 (3.2亿元, 320000000元…), nothing else."""
    add_observation(real, f"  - indicator: investment\n    value: {value}  # 虚构\n    quote: 虚构项目投入3.2亿元\n")
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    if "*" in value:
        assert "数值写的是 '*'，但原文“虚构项目投入3.2亿元”给出了数字“3.2亿元”" in err["message"]
    else:
        assert "与原文不符：原文“虚构项目投入3.2亿元”中的数是“3.2亿元”" in err["message"]
    assert "3.2亿元" in err["message"].split("提示：")[1]


@pytest.mark.parametrize("value", ["32000", "'3.2亿元'", "'32,000万元'", "'320000000元'", "32000.0"])
def test_number_quote_accepts_the_same_number_in_any_exact_unit(check, real, value):
    add_observation(real, f"  - indicator: investment\n    value: {value}  # 虚构\n    quote: 虚构项目投入3.2亿元\n")
    assert errors(check, real) == []


def test_desensitised_value_keeps_the_quotes_unit(check, real):
    """投资*亿元 written as '*' in the 万元 indicator would read *万元: ten thousand times too small."""
    replace(real, SP, "    value: '*'\n    unit: 亿元\n    period: 自启动创建以来", "    value: '*'  # 虚构\n    period: 自启动创建以来")
    err = only_error(check, real)
    assert_at(err, real, SP, "# 虚构", "observations[2].value", 12)
    assert "数值 '*' 以“万元”计，但原文“*亿元”以“亿元”计" in err["message"]
    assert "写成 '*亿元'（或 unit: 亿元）" in err["message"]


def test_desensitised_value_needs_a_star_in_its_unit(check, real):
    """包含*个行政村 has no * counted in 人: it is not the quote of a head count."""
    replace(real, FW, VILLAGES, VILLAGES.replace("administrative-villages", "talents-introduced")
            .replace("value: '*'", "value: '*'  # 虚构"))
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert "原文“包含*个行政村”中没有以“人”计的 * 号数字" in err["message"]


@pytest.mark.parametrize("rel, old, new, field, needle, column, expected", [
    # 投入*余万元 without qualifier: the site would read *万元, hiding the source's 余.
    (GS, "    value: '*'\n    qualifier: 余\n    scope: 农田建设", "    value: '*'  # 虚构\n    scope: 农田建设",
     "observations[2].value", "# 虚构", 12, "原文“*余万元”带有限定词“余”，这条数据却没有。提示：加上 qualifier: 余"),
    # 打造总投资*多万元 recorded with 余.
    (MR, "    qualifier: 多\n    scope: 旷野公园", "    qualifier: 余  # 虚构\n    scope: 旷野公园",
     "observations[9].qualifier", "# 虚构", 16, "限定词写的是“余”，但原文“*多万元”的限定词是“多”"),
    # 流转土地*亩 recorded as *余亩.
    (FW, "    value: '*'\n    quote: 整个组团内规模化流转土地*亩", "    value: '*'\n    qualifier: 近  # 虚构\n    quote: 整个组团内规模化流转土地*亩",
     "observations[4].qualifier", "# 虚构", 16, "限定词写的是“近”，但原文“*亩”没有限定词。提示：删去 qualifier"),
    # The qualifier folded in from the value text ('*近万元') has no key: the message points at the value.
    (GS, "    value: '*'\n    qualifier: 余\n    scope: 农田建设", "    value: '近*万元'  # 虚构\n    scope: 农田建设",
     "observations[2].value", "# 虚构", 12, "限定词写的是“近”，但原文“*余万元”的限定词是“余”"),
])
def test_qualifier_agrees_with_the_quote(check, real, rel, old, new, field, needle, column, expected):
    replace(real, rel, old, new)
    err = only_error(check, real)
    assert_at(err, real, rel, needle, field, column)
    assert expected in err["message"]


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize("indicator, unit", [
    ("administrative-villages", "个"), ("investment", "万元"), ("land-transferred", "亩"), ("total-area", "平方公里"),
    ("talents-introduced", "人"), ("private-enterprises", "家"), ("land-transfer-rent-farmer", "元/亩"),
    ("hosting-years", "年"), ("e-commerce-sales", "亿元"), ("livestream-area", "平方米"),
])
@pytest.mark.parametrize("value", ["-5", "-0.5", "'-3{unit}'", "-999999999999999"])
def test_counts_areas_and_money_are_never_negative(check, real, indicator, unit, value):
    value = value.replace("{unit}", unit)
    add_observation(real, f"  - indicator: {indicator}\n    value: {value}  # 虚构\n")
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert f"以“{unit}”计，不能是负数" in err["message"]


@pytest.mark.parametrize("indicator, value, expected", [
    ("profit-share-to-collective", "1000000000", "数值 1,000,000,000%超过指标目录为“反哺村集体的利润比例”规定的上限 100%"),
    ("profit-share-to-collective", "100.5", "上限 100%"),
    ("profit-share-to-collective", "-1", "数值 -1%低于指标目录为“反哺村集体的利润比例”规定的下限 0%"),
    ("farmer-income-growth", "-100.01", "下限 -100%"),
    ("collective-income-growth", "10001", "上限 10,000%"),
    ("altitude-low", "-600", "下限 -500米"),
    ("altitude-high", "'9.5公里'", "数值 9,500米超过"),
])
def test_catalogue_bounds(check, real, indicator, value, expected):
    add_observation(real, f"  - indicator: {indicator}\n    value: {value}  # 虚构\n")
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert expected in err["message"]


@pytest.mark.parametrize("indicator, value", [
    ("profit-share-to-collective", "100"), ("profit-share-to-collective", "0"), ("farmer-income-growth", "-100"),
    ("collective-income-growth", "10000"), ("altitude-low", "-154"), ("altitude-high", "'8.848公里'"),
])
def test_values_on_the_bounds_pass(check, real, indicator, value):
    add_observation(real, f"  - indicator: {indicator}\n    value: {value}  # 虚构\n")
    assert errors(check, real) == []


@pytest.mark.parametrize("old, new, expected", [
    ("    direction: neutral\n    min: -500\n    max: 9000",
     "    direction: neutral\n    min: 9000  # 虚构\n    max: -500", "下限 9000 大于上限 -500"),
    ("    unit: 个\n    definition: 组团建成的美丽乡村个数。",
     "    unit: 个\n    min: -1  # 虚构\n    definition: 组团建成的美丽乡村个数。", "以“个”计的数不会是负数，下限却是 -1"),
])
def test_catalogue_bounds_must_be_possible(check, real, old, new, expected):
    replace(real, "indicators.yaml", old, new)
    err = only_error(check, real)
    assert err["file"].endswith("indicators.yaml")
    assert err["line"] == line_of(real, "indicators.yaml", "# 虚构")
    assert err["field"].endswith(".min") and err["column"] == 10
    assert expected in err["message"]


# --------------------------------------------------------------------------- digits and magnitude

TOO_LONG = [
    ("12345678901234567890123456789", "有 29 位有效数字，超过上限 15 位"),
    ("1234567890123456", "有 16 位有效数字"),
    ("'1,234,567,890,123,456万元'", "有 16 位有效数字"),
    ("'0.1234567890123456'", "有 16 位有效数字"),
    ("7" * 5000, "有 5000 位有效数字"),
    ("1" + "0" * 30, "过大（整数部分超过 15 位）"),  # 1e30 written out
    ("1000000000000000", "过大"),
    ("-1000000000000000", "过大"),
    ("'1" + "0" * 40 + "亿元'", "过大"),
    ("1" + "0" * 5000, "过大"),
    ("0.0000001", "小数超过 6 位"),
    ("'0.00000000000000000000000000001'", "小数超过 6 位"),
    # YAML's other spellings of numbers are not figures here (case files keep every scalar as text).
    ("1e30", "“1e30”是科学计数法"),
    ("'-1.5E+20'", "“-1.5E+20”是科学计数法"),
    (".inf", "无法识别数值“.inf”"),
    (".nan", "无法识别数值“.nan”"),
]


@pytest.mark.parametrize("value, expected", TOO_LONG, ids=[v[:20] for v, _ in TOO_LONG])
def test_check_bounds_digits_and_magnitude(check, real, value, expected):
    add_observation(real, f"  - indicator: administrative-villages\n    value: {value}  # 虚构\n")
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert expected in err["message"]


def _accepted_values(rng: random.Random) -> list[str]:
    """Figures at and inside every bound check sets: up to 15 significant digits, integer part up
    to 15 digits, up to 6 decimals, either sign."""
    out = ["999999999999999", "-999999999999999", "0.000001", "99999999.999999", "0", "123456789.012345"]
    for _ in range(400):
        digits = rng.randint(1, 15)
        places = rng.randint(0, min(6, digits))
        body = str(rng.randint(10 ** (digits - 1), 10**digits - 1))
        if places:
            body = body[:-places] + "." + body[-places:] if places < len(body) else "0." + body
        out.append(("-" if rng.random() < 0.3 else "") + body)
    return out


def test_every_accepted_figure_formats_in_every_unit():
    """The whole class check accepts: each figure, converted into every unit of its family, reads
    back exactly through the page's, the chart's and the prose formatting (none may raise)."""
    for text in _accepted_values(random.Random(20240501)):
        fig = parse_figure(text)
        assert fig is not None and isinstance(fig.value, Decimal)
        for family in UNIT_FAMILIES.values():
            for a in family:
                for b in family:
                    value = convert(fig.value, a, b)
                    for shown in (page_number(value), chart_number(value), format_figure(value, None, "")):
                        assert "E" not in shown and "e" not in shown
                        assert Decimal(shown.replace(",", "")) == value, (text, a, b, shown)


@pytest.mark.parametrize("value", [Decimal("1E+30"), Decimal("12345678901234567890123456789"), Decimal("-0"),
                                   Decimal("1E-40"), Decimal("0E+5"), Decimal("1.500000000000000000000000000000")])
def test_strip_zeros_is_exact_for_any_finite_value(value):
    """Not only what check accepts: the 28-digit context once made these raise while building."""
    out = strip_zeros(value)
    assert out == value and "E" not in f"{out:f}"


@pytest.mark.parametrize("raw", [float("inf"), float("nan"), Decimal("NaN"), 10**20, "1e5", "1" * 16])
def test_parse_figure_refuses_out_of_bounds_with_a_hint(raw):
    with pytest.raises(FigureError) as exc:
        parse_figure(raw)
    assert exc.value.hint


def test_anything_check_accepts_builds(check, real, tmp_path):
    """Figures at the bounds pass check, and a real MkDocs build shows every one of them exactly."""
    replace(real, FW, VILLAGES, "  - indicator: administrative-villages\n    value: 999999999999999  # 虚构\n")
    add_observation(real, "".join([
        "  - indicator: investment\n    value: '999999999999999亿元'  # 虚构\n    year: 2022\n",
        "  - indicator: investment\n    value: '0.000001元'  # 虚构\n    year: 2023\n",
        "  - indicator: e-commerce-sales\n    value: '999999999999999元'  # 虚构\n",
        "  - indicator: profit-share-to-collective\n    value: 99.999999  # 虚构\n",
        "  - indicator: farmer-income-growth\n    value: -100  # 虚构\n",
        "  - indicator: altitude-low\n    value: -154  # 虚构\n",
    ]))
    assert errors(check, real) == []
    site = build_project(make_project(tmp_path / "build", real))
    page = (site / "cases" / "farming-weaving" / "index.html").read_text(encoding="utf-8")
    for shown in ("999,999,999,999,999", "9,999,999,999,999,990,000", "0.0000000001", "9,999,999.99999999",
                  "99.999999", "-100", "-154"):
        assert shown in page, shown
    assert "999,999,999,999,999个" in (site / "index.html").read_text(encoding="utf-8")
    expected = {("administrative-villages", ""): "999999999999999", ("investment", "2022"): "9999999999999990000",
                ("investment", "2023"): "0.0000000001", ("e-commerce-sales", ""): "9999999.99999999",
                ("profit-share-to-collective", ""): "99.999999", ("farmer-income-growth", ""): "-100",
                ("altitude-low", ""): "-154"}
    with (site / "downloads" / "casebook.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {(r["指标标识"], r["年份"]): r["数值"] for r in csv.DictReader(fh) if r["组团标识"] == "farming-weaving"}
    assert {k: rows[k] for k in expected} == expected
    sheet = openpyxl.load_workbook(site / "downloads" / "casebook.xlsx", read_only=True).worksheets[0]
    header, *body = sheet.iter_rows(values_only=True)
    col = {name: i for i, name in enumerate(header)}
    cells = {(r[col["指标标识"]], r[col["年份"]] or ""): r[col["数值"]] for r in body if r[0] == "farming-weaving"}
    # A workbook cell holds a double: the same 15 significant digits, read back exactly.
    assert {k: Decimal(repr(cells[k])) for k in expected} == {k: Decimal(v) for k, v in expected.items()}


# --------------------------------------------------------------------------- editors' text in messages


@pytest.mark.parametrize("rel, old, new, field", [
    (FW, "    value: '*'\n    quote: 包含*个行政村", "    value: '{hint}'  # 虚构\n    quote: 包含*个行政村",
     "observations[0].value"),
    (FW, "    value: '*'\n    quote: 包含*个行政村", "    value: '{message}。提示：{hint}'  # 虚构\n    quote: 包含*个行政村",
     "observations[0].value"),
    (FW, "    value: '*'\n    quote: 包含*个行政村", "    value: '{0}{hint!r}{{x}}'  # 虚构\n    quote: 包含*个行政村",
     "observations[0].value"),
    (GS, "    year: '*'\n    quote: '*年，", "    year: '{hint}{lo}'  # 虚构\n    quote: '*年，", "observations[4].year"),
    ("sources.yaml", "    kind: 经验材料\n", "    kind: 经验材料\n    url: '{raw}{hint}'  # 虚构\n", "sources[0].url"),
])
def test_braces_in_editors_text_are_shown_literally(check, real, rel, old, new, field):
    replace(real, rel, old, new)
    written = new.split("'")[1]
    found = errors(check, real)
    assert len(found) == 1, found
    err = found[0]
    assert err["field"] == field and err["line"] == line_of(real, rel, "# 虚构")
    assert f"“{written}”" in err["message"]
    assert err["message"].count("提示：") == written.count("提示：") + 1


# --------------------------------------------------------------------------- source files

CHILD = r"""
import contextlib, io, json, os, sys
probe = os.path.realpath(sys.argv[2])
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        opened.append(path)
        if os.path.realpath(path) == probe:
            os.write(1, json.dumps({"opened_probe": path}).encode() + b"\n")
            os._exit(99)
sys.addaudithook(hook)
from casebook.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(["check", "--cases", sys.argv[1], "--format", "json"])
print(json.dumps({"rc": rc, "payload": json.loads(out.getvalue()), "opened": opened}))
"""


def run_check_watching(cases: Path, probe: Path) -> dict:
    """`casebook check` in a child process that dies (exit 99) the moment anything opens ``probe``;
    the probe is a FIFO, so an open that got past the audit hook would block until the timeout."""
    proc = subprocess.run([sys.executable, "-c", CHILD, str(cases), str(probe)], capture_output=True, text=True,
                          timeout=120, cwd=cases.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["fifo", "copy"])
def probe(request, tmp_path: Path) -> Path:
    """A file outside the casebook: a named pipe (opening it for reading blocks), or a copy of the
    real source text (reading it would make every quote pass)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "writeup.txt"
    if request.param == "fifo":
        os.mkfifo(target)
    else:
        shutil.copy(CASES / "sources" / "writeup.txt", target)
    return target


def test_watching_harness_sees_opens(real, tmp_path):
    """The harness is not blind: it reports the real source file being opened, and dies on the probe."""
    result = run_check_watching(real, real / "sources" / "nothing-here.txt")
    assert result["rc"] == 0
    assert str((real / "sources" / "writeup.txt").resolve()) in {os.path.realpath(p) for p in result["opened"]}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(real), str(real / "sources" / "writeup.txt")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 99 and "opened_probe" in proc.stdout


REFUSED = [
    ("/proc/self/environ", "指向案例库之外"),
    ("{probe}", "指向案例库之外"),
    ("../outside/writeup.txt", "指向案例库之外"),
    ("sources/../../outside/writeup.txt", "指向案例库之外"),
    ("sources/link.txt", "是符号链接"),
    ("linked/writeup.txt", "是符号链接"),
    ("C:/Windows/win.ini", "指向案例库之外"),
    ("C:\\\\Windows\\\\win.ini", "指向案例库之外"),
    ("\\\\\\\\server\\\\share\\\\writeup.txt", "指向案例库之外"),
    ("sources/pipe.txt", "不是普通文件"),
    ("sources", "不是普通文件"),
]


@pytest.mark.parametrize("file, expected", REFUSED, ids=[f for f, _ in REFUSED])
def test_source_file_outside_the_casebook_is_never_opened(real, probe, file, expected):
    (real / "sources" / "link.txt").symlink_to(probe)  # a symlinked file …
    (real / "linked").symlink_to(probe.parent, target_is_directory=True)  # … and a symlinked folder
    os.mkfifo(real / "sources" / "pipe.txt")
    file = file.replace("{probe}", str(probe))
    replace(real, "sources.yaml", "    file: sources/writeup.txt", f'    file: "{file}"  # 虚构')
    result = run_check_watching(real, probe)
    assert result["rc"] == 1
    found = result["payload"]["errors"]
    # Only the path is reported: no quote is checked against a refused file, so nothing it holds
    # (or lacks) can be learnt from the errors.
    assert len(found) == 1, found
    err = found[0]
    assert err["file"].endswith("sources.yaml") and err["field"] == "sources[0].file"
    assert err["line"] == line_of(real, "sources.yaml", "# 虚构") and err["column"] == 11
    assert expected in err["message"] and "提示：" in err["message"]
    inside_pipe = os.path.realpath(real / "sources" / "pipe.txt")
    assert inside_pipe not in {os.path.realpath(p) for p in result["opened"]}


def test_refused_source_reveals_nothing_about_its_contents(real, tmp_path):
    """The old oracle: point `file` at a secret, quote a guess, and read the verdict from the errors.
    A guess that is in the secret and one that is not give the same single error."""
    secret = tmp_path / "secret.txt"
    secret.write_text("虚构机密：虚构口令甲\n", encoding="utf-8")
    replace(real, "sources.yaml", "    file: sources/writeup.txt", f'    file: "{secret}"  # 虚构')
    outcomes = []
    for guess in ("虚构口令甲", "虚构口令乙"):
        book = tmp_path / guess
        shutil.copytree(real, book)
        replace(book, FW, "industries:\n", f"industries:\n  - {guess}\n")
        result = run_check_watching(book, secret)
        outcomes.append([(e["field"], e["message"]) for e in result["payload"]["errors"]])
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0]) == 1 and "指向案例库之外" in outcomes[0][0][1]
