"""A Python-Markdown extension that keeps a generated page's HTML blocks out of Markdown's hands.

Generated pages are Markdown headings around finished HTML blocks. Python-Markdown would feed every
raw block through its HTML parser (md_in_html), which was a third of a build at a thousand pages,
and may rewrite what it reads; the blocks are finished (escaped, then sanitised after rendering)
and Markdown must not touch them. Each block is put into Markdown's own ``htmlStash`` before any
other preprocessor sees it, and Markdown's raw-HTML postprocessor puts it back: no placeholder
text of our own that case text could imitate.

Host-neutral: any host that renders pages with Python-Markdown adds :class:`HtmlBlocks` to its
extensions and says, page by page, whether the page is generated (``wants``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

_BLOCK_TAGS = {"div", "p", "dl", "ul", "ol", "section", "figure", "table", "details", "blockquote", "nav",
               "aside", "header", "footer", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)[\s>/]")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^>]*>")
_END_TAG = re.compile(r"</[a-zA-Z][a-zA-Z0-9]*\s*>")


def split_html_blocks(markdown: str, stash: Callable[[str], str]) -> str:
    """Replace each raw HTML block — from a blank line and a block-level start tag to the blank line
    after which every element it opened is closed — by what ``stash`` returns for it. A block runs
    on over blank lines until then, as in Python-Markdown: case text holding a blank line stays
    inside its element, never Markdown — also when it is in a later element of the block than the
    first (a table after a paragraph)."""
    out = []
    chunks = re.split(r"\n{2,}", markdown)
    i = 0
    while i < len(chunks):
        chunk = chunks[i]
        m = _BLOCK_START.match(chunk)
        if not (m and m.group(1).lower() in _BLOCK_TAGS and "markdown=" not in chunk):
            out.append(chunk)
            i += 1
            continue
        parts = [chunk]
        unclosed, carry = _unclosed(chunk, "")
        while unclosed > 0 and i + 1 < len(chunks):
            i += 1
            parts.append(chunks[i])
            more, carry = _unclosed(chunks[i], carry + "\n\n")
            unclosed += more
        out.append(stash("\n\n".join(parts)))
        i += 1
    return "\n\n".join(out)


def _unclosed(chunk: str, carry: str) -> tuple[int, str]:
    """Elements opened in ``carry + chunk`` and not closed in it (negative: it closes earlier
    ones), and the start of a tag it leaves unfinished (case text in an attribute value may hold a
    blank line), to be read with the next chunk. Case text is escaped — no '<' or '>' of its own —
    so every tag counted is one of ours, and each ends at the first '>' after its '<'."""
    html = carry + chunk
    cut = html.rfind("<")
    if cut != -1 and ">" not in html[cut:]:
        html, carry = html[:cut], html[cut:]
    else:
        carry = ""
    opened = sum(1 for m in _START_TAG.finditer(html) if m.group(1).lower() not in _VOID and not m.group(0).endswith("/>"))
    return opened - len(_END_TAG.findall(html)), carry


class _Stash(Preprocessor):
    def __init__(self, md: Markdown, wants: Callable[[], bool]) -> None:
        super().__init__(md)
        self.wants = wants

    def run(self, lines: list[str]) -> list[str]:
        if not self.wants():
            return lines
        return split_html_blocks("\n".join(lines), self.md.htmlStash.store).split("\n")


class HtmlBlocks(Extension):
    """``wants()`` is asked once per page converted: True for a generated page."""

    def __init__(self, wants: Callable[[], bool]) -> None:
        super().__init__()
        self.wants = wants

    def extendMarkdown(self, md: Markdown) -> None:
        # After normalize_whitespace (30), which strips Markdown's placeholder characters from the
        # source (so case text cannot forge one), and before the raw-HTML block parser (20).
        md.preprocessors.register(_Stash(md, self.wants), "casebook_html_blocks", 25)

    def __repr__(self) -> str:  # part of the incremental key (markdown_extensions): the same in every process
        return "casebook.mdstash.HtmlBlocks"
