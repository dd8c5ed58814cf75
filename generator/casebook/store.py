"""The build cache: one SQLite file of content-addressed entries (charts, pages, parsed files …).

Thousands of small cache files cost more to open than the work they save; one database answers a
lookup in microseconds. Entries are keyed by a hash of everything they are made from, so an entry is
never stale, only unused. Values are text or bytes, never pickles: a cache must not be able to run
code. Any database problem degrades to "not cached", never to a failed build.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sqlite3
import tempfile
import threading
from importlib import resources
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS entries (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB, PRIMARY KEY (ns, key))"


class Store:
    """Namespaced key → bytes. ``Store(None)`` keeps nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
                self._db.execute("BEGIN")
            except sqlite3.Error:
                self._db = None

    def get(self, ns: str, key: str) -> bytes | None:
        if self._db is None:
            return None
        with self._lock:
            try:
                row = self._db.execute("SELECT value FROM entries WHERE ns = ? AND key = ?", (ns, key)).fetchone()
            except sqlite3.Error:
                return None
        return None if row is None else bytes(row[0])

    def get_text(self, ns: str, key: str) -> str | None:
        value = self.get(ns, key)
        return None if value is None else value.decode("utf-8")

    def put(self, ns: str, key: str, value: bytes | str) -> None:
        if self._db is None:
            return
        data = value.encode("utf-8") if isinstance(value, str) else value
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute("INSERT OR REPLACE INTO entries (ns, key, value) VALUES (?, ?, ?)", (ns, key, data))

    def commit(self) -> None:
        """Make this build's new entries durable (one transaction per build: far faster than one per entry)."""
        if self._db is None:
            return
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")


_open: dict[Path, Store] = {}
_UMASK = os.umask(0)
os.umask(_UMASK)


class Collecting(Store):
    """A store read, never written: new entries are kept in memory (``entries``). A second process
    reads the build's cache this way and hands its new entries back to the build, which holds the
    only write transaction (a write from the child would wait for it, then be lost)."""

    def __init__(self, base: Store) -> None:  # no database of its own: Store.__init__ not called
        self.base, self.path = base, base.path
        self.entries: dict[tuple[str, str], bytes] = {}

    def get(self, ns: str, key: str) -> bytes | None:
        value = self.entries.get((ns, key))
        return value if value is not None else self.base.get(ns, key)

    def put(self, ns: str, key: str, value: bytes | str) -> None:
        self.entries[(ns, key)] = value.encode("utf-8") if isinstance(value, str) else value

    def commit(self) -> None:
        pass


def open_store(cache_dir: Path | None) -> Store:
    """The store in ``cache_dir`` (one per process and directory), or a store that keeps nothing."""
    if cache_dir is None:
        return Store(None)
    path = (cache_dir / "cache.sqlite").resolve()
    if path not in _open:
        _open[path] = Store(path)
    return _open[path]


def committed_files(cache_dir: Path) -> list[str]:
    """Files of ``cache_dir`` that git tracks. A cache is trusted (rendered pages, workbooks and
    charts are taken from it as they are), so one that arrived in a commit — a pull request can
    force-add ignored files — must never be used. Empty outside a git work tree."""
    import subprocess

    try:
        proc = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=cache_dir, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:  # not a work tree, or git refuses: nothing is tracked there
        return []
    return [p for p in proc.stdout.decode("utf-8", "replace").split("\0") if p]


def write_atomic(path: Path, data: bytes) -> None:
    # Write then rename, so a concurrent or interrupted build never reads half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; published files must be readable
    os.replace(tmp, path)


# --------------------------------------------------------------------------- keys


def content_hash(*parts: str | bytes) -> str:
    """The key of whatever is made from ``parts`` (text or bytes, in order)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def tree_digest(folder: Path | None) -> str:
    """Every file under ``folder``, by name and content (an absent folder has one digest too)."""
    h = hashlib.sha256()
    if folder is not None and folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                # fsencode: a file name that is not UTF-8 (kept by Python as surrogates) is hashed, never a crash
                h.update(os.fsencode(path.relative_to(folder).as_posix()) + b"\0" + path.read_bytes())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """Every file of the package (code, templates, assets): part of every cache key, so a new
    version never reuses what an older one made."""
    return tree_digest(Path(str(resources.files("casebook"))))
