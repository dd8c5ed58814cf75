"""Search reads like a reader's tool: snippets are sentences, several words match across a page's
sections, a query without Chinese that finds nothing says why.

The worker (assets/worker/search.js) runs unmodified in Node over indexes written by
casebook.search, for seeded classes of (虚构) texts and queries; the same behaviour is then checked
in Chromium on a real MkDocs build, typed into the real search box.
"""

from __future__ import annotations

import html.parser
import json
import random
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from casebook.search import SearchDoc, SearchIndex, split_page

from browser_support import SEARCH_QUERY as Q
from browser_support import results_report, wait_for_search, watch_search

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "generator" / "casebook" / "assets" / "worker" / "search.js"
NODE = shutil.which("node") or "/usr/bin/node"
SNIPPET = 72  # the worker's SNIPPET
SETTLE = 12  # how far the worker may move a cut to keep a word or character whole, each end
HINT = "本站为中文检索，请输入中文关键词，如“共富”“组团”。"
ENDS = "。！？；!?;"
TAIL = "。！？；!?;”’」』】》）)]\"'…"

# The real worker in Node, over an index on disk, through its message protocol (SETUP, then one
# QUERY after another). Output: each answer's data ({items, query}).
HARNESS = r"""
"use strict";
const vm = require("vm"), fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const g = { URL: URL, console: console };
g.self = g;
g.location = { href: "http://casebook.invalid/assets/casebook/worker/search.js" };
g.addEventListener = function (type, fn) { if (type === "message") g.listener = fn; };
g.postMessage = function (m) { g.reply(m); };
g.importScripts = function (url) {
  const path = new URL(url).pathname.replace(/^\/search\//, "");
  vm.runInContext(fs.readFileSync(input.site + "/search/" + path, "utf8"), g, { filename: path });
};
vm.createContext(g);
vm.runInContext(fs.readFileSync(input.worker, "utf8"), g, { filename: "search.js" });
function ask(message) {
  return new Promise(function (resolve) { g.reply = resolve; g.listener({ data: message }); });
}
(async function () {
  await ask({ type: 0, data: JSON.parse(fs.readFileSync(input.site + "/search/search_index.json", "utf8")) });
  const out = [];
  for (const q of input.queries) out.push(JSON.parse(JSON.stringify((await ask({ type: 2, data: q })).data)));
  process.stdout.write(JSON.stringify(out));
})().catch(function (e) { console.error(e && e.stack || e); process.exit(1); });
"""


