"""Presentation rules, in one place: how a figure, a year, a figure's state, a source, a cluster's
title and every generated URL read, wherever they are shown — the site's pages (through the Jinja
globals and filters :func:`casebook.render.environment` registers), the downloads, `casebook check
--completeness`, `casebook diff` and the charts' words. Nothing else spells these out, so the
copies cannot drift apart; templates never build a URL or a figure's text themselves (the
project's tests parse every template to make sure).

Case text is untrusted here as everywhere: HTML comes out as :class:`markupsafe.Markup` built with
``Markup.format`` (which escapes every argument), and every id that goes into a URL or an anchor is
checked to be a plain slug first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from markupsafe import Markup, escape

from .figures import DESENSITISED, qualifier_parts, strip_zeros
from .models import Cluster, Observation, Source

if TYPE_CHECKING:
    from .charts import Point

# --------------------------------------------------------------------------- numbers and figures


def number(value: Decimal) -> str:
    """A disclosed number as it reads everywhere: exact, thousands grouped, never in exponent form
    (32,000 · 1.5 · 0.000001)."""
    return f"{strip_zeros(value):,f}"


StateName = Literal["disclosed", "desensitised", "missing"]


@dataclass(frozen=True)
class State:
    label: str  # the word for the state, the same on the site, in the CLI and in the downloads
    mark: str  # its sign in the completeness matrix
    note: str  # what it means, where a word needs explaining (legend, tooltip)


# The three states a figure can be in, with one wording each everywhere. Each names what the source
# did with the number: gave it, hid it behind '*', or did not give it. The third is 未给出, not 未知
# ("unknown" claims no one knows the number — the source's authors may well; we only know the source
# does not state it) and not 缺失 ("missing" reads as a gap the editors left to fill). It covers a
# figure recorded without a value (the source names the fact but no exact number, e.g. 数十人) and a
# cluster × indicator with no figure at all: in both, the source gives no number.
STATES: dict[StateName, State] = {
    "disclosed": State("已公开", "●", "原文给出数字"),
    "desensitised": State("已脱敏", DESENSITISED, "原文以 * 代替"),
    "missing": State("未给出", "·", "原文未给出确切数字"),
}
STATE_LABELS: dict[StateName, str] = {name: s.label for name, s in STATES.items()}
STATE_MARKS: dict[StateName, str] = {name: s.mark for name, s in STATES.items()}
# How a '*' is explained where it is shown (its tooltip, the notices): it is never a number.
DESENSITISED_NOTE = "原文已脱敏，具体数值未公开"


def disclosure(obs: Observation) -> StateName:
    """The state of one figure: 'disclosed', 'desensitised' or 'missing'."""
    if obs.value is None:
        return "missing"
    return "desensitised" if obs.value.value == DESENSITISED else "disclosed"


def figure_words(value: Decimal | str | None, qualifier: str | None = None, unit: str | None = None) -> str:
    """A figure as plain text from its parts: 近*人, *余万元, *人以上, 3.2亿元; no value reads 未给出
    (its qualifier and unit say nothing without a number)."""
    if value is None:
        return STATES["missing"].label
    body = value if isinstance(value, str) else number(value)
    before, between, after = qualifier_parts(qualifier)
    return before + body + between + (unit or "") + after


def figure_text(obs: Observation, with_unit: bool = True) -> str:
    """An observation's figure as plain text (downloads, diff, prose): the text of :func:`figure_html`."""
    return figure_words(None if obs.value is None else obs.value.value, obs.qualifier,
                        (obs.unit or "") if with_unit else "")


