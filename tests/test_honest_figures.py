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
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from casebook.figures import (
    DESENSITISED,
    UNIT_FAMILIES,
    FigureError,
    ParsedFigure,
    check_quote,
    convert,
    format_figure,
    in_catalogue_unit,
    normalise_unit,
    parse_figure,
    quote_figures,
    strip_zeros,
)
from casebook.present import number as page_number

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
    ("虚构：全村3，120户", [("3，120户", 3120, "户", 1, None), ("3", 3, "户", 1, None), ("120户", 120, "户", 1, None)]),
    # An ASCII comma groups thousands; only the full-width one may also be a list's comma.
    ("虚构：超过1,200万元", [("1,200万元", 1200, "万元", 1, "超")]),
    ("虚构：超过1，200万元", [("1，200万元", 1200, "万元", 1, "超"), ("1", 1, "万元", 1, "超"),
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
                    for shown in (page_number(value), format_figure(value, None, "")):
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
    """Figures at the bounds pass check — the bounds hold in the indicator's unit, after conversion —
    and a real MkDocs build shows every one of them exactly, drawing charts of the largest and the
    smallest (0.000001亿元 once made the chart's axis divide by zero)."""
    replace(real, FW, VILLAGES, "  - indicator: administrative-villages\n    value: 999999999999999  # 虚构\n")
    add_observation(real, "".join([
        "  - indicator: investment\n    value: '99999999999.9999亿元'  # 虚构\n    year: 2022\n",
        "  - indicator: investment\n    value: '0.01元'  # 虚构\n    year: 2023\n",
        "  - indicator: e-commerce-sales\n    value: '999999999999900元'  # 虚构\n",
        "  - indicator: e-commerce-sales\n    value: '100元'  # 虚构\n    year: 2022\n",
        "  - indicator: e-commerce-sales\n    value: '300元'  # 虚构\n    year: 2023\n",
        "  - indicator: profit-share-to-collective\n    value: 99.999999  # 虚构\n",
        "  - indicator: farmer-income-growth\n    value: -100  # 虚构\n",
        "  - indicator: altitude-low\n    value: -154  # 虚构\n",
    ]))
    assert errors(check, real) == []
    site = build_project(make_project(tmp_path / "build", real))
    page = (site / "cases" / "farming-weaving" / "index.html").read_text(encoding="utf-8")
    for shown in ("999,999,999,999,999", "0.000001", "9,999,999.999999", "0.000003", "99.999999", "-100", "-154",
                  "2022–2023年由0.000001亿元增至0.000003亿元", "2022–2023年由999,999,999,999,999万元降至0.000001万元"):
        assert shown in page, shown
    assert "999,999,999,999,999个" in (site / "index.html").read_text(encoding="utf-8")
    expected = {("administrative-villages", ""): "999999999999999", ("investment", "2022"): "999999999999999",
                ("investment", "2023"): "0.000001", ("e-commerce-sales", ""): "9999999.999999",
                ("e-commerce-sales", "2022"): "0.000001", ("e-commerce-sales", "2023"): "0.000003",
                ("profit-share-to-collective", ""): "99.999999", ("farmer-income-growth", ""): "-100",
                ("altitude-low", ""): "-154"}
    with (site / "downloads" / "共富案例库-全部数据.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {(r["指标标识"], r["年份"]): r["数值"] for r in csv.DictReader(fh) if r["组团标识"] == "farming-weaving"}
    assert {k: rows[k] for k in expected} == expected
    sheet = openpyxl.load_workbook(site / "downloads" / "共富案例库-全部数据.xlsx", read_only=True).worksheets[0]
    header, *body = sheet.iter_rows(values_only=True)
    col = {name: i for i, name in enumerate(header)}
    cells = {(r[col["指标标识"]], r[col["年份"]] or ""): r[col["数值"]] for r in body if r[0] == "farming-weaving"}
    # A workbook cell holds a double: the same 15 significant digits, read back exactly.
    assert {k: Decimal(repr(cells[k])) for k in expected} == {k: Decimal(v) for k, v in expected.items()}


@pytest.mark.parametrize("indicator, value, expected", [
    ("social-capital", "'0.01元'", "数值 0.01元换算为指标目录规定的单位“亿元”是 0.0000000001亿元，小数超过 6 位"),
    ("social-capital", "'99元'", "最小为 0.000001亿元（100元）"),
    ("e-commerce-sales", "'0.005万元'", "是 0.0000005亿元"),
    ("investment", "'0.009元'", "最小为 0.000001万元（0.01元）"),
    ("investment", "'999999999999999亿元'", "是 9,999,999,999,999,990,000万元，整数部分超过 15 位"),
    ("investment", "'100000000000亿元'", "最大为 999,999,999,999,999万元（99,999,999,999.9999亿元）"),
    ("land-transferred", "'999999999999999万亩'", "整数部分超过 15 位"),
    ("total-area", "'0.5平方米'", "小数超过 6 位"),
    ("altitude-high", "'999999999999999公里'", "整数部分超过 15 位"),
])
def test_bounds_hold_after_conversion_to_the_indicators_unit(check, real, indicator, value, expected):
    """0.01元 on a 亿元 indicator is 0.0000000001亿元: past what is stored exactly and what a chart's
    axis was drawn for. check refuses it on the value, in Chinese, naming the indicator's unit."""
    add_observation(real, f"  - indicator: {indicator}\n    value: {value}  # 虚构\n")
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert expected in err["message"]
    assert "提示：核对原文与所选指标" in err["message"]


def test_conversion_keeps_every_figure_within_the_bounds_or_says_why():
    """The whole class: every accepted figure, written in any unit of its family, either converts
    into each other unit of the family within the bounds, or is refused with a hint; never both."""
    for text in _accepted_values(random.Random(20240502)):
        fig = parse_figure(text)
        assert fig is not None and isinstance(fig.value, Decimal)
        for family in UNIT_FAMILIES.values():
            for written in family:
                for catalogue in family:
                    try:
                        stored = in_catalogue_unit(fig.value, written, catalogue)
                    except FigureError as exc:
                        assert exc.hint.startswith("核对原文与所选指标") and catalogue in exc.message, text
                        with pytest.raises(FigureError):
                            parse_figure(format(convert(fig.value, written, catalogue), "f"))
                        continue
                    assert stored == convert(fig.value, written, catalogue)
                    assert parse_figure(format(stored, "f")) == ParsedFigure(stored), (text, written, catalogue)


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
    # The linked folder planted for one of the paths is itself reported (a link in the casebook).
    found = [e for e in result["payload"]["errors"] if e["file"] != "cases/linked"]
    assert [e["file"] for e in result["payload"]["errors"] if e not in found] == ["cases/linked"]
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


# --------------------------------------------------------------------------- what a number in a quote means
#
# A number in a quote is read with everything that scales it, names its unit, bounds it or gives
# its sign. These tests generate each class (every magnitude, unit, currency, fall word, qualifier,
# numeral spelling) and hold check_quote — the function `casebook check` uses — to it; the
# `casebook check` tests after them run the red-team cases end to end on a copy of the real casebook.
# Expectations are written out here, not taken from casebook.figures' own tables.

CN_DIGITS = "零一二三四五六七八九"


def chinese(n: int, two: str = "二") -> str:
    """``n`` in Chinese numerals as official prose writes it (一亿零一万, 两千零五); ``two`` is how
    a 2 before 千/百 is written (二 or 两)."""
    if n == 0:
        return "零"

    def section(x: int) -> str:  # 1..9999
        out, zero = "", False
        for size, mark in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = x // size % 10
            if digit == 0:
                zero = bool(out)
                continue
            out += "零" if zero else ""
            zero = False
            out += (two if digit == 2 and mark in ("千", "百") else CN_DIGITS[digit]) + mark
        return out

    yi, wan, rest = n // 10**8, n // 10**4 % 10**4, n % 10**4
    out = chinese(yi, two) + "亿" if yi else ""
    if wan:
        out += ("零" if out and wan < 1000 else "") + section(wan) + "万"
    if rest:
        out += ("零" if out and (rest < 1000 or not wan) else "") + section(rest)
    return out


def chinese_decimal(text: str) -> str:
    whole, _, frac = text.partition(".")
    return chinese(int(whole)) + ("点" + "".join(CN_DIGITS[int(d)] for d in frac) if frac else "")


def test_the_chinese_speller_is_right():
    """The test's own speller, checked on figures whose spelling is not in doubt."""
    assert [chinese(n) for n in (10, 15, 105, 1010, 2000, 20000, 120000, 3000000, 100010000, 120000000, 10**12)] == [
        "一十", "一十五", "一百零五", "一千零一十", "二千", "二万", "一十二万", "三百万", "一亿零一万", "一亿二千万", "一万亿"]
    assert chinese(2222, "两") == "两千两百二十二" and chinese(100000005) == "一亿零五"


def ok(value: str, unit: str, quote: str, qualifier: str | None = None, catalogue: str | None = None) -> bool:
    figure = DESENSITISED if value == "*" else Decimal(value)
    return check_quote(figure, unit, catalogue or unit, qualifier, quote) is None


def problem(value: str, unit: str, quote: str, qualifier: str | None = None, catalogue: str | None = None) -> str:
    figure = DESENSITISED if value == "*" else Decimal(value)
    found = check_quote(figure, unit, catalogue or unit, qualifier, quote)
    assert found is not None, (value, unit, quote, qualifier)
    assert found.message.count("提示：") == 1, found.message
    return found.message


def rng_sample(seed: int, count: int, low: int, high: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(low, high) for _ in range(count)]


# ----- sign: a fall word counts only when it governs the number, and only for a figure that can fall

FALL_WORDS = ["下降", "减少", "降低", "下滑", "回落", "缩减", "下跌", "负增长", "负", "降幅", "跌幅", "减", "降", "跌"]
# (filler between the fall word and the number, the qualifier it brings)
GOVERNING = [("", None), ("了", None), ("达", None), ("为", None), ("幅度达", None), ("约", "约"), ("近", "近"),
             ("了约", "约"), ("了近", "近"), ("不足", "不足"), ("超过", "超"), ("的比例为", None), ("比例为", None),
             ("的幅度是", None), ("的比例约为", "约")]
SIGNED = [("%", "虚构村民收入{fall}{fill}{n}%"), ("%", "虚构村民收入{fall}{fill}百分之{cn}"),
          ("米", "虚构地面{fall}{fill}{n}米")]


@pytest.mark.parametrize("fall", FALL_WORDS)
@pytest.mark.parametrize("fill, qualifier", GOVERNING)
def test_a_governing_fall_word_makes_a_rate_negative(fall, fill, qualifier):
    for unit, template in SIGNED:
        for n in ("5", "12.5", "100"):
            quote = template.format(fall=fall, fill=fill, n=n, cn=chinese_decimal(n))
            assert ok("-" + n, unit, quote, qualifier), quote
            assert f"可以直接写 -{n}{unit}" in problem(n, unit, quote, qualifier), quote
            assert f"中的数是“{fall}" in problem(n, unit, quote, qualifier)


@pytest.mark.parametrize("sign", ["-", "－", "−"])
def test_a_minus_sign_is_a_fall_but_a_range_dash_is_not(sign):
    assert ok("-5", "%", f"虚构增长{sign}5%") and not ok("5", "%", f"虚构增长{sign}5%")
    assert ok("-154", "米", f"虚构海拔{sign}154米")
    for quote in (f"虚构增长3{sign}5%", f"虚构增长3%{sign}5%", f"虚构海拔500米{sign}800米", f"虚构增长3 {sign} 5%"):
        high = "800" if "米" in quote else "5"
        unit = "米" if "米" in quote else "%"
        assert ok(high, unit, quote) and not ok("-" + high, unit, quote), quote


@pytest.mark.parametrize("lead", [
    "虚构负责人介绍，村民收入增长", "虚构下降后村民收入增长", "虚构虽有下滑，村民收入仍增长", "虚构减少的是支出，收入增长",
    "虚构收入增幅下降至", "虚构收入增幅回落到", "虚构增减", "虚构正负", "虚构负责人称增长了", "虚构降低成本后增长",
    "虚构下降的是成本，利润增长", "虚构减少的趋势扭转，收入增长了", "虚构负责人的收入增长",
])
def test_a_fall_word_that_does_not_govern_the_number_is_not_its_sign(lead):
    """负 in 负责人, a fall that ends at a level (下降至5% is 5%), ± words: the number stays positive."""
    for n in ("5", "0.5", "30"):
        quote = f"{lead}{n}%"
        assert ok(n, "%", quote), quote
        assert "与原文不符" in problem("-" + n, "%", quote)


@pytest.mark.parametrize("fall", FALL_WORDS)
@pytest.mark.parametrize("unit, quote", [
    ("万元", "虚构{fall}支出{n}万元"), ("万元", "虚构{fall}{n}万元"), ("亩", "虚构{fall}{n}亩"), ("人", "虚构{fall}{n}人"),
    ("个", "虚构{fall}{n}个"), ("平方米", "虚构{fall}{n}平方米"),
])
def test_a_fall_word_describes_a_positive_amount_of_what_cannot_be_negative(fall, unit, quote):
    """减少支出5万元 is 5万元: money, areas and counts are never negative, whatever word stands before."""
    for n in ("5", "1200"):
        text = quote.format(fall=fall, n=n)
        assert ok(n, unit, text), text


def test_a_fall_word_governs_both_ends_of_a_range():
    for quote in ("虚构下降3至5%", "虚构下降3-5%", "虚构下降了约3～5%"):
        qualifier = "约" if "约" in quote else None
        assert ok("-3", "%", quote, qualifier) and ok("-5", "%", quote, qualifier), quote
        assert not ok("5", "%", quote, qualifier) and not ok("3", "%", quote, qualifier), quote


# ----- magnitudes and units: read exactly, converted exactly, or not this figure

MAGNITUDES = {"": 1, "十": 10, "百": 100, "千": 1000, "万": 10**4, "十万": 10**5, "百万": 10**6, "千万": 10**7,
              "亿": 10**8, "十亿": 10**9, "百亿": 10**10, "千亿": 10**11, "万亿": 10**12}
NUMBERS = ["3", "12", "2.5", "1,200", "0.75"]


def exact(number: str, factor: Decimal | int | str) -> str:
    return format(strip_zeros(Decimal(number.replace(",", "")) * Decimal(factor)), "f")


@pytest.mark.parametrize("magnitude", list(MAGNITUDES))
def test_every_magnitude_scales_its_number(magnitude):
    """投入3百万元 is 300万元: a 万元 value must be n × magnitude ÷ 10⁴ exactly, never n."""
    size = MAGNITUDES[magnitude]
    for n in NUMBERS:
        quote = f"虚构投入{n}{magnitude}元"
        right = exact(n, Decimal(size) / 10**4)
        assert ok(right, "万元", quote), quote
        assert ok(exact(n, size), "元", quote, catalogue="万元"), quote
        for wrong in {exact(n, 1), exact(n, size), exact(right, 10), exact(right, "0.1")} - {right}:
            assert "与原文不符" in problem(wrong, "万元", quote), (quote, wrong)
        star = f"虚构投入*{magnitude}元"
        assert ok("*", "万元", star) == (size == 10**4), star
        assert ok("*", "元", star, catalogue="万元") == (size == 1), star


@pytest.mark.parametrize("unit, size", [("亩", 1), ("万亩", 10**4), ("公顷", 15), ("平方米", "0.0015"),
                                        ("平方公里", 1500), ("平方千米", 1500), ("km²", 1500), ("万平方米", 15)])
def test_every_area_unit_converts_exactly_into_mu(unit, size):
    """流转土地200公顷 is 3000亩: every area unit is compared exactly with a value in 亩."""
    for n in ["200", "3.5", "12", "1,000"]:
        quote = f"虚构流转土地{n}{unit}"
        right = exact(n, size)
        assert ok(right, "亩", quote), quote
        if right != exact(n, 1):  # the hint writes the quote's figure in a unit of the value's family
            hint = f"{exact(n, 1)}万亩" if unit == "万亩" else f"{right}亩"
            assert f"可以直接写 {hint}" in problem(exact(n, 1), "亩", quote), quote


def test_an_area_in_mu_is_compared_with_square_metres_only_where_exact():
    """1亩 = 2000/3 平方米: 3亩 is exactly 2000平方米, 1亩 is no exact number of them."""
    for n in range(1, 13):
        quote = f"虚构专区{n}亩"
        if n % 3 == 0:
            assert ok(str(n * 2000 // 3), "平方米", quote), quote
        else:
            assert "不能精确换算为“平方米”" in problem("667", "平方米", quote), quote
    assert ok("20000", "平方米", "虚构专区2公顷") and ok("0.02", "平方公里", "虚构专区2公顷")


@pytest.mark.parametrize("written, size", [("{n}%", 1), ("{n}‰", "0.1"), ("{n}成", 10), ("百分之{n}", 1),
                                           ("千分之{n}", "0.1"), ("百分之{cn}", 1), ("千分之{cn}", "0.1"),
                                           ("{cn}成", 10)])
def test_every_way_of_writing_a_share_is_read_as_percent(written, size):
    """增长20‰ is 2%, 增长3成 is 30%, 百分之二十 is 20%: never the bare number when it differs."""
    for n in ["3", "20", "2.5", "90", "100"]:
        quote = "虚构村民收入增长" + written.format(n=n, cn=chinese_decimal(n))
        right = exact(n, size)
        assert ok(right, "%", quote), quote
        if right != n:
            assert f"可以直接写 {right}%" in problem(n, "%", quote), quote
        assert not ok(exact(right, 2), "%", quote), quote


def test_percent_in_chinese_numerals_for_every_whole_percent():
    for n in [*range(0, 101), 150, 1000, 2500]:
        quote = f"虚构增长百分之{chinese(n)}"
        assert ok(str(n), "%", quote) and not ok(str(n + 1), "%", quote), quote
    assert ok("100", "%", "虚构增长百分之百") and ok("3.5", "%", "虚构增长百分之三点五")
    assert ok("3.5", "%", "虚构增长百分之3.5") and not ok("90", "%", "虚构村民收入增长百分之二十")


EDGE_INTEGERS = [1, 2, 10, 11, 19, 20, 100, 101, 110, 1000, 1001, 1010, 2000, 10000, 10001, 10100, 120000, 3000000,
                 12000000, 100000000, 100010000, 120000000, 2000000000, 10**12, 5 * 10**12]


@pytest.mark.parametrize("two", ["二", "两"])
def test_chinese_numerals_with_magnitudes_are_read_exactly(two):
    """三百万元, 两千亩, 一亿二千万元: every integer spelled out is read as that integer, not as a word."""
    for n in EDGE_INTEGERS + rng_sample(7, 300, 1, 10**12):
        spelled = chinese(n, two)
        money = f"虚构投入{spelled}元"
        assert ok(str(n), "元", money, catalogue="万元"), money
        assert ok(exact(str(n), "0.0001"), "万元", money), money
        assert not ok(str(n + 1), "元", money, catalogue="万元"), money
        area = f"虚构流转{spelled}亩"
        assert ok(str(n), "亩", area) and not ok(str(n * 10), "亩", area), area
    assert ok("35000", "万元", "虚构投入三点五亿元") and ok("300", "万元", "虚构投入三百万元")
    assert ok("12000", "万元", "虚构投入一亿二千万元") and ok("2000", "亩", "虚构流转两千亩")


@pytest.mark.parametrize("spelled, n", [("一万二", 12000), ("三千五", 3500), ("两百五", 250), ("一亿二", 120000000),
                                        ("十二万五", 125000), ("三万五千", 35000), ("一千零五", 1005)])
def test_abbreviated_chinese_numerals_count_their_last_digit_in_the_next_unit(spelled, n):
    """一万二 is 12000, not 10002."""
    assert ok(str(n), "元", f"虚构投入{spelled}元", catalogue="万元") and not ok(str(n - 1), "元", f"虚构{spelled}元")


# ----- a number with lower magnitudes after it is one figure: 3万5千元, 1亿2000万元, 3万5, 两成五


def compounds(seed: int) -> list[tuple[str, int, int]]:
    """Numbers written with a trailing lower-magnitude part, in Arabic, Chinese and mixed numerals:
    (as written, its value, the value of its leading part alone: what a misreading would take)."""
    leads = [1, 2, 3, 9, 10, 12, 99, 100, 305, 999, 1000, 9999, *rng_sample(seed, 6, 1, 9999)]
    out: list[tuple[str, int, int]] = []

    def ways(n: int) -> list[str]:
        return [str(n), chinese(n), chinese(n, "两")] if n < 10000 else [str(n)]

    for a in leads:
        for b in (1, 2, 5, 9):
            for sa in ways(a):  # a万b千 and a万b (3万5 is 3.5万), any mix of numerals
                for sb in (str(b), CN_DIGITS[b], *(["两"] if b == 2 else [])):
                    out.append((f"{sa}万{sb}千", a * 10**4 + b * 1000, a * 10**4))
                    if sb.isdigit() or not sa.isdigit():  # 3万五 stays 3万 beside a word (3万一次性)
                        out.append((f"{sa}万{sb}", a * 10**4 + b * 1000, a * 10**4))
                        out.append((f"{sa}亿{sb}", a * 10**8 + b * 10**7, a * 10**8))
        for c in (1, 20, 305, 2000, 9999, *rng_sample(seed + a, 3, 1, 9999)):  # a亿c万
            for sc in {str(c), f"{c:,}", chinese(c)}:
                out.append((f"{a}亿{sc}万", a * 10**8 + c * 10**4, a * 10**8))
            out.append((f"{a}万{c}", a * 10**4 + c, a * 10**4) if c >= 10 else (f"{a}万零{c}", a * 10**4 + c, a * 10**4))
    for a in range(1, 10):
        for b in range(1, 10):
            out.append((f"{a}千{b}百", a * 1000 + b * 100, a * 1000))
            out.append((f"{a}千{CN_DIGITS[b]}百", a * 1000 + b * 100, a * 1000))
            out.append((f"{a}千{b}", a * 1000 + b * 100, a * 1000))
            out.append((f"{a}百{b}", a * 100 + b * 10, a * 100))
        out.append((f"{a}万5千5百", a * 10**4 + 5500, a * 10**4))
    return out


def test_compound_numbers_in_money_are_read_whole():
    """3万5千元 is 35000元: not 3万元, not 5千元; 1亿2000万元 is 1.2亿元, never 1亿元."""
    for written, n, lead in compounds(11):
        quote = f"虚构投入{written}元"
        assert ok(str(n), "元", quote, catalogue="万元"), quote
        assert ok(exact(str(n), "0.0001"), "万元", quote), quote
        assert ok(exact(str(n), "0.00000001"), "亿元", quote, catalogue="万元"), quote
        for wrong in {lead, n - lead} - {n}:  # either part alone
            assert "与原文不符" in problem(exact(str(wrong), "0.0001"), "万元", quote), (quote, wrong)
            assert "与原文不符" in problem(str(wrong), "元", quote, catalogue="万元"), (quote, wrong)


def test_compound_numbers_in_every_unit_and_bare():
    """The same in a count and with no unit (a bare 3万5 is read in the value's quantity, as 3.5万 is)."""
    for written, n, lead in compounds(12)[::3]:
        bare = [f"虚构吸引{written}"] if any(ch.isdigit() for ch in written) else []  # 一亿一 alone is a word
        for quote in (f"虚构带动{written}人", f"虚构带动{written}人次以上", *bare):
            unit = "人次" if "人次" in quote else "人"
            qualifier = "以上" if "以上" in quote else None
            assert ok(str(n), unit, quote, qualifier), quote
            assert ok(exact(str(n), "0.0001"), "万" + unit, quote, qualifier, catalogue=unit), quote
            assert not ok(str(lead), unit, quote, qualifier), quote


@pytest.mark.parametrize("written, value, wrong", [
    ("3万5千元", "3.5", "3"), ("1亿2000万元", "12000", "10000"), ("2万3千元", "2.3", "2"), ("3万5元", "3.5", "3"),
    ("5千5百元", "0.55", "0.5"), ("5万5千元", "5.5", "5"), ("100万5千元", "100.5", "100"), ("1亿2元", "12000", "10000"),
    ("三万5千元", "3.5", "3"), ("3万五千元", "3.5", "3"), ("3万零500元", "3.05", "3"), ("1亿2,000万元", "12000", "10000"),
])
def test_red_team_compound_figures(written, value, wrong):
    quote = f"虚构投入{written}"
    assert ok(value, "万元", quote)
    message = problem(wrong, "万元", quote)
    assert f"中的数是“{written}”" in message, message


@pytest.mark.parametrize("tens", range(1, 10))
def test_a_digit_after_cheng_counts_in_tenths_of_it(tens):
    """两成五 is 25%, 3成5 is 35%: never 20% or 30%."""
    for unit_digit in range(1, 10):
        right, lead = str(tens * 10 + unit_digit), str(tens * 10)
        spellings = [f"{CN_DIGITS[tens]}成{CN_DIGITS[unit_digit]}", f"{tens}成{unit_digit}"]
        if tens == 2:
            spellings.append(f"两成{CN_DIGITS[unit_digit]}")
        for spelled in spellings:
            quote = f"虚构村民收入增长{spelled}"
            assert ok(right, "%", quote), quote
            assert f"可以直接写 {right}%" in problem(lead, "%", quote), quote
            assert ok(right, "%", quote + "以上", "以上") and ok(right, "%", quote + "，带动3人就业"), quote
    # A digit that starts another figure is not a tenth: 三成，5个村 / 三成5个村 keep 30%.
    assert ok("30", "%", "虚构增长三成5个村") and ok("5", "个", "虚构增长三成5个村")


@pytest.mark.parametrize("written", ["3万15千元", "1亿12000万元", "3.5万5千元", "3万5万元", "3万5千5000元",
                                     "1万1.5千元", "三万十五千元", "3万12000元", "三四万5千元"])
def test_a_compound_that_is_no_one_number_matches_no_value(written):
    """3万15千元 cannot be read as one exact figure: no value passes it off, not even its first part."""
    quote = f"虚构投入{written}"
    for value in ("3", "3.5", "4.5", "1", "1.2", "35000", "30015"):
        assert "不是确切的数" in problem(value, "万元", quote), (quote, value)


@pytest.mark.parametrize("written", ["3万*千元", "*万5千元", "3万5千*百元", "*亿2000万元"])
def test_a_partly_desensitised_compound_is_desensitised(written):
    """3万*千元 hides part of the figure: the value is '*', never the part that shows."""
    quote = f"虚构投入{written}"
    for value in ("3", "3.5", "35000"):
        assert "脱敏为" in problem(value, "万元", quote), (quote, value)
    unit = "亿元" if "亿" in written else "万元"
    assert ok("*", unit, quote, catalogue="万元"), quote


def test_a_word_after_a_magnitude_is_not_part_of_the_number():
    """3万一次性补贴 is 3万 and a word; 第3万5千 is still read whole only where it is a figure."""
    assert ok("3", "万元", "虚构发放3万一次性补贴") and "与原文不符" in problem("3.1", "万元", "虚构发放3万一次性补贴")
    assert ok("3", "万元", "虚构投入3万、5千元用于培训") and ok("0.5", "万元", "虚构投入3万、5千元用于培训")


# ----- rates: a figure per person, household, year … is not a total in that unit

PER_UNITS = ["/人", "/户", "/年", "/月", "/亩/年", "/平方米", "/人次", "/5年", "每人", "每户", "每年", "每平方米"]


@pytest.mark.parametrize("per", PER_UNITS)
def test_a_rate_is_not_a_figure_of_its_unit(per):
    for unit, n in (("万元", "3"), ("元", "1,200"), ("亿元", "0.5"), ("%", "5"), ("人", "12"), ("亩", "200")):
        if per.startswith("/亩") and "元" in unit:
            continue  # 元/亩 is a catalogue unit of its own: below
        quote = f"虚构补贴{n}{unit}{per}"
        value = n.replace(",", "")
        message = problem(value, unit, quote)
        assert f"是以“{unit}{per}”计的数，不能精确换算为以“{unit}”计的数" in message, quote
        assert "不是确切的数" not in message
        # A total beside the rate is this figure; the rate is not.
        beside = f"{quote}，合计50{unit}"
        assert ok("50", unit, beside) and "中的数是“50" in problem(value, unit, beside), beside
    # 元/亩 is a catalogue unit: 3万元/亩 is 30000元/亩, but 3万元/亩/年 is a rate per year of it.
    assert ok("30000", "元/亩", "虚构租金3万元/亩") and "不能精确换算" in problem("30000", "元/亩", "虚构租金3万元/亩/年")


# ----- a space may group thousands


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u2009", "\u202f"])
def test_a_space_between_groups_of_three_digits_groups_thousands(space):
    """1 200万元 is 1200万元, never a figure 1 beside 200万元."""
    for n in [1200, 12345, 999999, 1000000, 20240501, *rng_sample(3, 30, 1000, 10**12)]:
        spaced = f"{n:,}".replace(",", space)
        for unit in ("万元", "人", "亩"):
            quote = f"虚构投入{spaced}{unit}"
            assert ok(str(n), unit, quote), quote
            head = spaced.split(space)[0]
            assert "与原文不符" in problem(head, unit, quote), quote
            assert "与原文不符" in problem(str(n % 1000 or 7), unit, quote), quote
    # Not a group of three: two numbers.
    assert ok("100", "人", f"虚构2023年{space}100人") and not ok("1234", "人", f"虚构12{space}34人")


CURRENCIES = ["美元", "美金", "欧元", "港元", "港币", "日元", "英镑", "韩元", "澳元", "加元", "卢布", "新台币"]


@pytest.mark.parametrize("currency", CURRENCIES)
def test_a_foreign_currency_is_never_a_sum_in_yuan(currency):
    """投入3万美元 holds no figure in 元: no value matches it, and check says why."""
    for magnitude in ("", "万", "百万", "亿"):
        for n in ("3", "1,200"):
            quote = f"虚构投入{n}{magnitude}{currency}"
            for value in {exact(n, 1), exact(n, Decimal(MAGNITUDES[magnitude]) / 10**4)}:
                assert f"是以“{currency}”计的数，不能精确换算为以“万元”计的数" in problem(value, "万元", quote), quote
            assert f"以“{currency}”计" in problem("*", "万元", f"虚构投入*{magnitude}{currency}")
    assert f"以“{currency}”计" in problem("5", "万元", f"虚构投入5万元{currency}")
    # A sum in yuan beside it is this figure; a sum in 人民币 is yuan.
    assert ok("2", "万元", f"虚构投入3万{currency}，折合人民币2万元") and ok("3", "万元", "虚构投入3万人民币")


@pytest.mark.parametrize("unit, quote, value", [
    ("%", "虚构提高5个百分点", "5"), ("%", "虚构提高5百分点", "5"), ("%", "虚构增长3倍", "3"), ("%", "虚构增长3倍", "300"),
    ("%", "虚构占三分之一", "33.333333"), ("%", "虚构占1分之3", "3"),
    ("年", "虚构用时3个月", "3"), ("年", "虚构用时30天", "30"), ("亩", "虚构流转200英亩", "200"),
    ("米", "虚构长3英里", "3"), ("个", "虚构建成3座公园", "3"), ("个", "虚构建成3栋楼", "3"),
    ("个", "虚构建成5G基站", "5"), ("次", "虚构开展3轮", "3"), ("家", "虚构引进3批企业", "3"),
])
def test_a_figure_in_a_unit_that_does_not_convert_is_not_this_figure(unit, quote, value):
    assert "不能精确换算为以“" + unit + "”计的数" in problem(value, unit, quote)


@pytest.mark.parametrize("unit, quote, value", [
    ("万元", "虚构带动*人就业", "7"), ("万元", "虚构带动3人就业", "7"), ("万元", "虚构自5月起开工", "7"),
    ("万元", "虚构建成3座桥梁", "7"), ("万元", "虚构用时3个月", "7"), ("亩", "虚构产粮3吨", "7"), ("个", "虚构自5月起", "7"),
    ("%", "虚构流转200公顷", "7"), ("人", "虚构投入3万美元", "7"), ("个", "虚构第3批", "7"),
])
def test_a_quote_whose_figures_measure_something_else_is_context(unit, quote, value):
    """带动*人就业 beside a 万元 value is context; so is a date, a weight, or another quantity."""
    assert ok(value, unit, quote)


# ----- approximate figures: never an exact value

VAGUE = [("人", "虚构培训数十人", ["10", "20", "90"]), ("人", "虚构培训几十人", ["10", "30"]), ("个", "虚构建成几个", ["3"]),
         ("人", "虚构培训十几人", ["10", "15"]), ("人", "虚构培训二十几人", ["20", "25"]), ("人", "虚构吸引上千人", ["1000"]),
         ("人", "虚构吸引上万人", ["10000"]), ("人", "虚构吸引成千上万人", ["1000", "10000"]), ("个", "虚构三四个村", ["3", "4", "34"]),
         ("人", "虚构十七八人", ["17", "18"]), ("%", "虚构七八成", ["70", "78", "80"]), ("亩", "虚构千亩良田", ["1000"]),
         ("年", "虚构连续两年多", ["2"]), ("年", "虚构一年多来", ["1"]), ("个", "虚构3个多月", ["3"]),
         ("万元", "虚构投入数百万元", ["100", "300"]), ("人", "虚构万人大会", ["10000"])]


@pytest.mark.parametrize("unit, quote, values", VAGUE, ids=[q for _, q, _ in VAGUE])
def test_an_approximate_figure_matches_no_value(unit, quote, values):
    for value in values:
        for qualifier in (None, "约", "多"):
            assert "不是确切的数" in problem(value, unit, quote, qualifier), (quote, value)


def test_a_magnitude_after_a_qualifier_is_a_figure():
    assert ok("1000", "人", "虚构近千人", "近") and ok("10000", "人", "虚构超万人", "超") and ok("1", "万元", "虚构逾万元", "逾")
    assert ok("100", "万元", "虚构逾百万元", "逾") and "qualifier: 近" in problem("1000", "人", "虚构近千人")


@pytest.mark.parametrize("unit, other", [("户", "万元"), ("万元", "亩"), ("美元", "万元"), ("%", "个"), ("亩", "人")])
def test_a_full_width_comma_list_keeps_its_unit_on_every_item(unit, other):
    """全村3，120户 may be 3120户 or 3户 and 120户, never a bare 3 that stands for a figure of any unit:
    beside 投入5万元, a value of 3万元 is not in the quote."""
    quote = f"虚构全村3，120{unit}，另有5{other}"
    if unit != "美元":
        assert ok("3120", unit, quote) and ok("3", unit, quote) and ok("120", unit, quote)
    for value in ("3", "120", "3120"):
        assert "中的数是“5" in problem(value, other, quote), (quote, value)
    assert ok("5", other, quote)


def test_a_fraction_and_a_measure_word_that_is_no_qualifier_stay_exact():
    """3个多功能厅 is three halls; 3家上下游企业 is three firms."""
    assert ok("3", "个", "虚构建成3个多功能厅") and ok("3", "家", "虚构引进3家上下游企业")
    assert ok("3", "个", "虚构建成三个村") and ok("2023", "年", "虚构二〇二三年") and ok("1998", "年", "虚构一九九八年")


# ----- qualifiers: the full class of approximating and bounding words

BEFORE = ["近", "超", "约", "逾", "接近", "不足", "不到", "至少", "最多", "不少于", "不低于", "不超过", "不高于", "多于",
          "少于", "高于", "低于", "大于", "小于"]
BETWEEN = ["余", "多"]
AFTER = ["以上", "以下", "以内", "左右", "上下"]
ALIASES = {"超过": "超", "将近": "近", "大约": "约", "及以上": "以上", "及以下": "以下", "超出": "超", "突破": "超",
           "有余": "余", "出头": "余"}
# 5万元有余 and 5万元出头 say what 5余万元 says: written after the unit, shown where 余 stands.
WRITTEN_AFTER = {"有余", "出头"}


def place_of(word: str) -> str:
    return "before" if word in BEFORE else "between" if word in BETWEEN else "after"


# (word in the quote, the qualifier recorded, where the quote writes it, where the page shows it)
PLACED = [(w, w, place_of(w), place_of(w)) for w in [*BEFORE, *BETWEEN, *AFTER]] + [
    (a, q, "after" if a in WRITTEN_AFTER else place_of(q), place_of(q)) for a, q in ALIASES.items()]
QUALIFIED_UNITS = [("人", "12"), ("万元", "3.5"), ("亩", "200"), ("个", "3"), ("%", "20"), ("人次", "1,200")]


def placed(word: str, place: str, number: str, unit: str) -> str:
    return {"before": word + number + unit, "between": number + word + unit, "after": number + unit + word}[place]


def test_the_qualifier_field_holds_exactly_the_class():
    """The model, the committed editors' schema and this list agree: each word can be recorded."""
    schema = json.loads((ROOT / "schema" / "cluster.schema.json").read_text(encoding="utf-8"))
    field = schema["$defs"]["Observation"]["properties"]["qualifier"]
    enum = next(option["enum"] for option in field["anyOf"] if "enum" in option)
    assert sorted(enum) == sorted([*BEFORE, *BETWEEN, *AFTER])
    assert all(a in field["description"] for a in ALIASES)


@pytest.mark.parametrize("word, canonical, place, shown_place", PLACED, ids=[w for w, _, _, _ in PLACED])
def test_every_qualifier_in_a_quote_must_be_recorded(word, canonical, place, shown_place):
    for unit, number in QUALIFIED_UNITS:
        if "between" in (place, shown_place) and unit == "%":
            continue
        for value in ("*", number):
            quote = "虚构" + placed(word, place, "*" if value == "*" else number, unit)
            value = value.replace(",", "")
            assert f"加上 qualifier: {canonical}" in problem(value, unit, quote), quote
            assert ok(value, unit, quote, canonical), quote
            other = "约" if canonical != "约" else "近"
            assert f"改为 qualifier: {canonical}" in problem(value, unit, quote, other), quote
            # Shown where the source writes it: 不足*人, *余万元, *人以上.
            shown = format_figure(DESENSITISED if value == "*" else Decimal(value), canonical, unit)
            assert shown == placed(canonical, shown_place, "*" if value == "*" else f"{Decimal(value):,f}", unit)
            # … and the same text, or the source's own, written as a value reads back as the same figure.
            for text in (shown, quote.removeprefix("虚构")):
                assert parse_figure(text) == ParsedFigure(
                    DESENSITISED if value == "*" else Decimal(value), normalise_unit(unit), canonical), text


@pytest.mark.parametrize("lead", ["约有", "超过了", "约合人民币", "约为", "近达", "不足了"])
def test_a_qualifier_governs_through_a_filler(lead):
    canonical = {"约": "约", "超": "超", "近": "近", "不": "不足"}[lead[0]]
    assert ok("*", "万元", f"虚构{lead}*万元", canonical) and f"qualifier: {canonical}" in problem(
        "*", "万元", f"虚构{lead}*万元")


@pytest.mark.parametrize("word", ["节约", "制约", "签约", "附近", "最近", "靠近", "就近", "邻近", "赶超", "高达", "多达", "达",
                                  "共计", "累计", "仅"])
def test_words_that_only_look_like_qualifiers_leave_the_figure_exact(word):
    assert ok("*", "万元", f"虚构{word}*万元") and ok("12", "万元", f"虚构{word}12万元")


@pytest.mark.parametrize("text, value, unit, qualifier", [
    ("不足*人", "*", "人", "不足"), ("逾*万元", "*", "万元", "逾"), ("*人以上", "*", "人", "以上"), ("*人左右", "*", "人", "左右"),
    ("约*人", "*", "人", "约"), ("超过12万元", Decimal(12), "万元", "超"), ("12个及以上", Decimal(12), "个", "以上"),
    ("将近*亩", "*", "亩", "近"), ("*余万元", "*", "万元", "余"),
])
def test_a_qualifier_written_in_the_value_is_read_at_its_place(text, value, unit, qualifier):
    fig = parse_figure(text)
    assert fig is not None and (fig.value, fig.unit, fig.qualifier) == (value, unit, qualifier)


@pytest.mark.parametrize("text", ["约*人左右", "近*余人", "不足*人以上", "超*多万元"])
def test_two_qualifiers_in_one_value_are_refused(text):
    with pytest.raises(FigureError) as exc:
        parse_figure(text)
    assert "限定词" in exc.value.message and exc.value.hint


# ----- robustness: any quote is read without error

QUOTE_PIECES = ["3", "12.5", "1,200", "*", "三", "两千", "十几", "数十", "百分之", "千分之", "二十", "万", "亿", "百", "千",
                "元", "万元", "人", "个", "亩", "公顷", "%", "‰", "成", "美元", "座", "年", "月", "余", "多", "以上", "左右",
                "上下", "不足", "逾", "约", "近", "超过", "下降", "负", "-", "－", "至", "、", "，", "第", "分之", "点", "的",
                "村", "节约", "附近", "人民币", "/亩", "个百分点", "倍", "km²", " ", "有余", "出头", "突破", "/人", "每",
                "1 200", "成五", "万5千", "亿2000万", "零", "〇", "点五", "的比例为"]


def test_any_quote_is_read_and_every_verdict_has_one_hint():
    rng = random.Random(20240601)
    for _ in range(3000):
        quote = "".join(rng.choice(QUOTE_PIECES) for _ in range(rng.randint(1, 12)))
        quote_figures(quote)
        for value, unit in (("*", "万元"), ("3", "万元"), ("-5", "%"), ("12", "个"), ("200", "亩"), ("0", "平方米")):
            figure = DESENSITISED if value == "*" else Decimal(value)
            found = check_quote(figure, unit, unit, rng.choice([None, "约", "以上", "余"]), quote)
            assert found is None or (found.message.count("提示：") == 1 and found.on in ("value", "qualifier")), quote


# ----- end to end: `casebook check` on a copy of the real casebook

def add_quoted(book: Path, indicator: str, value: str, quote: str, qualifier: str | None = None) -> None:
    """An observation whose quote is a fictional sentence added to the source."""
    source = book / "sources" / "writeup.txt"
    source.write_text(source.read_text(encoding="utf-8") + f"虚构测试句：{quote}。\n", encoding="utf-8")
    extra = f"    qualifier: {qualifier}\n" if qualifier else ""
    add_observation(book, f"  - indicator: {indicator}\n    value: {value}  # 虚构\n{extra}    quote: {quote}\n")


RED_TEAM = [
    ("farmer-income-growth", "5", "虚构村民收入下降5%", None, "可以直接写 -5%"),
    ("farmer-income-growth", "-5", "虚构村民收入下降5%", None, None),
    ("farmer-income-growth", "-5", "虚构负责人介绍，村民收入增长5%", None, "可以直接写 5%"),
    ("investment", "3", "虚构投入3百万元", None, "可以直接写 3000000元"),
    ("investment", "300", "虚构投入3百万元", None, None),
    ("land-transferred", "200", "虚构流转土地200公顷", None, "可以直接写 3000亩"),
    ("land-transferred", "3000", "虚构流转土地200公顷", None, None),
    ("farmer-income-growth", "20", "虚构增长20‰", None, "可以直接写 2%"),
    ("farmer-income-growth", "3", "虚构增长3成", None, "可以直接写 30%"),
    ("farmer-income-growth", "30", "虚构增长3成", None, None),
    ("investment", "3", "虚构投入3万美元", None, "以“美元”计"),
    ("farmer-income-growth", "90", "虚构村民收入增长百分之二十", None, "可以直接写 20%"),
    ("farmer-income-growth", "20", "虚构村民收入增长百分之二十", None, None),
    ("talents-introduced", "'*'", "虚构引进人才不足*人", None, "加上 qualifier: 不足（读作“不足*人”）"),
    ("talents-introduced", "'*'", "虚构引进人才不足*人", "不足", None),
    ("investment", "'*'", "虚构投入逾*万元", None, "加上 qualifier: 逾（读作“逾*万元”）"),
    ("investment", "'*'", "虚构投入逾*万元", "逾", None),
    ("talents-introduced", "'*'", "虚构引进人才*人以上", None, "加上 qualifier: 以上（读作“*人以上”）"),
    ("talents-introduced", "'*'", "虚构引进人才*人以上", "以上", None),
    ("talents-introduced", "10", "虚构引进人才数十人", None, "不是确切的数"),
    # Held: these kept working.
    ("talents-introduced", "120000", "虚构引进人才十二万人", None, None),
    ("talents-introduced", "10000", "虚构引进人才一万人", None, None),
    ("talents-introduced", "100", "虚构引进人才100多人", "多", None),
    ("talents-introduced", "100", "虚构引进人才100余名", "余", None),
    ("talents-introduced", "5", "虚构引进人才3至5人", None, None),
    ("talents-introduced", "3", "虚构引进人才3至5人", None, None),
    ("investment", "7", "虚构带动*人就业", None, None),
    # Round 3: compound figures, 成 with tenths, new qualifier words, fillers, rates, spaced thousands.
    ("social-capital", "1.2", "虚构引进社会资本1亿2000万元", None, None),
    ("social-capital", "1", "虚构引进社会资本1亿2000万元", None, "可以直接写 1.2亿元"),
    ("investment", "3", "虚构投入3万5千元", None, "可以直接写 3.5万元"),
    ("investment", "3.5", "虚构投入3万5千元", None, None),
    ("investment", "'35000元'", "虚构投入3万5千元", None, None),
    ("talents-introduced", "35000", "虚构吸引3万5人", None, None),
    ("farmer-income-growth", "20", "虚构增长两成五", None, "可以直接写 25%"),
    ("farmer-income-growth", "25", "虚构增长两成五", None, None),
    ("investment", "5", "虚构投入5万元有余", None, "加上 qualifier: 余（读作“5余万元”）"),
    ("investment", "5", "虚构投入5万元有余", "余", None),
    ("investment", "5", "虚构投入突破5万元", "超", None),
    ("farmer-income-growth", "5", "虚构村民收入下降的比例为5%", None, "可以直接写 -5%"),
    ("farmer-income-growth", "-5", "虚构村民收入下降的比例为5%", None, None),
    ("investment", "3", "虚构人均补贴3万元/人", None, "是以“万元/人”计的数"),
    ("investment", "1", "虚构投入1 200万元", None, "可以直接写 1200万元"),
    ("investment", "1200", "虚构投入1 200万元", None, None),
]


@pytest.mark.parametrize("indicator, value, quote, qualifier, expected", RED_TEAM,
                         ids=[f"{v}-{q}" for _, v, q, _, _ in RED_TEAM])
def test_red_team_figures_through_check(check, real, indicator, value, quote, qualifier, expected):
    add_quoted(real, indicator, value, quote, qualifier)
    if expected is None:
        assert errors(check, real) == []
        return
    err = only_error(check, real)
    assert_at(err, real, FW, "# 虚构", "observations[0].value", 12)
    assert expected in err["message"]


def test_new_qualifiers_read_right_on_the_built_site(check, real, tmp_path):
    """A real MkDocs build shows each qualifier where the source writes it, in a cluster's card, a
    chart's summary and its table: 不足*平方公里, *个以上, *亩左右, 由不足5%增至7%左右, 6%以上."""
    add_observation(real, "".join([
        "  - indicator: administrative-villages\n    value: '*'  # 虚构\n    qualifier: 以上\n    year: 2024\n",
        "  - indicator: total-area\n    value: '*'  # 虚构\n    qualifier: 不足\n    year: 2024\n",
        "  - indicator: paddy-area\n    value: '*'  # 虚构\n    qualifier: 左右\n    year: 2024\n",
        "  - indicator: farmer-income-growth\n    value: 5  # 虚构\n    qualifier: 不足\n    year: 2021\n",
        "  - indicator: farmer-income-growth\n    value: 6  # 虚构\n    qualifier: 以上\n    year: 2022\n",
        "  - indicator: farmer-income-growth\n    value: 7  # 虚构\n    qualifier: 左右\n    year: 2023\n",
    ]))
    assert errors(check, real) == []
    site = build_project(make_project(tmp_path / "build", real))

    def text(rel: str) -> str:
        class Text(HTMLParser):
            def __init__(self) -> None:
                super().__init__()
                self.parts: list[str] = []

            def handle_data(self, data: str) -> None:
                self.parts.append(data)

        parser = Text()
        parser.feed((site / rel).read_text(encoding="utf-8"))
        return "".join(parser.parts)

    cards = text("index.html")  # each cluster's card shows its headline figures with their units
    for shown in ("行政村数*个以上", "区域总面积不足*平方公里", "水田面积*亩左右"):
        assert shown in cards, shown
    for wrong in ("以上*", "*以上个", "左右*", "*左右亩", "*不足", "不足平方公里"):
        assert wrong not in cards, wrong
    page = text("cases/farming-weaving/index.html")
    assert "2021–2023年由不足5%增至7%左右" in page  # the chart's summary
    assert "2021年不足5%" in page and "2022年6%以上" in page and "2023年7%左右" in page  # the chart's table
    assert "增至7左右%" not in page and "2022年6以上%" not in page
