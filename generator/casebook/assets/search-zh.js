/*
 * Chinese search fixes for Material for MkDocs 9.x built-in (lunr) search.
 * Load via `extra_javascript`; pairs with casebook.search.add_bigram_fields, which adds
 * character-bigram fields (title_cjk, text_cjk) to search_index.json.
 *
 * 1. Query transform. Material 9.8 has no hook for the query transform, so
 *    the QUERY message (`{type: 2, data: "<raw query>"}`) that the bundle
 *    posts to the search worker is rewritten on its way out. Every Han run is
 *    turned into its character bigrams, each one required (`+竹笋`), plus an
 *    optional substring wildcard (`*竹笋*`) that matches (and so highlights)
 *    the jieba words in title/text that contain it. A single Han character
 *    becomes `+竹*`. `-词` becomes `-*词*`. Non-Han terms are left as they are.
 *    Han characters are written with lunr escapes (`竹\笋`): the worker's own
 *    "experimental Chinese segmentation" (segment(), which drops the tail of
 *    a Han run) then only ever sees one-character runs, which it leaves
 *    unchanged, and lunr's QueryLexer drops the backslashes.
 * 2. Input events. Material reads the query only on `keyup` and `focus`. Text
 *    committed by an input method, pasted, or typed on mobile keyboards often
 *    comes without a keyup, so `input` (outside composition) and
 *    `compositionend` are forwarded as a synthetic, non-bubbling `keyup`.
 */
(function () {
  "use strict";

  var HAN = /\p{sc=Han}/u;
  var HAN_SPLIT = /(\p{sc=Han}+)/u;
  var WORD = /[\p{L}\p{N}]/u;
  var QUERY = 2; /* SearchMessageType.QUERY in Material 9.x */

  /* Optional per-bigram clauses that make Material highlight (and boost) the
   * jieba words of title/text containing the query. true: `*XY*` (substring,
   * 核桃 highlights 山核桃) - costs a scan of the whole lunr vocabulary per
   * bigram, ~45 ms per bigram on a 550k-character site; false: `XY*` (only
   * words starting with XY are highlighted, ~1 ms). Matching is the same. */
  var HIGHLIGHT_SUBSTRINGS = true;

  /* 竹笋 -> 竹\笋 (code point aware) */
  function esc(value) {
    return Array.from(value).join("\\");
  }

  /* Rewrite the Han parts of a raw query; everything else is left as is */
  function transform(query) {
    if (!HAN.test(query))
      return query;

    /* Words in quotes are required, as in Material's own transform */
    var parts = [];
    query.split(/"([^"]*)"/).forEach(function (segment, i) {
      segment.split(/\s+/).forEach(function (part) {
        if (part)
          parts.push(i & 1 && !/^[+-]/.test(part) ? "+" + part : part);
      });
    });

    var terms = [];
    parts.forEach(function (part) {
      /* Field, fuzzy and boost syntax: leave to Material */
      if (!HAN.test(part) || /[:~^]/.test(part)) {
        terms.push(part);
        return;
      }
      var presence = /^[+-]/.test(part) ? part.charAt(0) : "";
      part.slice(presence.length).split(HAN_SPLIT).forEach(function (chunk) {
        if (!chunk || !WORD.test(chunk))
          return;
        if (!HAN.test(chunk)) {
          terms.push(presence + chunk);
          return;
        }
        var chars = Array.from(chunk);
        if (presence === "-") {
          terms.push("-*" + esc(chunk) + "*");
        } else if (chars.length === 1) {
          terms.push("+" + chunk + "*");  /* bigram XY or run-final X */
        } else {
          for (var i = 0; i + 1 < chars.length; i++) {
            var bigram = esc(chars[i] + chars[i + 1]);
            terms.push("+" + bigram);     /* required, exact: bigram fields */
            terms.push((HIGHLIGHT_SUBSTRINGS ? "*" : "") + bigram);
          }                               /* optional; Material appends * */
        }
      });
    });
    return terms
      .filter(function (term, i) { return terms.indexOf(term) === i; })
      .join(" ");
  }

  /* 1. Rewrite search queries sent to the search worker */
  var post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message) {
    if (message && message.type === QUERY && typeof message.data === "string") {
      var args = Array.prototype.slice.call(arguments);
      args[0] = { type: QUERY, data: transform(message.data) };
      return post.apply(this, args);
    }
    return post.apply(this, arguments);
  };

  /* 2. Search on input/compositionend, not only on keyup */
  function bind(el) {
    if (!el || el.hasAttribute("data-cjk-search"))
      return;
    el.setAttribute("data-cjk-search", "");
    var kick = function () {
      el.dispatchEvent(new KeyboardEvent("keyup"));
    };
    el.addEventListener("input", function (ev) {
      if (!ev.isComposing)
        kick();
    });
    el.addEventListener("compositionend", kick);
  }
  var query = "[data-md-component=search-query]";
  bind(document.querySelector(query));
  if (window.document$) /* instant navigation may swap the header */
    window.document$.subscribe(function () {
      bind(document.querySelector(query));
    });

  /* Exposed for debugging/tests */
  window.__cjkSearchTransform = transform;
})();