def figure_html(obs: Observation, with_unit: bool = True) -> Markup:
    """An observation's figure as it reads on a page: '*' is marked and explained, never shown as a
    number, and a figure the source does not give says so. Its text is :func:`figure_text`'s."""
    state = disclosure(obs)
    if obs.value is None:
        missing = STATES["missing"]
        return Markup('<span class="cb-fig cb-missing" title="{}">{}</span>').format(missing.note, missing.label)
    if state == "desensitised":
        # tabindex: a tap or Tab focuses the '*', and the stylesheet then shows its title, which
        # touch screens never show as a tooltip.
        body = Markup('<abbr class="cb-star" title="{}" tabindex="0">{}</abbr>').format(DESENSITISED_NOTE, DESENSITISED)
    else:
        assert isinstance(obs.value.value, Decimal)
        body = escape(number(obs.value.value))
    unit = (obs.unit or "") if with_unit else ""
    before, between, after = qualifier_parts(obs.qualifier)  # 不足*人, *余万元, *人以上
    return Markup('<span class="cb-fig cb-{}">{}{}{}{}{}</span>').format(state, before, body, between, unit, after)


def point_text(point: Point, unit: str) -> str:
    """A chart point as its summary and its table read it: the figure, or '*（脱敏）' for a gap —
    the table lists what the chart draws, and a '*' is drawn as a gap, not as a figure."""
    if not point.disclosed:
        return f"{DESENSITISED}（脱敏）"
    return figure_words(point.amount, point.qualifier, unit)


def point_state(point: Point) -> StateName:
    """A chart point's state (a point is never missing: only figures with a value are drawn)."""
    return "disclosed" if point.disclosed else "desensitised"


# --------------------------------------------------------------------------- editorial choices

# The mark an editorial choice carries wherever it shows (models.Basis "editorial"): a link the
# source does not state (a lesson and the clusters and mechanisms that show it) reads 编者关联; a
# name or label it does not give (a model's name, a document's title) reads 编者拟定. One wording
# each, on the pages and in the downloads alike.
EDITORIAL_MARKS: dict[str, str] = {"link": "编者关联", "label": "编者拟定"}


# --------------------------------------------------------------------------- years and periods


def year_text(year: int | str | None) -> str:
    """2023年, *年 (a desensitised year), or 年份未注明."""
    return "年份未注明" if year is None else f"{year}年"


def when_text(obs: Observation) -> str:
    """A figure's year and period: 2023年 · 累计; 未注明 when it has neither."""
    parts = [year_text(obs.year)] if obs.year is not None else []
    if obs.period:
        parts.append(obs.period)
    return " · ".join(parts) or "未注明"


# GB/T 15834 (标点符号用法): a quotation inside a quotation takes single marks. A quoted value that
# holds the source's own “…” (打造“十里稻香”共同富裕联合体) is shown in <q> — which adds the outer
# “…” — with its inner marks as ‘…’, never as “…“十里稻香”…”. The data keeps the source's marks.
_INNER_QUOTES = str.maketrans({"\u201c": "\u2018", "\u201d": "\u2019"})


def inner_quotes(text: str) -> str:
    """``text`` as it stands inside a quotation: a value wholly in “…” loses that pair (the <q>
    supplies it); any other “…” in it becomes ‘…’."""
    if len(text) > 1 and text[0] == "\u201c" and text[-1] == "\u201d" and not any(q in text[1:-1] for q in "\u201c\u201d"):
        text = text[1:-1]
    return text.translate(_INNER_QUOTES)


def quote_html(text: str) -> Markup:
    """A quoted value as <q>…</q>, its own quotation marks turned single (see _INNER_QUOTES)."""
    return Markup(f"<q>{escape(inner_quotes(text))}</q>")


WHOLE_SCOPE = {"cluster": "全组团", "alliance": "全区"}  # what a figure without a scope covers, by owner kind


def scope_text(obs: Observation, owner_kind: str = "cluster") -> str:
    """What a figure covers: its scope (旷野公园, “虹心”党建联盟) or the whole owner (全组团 / 全区)."""
    return obs.scope or WHOLE_SCOPE.get(owner_kind, "")


def figure_label(name: str, obs: Observation) -> str:
    """A figure's label where it stands apart from its table (a card, a chart, a compare cell): the
    indicator's or owner's name with the figure's scope, so a project's investment never reads as the
    whole cluster's: 投资额（旷野公园）."""
    return f"{name}（{obs.scope}）" if obs.scope else name


# --------------------------------------------------------------------------- titles and sources


def cluster_title(cluster: Cluster) -> str:
    """A cluster as it is named in titles, links, the navigation, downloads and diffs."""
    return f"“{cluster.name}”组团"


