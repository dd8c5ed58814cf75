"""The site's page kinds, declared in one table: template, path, title, cache key, navigation.

Each :class:`PageKind` is one row; :func:`render_pages` renders every row (one page, or one per
item) in table order and builds the navigation from the same rows, so a page kind is added by a
template and a row here. A row must say what its page is made from (``key``): the material
beyond the casebook-wide data (see render.PageCache), or :data:`EVERY_BUILD` for a page that is
rendered afresh each build — there is no default, so a kind cannot be declared without one.
URLs come from the paths (present.page_url), titles are plain text wherever they are shown.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import present
from .book import Casebook
from .charts import Chart
from .derive import ALLIANCE, Derived, completeness, headline_by_indicator
from .escaping import plain_title
from .store import content_hash

SITE_NAME = "共富案例库"
NAV_LIMIT = 30  # more clusters than this are listed on an index page, not in the navigation
# The editors' pages (the guide and the field reference): published, but kept out of the readers'
# navigation and search — an official searching 来源 wants the sources, not how to cite one.
EDITOR_SECTION = "guide/"
# Index pages that repeat every cluster (the finder, the side-by-side view): a search for 竹子 should
# answer with the clusters that have it, not with these pages as well.
NOT_SEARCHED = frozenset({present.PAGE_PATHS["clusters"], present.PAGE_PATHS["compare"]})


@dataclass
class Context:
    """What the rows read: the casebook, what was derived from it, and its charts by page."""

    book: Casebook
    d: Derived
    charts: dict[str, list[Chart]]
    clusters: list[Any] = field(default_factory=list)
    lessons: list[Any] = field(default_factory=list)
    # Pages that show every cluster but none of their figures: kept while only figures change.
    structure: str = ""
    _json: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def many(self) -> bool:
        return len(self.clusters) > NAV_LIMIT

    def cluster_json(self, cluster: Any) -> str:
        """A cluster's whole data as JSON, made once per build for every key that needs it."""
        if cluster.id not in self._json:
            self._json[cluster.id] = cluster.model_dump_json()
        return self._json[cluster.id]

    @cached_property
    def every_cluster(self) -> str:
        """The key of a page made from every cluster, figures included (with the casebook-wide data
        that every key covers): kept while no cluster file changes."""
        return content_hash(*(self.cluster_json(c) for c in self.clusters))


Key = Callable[[Context, Any], "str | None"]


def EVERY_BUILD(ctx: Context, item: Any) -> None:
    """The key of a page rendered afresh in every build (it shows every figure, or is cheap)."""
    return None


def _structure(ctx: Context, item: Any) -> str:
    return ctx.structure


def _every_cluster(ctx: Context, item: Any) -> str:
    return ctx.every_cluster


@dataclass(frozen=True)
class PageKind:
    name: str
    template: str | None  # None: the page's Markdown comes from ``markdown``
    path: Callable[[Any], str]  # the page's source path in the docs tree
    title: Callable[[Context, Any], str]
    key: Key
    context: Callable[[Context, Any], dict[str, Any]] = lambda ctx, item: {}
    each: Callable[[Context], Iterable[Any]] | None = None  # one page per item; None: one page
    when: Callable[[Context], bool] = lambda ctx: True
    # Navigation: a label (a page, or a section of one page per item), "title" (the page's own
    # title), or None (reached from other pages only), or a function of the context giving one of
    # those (a page listed differently as the casebook grows). ``nav_when``: when it is listed.
    nav: str | Callable[[Context], str | None] | None = None
    nav_when: Callable[[Context], bool] = lambda ctx: True
    markdown: Callable[[], str] | None = None

    def __post_init__(self) -> None:
        if not callable(self.key):
            raise TypeError(f"page kind {self.name}: a key (or EVERY_BUILD) is required")
        if (self.template is None) == (self.markdown is None):
            raise TypeError(f"page kind {self.name}: a template or a markdown function, not both")


