"""Figures: parsing what editors write into exact values, and unit conversion.

A figure is a number, the desensitised marker ``"*"`` or absent (unknown). Numbers are
kept as :class:`~decimal.Decimal` from the text the editor wrote, so ``0.1`` stays 0.1 and a
conversion such as 3.2亿元 → 32000万元 is exact. Nothing here guesses: text that is not
clearly a number in a known unit is rejected with a hint.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Literal

DESENSITISED: Literal["*"] = "*"

# Qualifiers: the words Chinese prose puts around a figure to say it is not exact (近*人, 逾*万元,
# *余个, *人以上). They are part of the fact and are kept beside the value, never folded into it;
# each is shown where the source writes it: before the number, between number and unit, or after the
# unit (不足*人 / *余万元 / *人左右). A longer spelling of the same word reads as its short form
# (超过 → 超); every other word is kept as written, so the page shows the source's own word.
# 超出 and 突破 ("goes beyond", "breaks through") say what 超 says. 有余 and 出头 ("and some", "just
# over") stand after the unit but mean what 余 means (5万元有余 is 5余万元, a little over 5万元); 多
# would read the same, 余 is chosen as the formal word the sources use beside 有余.
QualifierPlace = Literal["before", "between", "after"]
QUALIFIER_PLACES: dict[str, QualifierPlace] = {
    **dict.fromkeys(("近", "超", "约", "逾", "接近", "不足", "不到", "至少", "最多", "不少于", "不低于",
                     "不超过", "不高于", "多于", "少于", "高于", "低于", "大于", "小于"), "before"),
    **dict.fromkeys(("余", "多"), "between"),
    **dict.fromkeys(("以上", "以下", "以内", "左右", "上下"), "after"),
}
QUALIFIER_ALIASES = {"超过": "超", "将近": "近", "大约": "约", "及以上": "以上", "及以下": "以下",
                     "超出": "超", "突破": "超", "有余": "余", "出头": "余"}
# Where an alias is written when that is not where its canonical word stands (5万元有余, not 5有余万元).
ALIAS_PLACES: dict[str, QualifierPlace] = {"有余": "after", "出头": "after"}
QUALIFIERS: tuple[str, ...] = tuple(QUALIFIER_PLACES)


def _spelled(place: QualifierPlace) -> tuple[str, ...]:
    """Every spelling of the qualifiers written in ``place``, longest first (不超过 before 超过 before 超)."""
    words = [q for q, p in QUALIFIER_PLACES.items() if p == place]
    words += [a for a, q in QUALIFIER_ALIASES.items() if ALIAS_PLACES.get(a, QUALIFIER_PLACES[q]) == place]
    return tuple(sorted(words, key=len, reverse=True))


PREFIX_QUALIFIERS = _spelled("before")
SUFFIX_QUALIFIERS = _spelled("between")
TRAILING_QUALIFIERS = _spelled("after")


_NO_PARTS = ("", "", "")
# Worked out once per qualifier: every figure on every page asks (tens of thousands per build).
_PARTS: dict[str, tuple[str, str, str]] = {
    q: (q if place == "before" else "", q if place == "between" else "", q if place == "after" else "")
    for q, place in QUALIFIER_PLACES.items()
}


def qualifier_parts(qualifier: str | None) -> tuple[str, str, str]:
    """The qualifier as it stands around a figure: (before the number, between number and unit,
    after the unit). Every place that shows a figure uses this, so 不足*人, *余万元 and *人以上 read
    the same on the page, in a chart and in prose. A word that is no qualifier stands nowhere."""
    return _PARTS.get(qualifier or "", _NO_PARTS)


# Each unit belongs to one family; a value converts only within its family, by an exact factor.
# 亩 and 平方公里 are deliberately different families: 1亩 is not an exact number of m² (a quote in
# one is still compared with a value in the other, exactly: see FAMILY_LINKS).
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
    "^(?P<pre>" + "|".join(PREFIX_QUALIFIERS) + ")?(?P<num>" + _NUMBER + r"|\*)(?P<post>"
    + "|".join(SUFFIX_QUALIFIERS) + ")?(?P<unit>.*?)(?P<tail>" + "|".join(TRAILING_QUALIFIERS) + ")?$"
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


_FAMILY_OF = {unit: name for name, members in UNIT_FAMILIES.items() for unit in members}


def unit_family(unit: str) -> str | None:
    return _FAMILY_OF.get(unit)


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
    broken = _out_of_bounds(value)
    if broken == "digits":
        count = len(value.as_tuple().digits)
        raise FigureError(
            f"数值“{shown}”有 {count} 位有效数字，超过上限 {MAX_SIGNIFICANT_DIGITS} 位",
            f"核对原文；有效数字最多 {MAX_SIGNIFICANT_DIGITS} 位（电子表格只能精确保存这么多位），更长的数字多半是录入错误")
    if broken == "integer":
        raise FigureError(
            f"数值“{shown}”过大（整数部分超过 {MAX_INTEGER_DIGITS} 位）",
            "核对原文；很大的数可换用更大的单位书写，如 3.2亿元、12万亩")
    if broken == "decimals":
        raise FigureError(
            f"数值“{shown}”的小数超过 {MAX_DECIMAL_PLACES} 位",
            f"核对原文；小数最多 {MAX_DECIMAL_PLACES} 位，很小的数可换用更小的单位书写，如把 0.0000012亿元写成 120元")
    return value


def _out_of_bounds(value: Decimal) -> Literal["digits", "integer", "decimals"] | None:
    """Which bound a finite value in canonical form breaks, if any."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    # Fast path (nearly every figure): removing trailing zeros only drops digits and raises the
    # exponent, and leaves adjusted() as it is, so a value within every bound as written is
    # within them normalised too. Only one that breaks a bound as written is normalised to be sure.
    if len(digits) <= MAX_SIGNIFICANT_DIGITS and -exponent <= MAX_DECIMAL_PLACES and (
            not value or value.adjusted() < MAX_INTEGER_DIGITS):
        return None
    _, digits, exponent = _normalized(value).as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        return "digits"
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        return "integer"
    if -exponent > MAX_DECIMAL_PLACES:
        return "decimals"
    return None


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
    if len(raw) > _MAX_REMEMBERED:
        return _parse_text(raw)
    outcome = _parse_remembered(raw)
    if isinstance(outcome, tuple):
        raise FigureError(*outcome)  # a new error each time: a raised instance would carry old tracebacks
    return outcome


# Figures are short, and a casebook writes the same ones many times ('*', 120, 3.5万元): each text is
# read once per process. Only short texts are kept, and only so many, whatever a file holds.
_MAX_REMEMBERED = 64


