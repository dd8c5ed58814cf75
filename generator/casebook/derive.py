"""Derive what pages need from a validated casebook: cross-links, figures by indicator, tags.

Nothing here reads files or renders: it only reshapes the typed models, so the same derived view
serves the site, the downloads and any later generator.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from .book import ByModel, Casebook
from .models import (
    CATEGORY_LABELS,
    PARTNER_KIND_LABELS,
    Cluster,
    Indicator,
    Lesson,
    Observation,
    Partner,
    Strand,
)
from .present import (
    URLS,
    StateName,
    anchored,
    cluster_title,
    cluster_url,
    disclosure,
)

ALLIANCE = "alliance"


@dataclass(frozen=True)
class Owner:
    """Who a fact belongs to: a cluster or the alliance; ``url`` is site-relative (no leading slash)."""

    kind: str  # "cluster" or "alliance"
    id: str
    name: str
    url: str


@dataclass(frozen=True)
class Linkable:
    """A mechanism, model, strand or example, where it is defined, and its anchor there."""

    id: str
    kind: str  # Mechanism, Model, Strand, Example
    name: str
    owner: Owner

    @property
    def url(self) -> str:
        return anchored(self.owner.url, self.id)


@dataclass(frozen=True)
class Figure:
    owner: Owner
    observation: Observation


@dataclass
class Derived:
    owners: dict[str, Owner] = field(default_factory=dict)
    linkables: dict[str, Linkable] = field(default_factory=dict)
    lessons_by_owner: dict[str, list[Lesson]] = field(default_factory=lambda: defaultdict(list))
    lessons_by_linkable: dict[str, list[Lesson]] = field(default_factory=lambda: defaultdict(list))
    figures_by_indicator: dict[str, list[Figure]] = field(default_factory=lambda: defaultdict(list))
    industries: dict[str, list[Owner]] = field(default_factory=lambda: defaultdict(list))
    partner_kinds: dict[str, list[tuple[Owner, Partner]]] = field(default_factory=lambda: defaultdict(list))
    indicators_by_category: dict[str, list[Indicator]] = field(default_factory=lambda: defaultdict(list))

    def lessons_for(self, owner_id: str) -> list[Lesson]:
        return self.lessons_by_owner.get(owner_id, [])


def cluster_order(cluster: Cluster) -> tuple[bool, int, str]:
    """Where a cluster stands: the editors' order where given, then ids (stable across machines
    and file systems)."""
    return cluster.order is None, cluster.order or 0, cluster.id


def ordered_clusters(book: Casebook) -> list[Cluster]:
    return sorted(book.clusters.values(), key=cluster_order)


def headline_by_indicator(cluster: Cluster, book: Casebook) -> dict[str, Observation]:
    """The figure :func:`headline_figures` gives for each indicator the cluster has one for (what
    the comparison shows in an indicator's row), any number of indicators."""
    return {o.indicator: o for o in headline_figures(cluster, book, len(book.indicators))}


def headline_figures(cluster: Cluster, book: Casebook, limit: int = 3) -> list[Observation]:
    """The figures a cluster's card shows: one per headline indicator, in catalogue order — the
    cluster's own figure before one about a part of it (a project, a kind of post), then the latest
    disclosed year where a series exists (a '*' year cannot be ordered, so it ranks last). A scoped
    figure that is all there is still shows, labelled with its scope (present.figure_label)."""
    rank = {ind_id: i for i, ind_id in enumerate(book.indicators) if book.indicators[ind_id].headline}
    best: dict[str, Observation] = {}
    for obs in cluster.observations:
        if obs.indicator not in rank:
            continue
        current = best.get(obs.indicator)
        if current is None or _year_key(obs) > _year_key(current):
            best[obs.indicator] = obs
    return sorted(best.values(), key=lambda o: rank[o.indicator])[:limit]


def _year_key(obs: Observation) -> tuple[bool, int]:
    return obs.scope is None, obs.year if isinstance(obs.year, int) else -1


def ordered_lessons(book: Casebook) -> list[Lesson]:
    return sorted(book.lessons.values(), key=lambda lesson: (lesson.order, lesson.id))


@dataclass(frozen=True)
class _Share:
    """What one cluster gives the derived view, made from the cluster alone."""

    owner: Owner
    linkables: dict[str, Linkable]
    figures: tuple[tuple[str, Figure], ...]
    partners: tuple[tuple[str, tuple[Owner, Partner]], ...]


def _share(cluster: Cluster) -> _Share:
    owner = Owner("cluster", cluster.id, cluster_title(cluster), cluster_url(cluster.id))
    linkables = {model.id: Linkable(model.id, "Model", model.name, owner) for model in cluster.models}
    linkables.update((mech.id, Linkable(mech.id, "Mechanism", mech.name, owner)) for mech in cluster.mechanisms)
    return _Share(owner, linkables, tuple((obs.indicator, Figure(owner, obs)) for obs in cluster.observations),
                  tuple((partner.kind, (owner, partner)) for partner in cluster.partners))


# Each cluster's share, for a resident preview (derive's ``keep``): at 10,000 clusters, making
# them all again after every save was a second of the wait for the saved page.
_SHARES: ByModel[_Share] = ByModel()


def forget_shares() -> None:
    _SHARES.clear()


def derive(book: Casebook, keep: bool = False) -> Derived:
    """The derived view of a valid casebook. ``keep``: keep each cluster's share for the next
    derive of the same loaded models (see book.ByModel)."""
    d = Derived()
    if book.alliance:
        a = book.alliance
        owner = Owner(ALLIANCE, a.id, a.name, URLS.alliance)
        d.owners[ALLIANCE] = owner
        for kind, items in (("Model", a.models), ("Mechanism", a.mechanisms), ("Strand", a.strands),
                            ("Example", a.examples)):
            for item in items:
                name = item.title if isinstance(item, Strand) else item.name  # a strand has a title, not a name
                d.linkables[item.id] = Linkable(item.id, kind, name, owner)
        for obs in a.observations:
            d.figures_by_indicator[obs.indicator].append(Figure(owner, obs))
        for partner in a.partners:
            d.partner_kinds[partner.kind].append((owner, partner))
    if keep:
        _SHARES.next_round()
    for cluster in ordered_clusters(book):
        share = _SHARES.get(cluster, functools.partial(_share, cluster)) if keep else _share(cluster)
        owner = share.owner
        d.owners[cluster.id] = owner
        d.linkables.update(share.linkables)
        for indicator, figure in share.figures:
            d.figures_by_indicator[indicator].append(figure)
        for industry in cluster.industries:
            d.industries[industry].append(owner)
        for kind, pair in share.partners:
            d.partner_kinds[kind].append(pair)
    for lesson in ordered_lessons(book):
        for cid in lesson.clusters:
            d.lessons_by_owner[cid].append(lesson)
        for _, _, mid in lesson.refs:
            d.lessons_by_linkable[mid].append(lesson)
            link = d.linkables.get(mid)
            if link is None:
                continue
            # A lesson shown by a mechanism is also a lesson of the cluster (or alliance) that has it.
            key = ALLIANCE if link.owner.kind == ALLIANCE else link.owner.id
            if lesson not in d.lessons_by_owner[key]:
                d.lessons_by_owner[key].append(lesson)
    for ind in book.indicators.values():
        d.indicators_by_category[ind.category].append(ind)
    # Catalogue order within a category follows the catalogue file; categories follow CATEGORY_LABELS.
    d.indicators_by_category = {c: d.indicators_by_category[c] for c in CATEGORY_LABELS if c in d.indicators_by_category}
    d.partner_kinds = {k: d.partner_kinds[k] for k in PARTNER_KIND_LABELS if k in d.partner_kinds}
    return d


def domain_terms(book: Casebook) -> list[str]:
    """Words a Chinese segmenter must keep whole for search: names, models, partners, terms.

    Quoted fragments (“四带共富”) are unwrapped; long phrases are split at list punctuation so each
    listed item (挖竹笋、品竹宴…) becomes a word of its own.
    """
    from .models import iter_verbatim

    raw: set[str] = set()
    models = [*book.clusters.values(), *book.lessons.values()]
    if book.alliance:
        models.append(book.alliance)
    for model in models:
        for _, text, _ in iter_verbatim(model):
            raw.add(text)
    for ind in book.indicators.values():
        raw.add(ind.name)
    terms: set[str] = set()
    for text in raw:
        for quoted in _quoted(text):
            terms.add(quoted)
        for part in _split(text):
            terms.add(part)
    return sorted(t for t in terms if 2 <= len(t) <= 12 and "*" not in t and not t.isascii())


def _quoted(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "“《":
            depth, start = depth + 1, i + 1
        elif ch in "”》" and depth:
            depth -= 1
            out.append(text[start:i])
    return out


def _split(text: str) -> list[str]:
    for ch in "“”《》（）()、，,；;：:。！!？? ":
        text = text.replace(ch, "|")
    return [p for p in text.split("|") if p]


@dataclass(frozen=True)
class Cell:
    """Completeness of one cluster × indicator: the best state of its figures, and their sources."""

    cluster_id: str
    indicator_id: str
    state: StateName  # disclosed, desensitised or missing (present.STATES says how each reads)
    count: int
    sources: tuple[str, ...]


def completeness(book: Casebook) -> list[Cell]:
    """Every cluster × every indicator: disclosed if any figure is a number, desensitised if the
    figures are all '*', missing if there is none (or none with a value)."""
    return [cell for cluster in ordered_clusters(book) for cell in cluster_completeness(book, cluster)]


def cluster_completeness(book: Casebook, cluster: Cluster) -> list[Cell]:
    """One cluster's cells of :func:`completeness`, in catalogue order."""
    cells = []
    for ind_id in book.indicators:
        mine = [o for o in cluster.observations if o.indicator == ind_id]
        states = {disclosure(o) for o in mine}
        state: StateName = ("disclosed" if "disclosed" in states else
                            "desensitised" if "desensitised" in states else "missing")
        refs = tuple(dict.fromkeys(o.source or cluster.source for o in mine if o.value is not None))
        cells.append(Cell(cluster.id, ind_id, state, len(mine), refs))
    return cells
