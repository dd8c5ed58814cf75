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
from decimal import MAX_EMAX, MIN_EMIN, Decimal, InvalidOperation, localcontext
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
# Families in which a negative figure is real: a growth rate can fall, an altitude can lie below
# sea level. Every other family is a count, an area, a length of road or a sum of money and cannot
# be negative. This follows from the unit, not from each indicator's `min`, so a new indicator whose
# author forgot `min: 0` still refuses -5 villages; the catalogue's min/max bound the signed ones.
SIGNED_FAMILIES = frozenset({"percent", "metre"})

# Bounds every written figure meets, whatever its indicator. 15 significant digits is what a
# spreadsheet cell and a YAML float hold exactly, so the site, the CSV and the workbook show the
# same number; with the magnitude and decimal caps, every exact conversion (factors up to 10^8)
# and every rendering stays far inside decimal's 28-digit context. Longer figures are typing errors.
MAX_SIGNIFICANT_DIGITS = 15
MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 6
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


def non_negative(unit: str) -> bool:
    """Whether figures in ``unit`` can never be negative (see SIGNED_FAMILIES)."""
    return unit_family(unit) not in SIGNED_FAMILIES


def normalise_unit(text: str) -> str | None:
    """The catalogue spelling of a unit, or None if it is not a known unit."""
    text = text.strip()
    text = UNIT_ALIASES.get(text, text)
    return text if text in UNITS else None


def _fail_hint() -> str:
    return ("写成数字（如 1200 或 3.5）、带单位的数字（如 3.2亿元、1,200万元），"
            "原文脱敏的数值写成带引号的 '*'，未知则删去这一项")


def _shown(text: str) -> str:
    # Editors' text goes into messages as it is, but a 10,000-digit number need not be printed whole.
    return text if len(text) <= 40 else text[:39] + "…"


def bounded(value: Decimal, original: str) -> Decimal:
    """``value`` in canonical form (1.50 → 1.5, -0 → 0) if it is within the bounds every figure
    meets; raises :class:`FigureError` otherwise."""
    shown = _shown(original)
    if not value.is_finite():
        raise FigureError(f"“{shown}”不是一个确定的数值", _fail_hint())
    value = strip_zeros(value)
    _, digits, exponent = _normalized(value).as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise FigureError(
            f"数值“{shown}”有 {len(digits)} 位有效数字，超过上限 {MAX_SIGNIFICANT_DIGITS} 位",
            f"核对原文；有效数字最多 {MAX_SIGNIFICANT_DIGITS} 位（电子表格只能精确保存这么多位），更长的数字多半是录入错误")
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise FigureError(
            f"数值“{shown}”过大（整数部分超过 {MAX_INTEGER_DIGITS} 位）",
            "核对原文；很大的数可换用更大的单位书写，如 3.2亿元、12万亩")
    if -exponent > MAX_DECIMAL_PLACES:
        raise FigureError(
            f"数值“{shown}”的小数超过 {MAX_DECIMAL_PLACES} 位",
            f"核对原文；小数最多 {MAX_DECIMAL_PLACES} 位，很小的数可换用更小的单位书写，如把 0.0000012亿元写成 120元")
    return value


