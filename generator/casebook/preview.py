"""The resident live preview (`casebook serve`): one process that keeps the host's build in memory,
serves the built site, watches the project and, on a save, has the host re-render only the pages
whose inputs changed, then reloads the browser.

This module is the host-free part: the HTTP server (the site as built, with the reload script and,
while a file is broken, the Chinese errors laid over each page as it is served, so the files on disk
stay exactly those of a build), the watcher (polling: no dependency, and a thousand stats take a few
milliseconds) and the loop. The host adapter (``mkdocs_plugin.Resident``) implements :class:`Host`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("casebook")

ENDPOINT = "/.casebook-preview/"
# Same origin only (principle 3): the page asks this server whether the site changed, long-polling.
RELOAD_JS = """(function () {
  var seen = null;
  function poll() {
    fetch("ENDPOINTevents?since=" + (seen === null ? -1 : seen), {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (seen !== null && d.version !== seen) { location.reload(); return; }
        seen = d.version; poll();
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
""".replace("ENDPOINT", ENDPOINT)
RELOAD_TAG = f'<script src="{ENDPOINT}reload.js"></script>'


class Host(Protocol):
    """What the preview needs of a host: a first build, an update after changes, and its state.
    A folder it gave stays whole until the next call: what it gave is served before that call."""

    def build(self) -> Path:
        """Build the whole site; return the folder to serve."""

    def update(self, changed: set[Path]) -> Path:
        """Bring the pages up to date after ``changed`` files; return the folder to serve."""

    def finish(self) -> Path | None:
        """What may follow the reload: the rest of the pages, when update wrote the edited ones
        first, and the outputs beside them (search, downloads, write-ups). The folder to serve
        again when pages changed (the open page reloads once more), or None."""

    def errors(self) -> tuple[list[str], bool]:
        """The Chinese errors to lay over every page (none: the site is good), and whether what is
        served is the last good site."""

    def watched(self) -> list[Path]:
        """Files and folders whose changes the preview follows."""

    def close(self) -> None:
        """Remove what the preview wrote."""


class _State:
    def __init__(self) -> None:
        self.root: Path | None = None
        self.version = 0
        self.banner = ""  # the errors, as HTML (escaped), laid over each page served
        self.busy = True  # building, or writing the outputs that follow the pages (benchmarks wait on it)
        self.changed = threading.Condition()

    def publish(self, root: Path, banner: str) -> None:
        with self.changed:
            self.root, self.banner = root, banner
            self.version += 1
            self.changed.notify_all()


def _handler(state: _State) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            root = state.root or Path(os.devnull)
            self.directory = str(root)
            return super().translate_path(path)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the terminal shows the builds, not every request

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == ENDPOINT + "reload.js":
                return self._send(RELOAD_JS.encode(), "text/javascript; charset=utf-8")
            if url.path == ENDPOINT + "events":
                return self._events(url.query)
            path = Path(self.translate_path(url.path))
            if path.is_dir():
                if not url.path.endswith("/"):
                    return super().do_GET()  # the redirect to the folder's URL
                path = path / "index.html"
            if path.suffix == ".html" and path.is_file():
                return self._page(path)
            return super().do_GET()

        def _page(self, path: Path) -> None:
            html = path.read_text(encoding="utf-8", errors="replace")
            banner = state.banner
            if banner:
                at = html.find(">", html.find("<body")) + 1 if "<body" in html else 0
                html = html[:at] + banner + html[at:]
            at = html.rfind("</body>")
            html = html[:at] + RELOAD_TAG + html[at:] if at >= 0 else html + RELOAD_TAG
            self._send(html.encode("utf-8"), "text/html; charset=utf-8")

        def _events(self, query: str) -> None:
            try:
                since = int(parse_qs(query).get("since", ["-1"])[0])
            except ValueError:
                since = -1
            with state.changed:
                if since == state.version:
                    state.changed.wait(timeout=20)
                version = state.version
            self._send(json.dumps({"version": version, "busy": state.busy}).encode(), "application/json")

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def end_headers(self) -> None:
            # Every response fresh: after a rebuild, a page must never come from the browser's cache.
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

    return Handler


def snapshot(paths: Iterable[Path]) -> dict[Path, tuple[int, int]]:
    """Every file under ``paths`` with its modification time and size."""
    out: dict[Path, tuple[int, int]] = {}
    for top in paths:
        stack = [top]
        while stack:
            here = stack.pop()
            try:
                st = here.lstat()
            except OSError:
                continue
            if here.is_dir() and not here.is_symlink():
                with contextlib.suppress(OSError):
                    stack += [here / name for name in os.listdir(here)]
            else:
                out[here] = (st.st_mtime_ns, st.st_size)
    return out


def _changes(before: dict[Path, tuple[int, int]], after: dict[Path, tuple[int, int]]) -> set[Path]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def serve(host: Host, address: str, port: int, *, interval: float = 0.1,
          banner_html: Callable[[list[str], bool], str] | None = None) -> None:
    """Build, serve at ``address:port`` and follow changes until interrupted. ``banner_html(errors,
    last_good)``: the errors as escaped HTML (the session's)."""
    state = _State()
    server = ThreadingHTTPServer((address, port), _handler(state))
    server.daemon_threads = True

    def show() -> str:
        errors, last_good = host.errors()
        return banner_html(errors, last_good) if errors and banner_html is not None else ""

    # SIGTERM ends the preview like Ctrl-C, so what it wrote is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        started = time.perf_counter()
        # Taken before the first build: a file saved while it runs is then a change like any other.
        seen = snapshot(host.watched())
        state.publish(host.build(), show())
        state.busy = False
        log.info("casebook: 预览已就绪（%.1f 秒）：http://%s:%d/", time.perf_counter() - started, address, port)
        serving.start()
        while True:
            time.sleep(interval)
            now = snapshot(host.watched())
            changed = _changes(seen, now)
            if not changed:
                continue
            time.sleep(0.05)  # an editor's save may come as several writes: take them together
            now = snapshot(host.watched())
            changed |= _changes(seen, now)
            seen = now
            state.busy = True
            started = time.perf_counter()
            try:
                root = host.update(changed)
            except Exception as exc:
                log.error("casebook: 预览未能更新：%s", exc)
                state.busy = False
                continue
            state.publish(root, show())
            log.info("casebook: 预览已更新（%d 个文件改动，%.2f 秒）", len(changed), time.perf_counter() - started)
            try:
                again = host.finish()
            except Exception as exc:
                log.error("casebook: 预览的其余页面、检索和下载文件未能更新：%s", exc)
            else:
                if again is not None:
                    state.publish(again, show())
                    log.info("casebook: 其余页面已更新（共 %.2f 秒）", time.perf_counter() - started)
            state.busy = False
    except KeyboardInterrupt:
        pass
    finally:
        if serving.is_alive():
            server.shutdown()
        server.server_close()
        host.close()


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt
