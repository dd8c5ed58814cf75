"""Every text field of every kind of case file, filled with hostile text, reaches every output file
and every browser context only as text (issue 10). The casebooks are made from the 虚构 (fictional)
test casebook in tests/fixtures/fictional; every name in them is fictional.

The fields are not listed by hand: they are found by walking the models (casebook.models.FILE_MODELS),
so a field added later is filled too. A field whose value has a format (a pattern — ids, source
references —, a fixed list, a validated link, a year, a figure) cannot carry hostile text and is
left at the fictional casebook's value, by that constraint.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
import shutil
import types
import typing
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from casebook.models import FILE_MODELS, Observation, Verbatim

from sitebuild import build_project, make_project

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"

# Each payload carries a marker (p1, p2, …) so its arrival can be checked wherever it lands. The
# spreadsheet formulas come first and a leading apostrophe fifth: only at the start of a value do
# they matter, and the first text fields of a file (names) start with the first payloads.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/p18","点我")',
    "+cmd|' /C calc'!A0 p19",
    "@SUM(1+1)*p20",
    "-2+3+p21",
    "'单引号开头p28'",
    '<script>alert("p1")</script>',
    '<img src=x onerror=alert("p2")>',
    '<svg onload=alert("p3")>',
    '[点我p4](javascript:alert("p4"))',
    "<a href=\"&#106;avascript:alert('p5')\">点我p5</a>",
    "<a href=\"JaVaScRiPt:alert('p6')\">点我p6</a>",
    '</title><script>alert("p7")</script>',
    '</textarea><script>alert("p8")</script>',
    '</script><script>alert("p9")</script>',
    '</style><script>alert("p10")</script>',
    "\" onmouseover=\"alert('p11')\" x=\"",
    "' onmouseover='alert(\"p12\")' x='",
    "{{ 7*7 }}{% raw %}p13{% endraw %}",
    "\n\n# 伪标题p14 {#overview}\n\n",
    "![图p15](https://evil.example/p15.png)",
    "<!-- p16 -->",
    "<!--p17",
    "＜script＞alert('p22')＜/script＞",  # full-width look-alikes (invisible characters are refused by check)
    '<a href="data:text/html,<script>alert(23)</script>">p23</a>',
    '<iframe src="https://evil.example/p24"></iframe>',
    "<style>body{display:none}</style>p25",
    '</div></td></tr></table><script>alert("p26")</script>',
    "&lt;script&gt;alert('p27')&lt;/script&gt;",
    "__config",
]
MARKERS = [f"p{i}" for i in range(1, 29)]
SITE_WIDTHS = (1366, 390)
FRESH = itertools.count()  # new ids, unique across every file made


# --------------------------------------------------------------------------- the fields, from the models


@dataclass(frozen=True)
class Kind:
    """What a model field holds, as far as filling it is concerned."""

    shape: str  # "text", "texts", "model", "models" or "fixed" (a format: left as it is)
    model: type[BaseModel] | None = None
    max_length: int = 4000
    verbatim: bool = False


def _constraints(metadata: list[Any]) -> tuple[bool, int, bool]:
    """(has a format, max length, verbatim) from a str field's metadata."""
    formatted = any(getattr(m, "pattern", None) for m in metadata) or any(
        type(m).__name__ in ("PlainValidator", "AfterValidator", "BeforeValidator", "WrapValidator")
        for m in metadata)
    lengths = [m.max_length for m in metadata if getattr(m, "max_length", None)]
    return formatted, min(lengths) if lengths else 4000, any(isinstance(m, Verbatim) for m in metadata)


def classify(annotation: Any, metadata: list[Any] | None = None) -> Kind:
    metadata = list(metadata or [])
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *more = typing.get_args(annotation)
        return classify(base, metadata + more)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return classify(args[0], metadata) if len(args) == 1 else Kind("fixed")  # e.g. int | '*'
    if origin is list:
        inner = classify(typing.get_args(annotation)[0])
        if inner.shape == "text":
            return Kind("texts", max_length=inner.max_length, verbatim=inner.verbatim)
        if inner.shape == "model":
            return Kind("models", inner.model)
        return Kind("fixed")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Kind("model", annotation)
    if annotation is str:
        formatted, length, verbatim = _constraints(metadata)
        return Kind("fixed") if formatted else Kind("text", max_length=length, verbatim=verbatim)
    return Kind("fixed")  # Literal, int, bool, date, figures


def kind_of(model: type[BaseModel], name: str) -> Kind:
    info = model.model_fields[name]
    return classify(info.annotation, list(info.metadata))


