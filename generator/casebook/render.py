"""Render a validated casebook into site pages (Markdown with HTML blocks) and assets.

Pages are plain data (:class:`SitePage`), independent of MkDocs: the MkDocs plugin only hands them
over, so another generator needs only another adapter.

Safety: case text arrives by pull request. Templates are Jinja2 with autoescape on, so every value
is HTML-escaped; text placed in Markdown (headings) also goes through :func:`md_escape`. Case text is
only ever data — never a template. The final HTML is sanitised again by :mod:`casebook.sanitize`,
and so is every chart SVG where it is put into its page (:func:`inline_charts`). Titles, which the
theme prints unescaped, are plain text (:func:`casebook.escaping.plain_title`; the MkDocs plugin
sets every page's, table of contents included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    pass_context,
)
from markupsafe import Markup, escape

from .charts import Chart, ChartRenderer, ChartStats, compare_charts, table_order, trend_chart, value_text
from .charts import render as render_charts
from .derive import (
    ALLIANCE,
    STATE_LABELS,
    STATE_MARKS,
    Derived,
    cluster_title,
    cluster_url,
    completeness,
    derive,
    disclosure,
    headline_figures,
    indicator_url,
    ordered_clusters,
    ordered_lessons,
)
from .escaping import md_escape, plain_title
from .figures import qualifier_parts, strip_zeros
from .models import (
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    PARTNER_KIND_LABELS,
    PROJECT_STATUS_LABELS,
    Cluster,
    Observation,
)
from .reference import reference_markdown
from .store import Store, code_digest, content_hash, tree_digest
from .validate import Casebook

SITE_NAME = "共富案例库"
NAV_LIMIT = 30  # more clusters than this are listed on an index page, not in the navigation
CARD_LIMIT = 30  # …nor as cards on the home page
DESENSITISED_NOTE = "原文已脱敏，具体数值未公开"
_ANCHOR = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


@dataclass(frozen=True)
class SitePage:
    path: str  # source path inside the docs tree, e.g. "cases/grain-store.md"
    url: str  # directory-style URL, e.g. "cases/grain-store/"
    title: str
    content: str  # Markdown (headings) with HTML blocks


@dataclass(frozen=True)
class SiteAsset:
    path: str
    content: bytes


@dataclass
class Site:
    pages: list[SitePage] = field(default_factory=list)
    assets: list[SiteAsset] = field(default_factory=list)
    nav: list[Any] = field(default_factory=list)
    chart_stats: ChartStats = field(default_factory=ChartStats)
    # Downloads are written apart from the pages, set by site.prepare_site (see downloads.start_downloads).
    download_tables: list[Any] = field(default_factory=list)
    source_titles: list[str] = field(default_factory=list)
    downloads: Any = None  # a Future of the paths written, when started (site.prepare_site)
    generation_seconds: float = 0.0
    chart_svgs: dict[str, str] = field(default_factory=dict)  # chart id → SVG, for inline_charts (which sanitises)
    # Generated pages that belong in a hand-written section of the navigation (by folder).
    section_pages: list[str] = field(default_factory=lambda: ["guide/reference.md"])

    @property
    def stylesheets(self) -> list[str]:
        return [a.path for a in self.assets if a.path.endswith(".css")]

    @property
    def scripts(self) -> list[str]:
        return [a.path for a in self.assets if a.path.endswith(".js") and "/vendor/" not in a.path
                and "/worker/" not in a.path]

    @property
    def polyfills(self) -> list[str]:
        # Loaded in <head> before Material's bundle; the shim lets search's Web Worker run on file://.
        return [a.path for a in self.assets if a.path.endswith("-shim.js")]


# --------------------------------------------------------------------------- escaping and links


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


def _number(value: Decimal) -> str:
    return f"{strip_zeros(value):,f}"


def figure_html(obs: Observation, with_unit: bool = True) -> Markup:
    """A figure as it reads on the page; '*' is marked and explained, never shown as a number."""
    fig = obs.value
    unit = (obs.unit or "") if with_unit else ""
    if fig is None:
        return Markup('<span class="cb-fig cb-missing" title="原文未给出此数值">未知</span>')
    if fig.value == "*":
        body = Markup('<abbr class="cb-star" title="{}">*</abbr>').format(DESENSITISED_NOTE)
        state = "cb-desensitised"
    else:
        body, state = escape(_number(fig.value)), "cb-disclosed"
    before, between, after = qualifier_parts(obs.qualifier)  # 不足*人, *余万元, *人以上
    return Markup('<span class="cb-fig {}">{}{}{}{}{}</span>').format(state, before, body, between, unit, after)


def when_text(obs: Observation) -> str:
    parts = []
    if obs.year is not None:
        parts.append(f"{obs.year}年")
    if obs.period:
        parts.append(obs.period)
    return " · ".join(parts) or "未注明"


# --------------------------------------------------------------------------- environment


def environment(overrides: Path | None = None) -> Environment:
    loaders: list[BaseLoader] = []
    if overrides is not None and (overrides / "casebook").is_dir():
        loaders.append(FileSystemLoader(str(overrides / "casebook")))
    loaders.append(PackageLoader("casebook", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,  # every template, whatever its extension
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["figure"] = figure_html
    env.filters["when"] = when_text
    env.filters["disclosure"] = disclosure
    env.globals.update(
        PARTNER_KIND_LABELS=PARTNER_KIND_LABELS,
        PROJECT_STATUS_LABELS=PROJECT_STATUS_LABELS,
        CATEGORY_LABELS=CATEGORY_LABELS,
        DIRECTION_LABELS=DIRECTION_LABELS,
        DESENSITISED_NOTE=DESENSITISED_NOTE,
        STATE_LABELS=STATE_LABELS,
        STATE_MARKS=STATE_MARKS,
        SITE_NAME=SITE_NAME,
        CARD_LIMIT=CARD_LIMIT,
        href=_href,
        anchor=anchor,
        headline_figures=headline_figures,
        chart_value=value_text,
        table_order=table_order,
        svg=chart_slot,
    )
    return env


def anchor(ident: str) -> Markup:
    """A Markdown heading id ({#id}); ids come from validated slugs or fixed names."""
    ident = str(ident)
    if not _ANCHOR.fullmatch(ident):
        raise ValueError(f"not an anchor id: {ident!r}")
    return Markup("{#" + ident + "}")


_SLOT = '<span class="cb-chart-slot" data-chart="{}"></span>'
_SLOT_RE = re.compile(r'<span class="cb-chart-slot" data-chart="([a-z0-9-]+)"></span>')


def chart_slot(chart: Chart) -> Markup:
    """Where a chart's SVG goes. The SVG itself is put in after Markdown and search indexing
    (:func:`inline_charts`): parsing thousands of SVG elements as raw HTML in every page was the
    largest cost of a build at scale, and chart text is not worth indexing."""
    return Markup(_SLOT.format(escape(chart.id)))


def chart_ids(content: str) -> list[str]:
    """The charts a page shows, in order (their SVGs are part of what the page is made of)."""
    return _SLOT_RE.findall(content)


def inline_charts(html: str, svgs: dict[str, str]) -> str:
    """Replace each chart slot in a finished page with its SVG, sanitised here — the one place an
    SVG enters a page — whether it was just drawn or read back from the build cache (a cache entry
    may be stale or tampered with; it is never trusted)."""
    from .sanitize import sanitize_svg

    return _SLOT_RE.sub(lambda m: sanitize_svg(svgs.get(m.group(1), "")), html)


# Raw HTML blocks of a generated page are set aside while Markdown runs and put back after it:
# Python-Markdown feeds every raw block through its HTML parser (md_in_html), which was a third of
# a build at a thousand pages, and our blocks are finished HTML that Markdown must not touch anyway.
_BLOCK_TAGS = {"div", "p", "dl", "ul", "ol", "section", "figure", "table", "details", "blockquote", "nav",
               "aside", "header", "footer", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)[\s>/]")


def stash_html_blocks(markdown: str, nonce: str) -> tuple[str, list[str]]:
    """Replace each raw HTML block — from a blank line and a block-level start tag to the blank line
    after which every element it opened is closed — by a placeholder paragraph; returns the Markdown
    and the blocks (see :func:`restore_html_blocks`). A block runs on over blank lines until then,
    as in Python-Markdown: case text holding a blank line stays inside its element, never Markdown
    — also when it is in a later element of the block than the first (a table after a paragraph)."""
    blocks: list[str] = []
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
        out.append(f"cbslot{nonce}x{len(blocks)}")
        blocks.append("\n\n".join(parts))
        i += 1
    return "\n\n".join(out), blocks


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^>]*>")
_END_TAG = re.compile(r"</[a-zA-Z][a-zA-Z0-9]*\s*>")


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


def restore_html_blocks(html: str, blocks: list[str], nonce: str) -> str:
    return re.sub(rf"<p>cbslot{nonce}x(\d+)</p>", lambda m: blocks[int(m.group(1))], html)


@pass_context
def _href(ctx: Any, target: str) -> str:
    return relative_url(ctx["page_url"], target)


class PageCache:
    """Rendered pages kept on disk by a hash of everything they are made from, so a rebuild after
    one case edit renders that cluster's page and the pages that list every cluster, not all of them.

    A key covers the page's own data, the casebook-wide data every page may show (alliance, lessons,
    indicator catalogue, sources), the templates (overrides included) and the package's code; any
    change to one of those is a different key, never a stale page."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store(None)
        self.hits = self.misses = 0

    def get(self, key: str) -> str | None:
        content = self.store.get_text("page", key)
        if content is not None:
            self.hits += 1
        return content

    def put(self, key: str, content: str) -> None:
        self.misses += 1
        self.store.put("page", key, content)


class _Renderer:
    def __init__(self, book: Casebook, derived: Derived, env: Environment, cache: PageCache,
                 shared_key: str) -> None:
        self.book, self.d, self.env = book, derived, env
        self.pages: list[SitePage] = []
        self.cache, self.shared_key = cache, shared_key

    def source(self, ref: str | None) -> dict[str, str] | None:
        if not ref:
            return None
        doc_id, _, section_id = ref.partition("/")
        doc = self.book.sources.get(doc_id)
        if doc is None:
            return None
        label = doc.title
        anchor = f"sources/#{doc_id}"
        for sec in doc.sections:
            if sec.id == section_id:
                label = f"{doc.title} · {sec.title}"
                anchor = f"sources/#{doc_id}-{section_id}"
        return {"label": label, "url": anchor}

    def add(self, template: str, path: str, url: str, title: str, key: str | None = None, **ctx: Any) -> None:
        """Render a page; with ``key`` (what the page is made from, beyond the casebook-wide data),
        a page rendered before from the same material is taken from the cache."""
        full_key = content_hash(self.shared_key, template, path, url, title, key) if key is not None else None
        content = self.cache.get(full_key) if full_key else None
        if content is None:
            content = self.env.get_template(template).render(
                book=self.book, d=self.d, page_url=url, title=title, source=self.source,
                indicators=self.book.indicators, **ctx)
            if full_key:
                self.cache.put(full_key, content)
        self.pages.append(SitePage(path, url, plain_title(title), content))


def render_site(book: Casebook, overrides: Path | None = None, charts: ChartRenderer | None = None,
                pages: PageCache | None = None, derived: Derived | None = None) -> Site:
    """Every page and asset of the site, from a valid casebook.

    ``charts`` renders (and caches) chart SVGs; without one, charts are rendered uncached. ``pages``
    keeps rendered cluster and indicator pages between builds.
    """
    d = derived or derive(book)
    shared = content_hash(
        code_digest(), tree_digest(overrides / "casebook" if overrides is not None else None),
        book.alliance.model_dump_json() if book.alliance else "",
        *(x.model_dump_json() for x in book.lessons.values()),
        *(x.model_dump_json() for x in book.indicators.values()),
        *(x.model_dump_json() for x in book.sources.values()),
    )
    page_cache = pages or PageCache(None)
    r = _Renderer(book, d, environment(overrides), page_cache, shared)
    renderer = charts or ChartRenderer(None)
    # Every chart is specified first and rendered in one batch, so cache misses can share the cores.
    charts_by_page: dict[str, list[Chart]] = {}
    for cluster in ordered_clusters(book):
        charts_by_page[f"cases/{cluster.id}"] = cluster_charts(book, cluster)
    for ind in book.indicators.values():
        series = [(f.owner.name, f.observation) for f in d.figures_by_indicator.get(ind.id, [])]
        charts_by_page[f"indicators/{ind.id}"] = compare_charts(ind, series)
    all_charts = [c for page in charts_by_page.values() for c in page]
    render_charts(all_charts, renderer)
    clusters = ordered_clusters(book)
    lessons = ordered_lessons(book)
    # Pages that show every cluster but none of their figures: kept while only figures change.
    structure = content_hash(*(c.model_dump_json(exclude={"observations"}) for c in clusters))
    r.add("home.md.j2", "index.md", "", SITE_NAME, clusters=clusters, lessons=lessons)
    if book.alliance:
        r.add("alliance.md.j2", "alliance.md", "alliance/", book.alliance.name, key=structure, alliance=book.alliance,
              lessons_here=d.lessons_for(ALLIANCE))
    for cluster in clusters:
        r.add("cluster.md.j2", f"cases/{cluster.id}.md", cluster_url(cluster.id), cluster_title(cluster),
              key=content_hash(cluster.model_dump_json(), *(c.key for c in charts_by_page[f"cases/{cluster.id}"])),
              cluster=cluster, lessons_here=d.lessons_for(cluster.id),
              charts=charts_by_page[f"cases/{cluster.id}"])
    r.add("models.md.j2", "models.md", "models/", "发展模式与机制", clusters=clusters, key=structure)
    r.add("lessons.md.j2", "lessons.md", "lessons/", "经验启示", lessons=lessons, key=structure)
    r.add("indicators.md.j2", "indicators/index.md", "indicators/", "指标")
    for ind in book.indicators.values():
        figures = d.figures_by_indicator.get(ind.id, [])
        # Everything the page shows of each figure's owner, its default source included.
        material = [f"{f.owner.kind}/{f.owner.id}/{f.owner.name}/{f.owner.url}/{_owner_source(book, f.owner)}/"
                    f"{f.observation.model_dump_json()}" for f in figures]
        r.add("indicator.md.j2", f"indicators/{ind.id}.md", indicator_url(ind.id), ind.name,
              key=content_hash(*material, *(c.key for c in charts_by_page[f"indicators/{ind.id}"])), indicator=ind,
              figures=figures, charts=charts_by_page[f"indicators/{ind.id}"])
    cells = {(c.cluster_id, c.indicator_id): c for c in completeness(book)}
    totals = {state: sum(1 for c in cells.values() if c.state == state) for state in STATE_LABELS}
    r.add("completeness.md.j2", "completeness.md", "completeness/", "数据完整度", clusters=clusters, cells=cells,
          totals=totals)
    r.add("tags.md.j2", "tags.md", "tags/", "标签", clusters=clusters, key=structure)
    r.add("sources.md.j2", "sources.md", "sources/", "来源", key=structure)
    r.pages.append(SitePage("guide/reference.md", "guide/reference/", "字段参考", reference_markdown()))

    nav: list[Any] = [{"首页": "index.md"}]
    if book.alliance:
        nav.append({plain_title(book.alliance.name): "alliance.md"})
    if len(clusters) <= NAV_LIMIT:
        nav.append({"组团": [{plain_title(cluster_title(c)): f"cases/{c.id}.md"} for c in clusters]})
    else:
        # Material draws the whole navigation into every page: a thousand clusters there made each
        # page a thousand links heavier and each build quadratic. One index page lists them instead.
        r.add("clusters.md.j2", "cases/index.md", "cases/", "全部组团", clusters=clusters)
        nav.append({"组团": "cases/index.md"})
    nav += [{"发展模式与机制": "models.md"}, {"经验启示": "lessons.md"}, {"指标": "indicators/index.md"},
            {"数据完整度": "completeness.md"}, {"标签": "tags.md"}, {"来源": "sources.md"}]
    return Site(pages=r.pages, assets=package_assets(), nav=nav, chart_stats=renderer.stats,
                chart_svgs={c.id: c.svg for c in all_charts})


def _owner_source(book: Casebook, owner: Any) -> str:
    if owner.kind == "cluster":
        return book.clusters[owner.id].source or ""
    return (book.alliance.source if book.alliance else "") or ""


def cluster_charts(book: Casebook, cluster: Cluster) -> list[Chart]:
    """A trend chart for each indicator the cluster has two or more disclosed years of."""
    out = []
    for ind_id, ind in book.indicators.items():
        observations = [o for o in cluster.observations if o.indicator == ind_id]
        chart = trend_chart(f"trend-{cluster.id}-{ind_id}", ind, observations) if observations else None
        if chart:
            out.append(chart)
    return out


def package_assets() -> list[SiteAsset]:
    """Static files shipped in the package (CSS, JS) under assets/casebook/."""
    out = []

    def walk(node: Any, prefix: str) -> None:
        for item in sorted(node.iterdir(), key=lambda p: p.name):
            if item.name.startswith((".", "__")):
                continue
            if item.is_dir():
                walk(item, f"{prefix}{item.name}/")
            else:
                out.append(SiteAsset(f"assets/casebook/{prefix}{item.name}", item.read_bytes()))

    walk(resources.files("casebook") / "assets", "")
    return out
