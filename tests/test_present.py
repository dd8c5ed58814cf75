"""One home for presentation rules (casebook.present): templates build no URL and no figure text,
a figure's state reads the same on the site, in the CLI and in every download, a figure's HTML and
plain text agree, and `casebook new` offers exactly the values the model allows."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import typing
from decimal import Decimal
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import openpyxl
import pytest
from jinja2 import nodes

from casebook.cli import main
from casebook.figures import QUALIFIER_PLACES, QUALIFIERS, format_figure
from casebook.models import PARTNER_KIND_LABELS, PROJECT_STATUS_LABELS, Observation, PartnerKind, ProjectStatus
from casebook.present import DESENSITISED_NOTE, PAGE_PATHS, URLS, figure_html, figure_text, page_url
from casebook.render import environment, render_site
from casebook.scaffold import new_cluster
from casebook.validate import load_casebook

from sitebuild import ROOT, build_project, make_project

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
TEMPLATES = resources.files("casebook") / "templates"

# --------------------------------------------------------------------------- (a) templates build no URL


def _consts(node: nodes.Node) -> list[str]:
    found = [node.value] if isinstance(node, nodes.Const) and isinstance(node.value, str) else []
    return found + [c for child in node.iter_child_nodes() for c in _consts(child)]


def _is_href(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "href"


def _built(arg: nodes.Node) -> list[str]:
    """How a link target is put together in the template, other than by a call into present (whose
    arguments — anchored(url, 'figures') — are present's business): text, joins, filters, conditions."""
    if isinstance(arg, nodes.Call):
        return []
    if isinstance(arg, (nodes.Const, nodes.Concat, nodes.Add, nodes.Filter, nodes.CondExpr)):
        return [type(arg).__name__]
    return [kind for child in arg.iter_child_nodes() for kind in _built(child)]


def url_building(source: str) -> list[str]:
    """Every place a template builds a URL itself rather than taking it from casebook.present:
    - an expression joining pieces (``~``, ``+``) one of which is text with '/' or '#';
    - a link target that is literal text (``href('models/')``) or is built inside the call
      (a join, a filter such as ``|replace``, a condition);
    - an ``href`` attribute that is anything but one ``{{ … }}`` (``href="#{{ id }}"``,
      ``href="{{ base }}/x"``)."""
    env = environment()
    found = []
    for node in env.parse(source).find_all((nodes.Concat, nodes.Add)):
        pieces = [c for c in _consts(node) if "/" in c or "#" in c]
        if pieces:
            found.append(f"joins URL pieces {pieces!r} (line {node.lineno})")
    for call in env.parse(source).find_all(nodes.Call):
        if not _is_href(call):
            continue
        for arg in call.args:
            found += [f"builds its link target with {kind} (line {call.lineno})" for kind in _built(arg)]
    for m in re.finditer(r'\bhref="([^"]*)"', source):
        if not re.fullmatch(r"\{\{[^{}]*\}\}", m.group(1)):
            found.append(f"href attribute built from pieces: {m.group(0)!r}")
    return found


def _templates() -> list[tuple[str, str]]:
    return sorted((t.name, t.read_text(encoding="utf-8")) for t in TEMPLATES.iterdir() if t.name.endswith(".j2"))


@pytest.mark.parametrize("name, source", _templates(), ids=[n for n, _ in _templates()])
def test_no_template_builds_a_url(name, source):
    assert url_building(source) == [], name


@pytest.mark.parametrize("snippet", [
    "{{ href('cases/' ~ c.id ~ '/') }}",  # the shapes the templates used before present.py
    "{{ href('indicators/#' ~ cat|replace('_', '-')) }}",
    "{{ href(owner.url ~ '#partners') }}",
    "{% set u = 'lessons/#' ~ lesson.id %}",
    "{{ 'downloads/' + stem }}",
    "{{ href('models/') }}",
    "{{ href(x if y else 'about/') }}",
    "{{ href(stem|replace('a', 'b')) }}",
    '<a href="#{{ mo.id }}">',
    '<a href="{{ href(u) }}#figures">',
    "{% macro m(s) %}{{ href('downloads/' ~ s ~ '.csv') }}{% endmacro %}",
])
def test_the_url_check_finds_each_way_of_building_one(snippet):
    assert url_building(snippet), snippet


@pytest.mark.parametrize("snippet", [
    "{{ href(cluster_url(c.id)) }}", "{{ href(anchored(cluster_url(c.id), 'figures')) }}",
    "{{ href(URLS.models) }}", '<a href="{{ fragment(mo.id) }}">', "{{ caption ~ '的数据' }}",
    '<a href="{{ src.url }}" rel="noopener">',
])
def test_the_url_check_passes_urls_from_present(snippet):
    assert url_building(snippet) == [], snippet


@pytest.mark.parametrize("name, source", _templates(), ids=[n for n, _ in _templates()])
def test_no_template_reads_a_raw_figure(name, source):
    """A figure's text and state come from present (figure, point_text, disclosure), never from its
    raw value: a template that read ``obs.value`` could print a '*' or a missing value as it likes."""
    tree = environment().parse(source)
    raw = [n.attr for n in tree.find_all(nodes.Getattr) if n.attr in ("value", "amount")]
    # … or by name, in a filter: map(attribute="value"), selectattr("value"), sort(attribute="value")
    raw += [a.value for f in tree.find_all(nodes.Filter) for a in [*f.args, *(kw.value for kw in f.kwargs)]
            if isinstance(a, nodes.Const) and a.value in ("value", "amount")]
    assert raw == [], name


def test_page_paths_and_urls_agree():
    """Every page render_site makes has the URL present gives its path (the nav links paths, pages
    link URLs: the two must name the same page)."""
    book, errors = load_casebook(ROOT / "cases")  # the real casebook: it has an alliance
    assert errors == []
    pages = render_site(book).pages
    assert pages and all(page_url(p.path) == p.url for p in pages), [(p.path, p.url) for p in pages]
    # Each fixed page templates link to by name is a page the build makes (or a hand-written one).
    made = {p.path for p in pages} | {p.relative_to(ROOT / "content").as_posix() for p in (ROOT / "content").rglob("*.md")}
    made.add(PAGE_PATHS["clusters"])  # made only past NAV_LIMIT clusters (tests/test_injection_fields.py)
    assert set(PAGE_PATHS.values()) <= made, set(PAGE_PATHS.values()) - made
    assert {getattr(URLS, name) for name in PAGE_PATHS} == {page_url(path) for path in PAGE_PATHS.values()}
    with pytest.raises(AttributeError):
        _ = URLS.no_such_page


# --------------------------------------------------------------------------- (b) one word per state


SOURCE_TEXT = "虚构乙组团，带动村民数十人，收入未公开。"  # 虚构: a second cluster, with no exact figure
SECOND = """\
id: fictional-b
name: 虚构乙组团
theme: 虚构乙组团
summary: 虚构的第二个测试组团，原文没有给出确切数字。
location:
  district: '*区'
observations:
  - indicator: collective-income
    year: 2023
    note: 虚构：原文只说“数十人”，没有确切数字。
source: fictional/clusters
"""


@pytest.fixture(scope="module")
def three_states(tmp_path_factory) -> tuple[Path, Path]:
    """The fictional casebook and a second cluster: fictional-a has a disclosed and a desensitised
    figure; fictional-b a figure recorded without a value and no figure at all for the other."""
    tmp = tmp_path_factory.mktemp("states")
    cases = tmp / "cases"
    shutil.copytree(FICTIONAL, cases)
    with (cases / "sources" / "fictional.txt").open("a", encoding="utf-8") as fh:
        fh.write(SOURCE_TEXT + "\n")
    (cases / "clusters" / "fictional-b.yaml").write_text(SECOND, encoding="utf-8")
    project = make_project(tmp, cases)
    return project, build_project(project)


# (cluster, indicator) → state, as the fixture above is written.
EXPECTED = {("fictional-a", "collective-income"): "disclosed", ("fictional-a", "land-transferred"): "desensitised",
            ("fictional-b", "collective-income"): "missing", ("fictional-b", "land-transferred"): "missing"}


class _Cells(HTMLParser):
    """The completeness table's cells (state class, tooltip, accessible label) and the legend."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.legend: list[tuple[str, str]] = []  # (state, the text after its mark)
        self._legend_state: str | None = None
        self._in_lead = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "div" and "cb-lead" in cls:
            self._in_lead = True
        state = re.search(r"cb-state-(\w+)", cls)
        if tag == "td" and state:
            self.cells.append({"state": state.group(1), "title": a.get("title") or ""})
        elif tag in ("a", "span") and "aria-label" in a and self.cells and "label" not in self.cells[-1]:
            self.cells[-1]["label"] = a["aria-label"] or ""
        elif tag == "span" and state and self._in_lead:
            self._flush()
            self._legend_state = state.group(1)

    def handle_data(self, data):
        if self._legend_state:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "p" and self._in_lead:
            self._flush()
            self._in_lead = False

    def _flush(self):
        if self._legend_state:
            self.legend.append((self._legend_state, self._text))
        self._legend_state, self._text = None, ""


def test_state_words_are_the_same_on_the_site_in_the_cli_and_in_the_downloads(three_states, capsys):
    project, site = three_states
    words: dict[str, dict[str, set[str]]] = {}  # where → state → words used

    def saw(where: str, state: str, word: str) -> None:
        words.setdefault(where, {}).setdefault(state, set()).add(word)

    # The site's completeness page: cells (tooltip, accessible label) in the fixture's order, and the legend.
    page = _Cells()
    page.feed((site / "completeness" / "index.html").read_text(encoding="utf-8"))
    order = [(c, i) for i in ("collective-income", "land-transferred") for c in ("fictional-a", "fictional-b")]
    assert [c["state"] for c in page.cells] == [EXPECTED[k] for k in order]
    for cell in page.cells:
        saw("site", cell["state"], cell["title"].split("：")[0])
        saw("site", cell["state"], cell["label"])
    assert [s for s, _ in page.legend] == ["disclosed", "desensitised", "missing"]
    for state, text in page.legend:
        saw("site", state, re.match(r"\s*\S+\s+(\S+?)（", text).group(1))
    # The figure recorded without a value, on its cluster's page.
    cluster = (site / "cases" / "fictional-b" / "index.html").read_text(encoding="utf-8")
    saw("site", "missing", re.search(r'<span class="cb-fig cb-missing"[^>]*>([^<]+)</span>', cluster).group(1))

    # The CLI's completeness table: its legend (mark → word), each row's marks, the totals.
    capsys.readouterr()
    assert main(["check", "--cases", str(project / "cases"), "--completeness"]) == 0
    out = capsys.readouterr().out
    legend = re.search(r"数据完整度（(.+)）", out).group(1)
    by_mark = dict(re.findall(r"(\S) (\S+)", legend))
    header = next(line for line in out.splitlines() if line.startswith("指标\t")).split("\t")[1:]
    for line in out.splitlines():
        m = re.match(r".+（([a-z-]+)）\t(.+)", line)
        if m:
            for cid, mark in zip(header, m.group(2).split("\t"), strict=True):
                saw("cli", EXPECTED[(cid, m.group(1))], by_mark[mark])
    totals = dict(re.findall(r"([^\s，]+) (\d+)", out.split("合计：")[1]))
    assert set(totals) == set(by_mark.values())
    assert [totals[w] for w in words["cli"]["missing"]] == ["2"]  # both of fictional-b's cells

    # The downloads: the 公开状态 column of the CSV, the workbook and the JSON, by figure.
    def state_of(owner: str, indicator: str) -> str:
        return EXPECTED[(owner, indicator)]  # one figure per cluster × indicator here, or two of one state

    rows = list(csv.DictReader(io.StringIO((site / "downloads" / "共富案例库-全部数据.csv").read_text(encoding="utf-8-sig"))))
    for row in rows:
        saw("csv", state_of(row["组团标识"], row["指标标识"]), row["公开状态"])
    sheet = openpyxl.load_workbook(site / "downloads" / "共富案例库-全部数据.xlsx", read_only=True).worksheets[0]
    table = [[c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
    head = table[0]
    for r in table[1:]:
        row = dict(zip(head, r, strict=True))
        saw("xlsx", state_of(row["组团标识"], row["指标标识"]), row["公开状态"])
    for rec in json.loads((site / "downloads" / "共富案例库-全部数据.json").read_text(encoding="utf-8")):
        saw("json", state_of(rec["owner_id"], rec["indicator_id"]), rec["disclosure"])

    assert set(words) == {"site", "cli", "csv", "xlsx", "json"}
    for where, states in words.items():
        assert set(states) == {"disclosed", "desensitised", "missing"}, where
        # One word per state in each place, and the same word in every place.
        assert all(len(ws) == 1 for ws in states.values()), (where, states)
        assert states == words["site"], (where, states, words["site"])
    # Three different words: no two states read alike.
    assert len({w for ws in words["site"].values() for w in ws}) == 3
    # The missing state is not "unknown": the source does not give the number (see present.STATES).
    assert words["site"]["missing"] != {"未知"}


# --------------------------------------------------------------------------- (c) figure text: HTML = plain


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.titles: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.titles += [v or "" for k, v in attrs if k == "title"]

    def handle_data(self, data):
        self.text += data


def _text_of(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser


UNITS = ["万元", "人", "%", "元/亩"]


@pytest.mark.parametrize("qualifier", [None, *QUALIFIERS])
def test_figure_html_and_plain_text_agree(qualifier):
    for unit in UNITS:
        for value in (Decimal("12345.6"), Decimal("-0.5"), Decimal("32000"), "*", None):
            raw = None if value is None else value if isinstance(value, str) else str(value)
            obs = Observation.model_validate({"indicator": "x", "value": raw, "unit": unit, "qualifier": qualifier})
            for with_unit in (True, False):
                html = str(figure_html(obs, with_unit))
                plain = figure_text(obs, with_unit)
                shown = _text_of(html)
                assert shown.text == plain, (qualifier, unit, value, with_unit, html)
                if value is None:
                    # Nothing to qualify: the figure says the source gives no number, and nothing else.
                    assert "cb-missing" in html and not any(ch.isdigit() for ch in plain)
                    assert qualifier is None or qualifier not in plain
                    continue
                # The same text the validator's messages use for the same figure (figures.format_figure).
                assert plain == format_figure(value, qualifier, unit if with_unit else "")
                if value == "*":
                    # Marked and explained, never a number.
                    assert '<abbr class="cb-star"' in html and DESENSITISED_NOTE in shown.titles
                    assert not any(ch.isdigit() for ch in plain.replace(unit, ""))
                else:
                    assert "cb-disclosed" in html
                if qualifier:
                    place = QUALIFIER_PLACES[qualifier]
                    assert (plain.startswith(qualifier) if place == "before" else
                            plain.endswith(qualifier) if place == "after" else qualifier in plain)


# --------------------------------------------------------------------------- `casebook new` and the model


def _listed(text: str, field: str) -> list[str]:
    """The values a comment in the new file lists for ``field``: "kind（company 企业 / …）"."""
    block = re.search(field + r"（(.+?)）", text.replace("\n#   ", " "), re.S).group(1)
    return [item.split(" ")[0] for item in block.split(" / ")]


def test_new_lists_exactly_the_partner_kinds_and_statuses_the_model_allows(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    text = new_cluster(cases, "tea-valley").read_text(encoding="utf-8")
    assert set(PARTNER_KIND_LABELS) == set(typing.get_args(PartnerKind))
    assert set(PROJECT_STATUS_LABELS) == set(typing.get_args(ProjectStatus))
    assert _listed(text, "kind") == list(typing.get_args(PartnerKind))
    assert _listed(text, "status") == list(typing.get_args(ProjectStatus))
    for kind, label in PARTNER_KIND_LABELS.items():
        assert f"{kind} {label}" in text  # the site's word for each kind, beside its value


def test_new_is_generated_from_the_model_every_field_and_item_field(tmp_path):
    """Every field of the cluster model is in the new file (to fill, or commented out when
    optional), and so is every field of each list's items, with its Chinese title: a field added to
    the model reaches the scaffold without anyone editing it."""
    from casebook.models import Cluster
    from casebook.scaffold import _bare, _item_model

    cases = tmp_path / "cases"
    cases.mkdir()
    text = new_cluster(cases, "tea-valley").read_text(encoding="utf-8")
    for key, info in Cluster.model_fields.items():
        assert re.search(rf"^(# )?{key}:", text, re.M), key
        assert f"# {info.title}：" in text, key
        item = _item_model(_bare(info.annotation))
        for sub, sub_info in (item.model_fields.items() if item else []):
            assert re.search(rf"^#   {sub}（", text[text.index(f"# {info.title}："):], re.M), f"{key}.{sub}"
            assert sub_info.description in text, f"{key}.{sub}"
    # Kept valid YAML that check reads: only the placeholders are reported (see test_editor_workflow).
    import yaml

    assert yaml.safe_load(text)["id"] == "tea-valley"
