"""A real Chromium (Debian's) driven by Playwright, and a local HTTP server for a built site.

Outside CI, browser tests skip when Chromium is missing; in CI (CI=true) they fail instead, so a
missing browser can never pass as green.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CASEBOOK_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
# Without these, Chromium reaches for Google's hosts at start-up, which this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
                 "--disable-features=Translate,MediaRouter,OptimizationHints", "--allow-file-access-from-files"]


def require_browser() -> None:
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not Path(p).exists()]
    if shutil.which("node") is None and not AXE.exists():
        missing.append("node/npm")
    if missing:
        message = (f"browser tests need {', '.join(missing)}: apt-get install chromium fonts-noto-cjk; "
                   "npm ci --prefix tests/browser")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(root))
    socketserver.TCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}/"
        finally:
            httpd.shutdown()


def is_local(url: str, base: str) -> bool:
    return url.startswith((base, "file://", "data:", "blob:", "about:"))


# --------------------------------------------------------------------------- waiting for search

SEARCH_QUERY = "[data-md-component=search-query]"

# Watches the search worker's traffic from inside the page without changing it. Material makes the
# worker with `new Worker(url)`; on file:// the iframe shim first replaces window.Worker with its
# own class. Whichever class window.Worker holds when Material asks is subclassed to note each
# query Material sends (QUERY, 2) and each answer it gets (RESULT, 3), with how many queries had
# been sent when the answer arrived. This listener is added before Material's, in the same event.
SEARCH_WATCH = """(() => {
  const log = window.__cbSearch = {queries: [], answers: []};
  const watched = (Base) => class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (ev) => {
        if (ev.data && ev.data.type === 3)
          log.answers.push({after: log.queries.length, items: ev.data.data.items, query: ev.data.data.query});
      });
    }
    postMessage(message, ...rest) {
      if (message && message.type === 2) log.queries.push(message.data);
      return super.postMessage(message, ...rest);
    }
  };
  let current = watched(window.Worker);
  Object.defineProperty(window, "Worker", {configurable: true, get: () => current, set: (W) => { current = watched(W); }});
})()"""

# True once the search box holds `query`, Material has sent it, the last answer to arrive is the
# worker's answer to it (not to an earlier prefix still in flight), and Material has drawn it (it
# draws the first ten in the same event). An answer names the words it answers for (each
# document's `terms`): the query's Han runs and Latin/number words, as casebook's worker splits
# them; an answer with no results names its query. Only the last answer to arrive counts, since it
# is the one drawn; the worker answers queries in order, so once that is the answer to `query` no
# other is still on its way.
SEARCH_SETTLED = """(query) => {
  const log = window.__cbSearch, box = document.querySelector('[data-md-component=search-query]');
  if (!log || box.value !== query) return false;
  const drawn = document.querySelectorAll('.md-search-result__item').length;
  const sent = log.queries.length;
  if (sent === 0) return query === '' && drawn === 0;
  if (log.queries[sent - 1] !== query) return false;
  const han = /[\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{3134f}]+/gu;
  const folded = query.normalize('NFKC').toLowerCase();
  const words = new Set([...(folded.match(han) || []), ...(folded.replace(han, ' ').match(/[0-9a-z]+/g) || [])]);
  const same = (keys) => keys.length === words.size && keys.every(k => words.has(k));
  const last = log.answers[log.answers.length - 1];
  if (!last || last.after !== sent) return false;
  // An empty answer names the query it answers (the worker's `query`); one with results, its words.
  const answered = words.size === 0 ? last.items.length === 0
      : last.items.length > 0 ? same(Object.keys(last.items[0][0].terms)) : last.query === query;
  return answered && drawn >= Math.min(last.items.length, 10) && drawn <= last.items.length;
}"""


def watch_search(page) -> None:
    """Note the search worker's traffic on every page this page object opens from now on."""
    page.add_init_script(SEARCH_WATCH)


def wait_for_search(page, query: str, timeout: float = 20_000) -> None:
    """Wait until the results shown are the worker's answer to ``query`` (see SEARCH_SETTLED), then
    for two more frames: whatever that markup would load or run while it is laid out and painted
    has had its turn, so a test may then assert that nothing happened. ``timeout`` in milliseconds,
    as Playwright's own."""
    page.wait_for_function(SEARCH_SETTLED, arg=query, timeout=timeout)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


# What the drawn results may consist of: the elements and attributes Material's result template
# makes, and the <mark> the worker adds. Anything else came from case text; so did any URL that
# is not the site's own (javascript:, data:, another host). Checked on the DOM itself, not by
# waiting for a payload to fire: an `ontoggle` or a `style` that fetches would be found even if
# it had not acted yet.
RESULTS_REPORT = """(root) => {
  const tags = new Set(['LI', 'A', 'ARTICLE', 'DIV', 'H1', 'H2', 'P', 'MARK', 'DEL', 'NAV', 'SPAN', 'DETAILS',
                        'SUMMARY']);
  const attrs = new Set(['class', 'href', 'tabindex', 'data-md-score']);
  const list = document.querySelector('.md-search-result__list'), bad = [];
  for (const el of list.querySelectorAll('*')) {
    if (!tags.has(el.tagName)) bad.push('<' + el.tagName.toLowerCase() + '>');
    for (const at of el.attributes) {
      if (!attrs.has(at.name)) bad.push(el.tagName.toLowerCase() + '[' + at.name + ']');
      else if (at.name === 'href' && !el.href.startsWith(root)) bad.push('a[href=' + at.value.slice(0, 60) + ']');
    }
  }
  return {items: list.querySelectorAll(':scope > .md-search-result__item').length,
          text: document.querySelector('.md-search-result').textContent, bad};
}"""


def results_report(page, root: str) -> dict:
    """The drawn results: how many, their text, and everything in them that case text put there
    (empty when the results are inert). ``root``: the site's address, where every link must go."""
    return page.evaluate(RESULTS_REPORT, root)