def parse_figure(raw: object) -> ParsedFigure | None:
    """Read one figure as an editor wrote it. Raises :class:`FigureError` if it is unclear or
    outside the bounds every figure meets (see :func:`bounded`)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise FigureError(f"“{raw}”不是数值", _fail_hint())
    if isinstance(raw, (int, Decimal)):
        try:
            number, written = Decimal(raw), str(raw)
        except ValueError:  # an int longer than Python will turn into text
            raise FigureError("数值的位数过多", f"有效数字最多 {MAX_SIGNIFICANT_DIGITS} 位；请核对原文") from None
        return ParsedFigure(bounded(number, written))
    if isinstance(raw, float):
        return ParsedFigure(bounded(Decimal(str(raw)), str(raw)))
    if not isinstance(raw, str):
        raise FigureError("这里应是一个数值，而不是列表或映射", _fail_hint())
    original = raw
    # NFKC turns full-width digits, commas, points, ％ and ＊ into their ASCII forms exactly.
    text = unicodedata.normalize("NFKC", raw).replace(" ", "").replace("\u3000", "")
    if text == "":
        return None
    if re.fullmatch(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+", text):
        raise FigureError(f"“{_shown(original)}”是科学计数法", "照原文写出数字，如 1200 或 3.2亿元，不用 1.2e3 这样的写法")
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
    return ParsedFigure(bounded(value, original), unit, qualifier)


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
    with localcontext() as ctx:
        # Factors are powers of ten, so enough precision for every digit makes the result exact.
        ctx.prec = len(value.as_tuple().digits) + 20
        return strip_zeros(value * factors[from_unit] / factors[to_unit])


def strip_zeros(value: Decimal) -> Decimal:
    """32000.0 → 32000 and 1.50 → 1.5, without switching to exponent notation. Exact for every
    finite value: the context is made wide enough for all its digits (the default 28 digits made
    a 29-digit figure raise InvalidOperation while the site was built)."""
    if not value.is_finite():
        return value
    if not value:
        return Decimal(0)  # also -0 and 0.000
    normal = _normalized(value)
    _, digits, exponent = normal.as_tuple()
    assert isinstance(exponent, int)
    if exponent < 0:
        return normal
    with localcontext() as ctx:
        ctx.prec = len(digits) + exponent + 1
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        return normal.quantize(Decimal(1))


def _normalized(value: Decimal) -> Decimal:
    """Trailing zeros removed (1.50 → 1.5, 32000 → 3.2E+4), exactly: the context holds every digit."""
    with localcontext() as ctx:
        ctx.prec = max(len(value.as_tuple().digits), 1)
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        return value.normalize()


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


# --------------------------------------------------------------------------- figures in quotes
#
# An observation's quote is the source's own phrase for its figure ("包含*个行政村", "投入3.2亿元"),
# so the two must agree: a quote that shows * for the figure requires '*', a quote that gives a
# number requires that number. A quote may hold several figures ("*年，…村民*元/亩") or none at
# all (context only); the rule looks for *this* figure among them, by its unit family.

# Length-preserving folds, so positions in the folded text are positions in the quote. The
# full-width comma stays a comma: "3，120户" is read both as 3120 and as 3 and 120 (see below).
_QUOTE_FOLD = str.maketrans("０１２３４５６７８９，．＊％－−～／", "0123456789,.*%--~/")
_QUOTE_NUMBER = re.compile(
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\*|[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*")
_UNIT_SPELLINGS = tuple(sorted({*UNITS, *UNIT_ALIASES}, key=len, reverse=True))
_MAGNITUDES = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}
_RANGE_JOINERS = ("-", "~", "—", "至", "到")
# A negative figure is written in prose as a fall: 下降5% is -5%.
_FALL_WORDS = ("下降", "减少", "降低", "下滑", "回落", "减", "负", "-")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
# Words that end in a qualifier's character without qualifying the figure after them: 节约*万元 is
# "saved *万元", not "about"; 附近*个村 is "nearby", not "nearly".
_NOT_QUALIFIERS = frozenset({"节约", "制约", "预约", "签约", "公约", "条约", "相约", "合约", "契约",
                             "附近", "就近", "邻近", "临近", "最近", "远近", "赶超", "高超"})


@dataclass(frozen=True)
class QuoteFigure:
    """One figure in a quote: 3.2亿元, *余个, 近*人, 三个 (Chinese numerals count only before a unit)."""

    text: str  # as it reads in the quote, for messages
    value: Decimal | Literal["*"]
    unit: str | None  # catalogue spelling; None when no unit follows
    scale: Decimal  # 万/亿 before a unit without such a form (3万个), or with no unit at all (*亿)
    qualifier: str | None
    start: int
    end: int


def _chinese_number(text: str) -> Decimal | None:
    if all(ch in _CN_DIGITS for ch in text):  # 二〇二三: digit by digit
        return Decimal("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, section, number = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            number = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            section += (number or 1) * _CN_SMALL[ch]
            number = 0
        elif ch == "万":
            total += (section + number) * 10**4
            section = number = 0
        elif ch == "亿":
            total = (total + section + number) * 10**8
            section = number = 0
        else:  # pragma: no cover - the pattern admits only numerals
            return None
    return Decimal(total + section + number)


def _unit_at(text: str, pos: int) -> str | None:
    return next((u for u in _UNIT_SPELLINGS if text.startswith(u, pos)), None)


def quote_figures(quote: str) -> list[QuoteFigure]:
    """Every figure written in ``quote``, in order; a comma-grouped number also as its pieces."""
    text = quote.translate(_QUOTE_FOLD)
    out: list[QuoteFigure] = []
    for m in _QUOTE_NUMBER.finditer(text):
        num, start, pos = m.group(), m.start(), m.end()
        before = text[:start].rstrip()
        if before.endswith("第"):
            continue  # 第3批, 第一次: an ordinal, not a figure
        pre = next((q for q in PREFIX_QUALIFIERS if before.endswith(q)), None)
        if pre and before[-len(pre) - 1:] in _NOT_QUALIFIERS:
            pre = None
        while pos < len(text) and text[pos].isspace():
            pos += 1
        post = text[pos] if pos < len(text) and text[pos] in SUFFIX_QUALIFIERS else None
        pos += bool(post)
        unit, scale = _unit_at(text, pos), Decimal(1)
        if unit is None and pos < len(text) and text[pos] in _MAGNITUDES:
            mag = text[pos]
            pos += 1
            if post is None and pos < len(text) and text[pos] in SUFFIX_QUALIFIERS:
                post = text[pos]
                pos += 1
            unit = _unit_at(text, pos)
            composite = normalise_unit(mag + unit) if unit else None
            if composite:
                unit = composite
            else:
                scale = _MAGNITUDES[mag]
        if unit:
            pos += len(unit)
            unit = normalise_unit(unit)
        qualifier = QUALIFIER_CANON.get(pre or "", pre) or post
        if num == DESENSITISED:
            value: Decimal | Literal["*"] = DESENSITISED
        elif num[0].isdigit():
            value = Decimal(num.replace(",", ""))
        else:
            chinese = _chinese_number(num) if unit else None  # 一心一线, 十里稻香: words, not figures
            if chinese is None:
                continue
            value = chinese
        out.append(QuoteFigure(quote[start:pos], value, unit, scale, qualifier, start, pos))
        if "," in num:  # "3，120户" may be 3 and 120 rather than 3120
            pieces = num.split(",")
            offset = start
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                end = pos if last else offset + len(piece)
                piece_qualifier = post if last else (QUALIFIER_CANON.get(pre or "", pre) if i == 0 else None)
                out.append(QuoteFigure(quote[offset:end], Decimal(piece), unit if last else None,
                                       scale if last else Decimal(1), piece_qualifier, offset, end))
                offset += len(piece) + 1
    # A range gives its unit to both ends: 海拔*－*米, 3至5个.
    for i in range(len(out) - 1):
        here, nxt = out[i], out[i + 1]
        if (here.unit is None and here.scale == 1 and nxt.unit is not None
                and text[here.end:nxt.start].strip() in _RANGE_JOINERS):
            out[i] = QuoteFigure(here.text, here.value, nxt.unit, nxt.scale, here.qualifier, here.start, here.end)
    return out


@dataclass(frozen=True)
class QuoteProblem:
    """Why a figure disagrees with its quote; ``on`` is the field the message belongs to."""

    on: Literal["value", "qualifier"]
    message: str


def _factor(fig: QuoteFigure, family: str) -> Decimal | None:
    """The figure's unit as a factor of ``family``'s base unit; None if it is another family's
    or has no unit. A bare 万/亿 (*亿, 3.2万) is read in the observation's own family."""
    if fig.unit is None:
        return fig.scale if fig.scale != 1 else None
    if unit_family(fig.unit) != family:
        return None
    return UNIT_FAMILIES[family][fig.unit] * fig.scale