def _fixed(name: str) -> Callable[[Any], str]:
    return lambda item: present.PAGE_PATHS[name]


def _indicator_material(ctx: Context, ind: Any) -> str:
    # Everything the page shows of each figure's owner, its default source included.
    figures = ctx.d.figures_by_indicator.get(ind.id, [])
    material = [f"{f.owner.kind}/{f.owner.id}/{f.owner.name}/{f.owner.url}/{_owner_source(ctx.book, f.owner)}/"
                f"{f.observation.model_dump_json()}" for f in figures]
    return content_hash(*material, *(c.key for c in ctx.charts[f"indicators/{ind.id}"]))


def _owner_source(book: Casebook, owner: Any) -> str:
    if owner.kind == "cluster":
        return book.clusters[owner.id].source or ""
    return (book.alliance.source if book.alliance else "") or ""


def _completeness(ctx: Context, item: Any) -> dict[str, Any]:
    # The grid's columns are pieces (render._Pieces, each cluster's cells); the page adds the totals.
    counted = Counter(c.state for c in completeness(ctx.book))
    totals = {state: counted[state] for state in present.STATE_LABELS}
    return {"clusters": ctx.clusters, "totals": totals}


def _state_counts(ctx: Context) -> dict[str, Counter[str]]:
    # How many of each indicator's figures are in each state (counted here once: a template's
    # filter chain over every figure of a thousand clusters was a fifth of a second per state).
    return {ind_id: Counter(present.disclosure(f.observation) for f in figures)
            for ind_id, figures in ctx.d.figures_by_indicator.items()}


def _compare(ctx: Context, item: Any) -> dict[str, Any]:
    # Each cluster's figure for each headline indicator (derive.headline_figures: the same figure a
    # card shows), and the headline indicators any cluster has, in catalogue order: a row each.
    shown = {ind_id for c in ctx.clusters for ind_id in headline_by_indicator(c, ctx.book)}
    rows = [ind for ind_id, ind in ctx.book.indicators.items() if ind_id in shown]
    return {"clusters": ctx.clusters, "figure_rows": rows}


def _alliance(ctx: Context) -> Any:
    assert ctx.book.alliance is not None  # the row's ``when``
    return ctx.book.alliance


def _reference() -> str:
    from .reference import reference_markdown

    return reference_markdown()