def text_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every free-text field path reachable from ``model`` (a.b, a[].b)."""
    out = []
    for name in model.model_fields:
        k = kind_of(model, name)
        if k.shape in ("text", "texts"):
            out.append(prefix + name + ("[]" if k.shape == "texts" else ""))
        elif k.shape in ("model", "models"):
            assert k.model is not None
            out += text_fields(k.model, f"{prefix}{name}{'[]' if k.shape == 'models' else ''}.")
    return out


def test_every_text_field_of_every_file_kind_is_found():
    """The walk finds the text fields of every kind of file, and there are many of them."""
    found = {kind: text_fields(model) for kind, model in FILE_MODELS.items()}
    total = sum(map(len, found.values()))
    print(f"text fields covered: {total}", {k: len(v) for k, v in found.items()})
    assert all(found.values()), found
    assert total >= 60
    # Fields with a format are not among them; free text of every kind is.
    assert "id" not in found["cluster"] and "source" not in found["cluster"] and "sources[].url" not in found["sources"]
    assert {"name", "summary", "villages[]", "models[].formula", "observations[].scope"} <= set(found["cluster"])
    assert "indicators[].name" in found["indicators"] and "sources[].sections[].title" in found["sources"]


# --------------------------------------------------------------------------- filling the fields


class Filler:
    """Case files with hostile text in every free-text field: each Text field gets every payload,
    each shorter (Quote) field as many as fit, starting at a different payload for each field (so
    every payload also starts some field: CSV formulas only count at the start of a cell), and each
    list of text one item per payload. Verbatim values are collected to be added to the source."""

    def __init__(self, suffix: str, start: int = 0) -> None:
        self.suffix = suffix  # keeps ids unique across the cluster files made from one template
        self.turn = itertools.count(start)  # clusters start at different payloads
        # A figure's text fields reach the CSV and XLSX cells: they start with the spreadsheet
        # payloads (the first five) in turn, so every formula starts some cell whatever the number of
        # other fields before them (a model gaining a field must not move a formula out of the cells).
        self.cell_turn = itertools.count(start)
        self.verbatim: list[str] = []
        self.filled: set[str] = set()

    def text(self, k: Kind, path: str) -> str:
        start = next(self.turn) % len(PAYLOADS)
        if ".observations[]." in f".{path}":
            start = next(self.cell_turn) % 5
        parts: list[str] = []
        for p in PAYLOADS[start:] + PAYLOADS[:start]:
            if len(" ".join([*parts, p]).strip()) > k.max_length:
                break
            parts.append(p)
        value = " ".join(parts).strip()
        self.filled.add(path)
        if k.verbatim:
            self.verbatim.append(value)
        return value

    def texts(self, k: Kind, path: str) -> list[str]:
        values = [p.strip() for p in PAYLOADS]
        self.filled.add(path)
        if k.verbatim:
            self.verbatim += values
        return values

    def model(self, model: type[BaseModel], base: dict[str, Any], prefix: str = "", everything: bool = True) -> dict:
        """``base`` with every text field (only the required ones, unless ``everything``) filled; a
        list of models gets one new, wholly filled item in front of the (filled) items it had."""
        out = dict(base)
        for name, info in model.model_fields.items():
            k, path = kind_of(model, name), prefix + name
            if k.shape == "text" and (everything or info.is_required() or name in base):
                out[name] = self.text(k, path)
            elif k.shape == "texts" and everything:
                out[name] = self.texts(k, path + "[]")
            elif k.shape == "model" and (everything or info.is_required() or name in base):
                assert k.model is not None
                out[name] = self.model(k.model, base.get(name) or {}, path + ".", everything)
            elif k.shape == "models":
                assert k.model is not None
                items = list(base.get(name) or [])
                template = dict(items[0]) if items else {}
                new = self.model(k.model, self.identify(k.model, template, new=True), path + "[].")
                out[name] = [new] + [self.model(k.model, self.identify(k.model, dict(i)), path + "[].", everything=False)
                                     for i in items]
            elif k.shape == "fixed" and name not in out and info.is_required():
                out[name] = self.fixed(model, name)
        return out

    def identify(self, model: type[BaseModel], item: dict, new: bool = False) -> dict:
        # An item's own id is its identity: fresh for a new item, made unique to this file for a
        # template's item. Any other id-like value in it is a reference to something else and stays.
        if "id" in model.model_fields:
            item["id"] = f"hostile-{next(FRESH)}" if new or "id" not in item else item["id"] + self.suffix
        return item

    def fixed(self, model: type[BaseModel], name: str) -> Any:
        annotation = model.model_fields[name].annotation
        if typing.get_origin(annotation) is typing.Literal:
            return typing.get_args(annotation)[0]  # a required choice: the first allowed value
        raise AssertionError(f"{model.__name__}.{name}: a required field with a format needs a value in the template")


def yaml_text(data: dict) -> str:
    # JSON is YAML (every string double-quoted).
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def read_yaml(path: Path) -> dict:
    from casebook.loader import load_file

    loaded, errors = load_file(path, str(path))
    assert not errors, errors
    return loaded.data


ALLIANCE_TEMPLATE = {
    # The alliance's formatted fields (the fictional casebook has no alliance file); its text is filled.
    "id": "fictional-alliance", "source": "fictional/clusters",
    "strands": [{"id": "fictional-strand"}], "examples": [{"id": "fictional-example", "strand": "fictional-strand"}],
    "observations": [{"indicator": "collective-income", "year": 2023, "value": 12}],
}
FILE_CHARS = re.compile(r"[/\\:\x00\n\r\t]")


def hostile_book(tmp: Path, clusters: int) -> tuple[Path, set[str]]:
    """A casebook of ``clusters`` clusters with hostile text in every text field; returns its folder
    and the text fields filled (kind:path)."""
    cases = tmp / "cases"
    shutil.copytree(FICTIONAL, cases)
    filled: set[str] = set()
    verbatim: list[str] = []

    def make(kind: str, base: dict, suffix: str = "", start: int = 0) -> dict:
        f = Filler(suffix, start)
        out = f.model(FILE_MODELS[kind], base)
        filled.update(f"{kind}:{p}" for p in f.filled)
        verbatim.extend(f.verbatim)
        return out

    units = {i["id"]: i["unit"] for i in read_yaml(cases / "indicators.yaml")["indicators"]}

    def agree(observations: list[dict]) -> None:
        # A quote must state its figure (the casebook checks the two agree): the figure goes in
        # front of the hostile text, so the quote stays hostile and the figure checkable.
        for obs in observations:
            if "quote" in obs and "value" in obs:
                limit = kind_of(Observation, "quote").max_length
                obs["quote"] = f"{obs['value']}{units[obs['indicator']]}，{obs['quote']}"[:limit].strip()
                verbatim.append(obs["quote"])

    template = read_yaml(cases / "clusters" / "fictional-a.yaml")
    (cases / "clusters" / "fictional-a.yaml").unlink()
    for i in range(clusters):
        suffix = "" if i == 0 else f"-c{i}"
        data = make("cluster", dict(template), suffix, start=i)
        data["id"] = f"fictional-a{suffix}"
        # Clusters differ in their figures, so the comparison charts have bars and lines to draw.
        for obs in data["observations"][1:]:
            if str(obs.get("value", "")).isdigit():
                obs["value"] = str(int(obs["value"]) + i)
        agree(data["observations"])
        (cases / "clusters" / f"{data['id']}.yaml").write_text(yaml_text(data), encoding="utf-8")
    lesson = make("lesson", read_yaml(cases / "lessons" / "fictional-lesson.yaml"))
    (cases / "lessons" / "fictional-lesson.yaml").write_text(yaml_text(lesson), encoding="utf-8")
    alliance = make("alliance", ALLIANCE_TEMPLATE)
    agree(alliance["observations"])
    (cases / "alliance.yaml").write_text(yaml_text(alliance), encoding="utf-8")
    indicators = make("indicators", read_yaml(cases / "indicators.yaml"))
    # One more indicator named exactly like Material's configuration element (its page's first
    # heading would get that id).
    indicators["indicators"].append(dict(indicators["indicators"][-1], id="hostile-config", name="__config"))
    (cases / "indicators.yaml").write_text(yaml_text(indicators), encoding="utf-8")
    sources = make("sources", read_yaml(cases / "sources.yaml"))
    # check finds a quote only in the section it cites: each section (its title … its end, made
    # unique here so neither is found early) holds every quoted value.
    for src in sources["sources"]:
        for j, sec in enumerate(src["sections"]):
            sec["title"] = f"虚构章节{j}：{sec['title']}"[:400]
            if sec.get("end"):
                sec["end"] = f"{sec['end']}：虚构章节{j}完"[-400:]
    # The one text field whose value must name a real file: the file is given a hostile name
    # (without what a path cannot hold) and holds the fictional source text plus every quoted value.
    text = (cases / "sources" / "fictional.txt").read_text(encoding="utf-8")
    (cases / "sources" / "fictional.txt").unlink()
    for src in sources["sources"]:
        name = FILE_CHARS.sub("", src["file"])[:60].strip() + ".txt"
        src["file"] = "sources/" + name
        body = "\n".join(verbatim)
        sections = "".join(f"{sec['title']}\n{body}\n{sec.get('end', '')}\n" for sec in src["sections"])
        (cases / "sources" / name).write_text(text + sections, encoding="utf-8")
    (cases / "sources.yaml").write_text(yaml_text(sources), encoding="utf-8")
    return cases, filled


def hostile_content(project: Path) -> None:
    """Hand-written pages arrive by pull request too: titles, front matter, headings (table of
    contents) and a section of the navigation, all hostile."""
    content = project / "content"
    (content / "hostile.md").write_text(
        "---\n"
        "title: \"</title><script>alert('m1')</script>虚构页\"\n"
        "description: \"\\\" onmouseover=\\\"alert('m2')\\\" x=\\\"\"\n"
        "subtitle: \"<img src=x onerror=alert('m3')>\"\n"
        "---\n\n"
        "# <script>alert('m4')</script>虚构手写页\n\n"
        "## &lt;img src=x onerror=alert('m5')&gt; 二级标题\n\n"
        "正文。\n\n"
        "## 标签 {: data-toc-label=\"&lt;svg onload=alert('m6')&gt;\" }\n\n"
        "## 编号 {: id='a\" onmouseover=\"alert(7)' }\n\n"
        "## __config\n\n"
        "<div id=\"__search\" data-md-component=\"source\">虚构</div>\n",
        encoding="utf-8")
    section = content / "hostile-section"
    section.mkdir()
    (section / "index.md").write_text("# <img src=x onerror=alert('m8')>虚构栏目\n\n虚构。\n", encoding="utf-8")
    (section / "sub.md").write_text("# </title><script>alert('m9')</script>虚构子页\n\n虚构。\n", encoding="utf-8")


@dataclass
class Book:
    site: Path
    fields: int
    clusters: int
    pages: list[str] = field(default_factory=list)


def make_book(tmp: Path, clusters: int) -> Book:
    from casebook.cli import main

    cases, filled = hostile_book(tmp, clusters)
    every = {f"{kind}:{path}" for kind, model in FILE_MODELS.items() for path in text_fields(model)}
    assert filled == every, (every - filled, filled - every)  # every text field the models have, no other
    assert main(["check", "--cases", str(cases)]) == 0, "the hostile casebook must be valid, or it would never be built"
    project = make_project(tmp, cases)
    hostile_content(project)
    site = build_project(project, strict=True)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return Book(site, len(filled), clusters, pages)


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[int, Book]:
    from casebook.render import NAV_LIMIT

    return {n: make_book(tmp_path_factory.mktemp(f"hostile{n}"), n) for n in (5, NAV_LIMIT + 1)}


@dataclass
class Known:
    """What the site itself puts in its pages (Material's and the casebook's own), from a build of
    the untouched fictional casebook: nothing else of these kinds may appear."""

    inline: set[str] = field(default_factory=set)  # inline script texts
    srcs: set[str] = field(default_factory=set)  # script files
    ids: set[tuple[str, str]] = field(default_factory=set)  # Material's reserved ids (__…), numbers as N
    tags: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def known(tmp_path_factory) -> Known:
    site = build_project(make_project(tmp_path_factory.mktemp("clean"), FICTIONAL))
    k = Known()
    for page in site.rglob("*.html"):
        a = audit(page.read_text(encoding="utf-8"))
        k.inline |= {s.strip() for s in a.inline_scripts}
        k.tags |= {tag for tag, _ in a.tags}
        for tag, attrs in a.tags:
            if tag == "script" and attrs.get("src"):
                k.srcs.add(attrs["src"])
            if attrs.get("id", "").startswith("__"):
                k.ids.add((tag, numbered(attrs["id"])))
    assert k.inline and k.srcs and ("script", "__config") in k.ids
    return k


# --------------------------------------------------------------------------- reading every output file


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts: list[str] = []
        self.text: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "script":
            self._script = [] if not dict(attrs).get("src") else None

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline_scripts.append("".join(self._script))
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        (self._script if self._script is not None else self.text).append(data)


def audit(html: str) -> Audit:
    a = Audit()
    a.feed(html)
    a.close()
    return a


def numbered(ident: str) -> str:
    return re.sub(r"\d+", "N", ident)  # Material numbers its navigation toggles: __nav_3_2


URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data", "background", "cite"}
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "style", "base", "form", "textarea",
                  "template", "math", "meta", "link", "svg", "img", "input", "button"}
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def check_html(rel: str, html: str, known: Known) -> str:
    """Fails on anything a payload would create; returns the page's text."""
    a = audit(html)
    for tag, attrs in a.tags:
        # Tags that would be a payload's unless the site itself uses them (Material's own form, svg…)
        assert tag not in FORBIDDEN_TAGS - known.tags, (rel, tag, attrs)
        if tag == "script":
            assert not attrs.get("src") or attrs["src"] in known.srcs, (rel, attrs)
        if tag == "meta":
            assert "http-equiv" not in attrs, (rel, attrs)
        if tag == "link":
            assert not re.match(r"(?i)\s*(https?:)?//", attrs.get("href", "")), (rel, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (rel, tag, name, value)
            assert name != "srcdoc", (rel, tag)
            if name in URL_ATTRS:
                v = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                assert not v.startswith(("javascript:", "data:", "vbscript:")), (rel, tag, name, value)
                assert not re.match(r"(https?:)?//", v) or "evil.example" not in v, (rel, tag, name, value)
            if name == "id":
                assert not value.startswith("__") or (tag, numbered(value)) in known.ids, (rel, tag, value)
            if "alert(" in value:
                # Kept as text in an attribute that is text (a tooltip, a label, an id and the
                # links to it) — never as markup or a script.
                text_like = name in ("title", "aria-label", "alt", "content", "placeholder", "id")
                # A chart's Vega-Lite spec (casebook.charts): case text in JSON strings, in an escaped attribute.
                text_like |= tag == "figure" and name == "data-cb-spec" and isinstance(json.loads(value), dict)
                assert text_like or (name == "href" and value.startswith("#")), (rel, tag, name, value)
    for script in a.inline_scripts:
        assert script.strip() in known.inline, (rel, script[:200])
    return " ".join(a.text)


def check_csv(rel: str, body: bytes) -> list[str]:
    assert body.startswith(b"\xef\xbb\xbf"), rel
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows and all(len(r) == len(rows[0]) for r in rows), rel
    value_col = rows[0].index("数值")
    cells = []
    for row in rows[1:]:
        for i, cell in enumerate(row):
            if i == value_col and re.fullmatch(r"-?\d+(\.\d+)?|\*|", cell):
                continue  # a number, '*' or nothing: the value column's three forms
            assert not cell.startswith(FORMULA), (rel, cell[:80])
            cells.append(cell)
    return cells


def check_xlsx(rel: str, body: bytes) -> list[str]:
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(body)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, (rel, "formula")
                assert "<hyperlink" not in xml, (rel, "hyperlink")
        assert not any("hyperlink" in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".rels")
                       and "worksheets" in n), rel
    wb = load_workbook(io.BytesIO(body))
    texts = []
    for ws in wb.worksheets:
        title = ws.title
        assert 1 <= len(title) <= 31 and not set(title) & set("[]:*?/\\") and title[0] != "'" and title[-1] != "'"
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (rel, cell.coordinate)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


