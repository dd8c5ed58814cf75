"""Diagrams drawn from the data: a cluster's industry chain (挖竹笋 → 品竹宴 → 游竹乡 → 购竹品).

A chain is drawn as inline SVG: one box per step in the source's order, joined by arrows. It goes
into the page through the chart slots (render.inline_charts sanitises every SVG there), so it is
neither parsed as Markdown nor indexed; its text alternative is the figure's caption, which lists the
steps in words (the SVG itself is aria-hidden). Case text is escaped wherever it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .models import Chain, Cluster

FONT = 15  # px; every step is a few Chinese characters, each one em wide
PAD = 12  # px inside a box, each side
GAP = 26  # px between boxes, where the arrow goes
HEIGHT = 44
MARGIN = 2


@dataclass(frozen=True)
class Diagram:
    id: str
    svg: str
    text: str  # the diagram in words: its text alternative


def chain_id(cluster_id: str, index: int) -> str:
    return f"chain-{cluster_id}-{index + 1}"


def chain_text(chain: Chain) -> str:
    """The chain in words, as the caption and the SVG's description say it."""
    return f"{chain.name}：{' → '.join(chain.steps)}"


def _width(text: str) -> int:
    # Wide (CJK) characters take one em; narrow ones about half (the box is sized for the longest step).
    return sum(FONT if ord(ch) > 0x2E7F else FONT // 2 + 1 for ch in text)


def chain_svg(chain: Chain) -> str:
    box = max(_width(step) for step in chain.steps) + 2 * PAD
    count = len(chain.steps)
    width = MARGIN * 2 + count * box + (count - 1) * GAP
    height = MARGIN * 2 + HEIGHT
    mid = MARGIN + HEIGHT / 2
    # Hidden from assistive technology, like the charts: the figure's caption says the same in words.
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'aria-hidden="true" focusable="false" class="cb-diagram">']
    for i, step in enumerate(chain.steps):
        x = MARGIN + i * (box + GAP)
        parts.append(f'<rect x="{x}" y="{MARGIN}" width="{box}" height="{HEIGHT}" rx="8" class="cb-diagram-box"/>')
        parts.append(f'<text x="{x + box / 2:g}" y="{mid:g}" text-anchor="middle" dominant-baseline="central" '
                     f'font-size="{FONT}" class="cb-diagram-label">{escape(step)}</text>')
        if i + 1 < count:
            a, b = x + box + 4, x + box + GAP - 4
            parts.append(f'<path d="M{a} {mid:g}H{b - 2}M{b - 8} {mid - 5:g}L{b - 2} {mid:g}L{b - 8} {mid + 5:g}" '
                         'class="cb-diagram-arrow" fill="none" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def cluster_diagrams(cluster: Cluster) -> list[Diagram]:
    out = []
    for i, chain in enumerate(cluster.chains):
        ident = chain_id(cluster.id, i)
        out.append(Diagram(ident, chain_svg(chain), chain_text(chain)))
    return out
