/* 共富案例库 — interactive charts, offline. Every chart is drawn at build time as static SVG (for
   print, for readers without script, and so a page costs nothing extra to open). Each chart's figure
   carries its Vega-Lite spec (data-cb-spec); when a reader hovers a chart, focuses or presses its
   "交互查看" button, the vendored vega, vega-lite and vega-embed (assets/casebook/vendor/, loaded from
   this site — never a CDN — so it works offline and opened from disk) are loaded once, and the same
   spec is drawn in place of the static SVG with tooltips that give each value (a '*' says 原文已脱敏).
   Pages without charts load nothing.

   Content Security Policy: vega compiles its expressions with Function(); `ast: true` makes
   vega-embed use its expression interpreter instead, so no eval-like code runs (a page with
   script-src 'self' and no 'unsafe-eval' can show these charts). */
(function () {
  "use strict";
  var me = document.currentScript && document.currentScript.src;
  if (!me) return;
  var vendor = me.replace(/[^\/]*$/, "") + "vendor/";
  var FILES = ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"];
  var loading = null;

  // The three files in order (vega-lite needs vega, vega-embed both), once per page.
  function loadVega() {
    if (loading) return loading;
    loading = FILES.reduce(function (ready, name) {
      return ready.then(function () {
        return new Promise(function (done, fail) {
          var s = document.createElement("script");
          s.src = vendor + name;
          s.onload = done;
          s.onerror = function () { fail(new Error(name)); };
          document.head.appendChild(s);
        });
      });
    }, Promise.resolve());
    return loading;
  }

  function show(fig, live) {
    var still = fig.querySelector(".cb-chart-svg > svg"), view = fig.querySelector(".cb-chart-view");
    if (still) still.style.display = live ? "none" : "";
    if (view) view.style.display = live ? "" : "none";
    fig.classList.toggle("cb-chart-is-live", live);
    var button = fig.querySelector(".cb-chart-live");
    if (button) {
      button.textContent = live ? "静态图" : "交互查看";
      button.setAttribute("aria-pressed", live ? "true" : "false");
    }
  }

  function makeLive(fig) {
    if (fig.cbLive) return fig.cbLive;
    var spec;
    try {
      spec = JSON.parse(fig.getAttribute("data-cb-spec"));
    } catch (e) {
      return (fig.cbLive = Promise.reject(e));
    }
    fig.setAttribute("aria-busy", "true");
    fig.cbLive = loadVega().then(function () {
      var box = fig.querySelector(".cb-chart-svg");
      var view = document.createElement("div");
      view.className = "cb-chart-view";
      view.style.display = "none";
      box.appendChild(view);
      // No actions menu: its "open in editor" would send the data to another site.
      return window.vegaEmbed(view, spec, { renderer: "svg", actions: false, ast: true, defaultStyle: false,
                                            tooltip: { theme: "light" } });
    }).then(function (result) {
      fig.cbView = result.view;
      fig.removeAttribute("aria-busy");
      show(fig, true);
      return result.view;
    }, function (error) {
      fig.removeAttribute("aria-busy");
      var button = fig.querySelector(".cb-chart-live");
      if (button) { button.disabled = true; button.textContent = "交互查看不可用"; }
      throw error;
    });
    fig.cbLive.catch(function () {});  // the static chart stays; nothing more to do
    return fig.cbLive;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure.cb-chart[data-cb-spec]").forEach(function (fig) {
      var box = fig.querySelector(".cb-chart-svg"), button = fig.querySelector(".cb-chart-live");
      if (box) box.addEventListener("pointerenter", function () { makeLive(fig); }, { once: true });
      if (button) {
        button.addEventListener("focus", function () { makeLive(fig); }, { once: true });
        button.addEventListener("click", function () {
          if (fig.cbView) { show(fig, !fig.classList.contains("cb-chart-is-live")); return; }
          makeLive(fig);
        });
      }
    });
  });

  // Print the static drawing, whatever is shown on screen.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("figure.cb-chart-is-live").forEach(function (fig) {
      fig.cbPrinting = true;
      show(fig, false);
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("figure.cb-chart").forEach(function (fig) {
      if (fig.cbPrinting) { fig.cbPrinting = false; show(fig, true); }
    });
  });
})();