def check_search_script(rel: str, body: str) -> None:
    """An index file is a call to a loader with JSON: case text can only be inside its strings."""
    body = body.lstrip("\ufeff")
    if body.startswith("var __index = "):
        json.loads(body[len("var __index = "):-1])
        return
    m = re.fullmatch(r"(__cbShard|__cbPages|__cbTitles|__cbText)\((\d+,)?(.*)\);", body, re.S)
    assert m and (m.group(1) == "__cbPages") == (m.group(2) is None), rel
    json.loads(m.group(3))


def test_every_output_file_is_inert(books, known):
    for n, book in books.items():
        print(f"{n} clusters: {book.fields} text fields filled, {len(book.pages)} pages")
        assert book.fields >= 60
        # The all-clusters and compare pages exist at every size (past the limit the first stands in
        # the navigation for the cluster pages, whose titles then come from their headings).
        assert {"cases/index.html", "compare/index.html"} <= set(book.pages)
        seen = {"html": 0, "csv": 0, "xlsx": 0, "json": 0, "xml": 0, "search": 0}
        texts: list[str] = []
        neutralised: list[str] = []
        for path in sorted(book.site.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(book.site).as_posix()
            # Any file name carries hostile text only if a path can: ids are slugs.
            assert re.fullmatch(r"[\w./-]+", rel), rel
            if rel.endswith(".html"):
                texts.append(check_html(rel, path.read_text(encoding="utf-8"), known))
                seen["html"] += 1
            elif rel.endswith(".csv"):
                cells = check_csv(rel, path.read_bytes())
                neutralised += [c for c in cells if c.startswith("'") and c[1:].startswith(FORMULA)]
                texts += cells
                seen["csv"] += 1
            elif rel.endswith(".xlsx"):
                texts += check_xlsx(rel, path.read_bytes())
                seen["xlsx"] += 1
            elif rel.endswith(".json"):
                data = json.loads(path.read_text(encoding="utf-8"))
                if rel.endswith("datapackage.json"):
                    for res in data["resources"]:
                        assert re.fullmatch(r"[a-z0-9-]+", res["name"]) and re.fullmatch(r"[\w./-]+", res["path"])
                        assert (book.site / "downloads" / res["path"]).is_file()
                texts.append(json.dumps(data, ensure_ascii=False))
                seen["json"] += 1
            elif rel.endswith((".xml", ".xml.gz")):
                raw = path.read_bytes()
                ET.fromstring(gzip.decompress(raw) if rel.endswith(".gz") else raw)
                seen["xml"] += 1
            elif rel.startswith("search/") and rel.endswith(".js"):
                check_search_script(rel, path.read_text(encoding="utf-8"))
                seen["search"] += 1
        assert all(seen.values()), seen
        # The payloads did arrive (as text): every marker in the pages, the spreadsheet cells made inert.
        joined = "\n".join(texts)
        assert [m for m in MARKERS if m not in joined] == []
        assert '<script>alert("p1")</script>' in joined and "{{ 7*7 }}" in joined
        assert {c[1] for c in neutralised} >= {"=", "+", "-", "@"}, "formula-like cells reached the CSV, neutralised"


def test_titles_are_plain_text_everywhere(books):
    """<title>, header, navigation, TOC, footer links: no title carries markup or a direction override."""
    for book in books.values():
        for rel in book.pages:
            html = (book.site / rel).read_text(encoding="utf-8")
            title = re.search(r"<title>(.*?)</title>", html, re.S)
            assert title and html.count("<title>") == 1 and "<" not in title.group(1) and "\u202e" not in title.group(1), rel
            head = html.split("</head>")[0]
            assert "<script>alert" not in head and "</title><" not in head.replace("</title>\n", ""), rel


# --------------------------------------------------------------------------- the browser


BROWSER_CHECK = """([inline, root]) => {
  const bad = [];
  for (const s of document.querySelectorAll('script')) {
    // Script files only from the site itself (Material adds some by script: the index, on disk)
    if (s.src ? !s.src.startsWith(root) : !inline.includes(s.textContent.trim())) bad.push('script:' + (s.src || s.textContent.slice(0, 80)));
  }
  // The search worker's shim runs in a hidden, empty iframe of its own (file://); nothing else may be framed.
  for (const el of document.querySelectorAll('iframe:not([hidden]),iframe[src],iframe[srcdoc],object,embed,frame,base,body style,textarea'))
    bad.push(el.outerHTML.slice(0, 80));
  for (const el of document.querySelectorAll('*')) {
    for (const at of el.attributes) {
      const v = at.value.replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
      if (at.name.startsWith('on')) bad.push(el.tagName + '[' + at.name + ']');
      if (/^(href|src|action|formaction|xlink:href)$/.test(at.name) && /^(javascript|data|vbscript):/.test(v)) bad.push(el.tagName + '[' + at.name + '=' + v.slice(0, 40) + ']');
    }
  }
  const cfg = document.querySelector('#__config');
  if (!cfg || cfg.tagName !== 'SCRIPT') bad.push('#__config is not the configuration');
  if (/[<>]|\\u202e/.test(document.title)) bad.push('title: ' + document.title);
  return bad;
}"""


class Watch:
    """Everything a page does that a payload could cause: dialogs, errors, requests elsewhere."""

    def __init__(self, context, local: str) -> None:
        self.local = local
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        context.on("request", self._request)

    def _request(self, request) -> None:
        if not request.url.startswith((self.local, "data:", "blob:", "about:")):
            self.external.append(request.url)

    def attach(self, page) -> None:
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))

    def assert_clean(self, where: str) -> None:
        assert (self.dialogs, self.errors, self.external) == ([], [], []), where


