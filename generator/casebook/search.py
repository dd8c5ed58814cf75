"""Chinese search support: the domain dictionary, built from the case data.

Material's search plugin segments Chinese with jieba at build time. Domain words (共富贷, 两进两回,
非粮化, partner and model names) must be single words, or a search for them misses. The same word
list is shipped to the browser so queries are segmented like the index.
"""

from __future__ import annotations

from pathlib import Path

from .derive import domain_terms
from .validate import Casebook

# High enough that jieba prefers a domain word over its own split of it.
_FREQ = 200_000


def search_terms(book: Casebook) -> list[str]:
    return domain_terms(book)


def register_terms(terms: list[str]) -> None:
    """Teach jieba (process-wide, as Material's search plugin uses the default tokenizer) our words."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter is not for editors
    for term in terms:
        jieba.add_word(term, freq=_FREQ)


def inline_search_index(site_dir: Path) -> None:
    """Write search/search_index.js beside the JSON index so search also works from file://."""
    index = site_dir / "search" / "search_index.json"
    if index.is_file():
        (site_dir / "search" / "search_index.js").write_text(
            "var __index = " + index.read_text(encoding="utf-8"), encoding="utf-8")
