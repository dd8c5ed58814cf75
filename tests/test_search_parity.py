"""The two halves of search agree: Python (casebook.search) writes the index, the browser worker
(assets/worker/search.js) reads it. If they disagree on a query's terms, their normalisation or the
hash that picks a shard, a word that is in the index is silently not found.

The worker runs unmodified in Node's ``vm`` (one process for the whole corpus, JSON over
stdin/stdout), once driven through its real message protocol, and once with a hook appended inside
its IIFE so ``parse``/``termHash``/``normalise`` can be called directly. The corpus is a seeded
class of strings (虚构 test data): Han of every range the index knows, Latin, numbers, full-width
forms, punctuation, emoji, combining marks, Material's separators, words JavaScript objects already
carry (constructor…), and the real domain words of cases/.

Characters are drawn only from those Python's ``unicodedata`` knows (assigned in its Unicode
version): the browser may know a newer Unicode, and a character assigned after Python's version can
fold differently there (e.g. U+1CCD6 OUTLINED LATIN CAPITAL LETTER A, Unicode 16, folds to "a" in a
new browser only). Decompositions of assigned characters never change, so on this class the two
halves must agree exactly.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from casebook.search import SEPARATOR, SearchDoc, SearchIndex, index_terms, query_terms, term_hash

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "generator" / "casebook" / "assets" / "worker" / "search.js"
NODE = shutil.which("node") or "/usr/bin/node"
SHARDS = 64  # the empty-index run: the shard a term is looked up in must be term_hash % SHARDS
REAL_PAGES = 900  # pages of the real-index run: under the worker's 1000 result groups, so none is cut
HOOK = "self.__cbTest = { parse: parse, termHash: termHash, normalise: normalise };\n"

# Runs in Node. Input: {worker, probe, site, queries, direct, real, shards}. Output: one JSON object.
HARNESS = r"""
"use strict";
const vm = require("vm"), fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const ORIGIN = "http://casebook.invalid";

/* A worker global: just what search.js touches (self, location, importScripts, postMessage,
   addEventListener, URL, console); everything else is the context's own JavaScript. */
function worker(source, importer) {
  const g = { URL: URL, console: console };
  g.self = g;
  g.location = { href: ORIGIN + "/assets/casebook/worker/search.js" };
  g.addEventListener = function (type, fn) { if (type === "message") g.listener = fn; };
  g.postMessage = function (m) { g.reply(m); };
  g.importScripts = function (url) { return importer(g, url); };
  vm.createContext(g);
  vm.runInContext(source, g, { filename: "search.js" });
  return g;
}

function ask(g, message) {
  return new Promise(function (resolve) { g.reply = resolve; g.listener({ data: message }); });
}

function plain(value) { return JSON.parse(JSON.stringify(value)); }