def _written(fig: QuoteFigure, family: str) -> str:
    """How to write a quote's figure as a value (3.2亿元, 三个 → 3个, 3万个 → 30000个)."""
    assert isinstance(fig.value, Decimal)
    factor = _factor(fig, family)
    if factor is None:
        return format(strip_zeros(fig.value), "f")
    spelled = next((u for u, k in UNIT_FAMILIES[family].items() if k == factor), None)
    if spelled:
        return format(strip_zeros(fig.value), "f") + spelled
    base = next(u for u, k in UNIT_FAMILIES[family].items() if k == 1)
    return format(strip_zeros(fig.value * factor), "f") + base


def _qualifier_problem(candidates: list[QuoteFigure], qualifier: str | None, unit: str,
                       value: Decimal | str) -> QuoteProblem | None:
    if any(c.qualifier == qualifier for c in candidates):
        return None
    found = candidates[0]
    if qualifier is None:
        return QuoteProblem("value", (
            f"原文“{found.text}”带有限定词“{found.qualifier}”，这条数据却没有。"
            f"提示：加上 qualifier: {found.qualifier}（读作“{format_figure(value, found.qualifier, unit)}”），限定词要与原文一致"))
    if found.qualifier is None:
        return QuoteProblem("qualifier", (
            f"限定词写的是“{qualifier}”，但原文“{found.text}”没有限定词。提示：删去 qualifier，限定词要与原文一致"))
    return QuoteProblem("qualifier", (
        f"限定词写的是“{qualifier}”，但原文“{found.text}”的限定词是“{found.qualifier}”。"
        f"提示：改为 qualifier: {found.qualifier}，限定词要与原文一致"))


