"""Chinese search, typed into the real search box of the real site in Chromium.

Covers what Material's own Chinese search misses: a term inside a longer word (核桃 in 山核桃), a
query of several words with and without spaces, domain words that default segmentation splits
(两进两回, 四带共富), and text committed without a key press (as an input method does).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

Q = "[data-md-component=search-query]"


def open_search(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.click(Q)
    # The worker has built its index once the "initialising" notice is gone.
    page.wait_for_function("() => !/初始化/.test(document.querySelector('.md-search-result__meta').textContent)",
                           timeout=20_000)
    return page


@pytest.fixture(scope="module")
def search(browser, real_base):
    page = open_search(browser, real_base)
    yield page
    assert page.errors == []
    page.close()


def clear(page):
    page.fill(Q, "")
    page.dispatch_event(Q, "keyup")
    page.wait_for_timeout(150)


def results(page, wait_ms: int = 600) -> list[dict]:
    page.wait_for_timeout(wait_ms)
    return page.evaluate("""() => [...document.querySelectorAll('.md-search-result__item')].map(li => ({
        href: new URL(li.querySelector('a').href).pathname,
        marks: [...li.querySelectorAll('mark')].map(m => m.textContent),
        missing: [...li.querySelectorAll('.md-search-result__terms')].map(p => p.textContent.trim()),
    }))""")


def typed(page, text: str) -> list[dict]:
    """Real typing. Chinese characters arrive as `input` events only, with no keyup."""
    clear(page)
    page.focus(Q)
    page.keyboard.type(text, delay=15)
    return results(page)


def ime_commit(page, text: str, pinyin: str = "pinyin") -> list[dict]:
    """Chromium's own input-method path: a pinyin composition, then the commit. No key events."""
    clear(page)
    page.focus(Q)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": pinyin, "selectionStart": len(pinyin), "selectionEnd": len(pinyin)})
    cdp.send("Input.insertText", {"text": text})
    cdp.detach()
    return results(page)


def input_only(page, text: str) -> list[dict]:
    clear(page)
    page.evaluate("""([sel, t]) => { const el = document.querySelector(sel); el.focus();
        el.value = t; el.dispatchEvent(new Event('input', {bubbles: true})); }""", [Q, text])
    return results(page)


def hrefs(items: list[dict]) -> list[str]:
    return [i["href"] for i in items]


def test_term_inside_a_longer_word(search):
    items = typed(search, "核桃")
    assert "/cases/cloud-ecommerce/" in hrefs(items)
    assert any("山核桃" in i["marks"] for i in items)


def test_no_trailing_space_needed(search):
    items = typed(search, "竹笋")
    assert hrefs(items)[0] == "/cases/source-prosperity/"


@pytest.mark.parametrize("query", ["电商 销售额", "电商销售额"])
def test_several_words_with_and_without_spaces(search, query):
    items = typed(search, query)
    assert "/cases/cloud-ecommerce/" in hrefs(items)
    assert not any(i["missing"] for i in items)


@pytest.mark.parametrize("term, page", [("两进两回", "/alliance/"), ("四带共富", "/cases/source-prosperity/"),
                                        ("共富贷", "/alliance/"), ("非粮化", "/cases/grain-store/")])
def test_domain_words_that_default_segmentation_splits(search, term, page):
    items = typed(search, term)
    assert page in hrefs(items)
    # One mark holding the whole word: the index kept it as a single word.
    assert any(term in i["marks"] for i in items if i["href"] == page)


@pytest.mark.parametrize("how", [ime_commit, input_only])
def test_input_without_key_press(search, how):
    assert "/cases/source-prosperity/" in hrefs(how(search, "竹笋"))


@pytest.mark.parametrize("query, page", [("电商", "/cases/cloud-ecommerce/"), ("土地流转", "/cases/grain-store/"),
                                         ("雪乡", "/cases/mountain-road/"), ("耕织云图", "/cases/farming-weaving/")])
def test_officials_queries_land_on_the_right_page(search, query, page):
    assert page in hrefs(typed(search, query))


def test_search_works_from_disk(browser, real_site: Path):
    page = open_search(browser, (real_site / "index.html").as_uri())
    items = typed(page, "核桃")
    assert any(i["href"].endswith("/cases/cloud-ecommerce/") for i in items)
    assert page.errors == []
    page.close()


def test_domain_dictionary_is_in_the_index(real_site):
    index = json.loads((real_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    words = {w for doc in index["docs"] for w in doc["text"].replace("<p>", "").split("\u200b")}
    for term in ["两进两回", "四带共富", "共富贷", "非粮化"]:
        assert term in words, term
    assert all("text_cjk" in doc for doc in index["docs"] if any("\u4e00" <= c <= "\u9fff" for c in doc["text"]))
