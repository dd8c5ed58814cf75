"""Chinese full-text search that stays fast at province scale: a chunked index of character n-grams.

Material's own search loads one lunr index of the whole site into the browser and builds it there:
24 MB and 7 s before the first result at a thousand clusters. This index is cut into pieces instead:

- every page is split into documents at its headings (as Material does); each document's text is
  kept as plain lines (one per paragraph, list item, table row…, so a result's snippet is a
  sentence, never a run of list items) and reduced to index terms — every Han character and character pair, and the prefixes of Latin words
  and numbers — so any Chinese substring of the text can be found (核桃 in 山核桃, 共富贷 whole)
  without a word list;
- term → documents lists are spread over shard files by a hash of the term, so a query loads only
  the few shards its own terms live in; with the first query, how many documents each page has (a
  few bytes a page); the titles (a page's URL and title, and its sections' anchors and titles) in
  files of consecutive pages, only those of the pages found; each page's text only when that page
  is among the results shown (for the snippet and the exact-phrase check);
- every file is a script calling a loader function, so it also loads from disk (file://), where
  fetching JSON is not allowed.

The browser half is ``assets/worker/search.js``: it speaks the protocol of Material's search worker,
so Material's search box, result list and keyboard handling are unchanged. Term rules and the hash
are implemented twice (here and there) and must agree; tests search the built site in Chromium.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store import Store, code_digest, content_hash, write_atomic

INDEX_VERSION = 2
SHARD_TARGET_BYTES = 48_000  # about one small request per query term
TITLES_TARGET_BYTES = 24_000  # a file of titles: a few dozen pages …
TITLES_MAX_FILES = 16  # … but no more files than this: a broad query needs the titles of every page it finds
MAX_TEXT = 20_000  # characters of a document's text kept for snippets

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_WORD = re.compile(r"[0-9a-z]+")
_HEADING = re.compile(r"<h([1-6])(\s[^>]*)?>(.*?)</h\1>", re.S | re.I)
_ID = re.compile(r'\sid="([^"]+)"')
_PERMALINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)
_TAG = re.compile(r"<[^>]+>")
# Where a line of text ends: a block's start or end (paragraph, list item, row, heading…). Snippets
# are cut at line ends as at sentence ends, so a list of terms never reads as one sentence.
_BLOCK = re.compile(r"</?(?:p|li|dt|dd|tr|h[1-6]|div|section|article|header|footer|aside|nav|main|table|thead|tbody"
                    r"|tfoot|caption|ul|ol|dl|blockquote|figure|figcaption|details|summary|pre|br|hr|form|fieldset)"
                    r"(?=[\s/>])[^>]*>", re.I)
# Table cells sit side by side: a space between them. Every other tag is inline and adds nothing
# (a space there would split 高山蔬菜、稻米 into "高山蔬菜 、 稻米").
_CELL = re.compile(r"</?t[dh](?=[\s/>])[^>]*>", re.I)
_SPACE = re.compile(r"\s+")
# Material's separator, kept in the index's config: its page highlighter (?h=…) splits on it.
SEPARATOR = r"[\s\u200b\-_,:!=\[\]()\"`/]+|\.(?!\d)|&[lg]t;|(?!\b)(?=[A-Z][a-z])"


def index_terms(text: str) -> set[str]:
    """The terms a text is found by: Han unigrams and bigrams, Latin/number word prefixes (≥2)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    out: set[str] = set()
    for run in _HAN.findall(norm):
        out.update(run)
        out.update(map(str.__add__, run, run[1:]))  # every character pair
    for word in _WORD.findall(norm):
        if len(word) == 1:
            out.add(word)
        out.update(word[:k] for k in range(2, min(len(word), 16) + 1))
    return out


def query_terms(query: str) -> list[list[str]]:
    """For each word of a query, the index terms a document needs to match it (as the worker's
    parse(): a Han run needs its pairs, or itself if one character; a Latin word its prefix; a
    repeated word counts once, where it first occurs)."""
    norm = unicodedata.normalize("NFKC", query).lower()
    han = dict.fromkeys(_HAN.findall(norm))  # dict, not set: ordered as typed
    latin = dict.fromkeys(_WORD.findall(_HAN.sub(" ", norm)))
    words = [[run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)] for run in han]
    words += [[w[:16]] for w in latin]
    return words


def term_hash(term: str) -> int:
    """FNV-1a over code points (32 bit); the worker computes the same with Math.imul."""
    h = 2166136261
    for ch in term:
        h = ((h ^ ord(ch)) * 16777619) & 0xFFFFFFFF
    return h


