"""Chinese search, typed into the real search box of the real site in Chromium.

Covers what Material's own Chinese search misses: a term inside a longer word (核桃 in 山核桃), a
query of several words with and without spaces, domain words that default segmentation splits
(两进两回, 四带共富), and text committed without a key press (as an input method does).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from browser_support import SEARCH_QUERY as Q
from browser_support import results_report, wait_for_search, watch_search


def open_search(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    watch_search(page)
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
    wait_for_search(page, "")


def results(page, query: str) -> list[dict]:
    """The results drawn once the worker has answered ``query`` itself (not a prefix of it)."""
    wait_for_search(page, query)
    return page.evaluate("""() => [...document.querySelectorAll('.md-search-result__item')].map(li => ({
        href: new URL(li.querySelector('a').href).pathname,
        marks: [...li.querySelectorAll('mark')].map(m => m.textContent),
        missing: [...li.querySelectorAll('.md-search-result__terms')].map(p => p.textContent.trim()),
        text: li.textContent,
    }))""")


def typed(page, text: str) -> list[dict]:
    """Real typing. Chinese characters arrive as `input` events only, with no keyup."""
    clear(page)
    page.focus(Q)
    page.keyboard.type(text, delay=15)
    return results(page, text)


def ime_commit(page, text: str, pinyin: str = "pinyin") -> list[dict]:
    """Chromium's own input-method path: a pinyin composition, then the commit. No key events."""
    clear(page)
    page.focus(Q)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": pinyin, "selectionStart": len(pinyin), "selectionEnd": len(pinyin)})
    cdp.send("Input.insertText", {"text": text})
    cdp.detach()
    return results(page, text)


def input_only(page, text: str) -> list[dict]:
    clear(page)
    page.evaluate("""([sel, t]) => { const el = document.querySelector(sel); el.focus();
        el.value = t; el.dispatchEvent(new Event('input', {bubbles: true})); }""", [Q, text])
    return results(page, text)


def hrefs(items: list[dict]) -> list[str]:
    return [i["href"] for i in items]


def test_term_inside_a_longer_word(search):
    items = typed(search, "核桃")
    assert "/cases/cloud-ecommerce/" in hrefs(items)
    # The query is marked where it occurs, inside the longer word too.
    assert any("核桃" in i["marks"] and "山核桃" in i["text"] for i in items)


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


HINT = "() => document.querySelector('.cb-search-hint').textContent"


@pytest.mark.parametrize("query", ["gongfu", "gong fu", "Zhibo2099"])
def test_pinyin_that_finds_nothing_says_search_is_in_chinese(search, query):
    assert typed(search, query) == []
    assert search.evaluate(HINT) == "本站为中文检索，请输入中文关键词，如“共富”“组团”。"


def test_latin_words_the_site_holds_are_found_without_a_hint(search):
    assert "/about/" in hrefs(typed(search, "excel"))
    assert search.evaluate(HINT) == ""


def test_snippets_are_sentences_not_lists_of_terms(search):
    """Every snippet drawn for a word found all over the site is one sentence, or a piece of one
    marked … where cut: a term list's items are lines of their own, never run together."""
    typed(search, "共富")
    snippets = search.evaluate("""() => [...document.querySelectorAll('.md-search-result__article > p')]
        .filter(p => !p.classList.contains('md-search-result__terms')).map(p => p.textContent)""")
    assert len(snippets) >= 5
    for text in snippets:
        body = text.removeprefix("…").removesuffix("…")
        assert "共富" in body and len(body) <= 100, text
        # One sentence: an end mark only at its end (with closing quotes after it).
        assert not re.search(r"[。！？；][^。！？；”’」』）]", body), text


def test_search_works_from_disk(browser, real_site: Path):
    page = open_search(browser, (real_site / "index.html").as_uri())
    items = typed(page, "核桃")
    assert any(i["href"].endswith("/cases/cloud-ecommerce/") for i in items)
    assert page.errors == []
    page.close()