@functools.lru_cache(maxsize=32768)
def _parse_remembered(raw: str) -> ParsedFigure | tuple[str, str] | None:
    """:func:`_parse_text`, remembered by text; an error is kept as its (message, hint)."""
    try:
        return _parse_text(raw)
    except FigureError as exc:
        return exc.message, exc.hint


def _parse_text(raw: str) -> ParsedFigure | None:
    """A figure written as text (how YAML gives every scalar): a pure function of the text."""
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
                              "请用阿拉伯数字书写（如 3 而不是“三”），单位另按指标目录书写")
        if re.search(r"\d\s*[-~～—至到]\s*\d", text):
            raise FigureError(f"“{original}”是一个范围，不是单个数值",
                              "范围请拆成两条数据（如海拔下限、海拔上限）")
        raise FigureError(f"无法识别数值“{original}”", _fail_hint())
    num, unit_text = m.group("num"), m.group("unit")
    words = [w for w in (m.group("pre"), m.group("post"), m.group("tail")) if w]
    if len(words) > 1:
        raise FigureError(f"“{original}”同时带有{len(words)}个限定词", "只保留原文中的一个限定词（如“近”或“余”）")
    qualifier = QUALIFIER_ALIASES.get(words[0], words[0]) if words else None
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


def in_catalogue_unit(value: Decimal, unit: str, catalogue_unit: str) -> Decimal:
    """``value``, written in ``unit``, converted to its indicator's unit: how it is stored, drawn
    and downloaded. The bounds every written figure meets hold there too, or 0.01元 on a 亿元
    indicator would be 0.0000000001亿元, past what the site, the CSV and the workbook hold exactly
    (and what a chart's axis can be drawn for). Raises :class:`FigureError` saying which range
    the indicator's unit allows."""
    converted = convert(value, unit, catalogue_unit)
    broken = _out_of_bounds(converted)
    if broken is None:
        return converted
    written, shown = format_figure(value, None, unit), format_figure(converted, None, catalogue_unit)
    lead = f"数值 {written}换算为指标目录规定的单位“{catalogue_unit}”是 {shown}"
    if broken == "decimals":
        limit, what = Decimal(10) ** -MAX_DECIMAL_PLACES, f"小数最多 {MAX_DECIMAL_PLACES} 位，即最小为"
        problem, rest = f"小数超过 {MAX_DECIMAL_PLACES} 位", "更小的数"
    else:  # conversion by a power of ten keeps the significant digits: only the integer part can grow
        limit, what = Decimal(10) ** MAX_INTEGER_DIGITS - 1, f"整数最多 {MAX_INTEGER_DIGITS} 位，即最大为"
        problem, rest = f"整数部分超过 {MAX_INTEGER_DIGITS} 位", "更大的数"
    raise FigureError(
        f"{lead}，{problem}",
        f"核对原文与所选指标；这一指标以“{catalogue_unit}”计，换算后{what} {format_figure(limit, None, catalogue_unit)}"
        f"（{format_figure(convert(limit, catalogue_unit, unit), None, unit)}），{rest}多半是录入错误或选错了指标")


def strip_zeros(value: Decimal) -> Decimal:
    """32000.0 → 32000 and 1.50 → 1.5, without switching to exponent notation. Exact for every
    finite value: the context is made wide enough for all its digits (the default 28 digits made
    a 29-digit figure raise InvalidOperation while the site was built)."""
    if not value.is_finite():
        return value
    if not value:
        return Decimal(0)  # also -0 and 0.000
    sign, written, exp = value.as_tuple()
    # Fast path (most figures, called for every figure on every page): nothing to strip.
    if exp == 0 or (isinstance(exp, int) and exp < 0 and written[-1] != 0):
        return value
    if isinstance(exp, int) and exp < 0:
        # Zeros after the point (223.0, 1.50): dropped from the digits, exactly, with no context.
        keep = len(written)
        while keep > len(written) + exp and written[keep - 1] == 0:
            keep -= 1
        return Decimal((sign, written[:keep], exp + len(written) - keep))
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
    """How a figure reads in Chinese prose: 近*人, *余万元, *人以上, 3.2亿元; unknown reads 未知."""
    if value is None:
        return "未知"
    body = value if isinstance(value, str) else f"{strip_zeros(value):,f}"
    before, between, after = qualifier_parts(qualifier)
    return before + body + between + (unit or "") + after


# --------------------------------------------------------------------------- figures in quotes
#
# An observation's quote is the source's own phrase for its figure ("包含*个行政村", "投入3.2亿元"),
# so the two must agree: a quote that shows * for the figure requires '*', a quote that gives a
# number requires that number. A quote may hold several figures ("*年，…村民*元/亩") or none at
# all (context only); the rule looks for *this* figure among them, by the quantity its unit measures.
#
# A number is read together with everything that scales it, names its unit, bounds it or gives its
# sign: 3百万元 is 300万元, 200公顷 is 3000亩, 百分之二十 is 20%, 下降5% is -5% (for a rate), 不足*人 is
# bounded. What cannot be read exactly is never a bare number that happens to match:
# - a unit no catalogue unit converts to exactly (3万美元, 5个百分点, 3倍) makes the figure one of
#   another unit ("foreign");
# - an approximate figure (数十人, 十几个, 上千人, 千亩, 两年多) is "vague": it matches no value;
# and when such a figure is the only one the quote holds in the value's quantity, check says so
# (see check_quote) rather than passing the quote off as context.

# Length-preserving folds, so positions in the folded text are positions in the quote. The
# full-width comma folds to a comma, but only it may also part a list: "3，120户" is read both as
# 3120户 and as 3户 and 120户 (see below), while an ASCII "1,200" only groups thousands.
_QUOTE_FOLD = str.maketrans("０１２３４５６７８９，．＊％－−～／", "0123456789,.*%--~/")
_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_ARABIC_RE = re.compile(_ARABIC)
# A space may group thousands too (1 200万元, SI style): that is 1200万元, never a figure 1 beside
# 200万元. Only whole groups of three count, so "2023 100" stays two numbers.
_SPACED = r"\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?!\d)(?:\.\d+)?"
_CN = "零〇一二两三四五六七八九"
_CN_ALL = _CN + "十百千万亿"
_CN_RUN_RE = re.compile(rf"[{_CN}][{_CN_ALL}]*")
_QUOTE_NUMBER = re.compile(
    rf"(?P<per>百分之|千分之)(?P<pnum>{_ARABIC}|[{_CN}十百千][{_CN_ALL}]*(?:点[{_CN}]+)?)"
    rf"|(?P<arabic>{_SPACED}|{_ARABIC})"
    r"|(?P<star>\*)"
    # Numbers that are not exact: 数十, 几百, 十几, 二十几, 上千, 成千上万.
    rf"|(?P<vague>数[十百千万亿]+|[{_CN_ALL}]*几[{_CN_ALL}几]*|上[百千万亿]+|成[百千]上[千万])"
    rf"|(?P<cn>[{_CN}十][{_CN_ALL}]*(?:点[{_CN}]+)?)"
    # A magnitude alone: a figure after a qualifier (近千人, 逾万元), an epithet otherwise (千亩良田).
    r"|(?P<mag>[百千万亿]+)"
)
_MAGNITUDES = {"十": Decimal(10), "百": Decimal(100), "千": Decimal(1000), "万": Decimal(10) ** 4,
               "亿": Decimal(10) ** 8}

