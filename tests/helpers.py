"""Helpers for editing a copy of the fictional casebook in tests, and the one way tests wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

CLUSTER = "clusters/fictional-a.yaml"

T = TypeVar("T")


def replace(book: Path, rel: str, old: str, new: str) -> None:
    path = book / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture lacks {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(book: Path, rel: str, needle: str) -> int:
    for n, line in enumerate((book / rel).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(needle)


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """The first truthy value of ``predicate``, polled until ``timeout`` seconds have passed; then a
    failure naming ``what`` was awaited.

    The only place a test may sleep (tests/test_project.py checks): a pause between two looks at a
    condition, never a guess at how long something takes. The predicate is tried once more at the
    deadline, so a slow poll cannot make a condition that did come true look like a time-out.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
