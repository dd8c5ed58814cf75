"""No half-width space between two Chinese characters anywhere a reader looks (issue 14).

YAML folds long values (``>-``, plain scalars over several lines) by joining the lines with a space,
which in Chinese shows as a stray gap ("联合体。 组团"). The loader drops such spaces for every field
(loader.join_cjk); a space next to Latin text or a digit is kept. The site test reads every text node of
every built page, generated and hand-written, so a gap from any field, template or Markdown line break
is caught, not just the fields of one example.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from casebook.loader import join_cjk, load_text

# Characters on both sides of a gap that must not be there: Han, CJK and full-width punctuation.
_HAN = "一组团的共富乡村𠀀"  # includes a character outside the BMP (CJK Extension B)
_PUNCT = "。，、；：！？（）《》“”‘’…—　"
_LATIN = ["DB33", "APP", "5G", "3", "abc", "*"]


@pytest.mark.parametrize("left", list(_HAN + _PUNCT))
@pytest.mark.parametrize("right", list("组。“（"))
@pytest.mark.parametrize("gap", [" ", "  "])
def test_a_gap_between_two_cjk_characters_is_dropped(left, right, gap):
    assert join_cjk(f"甲{left}{gap}{right}乙") == f"甲{left}{right}乙"


@pytest.mark.parametrize("latin", _LATIN)
@pytest.mark.parametrize("cjk", ["组", "。", "”"])
def test_a_space_beside_latin_text_or_a_digit_is_kept(latin, cjk):
    for text in (f"{cjk} {latin}", f"{latin} {cjk}", f"{latin} {latin}"):
        assert join_cjk(text) == text


@pytest.mark.parametrize("style", [">-", ">", "plain", "'", '"'])
def test_every_folding_style_joins_chinese_lines_without_a_gap(style):
    lines = ["原文写明组团以竹子、茶叶为主导产业。", "组团按“一心一线”布局，引进 DB33", "标准。"]
    if style in (">-", ">"):
        value = f"summary: {style}\n" + "".join(f"  {line}\n" for line in lines)
    elif style == "plain":
        value = f"summary: {lines[0]}\n" + "".join(f"  {line}\n" for line in lines[1:])
    else:
        value = f"summary: {style}{lines[0]}\n" + "".join(f"  {line}\n" for line in lines[1:-1]) + f"  {lines[-1]}{style}\n"
    loaded, errors = load_text(value, "虚构.yaml")
    assert errors == []
    assert loaded.data["summary"].strip() == "原文写明组团以竹子、茶叶为主导产业。组团按“一心一线”布局，引进 DB33 标准。"


def test_a_literal_block_keeps_its_layout():
    loaded, errors = load_text("summary: |\n  第一行。 第二行\n  第三行\n", "虚构.yaml")
    assert errors == []
    assert loaded.data["summary"] == "第一行。 第二行\n第三行\n"


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014"
_GAP = re.compile(rf"[{_CJK}][ \t\n]+[{_CJK}]")


class _Texts(HTMLParser):
    """Each text node of a page's readable parts (not scripts, styles or the search index)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg", "template"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg", "template") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.texts.append(data)


def _gaps(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return [repr(text[max(0, m.start() - 6):m.end() + 6]) for text in parser.texts for m in _GAP.finditer(text)]


def test_the_check_sees_a_gap():
    # The site test below must be able to fail: a folded-line gap in a text node is found.
    assert _gaps("<p>联合体。 组团</p>") and _gaps("<p>联合体。\n组团</p>")
    assert not _gaps("<p>联合体。</p>\n<p>组团</p>") and not _gaps("<script>a = '中 文'</script>")


def test_no_page_of_the_site_has_a_gap_between_chinese_characters(real_site: Path):
    pages = sorted(real_site.rglob("*.html"))
    assert len(pages) > 60
    found = {page.relative_to(real_site).as_posix(): gaps for page in pages
             if (gaps := _gaps(page.read_text(encoding="utf-8")))}
    assert found == {}


# --------------------------------------------------------------------------- quotation marks in quotations

from casebook.present import inner_quotes, quote_html  # noqa: E402


@pytest.mark.parametrize("text, shown", [
    ("打造“十里稻香”共同富裕联合体", "打造‘十里稻香’共同富裕联合体"),  # inside a quotation, the inner marks turn single
    ("“党建带领、政府带动”", "党建带领、政府带动"),  # a value wholly quoted: the <q> gives its marks
    ("“*+*+*”组织框架", "‘*+*+*’组织框架"),
    ("“a”和“b”", "‘a’和‘b’"),
    ("没有引号", "没有引号"), ("“", "‘"), ("", ""),
])
def test_a_quotation_inside_a_quotation_takes_single_marks(text, shown):
    assert inner_quotes(text) == shown
    assert str(quote_html(text)) == f"<q>{shown}</q>"
    assert str(quote_html("<b>“x”</b>")) == "<q>&lt;b&gt;‘x’&lt;/b&gt;</q>"  # and stays text


_Q = re.compile(r"<q>(.*?)</q>", re.S)


def test_no_quotation_on_the_site_holds_double_marks(real_site: Path):
    # A <q> draws “…” around its text: “…“旷野公园”…” would be a doubled pair (GB/T 15834 wants ‘…’ inside).
    found = {page.relative_to(real_site).as_posix(): bad for page in sorted(real_site.rglob("*.html"))
             if (bad := [q for q in _Q.findall(page.read_text(encoding="utf-8")) if "“" in q or "”" in q])}
    assert found == {}
