/*
 * 共富案例库 search worker: answers Material for MkDocs' search box from the chunked index that
 * casebook.search writes (search/pages.js, search/shards/N.js, search/titles/N.js, search/text/N.js).
 *
 * It speaks Material 9's worker protocol: SETUP (0) → READY (1); QUERY (2) → RESULT (3) with
 * {items: [[page, ...sections], ...]} — so Material's search UI is unchanged. It runs as a real Web
 * Worker over http and inside Material's iframe-worker shim on file://, where importScripts loads
 * a <script> and returns a promise; every index file is a script for that reason.
 *
 * Matching: a query word (a Han run, or a Latin/number word) is in a document when all its index
 * terms are (every Han character pair; a lone character: itself; a Latin word: its prefix). A page
 * matches when every word is in one of its documents: pages that have all the words in one section
 * come first, then pages that have them across sections; only when no page has them all are pages
 * with some of them shown (the missing words struck out). Results are grouped by page, its best
 * section first. For the pages shown first, the page's text is loaded to check that each word
 * occurs as written (not just its pairs) and to cut the snippet: the sentence around the first hit,
 * trimmed to about SNIPPET characters, the words marked, every piece of text escaped.
 * Term rules and the hash must stay identical to casebook/search.py.
 */
(function () {
  "use strict";

  var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]+/gu;
  var WORD = /[0-9a-z]+/g;
  var VERIFY_PAGES = 20;   /* pages whose text is loaded for phrase check and snippet */
  var MAX_PAGES = 1000;    /* result groups returned (titles only beyond VERIFY_PAGES) */
  var SNIPPET = 72;        /* characters of a snippet: a sentence, or the piece of it around the hit */
  var LEAD = 22;           /* characters kept before the first hit when a sentence is cut */
  /* Where a sentence ends (the index keeps one block of text a line, so \n too), and what still
     belongs to the sentence after its end (closing quotes and brackets, more end marks). */
  var SENTENCE_END = /[。！？；!?;\n]/g;
  var SENTENCE_TAIL = /[。！？；!?;”’」』】》）)\]"'…]*/y;
  var PROSE_END = /[。！？；!?;]/;  /* a line that ends as a sentence does, not a header row */
  var KEEP_WITH = /[\p{M}\u200c\u200d\ufe0e\ufe0f\u{e0020}-\u{e007f}\u{1f3fb}-\u{1f3ff}]/u;  /* never cut before these */
  var LATIN = /[0-9A-Za-z]/;

  var manifest = null, base = "", counts = null;
  var shards = {}, titleFiles = {}, texts = {};
  self.__cbShard = function (n, data) { shards[n] = data; };
  self.__cbPages = function (data) { counts = data; };
  self.__cbTitles = function (n, data) { titleFiles[n] = data; };
  self.__cbText = function (n, data) { texts[n] = data; };

  function workerUrl() {
    /* In the iframe shim, location is the page's; the worker's own <script> knows where it is. */
    if (typeof document !== "undefined") {
      var own = document.querySelector("script[src]");
      if (own) return own.src;
    }
    return self.location.href;
  }

  /* Over http, the files are fetched side by side (a worker's importScripts fetches one at a time:
     twenty pages' texts took twenty round trips) and their data read as JSON, never run. On file://
     (Material's iframe shim), where fetch is refused, each is loaded as the script it also is. */
  var CALL = /^\ufeff?__cb(Shard|Pages|Titles|Text)\((?:(\d+),)?/;
  var LOADERS = { Shard: function (n, d) { shards[n] = d; }, Pages: function (n, d) { counts = d; },
                  Titles: function (n, d) { titleFiles[n] = d; }, Text: function (n, d) { texts[n] = d; } };
  function loadAll(paths) {
    var urls = paths.map(function (path) { return new URL(path, base).href + "?v=" + manifest.stamp; });
    if (typeof fetch !== "function" || !/^https?:$/.test(new URL(base).protocol)) {
      /* (the shim's importScripts returns a promise: it loads a <script>) */
      return Promise.all(urls.map(function (url) { return Promise.resolve(importScripts(url)); }));
    }
    return Promise.all(urls.map(function (url) {
      return fetch(url).then(function (r) {
        if (!r.ok) throw new Error(r.status + " " + url);
        return r.text();
      }).then(function (body) {
        var m = CALL.exec(body), end = body.lastIndexOf(")");
        if (!m || end < m[0].length) throw new Error("not a search file: " + url);
        LOADERS[m[1]](m[2] === undefined ? null : Number(m[2]), JSON.parse(body.slice(m[0].length, end)));
      });
    }));
  }

  function termHash(term) {
    var h = 2166136261;
    for (var ch of term) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
    return h;
  }

  function normalise(text) {
    return text.normalize("NFKC").toLowerCase();
  }

  /* The query's words (as typed, normalised) and, for each, the index terms it needs. */
  function parse(query) {
    var words = [], q = normalise(query);
    (q.match(HAN) || []).forEach(function (run) {
      var chars = Array.from(run), terms = [];
      if (chars.length === 1) terms.push(run);
      for (var i = 0; i + 1 < chars.length; i++) terms.push(chars[i] + chars[i + 1]);
      words.push({ word: run, terms: terms, han: true });
    });
    (q.replace(HAN, " ").match(WORD) || []).forEach(function (w) {
      words.push({ word: w, terms: [w.slice(0, 16)], han: false });
    });
    /* A repeated word once. A Set, not an object: a word such as "constructor" is an object's member. */
    var seen = new Set();
    return words.filter(function (w) { return seen.has(w.word) ? false : (seen.add(w.word), true); });
  }

  /* A term's entry in a shard, or nothing: only the shard's own keys, never what every object
     inherits (the term "constructor" is not indexed just because Object.prototype has it). */
  function own(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
  }

  function postings(term) {
    var list = own(shards[termHash(term) % manifest.shards], term);
    if (!list) return [];
    var out = new Array(list.length), value = 0;
    for (var i = 0; i < list.length; i++) { value += list[i]; out[i] = value; }
    return out;
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* The text folded as queries are (NFKC, lower case), with each folded position's place in the
     original, so matches found in the folded text are cut and marked in the original. */
  var folds = new Map();  /* character → folded: a page's text is folded a character at a time */
  function fold(text) {
    var folded = "", at = [], pos = 0;
    for (var ch of text) {
      var f = folds.get(ch);
      if (f === undefined) folds.set(ch, f = normalise(ch));
      for (var k = 0; k < f.length; k++) at.push(pos);
      folded += f;
      pos += ch.length;
    }
    at.push(pos);
    return { text: folded, at: at };
  }

  /* [start, end, word number] in the original text of every occurrence of the query words, in order */
  function spansOf(text, words) {
    var f = fold(text), spans = [];
    words.forEach(function (w, wi) {
      if (!w.word) return;
      for (var i = f.text.indexOf(w.word); i !== -1; i = f.text.indexOf(w.word, i + w.word.length))
        spans.push([f.at[i], f.at[i + w.word.length], wi]);
    });
    return spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
  }

  /* Escape, then wrap every occurrence of the query words in <mark>. */
  function mark(text, words) {
    var out = "", pos = 0;
    spansOf(text, words).forEach(function (s) {
      if (s[0] < pos) return;
      out += escapeHtml(text.slice(pos, s[0])) + "<mark>" + escapeHtml(text.slice(s[0], s[1])) + "</mark>";
      pos = s[1];
    });
    return out + escapeHtml(text.slice(pos));
  }

  /* [start, end) of each sentence of a text, its end marks and closing quotes included, the
     spaces around it left out. */
  function sentences(text) {
    var out = [], start = 0, m;
    SENTENCE_END.lastIndex = 0;
    while (start < text.length) {
      m = SENTENCE_END.exec(text);
      var stop = m ? m.index : text.length, end = stop, next = stop + 1;
      if (m && m[0] !== "\n") {
        SENTENCE_TAIL.lastIndex = stop + 1;
        SENTENCE_TAIL.exec(text);
        end = next = SENTENCE_TAIL.lastIndex;
        SENTENCE_END.lastIndex = next;
      }
      var a = start, b = end;
      while (a < b && /\s/.test(text[a])) a++;
      while (b > a && /\s/.test(text[b - 1])) b--;
      if (b > a) out.push([a, b]);
      start = next;
    }
    return out;
  }

  function lowSurrogate(text, i) {
    var c = text.charCodeAt(i);
    return c >= 0xdc00 && c <= 0xdfff;
  }

  /* Moves a cut at i (start or end of a piece of [lo, hi)) off the middle of a character: a
     surrogate pair, a combining mark or emoji sequence, and a Latin word or number if one is near. */
  function settle(text, i, lo, hi, isStart) {
    for (var k = 0; i > lo && i < hi && k < 12; k++) {
      var cp = text.codePointAt(i), ch = String.fromCodePoint(cp);
      var inside = lowSurrogate(text, i) || KEEP_WITH.test(ch) || text[i - 1] === "\u200d" ||
        (LATIN.test(ch) && LATIN.test(text[i - 1]));
      if (!inside) return i;
      i += isStart ? -1 : 1;  /* outwards: the piece grows a little rather than splitting a word */
    }
    while (i > lo && i < hi && lowSurrogate(text, i)) i += isStart ? -1 : 1;
    return i;
  }

  /* The snippet: the sentence with the most query words (the first such), trimmed to about
     SNIPPET characters around its first hit, … where it was cut, the words marked. HTML, escaped.
     No word in the text (the title has it): the first sentence that reads as one (ends as a
     sentence does), rather than a table's header row. */
  function snippet(text, words) {
    var spans = spansOf(text, words), best = null, bestCount = -1;
    sentences(text).forEach(function (sent) {
      var seen = {}, count = 0, first = null;
      spans.forEach(function (sp) {
        if (sp[0] >= sent[0] && sp[1] <= sent[1]) {
          if (first === null) first = sp;
          if (!seen[sp[2]]) { seen[sp[2]] = true; count++; }
        }
      });
      if (count === 0 && !PROSE_END.test(text.slice(sent[0], sent[1]))) count = -0.5;
      if (count > bestCount) { best = { sent: sent, hit: first }; bestCount = count; }
    });
    if (!best) return "";
    var a = best.sent[0], b = best.sent[1], start = a, end = b;
    if (b - a > SNIPPET) {
      var hit = best.hit || [a, a];
      start = Math.max(a, hit[0] - LEAD);
      end = Math.min(b, Math.max(start + SNIPPET, hit[1]));
      if (end - start < SNIPPET) start = Math.max(a, end - SNIPPET);
      start = settle(text, start, a, b, true);
      end = settle(text, end, a, b, false);
    }
    var piece = text.slice(start, end).trim();
    return "<p>" + (start > a ? "…" : "") + mark(piece, words) + (end < b ? "…" : "") + "</p>";
  }

  /* How often the words occur in a folded text */
  function occurrences(folded, words) {
    var count = 0;
    words.forEach(function (w) {
      for (var at = folded.indexOf(w.word); at !== -1 && w.word; at = folded.indexOf(w.word, at + w.word.length)) count++;
    });
    return count;
  }

  function search(query, stale) {
    var words = parse(query);
    if (!words.length) return Promise.resolve({ items: [] });
    var terms = [];
    words.forEach(function (w) { w.terms.forEach(function (t) { if (terms.indexOf(t) === -1) terms.push(t); }); });
    var needed = {};
    terms.forEach(function (t) { var n = termHash(t) % manifest.shards; if (!(n in shards)) needed[n] = true; });
    var loading = Object.keys(needed).map(function (n) { return "shards/" + n + ".js"; });
    if (!counts) loading.push("pages.js");
    return loadAll(loading).then(function () { return stale() ? null : rank(words, terms, stale); });
  }

  /* Each page's first document number, and each document's page (from pages.js: how many
     documents each page has, in page order). */
  var starts = null, pageOf = null;
  function layout() {
    if (starts === null) {
      starts = new Int32Array(counts.length + 1);
      for (var p = 0; p < counts.length; p++) starts[p + 1] = starts[p] + counts[p];
      pageOf = new Int32Array(starts[counts.length]);
      for (var q = 0; q < counts.length; q++) pageOf.fill(q, starts[q], starts[q + 1]);
    }
  }

  /* A page's titles: [url, title, [[anchor, section title], ...]] (from its titles file) */
  function titlesOf(p) {
    return titleFiles[Math.floor(p / manifest.titles)][p % manifest.titles];
  }

  function rank(words, terms, stale) {
    layout();
    var n = pageOf.length, hits = new Map();
    /* word → docs having all its terms; idf-weighted, a title hit counts three times */
    words.forEach(function (w, wi) {
      var perDoc = null;
      w.terms.forEach(function (t) {
        var list = postings(t), idf = Math.log(1 + n / Math.max(list.length, 1)), next = new Map();
        list.forEach(function (v) {
          var doc = v >> 1, gain = idf * (v & 1 ? 3 : 1);
          if (perDoc === null) next.set(doc, gain);
          else if (perDoc.has(doc)) next.set(doc, perDoc.get(doc) + gain);
        });
        perDoc = next;
      });
      perDoc.forEach(function (score, doc) {
        var h = hits.get(doc);
        if (!h) hits.set(doc, h = { score: 0, words: {} });
        h.score += score;
        h.words[wi] = true;
      });
    });
    /* What each page has across its documents: the words, and whether one document has them all. */
    var pages = new Map();
    hits.forEach(function (h, doc) {
      var p = pageOf[doc], pg = pages.get(p), k = 0;
      if (!pg) pages.set(p, pg = { docs: [], words: {}, count: 0, together: false, best: 0, sum: 0 });
      pg.docs.push(doc);
      Object.keys(h.words).forEach(function (wi) {
        k++;
        if (!pg.words[wi]) { pg.words[wi] = true; pg.count++; }
      });
      if (k === words.length) pg.together = true;
      pg.best = Math.max(pg.best, h.score);
      pg.sum += h.score;
    });
    var shown = [];
    pages.forEach(function (pg, p) { if (pg.count === words.length) shown.push(p); });
    /* No page has every word: show those with some, the missing words struck out. */
    if (!shown.length) shown = Array.from(pages.keys());
    shown.forEach(function (p) {
      var pg = pages.get(p);
      pg.tier = tier(pg.together, pg.count, words.length);
      pg.score = pg.best + 0.3 * (pg.sum - pg.best);
    });
    var order = shown.sort(function (a, b) {
      var x = pages.get(a), y = pages.get(b);
      return y.tier - x.tier || y.score - x.score || a - b;
    }).slice(0, MAX_PAGES);
    /* The titles of every page found and the texts of the first: one round of requests. */
    var loading = [], files = {};
    order.forEach(function (p) {
      var f = Math.floor(p / manifest.titles);
      if (!(f in titleFiles) && !files[f]) { files[f] = true; loading.push("titles/" + f + ".js"); }
    });
    order.slice(0, VERIFY_PAGES).forEach(function (p) { if (!(p in texts)) loading.push("text/" + p + ".js"); });
    return loadAll(loading).then(function () {
      return stale() ? null : build(words, hits, pages, order);
    });
  }

  /* All the words in one section (2) ranks above all the words across a page's sections (1),
     above some of the words (0, only shown when no page has them all). */
  function tier(together, count, total) {
    return together ? 2 : count === total ? 1 : 0;
  }

  function build(words, hits, pages, order) {
    var groups = [], titles = new Map();
    /* Section titles repeat on every cluster page (概况, 机制…): each is marked once per query. */
    function markTitle(title) {
      var marked = titles.get(title);
      if (marked === undefined) titles.set(title, marked = mark(title, words));
      return marked;
    }
    order.forEach(function (p, rankNo) {
      var page = titlesOf(p), pageText = texts[p], items = [], has = {}, together = false;
      /* each page's own document: the first of its documents */
      var docsHere = pages.get(p).docs.slice(), pageDoc = starts[p];
      if (docsHere.indexOf(pageDoc) === -1) docsHere.push(pageDoc);
      docsHere.forEach(function (doc) {
        var entry = page[2][doc - pageDoc], title = entry[1], text = pageText ? pageText[doc] || "" : "";
        var h = hits.get(doc), score = h ? h.score : 0, exact = true, found = {}, count = 0;
        /* folded once; a line break between them, which no query word holds */
        var folded = pageText ? normalise(title + "\n" + text) : "";
        words.forEach(function (w, wi) {
          var inDoc = !!h && !!h.words[wi];
          /* its pairs occur, but not the word as typed */
          if (inDoc && pageText && folded.indexOf(w.word) === -1) { inDoc = false; exact = false; }
          if (inDoc) { found[wi] = true; has[wi] = true; count++; }
        });
        if (count === words.length) together = true;
        if (!exact) score *= 0.2;
        else if (text) score *= 1 + Math.log(1 + occurrences(folded, words));
        /* A section holding more of the words leads its page whatever its weight: the whole
           number is the words it holds, the fraction (below 1) its weight among sections as many. */
        var ranked = count + score / (1 + score);
        items.push({
          location: page[0] + (entry[0] ? "#" + entry[0] : ""),
          title: title, text: text, found: found, page: doc === pageDoc,
          score: doc === pageDoc && !h ? 0 : ranked + (order.length - rankNo) * 1e-6
        });
      });
      items.sort(function (a, b) { return b.score - a.score; });
      /* A page is as good as its best document, and better for every other one that matches. */
      var rest = 0;
      for (var k = 1; k < items.length; k++) rest += items[k].score;
      var covered = Object.keys(has).length, score = items[0].score + 0.3 * rest;
      if (!together && covered === words.length) items = cover(items, words.length);
      /* The words the page has, for every one of its results: Material strikes out the others and
         highlights these on the page it opens. */
      var terms = {};
      words.forEach(function (w, wi) { terms[w.word] = !!has[wi]; });
      groups.push({
        tier: tier(together, covered, words.length), score: score,
        items: items.map(function (it) {
          return { location: it.location, title: markTitle(it.title), text: it.text ? snippet(it.text, words) : "",
                   score: it.score, terms: terms };
        })
      });
    });
    /* Re-ranked now that the first pages' text has been checked: pages where the words do not
       occur as typed drop below the others; pages where they recur rise. */
    groups.sort(function (a, b) { return b.tier - a.tier || b.score - a.score; });
    return { items: groups.map(function (g) { return g.items; }) };
  }

  /* The words are in different sections of this page: the fewest best sections that have them all
     (sections before the page's own lead, which Material shows only alone) go first, at the best
     score, so Material shows each with its snippet rather than folding all but one away. */
  function cover(items, total) {
    var picked = [], got = {}, n = 0;
    [false, true].forEach(function (lead) {
      items.forEach(function (it) {
        if (n === total || it.page !== lead || picked.indexOf(it) !== -1) return;
        var adds = Object.keys(it.found).filter(function (wi) { return !got[wi]; });
        if (!adds.length) return;
        adds.forEach(function (wi) { got[wi] = true; n++; });
        picked.push(it);
      });
    });
    var top = items[0].score;
    picked.forEach(function (it) { it.score = top; });
    return picked.concat(items.filter(function (it) { return picked.indexOf(it) === -1; }));
  }

  var queue = Promise.resolve(), latest = 0;
  function handle(message) {
    if (message.type === SETUP) {
      manifest = message.data.config.casebook;
      base = new URL("../../../search/", workerUrl()).href;  /* from assets/casebook/worker/ */
      return Promise.resolve({ type: READY });
    }
    if (message.type === QUERY) {
      var ticket = ++latest;
      queue = queue.then(function () {
        if (ticket !== latest) return null;  /* a newer query is waiting: skip this one */
        /* The answer names its query: an empty answer can be told from an earlier one. */
        /* A query typed past while this one loads its files is answered, not this one. */
        return search(message.data, function () { return ticket !== latest; }).then(function (data) {
          if (data === null) return null;
          return { type: RESULT, data: { items: data.items, query: message.data } };
        }, function (err) {
          console.warn("search failed", err);
          return { type: RESULT, data: { items: [], query: message.data } };
        });
      });
      return queue;
    }
    return Promise.reject(new TypeError("Invalid message type"));
  }
  addEventListener("message", function (ev) {
    handle(ev.data).then(function (reply) { if (reply) postMessage(reply); });
  });
})();
