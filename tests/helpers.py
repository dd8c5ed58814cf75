"""Helpers for editing a copy of the fictional casebook in tests."""

from __future__ import annotations

from pathlib import Path

CLUSTER = "clusters/fictional-a.yaml"


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
