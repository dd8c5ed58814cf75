"""Figures are read exactly: converted to the catalogue unit or rejected, never guessed; '*' stays '*'."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casebook.figures import FigureError, convert, format_figure, parse_figure
from casebook.validate import load_casebook

from helpers import CLUSTER, replace


@pytest.mark.parametrize("text, value, unit, qualifier", [
    ("3.2亿元", Decimal("3.2"), "亿元", None),
    ("1,200万元", Decimal("1200"), "万元", None),
    ("１２", Decimal("12"), None, None),
    ("１，２００．５万元", Decimal("1200.5"), "万元", None),
    ("*", "*", None, None),
    ("＊", "*", None, None),
    ("*余万元", "*", "万元", "余"),
    ("近*人", "*", "人", "近"),
    ("超过500万元", Decimal("500"), "万元", "超"),
    ("12%", Decimal("12"), "%", None),
    ("12 名", Decimal("12"), "人", None),
    ("0.1", Decimal("0.1"), None, None),
])
def test_parse(text, value, unit, qualifier):
    fig = parse_figure(text)
    assert (fig.value, fig.unit, fig.qualifier) == (value, unit, qualifier)


@pytest.mark.parametrize("text", ["三", "3-5", "3.2亿美元", "1,20", "约*余人", "12..5", "true", "0x10"])
def test_reject(text):
    with pytest.raises(FigureError) as exc:
        parse_figure(text)
    assert exc.value.hint


def test_absent_is_unknown_not_zero():
    assert parse_figure(None) is None
    assert parse_figure("") is None
    assert format_figure(None) == "未知"


def test_convert_is_exact():
    assert convert(Decimal("3.2"), "亿元", "万元") == Decimal("32000")
    assert str(convert(Decimal("0.1"), "万元", "元")) == "1000"
    assert format(convert(Decimal("1"), "元", "亿元"), "f") == "0.00000001"
    assert convert(Decimal("2.5"), "平方公里", "平方米") == Decimal("2500000")
    with pytest.raises(FigureError):
        convert(Decimal(1), "亩", "平方公里")  # not an exact factor: refused, never approximated


def test_format():
    assert format_figure("*", "近", "人") == "近*人"
    assert format_figure("*", "余", "万元") == "*余万元"
    assert format_figure(Decimal("32000"), None, "万元") == "32,000万元"


@pytest.mark.parametrize("written, stored, unit", [
    ("3.2亿元", Decimal("32000"), "万元"),
    ("1,200万元", Decimal("1200"), "万元"),
    ("'１２'", Decimal("12"), "万元"),
    ("'*'", "*", "万元"),
    ("'*亿元'", "*", "亿元"),  # the source's unit of a desensitised figure is kept: *亿元 is not *万元
    ("3.2\n    unit: 亿元", Decimal("32000"), "万元"),
])
def test_values_resolved_to_catalogue_unit(book, written, stored, unit):
    # The quote goes too: it says 52万元, and a value must agree with its quote.
    replace(book, CLUSTER, "value: 52\n    quote: 2022年村集体经营性收入52万元", f"value: {written}")
    loaded, errors = load_casebook(book)
    assert errors == []
    obs = loaded.clusters["fictional-a"].observations[0]
    assert obs.value.value == stored
    assert obs.unit == unit == obs.value.unit
