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

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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

from . import present
from .book import ByModel, Casebook
from .charts import (
    Chart,
    ChartRenderer,
    ChartStats,
    chart_files,
    compare_charts,
    from_record,
    table_order,
    trend_chart,
)
from .charts import render as render_charts
from .derive import (
    Derived,
    cluster_completeness,
    derive,
    forget_shares,
    headline_by_indicator,
    headline_figures,
    ordered_clusters,
    ordered_lessons,
)
from .diagram import alliance_diagrams, chain_id, chain_text, cluster_diagrams, framework_id, framework_text
from .escaping import md_escape, plain_title
from .models import (
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    LESSON_REF_LABELS,
    PARTNER_KIND_LABELS,
    PROJECT_STATUS_LABELS,
    Cluster,
)
from .pages import NAV_LIMIT as NAV_LIMIT
from .pages import SITE_NAME, Context, planned_pages
from .present import SourceLink, relative_url
from .store import Store, code_digest, content_hash, tree_digest

CARD_LIMIT = 30  # …nor as cards on the home page
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
    book: Any = None  # the validated casebook the site was made from (site.prepare_site)
    public_book: Any = None  # the public casebook it came from (the overlay applied to it: book)
    overlay: Any = None  # the overlay.Overlay the build read, if any
    edition: present.Edition = present.PUBLIC
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


# --------------------------------------------------------------------------- environment