def load_shards(site: Path) -> tuple[dict, list[dict]]:
    """The manifest and every shard, read back the way the worker reads them."""
    manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["config"]["casebook"]
    shards = []
    for n in range(manifest["shards"]):
        body = (site / "search" / "shards" / f"{n}.js").read_text(encoding="utf-8").lstrip("\ufeff")
        prefix = f"__cbShard({n},"
        assert body.startswith(prefix) and body.endswith(");")
        shards.append(json.loads(body[len(prefix):-2]))
    return manifest, shards


def docs_with(term: str, manifest: dict, shards: list[dict]) -> set[int]:
    from casebook.search import term_hash

    deltas = shards[term_hash(term) % manifest["shards"]].get(term, [])
    values, total = [], 0
    for d in deltas:
        total += d
        values.append(total)
    return {v >> 1 for v in values}


def test_every_quoted_term_of_the_seed_is_findable(real_site):
    """Every name, slogan and term quoted from the source is found by its character pairs."""
    from casebook.derive import domain_terms
    from casebook.search import query_terms
    from casebook.validate import load_casebook

    book, errors = load_casebook(Path(__file__).resolve().parents[1] / "cases")
    assert not errors
    manifest, shards = load_shards(real_site)
    terms = domain_terms(book)
    assert len(terms) > 100
    for term in terms:
        needed = [t for word in query_terms(term) for t in word]
        found = set.intersection(*(docs_with(t, manifest, shards) for t in needed))
        assert found, term


def test_the_index_is_chunked_and_the_manifest_small(real_site):
    manifest_bytes = (real_site / "search" / "search_index.json").stat().st_size
    assert manifest_bytes < 1024, "every page load fetches the manifest; the index itself loads per query"
    manifest, shards = load_shards(real_site)
    assert len(shards) == manifest["shards"] >= 1
    assert manifest["docs"] > manifest["pages"] > 50
    assert len(list((real_site / "search" / "text").glob("*.js"))) == manifest["pages"]


def test_a_query_loads_only_what_it_needs(browser, real_base):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    watch_search(page)
    page.goto(real_base)
    page.click(Q)
    page.keyboard.type("竹笋", delay=15)
    # The answer to the whole query, not the first results drawn (a prefix's): all it loaded, counted.
    wait_for_search(page, "竹笋")
    shards = [u for u in requests if "/search/shards/" in u]
    texts = [u for u in requests if "/search/text/" in u]
    assert 1 <= len(shards) <= 3 and len(texts) <= 20
    page.close()


def test_hostile_case_text_in_results_is_only_text(browser, tmp_path):
    """Search results are drawn as HTML: case text must reach them escaped, whatever it holds."""
    import shutil

    from sitebuild import build_project, make_project

    cases = tmp_path / "cases"
    shutil.copytree(Path(__file__).parent / "fixtures" / "fictional", cases)
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    src = cases / "sources" / "fictional.txt"
    src.write_text(src.read_text(encoding="utf-8") + hostile + "\n", encoding="utf-8")
    path = cases / "clusters" / "fictional-a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("summary: 虚构的测试组团，数据均为编造，仅供测试。",
                                                             f"summary: '虚构核桃 {hostile}'"), encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    page = open_search(browser, (site / "index.html").as_uri())
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    items = typed(page, "虚构核桃")
    assert items and any("onerror=alert(1)" in i["text"] for i in items), "shown as text"
    # typed() waited for the answer to be drawn and laid out: a payload has had its chance to act.
    assert results_report(page, site.as_uri() + "/")["bad"] == []
    assert dialogs == [] and page.errors == []
    page.close()


def test_every_page_uses_the_casebook_worker(real_site):
    """Material's lunr worker cannot read the chunked index: no page may still name it."""
    pages = list(real_site.rglob("*.html"))
    assert len(pages) > 50
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "assets/javascripts/workers/search." not in html, page
        assert "assets/casebook/worker/search.js" in html, page