# Units a quote may use beyond the catalogue's, each an exact multiple of one family's base unit.
# Editors do not write them as values: a value converts only by powers of ten within its family, so
# every stored figure is exact, and 亩 → 公顷 is not (1亩 = 0.0666…公顷).
QUOTE_UNITS: dict[str, tuple[str, Decimal]] = {
    "公顷": ("mu", Decimal(15)), "‰": ("percent", Decimal("0.1")), "成": ("percent", Decimal(10)),
}
# Families that measure one quantity: 1平方米 is exactly 0.0015亩, so a quote in 平方米 or 平方公里 is
# compared with a value in 亩 (by multiplying, which is always exact). Converting a value between
# them is not exact the other way (1亩 = 666.66…平方米), so values stay in their own family.
FAMILY_LINKS: dict[str, tuple[str, Decimal]] = {"square_metre": ("mu", Decimal("0.0015"))}
# Units that no catalogue unit converts to exactly, with the family whose quantity each measures
# (a pseudo-family for quantities the catalogue has none of). A figure in one of these is never this
# figure; in the value's own quantity (3万美元 for a 万元 value) check reports it.
FOREIGN_UNITS: dict[str, str] = {
    **dict.fromkeys(("美元", "美金", "欧元", "港元", "港币", "日元", "英镑", "韩元", "澳元", "加元", "卢布",
                     "新台币", "台币", "澳门元", "法郎"), "money"),
    **dict.fromkeys(("英亩", "平方英尺", "平方英里"), "mu"),
    **dict.fromkeys(("英里", "英尺", "英寸", "海里"), "metre"),
    **dict.fromkeys(("个百分点", "百分点", "倍"), "percent"),
    **dict.fromkeys(("个月", "个季度", "季度", "周", "天", "小时", "个小时"), "year"),
    **dict.fromkeys(("月", "日", "号"), "date"),  # 5月, 3日: a date, not a figure of any indicator
    **dict.fromkeys(("吨", "公斤", "千克", "克", "斤"), "weight"),
    **dict.fromkeys(("千瓦", "立方米", "升"), "other"),
}
# A measure word after a number that is no known unit (3座, 5栋, 4A): it may be another word for a
# catalogue counting unit (座 for 个), so it counts as a possible figure of a count, never of a sum,
# an area or a rate.
UNKNOWN_UNIT = "count"
COUNT_FAMILIES = frozenset({"item", "household", "institution", "line", "session", "times"})

# Spellings only quotes use: the currency named with the sum (3万人民币 is not 3万人).
_QUOTE_ALIASES = {"人民币": "元", "元人民币": "元", "万人民币": "万元", "万元人民币": "万元", "亿人民币": "亿元",
                  "亿元人民币": "亿元"}
_KNOWN_SPELLINGS = {*UNITS, *UNIT_ALIASES, *QUOTE_UNITS, *_QUOTE_ALIASES}
_SPELLINGS = tuple(sorted({*_KNOWN_SPELLINGS, *FOREIGN_UNITS}, key=len, reverse=True))
_RANGE_JOINERS = ("-", "~", "—", "至", "到")
# What may follow a number without being its unit: a range, a list, a ratio (3至5人, 3和5个, 1比1).
_NOT_UNITS = frozenset("至到和或与及比")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# Words that end in a qualifier without qualifying the figure after them: 节约*万元 is "saved
# *万元", not "about"; 附近*个村 is "nearby", not "nearly"; 最近3年 is "the last 3 years".
_NOT_QUALIFIERS = frozenset({"节约", "制约", "预约", "签约", "公约", "条约", "相约", "合约", "契约",
                             "附近", "就近", "邻近", "临近", "最近", "远近", "靠近", "贴近", "亲近",
                             "赶超", "高超", "想不到", "料不到"})
# What may stand between a qualifier and its number: 约有*人, 超过了*万元, 约合人民币*万元.
_QUALIFIER_FILLERS = ("人民币", "了", "有", "为", "达", "计", "合")
# A fall written in prose: 下降5% is -5%. Only in a family that may be negative (a rate, a height),
# and only when the word governs the number: directly before it, with nothing between but a few
# fillers and qualifiers (下降了约5%, 降幅达5%). 至/到 are not fillers: 下降至5% is a level of 5%,
# not a fall of 5%. Elsewhere a fall word describes a positive amount: 减少支出5万元 is 5万元.
_FALL_WORDS = ("负增长", "下降", "减少", "降低", "下滑", "回落", "缩减", "下跌", "缩水", "降幅", "跌幅", "减幅",
               "减", "降", "跌", "负", "-")
_NOT_FALLS = ("正负", "增减", "加减", "升降", "涨跌", "担负", "肩负")
_FALL_FILLERS = ("幅度", "比例", "了", "达", "为", "是", "的", "有", "幅")  # 下降的比例为5%, 降幅是5%
_LETTER_AFTER_OK = "的来时月天"  # 两年多来, 一年多时间, 3个多月: the 多 still qualifies


@dataclass(frozen=True)
class QuoteFigure:
    """One figure in a quote: 3.2亿元, *余个, 近*人, 三个 (Chinese numerals count only before a unit)."""

    text: str  # as it reads in the quote, for messages (with its fall word: 下降5%)
    value: Decimal | Literal["*"]  # as written, without the sign a fall word gives it (see ``fall``)
    unit: str | None  # catalogue (or QUOTE_UNITS) spelling; None when no known unit follows
    scale: Decimal  # magnitudes before a unit without such a form (3万个, 3百万元), or with no unit (*亿)
    qualifier: str | None
    start: int
    end: int
    fall: bool = False  # governed by a fall word (下降5%): negative, in a family that may be negative
    kind: Literal["figure", "vague", "foreign"] = "figure"
    foreign: str | None = None  # the unit of a foreign figure, as written (美元, 座)
    foreign_family: str | None = None  # the quantity that unit measures (FOREIGN_UNITS, UNKNOWN_UNIT)