async function main() {
  const out = {};

  /* 1. The inner functions, called directly. */
  const probe = worker(input.probe, function () { throw new Error("no index in the probe"); });
  const t = probe.__cbTest;
  out.parse = input.queries.map(function (q) {
    return plain(t.parse(q).map(function (w) { return [w.word, w.terms, w.han]; }));
  });
  out.hash = {};
  input.direct.forEach(function (s) { out.hash[s] = t.termHash(s); });
  out.parse.forEach(function (words) {
    words.forEach(function (w) { w[1].forEach(function (term) { out.hash[term] = t.termHash(term); }); });
  });
  out.normalise = input.queries.map(function (q) { return t.normalise(q); });

  /* 2. The unmodified worker over an index that holds nothing: every lookup is recorded (shard and
     term), and every query must find nothing. Shard objects are made inside the worker's realm,
     as the real shard scripts make them. */
  let log = [], urls = [];
  const empty = worker(input.worker, function (g, url) {
    urls.push(url);
    const path = new URL(url).pathname;
    let m;
    if (path === "/search/pages.js") {
      g.__cbPages(vm.runInContext("[1]", g));
    } else if ((m = /^\/search\/titles\/(\d+)\.js$/.exec(path))) {
      g.__cbTitles(Number(m[1]), vm.runInContext('[["fiction/", "虚构", [["", "虚构"]]]]', g));
    } else if ((m = /^\/search\/shards\/(\d+)\.js$/.exec(path))) {
      const n = Number(m[1]);
      /* However the worker asks (obj[key], key in obj, hasOwnProperty), the key is recorded. */
      const note = function (key) { if (typeof key === "string") log.push([n, key]); };
      g.__cbShard(n, new Proxy(vm.runInContext("({})", g), {
        get: function (target, key, receiver) { note(key); return Reflect.get(target, key, receiver); },
        has: function (target, key) { note(key); return Reflect.has(target, key); },
        getOwnPropertyDescriptor: function (target, key) {
          note(key);
          return Reflect.getOwnPropertyDescriptor(target, key);
        }
      }));
    } else if ((m = /^\/search\/text\/(\d+)\.js$/.exec(path))) {
      g.__cbText(Number(m[1]), vm.runInContext('({"0": ""})', g));
    } else throw new Error("unexpected load " + url);
  });
  await ask(empty, { type: 0, data: { config: { casebook: { shards: input.shards, titles: 1, stamp: "x" } } } });
  out.empty = [];
  for (const q of input.queries) {
    log = []; urls = [];
    const reply = await ask(empty, { type: 2, data: q });
    out.empty.push({ lookups: log, urls: urls, type: reply.type, items: plain(reply.data.items) });
  }

  /* 3. The unmodified worker over a real index written by casebook.search, files loaded from disk. */
  const real = worker(input.worker, function (g, url) {
    const path = new URL(url).pathname.replace(/^\/search\//, "");
    vm.runInContext(fs.readFileSync(input.site + "/search/" + path, "utf8"), g, { filename: path });
  });
  const manifest = JSON.parse(fs.readFileSync(input.site + "/search/search_index.json", "utf8"));
  await ask(real, { type: 0, data: manifest });
  out.real = [];
  for (const q of input.real) {
    const reply = await ask(real, { type: 2, data: q });
    out.real.push(plain(reply.data.items).map(function (group) {
      return group.map(function (item) { return item.location; });
    }));
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch(function (e) { console.error(e && e.stack || e); process.exit(1); });
"""


def _assigned(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cn", "Cs")


def _pick(rng: random.Random, lo: int, hi: int) -> str:
    while True:
        ch = chr(rng.randint(lo, hi))
        if _assigned(ch):
            return ch


def _domain_words() -> list[str]:
    from casebook.derive import domain_terms
    from casebook.validate import load_casebook

    book, errors = load_casebook(ROOT / "cases")
    assert not errors
    words = domain_terms(book)
    assert len(words) > 100
    return words


# Words every JavaScript object already has (lower case, as queries are folded): a worker that
# looks them up in a plain object finds the prototype's member instead of "not indexed".
PROTOTYPE_WORDS = ["constructor", "__proto__", "prototype", "tostring", "valueof", "hasownproperty",
                   "isprototypeof", "propertyisenumerable", "tolocalestring", "__definegetter__", "length"]
# Material's separator, as characters (the regular expression's classes spelled out).
SEPARATORS = [" ", "\t", "\n", "\u3000", "\u00a0", "\u200b", "-", "_", ",", ":", "!", "=", "[", "]", "(", ")",
              '"', "`", "/", ".", "&lt;", "&gt;"]
PUNCTUATION = list("，。、；：？！“”‘’（）【】《》〈〉「」『』…—·～＊＃％＆＠＋－＝｜＼／") + list("!?;'\"#$%&*+<>@\\^{|}~")
FOLDING = ["ＡＢＣ１２", "ｃａｓｅ", "①②③", "Ⅻ", "ﬁﬂ", "x²", "㎏", "㈱", "Ｋ", "K", "Å", "İstanbul", "ß", "ẞ",
           "ǅ", "ΑΣ", "ﾊﾟ", "３．５", "１，２００", "㊙", "〇", "豈", "兀", "﨎", "𠀀", "𪚥", "𰀀"]
EMOJI = ["😀", "🌾", "👍🏽", "👨‍👩‍👧", "🇨🇳", "❤️", "1️⃣", "#️⃣", "🧑‍🌾"]
COMBINING = ["\u0301", "\u0308", "\u0323", "\u0302\u0323", "\u20e3", "\u3099", "\u302a", "\ufe0f"]


def _atom(rng: random.Random, domain: list[str]) -> str:
    kind = rng.randrange(16)
    if kind == 0:
        return "".join(_pick(rng, 0x4E00, 0x9FFF) for _ in range(rng.randint(1, 6)))
    if kind == 1:  # rare: extension A, B (surrogate pairs in JavaScript), C–G, compatibility ideographs
        lo, hi = rng.choice([(0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2EBEF), (0x30000, 0x3134F),
                             (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])
        return "".join(_pick(rng, lo, hi) for _ in range(rng.randint(1, 4)))
    if kind == 2:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
                       for _ in range(rng.choice([1, 2, 3, 5, 8, 15, 16, 17, 24])))
    if kind == 3:
        return rng.choice([str(rng.randint(0, 10**rng.randint(1, 20))), f"{rng.randint(0, 99)}.{rng.randint(0, 99)}",
                           f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}", "3.5", "1,200", "0.5%"])
    if kind == 4:
        return "".join(chr(ord(c) + 0xFEE0) for c in rng.choice(["ABC12", "abc", "2023", "3.5", "Ok"]))
    if kind == 5:
        return rng.choice(PUNCTUATION) * rng.randint(1, 2)
    if kind == 6:
        return rng.choice(["*", "**", "*万元", "约*", "*%"])
    if kind == 7:
        return rng.choice(EMOJI)
    if kind == 8:
        return rng.choice(["e", "a", "共", "z", "1"]) + rng.choice(COMBINING)
    if kind == 9:
        return rng.choice(SEPARATORS)
    if kind == 10:
        return rng.choice(domain)
    if kind == 11:
        return rng.choice(PROTOTYPE_WORDS)
    if kind == 12:
        return rng.choice(FOLDING)
    if kind == 13:
        return rng.choice(["CamelCase", "iPhone", "WiFi6", "GDP增长", "共富贷2023", "USB-C", "e-mail", "COVID19"])
    if kind == 14:  # anything assigned, anywhere
        return _pick(rng, 0x20, rng.choice([0x7FF, 0xFFFF, 0x3134F]))
    return rng.choice(domain) + rng.choice(["", " ", "、", "和"]) + rng.choice(domain)


def corpus(n: int = 3000) -> list[str]:
    rng = random.Random(11)
    domain = _domain_words()
    out = list(domain) + PROTOTYPE_WORDS + FOLDING + ["", " ", "*", "两进两回", "四带共富", "共富贷"]
    while len(out) < n:
        parts = [_atom(rng, domain) for _ in range(rng.randint(1, 7))]
        glue = rng.choice(["", " ", "", rng.choice(SEPARATORS)])
        out.append(glue.join(parts))
    return out


def han_runs(text: str) -> list[str]:
    norm = unicodedata.normalize("NFKC", text).lower()
    han = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
    return han.findall(norm)


def typed_queries(texts: list[str]) -> list[tuple[int, str]]:
    """What a reader types to find a text: the text, each of its space-separated pieces, and a
    slice of each Han run in it (any Chinese substring is findable). (text number, query)."""
    rng = random.Random(12)
    out = []
    for n, text in enumerate(texts):
        out.append((n, text))
        out.extend((n, piece) for piece in text.split())
        for run in han_runs(text):
            a = rng.randrange(len(run))
            out.append((n, run[a:rng.randint(a + 1, len(run))]))
    return out


def run_node(payload: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([NODE, "-e", HARNESS], input=json.dumps(payload, ensure_ascii=False), capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def probe_source(source: str) -> str:
    """The worker with the hook appended inside its IIFE, so the hook sees its inner functions."""
    end = source.rstrip().rfind("})();")
    assert end != -1 and source.rstrip().endswith("})();"), "search.js is no longer one IIFE ending in })();"
    return source[:end] + HOOK + source[end:]


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not Path(NODE).exists():
        pytest.fail("the parity test needs Node.js (apt-get install nodejs)")
    texts = corpus()
    typed = typed_queries(texts)
    queries = texts + [q for _, q in typed]
    # A real index: one page per text, written by casebook.search as a build writes it.
    site = tmp_path_factory.mktemp("parity-site")
    index = SearchIndex()
    pages = [t for t in texts if query_terms(t)][:REAL_PAGES]
    for n, text in enumerate(pages):
        index.add_docs(f"p{n}/", f"虚构页{n}", [SearchDoc("", f"虚构页{n}", text)])
    written = index.write(site)
    source = WORKER.read_text(encoding="utf-8")
    out = run_node({"worker": source, "probe": probe_source(source), "site": str(site), "queries": queries,
                    "direct": texts, "real": pages, "shards": SHARDS})
    return {"texts": texts, "typed": typed, "queries": queries, "pages": pages, "written": written, **out}


def test_the_corpus_is_the_class_it_claims(parity):
    texts = parity["texts"]
    assert len(texts) >= 3000
    joined = "".join(texts)
    assert any(ord(c) >= 0x20000 for c in joined), "astral Han (surrogate pairs in JavaScript)"
    for needle in ["两进两回", "四带共富", "共富贷", "constructor", "\u200b", "&lt;", "*", "ＡＢＣ１２", "\u0301", "👨‍👩‍👧"]:
        assert needle in joined, needle
    assert all(re.fullmatch(SEPARATOR, sep) for sep in SEPARATORS), "each is a separator of search.SEPARATOR"
    assert parity["written"]["shards"] > 1, "the real index spans several shards, so shard choice is exercised"


def test_query_terms_are_the_same(parity):
    """Same words, same order, same terms per word (parse() keeps a repeated word once; so does
    query_terms). Han words are marked as such in JavaScript exactly when they are Han runs."""
    mismatches = []
    for q, js in zip(parity["queries"], parity["parse"], strict=True):
        if [terms for _, terms, _ in js] != query_terms(q):
            mismatches.append((q, js, query_terms(q)))
        for word, _, han in js:
            assert han == (word in han_runs(q)), (q, word)
    assert not mismatches, mismatches[:10]


def test_normalisation_is_the_same(parity):
    for q, js in zip(parity["queries"], parity["normalise"], strict=True):
        assert js == unicodedata.normalize("NFKC", q).lower(), q


def test_hashes_are_the_same(parity):
    assert len(parity["hash"]) > 5_000
    wrong = {s: (h, term_hash(s)) for s, h in parity["hash"].items() if h != term_hash(s)}
    assert not wrong, list(wrong.items())[:10]


def test_what_is_typed_is_among_what_was_indexed(parity):
    texts = parity["texts"]
    by_query = dict(zip(parity["queries"], parity["parse"], strict=True))
    for n, q in parity["typed"]:
        indexed = index_terms(texts[n])
        for word, terms, _ in by_query[q]:
            assert set(terms) <= indexed, (texts[n], q, word, set(terms) - indexed)


def test_the_worker_looks_each_term_up_in_its_shard_and_finds_nothing_unindexed(parity):
    """Through the real protocol: the worker loads the shard term_hash % shards of every term and
    looks the term up there (and nothing else); over an index that holds nothing, nothing is found
    — including words every JavaScript object carries (constructor)."""
    for q, run in zip(parity["queries"], parity["empty"], strict=True):
        expected = [t for word in query_terms(q) for t in word]
        assert {(n, t) for n, t in run["lookups"]} == {(term_hash(t) % SHARDS, t) for t in expected}, q
        shards = {int(m.group(1)) for u in run["urls"] if (m := re.search(r"/shards/(\d+)\.js\?", u))}
        assert shards <= {term_hash(t) % SHARDS for t in expected}, q
        assert run["type"] == 3 and run["items"] == [], q


def test_every_indexed_page_is_found_by_its_own_text(parity):
    """A real index written by casebook.search, read by the real worker: each page's text, typed
    as a query, returns that page."""
    for n, (text, groups) in enumerate(zip(parity["pages"], parity["real"], strict=True)):
        pages = {location.split("#")[0] for group in groups for location in group}
        assert f"p{n}/" in pages, (text, sorted(pages)[:5])
