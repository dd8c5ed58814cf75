/*
 * Search-as-you-type for Chinese input in Material for MkDocs 9.x.
 *
 * Material reads the query only on `keyup` and `focus`. Text committed by an input method, pasted,
 * or typed on mobile keyboards often comes without a keyup, so `input` (outside composition) and
 * `compositionend` are forwarded as a synthetic, non-bubbling `keyup`. The search itself runs in
 * the casebook's worker (assets/casebook/worker/search.js).
 *
 * A query without a Chinese character that finds nothing (pinyin such as `gongfu`, English) gets a
 * hint in the live region under the result count (theme_overrides/partials/search.html): the index
 * is of Chinese text. Latin words and numbers the site does hold (DB33, 2023) still find their
 * pages, so the hint waits for the answer and shows only when nothing was found.
 */
(function () {
  "use strict";

  var QUERY = "[data-md-component=search-query]";
  var HINT = "本站为中文检索，请输入中文关键词，如“共富”“组团”。";
  /* Han as the worker counts it (its HAN pattern) */
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]/u;

  /* Called when the reader types and whenever Material draws an answer (its result count changes):
     the hint follows the query in the box and the results drawn for it. */
  function updateHint() {
    var box = document.querySelector(QUERY), hint = document.querySelector(".cb-search-hint");
    var list = document.querySelector(".md-search-result__list");
    if (!box || !hint || !list) return;
    var query = box.value.normalize("NFKC").trim();
    var show = query !== "" && !HAN.test(query) && list.children.length === 0;
    var text = show ? HINT : "";
    if (hint.textContent !== text) hint.textContent = text;  /* unchanged: not announced again */
  }

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
      updateHint();
    });
    el.addEventListener("compositionend", kick);
    /* Material writes the result count (the first child of the result element) once per answer,
       and the list after it; either change is an answer drawn. */
    var meta = document.querySelector(".md-search-result__meta");
    var list = document.querySelector(".md-search-result__list");
    if (window.MutationObserver) {
      var watch = new MutationObserver(updateHint);
      if (meta) watch.observe(meta, { childList: true, characterData: true, subtree: true });
      if (list) watch.observe(list, { childList: true });
    }
  }
  bind(document.querySelector(QUERY));
  if (window.document$) /* instant navigation may swap the header */
    window.document$.subscribe(function () {
      bind(document.querySelector(QUERY));
    });
})();
