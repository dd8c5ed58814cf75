/*
 * 共富案例库 search worker: answers Material for MkDocs' search box from the chunked index that
 * casebook.search writes (search/table.js, search/shards/N.js, search/text/N.js).
 *
 * It speaks Material 9's worker protocol: SETUP (0) → READY (1); QUERY (2) → RESULT (3) with
 * {items: [[page, ...sections], ...]} — so Material's search UI is unchanged. It runs as a real Web
 * Worker over http and inside Material's iframe-worker shim on file://, where importScripts loads
 * a <script> and returns a promise; every index file is a script for that reason.
 *
 * Matching: every Han character pair of the query (a lone character: that character) and every
 * Latin/number word (as a prefix) must occur in a document; results are grouped by page. For the
 * pages shown first, the page's text is loaded to check that each query word occurs as written
 * (not just its pairs), to cut a snippet around it and to mark it.
 * Term rules and the hash must stay identical to casebook/search.py.
 */
(function () {
  "use strict";

  var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]+/gu;
  var WORD = /[0-9a-z]+/g;
  var VERIFY_PAGES = 20;   /* pages whose text is loaded for phrase check and snippet */
  var MAX_PAGES = 1000;    /* result groups returned (titles only beyond VERIFY_PAGES) */

  var manifest = null, base = "", table = null;
  var shards = {}, texts = {};
  self.__cbShard = function (n, data) { shards[n] = data; };
  self.__cbTable = function (data) { table = data; };
  self.__cbText = function (n, data) { texts[n] = data; };

  function workerUrl() {
    /* In the iframe shim, location is the page's; the worker's own <script> knows where it is. */
    if (typeof document !== "undefined") {
      var own = document.querySelector("script[src]");
      if (own) return own.src;
    }
    return self.location.href;
  }

  function load(path) {
    var url = new URL(path, base).href + "?v=" + manifest.stamp;
    return Promise.resolve(importScripts(url));
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
  function fold(text) {
    var folded = "", at = [], pos = 0;
    for (var ch of text) {
      var f = normalise(ch);
      for (var k = 0; k < f.length; k++) at.push(pos);
      folded += f;
      pos += ch.length;
    }
    at.push(pos);
    return { text: folded, at: at };
  }

  /* [start, end) in the original text of every occurrence of the query words, in order */
  function spansOf(text, words) {
    var f = fold(text), spans = [];
    words.forEach(function (w) {
      if (!w.word) return;
      for (var i = f.text.indexOf(w.word); i !== -1; i = f.text.indexOf(w.word, i + w.word.length))
        spans.push([f.at[i], f.at[i + w.word.length]]);
    });
    return spans.sort(function (a, b) { return a[0] - b[0]; });
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

  function snippet(text, words) {
    var spans = spansOf(text, words), first = spans.length ? spans[0][0] : 0;
    var start = Math.max(0, first - 40), piece = text.slice(start, start + 160);
    return (start > 0 ? "…" : "") + mark(piece, words) + (start + 160 < text.length ? "…" : "");
  }

  function occurrences(text, words) {
    var lower = normalise(text), count = 0;
    words.forEach(function (w) {
      for (var at = lower.indexOf(w.word); at !== -1 && w.word; at = lower.indexOf(w.word, at + w.word.length)) count++;
    });
    return count;
  }

  function contains(haystack, word) {
    return normalise(haystack).indexOf(word) !== -1;
  }

  function search(query) {
    var words = parse(query);
    if (!words.length) return Promise.resolve({ items: [] });
    var terms = [];
    words.forEach(function (w) { w.terms.forEach(function (t) { if (terms.indexOf(t) === -1) terms.push(t); }); });
    var needed = {};
    terms.forEach(function (t) { var n = termHash(t) % manifest.shards; if (!(n in shards)) needed[n] = true; });
    var loading = Object.keys(needed).map(function (n) { return load("shards/" + n + ".js"); });
    if (!table) loading.push(load("table.js"));
    return Promise.all(loading).then(function () { return rank(words, terms); });
  }

  function rank(words, terms) {
    var n = table.docs.length, hits = new Map();
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
    var all = [];
    hits.forEach(function (h, doc) { if (Object.keys(h.words).length === words.length) all.push(doc); });
    var partial = all.length === 0;  /* nothing has every word: show what has some, words struck out */
    if (partial) hits.forEach(function (h, doc) { all.push(doc); });
    var pages = new Map();  /* page → [best, sum] of its documents' scores */
    all.forEach(function (doc) {
      var p = table.docs[doc][0], agg = pages.get(p) || [0, 0], score = hits.get(doc).score;
      pages.set(p, [Math.max(agg[0], score), agg[1] + score]);
    });
    pages.forEach(function (agg, p) { pages.set(p, agg[0] + 0.3 * (agg[1] - agg[0])); });
    var order = Array.from(pages.keys()).sort(function (a, b) { return pages.get(b) - pages.get(a) || a - b; })
      .slice(0, MAX_PAGES);
    var verify = order.slice(0, VERIFY_PAGES).filter(function (p) { return !(p in texts); });
    return Promise.all(verify.map(function (p) { return load("text/" + p + ".js"); })).then(function () {
      return build(words, all, hits, order, partial);
    });
  }

  var firstDocs = null;
  function pageDocs() {
    /* each page's own document: the first of its documents in the table */
    if (firstDocs === null) {
      firstDocs = [];
      table.docs.forEach(function (entry, d) { if (!(entry[0] in firstDocs)) firstDocs[entry[0]] = d; });
    }
    return firstDocs;
  }

  function build(words, docs, hits, order, partial) {
    var byPage = new Map();
    docs.forEach(function (doc) {
      var p = table.docs[doc][0];
      if (!byPage.has(p)) byPage.set(p, []);
      byPage.get(p).push(doc);
    });
    var groups = [];
    order.forEach(function (p, rankNo) {
      var page = table.pages[p], pageText = texts[p], items = [];
      var docsHere = byPage.get(p);
      var pageDoc = pageDocs()[p];
      if (docsHere.indexOf(pageDoc) === -1) docsHere = docsHere.concat([pageDoc]);
      docsHere.forEach(function (doc) {
        var entry = table.docs[doc], title = entry[2], text = pageText ? pageText[doc] || "" : "";
        var found = {}, score = hits.has(doc) ? hits.get(doc).score : 0, exact = true;
        words.forEach(function (w, wi) {
          var has = hits.has(doc) && !!hits.get(doc).words[wi];
          if (has && pageText) has = contains(title, w.word) || contains(text, w.word);
          if (!has && hits.has(doc) && hits.get(doc).words[wi]) exact = false;
          found[w.word] = has;
        });
        if (!exact) score *= 0.2;  /* the pairs occur, but not the word as typed */
        else if (text) score *= 1 + Math.log(1 + occurrences(title + " " + text, words));
        items.push({
          location: page[0] + (entry[1] ? "#" + entry[1] : ""),
          title: mark(title, words),
          text: text ? snippet(text, words) : "",
          score: doc === pageDoc && !hits.has(doc) ? 0 : score + (order.length - rankNo) * 1e-6,
          terms: found
        });
      });
      items.sort(function (a, b) { return b.score - a.score; });
      /* A page is as good as its best document, and better for every other one that matches. */
      var rest = 0;
      for (var k = 1; k < items.length; k++) rest += items[k].score;
      groups.push({ score: items[0].score + 0.3 * rest, items: items });
    });
    /* Re-ranked now that the first pages' text has been checked: pages where the words do not
       occur as typed drop below the others; pages where they recur rise. */
    groups.sort(function (a, b) { return b.score - a.score; });
    return { items: groups.map(function (g) { return g.items; }) };
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
        return search(message.data).then(function (data) { return { type: RESULT, data: data }; },
          function (err) { console.warn("search failed", err); return { type: RESULT, data: { items: [] } }; });
      });
      return queue;
    }
    return Promise.reject(new TypeError("Invalid message type"));
  }
  addEventListener("message", function (ev) {
    handle(ev.data).then(function (reply) { if (reply) postMessage(reply); });
  });
})();