# --------------------------------------------------------------------------- numerals read whole
#
# A number written with magnitudes is one figure however it mixes its parts: 3万5千元 is 35000元
# (not 3万 beside 5千元), 1亿2000万元 is 1.2亿元, 三万5千 and 3万五千 are 35000, and 3万5, 1亿2, 三万五
# and 两百五 count their last single digit in the next unit down (35000, 1.2亿, 35000, 250). Arabic
# and Chinese numerals go through the same reader, which also says when the parts make no one
# number (3万15千, 1亿12000万, 三四): such a figure is not exact and matches no value.


@dataclass(frozen=True)
class _Part:
    """One piece of a numeral: a number (3, 2000, 五, *), a magnitude (十百千万亿) or a zero (零)."""

    number: Decimal | Literal["*"] | None = None
    magnitude: int = 0
    digit: bool = False  # a single digit: right after a magnitude it may count in the next unit down
    decimal: bool = False
    zero: bool = False  # 零 marking a skipped place (一千零五)


def _arabic_value(text: str) -> Decimal:
    """An Arabic number as the quote writes it: 1,200, 1 200 and 1200 are the same number."""
    return Decimal(re.sub(r"[,\s]", "", text))


def _arabic_part(text: str) -> _Part:
    value = _arabic_value(text)
    digits = re.sub(r"[,\s]", "", text)
    return _Part(value, digit=len(digits) == 1, decimal="." in digits)


def _cn_parts(text: str) -> list[_Part]:
    """三千零五 → 三, 千, 零, 五 (text of Chinese digits and magnitudes, without 点)."""
    out: list[_Part] = []
    for ch in text:
        if ch in _MAGNITUDES:
            out.append(_Part(magnitude=int(_MAGNITUDES[ch])))
        elif _CN_DIGITS[ch] == 0 and out and (out[-1].magnitude or out[-1].zero):
            out.append(_Part(zero=True))
        else:
            out.append(_Part(Decimal(_CN_DIGITS[ch]), digit=True))
    return out


def _numeral_value(parts: list[_Part]) -> Decimal | Literal["*"] | None:
    """The value of a numeral read whole, exactly; '*' if any part is desensitised; None when the
    parts do not make one number. Within a 万 or 亿 group 千, 百 and 十 come in falling order with
    single-digit coefficients; each later group stays below the one before (1亿2000万, never
    1亿12000万); decimals belong to the leading number only (3.5万, never 3.5万5千)."""
    with localcontext() as ctx:
        # Every operation is a sum or a product by a power of ten: with room for every digit, exact.
        ctx.prec, ctx.Emax, ctx.Emin = MAX_PREC, MAX_EMAX, MIN_EMIN
        total = section = Decimal(0)
        number: Decimal | None = None
        star = digit = leading = decimal_lead = seen_magnitude = seen_yi = False
        group_cap: int | None = None  # after 万 or 亿: what the rest must stay below
        small_cap: int | None = None  # within a group: the next of 千/百/十 must be below the last
        last_magnitude, previous, before_number = 0, "", ""
        for part in parts:
            if part.zero:
                if previous != "magnitude":
                    return None
                previous = "zero"
                continue
            if not part.magnitude:
                if previous == "number" or decimal_lead or (part.decimal and seen_magnitude):
                    return None  # 三四 (two numbers side by side), 1.5万5千, 1万1.5千
                star = star or part.number == DESENSITISED
                number = Decimal(0) if part.number == DESENSITISED or part.number is None else part.number
                digit, leading = part.digit, not seen_magnitude
                decimal_lead = part.decimal
                before_number, previous = previous, "number"
                continue
            m = part.magnitude
            seen_magnitude = True
            if m < 10**4:  # 十, 百, 千
                if number is None:
                    if previous not in ("", "zero") and m != 10:
                        return None
                    coefficient = Decimal(1)  # 十二, 百分之百
                elif digit or leading:
                    coefficient = number
                else:
                    return None  # 3万15千
                if small_cap is not None and m >= small_cap:
                    return None
                section += coefficient * m
                small_cap = m
            else:  # 万, 亿
                group = section + (number if number is not None else 0)
                if number is None and not section:
                    if previous == "magnitude" and m == 10**8 and last_magnitude == 10**4 and not seen_yi:
                        total *= m  # 3万亿 is 3 × 10¹²
                        seen_yi, group_cap, last_magnitude = True, m, m
                        continue
                    if previous:
                        return None
                    group = Decimal(1)  # 万 alone
                if m == 10**4:
                    if group_cap is not None and (group_cap <= m or group * m >= group_cap):
                        return None  # 3万5万, 1亿12000万
                    total += group * m
                else:
                    if seen_yi:
                        return None
                    total = (total + group) * m
                    seen_yi = True
                group_cap, section, small_cap = m, Decimal(0), None
            number = None
            last_magnitude, previous = m, "magnitude"
        value = total + section
        if number is not None:
            if before_number == "magnitude" and digit and last_magnitude >= 100:
                value += number * last_magnitude / 10  # 三万五, 3万5, 1亿2, 两百五
            else:
                cap = small_cap or group_cap
                if cap is not None and number >= cap:
                    return None  # 3万12000
                value += number
        return DESENSITISED if star else strip_zeros(value)


def _chinese_number(text: str) -> Decimal | None:
    """A number in Chinese numerals; None if it is not one number (三四万, 十七八 are estimates)."""
    whole, _, decimals = text.partition("点")
    if decimals:  # 三点五: the decimals are read digit by digit
        head = _chinese_number(whole) if whole else None
        return None if head is None else head + Decimal("0." + "".join(str(_CN_DIGITS[ch]) for ch in decimals))
    if all(ch in _CN_DIGITS for ch in text):  # 二〇二三: digit by digit
        return Decimal("".join(str(_CN_DIGITS[ch]) for ch in text))
    value = _numeral_value(_cn_parts(text))
    return value if isinstance(value, Decimal) else None


@dataclass(frozen=True)
class _Numeral:
    """A numeral that goes on past its first magnitude (3万5千, 1亿2000万, 三万5千, *万5千)."""

    value: Decimal | Literal["*"] | None  # in units of ``lead``; None: the parts make no one number
    lead: Decimal  # its largest magnitude: a bare 3万5 is 3.5 × 10⁴ in the value's quantity, as 3.5万 is
    kind: Literal["arabic", "star"]
    end: int