@dataclass(frozen=True)
class SourceLink:
    label: str  # 文档题名 · 章节
    url: str  # site-relative, on the sources page


def source_link(sources: Mapping[str, Source], ref: str | None) -> SourceLink | None:
    """Where a source reference (``doc`` or ``doc/section``) points: its label and its URL; None
    when there is none or its document is not listed. An unknown section falls back to its document."""
    if not ref:
        return None
    doc_id, _, section_id = ref.partition("/")
    doc = sources.get(doc_id)
    if doc is None:
        return None
    for sec in doc.sections:
        if sec.id == section_id:
            return SourceLink(f"{doc.title} · {sec.title}", source_url(doc_id, section_id))
    return SourceLink(doc.title, source_url(doc_id))


def source_links(sources: Mapping[str, Source]) -> Callable[[str | None], SourceLink | None]:
    """:func:`source_link` over one casebook's sources, each reference worked out once (a
    thousand clusters' pages and tables ask for the same few a hundred thousand times)."""
    memo: dict[str | None, SourceLink | None] = {}

    def link(ref: str | None) -> SourceLink | None:
        if ref not in memo:
            memo[ref] = source_link(sources, ref)
        return memo[ref]

    return link


def source_labels(sources: Mapping[str, Source]) -> Callable[[str | None], str]:
    """:func:`source_label` over one casebook's sources, each reference worked out once."""
    link = source_links(sources)
    return lambda ref: (found.label if (found := link(ref)) else (ref or ""))


def source_label(sources: Mapping[str, Source], ref: str | None) -> str:
    """A source reference as text (a download's 来源 column): its label, or the reference itself."""
    return source_labels(sources)(ref)


# --------------------------------------------------------------------------- URLs
#
# Every URL is site-relative and directory style ("cases/grain-store/", "" for the home page);
# pages link to one another through render's `href`, which makes it relative to the page.

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Anchors: slugs, category and partner-kind names (social_organisation) and section ids (part-2.1).
_ANCHOR = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def _slug(ident: str) -> str:
    if not _SLUG.fullmatch(ident):
        raise ValueError(f"not a slug: {ident!r}")
    return ident


def _anchor(ident: str) -> str:
    if not _ANCHOR.fullmatch(ident):
        raise ValueError(f"not an anchor id: {ident!r}")
    return ident


def page_url(path: str) -> str:
    """A page's URL from its source path in the docs tree: index.md → "", cases/index.md → cases/,
    cases/grain-store.md → cases/grain-store/."""
    stem = path.removesuffix(".md")
    if stem == "index":
        return ""
    return stem.removesuffix("/index") + "/"


# The fixed pages, by their source path in the docs tree (about.md is hand-written, in content/).
PAGE_PATHS: dict[str, str] = {
    "home": "index.md", "alliance": "alliance.md", "clusters": "cases/index.md", "models": "models.md",
    "lessons": "lessons.md", "indicators": "indicators/index.md", "completeness": "completeness.md",
    "tags": "tags.md", "sources": "sources.md", "reference": "guide/reference.md", "about": "about.md",
    "compare": "compare.md",
}


class _PageUrls:
    """The fixed pages' URLs by name, for code and templates alike: ``URLS.models``. An unknown
    name is an error (in a template, StrictUndefined makes it one), never an empty link."""

    def __getattr__(self, name: str) -> str:
        try:
            return page_url(PAGE_PATHS[name])
        except KeyError:
            raise AttributeError(name) from None


URLS = _PageUrls()


def cluster_path(cluster_id: str) -> str:
    return f"cases/{_slug(cluster_id)}.md"


def cluster_url(cluster_id: str) -> str:
    return page_url(cluster_path(cluster_id))


def indicator_path(indicator_id: str) -> str:
    return f"indicators/{_slug(indicator_id)}.md"


def indicator_url(indicator_id: str) -> str:
    return page_url(indicator_path(indicator_id))


def fragment(ident: str) -> str:
    """A link to an anchor on the same page."""
    return "#" + _anchor(ident)


