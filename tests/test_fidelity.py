"""Fidelity (issue 12): every quote in the section it cites, every editorial choice marked wherever
it shows, every fact of the source in the data and on the site.

The casebooks built here are fictional (虚构): a small source text with three sections, and case
files generated from the models (casebook.models.FILE_MODELS), so a quoted field added later is
covered too.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from casebook.models import FILE_MODELS, Strand, Verbatim
from casebook.present import EDITORIAL_MARKS
from casebook.store import open_store
from casebook.validate import load_casebook

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"

# --------------------------------------------------------------------------- a fictional source in sections

# part-a holds a sub-section (part-a-1); part-b follows. Every field's ordinary value (FILLER) is in
# part-a; the quote under test is put in part-b (another section) or part-a-1 (a sub-section).
SOURCE_TEXT = (
    "虚构来源材料（非真实数据，仅供测试）。\n"
    "一、虚构第一部分。虚构甲组团的一句话。\n"
    "虚构第一节。{in_sub}\n"
    "本部分到此结束。\n"
    "二、虚构第二部分。{in_other}\n"
)
SECTIONS = [
    {"id": "part-a", "title": "一、虚构第一部分", "end": "本部分到此结束。"},
    {"id": "part-a-1", "title": "虚构第一节"},
    {"id": "part-b", "title": "二、虚构第二部分"},
]
FILLER = "虚构甲组团"  # in part-a
CITED = "fictional/part-a"


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(inner type, is a list, metadata) with Optional and Annotated removed."""
    metadata: list[Any] = []
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *more = typing.get_args(annotation)
            metadata += more
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, is_list, metadata
            annotation = args[0]
        elif origin is list and not is_list:
            annotation, is_list = typing.get_args(annotation)[0], True
        else:
            return annotation, is_list, metadata