def _numeral(text: str, start: int, end: int, kind: str) -> _Numeral | None:
    """The numeral whose first number is ``text[start:end]``, read whole when a number follows one
    of its magnitudes; None when only magnitudes follow (3万元, 三万五千元: the caller reads those).
    A Chinese run continues an Arabic numeral only if it holds a magnitude: 3万五千 is 35000, but
    the 一 of 3万一次性 is a word."""
    first = text[start:end]
    parts: list[_Part]
    if kind == "star":
        parts = [_Part(DESENSITISED, digit=True)]
    elif kind == "arabic":
        parts = [_arabic_part(first)]
    elif "点" in first:  # 三点五万: decimals, then at most magnitudes
        parts = [_Part(_chinese_number(first), decimal=True)]
    else:
        parts = _cn_parts(first)
    pos, n, later = end, len(text), False
    while pos < n:
        ch = text[pos]
        if ch in _MAGNITUDES:
            parts.append(_Part(magnitude=int(_MAGNITUDES[ch])))
            pos += 1
            continue
        if not (parts[-1].magnitude or parts[-1].zero):
            break  # only a magnitude (or a zero after one) is followed by more of the number
        if ch in "零〇" and parts[-1].magnitude:  # 3万零500
            parts.append(_Part(zero=True))
            pos += 1
            continue
        run, arabic = _CN_RUN_RE.match(text, pos), _ARABIC_RE.match(text, pos)
        if arabic:
            parts.append(_arabic_part(arabic.group()))
            pos = arabic.end()
        elif ch == DESENSITISED:
            parts.append(_Part(DESENSITISED, digit=True))
            pos += 1
        elif run and any(c in _MAGNITUDES for c in run.group()):
            parts += _cn_parts(run.group())
            pos = run.end()
        else:
            break
        later = True
    if not later:
        return None
    while parts[-1].zero:  # 3万5千零: the zero marks nothing
        parts.pop()
    value = None if any(p.number is None and not (p.magnitude or p.zero) for p in parts) else _numeral_value(parts)
    lead = Decimal(max(p.magnitude for p in parts))
    if isinstance(value, Decimal):
        with localcontext() as ctx:
            ctx.prec, ctx.Emax, ctx.Emin = MAX_PREC, MAX_EMAX, MIN_EMIN
            value = strip_zeros(value / lead)
    return _Numeral(value, lead, "star" if value == DESENSITISED else "arabic", pos)


def _approximate(numeral: str) -> bool:
    """Chinese numerals naming two neighbouring digits are an estimate: 三四个 (3 or 4), 十七八 (17 or
    18), 七八成. Digits read one by one are a year (二〇二三, 一九九八) when there are three or more."""
    if all(ch in _CN_DIGITS for ch in numeral.partition("点")[0]):
        return len(numeral) == 2 and not any(ch in "零〇" for ch in numeral)
    return re.search("[一二两三四五六七八九]{2}", numeral.partition("点")[0]) is not None


def _spelling_at(text: str, pos: int) -> str | None:
    return next((u for u in _SPELLINGS if text.startswith(u, pos)), None)


def _quote_unit(spelling: str) -> str:
    """The catalogue (or QUOTE_UNITS) spelling of a known unit spelling."""
    if spelling in QUOTE_UNITS:
        return spelling
    return _QUOTE_ALIASES.get(spelling) or UNIT_ALIASES.get(spelling, spelling)


def _measure(unit: str) -> tuple[str, Decimal] | None:
    """The quantity ``unit`` measures and its size in that quantity's base unit (平方公里 → mu, 1500)."""
    if unit in QUOTE_UNITS:
        return QUOTE_UNITS[unit]
    family = unit_family(unit)
    if family is None:
        return None
    root, link = FAMILY_LINKS.get(family, (family, Decimal(1)))
    return root, UNIT_FAMILIES[family][unit] * link


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _prefix_qualifier(text: str, start: int) -> tuple[str | None, int]:
    """The qualifier governing the number at ``start`` (canonical) and where it begins."""
    i = start
    for _ in range(4):
        while i and text[i - 1].isspace():
            i -= 1
        head = text[:i]
        word = next((q for q in PREFIX_QUALIFIERS if head.endswith(q)), None)
        if word:
            if any(head.endswith(w) for w in _NOT_QUALIFIERS if w.endswith(word)):
                return None, start
            return QUALIFIER_ALIASES.get(word, word), i - len(word)
        filler = next((f for f in _QUALIFIER_FILLERS if head.endswith(f)), None)
        if filler is None:
            return None, start
        i -= len(filler)
    return None, start


def _fall_word(text: str, start: int, previous_end: int) -> int | None:
    """Where the fall word governing the number at ``start`` begins, if one does."""
    i = start
    for _ in range(6):
        while i and text[i - 1].isspace():
            i -= 1
        head = text[:i]
        word = next((w for w in _FALL_WORDS if head.endswith(w)), None)
        if word == "-":
            j = i - 1
            while j and text[j - 1].isspace():
                j -= 1
            # A dash right after another figure joins a range (3-5%, 海拔*－*米); else it is a sign.
            return None if j == previous_end else i - 1
        if word:
            return None if any(head.endswith(n) for n in _NOT_FALLS) else i - len(word)
        step = next((w for w in (*_FALL_FILLERS, *PREFIX_QUALIFIERS) if head.endswith(w)), None)
        if step is None:
            return None
        i -= len(step)
    return None


@dataclass
class _Tail:
    """What follows a number: its magnitudes, unit and qualifiers."""

    end: int
    unit: str | None = None
    scale: Decimal = Decimal(1)
    between: str | None = None
    after: str | None = None
    foreign: str | None = None
    foreign_family: str | None = None
    vague: bool = False
    tenths: int = 0  # 两成五: a digit after 成 that counts in tenths of it


def _per_unit(text: str, pos: int) -> int:
    """The length of a per-unit denominator at ``pos`` (/人, /亩/年, 每户, /5年), or 0."""
    i, n = pos, len(text)
    while i < n and text[i] in "/每" and i + 1 < n:
        j = i + 1
        if text[i] == "/":
            while j < n and "0" <= text[j] <= "9":
                j += 1
        spelling = _spelling_at(text, j)
        if spelling:
            j += len(spelling)
        elif j < n and _is_letter(text[j]) and text[j] not in _NOT_UNITS:
            j += 1
        else:
            break
        i = j
    return i - pos