def anchored(url: str, ident: str) -> str:
    """A link to an anchor on the page at ``url``."""
    return url + fragment(ident)


def lesson_url(lesson_id: str) -> str:
    return anchored(URLS.lessons, lesson_id)


def category_anchor(category: str) -> str:
    """An indicator category's heading id on the indicators page (collective_economy → collective-economy)."""
    return _anchor(category.replace("_", "-"))


def category_url(category: str) -> str:
    return anchored(URLS.indicators, category_anchor(category))


def tag_url(group: str) -> str:
    """A group of the tags page: industries, mechanisms or partners."""
    return anchored(URLS.tags, group)


def partner_kind_anchor(kind: str) -> str:
    return _anchor(f"partner-{kind}")


def partner_kind_url(kind: str) -> str:
    return anchored(URLS.tags, partner_kind_anchor(kind))


def source_anchor(doc_id: str, section_id: str | None = None) -> str:
    """A source document's id on the sources page, or one of its sections' (doc-section)."""
    return _anchor(f"{doc_id}-{section_id}" if section_id else doc_id)


def source_url(doc_id: str, section_id: str | None = None) -> str:
    return anchored(URLS.sources, source_anchor(doc_id, section_id))


DOWNLOADS = "downloads"
DATAPACKAGE_PATH = f"{DOWNLOADS}/datapackage.json"


DOWNLOAD_PREFIX = "共富案例库"
# A file name piece keeps letters and digits of any script and "_"; every run of anything else
# (path and URL characters, spaces, brackets, controls, direction overrides) becomes one "-".
_NAME_JUNK = re.compile(r"[\W]+")
NAME_LIMIT = 40  # characters of case text in a file name: 3 bytes each in UTF-8, far below 255


def download_name(text: str) -> str:
    """Case text (an indicator's name) as a piece of a file name and URL: the same on every file
    system and in every browser, with nothing a path, a URL or a shell could take as syntax — so a
    hostile name can neither leave the downloads folder nor break a link. Compatibility forms are
    folded first (NFKC: full-width Ｈ is H), so no look-alike survives. May be empty."""
    import unicodedata  # only file names need it

    piece = _NAME_JUNK.sub("-", unicodedata.normalize("NFKC", text)).strip("-_")
    return piece[:NAME_LIMIT].rstrip("-_")


@dataclass(frozen=True)
class Edition:
    """Which edition a build makes: the public one (what the source publishes, '*' kept) or the
    internal one (the overlay's real figures and names). Every mark an edition puts on a page, a
    printed page, a file name or a workbook is read from here."""

    name: Literal["public", "internal"]
    label: str  # the edition's name in the downloads' notes: 公开版 / 内部版
    mark: str  # what every page, printed page and document of it says at the top ("" for public)
    prefix: str  # the start of every download's file name
    writeup: str  # the write-ups' file name
    notice: str = ""  # the banner's sentence

    @property
    def internal(self) -> bool:
        return self.name == "internal"

    @property
    def file_mark(self) -> str:
        """What starts the name of a file that carries no prefix of its own (a chart's downloads)."""
        return f"{self.mark}-" if self.mark else ""

    def states(self) -> dict[StateName, State]:
        """The figure states in this edition's words: in the internal one a number may come from
        the overlay, and a '*' is one the owner has not filled in yet."""
        if not self.internal:
            return STATES
        return {"disclosed": State("有数值", STATES["disclosed"].mark, "原文给出，或内部数据填写了真实数值"),
                "desensitised": State("待填写", DESENSITISED, "内部数据中仍为 *，尚未填写真实数值"),
                "missing": STATES["missing"]}


INTERNAL_MARK = "内部资料"
EDITIONS: dict[str, Edition] = {
    "public": Edition("public", "公开版", "", DOWNLOAD_PREFIX, "经验材料"),
    "internal": Edition("internal", f"内部版（{INTERNAL_MARK}，不得外传）", INTERNAL_MARK, f"{DOWNLOAD_PREFIX}-{INTERNAL_MARK}",
                        f"经验材料-{INTERNAL_MARK}",
                        "本版含未公开的真实数值和名称，仅限内部使用，不得转发、公开或上传到公开网站。"),
}
PUBLIC = EDITIONS["public"]


