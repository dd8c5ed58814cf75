/*
 * Search-as-you-type for Chinese input in Material for MkDocs 9.x.
 *
 * Material reads the query only on `keyup` and `focus`. Text committed by an input method, pasted,
 * or typed on mobile keyboards often comes without a keyup, so `input` (outside composition) and
 * `compositionend` are forwarded as a synthetic, non-bubbling `keyup`. The search itself runs in
 * the casebook's worker (assets/casebook/worker/search.js).
 */
(function () {
  "use strict";

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
})();
