"""The experience write-up (经验材料): the casebook given back as a document, in the source's own shape.

This module decides what the document says and in which order; it knows nothing of Word or PDF.
The result is a small typed list of blocks (:class:`Title`, :class:`Heading`, :class:`Paragraph`,
:class:`FigureTable`, :class:`Closing`, :class:`Note`) that :mod:`casebook.writeup_docx` and
:mod:`casebook.writeup_pdf` lay out, so the two formats cannot say different things.

The shape follows the source write-up: a title; a lead paragraph; 一、 the alliance (framework,
digital management, standing mechanisms, resource strands with their examples); 二、 one （一）
section per cluster (its theme line as the heading, location, model, measures as 一是…二是…,
partners, projects, outcomes, a table of its figures); 三、 the lessons; then the issuing unit and
date, and a note on ``*``. A write-up of selected clusters keeps the clusters and the lessons they
show. Every fact the site's pages carry is here: quoted text exactly as the case files hold it,
``*`` as ``*`` (never a number), qualifiers (余/近/超…) where the source puts them — figure text,
years, states, titles and source labels all come from :mod:`casebook.present`.

Case text is untrusted: it only ever becomes the text of a run (never markup, a field code or a
style name), and characters that cannot stand in a document (controls, bidi overrides — the loader
refuses them in case files; this is the second line) are shown as visible escapes.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import present
from .book import Casebook
from .derive import ALLIANCE, Derived, cluster_order, derive, ordered_clusters, ordered_lessons
from .errors import HIDDEN, escape_char
from .models import (
    PARTNER_KIND_LABELS,
    PROJECT_STATUS_LABELS,
    Alliance,
    Cluster,
    Example,
    Lesson,
    Location,
    Measure,
    Mechanism,
    Milestone,
    Model,
    Observation,
    Partner,
    Source,
    Term,
)

UNKNOWN_ISSUER = "发布单位和日期不详"
TITLE_CHARS = 20  # characters of the 22 pt title in the 156 mm line (both formats cut it alike)
# The note a 经验材料 built from desensitised data ends with (GB/T 9704's 附注 place).
STAR_NOTE = f"文中“{present.DESENSITISED}”表示{present.DESENSITISED_NOTE}，不是 0，也不作估算"

# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Run:
    """A piece of text; ``bold`` marks the lead-in of a paragraph (一是……。)."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Heading:
    """A numbered heading: level 1 一、, level 2 （一）, level 3 1."""

    level: Literal[1, 2, 3]
    number: str
    text: str

    @property
    def full(self) -> str:
        return self.number + self.text