def ask_worker(site: Path, queries: list[str]) -> list[dict[str, Any]]:
    if not Path(NODE).exists():
        pytest.fail("the search tests need Node.js (apt-get install nodejs)")
    done = subprocess.run([NODE, "-e", HARNESS], input=json.dumps({"site": str(site), "worker": str(WORKER),
                                                                   "queries": queries}, ensure_ascii=False),
                          capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    assert [a["query"] for a in answers] == queries, "each answer names its query"
    return answers


def write_index(site: Path, pages: list[tuple[str, str, list[SearchDoc]]]) -> Path:
    index = SearchIndex()
    for url, title, docs in pages:
        index.add_docs(url, title, docs)
    index.write(site)
    return site


# --------------------------------------------------------------------------- reading a snippet back


class _Snippet(html.parser.HTMLParser):
    """A snippet read back as a browser would: its elements, and its text with marks noted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""
        self.marks: list[str] = []
        self.in_mark = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "mark":
            self.in_mark = True
            self.marks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self.in_mark = False

    def handle_data(self, data: str) -> None:
        self.text += data
        if self.in_mark:
            self.marks[-1] += data


def read_snippet(snippet: str) -> _Snippet:
    parser = _Snippet()
    parser.feed(snippet)
    parser.close()
    return parser


def sentences(text: str) -> list[str]:
    """The text's sentences as a reader takes them: ended by 。！？；(and !?;) with any closing
    quotes after, or by the end of a line (a block of the page); spaces around left out."""
    out, current, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            out.append(current)
            current = ""
        elif ch in ENDS:
            current += ch
            while i + 1 < len(text) and text[i + 1] in TAIL:
                i += 1
                current += text[i]
            out.append(current)
            current = ""
        else:
            current += ch
        i += 1
    out.append(current)
    return [s.strip() for s in out if s.strip()]


# --------------------------------------------------------------------------- the class of texts

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "&amp;lt;", "\"'><b>", "</mark><i>",
           "javascript:alert(3)", "&#60;svg&#62;"]
PIECES = ["，", "、", "：", "（", "）", "“", "”", " ", "DB33/T 2426", "iPhone", "2023年", "3.5", "*", "*万元",
          "👨‍👩‍👧", "e\u0301", "𠀀𠀁", "🇨🇳", "ab" * 10]


def han(rng: random.Random, n: int) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))


def fictional_text(rng: random.Random) -> str:
    """Several sentences and lines of fictional text: Han, Latin, numbers, emoji, combining marks,
    astral Han, markup-like text, sentences short and far longer than a snippet."""
    out = []
    for _ in range(rng.randint(1, 9)):
        sentence = []
        for _ in range(rng.choice([1, 2, 3, 6, 12, 30])):
            sentence.append(han(rng, rng.randint(1, 8)) if rng.random() < 0.7 else rng.choice(PIECES + HOSTILE))
        out.append("".join(sentence) + rng.choice(["。", "！", "？", "；", "\n", "。”", "？！", "；\n", "!", "", " "]))
    return "".join(out).strip() or han(rng, 4)


def hit_word(rng: random.Random, text: str) -> str | None:
    runs = [r for r in re.findall(r"[\u4e00-\u9fa5]{2,}", text)]
    if not runs:
        return None
    run = rng.choice(runs)
    a = rng.randrange(len(run) - 1)
    word = run[a:a + rng.randint(2, min(4, len(run) - a))]
    # Not a word every text may hold (万元 of *万元): the page must be among the first shown.
    return None if any(word in p for p in PIECES) else word


@pytest.fixture(scope="module")
def snippet_runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """One page per text, one query per page: a word from the text, sometimes with a second
    word from elsewhere in the same text."""
    rng = random.Random(14)
    texts: list[str] = []
    queries: list[str] = []
    while len(texts) < 400:
        text = fictional_text(rng)
        word = hit_word(rng, text)
        if word is None:
            continue
        second = hit_word(rng, text) if rng.random() < 0.4 else None
        texts.append(text)
        queries.append(word if second is None or second == word else f"{word} {second}")
    # Titles share nothing with the texts (U+9FA6…, unused by han()): every hit is in the text.
    site = write_index(tmp_path_factory.mktemp("snippets"),
                       [(f"p{n}/", f"\u9fa6{n}", [SearchDoc("", f"\u9fa6{n}", t)]) for n, t in enumerate(texts)])
    answers = ask_worker(site, queries)
    runs = []
    for n, (text, query, answer) in enumerate(zip(texts, queries, answers, strict=True)):
        items = [i for group in answer["items"] for i in group if i["location"] == f"p{n}/"]
        runs.append({"text": text, "query": query, "items": items})
    return runs


def test_a_snippet_is_the_sentence_around_the_hit(snippet_runs):
    shorter = cut = 0
    for run in snippet_runs:
        text, words = run["text"], run["query"].split()
        assert run["items"], run["query"]
        snippet = run["items"][0]["text"]
        m = re.fullmatch(r"<p>(…?)(.*?)(…?)</p>", snippet, re.S)
        assert m, snippet
        back = read_snippet(snippet)
        # Escaped: the only elements are the paragraph and the marks, without attributes.
        assert {tag for tag, _ in back.tags} <= {"p", "mark"} and all(not attrs for _, attrs in back.tags), snippet
        piece = back.text.removeprefix("…") if m.group(1) else back.text
        piece = piece.removesuffix("…") if m.group(3) else piece
        piece.encode("utf-8")  # no half of a surrogate pair
        # One sentence (or a piece of one): the sentence that has the most query words.
        holding = [s for s in sentences(text) if piece in s]
        assert holding, (piece, text)
        best = max(sum(w in s for w in set(words)) for s in sentences(text))
        sentence = next(s for s in sentences(text) if piece in s and sum(w in s for w in set(words)) == best)
        assert sum(w in piece for w in set(words)) >= 1, (piece, words)
        if len(sentence) <= SNIPPET:
            assert piece == sentence and not m.group(1) and not m.group(3), (piece, sentence)
            shorter += 1
        else:
            # Trimmed around its hit, … exactly where it was cut.
            assert len(piece) <= SNIPPET + 2 * SETTLE, piece
            assert bool(m.group(1)) == (not sentence.startswith(piece)), (piece, sentence)
            assert bool(m.group(3)) == (not sentence.endswith(piece)), (piece, sentence)
            cut += 1
        # Every occurrence of a query word in the snippet is marked, and only those.
        folded = [unicodedata.normalize("NFKC", w).lower() for w in words]
        assert back.marks and all(mk in folded for mk in back.marks), (back.marks, words)
        assert "".join(back.marks).count(folded[0]) <= piece.count(folded[0])
    assert shorter > 50 and cut > 50, (shorter, cut)


# --------------------------------------------------------------------------- words across sections


def filler(rng: random.Random, n: int) -> str:
    """Fictional text of Extension A characters only: it shares no character pair with the words."""
    return "".join(chr(rng.randint(0x3400, 0x4DB5)) for _ in range(n))


def fictional_words(rng: random.Random, chars: int) -> tuple[Callable[[], str], Callable[..., str]]:
    """Two-character fictional words, each drawn once, and a sentence of filler around words."""
    pool = iter(rng.sample(range(0x4E00, 0x9FA5), chars))

    def word() -> str:
        return chr(next(pool)) + chr(next(pool))

    def sentence(*words: str) -> str:
        return filler(rng, rng.randint(0, 30)) + "".join(w + filler(rng, rng.randint(1, 20)) for w in words) + "。"

    return word, sentence


@pytest.fixture(scope="module")
def across_runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Trials of two fictional words A and B, each on its own pages: some with A and B in one
    section, some with them in different sections (or one in the page's lead, or in a section
    title), some with A alone; queried as "A B", "B A" and "A X" (X on no page)."""
    rng = random.Random(16)
    word, sentence = fictional_words(rng, 20_000)

    pages: list[tuple[str, str, list[SearchDoc]]] = []
    trials = []
    for t in range(60):
        a, b, x = word(), word(), word()
        kinds = (["together"] * rng.randint(0, 2) + ["across"] * rng.randint(0 if t % 2 else 1, 3)
                 + ["alone"] * rng.randint(0, 2))
        expected: dict[str, dict[str, Any]] = {}
        for k, kind in enumerate(kinds):
            url = f"t{t}/{kind}{k}/"
            docs = [SearchDoc("", f"虚构页{t}-{k}", sentence())] + [
                SearchDoc(f"s{j}", f"虚构节{j}", sentence() + sentence()) for j in range(rng.randint(2, 5))]
            sections = docs[1:]
            if kind == "together":
                host = rng.choice(sections)
                host.text += "\n" + sentence(*rng.sample([a, b], 2))
                expected[url] = {"kind": kind, "both": host.anchor}
            elif kind == "across":
                where_a, where_b = rng.sample(docs, 2)
                if rng.random() < 0.3:
                    where_a.title += a  # in a title, not the text
                else:
                    where_a.text += sentence(a)
                where_b.text += "\n" + sentence(b)
                expected[url] = {"kind": kind, "a": where_a.anchor, "b": where_b.anchor}
            else:
                rng.choice(docs).text += sentence(a)
                expected[url] = {"kind": kind}
            pages.append((url, f"虚构页{t}-{k}", docs))
        trials.append({"a": a, "b": b, "x": x, "pages": expected})
    rng.shuffle(pages)  # build order says nothing about the kind of page
    site = write_index(tmp_path_factory.mktemp("across"), pages)
    queries = [q for tr in trials for q in (f"{tr['a']} {tr['b']}", f"{tr['b']} {tr['a']}", f"{tr['a']} {tr['x']}")]
    answers = iter(ask_worker(site, queries))
    for tr in trials:
        tr["ab"], tr["ba"], tr["ax"] = next(answers), next(answers), next(answers)
    return trials


def page_of(group: list[dict[str, Any]]) -> str:
    return group[0]["location"].split("#")[0]


def anchor_of(item: dict[str, Any]) -> str:
    return item["location"].partition("#")[2]


def test_several_words_match_across_a_pages_sections(across_runs):
    across_seen = 0
    for tr in across_runs:
        pages = tr["pages"]
        matching = {u for u, e in pages.items() if e["kind"] in ("together", "across")}
        for answer in (tr["ab"], tr["ba"]):
            found = [page_of(g) for g in answer["items"]]
            assert set(found) == matching and len(found) == len(matching), (found, pages)
            kinds = [pages[u]["kind"] for u in found]
            # Together in one section ranks above across sections.
            assert kinds == sorted(kinds, key=lambda k: k != "together"), kinds
            for group in answer["items"]:
                e = pages[page_of(group)]
                assert all(all(i["terms"].values()) for i in group), "the page has both words: none struck out"
                if e["kind"] == "together":
                    assert anchor_of(group[0]) == e["both"], "the result points at the section with both"
                    continue
                across_seen += 1
                # The sections Material shows open (scored as the first) hold both words between them.
                shown = {anchor_of(i) for i in group if i["score"] == group[0]["score"]}
                assert {e["a"], e["b"]} <= shown, (shown, e)
                marked = " ".join(i["title"] + i["text"] for i in group if anchor_of(i) in (e["a"], e["b"]))
                assert f"<mark>{tr['a']}</mark>" in marked and f"<mark>{tr['b']}</mark>" in marked
    assert across_seen > 60


def test_without_a_page_holding_every_word_the_pages_with_some_show_what_is_missing(across_runs):
    for tr in across_runs:
        found = {page_of(g): g for g in tr["ax"]["items"]}
        assert set(found) == set(tr["pages"]), "every page with A: nothing has X"
        for group in found.values():
            assert all(i["terms"] == {tr["a"]: True, tr["x"]: False} for i in group)



def test_the_section_holding_most_words_leads_its_page(tmp_path):
    """A section that holds every word leads its page even when another holds one word often
    and in its title; among sections holding as many words, the weightier leads."""
    rng = random.Random(32)
    word, sentence = fictional_words(rng, 2_000)

    pages, trials = [], []
    for t in range(40):
        a, b = word(), word()
        docs = [SearchDoc("", f"虚构页{t}", sentence())] + [
            SearchDoc(f"s{j}", f"虚构节{j}", sentence() + sentence()) for j in range(rng.randint(3, 6))]
        host, heavy = rng.sample(docs[1:], 2)
        host.text += "\n" + sentence(a, b)
        heavy.title += a
        heavy.text += "\n" + sentence(*[a] * rng.randint(4, 8))
        lead = host.anchor
        if t % 2:  # a second section with both words, and more of them: it leads instead
            rival = rng.choice([d for d in docs[1:] if d not in (host, heavy)])
            rival.text += "\n" + sentence(*[a, b] * 4)
            lead = rival.anchor
        pages.append((f"t{t}/", f"虚构页{t}", docs))
        trials.append((f"{a} {b}", lead))
    answers = ask_worker(write_index(tmp_path, pages), [q for q, _ in trials])
    for (query, lead), answer in zip(trials, answers, strict=True):
        [group] = answer["items"]
        assert anchor_of(group[0]) == lead, (query, [anchor_of(i) for i in group])


# --------------------------------------------------------------------------- in Chromium, on a real build

# Two hand-written pages (虚构) beside the fictional casebook: 直播 and 电商 in different sections of
# one, in one section of the other. The long sentence is far longer than a snippet.
ACROSS_PAGE = """# 虚构检索样页

本页内容均为虚构，仅供检索测试。

## 虚构直播 {#live}

虚构的村播团队每周开展两场直播，向游客介绍山货。按虚构的 DB33/T 9999 规程，团队在村口的旧礼堂里搭起三个直播间，白天拍摄采茶与制茶的过程，晚上集中答复网友关于价格和邮寄的询问，再把订单交给合作社统一打包发货。

- 虚构术语甲
- 虚构术语乙

## 虚构销售 {#sales}

线上店铺由虚构合作社运营，电商渠道覆盖全国。
"""
TOGETHER_PAGE = """# 虚构合一样页

本页内容均为虚构，仅供检索测试。

## 虚构中心 {#centre}

虚构的直播电商中心在镇上落成。
"""


@pytest.fixture(scope="module")
def fictional_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sitebuild import build_project, make_project

    tmp = tmp_path_factory.mktemp("search-pages")
    cases = tmp / "cases"
    shutil.copytree(Path(__file__).parent / "fixtures" / "fictional", cases)
    project = make_project(tmp, cases)
    (project / "content" / "search-across.md").write_text(ACROSS_PAGE, encoding="utf-8")
    (project / "content" / "search-together.md").write_text(TOGETHER_PAGE, encoding="utf-8")
    return build_project(project)


@pytest.fixture(scope="module")
def fictional_base(fictional_site: Path):
    from browser_support import serve_directory

    with serve_directory(fictional_site) as url:
        yield url


def open_search(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    watch_search(page)
    page.goto(url)
    page.click(Q)
    page.wait_for_function("() => !/初始化/.test(document.querySelector('.md-search-result__meta').textContent)",
                           timeout=20_000)
    return page


def type_query(page, text: str) -> None:
    page.fill(Q, "")
    page.dispatch_event(Q, "keyup")
    wait_for_search(page, "")
    page.focus(Q)
    page.keyboard.type(text, delay=15)
    wait_for_search(page, text)


# Each drawn result: its page, and each section as Material drew it — open (a teaser with its
# snippet) or folded into "more" — with the snippet's text and marks.
DRAWN = """() => [...document.querySelectorAll('.md-search-result__item')].map(li => ({
  page: new URL(li.querySelector('a').href).pathname,
  sections: [...li.querySelectorAll('a')].map(a => ({
    anchor: new URL(a.href).hash.slice(1),
    folded: !!a.closest('details'),
    title: a.querySelector('h1, h2').textContent,
    snippet: [...a.querySelectorAll('article > p:not(.md-search-result__terms)')].map(p => p.textContent).join(''),
    marks: [...a.querySelectorAll('article > p mark')].map(m => m.textContent),
    missing: [...a.querySelectorAll('.md-search-result__terms')].map(p => p.textContent),
  })),
}))"""

HINT_STATE = """() => { const el = document.querySelector('.cb-search-hint'); const r = el.getBoundingClientRect();
  return {text: el.textContent, role: el.getAttribute('role'), live: el.getAttribute('aria-live'),
          visible: r.height > 0 && getComputedStyle(el).visibility !== 'hidden',
          items: document.querySelectorAll('.md-search-result__item').length,
          meta: document.querySelector('.md-search-result__meta').textContent.trim()}; }"""


@pytest.fixture(scope="module")
def fictional_search(browser, fictional_base):
    page = open_search(browser, fictional_base)
    yield page
    assert page.errors == []
    page.close()


def test_a_result_shows_the_sentence_around_the_hit(fictional_search):
    type_query(fictional_search, "直播")
    drawn = {r["page"]: r for r in fictional_search.evaluate(DRAWN)}
    live = next(s for s in drawn["/search-across/"]["sections"] if s["anchor"] == "live")
    # The first sentence with the word, whole; not the section's list of terms run together.
    assert live["snippet"] == "虚构的村播团队每周开展两场直播，向游客介绍山货。", live
    assert live["marks"] == ["直播"] and "虚构术语" not in live["snippet"]


def test_a_long_sentence_is_cut_around_its_hit(fictional_search):
    type_query(fictional_search, "旧礼堂")
    drawn = {r["page"]: r for r in fictional_search.evaluate(DRAWN)}
    live = next(s for s in drawn["/search-across/"]["sections"] if s["anchor"] == "live")
    snippet = live["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…") and 40 <= len(snippet) <= SNIPPET + 2 * SETTLE + 2
    assert "旧礼堂" in snippet and live["marks"] == ["旧礼堂"]
    assert snippet.strip("…") in ACROSS_PAGE and "DB33/T 9999" in snippet, "a Latin word is not cut in two"


@pytest.mark.parametrize("query", ["直播 电商", "电商 直播"])
def test_words_in_different_sections_find_the_page(fictional_search, query):
    type_query(fictional_search, query)
    drawn = fictional_search.evaluate(DRAWN)
    pages = [r["page"] for r in drawn]
    assert "/search-across/" in pages and "/search-together/" in pages
    assert pages.index("/search-together/") < pages.index("/search-across/"), "in one section ranks higher"
    together = drawn[pages.index("/search-together/")]["sections"]
    assert [s["anchor"] for s in together if not s["folded"]][:2] == ["", "centre"]
    across = drawn[pages.index("/search-across/")]["sections"]
    shown = {s["anchor"]: s for s in across if not s["folded"]}
    # Both sections open, each with its sentence and word; nothing struck out: the page has both.
    assert {"live", "sales"} <= set(shown), across
    assert "直播" in shown["live"]["marks"] and "电商" in shown["sales"]["marks"]
    assert not any(s["missing"] for s in across)


@pytest.mark.parametrize("query", ["gongfu", "abc", "zz 2099", "***"])
def test_a_query_without_chinese_that_finds_nothing_gets_a_hint(fictional_search, query):
    type_query(fictional_search, query)
    state = fictional_search.evaluate(HINT_STATE)
    assert state == {"text": HINT, "role": "status", "live": "polite", "visible": True, "items": 0,
                     "meta": "没有找到符合条件的结果"}, state
    # Chinese typed after it: the hint goes as soon as the query has a Han character.
    type_query(fictional_search, "直播")
    state = fictional_search.evaluate(HINT_STATE)
    assert state["text"] == "" and not state["visible"] and state["items"] > 0


def test_a_latin_word_the_site_holds_finds_it_without_a_hint(fictional_search):
    type_query(fictional_search, "db33")
    state = fictional_search.evaluate(HINT_STATE)
    assert state["items"] > 0 and state["text"] == "" and not state["visible"], state
    assert any(r["page"] == "/search-across/" for r in fictional_search.evaluate(DRAWN))


def test_search_results_and_hint_are_accessible(fictional_search):
    """axe over the open search: results with snippets, and the hint. Material's own result count
    (.md-search-result__meta, its grey on grey) is left to Material."""
    from browser_support import AXE

    fictional_search.add_script_tag(path=str(AXE))
    for query in ("直播 电商", "gongfu"):
        type_query(fictional_search, query)
        result = fictional_search.evaluate(
            "async () => await axe.run({include: [['.md-search']], exclude: [['.md-search-result__meta']]},"
            " {resultTypes: ['violations']})")
        serious = [(v["id"], [n["target"] for n in v["nodes"]][:3])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, (query, serious)


def test_from_disk_snippets_hint_and_result_links(browser, fictional_site):
    page = open_search(browser, (fictional_site / "index.html").as_uri())
    type_query(page, "gongfu")
    assert page.evaluate(HINT_STATE)["text"] == HINT
    type_query(page, "直播 电商")
    drawn = page.evaluate(DRAWN)
    assert [s for r in drawn for s in r["sections"] if s["anchor"] == "sales" and "电商" in s["marks"]]
    assert results_report(page, fictional_site.as_uri() + "/")["bad"] == []
    link = page.locator(".md-search-result__item a[href*='search-across']").first
    with page.expect_navigation():
        link.click()
    assert page.url.split("?")[0].split("#")[0].endswith("/search-across/index.html"), page.url
    assert page.errors == []
    page.close()


def test_split_page_keeps_blocks_as_lines():
    """What snippets are cut from: a block a line, inline markup adding no space between Chinese
    characters, table cells side by side, markup-like text kept as text."""
    docs = split_page("虚构", "<p>第一段<a href='#'>链接</a>、<q>引语</q>。</p><ul><li>术语甲</li><li>术语乙</li></ul>"
                             "<table><tr><th>名称</th><td>虚构&lt;script&gt;</td></tr></table><p>末行<br>下一行</p>")
    assert docs[0].text == "第一段链接、引语。\n术语甲\n术语乙\n名称 虚构<script>\n末行\n下一行"


def test_a_title_hit_shows_the_sections_first_sentence_not_a_header_row(tmp_path):
    """The word only in a section's title: its snippet is the first line that reads as a sentence
    (a table's header row, a run of terms, is passed over); with no such line, the first line."""
    rows = "指标 单位 定义 方向\n虚构指标 人次"
    site = write_index(tmp_path, [("p/", "虚构页", [SearchDoc("", "虚构页", "虚构导语。"),
                                                   SearchDoc("a", "虚构游客", rows + "\n虚构说明第一句。第二句。"),
                                                   SearchDoc("b", "虚构游客表", rows)])])
    (answer,) = ask_worker(site, ["游客"])
    snippets = {anchor_of(i): i["text"] for group in answer["items"] for i in group}
    assert snippets["a"] == "<p>虚构说明第一句。</p>"
    assert snippets["b"] == "<p>指标 单位 定义 方向</p>"