def page_kind(rel: str) -> str:
    parts = rel.split("/")
    return parts[0] if len(parts) > 2 and parts[0] in ("cases", "indicators") else rel


def one_of_each_kind(pages: list[str]) -> list[str]:
    kinds: dict[str, str] = {}
    for rel in pages:
        kinds.setdefault(page_kind(rel), rel)
    return sorted(kinds.values())


def visit(page, url: str, root: str, known: Known) -> None:
    page.goto(url, wait_until="load")
    bad = page.evaluate(BROWSER_CHECK, [sorted(known.inline), root])
    assert bad == [], (url, bad)


def search_for(page, words: list[str], root: str) -> None:
    """Types payload words into the real search box; results must show them as text only.
    The page must watch its search worker (browser_support.watch_search) from before it loaded."""
    from browser_support import SEARCH_QUERY as q
    from browser_support import results_report, wait_for_search

    page.click(q)
    page.wait_for_function("() => !/初始化/.test(document.querySelector('.md-search-result__meta').textContent)",
                           timeout=20_000)
    for word in words:
        page.fill(q, "")
        page.dispatch_event(q, "keyup")
        wait_for_search(page, "", timeout=10_000)
        page.focus(q)
        page.keyboard.type(word, delay=10)
        # The worker's answer to the whole word, drawn and laid out: no other answer is still on its
        # way to redraw the list, and whatever the drawn markup would do has had its chance.
        wait_for_search(page, word, timeout=10_000)
        found = results_report(page, root)
        assert found["items"] > 0 and found["bad"] == [], (word, found)
        assert "alert(" in found["text"] and word in found["text"], "the hostile text is shown, as text"


