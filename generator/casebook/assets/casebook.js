/* 共富案例库 — small, dependency-free helpers. Loaded from the site itself; nothing external. */
(function () {
  "use strict";

  // Opened from disk (file://), directory links such as cases/grain-store/ would show a folder
  // listing: point them at the index.html inside instead. Over http nothing changes.
  function fileLink(href) {
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

  // Printed pages carry their address at the foot.
  function fillAddress() {
    document.querySelectorAll(".cb-page-url").forEach(function (el) { el.textContent = location.href; });
  }
  document.addEventListener("DOMContentLoaded", fillAddress);
  window.addEventListener("beforeprint", fillAddress);
})();