def _lines(fragment: str) -> list[str]:
    """A fragment's text, one entry per block (paragraph, list item, table row…), spaces folded.
    Tags go before entities are decoded: decoded text (&lt;script&gt;) is never read as markup."""
    text = _TAG.sub("", _CELL.sub(" ", _BLOCK.sub("\n", fragment)))
    lines = (_SPACE.sub(" ", line).strip() for line in html.unescape(text).split("\n"))
    return [line for line in lines if line]


def _plain(fragment: str) -> str:
    """A fragment's text on one line (titles)."""
    return " ".join(_lines(fragment))


def _plain_text(fragment: str) -> str:
    """A document's text: its blocks one per line, as the worker cuts snippets from them."""
    return "\n".join(_lines(fragment))


@dataclass
class SearchDoc:
    anchor: str  # "" for the page itself
    title: str
    text: str


def split_page(title: str, content: str) -> list[SearchDoc]:
    """A page's documents: the page (title, text before the first sub-heading) and one per heading
    with an id, each with the text up to the next such heading."""
    docs = [SearchDoc("", title, "")]
    pos = 0
    current = docs[0]
    for m in _HEADING.finditer(content):
        ident = _ID.search(m.group(2) or "")
        if not ident:
            continue
        current.text += " " + content[pos:m.start()]
        pos = m.end()
        if m.group(1) == "1":
            continue  # the page title: its text belongs to the page document
        current = SearchDoc(html.unescape(ident.group(1)), _plain(_PERMALINK.sub("", m.group(3))), "")
        docs.append(current)
    current.text += " " + content[pos:]
    for doc in docs:
        doc.text = _plain_text(doc.text)[:MAX_TEXT]
    return docs


def page_documents(url: str, title: str, content: str) -> tuple[str, str, list[SearchDoc]]:
    """A built page as the index takes it: (url, plain title, documents)."""
    plain = _plain(title)
    return url, plain, split_page(plain, content)


def docs_to_json(entry: tuple[str, str, list[SearchDoc]]) -> list[Any]:
    url, title, docs = entry
    return [url, title, [[d.anchor, d.title, d.text] for d in docs]]


def docs_from_json(data: list[Any]) -> tuple[str, str, list[SearchDoc]]:
    url, title, docs = data
    return url, title, [SearchDoc(*d) for d in docs]