def test_every_page_in_chromium(browser, books, known):
    """Every page of both books over http at one width, one page of each kind at the other and over
    file://; search typed into the real box. Nothing runs, nothing is fetched from elsewhere."""
    from browser_support import serve_directory, watch_search

    for book in books.values():
        kinds = one_of_each_kind(book.pages)
        with serve_directory(book.site) as base:
            for width in SITE_WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
                watch = Watch(context, base)
                page = context.new_page()
                watch.attach(page)
                watch_search(page)
                for rel in book.pages if width == SITE_WIDTHS[0] else kinds:
                    visit(page, base + rel, base, known)
                    watch.assert_clean(rel)
                if width == SITE_WIDTHS[0]:  # narrow screens hide the box behind a button
                    page.goto(base + "index.html")
                    search_for(page, ["alert", "伪标题"], base)
                    # A result opens its page with the words to highlight (?h=): marked as text.
                    visit(page, base + "cases/fictional-a/?h=onerror%20alert", base, known)
                    assert page.locator("article mark").count() > 0
                    watch.assert_clean("search over http")
                context.close()
        context = browser.new_context(viewport={"width": SITE_WIDTHS[0], "height": 900}, locale="zh-CN")
        watch = Watch(context, "file://")
        page = context.new_page()
        watch.attach(page)
        watch_search(page)
        # 404.html is for web servers (its links are absolute, from the server's root): not on disk.
        for rel in [k for k in kinds if k != "404.html"]:
            visit(page, (book.site / rel).as_uri(), book.site.as_uri() + "/", known)
            watch.assert_clean(rel)
        page.goto((book.site / "index.html").as_uri())
        search_for(page, ["onerror"], book.site.as_uri() + "/")
        watch.assert_clean("search over file://")
        context.close()