def environment(overrides: Path | None = None, edition: present.Edition = present.PUBLIC) -> Environment:
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
    # Figures' text, states and every URL come from casebook.present: templates never build them.
    env.filters.update(present.TEMPLATE_FILTERS)
    env.globals.update(present.TEMPLATE_GLOBALS)
    env.globals.update(
        PARTNER_KIND_LABELS=PARTNER_KIND_LABELS,
        LESSON_REF_LABELS=LESSON_REF_LABELS,
        PROJECT_STATUS_LABELS=PROJECT_STATUS_LABELS,
        CATEGORY_LABELS=CATEGORY_LABELS,
        DIRECTION_LABELS=DIRECTION_LABELS,
        SITE_NAME=SITE_NAME,
        CARD_LIMIT=CARD_LIMIT,
        href=_href,
        anchor=anchor,
        headline_figures=headline_figures,
        cluster_cells=cluster_completeness,
        headline_by_indicator=headline_by_indicator,
        CELL_END=Markup(CELL_END),
        table_order=table_order,
        svg=chart_slot,
        svg_slot=svg_slot,
        chain_id=chain_id,
        chain_text=chain_text,
        framework_id=framework_id,
        framework_text=framework_text,
        # The edition's own file names: a template names a download, the edition spells it.
        edition=edition,
        STATES=edition.states(),
        STATE_LABELS={k: v.label for k, v in edition.states().items()},
        STATE_MARKS={k: v.mark for k, v in edition.states().items()},
        download_stem=functools.partial(present.download_stem, prefix=edition.prefix),
        writeup_path=functools.partial(present.writeup_path, name=edition.writeup),
        chart_download_path=functools.partial(present.chart_download_path, prefix=edition.file_mark),
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


def svg_slot(ident: str) -> Markup:
    """The slot of a diagram (diagram.chain_id): filled like a chart's (see chart_slot)."""
    return Markup(_SLOT.format(escape(ident)))


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


class _Pieces:
    """A template's piece about one cluster (``piece("cluster_row", c, …)`` renders
    ``_cluster_row.j2``), kept in the build cache by everything it is made from: the cluster's
    data, what the template passes (``extra``), the page it is on and the casebook-wide data every
    page key covers. A page made from every cluster is rendered again after any edit, but only the
    edited cluster's pieces are: its other thousand rows come from the cache."""

    def __init__(self, renderer: _Renderer, page_url: str, cluster_json: Callable[[Cluster], str]) -> None:
        self.r, self.page_url, self.cluster_json = renderer, page_url, cluster_json

    def columns(self, name: str, clusters: list[Cluster], *extra: Any) -> list[list[Markup]]:
        """Each cluster's column of a table with a column per cluster (the comparison, the
        completeness grid): the piece's cells, each ended by :data:`CELL_END` in its template (a
        text no case text can end up as: autoescape writes its ``<`` as ``&lt;``)."""
        columns = []
        for cluster in clusters:
            *cells, rest = self(name, cluster, *extra).split(CELL_END)
            if rest.strip():
                raise ValueError(f"{name}: text after the last cell")
            columns.append([Markup(c) for c in cells])
        if len({len(col) for col in columns}) > 1:
            raise ValueError(f"{name}: columns of different lengths")
        return columns

    def __call__(self, name: str, cluster: Cluster, *extra: Any) -> Markup:
        if not _PIECE.fullmatch(name):
            raise ValueError(f"not a piece: {name!r}")
        key = content_hash(self.r.shared_key, name, self.page_url, self.cluster_json(cluster),
                           json.dumps(extra, ensure_ascii=False))
        store = self.r.cache.store
        html = store.get_text("piece", key)
        if html is None:
            html = self.r.env.get_template(f"_{name}.j2").render(
                book=self.r.book, d=self.r.d, page_url=self.page_url, source=self.r.source,
                indicators=self.r.book.indicators, c=cluster, extra=extra)
            store.put("piece", key, html)
        return Markup(html)


_PIECE = re.compile(r"[a-z]+(?:_[a-z]+)*")
CELL_END = "<!--cb-cell-end-->"


class _Renderer:
    def __init__(self, book: Casebook, derived: Derived, env: Environment, cache: PageCache,
                 shared_key: str, cluster_json: Callable[[Cluster], str]) -> None:
        self.book, self.d, self.env = book, derived, env
        self.pages: list[SitePage] = []
        self.cache, self.shared_key, self.cluster_json = cache, shared_key, cluster_json
        self.source: Callable[[str | None], SourceLink | None] = present.source_links(book.sources)

    def add(self, template: str, path: str, url: str, title: str, key: str | None = None,
            context: Callable[[], dict[str, Any]] = dict) -> None:
        """Render a page; with ``key`` (what the page is made from, beyond the casebook-wide data),
        a page rendered before from the same material is taken from the cache. ``context``: what
        the template reads besides the casebook, made only when the page is rendered."""
        full_key = content_hash(self.shared_key, template, path, url, title, key) if key is not None else None
        content = self.cache.get(full_key) if full_key else None
        if content is None:
            content = self.env.get_template(template).render(
                book=self.book, d=self.d, page_url=url, title=title, source=self.source,
                indicators=self.book.indicators, piece=_Pieces(self, url, self.cluster_json), **context())
            if full_key:
                self.cache.put(full_key, content)
        self.pages.append(SitePage(path, url, plain_title(title), content))


def render_site(book: Casebook, overrides: Path | None = None, charts: ChartRenderer | None = None,
                pages: PageCache | None = None, derived: Derived | None = None,
                edition: present.Edition = present.PUBLIC, only: Callable[[str], bool] | None = None,
                keep: bool = False) -> Site:
    """Every page and asset of the site, from a valid casebook.

    ``charts`` renders (and caches) chart SVGs; without one, charts are rendered uncached. ``pages``
    keeps rendered cluster and indicator pages between builds. ``only`` (a page's path → whether it
    is wanted): just those pages, their charts and the pages without a template (the live preview
    shows an edited page first); the navigation is still the whole site's. ``keep``: keep what is
    made from each cluster alone for the next build of the same loaded models (see book.ByModel).
    """
    d = derived or derive(book)
    overrides_digest = tree_digest(overrides / "casebook" if overrides is not None else None)
    catalogue = content_hash(*(x.model_dump_json() for x in book.indicators.values()))
    shared = content_hash(
        code_digest(), edition.name, overrides_digest,
        book.alliance.model_dump_json() if book.alliance else "",
        *(x.model_dump_json() for x in book.lessons.values()),
        catalogue,
        *(x.model_dump_json() for x in book.sources.values()),
    )
    page_cache = pages or PageCache(None)
    renderer = charts or ChartRenderer(None)
    wanted = only or (lambda path: True)
    clusters = ordered_clusters(book)
    if keep:
        _STRUCTURE.next_round()
    structure = content_hash(*(_STRUCTURE.get(c, functools.partial(_structure, c)) if keep else _structure(c)
                               for c in clusters))
    # Every chart is specified first and rendered in one batch, so cache misses can share the cores.
    charts_by_page: dict[str, list[Chart]] = {}
    ctx = Context(book, d, charts_by_page, clusters, ordered_lessons(book), structure)
    r = _Renderer(book, d, _environment(overrides, overrides_digest, edition), page_cache, shared, ctx.cluster_json)
    made: list[tuple[str, list[Chart]]] = []
    for cluster in clusters:
        if wanted(present.cluster_path(cluster.id)):
            charts_by_page[f"cases/{cluster.id}"] = _cluster_charts(book, cluster, catalogue, ctx.cluster_json(cluster),
                                                                    renderer, made)
    for ind in book.indicators.values():
        if wanted(present.indicator_path(ind.id)):
            series = [(f.owner.name, f.observation) for f in d.figures_by_indicator.get(ind.id, [])]
            charts_by_page[f"indicators/{ind.id}"] = compare_charts(ind, series)
    all_charts = [c for page in charts_by_page.values() for c in page]
    render_charts(all_charts, renderer)
    _record_charts(renderer.store, made)
    planned, nav = planned_pages(ctx)
    for page in planned:
        if page.kind.markdown is not None:
            r.pages.append(SitePage(page.path, page.url, plain_title(page.title), page.kind.markdown()))
        elif wanted(page.path):
            assert page.kind.template is not None
            r.add(page.kind.template, page.path, page.url, page.title, key=page.key, context=page.make_context)
    # Each chart's spec and data download beside it (downloads/charts/), written as the host writes assets.
    chart_assets = [SiteAsset(path, data) for path, data in chart_files(all_charts, edition.file_mark, edition.states())]
    # Diagrams (industry chains) ride in the chart slots: drawn each build (a few boxes), sanitised alike.
    diagrams = {dg.id: dg.svg for cluster in clusters if wanted(present.cluster_path(cluster.id))
                for dg in cluster_diagrams(cluster)}
    diagrams.update({dg.id: dg.svg for dg in alliance_diagrams(book.alliance)})
    return Site(pages=r.pages, assets=package_assets() + chart_assets, nav=nav, chart_stats=renderer.stats,
                chart_svgs={**{c.id: c.svg for c in all_charts}, **diagrams})


# Kept for the life of the process, by what they are made from (a long-lived preview renders after
# every save; the CLI renders once): template environments by their templates and edition, and a
# cluster's trend charts, drawn, by the indicator catalogue and the cluster's data.
_ENVIRONMENTS: dict[tuple[str, str, str], Environment] = {}
_CLUSTER_CHARTS: dict[str, list[Chart]] = {}
_CHARTS_LIMIT = 20_000


# What every page's navigation and lists read of a cluster (all but its figures), by loaded model:
# dumping 10,000 clusters after every save was 0.4 s of a resident preview's wait for the page.
_STRUCTURE: ByModel[str] = ByModel()


def _structure(cluster: Cluster) -> str:
    return cluster.model_dump_json(exclude={"observations"})


def forget_kept() -> None:
    """Drop the environments, charts and per-model values kept in this process (charts read from the
    cache next time)."""
    _ENVIRONMENTS.clear()
    _CLUSTER_CHARTS.clear()
    _STRUCTURE.clear()
    forget_shares()


def _environment(overrides: Path | None, overrides_digest: str, edition: present.Edition) -> Environment:
    key = (str(overrides), overrides_digest, edition.name)
    if key not in _ENVIRONMENTS:
        if len(_ENVIRONMENTS) > 16:
            _ENVIRONMENTS.clear()
        _ENVIRONMENTS[key] = environment(overrides, edition)
    return _ENVIRONMENTS[key]


def _cluster_charts(book: Casebook, cluster: Cluster, catalogue: str, cluster_json: str,
                    renderer: ChartRenderer, made: list[tuple[str, list[Chart]]]) -> list[Chart]:
    # Charts are filled in by render_charts (their SVG from the chart cache, or drawn into it): a
    # kept one already is, is never changed again, and counts as taken from the cache it went to.
    # Across processes (each CLI build is one) a cluster's charts are kept in the build cache by
    # the same material, specs as text and SVGs by key: specifying 7,000 charts afresh was a
    # quarter of a rebuild after one edit. ``made``: charts specified here, recorded once drawn.
    if renderer.store.path is None:
        return cluster_charts(book, cluster)
    stored = content_hash(code_digest(), catalogue, cluster_json)
    key = content_hash(str(renderer.store.path), stored)
    kept = _CLUSTER_CHARTS.get(key)
    if kept is not None:
        renderer.stats.cached += len(kept)
        return kept
    if len(_CLUSTER_CHARTS) >= _CHARTS_LIMIT:
        _CLUSTER_CHARTS.clear()
    kept = _read_charts(renderer.store.get_text("cluster-charts", stored))
    if kept is None:
        kept = cluster_charts(book, cluster)
        made.append((stored, kept))
    _CLUSTER_CHARTS[key] = kept
    return kept


def _read_charts(text: str | None) -> list[Chart] | None:
    if text is None:
        return None
    try:
        records = json.loads(text)
    except ValueError:
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    charts = [from_record(r) for r in records]
    return None if any(c is None for c in charts) else [c for c in charts if c is not None]


def _record_charts(store: Store, made: list[tuple[str, list[Chart]]]) -> None:
    for stored, charts in made:
        if all(c.key for c in charts):
            store.put("cluster-charts", stored, json.dumps([c.record() for c in charts], ensure_ascii=False,
                                                                 separators=(",", ":")))


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
