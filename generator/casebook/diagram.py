"""Diagrams drawn from the data: a cluster's industry chain (挖竹笋 → 品竹宴 → 游竹乡 → 购竹品), and
the alliance's organisational framework with its partners around it (总引擎 → 主体 → 整合全区; 合作方).

A chain is drawn as inline SVG: one box per step in the source's order, joined by arrows. It goes
into the page through the chart slots (render.inline_charts sanitises every SVG there), so it is
neither parsed as Markdown nor indexed; its text alternative is the figure's caption, which lists the
steps in words (the SVG itself is aria-hidden). Case text is escaped wherever it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .models import Alliance, Chain, Cluster

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


# --------------------------------------------------------------------------- the alliance's framework

LABEL_W = 96  # px: the tier's role (总引擎, 主体 …) at the left of its row
ROW_GAP = 30  # px between rows, where the connector goes


def framework_id(alliance_id: str) -> str:
    return f"framework-{alliance_id}"


def framework_rows(alliance: Alliance) -> list[tuple[str, list[str]]]:
    """The framework's members by role, in the source's order, then the partners (合作方)."""
    rows: dict[str, list[str]] = {}
    for member in alliance.framework.members if alliance.framework else []:
        rows.setdefault(member.role, []).append(member.name)
    out = list(rows.items())
    if alliance.partners:
        out.append(("合作方", [p.name for p in alliance.partners]))
    return out


def framework_text(alliance: Alliance) -> str:
    return "；".join(f"{role}：{'、'.join(names)}" for role, names in framework_rows(alliance))


def framework_svg(alliance: Alliance) -> str:
    rows = framework_rows(alliance)
    box = max(_width(name) for _, names in rows for name in names) + 2 * PAD
    widest = max(len(names) for _, names in rows)
    width = MARGIN * 2 + LABEL_W + widest * box + (widest - 1) * (GAP // 2)
    height = MARGIN * 2 + len(rows) * HEIGHT + (len(rows) - 1) * ROW_GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'aria-hidden="true" focusable="false" class="cb-diagram">']
    span = width - MARGIN - LABEL_W
    for r, (role, names) in enumerate(rows):
        y = MARGIN + r * (HEIGHT + ROW_GAP)
        mid = y + HEIGHT / 2
        partners = role == "合作方" and r == len(rows) - 1 and alliance.partners
        parts.append(f'<text x="{MARGIN}" y="{mid:g}" dominant-baseline="central" font-size="{FONT}" font-weight="bold" '
                     f'class="cb-diagram-label">{escape(role)}</text>')
        row_w = len(names) * box + (len(names) - 1) * (GAP // 2)
        x0 = MARGIN + LABEL_W + (span - row_w) / 2
        for i, name in enumerate(names):
            x = x0 + i * (box + GAP // 2)
            dash = ' stroke-dasharray="4 3"' if partners else ""
            parts.append(f'<rect x="{x:g}" y="{y}" width="{box}" height="{HEIGHT}" rx="8" class="cb-diagram-box"{dash}/>')
            parts.append(f'<text x="{x + box / 2:g}" y="{mid:g}" text-anchor="middle" dominant-baseline="central" '
                         f'font-size="{FONT}" class="cb-diagram-label">{escape(name)}</text>')
        if r + 1 < len(rows):  # a connector down to the next tier (dashed to the partners: they cooperate)
            cx, y1, y2 = MARGIN + LABEL_W + span / 2, y + HEIGHT + 3, y + HEIGHT + ROW_GAP - 3
            nxt_partners = rows[r + 1][0] == "合作方" and r + 1 == len(rows) - 1 and alliance.partners
            if nxt_partners:
                parts.append(f'<path d="M{cx:g} {y1}V{y2}" class="cb-diagram-arrow" fill="none" stroke-width="2" '
                             'stroke-dasharray="4 3"/>')
            else:
                parts.append(f'<path d="M{cx:g} {y1}V{y2}M{cx - 5:g} {y2 - 6}L{cx:g} {y2}L{cx + 5:g} {y2 - 6}" '
                             'class="cb-diagram-arrow" fill="none" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def alliance_diagrams(alliance: Alliance | None) -> list[Diagram]:
    if alliance is None or not framework_rows(alliance):
        return []
    ident = framework_id(alliance.id)
    return [Diagram(ident, framework_svg(alliance), framework_text(alliance))]
