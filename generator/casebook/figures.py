"""Figures: parsing what editors write into exact values, and unit conversion.

A figure is a number, the desensitised marker ``"*"`` or absent (unknown). Numbers are
kept as :class:`~decimal.Decimal` from the text the editor wrote, so ``0.1`` stays 0.1 and a
conversion such as 3.2亿元 → 32000万元 is exact. Nothing here guesses: text that is not
clearly a number in a known unit is rejected with a hint.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

DESENSITISED: Literal["*"] = "*"

# Qualifiers the source uses around figures: 近*人 (nearly), 超*万元 (over), *余个 / *多万元
# (more than). They are part of the fact and are kept beside the value, never folded into it.
PREFIX_QUALIFIERS = ("超过", "近", "超", "约")
SUFFIX_QUALIFIERS = ("余", "多")
QUALIFIERS = ("近", "超", "约", "余", "多")
QUALIFIER_CANON = {"超过": "超"}

# Each unit belongs to one family; a value converts only within its family, by an exact factor.
# 亩 and 平方公里 are deliberately different families: 1亩 is not an exact number of m².
UNIT_FAMILIES: dict[str, dict[str, Decimal]] = {
    "money": {"元": Decimal(1), "万元": Decimal(10) ** 4, "亿元": Decimal(10) ** 8},
    "mu": {"亩": Decimal(1), "万亩": Decimal(10) ** 4},
    "square_metre": {"平方米": Decimal(1), "平方公里": Decimal(10) ** 6},
    "people": {"人": Decimal(1), "万人": Decimal(10) ** 4},
    "person_times": {"人次": Decimal(1), "万人次": Decimal(10) ** 4},
    "yuan_per_mu": {"元/亩": Decimal(1)},
    "percent": {"%": Decimal(1)},
    "metre": {"米": Decimal(1), "公里": Decimal(1000)},
    "item": {"个": Decimal(1)},
    "household": {"家": Decimal(1), "户": Decimal(1)},
    "institution": {"所": Decimal(1)},
    "line": {"条": Decimal(1)},
    "session": {"场": Decimal(1)},
    "times": {"次": Decimal(1)},
    "year": {"年": Decimal(1)},
}
UNITS: tuple[str, ...] = tuple(u for fam in UNIT_FAMILIES.values() for u in fam)
# Spellings that mean exactly one catalogue unit.
UNIT_ALIASES = {"名": "人", "位": "人", "平方千米": "平方公里", "km²": "平方公里", "km2": "平方公里",
                "m²": "平方米", "m2": "平方米", "千米": "公里", "元／亩": "元/亩", "元每亩": "元/亩"}

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_FIGURE_RE = re.compile(
    r"^(?P<pre>超过|近|超|约)?(?P<num>" + _NUMBER + r"|\*)(?P<post>余|多)?(?P<unit>.*)$"
)
_CHINESE_NUMERALS = set("零〇一二两三四五六七八九十百千万亿")


class FigureError(ValueError):
    """A figure that cannot be read exactly; ``hint`` says how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class ParsedFigure:
    value: Decimal | Literal["*"]
    unit: str | None = None
    qualifier: str | None = None


def unit_family(unit: str) -> str | None:
    for name, members in UNIT_FAMILIES.items():
        if unit in members:
            return name
    return None


def normalise_unit(text: str) -> str | None:
    """The catalogue spelling of a unit, or None if it is not a known unit."""
    text = text.strip()
    text = UNIT_ALIASES.get(text, text)
    return text if text in UNITS else None


def _fail_hint() -> str:
    return ("写成数字（如 1200 或 3.5）、带单位的数字（如 3.2亿元、1,200万元），"
            "原文脱敏的数值写成带引号的 '*'，未知则删去这一项")


def parse_figure(raw: object) -> ParsedFigure | None:
    """Read one figure as an editor wrote it. Raises :class:`FigureError` if it is unclear."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise FigureError(f"“{raw}”不是数值", _fail_hint())
    if isinstance(raw, (int, Decimal)):
        return ParsedFigure(Decimal(raw))
    if isinstance(raw, float):
        return ParsedFigure(Decimal(str(raw)))
    if not isinstance(raw, str):
        raise FigureError("这里应是一个数值，而不是列表或映射", _fail_hint())
    original = raw
    # NFKC turns full-width digits, commas, points, ％ and ＊ into their ASCII forms exactly.
    text = unicodedata.normalize("NFKC", raw).replace(" ", "").replace("\u3000", "")
    if text == "":
        return None
    m = _FIGURE_RE.match(text)
    if not m:
        if any(ch in _CHINESE_NUMERALS for ch in text):
            raise FigureError(f"无法识别数值“{original}”",
                              "请用阿拉伯数字书写（如 3 而不是 三），单位另按指标目录书写")
        if re.search(r"\d\s*[-~～—至到]\s*\d", text):
            raise FigureError(f"“{original}”是一个范围，不是单个数值",
                              "范围请拆成两条数据（如海拔下限、海拔上限）")
        raise FigureError(f"无法识别数值“{original}”", _fail_hint())
    pre, num, post, unit_text = m.group("pre"), m.group("num"), m.group("post"), m.group("unit")
    if pre and post:
        raise FigureError(f"“{original}”同时带有前后两个限定词", "只保留原文中的一个限定词（如“近”或“余”）")
    qualifier = QUALIFIER_CANON.get(pre or "", pre) or post
    unit = None
    if unit_text:
        unit = normalise_unit(unit_text)
        if unit is None:
            raise FigureError(
                f"“{original}”中的单位“{unit_text}”无法识别",
                "单位须为指标目录中的单位之一：" + "、".join(UNITS),
            )
    if num == DESENSITISED:
        return ParsedFigure(DESENSITISED, unit, qualifier)
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise FigureError(f"无法识别数值“{original}”", _fail_hint()) from None
    return ParsedFigure(value, unit, qualifier)


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert exactly between units of one family; raise FigureError across families."""
    if from_unit == to_unit:
        return value
    fam_from, fam_to = unit_family(from_unit), unit_family(to_unit)
    if fam_from is None or fam_from != fam_to:
        raise FigureError(
            f"单位“{from_unit}”不能换算为指标目录规定的“{to_unit}”",
            f"请按“{to_unit}”填写数值，或检查是否选错了指标",
        )
    factors = UNIT_FAMILIES[fam_from]
    return strip_zeros(value * factors[from_unit] / factors[to_unit])


def strip_zeros(value: Decimal) -> Decimal:
    """32000.0 → 32000 and 1.50 → 1.5, without switching to exponent notation."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def format_figure(value: Decimal | str | None, qualifier: str | None = None, unit: str | None = None) -> str:
    """How a figure reads in Chinese prose: 近*人, *余万元, 3.2亿元; unknown reads 未知."""
    if value is None:
        return "未知"
    body = value if isinstance(value, str) else f"{strip_zeros(value):,f}"
    if qualifier in PREFIX_QUALIFIERS:
        body = qualifier + body
    elif qualifier:
        body = body + qualifier
    return body + (unit or "")