def check_quote(value: Decimal | Literal["*"], unit: str, catalogue_unit: str, qualifier: str | None,
                quote: str) -> QuoteProblem | None:
    """Whether a figure (``value`` in ``unit``, as written) agrees with its quote.

    '*' needs a * in the quote in the same unit (or one whose unit the quote leaves open, when the
    quote gives no number in this unit either); a number needs an equal number in the quote after
    exact conversion (or an equal bare number). Figures of other units in the quote (a year beside
    a sum) are not this figure; a quote with no figure that could be this one is context, and
    passes. The qualifier must be the one the matching figure carries.
    """
    family = unit_family(unit)
    assert family is not None
    want = UNIT_FAMILIES[family][unit]
    figures = quote_figures(quote)
    same = [f for f in figures if _factor(f, family) is not None]
    loose = [f for f in figures if f.unit is None and f.scale == 1]
    if value == DESENSITISED:
        stars = [f for f in same if f.value == DESENSITISED]
        exact = [f for f in stars if _factor(f, family) == want]
        if exact:
            return _qualifier_problem(exact, qualifier, unit, value)
        if stars:
            other = stars[0]
            spelled = next((u for u, k in UNIT_FAMILIES[family].items() if k == _factor(other, family)), None)
            hint = f"写成 '*{spelled}'（或 unit: {spelled}）" if spelled else "核对原文与所选指标"
            theirs = f"以“{spelled}”计" if spelled else "以另一个单位计"
            return QuoteProblem("value", (
                f"数值 '*' 以“{unit}”计，但原文“{other.text}”{theirs}，两者差着数量级。"
                f"提示：脱敏数值的单位要与原文一致，{hint}"))
        numbers = [f for f in same if f.value != DESENSITISED]
        if numbers:
            return QuoteProblem("value", (
                f"数值写的是 '*'，但原文“{quote}”给出了数字“{numbers[0].text}”。"
                f"提示：原文公开的数字照原文填写（如 {_written(numbers[0], family)}），只有原文写作 * 时才写 '*'"))
        open_stars = [f for f in loose if f.value == DESENSITISED]
        if open_stars:
            return _qualifier_problem(open_stars, qualifier, unit, value)
        if figures:
            return QuoteProblem("value", (
                f"数值写的是 '*'，但原文“{quote}”中没有以“{unit}”计的 * 号数字。"
                "提示：核对 quote 是否引对了原文中这个数所在的短语，以及是否选对了指标"))
        return None
    assert isinstance(value, Decimal)
    target = convert(value, unit, catalogue_unit)
    folded = quote.translate(_QUOTE_FOLD)

    def equal(f: QuoteFigure) -> bool:
        if f.value == DESENSITISED:
            return False
        number = f.value
        if value < 0:
            if not any(w in folded[:f.start] for w in _FALL_WORDS):
                return False
            number = -number
        if f.unit is None and f.scale == 1:
            return number in (value, target)
        factor = _factor(f, family)
        assert factor is not None
        return number * factor == target * UNIT_FAMILIES[family][catalogue_unit]

    matches = [f for f in [*same, *loose] if equal(f)]
    if matches:
        return _qualifier_problem(matches, qualifier, unit, value)
    shown = format_figure(value, None, unit)
    # A * with no unit is a figure when nothing follows it or punctuation does ("增长*。"); before
    # a letter it is a desensitised name (*粮仓, *山镇) and says nothing about this figure.
    stars = [f for f in same if f.value == DESENSITISED] + [
        f for f in loose if f.value == DESENSITISED
        and (f.end >= len(folded) or not unicodedata.category(folded[f.end]).startswith("L"))]
    if stars:
        return QuoteProblem("value", (
            f"原文“{quote}”中这个数脱敏为“{stars[0].text}”，数值却写成了 {shown}。"
            "提示：原文脱敏的数值写带引号的 '*'，绝不写成 0 或推测的数"))
    numbers = [f for f in [*same, *loose] if f.value != DESENSITISED]
    if numbers:
        first = numbers[0]
        return QuoteProblem("value", (
            f"数值 {shown}与原文不符：原文“{quote}”中的数是“{first.text}”。"
            f"提示：照原文填写（可以直接写 {_written(first, family)}，程序会精确换算），或核对 quote 是否引对"))
    return None
