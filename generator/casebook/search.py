"""Chinese search on top of Material's built-in (lunr) search.

Material 9.8 segments Chinese with jieba at build time, but its browser side only matches the start
of a word, drops the tail of a query and ignores text committed by an input method. Three parts fix
that without replacing Material's search UI:

- a domain dictionary built from the case data (共富贷, 两进两回, 四带共富 …) taught to jieba, so the
  index keeps domain words whole;
- hidden character-bigram fields added to the index after the build (:func:`add_bigram_fields`);
- ``assets/search-zh.js``, which rewrites each Chinese query into required bigrams and forwards
  ``input``/``compositionend`` to the search box.
"""

from __future__ import annotations

import json
import re
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


# Han characters (CJK unified ideographs and extensions, compatibility ideographs).
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_TAG = re.compile(r"<[^>]*>")
# Hidden index fields → the field whose boost they share. Material indexes every configured field
# but shows only title and text, so these never appear in results.
BIGRAM_FIELDS = {"title_cjk": "title", "text_cjk": "text"}


def bigrams(value: str) -> str:
    """Every character pair of every Han run, once, plus each run's last character.

    The index then matches any substring of two or more characters (核桃 in 山核桃) whatever jieba's
    cut was, and the run-final character lets a one-character query match as a prefix.
    """
    value = _TAG.sub(" ", value).replace("\u200b", "")
    seen: dict[str, None] = {}
    for run in _HAN_RUN.findall(value):
        for i in range(len(run) - 1):
            seen.setdefault(run[i:i + 2], None)
        seen.setdefault(run[-1], None)
    return " ".join(seen)


def add_bigram_fields(site_dir: Path) -> None:
    """Add the hidden bigram fields that search-zh.js queries to Material's search index."""
    path = site_dir / "search" / "search_index.json"
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    fields = index["config"]["fields"]
    for name, source in BIGRAM_FIELDS.items():
        fields[name] = {"boost": fields.get(source, {}).get("boost", 1.0)}
    for doc in index["docs"]:
        for name, source in BIGRAM_FIELDS.items():
            value = bigrams(doc.get(source) or "")
            if value:
                doc[name] = value
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def inline_search_index(site_dir: Path) -> None:
    """Write search/search_index.js beside the JSON index so search also works from file://."""
    index = site_dir / "search" / "search_index.json"
    if index.is_file():
        (site_dir / "search" / "search_index.js").write_text(
            "var __index = " + index.read_text(encoding="utf-8"), encoding="utf-8")