def _read_tail(text: str, pos: int, unit: str | None, kind: str, scale: Decimal) -> _Tail:
    """Read what follows a number at ``pos``: 余/多, magnitudes (十百千万亿, 百万…), a unit (known or
    foreign), then a qualifier after the unit (以上, 左右…). ``unit`` is given for 百分之…; ``kind``
    says what the number was (a bare Arabic number before an unknown measure word is a foreign figure);
    ``scale`` is the magnitude already read (千 in 近千人)."""
    tail = _Tail(pos, unit, scale)
    n, bare_end = len(text), pos
    while pos < n and text[pos].isspace():
        pos += 1
    read_from = pos
    if unit is None:
        mark = pos
        while pos < n:
            spelling = _spelling_at(text, pos)
            if spelling:
                pos += len(spelling)
                if spelling in FOREIGN_UNITS:
                    if kind == "star" and len(spelling) == 1 and pos < n and _is_letter(text[pos]):
                        return _Tail(mark)  # “*天路”, *月乡: a desensitised name, not a span of days
                    tail.foreign, tail.foreign_family = spelling, FOREIGN_UNITS[spelling]
                else:
                    tail.unit = _quote_unit(spelling)
                break
            if text[pos] in _MAGNITUDES:
                tail.scale *= _MAGNITUDES[text[pos]]
            elif text[pos] in SUFFIX_QUALIFIERS and tail.between is None:
                tail.between = text[pos]
            else:
                break
            pos += 1
        if tail.unit is None and tail.foreign is None and tail.scale != 1 and pos < n and _is_letter(text[pos]) \
                and kind == "star":
            # *百花村, *万达: a desensitised name, not a figure in hundreds.
            return _Tail(mark)
        if tail.unit is None and tail.foreign is None and text.startswith("分之", pos):
            # 三分之一: a fraction, exact but in no catalogue unit.
            m = _QUOTE_NUMBER.match(text, pos + 2)
            pos = m.end() if m else pos + 2
            tail.foreign, tail.foreign_family = "分数", "percent"
    else:
        if pos < n and text[pos] in SUFFIX_QUALIFIERS:
            tail.between = text[pos]
            pos += 1
    if tail.unit and unit_family(tail.unit) == "money":
        spelling = _spelling_at(text, pos)
        if spelling and FOREIGN_UNITS.get(spelling) == "money":  # 5万元港币: the currency named after the sum
            tail.foreign, tail.foreign_family, tail.unit = spelling, "money", None
            pos += len(spelling)
        elif text.startswith(("/亩", "每亩"), pos):  # 0.1万元/亩 is 1000元/亩, not 0.1万元
            tail.scale *= UNIT_FAMILIES["money"][tail.unit]
            tail.unit = "元/亩"
            pos += 2
    if tail.unit == "成" and kind != "star" and pos < n:
        # 两成五 is 2.5成 (25%), as 三万五 is 35000: a single digit after 成 counts in tenths of it.
        ch, following = text[pos], text[pos + 1:pos + 2]
        digit = _CN_DIGITS.get(ch, int(ch) if "0" <= ch <= "9" else 0)
        if digit and not (following and (following in _CN_ALL or following in "0123456789点."
                                         or _spelling_at(text, pos + 1))):
            tail.tenths = digit
            pos += 1
    per = _per_unit(text, pos) if tail.unit or tail.foreign else 0
    if per:
        # 3万元/人, 5%/年, 200元每户: a rate per person, year or household is not a figure of the
        # unit before the slash (a total of 3万元), whatever the value beside it: another unit.
        measure = _measure(tail.unit) if tail.unit else None
        tail.foreign = (tail.foreign or tail.unit or "") + text[pos:pos + per]
        tail.foreign_family = measure[0] if measure else tail.foreign_family
        tail.unit = None
        pos += per
    word = next((q for q in TRAILING_QUALIFIERS if text.startswith(q, pos)), None)
    if word == "上下" and pos + 2 < n and _is_letter(text[pos + 2]) and text[pos + 2] != "的":
        word = None  # 3家上下游企业
    if word:
        tail.after = QUALIFIER_ALIASES.get(word, word)
        pos += len(word)
    elif (tail.unit or tail.foreign) and pos < n and text[pos] in SUFFIX_QUALIFIERS and (
            pos + 1 >= n or not _is_letter(text[pos + 1]) or text[pos + 1] in _LETTER_AFTER_OK):
        # 两年多 is not 2多年 (二十多年 is): a qualifier after the unit has no place in the model.
        tail.vague = True
        pos += 1
    elif (tail.unit is None and tail.foreign is None and kind == "arabic" and pos < n and _is_letter(text[pos])
          and text[pos] not in _NOT_UNITS and text[pos] not in _CN):  # the 一 of 3万一次性 is no measure word
        tail.foreign, tail.foreign_family = text[pos], UNKNOWN_UNIT
        pos += 1
    if tail.unit and tail.scale != 1:
        # 3万余元 reads as 3万元 with 余; 3百万元 stays 3 × 100 × 万元 (there is no 百万元).
        family = unit_family(tail.unit)
        if family:
            factor = UNIT_FAMILIES[family][tail.unit] * tail.scale
            spelled = next((u for u, k in UNIT_FAMILIES[family].items() if k == factor), None)
            if spelled:
                tail.unit, tail.scale = spelled, Decimal(1)
    tail.end = pos if pos > read_from else bare_end  # spaces after a bare number are not part of it
    return tail


def quote_figures(quote: str) -> list[QuoteFigure]:
    """Every figure written in ``quote``, in order; a comma-grouped number also as its pieces."""
    return list(_remembered_quote_figures(quote))


@functools.lru_cache(maxsize=8192)
def _remembered_quote_figures(quote: str) -> tuple[QuoteFigure, ...]:
    # Reading a quote is a pure function of its text (QuoteFigure is frozen): each quote is read once
    # per process however many figures, checks and rebuilds ask. Quotes are at most 400 characters.
    return tuple(_read_quote_figures(quote))