@dataclass(frozen=True)
class Paragraph:
    """Body text, first line indented two characters."""

    runs: tuple[Run, ...]

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class FigureTable:
    """A table of figures: its caption (表1　…), column heads, rows of text, and the notes under it
    (what ``*`` means, where the figures come from)."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


# The figure tables' columns by their relative widths (both formats lay them out alike).
COLUMN_SHARES = {"指标": 19, "数值": 14, "年份 / 时期": 15, "统计范围": 19, "原文": 33, "出处": 16, "来源": 16}


def column_shares(columns: Sequence[str]) -> list[int]:
    return [COLUMN_SHARES.get(c, 16) for c in columns]


@dataclass(frozen=True)
class ChartImage:
    """A chart of the figures (图1　…): its SVG as drawn for the site (the PDF embeds it as vector
    graphics, the Word file as a PNG at print resolution) and its summary in words (the alt text)."""

    caption: str
    svg: str
    summary: str


@dataclass(frozen=True)
class Closing:
    """The issuing unit and date at the end, right-aligned: lines of text."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """附注: after the date, in parentheses, indented like body text."""

    text: str


Block = Title | Heading | Paragraph | FigureTable | ChartImage | Closing | Note


@dataclass
class Writeup:
    """A document: its title, its blocks in order, and how it is to be named (file stem)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    mark: str = ""  # the edition's mark at the top of every page (present.Edition.mark: 内部资料)

    def text(self) -> str:
        """Every word of the document in order, one block a line (tests, search, diffs)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Title):
                out.append(b.text)
            elif isinstance(b, Heading):
                out.append(b.full)
            elif isinstance(b, Paragraph):
                out.append(b.text)
            elif isinstance(b, FigureTable):
                out += [b.caption, "\t".join(b.columns), *("\t".join(r) for r in b.rows), *b.notes]
            elif isinstance(b, Closing):
                out += list(b.lines)
            elif isinstance(b, ChartImage):
                out += [b.caption, b.summary]
            else:
                out.append(b.text)
        return "\n".join(out)


# --------------------------------------------------------------------------- text helpers


def clean(text: str) -> str:
    """Case text as it may stand in a document: characters no document can hold or that would
    reorder or hide text become visible escapes (the same spelling ``casebook check`` shows);
    a line break inside a value becomes a space (a run is one line of prose)."""
    text = HIDDEN.sub(lambda m: escape_char(m.group()), str(text))
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    # YAML folds a long value's lines with a space; between Chinese characters it is no space at all.
    return _CJK_GAP.sub("", text)


_WIDE = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u2018-\u201f\u2026"
_CJK_GAP = re.compile(f"(?<=[{_WIDE}]) +(?=[{_WIDE}])")
_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (heading numbers, 一是…二是…)."""
    if n < 0:
        raise ValueError(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + _DIGITS[rest]) if rest < 10 else (
            "一" + chinese_number(rest) if rest < 20 else chinese_number(rest))
        return _DIGITS[n // 100] + "百" + tail
    return str(n)


_BREAK_AFTER = "的、，；与和及"


def balanced_lines(text: str, per_line: int) -> list[str]:
    """A title too long for one line, cut into lines of nearly equal length (GB/T 9704 7.3.3: a
    title that runs over keeps words whole and its lines symmetric): each cut falls near the
    even share, after a particle or a pause mark (的 、 ，) where one is within four characters,
    never inside quotation or title marks."""
    if len(text) <= per_line:
        return [text]
    n = -(-len(text) // per_line)
    lines, rest = [], text
    for left in range(n, 1, -1):
        share = round(len(rest) / left)
        depth, allowed = 0, []
        for ch in rest:
            depth += ch in "“‘《（(「"
            depth -= ch in "”’》）)」"
            allowed.append(depth <= 0)
        cands = [i for i in range(max(1, share - 4), min(len(rest) - 1, share + 4) + 1)
                 if allowed[i - 1] and rest[i - 1] in _BREAK_AFTER and i <= per_line]
        cut = min(cands, key=lambda i: abs(i - share)) if cands else min(
            (i for i in range(1, min(len(rest), per_line + 1)) if allowed[i - 1]),
            key=lambda i: abs(i - share), default=min(share, per_line))
        lines.append(rest[:cut])
        rest = rest[cut:]
    lines.append(rest)
    return lines


def heading_number(level: int, n: int) -> str:
    """GB/T 9704's numbering of structure levels: 一、 · （一） · 1."""
    if level == 1:
        return f"{chinese_number(n)}、"
    if level == 2:
        return f"（{chinese_number(n)}）"
    return f"{n}."


def ordinal_lead(n: int) -> str:
    """一是 · 二是 … (measures in prose)."""
    return f"{chinese_number(n)}是"


def quoted(text: str) -> str:
    """A verbatim phrase marked as quoted: “…” around it, unless it already carries its own
    quotation or title marks (“*+*+*”组织框架, 《焦点访谈》), which are kept exactly as they are."""
    text = clean(text)
    if any(ch in text for ch in "“”‘’《》「」"):
        return text
    return f"“{text}”"


def quoted_list(items: Iterable[str]) -> str:
    return "、".join(quoted(t) for t in items)


def sentence(text: str) -> str:
    """A clause closed with a full stop unless it already ends a sentence."""
    text = clean(text).strip()
    if not text:
        return ""
    return text if text[-1] in "。！？…" else text + "。"


def plain(*parts: str) -> Paragraph:
    return Paragraph(tuple(Run(clean(p)) for p in parts if p))


def lead_in(label: str, *parts: str) -> Paragraph:
    """A paragraph opening with a bold lead-in (一是农田建设强根基。), the rest plain."""
    runs = [Run(clean(label), bold=True)]
    runs += [Run(clean(p)) for p in parts if p]
    return Paragraph(tuple(runs))


def date_text(date: _dt.date) -> str:
    """GB/T 9704's date: Arabic numerals, year, month and day in full (2024年5月10日)."""
    return f"{date.year}年{date.month}月{date.day}日"


def location_text(loc: Location) -> str:
    place = "".join(p for p in (loc.district, loc.town, loc.village) if p)
    return place + (f"（{clean(loc.note).rstrip('。')}）" if loc.note else "")


# --------------------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, book: Casebook, d: Derived, charts: bool = True) -> None:
        self.book, self.d, self.with_charts = book, d, charts
        self.blocks: list[Block] = []
        self.counters = [0, 0, 0]
        self.tables = 0
        self.images = 0

    # ---- structure

    def heading(self, level: Literal[1, 2, 3], text: str) -> None:
        self.counters[level - 1] += 1
        for deeper in range(level, 3):
            self.counters[deeper] = 0
        self.blocks.append(Heading(level, heading_number(level, self.counters[level - 1]), clean(text)))

    def para(self, block: Paragraph | None) -> None:
        if block is not None and block.text.strip():
            self.blocks.append(block)

    def source_line(self, ref: str | None) -> None:
        label = present.source_label(self.book.sources, ref)
        if label:
            self.para(plain(f"资料来源：{label}。"))

    # ---- shared pieces

    def terms_sentence(self, terms: Sequence[str], lead: str = "主要提法") -> str:
        return f"{lead}：{quoted_list(terms)}。" if terms else ""

    def measures(self, items: Sequence[Measure]) -> None:
        """Measures in the source's prose form: 一是……。二是……。 one paragraph each."""
        for i, me in enumerate(items, start=1):
            self.para(lead_in(f"{ordinal_lead(i)}{sentence(me.title)}", sentence(me.description),
                              self.terms_sentence(me.terms)))

    def mechanisms(self, items: Sequence[Mechanism]) -> None:
        for i, mech in enumerate(items, start=1):
            self.para(lead_in(f"{ordinal_lead(i)}{clean(mech.name)}{_paren(basis_mark(mech, 'label'))}。",
                              sentence(mech.description), self.terms_sentence(mech.terms),
                              _editorial_note(mech), self.shows(mech.id)))

    def shows(self, linkable_id: str) -> str:
        lessons = self.d.lessons_by_linkable.get(linkable_id, [])
        if not lessons:
            return ""
        return f"体现的经验启示：{'；'.join(clean(x.title) + _paren(basis_mark(x, 'link')) for x in lessons)}。"

    def terms_items(self, items: Sequence[Term]) -> str:
        """Named things with what they are: items sharing one description are named together."""
        groups: list[tuple[list[str], str | None]] = []
        for t in items:
            if groups and groups[-1][1] == t.description:
                groups[-1][0].append(t.name)
            else:
                groups.append(([t.name], t.description))
        parts = []
        for names, desc in groups:
            parts.append(quoted_list(names) + (f"（{clean(desc).rstrip('。')}）" if desc else ""))
        return "；".join(parts)

    def partners(self, items: Sequence[Partner], who: str) -> None:
        if not items:
            return
        parts = []
        for p in items:
            role = f"，{clean(p.role).rstrip('。')}" if p.role else ""
            parts.append(f"{clean(p.name)}（{PARTNER_KIND_LABELS[p.kind]}）{role}")
        self.para(plain(f"参与{who}建设的合作方有：{'；'.join(parts)}。"))

    def milestones(self, items: Sequence[Milestone]) -> str:
        parts = []
        for ms in items:
            quote = f"（原文：“{clean(ms.quote)}”）" if ms.quote else ""
            parts.append(f"{present.year_text(ms.year)}，{clean(ms.event).rstrip('。')}{quote}")
        return f"大事记：{'；'.join(parts)}。" if parts else ""

    def lessons_here(self, owner_id: str) -> str:
        lessons = self.d.lessons_for(owner_id)
        if not lessons:
            return ""
        titles = (f"{x.order}. {clean(x.title)}{_paren(basis_mark(x, 'link'))}" for x in lessons)
        return f"体现的经验启示：{'；'.join(titles)}。"

    def figures(self, observations: Sequence[Observation], default_source: str, whole: str, what: str) -> None:
        """A table of figures with units, years, scope and the source's words; its notes say what
        ``*`` means and where the figures come from (one line when they share a source)."""
        if not observations:
            self.para(plain(f"{what}暂无数据。"))
            return
        refs = [o.source or default_source for o in observations]
        one_source = len(set(refs)) == 1
        columns: tuple[str, ...] = ("指标", "数值", "年份 / 时期", "统计范围", "原文")
        # Rows citing different sections of one document name the section only; the note names the document.
        docs = {r.partition("/")[0] for r in refs}
        doc = self.book.sources.get(next(iter(docs))) if len(docs) == 1 else None
        prefix = f"{doc.title} · " if doc is not None else ""
        if not one_source:
            columns += ("出处" if doc is not None else "来源",)
        rows = []
        for obs, ref in zip(observations, refs, strict=True):
            ind = self.book.indicators.get(obs.indicator)
            quote = f"“{clean(obs.quote)}”" if obs.quote else ""
            if obs.note:
                quote = f"{quote}（{clean(obs.note).rstrip('。')}）" if quote else clean(obs.note)
            row: tuple[str, ...] = (clean(ind.name) if ind else obs.indicator, present.figure_text(obs),
                   clean(present.when_text(obs)), clean(obs.scope or whole), quote)
            if not one_source:
                label = present.source_label(self.book.sources, ref)
                row += (clean(label.removeprefix(prefix) if prefix else label),)
            rows.append(row)
        # A column with nothing in it (no figure quotes the source, say) is left out.
        keep = [i for i, _ in enumerate(columns) if i < 2 or any(row[i] for row in rows)]
        columns = tuple(columns[i] for i in keep)
        rows = [tuple(row[i] for i in keep) for row in rows]
        self.tables += 1
        notes = []
        hidden = sum(1 for o in observations if present.disclosure(o) == "desensitised")
        if hidden:
            notes.append(f"注：{present.DESENSITISED} 表示{present.DESENSITISED_NOTE}（本表 {hidden} 项），不是 0，也不作估算。")
        missing = sum(1 for o in observations if present.disclosure(o) == "missing")
        if missing:
            state = present.STATES["missing"]
            notes.append(f"“{state.label}”表示{state.note}（本表 {missing} 项）。")
        if one_source and refs[0] != default_source:
            notes.append(f"来源：{clean(present.source_label(self.book.sources, refs[0]))}。")
        elif not one_source and doc is not None:
            notes.append(f"来源：{clean(doc.title)}（“出处”列为其中的章节）。")
        self.blocks.append(FigureTable(f"表{self.tables}　{clean(what)}主要数据", columns, tuple(rows), tuple(notes)))

    def charts(self, c: Cluster) -> None:
        """The cluster's trend charts, as the site draws them (two or more disclosed years each)."""
        if not self.with_charts:
            return
        from .charts import ChartRenderer
        from .charts import render as draw
        from .render import cluster_charts

        charts = cluster_charts(self.book, c)
        draw(charts, ChartRenderer(None))
        for chart in charts:
            self.images += 1
            self.blocks.append(ChartImage(f"图{self.images}　{clean(chart.title)}", chart.svg, clean(chart.summary)))

    # ---- the alliance

    def alliance(self, a: Alliance) -> None:
        self.heading(1, _part_title(self.book, a.source) or f"{a.name}的做法")
        self.heading(2, "共建各方与组织框架")
        facts = [f"{clean(a.name)}位于{location_text(a.location)}。"]
        if a.parties:
            community = f"，共建{quoted(a.community)}" if a.community else ""
            facts.append(f"共建各方为{'、'.join(clean(p) for p in a.parties)}{community}。")
        elif a.community:
            facts.append(f"共同体名称为{quoted(a.community)}。")
        self.para(plain(*facts))
        if a.framework:
            fw = a.framework
            members = []
            by_role: dict[str, list[str]] = {}
            for mem in fw.members:
                by_role.setdefault(mem.role, []).append(
                    clean(mem.name) + (f"（{clean(mem.description).rstrip('。')}）" if mem.description else ""))
            for role, names in by_role.items():
                members.append(f"{clean(role)}：{'、'.join(names)}")
            self.para(lead_in(f"组织框架：{quoted(fw.formula)}。", sentence(fw.description),
                              f"其组成是，{'；'.join(members)}。" if members else ""))
        if a.background:
            self.para(plain(f"材料引述的论述：{'；'.join(f'“{clean(_said(t))}”' for t in a.background)}。"))
        if a.principles:
            self.para(plain(f"工作方针：{quoted_list(_said(t) for t in a.principles)}。"))
        self.para(plain(self.milestones(a.milestones)))
        if a.digital_scenarios or a.digital_features:
            self.heading(2, "数字化管理")
            if a.digital_scenarios:
                self.para(plain(f"数字化应用场景有：{self.terms_items(a.digital_scenarios)}。"))
            self.measures(a.digital_features)
        if a.models:
            self.heading(2, "发展模式")
            self.models(a.models)
        if a.mechanisms:
            self.heading(2, "长效运转机制")
            self.mechanisms(a.mechanisms)
        if a.strands:
            self.heading(2, "资源路径")
            for st in a.strands:
                self.heading(3, st.title)
                self.para(plain(sentence(st.description), self.terms_sentence(st.terms), self.shows(st.id)))
                for ex in a.examples:
                    if ex.strand == st.id:
                        self.example(ex)
        if a.partners or a.programmes:
            self.heading(2, "合作方与活动、产品")
            self.partners(a.partners, "联盟")
            if a.programmes:
                self.para(plain(f"开展的活动和推出的产品有：{self.terms_items(a.programmes)}。"))
        self.heading(2, "联盟层面的数据")
        self.figures(a.observations, a.source, "全区", clean(a.name))
        self.para(plain(self.lessons_here(ALLIANCE)))
        self.source_line(a.source)

    def models(self, models: Iterable[Model]) -> None:
        for mo in models:
            # 四带共富 is written “四带共富”模式; a name that already ends in 模式 is not doubled.
            name = quoted(mo.name) + ("" if clean(mo.name).endswith("模式") else "模式")
            formula = f"即{quoted(mo.formula)}。" if mo.formula else ""
            examples = [clean(link.name) for ex_id in mo.examples if (link := self.d.linkables.get(ex_id))]
            shown = f"体现的事例：{'、'.join(examples)}。" if examples else ""
            self.para(lead_in(f"{name}{_paren(basis_mark(mo, 'label'))}。", formula, sentence(mo.description),
                              shown, _editorial_note(mo), self.shows(mo.id)))

    def example(self, ex: Example) -> None:
        place = f"（{clean(ex.place)}）" if ex.place else ""
        self.para(lead_in(f"如{quoted(ex.name)}{place}。", sentence(ex.description),
                          self.terms_sentence(ex.terms), self.shows(ex.id)))

    # ---- clusters

    def cluster(self, c: Cluster, level: Literal[1, 2]) -> None:
        # The source's own heading for a cluster: its name, then its theme line.
        self.heading(level, f"{present.cluster_title(c)}，{c.theme}")
        sub: Literal[2, 3] = 3 if level == 2 else 2
        self.para(plain(sentence(c.summary)))
        facts = [f"组团位于{location_text(c.location)}。"]
        if c.villages:
            facts.append(f"原文点名的村有{'、'.join(clean(v) for v in c.villages)}。")
        if c.industries:
            facts.append(f"主导产业为{'、'.join(clean(i) for i in c.industries)}。")
        if c.layout:
            facts.append(f"空间布局：{self.terms_items(c.layout)}。")
        if c.patterns:
            facts.append(f"发展格局：{self.terms_items(c.patterns)}。")
        for chain in c.chains:
            name = "产业链" if clean(chain.name) == "产业链" else quoted(chain.name)
            facts.append(f"{name}的环节依次为{'、'.join(quoted(step) for step in chain.steps)}。")
        self.para(plain(*facts))
        if c.models:
            self.heading(sub, "发展模式")
            self.models(c.models)
        if c.mechanisms:
            self.heading(sub, "工作机制")
            self.mechanisms(c.mechanisms)
        if c.measures:
            self.heading(sub, "主要举措")
            self.measures(c.measures)
        if c.partners or c.projects:
            self.heading(sub, "合作方与项目" if c.partners and c.projects else "合作方" if c.partners else "重点项目")
            self.partners(c.partners, "组团")
            for p in c.projects:
                status = f"（{PROJECT_STATUS_LABELS[p.status]}）" if p.status else ""
                functions = f"功能包括{'、'.join(clean(f) for f in p.functions)}。" if p.functions else ""
                self.para(lead_in(f"{quoted(p.name)}{status}。", sentence(p.description), functions))
        if c.outcomes or c.slogans or c.milestones:
            self.heading(sub, "主要成效")
            for o in c.outcomes:
                self.para(plain(sentence(o.description), self.terms_sentence(o.terms, "原文表述")))
            if c.slogans:
                self.para(plain(f"组团的口号与提法：{quoted_list(c.slogans)}。"))
            self.para(plain(self.milestones(c.milestones)))
        self.heading(sub, "主要数据")
        self.figures(c.observations, c.source, "全组团", present.cluster_title(c))
        self.charts(c)
        self.para(plain(self.lessons_here(c.id)))
        self.source_line(c.source)

    # ---- lessons

    def lesson(self, lesson: Lesson, level: Literal[1, 2]) -> None:
        self.heading(level, lesson.title)
        self.para(plain(sentence(lesson.summary)))
        if lesson.key_phrases:
            self.para(plain(f"原文要语：{quoted_list(lesson.key_phrases)}。"))
        shown_by = [clean(self.d.owners[cid].name) for cid in lesson.clusters if cid in self.d.owners]
        shown_by += [f"{clean(link.name)}（{clean(link.owner.name)}）"
                     for _, _, mid in lesson.refs if (link := self.d.linkables.get(mid)) is not None]
        if shown_by:
            mark = _paren(basis_mark(lesson, "link"))
            self.para(plain(f"体现这条启示的组团与做法{mark}：{'；'.join(shown_by)}。"))
        note = _editorial_reason(lesson)
        if note:
            self.para(plain(f"{'关联理由' if basis_mark(lesson, 'link') else '关联说明'}：{sentence(note)}"))
        self.source_line(lesson.source)

    # ---- the end

    def closing(self, refs: Iterable[str | None]) -> None:
        """Issuing unit and date from the source document the write-up draws on; 发布单位和日期不详
        where it gives neither (the seed's does not)."""
        doc = _main_source(self.book, refs)
        publisher = clean(doc.publisher) if doc is not None and doc.publisher else None
        date = date_text(doc.date) if doc is not None and doc.date else None
        if publisher is None and date is None:
            lines: tuple[str, ...] = (UNKNOWN_ISSUER,)
        else:
            lines = (publisher or "发布单位不详", date or "日期不详")
        self.blocks.append(Closing(lines))
        notes = [STAR_NOTE]
        if doc is not None and (mark := basis_mark(doc, "label")):
            reason = _editorial_reason(doc)
            notes.insert(0, f"题名“{clean(doc.title)}”为{mark}" + (f"：{clean(reason).rstrip('。')}" if reason else ""))
        self.blocks.append(Note(f"（{'。'.join(notes)}。）"))


def _paren(mark: str) -> str:
    return f"（{mark}）" if mark else ""


def _said(item: object) -> str:
    """A quoted statement's text, whether the model holds it bare or with its source."""
    return str(getattr(item, "text", item))


def _editorial_reason(item: object) -> str | None:
    """Why the editors named or linked something (``reason``; ``link_note`` in older case files)."""
    return getattr(item, "reason", None) or getattr(item, "link_note", None)


def basis_mark(item: object, kind: Literal["label", "link"]) -> str:
    """The mark an editorial choice carries wherever it shows: 编者拟定 for a name or label the
    source does not give, 编者关联 for a link it does not state; "" for the source's own."""
    if getattr(item, "basis", "source") != "editorial":
        return ""
    return present.EDITORIAL_MARKS[kind]


def _editorial_note(item: object) -> str:
    """Why the editors named something the source does not (a model, a mechanism), where they did."""
    reason = _editorial_reason(item) if basis_mark(item, "label") else None
    return f"编者说明：{sentence(reason)}" if reason else ""


def _part_title(book: Casebook, ref: str | None) -> str | None:
    """The source's own numbered part heading a reference points at (一、强化党建统领…), without
    its number (the write-up numbers its parts itself); None when the section is not a numbered part."""
    doc_id, _, section_id = (ref or "").partition("/")
    doc = book.sources.get(doc_id)
    for sec in doc.sections if doc is not None else []:
        if sec.id == section_id:
            m = _PART.match(sec.title)
            return m.group(1) if m else None
    return None


_PART = re.compile(r"^[一二三四五六七八九十]+、\s*(\S.*)$")


def _main_source(book: Casebook, refs: Iterable[str | None]) -> Source | None:
    """The source document most of the write-up's material cites (ties: the first cited)."""
    counts: dict[str, int] = {}
    for ref in refs:
        if ref:
            doc_id = ref.partition("/")[0]
            counts[doc_id] = counts.get(doc_id, 0) + 1
    known = [(n, doc_id) for doc_id, n in counts.items() if doc_id in book.sources]
    if not known:
        return None
    best = max(n for n, _ in known)
    return book.sources[next(doc_id for n, doc_id in known if n == best)]


# --------------------------------------------------------------------------- entry point


class UnknownCluster(ValueError):
    """A cluster id asked for that the casebook does not have (the CLI says it in Chinese)."""

    def __init__(self, missing: list[str], known: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing, self.known = missing, known


def build_writeup(book: Casebook, cluster_ids: Sequence[str] | None = None, derived: Derived | None = None,
                  charts: bool = True, mark: str = "") -> Writeup:
    """The write-up of a valid casebook: the whole of it, or only ``cluster_ids`` (in the casebook's
    order) with the lessons they show. Raises :class:`UnknownCluster` for an id it does not have.
    ``charts``: the trend charts after each figures table (see _Builder.charts)."""
    d = derived or derive(book)
    if cluster_ids:
        missing = [cid for cid in dict.fromkeys(cluster_ids) if cid not in book.clusters]
        if missing:
            raise UnknownCluster(missing, [c.id for c in ordered_clusters(book)])
        # Sorted alone, not picked from the whole casebook's order: a province's thousands of
        # one-cluster write-ups each sorted every cluster (minutes at 10,000).
        clusters = sorted((book.clusters[cid] for cid in dict.fromkeys(cluster_ids)), key=cluster_order)
    else:
        clusters = ordered_clusters(book)
    whole = not cluster_ids
    b = _Builder(book, d, charts)
    alliance = book.alliance if whole else None
    lessons = ordered_lessons(book)
    if not whole:
        shown_ids = {x.id for c in clusters for x in d.lessons_for(c.id)}
        lessons = [x for x in lessons if x.id in shown_ids]
    refs: list[str | None] = []
    if whole:
        title = _book_title(book, alliance, clusters)
    else:
        title = "、".join(present.cluster_title(c) for c in clusters) + "经验材料"
    b.blocks.append(Title(clean(title)))
    # The lead: the alliance's summary for the whole casebook, the clusters' for a selection.
    if alliance is not None:
        b.para(plain(sentence(alliance.summary)))
        refs.append(alliance.source)
    n_clusters, n_lessons = chinese_number(len(clusters)), chinese_number(len(lessons))
    if whole:
        b.para(plain(f"本材料介绍{n_clusters}个组团的做法与成效，总结{n_lessons}条经验启示。"
                     if lessons else f"本材料介绍{n_clusters}个组团的做法与成效。"))
    if alliance is not None:
        b.alliance(alliance)
    if whole or len(clusters) > 1:
        b.heading(1, "各组团的做法与成效")
        for c in clusters:
            b.cluster(c, 2)
    else:
        for c in clusters:
            b.cluster(c, 1)
    refs += [c.source for c in clusters]
    if lessons:
        b.heading(1, "经验启示")
        for lesson in lessons:
            b.lesson(lesson, 2)
        refs += [x.source for x in lessons]
    b.closing(refs)
    return Writeup(clean(title), b.blocks, mark)


def _book_title(book: Casebook, alliance: Alliance | None, clusters: Sequence[Cluster]) -> str:
    """The whole casebook's title: the title of the source document it is drawn from (the seed's is
    an editor's title, noted as such in sources.yaml), or the site's name."""
    from .pages import SITE_NAME

    refs = [alliance.source] if alliance is not None else [c.source for c in clusters]
    doc = _main_source(book, refs)
    return doc.title if doc is not None else SITE_NAME


def writeup_key(book: Casebook, cluster_ids: Sequence[str] | None = None) -> str:
    """What a write-up is made from: every model it may show (the whole casebook's validated data)
    and the selection; the cache key of a document adds the layout and the code."""
    from .store import content_hash

    parts = [x.model_dump_json() for x in ordered_clusters(book)]
    parts += [x.model_dump_json() for x in ordered_lessons(book)]
    parts += [x.model_dump_json() for x in book.indicators.values()]
    parts += [x.model_dump_json() for x in book.sources.values()]
    parts.append(book.alliance.model_dump_json() if book.alliance else "")
    parts.append("\0".join(cluster_ids or ()))
    return content_hash(*parts)