def download_stem(indicator_id: str | None = None, name: str | None = None, prefix: str = DOWNLOAD_PREFIX) -> str:
    """The name of a download without its extension, saying what it holds when saved on its own:
    共富案例库-全部数据, or an indicator's 共富案例库-指标-<its name> in a folder named by its id (ids
    are unique and plain, names need be neither; the name falls back to the id when nothing of it
    is left). An indicator's ``name`` is required: a link without it would point at no file."""
    if indicator_id is None:
        return f"{prefix}-全部数据"
    if name is None:
        raise ValueError(f"download_stem({indicator_id!r}) needs the indicator's name as well")
    return f"indicators/{_slug(indicator_id)}/{prefix}-指标-{download_name(name) or indicator_id}"


def download_path(stem: str, ext: str) -> str:
    """A download's site-relative path (its URL too: a file is linked as it is)."""
    return f"{DOWNLOADS}/{stem}.{ext}"


CHART_DOWNLOADS = f"{DOWNLOADS}/charts"
CHART_FILE_KINDS = ("vl.json", "csv")  # a chart's Vega-Lite spec (data inlined) and its data


def chart_download_path(chart_id: str, ext: str, prefix: str = "") -> str:
    """A chart's download beside it (its URL too): downloads/charts/<chart id>.vl.json or .csv."""
    if ext not in CHART_FILE_KINDS:
        raise ValueError(f"not a chart download: {ext!r}")
    return f"{CHART_DOWNLOADS}/{prefix}{_slug(chart_id)}.{ext}"


WRITEUP_NAME = "经验材料"


def writeup_path(cluster_id: str | None = None, ext: str = "docx", name: str = WRITEUP_NAME) -> str:
    """A write-up's site-relative path (its URL too): the whole casebook's (downloads/经验材料.docx)
    or one cluster's (downloads/经验材料-grain-store.docx); ``name``: the edition's (Edition.writeup)."""
    stem = name if cluster_id is None else f"{name}-{_slug(cluster_id)}"
    return f"{DOWNLOADS}/{stem}.{_slug(ext)}"


def relative_url(from_url: str, to: str) -> str:
    """A link from the page at ``from_url`` to ``to`` (both site-relative, directory style)."""
    path, hash_, frag = to.partition("#")
    base = [p for p in from_url.split("/") if p and p != "."]
    target = [p for p in path.split("/") if p and p != "."]
    common = 0
    while common < len(base) and common < len(target) and base[common] == target[common]:
        common += 1
    rel = "/".join([".."] * (len(base) - common) + target[common:])
    if not rel:
        rel = "./"
    elif path.endswith("/") or not path:
        rel += "/"
    return rel + (hash_ + frag if hash_ else "")


# What templates may call (registered by render.environment): every URL and every figure's text.
TEMPLATE_GLOBALS = {
    "STATES": STATES, "STATE_LABELS": STATE_LABELS, "STATE_MARKS": STATE_MARKS, "DESENSITISED_NOTE": DESENSITISED_NOTE,
    "URLS": URLS, "DATAPACKAGE_PATH": DATAPACKAGE_PATH, "EDITORIAL_MARKS": EDITORIAL_MARKS,
    "cluster_title": cluster_title, "cluster_url": cluster_url, "indicator_url": indicator_url,
    "lesson_url": lesson_url, "category_anchor": category_anchor, "category_url": category_url,
    "tag_url": tag_url, "partner_kind_anchor": partner_kind_anchor, "partner_kind_url": partner_kind_url,
    "source_anchor": source_anchor, "fragment": fragment, "anchored": anchored,
    "download_stem": download_stem, "download_path": download_path, "writeup_path": writeup_path,
    "chart_download_path": chart_download_path,
    "scope_text": scope_text, "figure_label": figure_label,
    "year_text": year_text, "point_text": point_text, "point_state": point_state,
    "chart_value": point_text,  # the older name, kept for theme overrides written against it
}
TEMPLATE_FILTERS = {"figure": figure_html, "when": when_text, "disclosure": disclosure, "q": quote_html}