def _read_quote_figures(quote: str) -> list[QuoteFigure]:
    text = quote.translate(_QUOTE_FOLD)
    out: list[QuoteFigure] = []
    pos, previous_end = 0, -1
    while (m := _QUOTE_NUMBER.search(text, pos)) is not None:
        start, kind = m.start(), m.lastgroup or ""
        pos = m.end()
        if kind == "pnum":
            kind = "per"
        if text[:start].rstrip().endswith("第"):
            continue  # 第3批, 第一次: an ordinal, not a figure
        pre, pre_start = _prefix_qualifier(text, start)
        given = None
        if kind == "per":
            num, given = m.group("pnum"), "%" if m.group("per") == "百分之" else "‰"
        else:
            num = m.group()
        magnitude = Decimal(1)
        if kind == "mag":  # 近千人, 超万: one thousand, ten thousand
            for ch in num:
                magnitude *= _MAGNITUDES[ch]
        # 3万5千元, 1亿2000万元, 三万5千: one figure, read whole (its largest magnitude scales it).
        numeral = _numeral(text, start, pos, kind) if kind in ("arabic", "star", "cn") else None
        if numeral is not None:
            kind, pos, magnitude = numeral.kind, numeral.end, numeral.lead
        tail = _read_tail(text, pos, given, kind, magnitude)
        if kind in ("cn", "vague", "mag") and tail.unit is None and tail.foreign is None and not (
                kind == "mag" and pre):
            continue  # 一心一线, 十里稻香, 千家: words, not figures
        pos = max(tail.end, pos)
        read: Decimal | Literal["*"] | None  # None: written as no one exact number
        if numeral is not None:
            read = numeral.value
        elif kind == "star":
            read = DESENSITISED
        elif kind == "mag":
            read = Decimal(1)
        elif kind == "vague":
            read = None
        elif num[0].isdigit():
            read = _arabic_value(num)
        else:
            read = _chinese_number(num)
        if tail.tenths and isinstance(read, Decimal):
            read = read + Decimal(tail.tenths) / 10 if read == read.to_integral_value() else None  # 2.5成5
        value: Decimal | Literal["*"] = Decimal(0) if read is None else read  # never compared when None
        fall_at = _fall_word(text, min(start, pre_start), previous_end)
        vague = tail.vague or read is None or (kind == "mag" and not pre) or (
            numeral is None and not num[0].isdigit() and _approximate(num))
        fig_kind: Literal["figure", "vague", "foreign"] = "foreign" if tail.foreign else "vague" if vague else "figure"
        qualifier = pre or tail.between or tail.after
        shown_from = start if fall_at is None else fall_at
        out.append(QuoteFigure(quote[shown_from:tail.end], value, tail.unit, tail.scale, qualifier, start, tail.end,
                               fall_at is not None, fig_kind, tail.foreign, tail.foreign_family))
        previous_end = tail.end
        if kind == "arabic" and numeral is None and "，" in quote[start:m.end()]:
            # "3，120户" may be 3 and 120 rather than 3120; "1,200" is a thousands separator only.
            # Read as a list, every item is in the unit after the last one, as a range's ends are.
            pieces = num.split(",")
            offset = start
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                end = tail.end if last else offset + len(piece)
                first_word = pre if i == 0 else None
                out.append(QuoteFigure(
                    quote[offset:end], Decimal(piece), tail.unit, tail.scale,
                    (tail.between or tail.after) if last else first_word, offset, end,
                    fall_at is not None and i == 0, fig_kind, tail.foreign, tail.foreign_family))
                offset += len(piece) + 1
    # A range gives its unit to its first end (海拔*－*米, 3至5个), and a word around it governs both
    # ends (约3至5人, 下降3至5%, 3至5人左右).
    for i in range(len(out) - 1):
        here, nxt = out[i], out[i + 1]
        if here.kind != "figure" or text[here.end:nxt.start].strip() not in _RANGE_JOINERS:
            continue
        if here.unit is None and here.scale == 1 and (nxt.unit is not None or nxt.kind == "foreign"):
            here = replace(here, unit=nxt.unit, scale=nxt.scale, kind=nxt.kind, foreign=nxt.foreign,
                           foreign_family=nxt.foreign_family)
        if here.qualifier is None and QUALIFIER_PLACES.get(nxt.qualifier or "") == "after":
            here = replace(here, qualifier=nxt.qualifier)
        if QUALIFIER_PLACES.get(here.qualifier or "") == "before" and nxt.qualifier is None:
            nxt = replace(nxt, qualifier=here.qualifier)
        out[i], out[i + 1] = here, replace(nxt, fall=nxt.fall or here.fall)
    return out


@dataclass(frozen=True)
class QuoteProblem:
    """Why a figure disagrees with its quote; ``on`` is the field the message belongs to."""

    on: Literal["value", "qualifier"]
    message: str


def _factor(fig: QuoteFigure, quantity: str) -> Decimal | None:
    """The figure's unit as a multiple of ``quantity``'s base unit; None if it measures something
    else, is not exact, or has no unit. A bare magnitude (*亿, 3.2万) is read in the value's quantity."""
    if fig.kind != "figure":
        return None
    if fig.unit is None:
        return fig.scale if fig.scale != 1 else None
    measure = _measure(fig.unit)
    if measure is None or measure[0] != quantity:
        return None
    return measure[1] * fig.scale


def _signed(fig: QuoteFigure, quantity: str) -> Fraction:
    assert isinstance(fig.value, Decimal)
    number = Fraction(fig.value)
    return -number if fig.fall and quantity in SIGNED_FAMILIES else number


def _exact_decimal(number: Fraction) -> Decimal | None:
    """``number`` as a decimal if it has a finite one (3/20 → 0.15, 2/3 → None)."""
    rest = number.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    if rest != 1:
        return None
    with localcontext() as ctx:
        ctx.prec = len(str(number.numerator)) + len(str(number.denominator)) + 2
        return strip_zeros(Decimal(number.numerator) / Decimal(number.denominator))


def _size(unit: str) -> Decimal:
    """A catalogue unit's size in the base unit of the quantity it measures."""
    measure = _measure(unit)
    assert measure is not None
    return measure[1]


def _written(fig: QuoteFigure, family: str) -> str | None:
    """How to write a quote's figure as a value of ``family`` (3.2亿元, 三个 → 3个, 3万个 → 30000个,
    20公顷 → 300亩, 下降5% → -5%); None when no unit of the family holds it exactly (1亩 in 平方米)."""
    units = UNIT_FAMILIES[family]
    measure = _measure(next(iter(units)))
    assert measure is not None
    number = _signed(fig, measure[0])
    factor = _factor(fig, measure[0])
    spelled = "" if factor is None else next((u for u in units if _size(u) == factor), None)
    if spelled is None:  # no unit of that size: write it in the family's base unit
        spelled = next(u for u, k in units.items() if k == 1)
        number = number * Fraction(factor or 1) / Fraction(_size(spelled))
    exact = _exact_decimal(number)
    return None if exact is None else format(exact, "f") + spelled


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


