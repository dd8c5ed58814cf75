/* 共富案例库 — small, dependency-free helpers. Loaded from the site itself; nothing external. */
(function () {
  "use strict";

  // Opened from disk (file://), directory links such as cases/grain-store/ would show a folder
  // listing: point them at the index.html inside instead. Over http nothing changes.
  function fileLink(href) {
    if (href && /^file:/i.test(href)) {
      // Search results are absolute (file:///…/cases/x/): the same fix, on the URL's path.
      var url = new URL(href);
      if (url.pathname.slice(-1) === "/") url.pathname += "index.html";
      return url.href;
    }
    if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.charAt(0) === "#") return href;
    var parts = href.split("#");
    var path = parts[0];
    if (path === "" || path.slice(-1) === "/") path += "index.html";
    else if (path === "." || path === "..") path += "/index.html";
    return path + (parts.length > 1 ? "#" + parts.slice(1).join("#") : "");
  }
  if (location.protocol === "file:") {
    var fixAll = function (root) {
      (root || document).querySelectorAll("a[href]").forEach(function (a) {
        var href = a.getAttribute("href"), fixed = fileLink(href);
        if (fixed !== href) a.setAttribute("href", fixed);
      });
    };
    document.addEventListener("DOMContentLoaded", function () { fixAll(); });
    // Search results and other late links: fix them at the moment they are followed.
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest && ev.target.closest("a[href]");
      if (a) { var href = a.getAttribute("href"); var fixed = fileLink(href); if (fixed !== href) a.setAttribute("href", fixed); }
    }, true);
  }

  // Printed pages carry their address at the foot: in the colophon, and in every printed page's
  // margin box (print.css), which can show only a custom property of the root, as a CSS string.
  function fillAddress() {
    document.querySelectorAll(".cb-page-url").forEach(function (el) { el.textContent = location.href; });
    var css = location.href.replace(/["'\\<>&\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, function (c) {
      return "\\" + c.charCodeAt(0).toString(16) + " ";
    });
    document.documentElement.style.setProperty("--cb-page-address", '"' + css + '"');
  }
  document.addEventListener("DOMContentLoaded", fillAddress);
  window.addEventListener("beforeprint", fillAddress);
  // Chart export, in the reader's browser: the inline SVG as a file, or drawn onto a canvas at
  // twice its size for a PNG (white background; Chinese text uses the system's CJK font). Nothing
  // is fetched, so this works offline and from disk.
  function chartSvgText(fig) {
    var svg = fig.querySelector(".cb-chart-svg svg");
    var clone = svg.cloneNode(true);
    clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    clone.removeAttribute("aria-hidden");
    return { svg: svg, text: '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone) };
  }
  function save(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function exportChart(box, kind) {
    // The file's name is the edition's (内部资料- in the internal one): data-file, else the chart's id.
    var fig = box.closest("figure.cb-chart"), id = box.getAttribute("data-file") || box.getAttribute("data-chart");
    var got = chartSvgText(fig);
    if (kind === "svg") { save(new Blob([got.text], { type: "image/svg+xml" }), id + ".svg"); return; }
    var box2 = got.svg.viewBox.baseVal, scale = 2;
    var img = new Image();
    img.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = box2.width * scale;
      canvas.height = box2.height * scale;
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) { save(blob, id + ".png"); }, "image/png");
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(got.text);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".cb-chart-export").forEach(function (box) {
      box.hidden = false;  // without script there is nothing to offer; the table has every value
      box.querySelector(".cb-chart-png").addEventListener("click", function () { exportChart(box, "png"); });
      box.querySelector(".cb-chart-svgdl").addEventListener("click", function () { exportChart(box, "svg"); });
    });
  });
})();
