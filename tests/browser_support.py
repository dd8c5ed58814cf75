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