def _could_be(fig: QuoteFigure, quantity: str) -> bool:
    """Whether a vague or foreign figure is one of the value's quantity (so it may be this figure)."""
    if fig.kind == "foreign":
        return fig.foreign_family == quantity or (fig.foreign_family == UNKNOWN_UNIT and quantity in COUNT_FAMILIES)
    if fig.kind == "vague":
        measure = None if fig.unit is None else _measure(fig.unit)
        return measure is None or measure[0] == quantity
    return False


def _vague_problem(fig: QuoteFigure, quote: str, lead: str) -> QuoteProblem:
    return QuoteProblem("value", (
        f"{lead}原文“{quote}”中的“{fig.text}”不是确切的数（约数或概数），不能照录为数值。"
        "提示：原文没有给出确切的数时删去 value（即为未知），可在 note 中照录原文的说法"))


def _foreign_problem(fig: QuoteFigure, quote: str, lead: str, unit: str) -> QuoteProblem:
    unit_word = "分数" if fig.foreign == "分数" else f"以“{fig.foreign}”计"
    return QuoteProblem("value", (
        f"{lead}原文“{quote}”中的“{fig.text}”是{unit_word}的数，不能精确换算为以“{unit}”计的数。"
        f"提示：quote 要引出以“{unit}”（或可精确换算的单位）计的那个数；原文以其他单位计时，"
        "这个数不能录入这一指标，请核对是否选对了指标"))


def check_quote(value: Decimal | Literal["*"], unit: str, catalogue_unit: str, qualifier: str | None,
                quote: str) -> QuoteProblem | None:
    """Whether a figure (``value`` in ``unit``, as written) agrees with its quote.

    '*' needs a * in the quote in the same unit (or one whose unit the quote leaves open, when the
    quote gives no number in this unit either); a number needs an equal number in the quote after
    exact conversion (or an equal bare number), with the sign a governing fall word gives it.
    Figures of other quantities in the quote (a year beside a sum) are not this figure; a quote with
    no figure that could be this one is context, and passes. But a vague figure (数十人) or one in a
    unit that cannot be converted (3万美元, 3座 for a count) that is of this quantity is reported
    when nothing in the quote matches: the value cannot be held to its quote. The qualifier must be
    the one the matching figure carries.
    """
    family = unit_family(unit)
    measure = _measure(unit)
    assert family is not None and measure is not None
    quantity, want = measure
    figures = quote_figures(quote)
    same = [f for f in figures if _factor(f, quantity) is not None]
    loose = [f for f in figures if f.kind == "figure" and f.unit is None and f.scale == 1]
    unsure = [f for f in figures if _could_be(f, quantity)]
    vague = [f for f in unsure if f.kind == "vague"]
    foreign = [f for f in unsure if f.kind == "foreign"]
    if value == DESENSITISED:
        stars = [f for f in same if f.value == DESENSITISED]
        exact = [f for f in stars if _factor(f, quantity) == want]
        if exact:
            return _qualifier_problem(exact, qualifier, unit, value)
        if stars:
            other = stars[0]
            factor = _factor(other, quantity)
            spelled = next((u for u in UNIT_FAMILIES[family] if _size(u) == factor), None)
            hint = f"写成 '*{spelled}'（或 unit: {spelled}）" if spelled else "核对原文与所选指标"
            theirs = f"以“{spelled}”计" if spelled else "以另一个单位计"
            return QuoteProblem("value", (
                f"数值 '*' 以“{unit}”计，但原文“{other.text}”{theirs}，两者差着倍数或数量级。"
                f"提示：脱敏数值的单位要与原文一致，{hint}"))
        numbers = [f for f in same if f.value != DESENSITISED]
        if numbers:
            written = _written(numbers[0], family)
            example = f"（如 {written}）" if written else ""
            return QuoteProblem("value", (
                f"数值写的是 '*'，但原文“{quote}”给出了数字“{numbers[0].text}”。"
                f"提示：原文公开的数字照原文填写{example}，只有原文写作 * 时才写 '*'"))
        if vague:
            return _vague_problem(vague[0], quote, "数值写的是 '*'，但")
        if foreign:
            return _foreign_problem(foreign[0], quote, "数值写的是 '*'，但", unit)
        open_stars = [f for f in loose if f.value == DESENSITISED]
        if open_stars:
            return _qualifier_problem(open_stars, qualifier, unit, value)
        if figures:
            return QuoteProblem("value", (
                f"数值写的是 '*'，但原文“{quote}”中没有以“{unit}”计的 * 号数字。"
                "提示：核对 quote 是否引对了原文中这个数所在的短语，以及是否选对了指标"))
        return None
    assert isinstance(value, Decimal)
    target = Fraction(convert(value, unit, catalogue_unit))
    in_base = target * Fraction(_size(catalogue_unit))
    folded = quote.translate(_QUOTE_FOLD)

    def equal(f: QuoteFigure) -> bool:
        if f.value == DESENSITISED:
            return False
        number = _signed(f, quantity)
        factor = _factor(f, quantity)
        if factor is None:  # a bare number: in the unit written or the catalogue's
            return number in (Fraction(value), target)
        return number * Fraction(factor) == in_base

    matches = [f for f in [*same, *loose] if equal(f)]
    if matches:
        return _qualifier_problem(matches, qualifier, unit, value)
    shown = format_figure(value, None, unit)
    # A * with no unit is a figure when nothing follows it or punctuation does ("增长*。"); before
    # a letter it is a desensitised name (*粮仓, *山镇) and says nothing about this figure.
    stars = [f for f in same if f.value == DESENSITISED] + [
        f for f in loose if f.value == DESENSITISED
        and (f.end >= len(folded) or not _is_letter(folded[f.end]))]
    if stars:
        return QuoteProblem("value", (
            f"原文“{quote}”中这个数脱敏为“{stars[0].text}”，数值却写成了 {shown}。"
            "提示：原文脱敏的数值写带引号的 '*'，绝不写成 0 或推测的数"))
    numbers = [f for f in [*same, *loose] if f.value != DESENSITISED]
    if numbers:
        first = numbers[0]
        written = _written(first, family)
        hint = (f"照原文填写（可以直接写 {written}，程序会精确换算），或核对 quote 是否引对" if written else
                f"原文的数不能精确换算为“{unit}”，请核对 quote 是否引对、是否选对了指标")
        return QuoteProblem("value", (
            f"数值 {shown}与原文不符：原文“{quote}”中的数是“{first.text}”。提示：{hint}"))
    if vague:
        return _vague_problem(vague[0], quote, f"数值 {shown}无法与原文核对：")
    if foreign:
        return _foreign_problem(foreign[0], quote, f"数值 {shown}无法与原文核对：", unit)
    return None