KINDS: Sequence[PageKind] = (
    PageKind("home", "home.md.j2", _fixed("home"), lambda ctx, _: SITE_NAME, _every_cluster,
             context=lambda ctx, _: {"clusters": ctx.clusters, "lessons": ctx.lessons}, nav="首页"),
    PageKind("alliance", "alliance.md.j2", _fixed("alliance"), lambda ctx, _: _alliance(ctx).name, _structure,
             context=lambda ctx, _: {"alliance": ctx.book.alliance, "lessons_here": ctx.d.lessons_for(ALLIANCE)},
             when=lambda ctx: ctx.book.alliance is not None, nav="title"),
    # The all-clusters table, filtered and sorted in the reader's browser (assets/find.js). Material
    # draws the whole navigation into every page: a thousand clusters there made each page a thousand
    # links heavier and each build quadratic, so past NAV_LIMIT this page stands for them there.
    PageKind("clusters", "clusters.md.j2", _fixed("clusters"), lambda ctx, _: "全部组团", _every_cluster,
             context=lambda ctx, _: {"clusters": ctx.clusters},
             nav=lambda ctx: "组团" if ctx.many else "title"),
    PageKind("compare", "compare.md.j2", _fixed("compare"), lambda ctx, _: "组团对比", _every_cluster,
             context=_compare, nav="title"),
    PageKind("cluster", "cluster.md.j2", lambda c: present.cluster_path(c.id),
             lambda ctx, c: present.cluster_title(c),
             lambda ctx, c: content_hash(ctx.cluster_json(c), *(x.key for x in ctx.charts[f"cases/{c.id}"])),
             context=lambda ctx, c: {"cluster": c, "lessons_here": ctx.d.lessons_for(c.id),
                                     "charts": ctx.charts[f"cases/{c.id}"]},
             each=lambda ctx: ctx.clusters, nav="组团", nav_when=lambda ctx: not ctx.many),
    PageKind("models", "models.md.j2", _fixed("models"), lambda ctx, _: "发展模式与机制", _structure,
             context=lambda ctx, _: {"clusters": ctx.clusters}, nav="title"),
    PageKind("lessons", "lessons.md.j2", _fixed("lessons"), lambda ctx, _: "经验启示", _structure,
             context=lambda ctx, _: {"lessons": ctx.lessons}, nav="title"),
    PageKind("indicators", "indicators.md.j2", _fixed("indicators"), lambda ctx, _: "指标", _every_cluster,
             context=lambda ctx, _: {"counts": _state_counts(ctx)}, nav="title"),
    PageKind("indicator", "indicator.md.j2", lambda ind: present.indicator_path(ind.id), lambda ctx, ind: ind.name,
             _indicator_material,
             context=lambda ctx, ind: {"indicator": ind, "figures": ctx.d.figures_by_indicator.get(ind.id, []),
                                       "charts": ctx.charts[f"indicators/{ind.id}"]},
             each=lambda ctx: ctx.book.indicators.values()),
    PageKind("completeness", "completeness.md.j2", _fixed("completeness"), lambda ctx, _: "数据完整度", _every_cluster,
             context=_completeness, nav="title"),
    PageKind("tags", "tags.md.j2", _fixed("tags"), lambda ctx, _: "标签", _structure,
             context=lambda ctx, _: {"clusters": ctx.clusters}, nav="title"),
    PageKind("sources", "sources.md.j2", _fixed("sources"), lambda ctx, _: "来源", _structure, nav="title"),
    # The field reference belongs to the hand-written guide section (content/guide/), not the top level.
    PageKind("reference", None, _fixed("reference"), lambda ctx, _: "字段参考", EVERY_BUILD, markdown=_reference),
)


@dataclass(frozen=True)
class PlannedPage:
    kind: PageKind
    path: str
    url: str
    title: str
    make_key: Callable[[], str | None]
    make_context: Callable[[], dict[str, Any]]

    @cached_property
    def key(self) -> str | None:
        """What the page is made from (its kind's ``key``): made only when the page is rendered,
        since some read every figure of an indicator, and the preview renders few pages first."""
        return self.make_key()

    @property
    def context(self) -> dict[str, Any]:
        """What the page's template reads: made only when the page is rendered (a page taken from
        the cache by its key needs none, and some — the completeness grid, the comparison — read
        every figure of the casebook)."""
        return self.make_context()


def planned_pages(ctx: Context, kinds: Sequence[PageKind] = KINDS) -> tuple[list[PlannedPage], list[Any]]:
    """Every page of the site in table order, and the navigation the same rows declare."""
    pages: list[PlannedPage] = []
    nav: list[Any] = []
    for kind in kinds:
        if not kind.when(ctx):
            continue
        items = list(kind.each(ctx)) if kind.each is not None else [None]
        made = []
        for item in items:
            path = kind.path(item)
            made.append(PlannedPage(kind, path, present.page_url(path), kind.title(ctx, item),
                                    functools.partial(kind.key, ctx, item), functools.partial(kind.context, ctx, item)))
        pages += made
        label = kind.nav(ctx) if callable(kind.nav) else kind.nav
        if label is None or not kind.nav_when(ctx):
            continue
        if kind.each is not None:
            nav.append({label: [{plain_title(p.title): p.path} for p in made]})
        else:
            nav.append({plain_title(made[0].title) if label == "title" else label: made[0].path})
    return pages, nav