@dataclass
class SearchIndex:
    """Pages in build order; written out by :meth:`write`."""

    pages: list[tuple[str, str, list[SearchDoc]]] = field(default_factory=list)
    store: Store = field(default_factory=lambda: Store(None))

    def _terms(self, docs: list[SearchDoc]) -> list[tuple[list[str], list[str]]]:
        """Each document's terms: those in its title, and those only in its text. Remembered by
        the documents' content, so a rebuild re-reads only pages that changed."""
        key = content_hash(json.dumps([[d.title, d.text] for d in docs], ensure_ascii=False), code_digest())
        cached = self.store.get_text("terms", key)
        if cached is not None:
            return [tuple(part.split("\x1f") if part else [] for part in doc.split("\x1e"))  # type: ignore[misc]
                    for doc in cached.split("\x1d")] if docs else []
        out = []
        for doc in docs:
            in_title = index_terms(doc.title)
            out.append((sorted(in_title), sorted(index_terms(doc.text) - in_title)))
        self.store.put("terms", key, "\x1d".join("\x1f".join(a) + "\x1e" + "\x1f".join(b) for a, b in out))
        return out

    def add_docs(self, url: str, title: str, docs: list[SearchDoc]) -> None:
        self.pages.append((url, title, docs))

    def write(self, site_dir: Path, previous: dict[str, str] | None = None,
              linked: set[str] | None = None) -> dict[str, Any]:
        """Write search/ (manifest, titles, shards, texts). ``previous``: the file hashes the last
        build recorded, for files already in ``site_dir`` or (``linked``: names under search/) to be
        linked into it from the published site after the build (an incremental build); those
        unchanged are not written. Returns sizes, the new hashes and the names of all files."""
        previous, linked = previous or {}, linked or set()
        out = site_dir / "search"
        out.mkdir(parents=True, exist_ok=True)
        counts: list[int] = []  # documents of each page, in page order: page p's are numbered on from the sum before it
        titles: list[list[Any]] = []  # [url, title, [[anchor, title], ...]] by page
        texts: list[dict[int, str]] = []
        postings: dict[str, list[int]] = {}
        doc_no = 0
        for url, title, docs in self.pages:
            counts.append(len(docs))
            titles.append([url, title, [[doc.anchor, doc.title] for doc in docs]])
            page_texts: dict[int, str] = {}
            for doc, (in_title, in_text) in zip(docs, self._terms(docs), strict=True):
                page_texts[doc_no] = doc.text
                # doc number and a title flag in one integer; lists stay sorted by document
                for term in in_title:
                    postings.setdefault(term, []).append(doc_no * 2 + 1)
                for term in in_text:
                    postings.setdefault(term, []).append(doc_no * 2)
                doc_no += 1
            texts.append(page_texts)
        self.store.commit()
        total = sum(len(t) + 4 * len(p) for t, p in postings.items())
        shards = 1 << max(0, math.ceil(math.log2(max(total / SHARD_TARGET_BYTES, 1))))
        buckets: list[dict[str, list[int]]] = [{} for _ in range(shards)]
        for term, plist in sorted(postings.items()):  # sorted: the same casebook gives the same files
            deltas, prev = [], 0
            for value in plist:
                deltas.append(value - prev)
                prev = value
            buckets[term_hash(term) % shards][term] = deltas
        stamp = hashlib.sha256()
        files: dict[str, str] = {}
        for n, bucket in enumerate(buckets):
            files[f"shards/{n}.js"] = f"__cbShard({n},{_json(bucket)});"
        files["pages.js"] = f"__cbPages({_json(counts)});"
        # Titles in files of consecutive pages, as many a file as make about TITLES_TARGET_BYTES, in
        # at most TITLES_MAX_FILES files (at 10,000 clusters a query found on most pages asked for
        # 86 files, queued six at a time by the browser: 0.5 s of its first result).
        size = sum(len(_json(t)) for t in titles)
        n_files = min(TITLES_MAX_FILES, max(1, math.ceil(size / TITLES_TARGET_BYTES)))
        per_file = max(1, math.ceil(len(titles) / n_files))
        for n in range(0, max(len(titles), 1), per_file):
            files[f"titles/{n // per_file}.js"] = f"__cbTitles({n // per_file},{_json(titles[n:n + per_file])});"
        for n, page_texts in enumerate(texts):
            files[f"text/{n}.js"] = f"__cbText({n},{_json(page_texts)});"
        for name in sorted(files):
            stamp.update(name.encode() + files[name].encode("utf-8"))
        hashes = {name: hashlib.sha256(body.encode("utf-8")).hexdigest()[:20] for name, body in files.items()}
        for folder in ("shards", "text", "titles"):
            if (out / folder).is_dir():
                for old in (out / folder).iterdir():
                    if f"{folder}/{old.name}" not in files:
                        old.unlink()
        for name, body in files.items():
            path = out / name
            if previous.get(name) == hashes[name] and (name in linked or path.is_file()):
                continue  # written by the build this one continues, and unchanged
            path.parent.mkdir(parents=True, exist_ok=True)
            # A BOM, so the scripts read as UTF-8 however they are loaded (worker, or <script> on file://)
            write_atomic(path, ("\ufeff" + body).encode("utf-8"))
        manifest: dict[str, Any] = {
            "config": {
                "lang": ["zh"], "separator": SEPARATOR, "pipeline": [],
                "casebook": {"version": INDEX_VERSION, "shards": shards, "docs": doc_no,
                             "pages": len(titles), "titles": per_file, "stamp": stamp.hexdigest()[:12]},
            },
            "docs": [],
        }
        body = _json(manifest)
        # Replaced, never rewritten in place: in an incremental build these may be hard links to the
        # published site's files until the swap.
        write_atomic(out / "search_index.json", body.encode("utf-8"))
        # Material's bundle loads this script instead of fetching the JSON when the site is on disk.
        write_atomic(out / "search_index.js", ("\ufeffvar __index = " + body + ";").encode("utf-8"))
        return {"shards": shards, "docs": doc_no, "stamp": manifest["config"]["casebook"]["stamp"],
                "hashes": hashes, "files": set(files),
                "bytes": sum(len(b.encode("utf-8")) for b in files.values())}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_MATERIAL_WORKER = re.compile(r'"search": "([^"]*?)assets/javascripts/workers/search\.[0-9a-f]+\.min\.js"')
WORKER = "assets/casebook/worker/search.js"
# Material's page configuration, printed by its base.html; page content cannot hold a <script>
# (the sanitiser removes every one), so the first such element is the theme's.
_CONFIG_BLOCK = re.compile(r'<script id="__config" type="application/json">.*?</script>', re.S)


def use_casebook_worker(html: str) -> str:
    """Point Material's search box at the casebook's worker: the page's configuration names the
    worker script, and this swaps Material's lunr worker for ours (same folder depth, so the
    relative prefix stays). Done on the built page rather than by overriding Material's template
    block, so a project's own main.html cannot leave search pointing at the wrong worker."""
    # Only inside the configuration element: page text may quote the same words (case text is data).
    def swap(block: re.Match[str]) -> str:
        return _MATERIAL_WORKER.sub(lambda m: f'"search": "{m.group(1)}{WORKER}"', block.group(0), count=1)

    return _CONFIG_BLOCK.sub(swap, html, count=1)