# --------------------------------------------------------------------------- each context's one function


TITLE_CASES = [*PAYLOADS, "A & B", "1 < 2 > 0", "&amp;lt;", "tab\there\nnew line", "\u202a\u2066嵌入\u2069\u202c",
               "“*粮仓”组团", "\x00\x1b控制"]


@pytest.mark.parametrize("text", TITLE_CASES)
def test_titles_are_plain_whatever_they_hold(text):
    """A plain title has nothing HTML or an override can act on, reads as the text did, and is stable
    (it may be taken through again: from the navigation, then from the page)."""
    from markupsafe import escape

    from casebook.escaping import html_title, plain_meta, plain_title

    plain = plain_title(text)
    assert not set(plain) & set("<>&\"'") and plain.isprintable() and "\n" not in plain
    assert not re.search(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", plain)
    assert html_title(plain) == plain == plain_title(plain)
    assert html_title(str(escape(text))) == plain  # the heading MkDocs took it from says the same
    assert plain_meta({"title": text, "hide": ["toc"], "n": 1}) == {"title": plain, "hide": ["toc"], "n": 1}
    visible = re.sub(r"\s|[\x00-\x1f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    assert len(re.sub(r"\s", "", plain)) == len(visible)  # nothing but markup-meaning is changed


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_text_is_inert_in_csv_and_numbers_stay_numbers(start):
    from decimal import Decimal

    from casebook.downloads import COLUMNS, to_csv

    text = start + 'HYPERLINK("http://evil.example","x")'
    row = {key: text for key, _, _ in COLUMNS}
    row.update(value=Decimal("-12.5"), year="2023")
    rows = list(csv.reader(io.StringIO(to_csv([row, dict(row, value="*")]).decode("utf-8-sig"), newline="")))
    value = rows[0].index("数值")
    for cells in rows[1:]:
        for i, cell in enumerate(cells):
            if i == value:
                continue
            assert cell == ("2023" if rows[0][i] == "年份" else "'" + text), (rows[0][i], cell)
    assert rows[1][value] == "-12.5" and rows[2][value] == "*"  # a negative number is a number, '*' is '*'


SHEET_NAMES = ["'投资额", "投资额'", "'", "''", "[投资]:额*?/\\", "额" * 40, "a" * 30 + "'b", "History", "  ",
               "\u202e倒序", "\x01控制", "正常的名称（万元）", "='x'!A1"]


@pytest.mark.parametrize("name", SHEET_NAMES)
def test_any_indicator_name_makes_a_valid_workbook(tmp_path, name):
    """Sheet names have Excel's rules; an indicator name never breaks the build (it once did)."""
    from decimal import Decimal

    from openpyxl import load_workbook

    from casebook.downloads import COLUMNS, to_xlsx

    row = {key: '=HYPERLINK("http://evil.example","x")' for key, _, _ in COLUMNS}
    row.update(value=Decimal(3), year="2023")
    body = to_xlsx([row], name)
    texts = check_xlsx(name, body)
    assert '=HYPERLINK("http://evil.example","x")' in texts  # text, exactly as written
    ws = load_workbook(io.BytesIO(body)).active
    assert ws.title.lower() != "history" and ws.cell(2, 8).value == 3


@pytest.mark.parametrize("ident, kept", [
    ("overview", True), ("伪标题p14", True), ("a-b_c.1", True), ("__config", False), ("__search", False),
    ('a" onmouseover="alert(1)', False), ("a'b", False), ("a\\b", False), ("a b", False), ("a<b", False),
])
def test_ids_are_the_pages_own(ident, kept):
    from markupsafe import escape

    from casebook.sanitize import kept_id, sanitize

    html = sanitize(f'<h2 id="{escape(ident)}">x</h2>')
    assert kept_id(ident) is kept and ("id=" in html) is kept, html


def test_blank_lines_in_case_text_stay_in_their_element():
    """A raw HTML block holds until every element it opened is closed, wherever case text with blank
    lines sits: in a later element of the block, or in an attribute value."""
    import markdown as md

    from casebook.mdstash import HtmlBlocks, split_html_blocks

    text = "说明\n\n# 伪标题\n\n![x](https://evil.example/x.png)"
    page = (f'# 标题\n\n<p>{text}</p>\n<div class="w">\n<table><tr><td title="{text}">{text}</td></tr></table>\n'
            f'</div>\n\n## 之后 {{#after}}\n\n<p>{text}</p>')
    blocks: list[str] = []
    stashed = split_html_blocks(page, lambda block: blocks.append(block) or f"slot{len(blocks) - 1}")
    assert stashed == "# 标题\n\nslot0\n\n## 之后 {#after}\n\nslot1"
    # Through Python-Markdown with the extension (and md_in_html, which would parse the blocks):
    # every block comes out exactly as it went in, and no case text becomes a heading or an image.
    html = md.Markdown(extensions=[HtmlBlocks(lambda: True), "md_in_html", "attr_list", "toc"]).convert(page)
    assert html == f'<h1 id="_1">标题</h1>\n{blocks[0]}\n<h2 id="after">之后</h2>\n{blocks[1]}', html


def test_a_poisoned_chart_cache_never_reaches_a_page(tmp_path):
    """Chart SVGs read back from the build cache are sanitised like new ones."""
    import sqlite3

    from casebook.session import forget_kept

    project = make_project(tmp_path, Path(__file__).parent / "fixtures" / "fictional_figures")
    site = build_project(project)
    assert "<svg" in (site / "cases" / "fictional-alpha" / "index.html").read_text(encoding="utf-8")
    db = sqlite3.connect(project / ".cache" / "casebook" / "cache.sqlite")
    poison = ('<svg><script>alert("c1")</script><g onload="alert(2)"><a href="javascript:alert(3)">x</a></g>'
              '<foreignObject><iframe src="https://evil.example/c4"></iframe></foreignObject></svg></div></article>')
    assert db.execute("UPDATE entries SET value = ? WHERE ns = 'chart'", (poison.encode(),)).rowcount > 0
    db.commit()
    db.close()
    forget_kept()  # as a new process would: charts drawn in this one are not read from the cache
    site = build_project(project, strict=True)  # a full build, with the (poisoned) chart cache
    html = (site / "cases" / "fictional-alpha" / "index.html").read_text(encoding="utf-8")
    assert "<svg><g>x</g></svg>" in html, "the cached SVG was used, sanitised"
    a = audit(html)
    assert not any(tag in ("iframe", "foreignobject") or any(n.startswith("on") for n in attrs) for tag, attrs in a.tags)
    assert not any("alert(" in s for s in a.inline_scripts) and "evil.example" not in html
    assert html.count("</article>") == 1


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"],
                         ids=lambda c: f"U+{ord(c[0]):04X}")
def test_no_line_break_lets_case_text_start_a_markdown_block(brk):
    """A heading or cell fed through md_escape stays one line: no setext heading, code block or paragraph."""
    import markdown

    from casebook.escaping import md_escape

    text = f"行政村数{brk}伪标题甲{brk}==={brk}{brk}    伪代码块乙{brk}{brk}伪段落丙"
    html = markdown.markdown(f"# {md_escape(text)}\n")
    assert html.count("<h1>") == 1 and "<pre>" not in html and "<p>" not in html, html


def test_a_carriage_return_written_as_an_escape_is_refused():
    from casebook.loader import load_text

    _, errors = load_text('id: x\nname: "行政村数\\r伪标题\\r==="\n', "clusters/x.yaml")
    assert [(e.line, e.column, e.field) for e in errors] == [(2, 7, "name")]