def _is_verbatim(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields[name]
    _, _, metadata = _unwrap(info.annotation)
    return any(isinstance(m, Verbatim) for m in [*metadata, *info.metadata])


def _submodel(model: type[BaseModel], name: str) -> tuple[type[BaseModel] | None, bool]:
    inner, is_list, _ = _unwrap(model.model_fields[name].annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner, is_list
    return None, is_list


def quoted_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every verbatim field reachable from ``model``, as a path of names ("[]" after a list)."""
    out = []
    for name in model.model_fields:
        sub, is_list = _submodel(model, name)
        step = (name, "[]") if is_list else (name,)
        if _is_verbatim(model, name):
            out.append((*prefix, *step))
        elif sub is not None:
            out += quoted_fields(sub, (*prefix, *step))
    return out


# Required values that have a format: what a minimal valid item holds.
FIXED = {"strand": "fictional-strand", "indicator": "fictional-count", "order": 1, "source": CITED}
IDS = iter(range(10**6))


def minimal(model: type[BaseModel]) -> dict[str, Any]:
    """An item of ``model`` with only its required fields, each valid and (if quoted) in part-a."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if not info.is_required():
            continue
        sub, is_list = _submodel(model, name)
        inner, _, _ = _unwrap(info.annotation)
        if name == "id":
            out[name] = f"fictional-{next(IDS)}"
        elif name in FIXED:
            out[name] = FIXED[name]
        elif sub is not None:
            out[name] = [minimal(sub)] if is_list else minimal(sub)
        elif typing.get_origin(inner) is typing.Literal:
            out[name] = typing.get_args(inner)[0]
        elif is_list or typing.get_origin(info.annotation) is list:  # a required list of text (a chain's steps)
            out[name] = [FILLER if _is_verbatim(model, name) else "虚构的说明。"] * 2  # chains need two
        else:
            out[name] = FILLER if _is_verbatim(model, name) else "虚构的说明。"
    return out


def put(data: dict[str, Any], model: type[BaseModel], path: tuple[str, ...], value: str) -> None:
    """Set the field at ``path`` to ``value``, making the items on the way (the first of each list)."""
    name, rest = path[0], path[1:]
    sub, is_list = _submodel(model, name)
    if rest == ("[]",) or (is_list and sub is None):
        data[name] = [value, *data.get(name, [])[1:]]  # the first item; a required minimum stays met
    elif not rest:
        data[name] = value
    elif is_list:
        assert sub is not None
        items = data.setdefault(name, [])
        if not items:
            items.append(minimal(sub))
        put(items[0], sub, rest[1:], value)
    else:
        assert sub is not None
        put(data.setdefault(name, minimal(sub)), sub, rest, value)


def dotted(path: tuple[str, ...]) -> str:
    return "".join("[0]" if p == "[]" else (f".{p}" if i else p) for i, p in enumerate(path))


FILES = {"cluster": "clusters/fictional-a.yaml", "lesson": "lessons/fictional-lesson.yaml", "alliance": "alliance.yaml"}


def fictional_book(tmp: Path, kind: str | None = None, path: tuple[str, ...] = (), quote: str = "",
                   where: str = "in_other") -> Path:
    """A valid fictional casebook citing part-a everywhere; with ``kind`` and ``path``, that field
    holds ``quote``, which the source text holds in part-b ("in_other") or part-a-1 ("in_sub")."""
    cases = tmp / "cases"
    (cases / "clusters").mkdir(parents=True)
    (cases / "lessons").mkdir()
    (cases / "sources").mkdir()
    text = SOURCE_TEXT.format(**{"in_sub": "", "in_other": "", where: quote})
    (cases / "sources" / "fictional.txt").write_text(text, encoding="utf-8")
    write(cases / "sources.yaml", {"sources": [{
        "id": "fictional", "title": "虚构来源材料", "kind": "虚构测试材料", "file": "sources/fictional.txt",
        "note": "全部内容为虚构，仅供测试。", "sections": SECTIONS}]})
    write(cases / "indicators.yaml", {"indicators": [{
        "id": "fictional-count", "name": "虚构个数", "unit": "个", "definition": "虚构的测试指标。",
        "direction": "neutral", "category": "basics"}]})
    docs = {
        "cluster": dict(minimal(FILE_MODELS["cluster"]), id="fictional-a"),
        "lesson": dict(minimal(FILE_MODELS["lesson"]), id="fictional-lesson", clusters=["fictional-a"]),
        "alliance": dict(minimal(FILE_MODELS["alliance"]), strands=[dict(minimal(Strand), id="fictional-strand")]),
    }
    if kind is not None:
        put(docs[kind], FILE_MODELS[kind], path, quote)
    for k, rel in FILES.items():
        write(cases / rel, docs[k])
    return cases


def write(path: Path, data: dict[str, Any]) -> None:
    # JSON is YAML: every string quoted, one field a line.
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


QUOTED = [(kind, path) for kind in FILES for path in quoted_fields(FILE_MODELS[kind])]


def test_every_quoted_field_is_found():
    """The walk finds the quoted fields of every kind of case file that cites sections."""
    found = {kind: {dotted(p) for k, p in QUOTED if k == kind} for kind in FILES}
    assert sum(map(len, found.values())) >= 40, found
    assert {"name", "theme", "villages[0]", "models[0].formula", "observations[0].quote", "layout[0].name",
            "location.district", "measures[0].terms[0]"} <= found["cluster"]
    assert {"title", "key_phrases[0]"} <= found["lesson"]
    assert {"background[0].text", "principles[0].text", "examples[0].terms[0]", "framework.members[0].name"} \
        <= found["alliance"]


def test_the_fictional_casebook_is_valid(tmp_path):
    book, errors = load_casebook(fictional_book(tmp_path))
    assert [e.text() for e in errors] == []
    assert book.alliance is not None and book.clusters and book.lessons


@pytest.mark.parametrize("kind, path", QUOTED, ids=[f"{k}:{dotted(p)}" for k, p in QUOTED])
def test_quote_from_another_section_is_located_and_named(tmp_path, kind, path):
    quote = "虚构的只在第二部分出现的一句话"
    cases = fictional_book(tmp_path, kind, path, quote, where="in_other")
    _, errors = load_casebook(cases)
    assert len(errors) == 1, [e.text() for e in errors]
    err = errors[0]
    assert err.file.endswith(FILES[kind]) and err.field == dotted(path)
    lines = (cases / FILES[kind]).read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if f'"{quote}"' in text)
    assert (err.line, err.column) == (line, lines[line - 1].index(f'"{quote}"') + 1)
    assert "不在所注出处“一、虚构第一部分”（fictional/part-a）中" in err.message
    assert err.message.endswith("提示：这句话出自“二、虚构第二部分”（part-b），把 source 改为 fictional/part-b")


@pytest.mark.parametrize("kind, path", QUOTED, ids=[f"{k}:{dotted(p)}" for k, p in QUOTED])
def test_quote_from_a_sub_section_of_the_cited_one_passes(tmp_path, kind, path):
    cases = fictional_book(tmp_path, kind, path, "虚构的第一节里的一句话", where="in_sub")
    _, errors = load_casebook(cases)
    assert [e.text() for e in errors] == []


def test_citing_the_section_where_it_is_passes_and_the_document_passes(tmp_path):
    cases = fictional_book(tmp_path, "cluster", ("measures", "[]", "terms", "[]"), "虚构的只在第二部分出现的一句话")
    path = cases / FILES["cluster"]
    data = json.loads(path.read_text(encoding="utf-8"))
    for ref in ("fictional/part-b", "fictional"):
        data["measures"][0]["source"] = ref  # the item's own source wins over the file's
        write(path, data)
        _, errors = load_casebook(cases)
        assert [e.text() for e in errors] == [], ref


def test_text_after_the_last_section_belongs_to_the_document_only(tmp_path):
    """A section with an end stops there: text after it is in no section, and a quote of it names
    none (the check cannot say which section to cite)."""
    cases = fictional_book(tmp_path, "cluster", ("slogans", "[]"), "虚构的附录里的一句话", where="in_other")
    sources = json.loads((cases / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"][0]["sections"][2]["end"] = "二、虚构第二部分。"
    write(cases / "sources.yaml", sources)
    _, errors = load_casebook(cases)
    assert [e.text() for e in errors] == []


def test_quote_in_several_other_sections_names_them_all(tmp_path):
    cases = fictional_book(tmp_path, "cluster", ("slogans", "[]"), "虚构的两处都有的话", where="in_other")
    source = cases / "sources" / "fictional.txt"
    source.write_text("虚构的两处都有的话。" + source.read_text(encoding="utf-8").replace(
        "虚构第一节。", "虚构第一节。虚构的两处都有的话。"), encoding="utf-8")
    sources = json.loads((cases / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"][0]["sections"].insert(1, {"id": "part-a-0", "title": "虚构甲组团的一句话"})
    write(cases / "sources.yaml", sources)
    _, errors = load_casebook(cases)
    # Cited part-a-0 (a sibling of part-a-1 inside part-a): found in part-a-1 and part-b, not in part-a-0.
    data = json.loads((cases / FILES["cluster"]).read_text(encoding="utf-8"))
    data["source"] = "fictional/part-a-0"
    write(cases / FILES["cluster"], data)
    _, errors = load_casebook(cases)
    messages = [e.message for e in errors if e.field == "slogans[0]"]
    assert len(messages) == 1, [e.text() for e in errors]
    assert "出自“虚构第一节”（part-a-1）、“二、虚构第二部分”（part-b），把 source 改为 fictional/part-a-1" in messages[0]


def test_sections_out_of_order_or_without_their_end_are_located_errors(tmp_path):
    cases = fictional_book(tmp_path)
    sources = json.loads((cases / "sources.yaml").read_text(encoding="utf-8"))
    sections = sources["sources"][0]["sections"]
    sections[0]["end"] = "虚构的并不存在的结尾。"
    sections[1], sections[2] = sections[2], sections[1]
    write(cases / "sources.yaml", sources)
    _, errors = load_casebook(cases)
    by_field = {e.field: e for e in errors}
    assert set(by_field) == {"sources[0].sections[0].end", "sources[0].sections[2].title"}, [e.text() for e in errors]
    lines = (cases / "sources.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[by_field["sources[0].sections[0].end"].line - 1].strip().startswith('"end"')
    assert "提示：" in by_field["sources[0].sections[0].end"].message
    assert "出现在上一章节开头之前" in by_field["sources[0].sections[2].title"].message


def test_cached_check_sees_a_section_move(tmp_path):
    """The verbatim check is cached per file; moving a section's bounds must still be noticed."""
    cases = fictional_book(tmp_path, "cluster", ("slogans", "[]"), "虚构的第一节里的一句话", where="in_sub")
    store = open_store(tmp_path / "cache")
    assert load_casebook(cases, cache=store)[1] == []
    assert load_casebook(cases, cache=store)[1] == []
    sources = json.loads((cases / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"][0]["sections"][0].pop("end")  # part-a now ends where part-a-1 starts
    write(cases / "sources.yaml", sources)
    errors = load_casebook(cases, cache=store)[1]
    assert [e.field for e in errors] == ["slogans[0]"], [e.text() for e in errors]
    assert "把 source 改为 fictional/part-a-1" in errors[0].message


def test_real_background_and_principles_cite_their_own_sections(tmp_path):
    """The real write-up: the background and principles come from the intro and the opening of part
    2 (issue 12 found 16 such items citing part-1); citing part-1 again is a located error."""
    book, errors = load_casebook(CASES)
    assert [e.text() for e in errors] == []
    assert book.alliance is not None
    statements = [*book.alliance.background, *book.alliance.principles]
    assert len(statements) >= 16 and {s.source for s in statements} == {"writeup/intro", "writeup/part-2"}
    target = tmp_path / "cases"
    shutil.copytree(CASES, target)
    path = target / "alliance.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("    source: writeup/intro\n") >= 3 and text.count("    source: writeup/part-2\n") >= 4
    path.write_text(text.replace("    source: writeup/intro\n", "    source: writeup/part-1\n")
                    .replace("    source: writeup/part-2\n", "    source: writeup/part-1\n"), encoding="utf-8")
    _, errors = load_casebook(target)
    moved = [e for e in errors if e.field.startswith(("background", "principles"))]
    assert len(moved) == len(statements), [e.text() for e in errors]
    for e in moved:
        assert "（writeup/part-1）中" in e.message
        assert e.message.endswith(("把 source 改为 writeup/intro", "把 source 改为 writeup/part-2")), e.message
    assert any("出自“党的二十大报告指出”（intro）" in e.message for e in moved)
    assert any("出自“二、坚持因地制宜，确保共同富裕组团建设取得实效”（part-2）" in e.message for e in moved)


# --------------------------------------------------------------------------- editorial choices, marked where they show

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
LABEL, LINK = EDITORIAL_MARKS["label"], EDITORIAL_MARKS["link"]
REASONS = {"model": "虚构的编者理由：原文没有这个模式名。", "mechanism": "虚构的编者理由：原文没有称为机制。",
           "lesson": "虚构的编者理由：原文没有指明组团。", "source": "虚构的编者理由：原文没有题名。"}
EDITORIAL_MODEL, SOURCE_MODEL, EDITORIAL_MECHANISM = "“虚构编者模式”", "“虚构原文模式”", "虚构编者机制"
SOURCE_TITLE = "虚构测试材料（非真实数据）"


@pytest.fixture(scope="module")
def editorial_site(tmp_path_factory) -> Path:
    """The fictional casebook with an editorial model name, mechanism, set of lesson links and
    source title (and one model that is the source's), built by a real MkDocs build."""
    from sitebuild import build_project, make_project

    tmp = tmp_path_factory.mktemp("editorial")
    cases = tmp / "cases"
    shutil.copytree(FICTIONAL, cases)
    source = cases / "sources" / "fictional.txt"
    source.write_text(source.read_text(encoding="utf-8").replace(
        "虚构甲组团，", f"虚构甲组团，{EDITORIAL_MODEL}{SOURCE_MODEL}{EDITORIAL_MECHANISM}，", 1), encoding="utf-8")
    cluster = cases / "clusters" / "fictional-a.yaml"
    text = cluster.read_text(encoding="utf-8")
    text = text.replace("models:\n", f"models:\n  - id: fictional-editorial-model\n    name: {EDITORIAL_MODEL}\n"
                                     f"    description: 虚构的编者模式。\n    basis: editorial\n"
                                     f"    reason: {REASONS['model']}\n"
                                     f"  - id: fictional-source-model\n    name: {SOURCE_MODEL}\n"
                                     f"    description: 虚构的原文模式。\n    basis: source\n", 1)
    text = text.replace("  - id: fictional-mechanism\n    name: 虚构甲组团\n",
                        f"  - id: fictional-mechanism\n    name: {EDITORIAL_MECHANISM}\n    basis: editorial\n"
                        f"    reason: {REASONS['mechanism']}\n", 1)
    cluster.write_text(text, encoding="utf-8")
    lesson = cases / "lessons" / "fictional-lesson.yaml"
    lesson.write_text(lesson.read_text(encoding="utf-8") + f"basis: editorial\nreason: {REASONS['lesson']}\n",
                      encoding="utf-8")
    sources = cases / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8").replace(
        "    note: 全部内容为虚构，仅供测试。\n",
        f"    note: 全部内容为虚构，仅供测试。\n    basis: editorial\n    reason: {REASONS['source']}\n", 1), encoding="utf-8")
    assert load_casebook(cases)[1] == []
    return build_project(make_project(tmp, cases))


def _mark(label: str, reason: str) -> str:
    return f'<span class="cb-badge cb-editorial" title="{reason}">{label}</span>'


# What may stand between a shown name and its mark: the end of the element holding the name (a link, a quote, a filter value).
_BETWEEN = re.compile(r"(?:\s|</a>|</q>|</span>)*")


def _articles(site: Path) -> dict[str, str]:
    out = {}
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        m = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', html, re.S)
        if m:
            out[page.relative_to(site).as_posix()] = m.group(1)
    return out


def _unmarked(html: str, shown: re.Pattern[str], mark: str) -> list[str]:
    """Each place ``shown`` matches that is not followed by ``mark``."""
    missing = []
    for m in shown.finditer(html):
        after = _BETWEEN.match(html, m.end())
        assert after is not None
        if not html.startswith(mark, after.end()):
            missing.append(html[max(0, m.start() - 80):m.end() + 120])
    return missing


@pytest.mark.parametrize("name, kind", [(EDITORIAL_MODEL, "model"), (EDITORIAL_MECHANISM, "mechanism")])
def test_every_page_showing_an_editorial_name_marks_it(editorial_site, name, kind):
    shown = re.compile(">" + re.escape(name))
    pages = {rel: html for rel, html in _articles(editorial_site).items() if shown.search(html)}
    # The cluster page, the models page and the tags page at least (and the home card and the
    # lessons page for the model and the mechanism respectively).
    assert {"cases/fictional-a/index.html", "models/index.html", "tags/index.html"} <= set(pages), sorted(pages)
    assert ("index.html" if kind == "model" else "lessons/index.html") in pages
    for rel, html in pages.items():
        assert _unmarked(html, shown, _mark(LABEL, REASONS[kind])) == [], rel


def test_a_name_the_source_gives_is_not_marked(editorial_site):
    shown = re.compile(">" + re.escape(SOURCE_MODEL))
    pages = {rel: html for rel, html in _articles(editorial_site).items() if shown.search(html)}
    assert "models/index.html" in pages and "cases/fictional-a/index.html" in pages
    for rel, html in pages.items():
        for m in shown.finditer(html):
            assert "cb-editorial" not in html[m.end():m.end() + 60], rel


def test_every_page_showing_an_editorial_lesson_link_marks_it(editorial_site):
    articles = _articles(editorial_site)
    link = re.compile(r'<a href="[^"]*lessons/#fictional-lesson">[^<]*</a>')
    pages = {rel: html for rel, html in articles.items() if link.search(html)}
    assert "cases/fictional-a/index.html" in pages, sorted(pages)
    for rel, html in pages.items():
        assert _unmarked(html, link, _mark(LINK, REASONS["lesson"])) == [], rel
    # On the lessons page the links go the other way: its clusters and mechanisms (models, strands) are marked.
    lessons = articles["lessons/index.html"]
    for label in ("体现的组团", "体现的机制"):
        assert f'<p class="cb-label">{label} {_mark(LINK, REASONS["lesson"])}</p>' in lessons
    assert f"关联说明：{REASONS['lesson']}" in lessons


def test_every_page_naming_an_editorial_source_title_marks_it(editorial_site):
    articles = _articles(editorial_site)
    named = re.compile(r'<a href="[^"]*sources/#fictional[^"]*">' + re.escape(SOURCE_TITLE) + "[^<]*</a>")
    pages = {rel: html for rel, html in articles.items() if named.search(html)}
    assert {"cases/fictional-a/index.html", "lessons/index.html", "indicators/collective-income/index.html"} \
        <= set(pages), sorted(pages)
    for rel, html in pages.items():
        assert _unmarked(html, named, _mark(LABEL, REASONS["source"])) == [], rel
    assert _mark(LABEL, REASONS["source"]) in articles["sources/index.html"]
    tooltips = re.findall(r'title="([^"]*来源：' + re.escape(SOURCE_TITLE) + '[^"]*)"',
                          articles["completeness/index.html"])
    assert tooltips and all(f"（{LABEL}）" in t for t in tooltips)


def test_models_page_says_whose_names_they_are(editorial_site):
    html = _articles(editorial_site)["models/index.html"]
    assert "名称和表述照录原文" not in html
    assert f"标有“{LABEL}”" in html and f"{REASONS['model']}" in html


def test_downloads_carry_the_mark_as_a_column(editorial_site):
    from openpyxl import load_workbook

    downloads = editorial_site / "downloads"
    with (downloads / "共富案例库-全部数据.csv").open(encoding="utf-8-sig", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    sheet = load_workbook(downloads / "共富案例库-全部数据.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    xlsx_rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    json_rows = json.loads((downloads / "共富案例库-全部数据.json").read_text(encoding="utf-8"))
    for rows, column, source in ((csv_rows, "编者标注", "来源"), (xlsx_rows, "编者标注", "来源"),
                                 (json_rows, "editorial", "source")):
        assert rows
        for row in rows:
            assert str(row[source]).startswith(SOURCE_TITLE)
            assert row[column] == f"来源题名{LABEL}", row
    package = json.loads((downloads / "datapackage.json").read_text(encoding="utf-8"))
    # Every table's schema (the JSON's field names are its keys; every field's title is the column's).
    assert all("编者标注" in [f["title"] for f in r["schema"]["fields"]] for r in package["resources"] if "schema" in r)


def test_editorial_without_a_reason_is_a_located_error(tmp_path):
    cases = fictional_book(tmp_path)
    path = cases / FILES["cluster"]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["models"] = [{"id": "fictional-m", "name": FILLER, "description": "虚构。", "basis": "editorial"}]
    write(path, data)
    _, errors = load_casebook(cases)
    assert [e.field for e in errors] == ["models[0]"], [e.text() for e in errors]
    assert "reason" in errors[0].message and "提示：" in errors[0].message


# --------------------------------------------------------------------------- the source's facts, in the data and on the site

FACTS_FILE = Path(__file__).parent / "fidelity_facts.yaml"


@dataclass(frozen=True)
class Fact:
    section: str
    phrase: str


def _squash(text: str) -> str:
    return "".join(text.split())


def load_facts() -> list[Fact]:
    import yaml

    return [Fact(**item) for item in yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))["facts"]]


def _owner_pages(book: Any) -> list[tuple[str, BaseModel]]:
    """Each case file's model with the page that shows it."""
    pages = [(f"cases/{c.id}/index.html", c) for c in book.clusters.values()]
    pages += [("lessons/index.html", lesson) for lesson in book.lessons.values()]
    return pages + ([("alliance/index.html", book.alliance)] if book.alliance else [])


def _texts(obj: Any, ref: str | None) -> list[tuple[str | None, str]]:
    """Every text in ``obj`` with the source reference that applies to it."""
    if isinstance(obj, BaseModel):
        ref = getattr(obj, "source", None) or ref
        return [t for name in type(obj).model_fields for t in _texts(getattr(obj, name), ref)]
    if isinstance(obj, list):
        return [t for item in obj for t in _texts(item, ref)]
    return [(ref, obj)] if isinstance(obj, str) else []


def _spans(book: Any) -> tuple[str, dict[str, tuple[int, int]]]:
    from casebook.models import locate_sections

    doc = book.sources["writeup"]
    text = _squash((CASES / doc.file).read_text(encoding="utf-8"))
    spans, problems = locate_sections(text, doc.sections, _squash)
    assert problems == []
    return text, spans


def _page_text(html: str) -> str:
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    m = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', html, re.S)
    assert m
    parser = Text()
    parser.feed(m.group(1))
    # A quoted value shows its own “…” as ‘…’ inside the <q>, or none where the <q> gives them
    # (present.inner_quotes, GB/T 15834): the same words, so pages and facts are read without marks.
    return _unquoted(_squash("".join(parser.parts)))


def _unquoted(text: str) -> str:
    return text.translate(str.maketrans("", "", "“”‘’"))


def missing_facts(book: Any, pages: dict[str, str], facts: list[Fact]) -> list[str]:
    """Each fact that no case file states under a compatible source (its section, one inside it or
    one around it), or whose page does not show it; ``pages`` holds each page's article text."""
    _, spans = _spans(book)

    def compatible(ref: str | None, section: str) -> bool:
        doc, _, cited = (ref or "").partition("/")
        if doc != "writeup" or cited not in spans:
            return False
        (a0, a1), (b0, b1) = spans[cited], spans[section]
        return (a0 <= b0 and b1 <= a1) or (b0 <= a0 and a1 <= b1)

    out = []
    for fact in facts:
        phrase = _squash(fact.phrase)
        places = [page for page, model in _owner_pages(book) for ref, value in _texts(model, None)
                  if phrase in _squash(value) and compatible(ref, fact.section)]
        if not places:
            out.append(f"{fact.section} {fact.phrase}: 数据中没有")
        elif not any(_unquoted(phrase) in pages.get(page, "") for page in places):
            out.append(f"{fact.section} {fact.phrase}: {places[0]} 未显示")
    return out


@pytest.fixture(scope="module")
def real_book() -> Any:
    book, errors = load_casebook(CASES)
    assert errors == []
    return book


@pytest.fixture(scope="module")
def real_pages(real_site) -> dict[str, str]:
    return {rel: _page_text(html) for rel, html in ((p.relative_to(real_site).as_posix(), p.read_text(encoding="utf-8"))
                                                     for p in real_site.rglob("index.html")) if "md-content__inner" in html}


def test_every_fact_is_in_its_section_of_the_source(real_book):
    facts = load_facts()
    assert len(facts) >= 60
    text, spans = _spans(real_book)
    assert {f.section for f in facts} >= set(spans) - {"part-1", "part-3"}  # every section with text of its own
    for fact in facts:
        start, end = spans[fact.section]
        assert _squash(fact.phrase) in text[start:end], fact


def test_every_fact_is_in_the_data_and_on_the_site(real_book, real_pages):
    assert missing_facts(real_book, real_pages, load_facts()) == []


def test_a_removed_fact_is_noticed(real_book, real_pages, tmp_path):
    """The coverage test can fail: a fact taken out of the data, or off its page, is reported."""
    facts = load_facts()
    clause = next(f for f in facts if f.phrase == "既要客观所需，也要科学合理，彰显特色亮点")
    target = tmp_path / "cases"
    shutil.copytree(CASES, target)
    path = target / "alliance.yaml"
    text = path.read_text(encoding="utf-8")
    item = f"  - text: {clause.phrase}\n    source: writeup/intro\n"
    assert item in text
    path.write_text(text.replace(item, ""), encoding="utf-8")
    book, errors = load_casebook(target)
    assert errors == []
    assert missing_facts(book, real_pages, facts) == [f"intro {clause.phrase}: 数据中没有"]
    # Cited under another section, it is not in its place either.
    path.write_text(text.replace(item, item.replace("writeup/intro", "writeup/part-2")), encoding="utf-8")
    book, errors = load_casebook(target)
    assert [e.field for e in errors] == [f"principles[{text[:text.index(item)].count('  - text:') - 3}].text"]
    assert missing_facts(book, real_pages, [clause]) == [f"intro {clause.phrase}: 数据中没有"]
    # Off its page.
    pages = dict(real_pages, **{"alliance/index.html": real_pages["alliance/index.html"].replace(
        _unquoted(_squash(clause.phrase)), "")})
    assert missing_facts(real_book, pages, [clause]) == [f"intro {clause.phrase}: alliance/index.html 未显示"]


# --------------------------------------------------------------------------- narrative in our own words

NARRATIVE = ("summary", "description", "role", "event", "reason", "note")  # titles may be the source's headings
GRAM = 4


def copied_share(text: str, source: str) -> float:
    """The share of ``text``'s characters inside a run of GRAM or more characters copied from ``source``."""
    text = _squash(text)
    grams = {source[i:i + GRAM] for i in range(len(source) - GRAM + 1)}
    covered = [False] * len(text)
    for i in range(len(text) - GRAM + 1):
        if text[i:i + GRAM] in grams:
            covered[i:i + GRAM] = [True] * GRAM
    return sum(covered) / len(text) if text else 0.0


def _narrative(obj: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(obj, BaseModel):
        out = []
        for name, info in type(obj).model_fields.items():
            value = getattr(obj, name)
            if name in NARRATIVE and isinstance(value, str) and not any(isinstance(m, Verbatim) for m in info.metadata):
                out.append((f"{where}.{name}", value))
            else:
                out += _narrative(value, f"{where}.{name}")
        return out
    if isinstance(obj, list):
        return [t for i, item in enumerate(obj) for t in _narrative(item, f"{where}[{i}]")]
    return []


def test_copied_share_measures_copying():
    source = _squash(SOURCE_TEXT.format(in_sub="", in_other=""))
    assert copied_share("虚构甲组团的一句话", source) == 1.0
    assert copied_share("完全不同的文字", source) == 0.0


def test_narrative_fields_are_written_afresh(real_book):
    """Names, terms and quotes are exact; what the editors write about them is in their own words:
    no narrative field is 90 % or more made of runs copied from the source."""
    source, _ = _spans(real_book)
    fields = [(f"{page}{where}", text) for page, model in _owner_pages(real_book) for where, text in _narrative(model)]
    assert len(fields) > 100
    copied = [(round(copied_share(text, source), 2), where, text) for where, text in fields
              if copied_share(text, source) >= 0.9]
    assert copied == []


# The source's own named models (each called 模式 in its text), and names it gives to a brand or a
# result, which are not models.
SOURCE_MODELS = {"四带共富": "part-2-source-prosperity", "乡村经营新模式": "part-1-resources",
                 "城乡合伙人": "part-1-resources"}
NOT_MODELS = ["雪乡共富菜园", "“数字乡村”示范样板"]


def test_the_sources_named_models_each_show_once_on_the_models_page(real_book, real_site):
    text, spans = _spans(real_book)
    html = (real_site / "models" / "index.html").read_text(encoding="utf-8")
    table = html[html.index('id="models"'):html.index('id="cluster-mechanisms"')]
    names = [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<th scope="row">(.*?)</th>', table)]
    for name, section in SOURCE_MODELS.items():
        start, end = spans[section]
        assert _squash(f"{name}") in text[start:end] and "模式" in text[start:end], name
        assert [n for n in names if n.startswith(name)] == [name], (name, names)  # once, and unmarked
    for name in NOT_MODELS:
        assert not any(name in n for n in names), name
    # Each alliance model names the example that shows it.
    rows = {re.sub(r"<[^>]+>", "", th): row for row in re.findall(r"<tr id=.*?</tr>", table)
            for th in re.findall(r'<th scope="row">(.*?)</th>', row)}
    for name in ("乡村经营新模式", "城乡合伙人"):
        assert "“虹心”党建联盟" in rows[name], rows[name]
