"""Editions (issue 15): the overlay of real figures and names, and the internal edition built from it.

Everything runs as the data owner would: `casebook overlay init / check --overlay / build --overlay /
writeup --overlay / serve --overlay` as subprocesses in a copy of the project that is a git repository
(so the rule that an overlay must live outside the public repository applies), over the real casebook,
with the FICTIONAL overlay in tests/fixtures/overlay-fictional (every value and name in it is made up:
names say 虚构, figures carry the note 虚构数值). The sites are real MkDocs builds, read back as files,
with openpyxl, python-docx, poppler and Chromium. Expectations are generated from the casebook's own
models: every desensitised figure, every masked text, every page, every download — not one example.

The leak scanner's own tests are in tests/test_leaks.py; here `build --leak-check` is run end to end.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from html.parser import HTMLParser
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook
from pydantic import BaseModel

from casebook import present
from casebook.book import Casebook
from casebook.charts import compare_charts
from casebook.colophon import STYLESHEET, css_string
from casebook.derive import derive
from casebook.downloads import NOTES_SHEET, download_tables, write_downloads
from casebook.errors import CaseError
from casebook.figures import DESENSITISED, UNITS, non_negative, strip_zeros, unit_family
from casebook.mkdocs_plugin import build, open_session
from casebook.models import Observation, iter_verbatim
from casebook.overlay import (
    INTERNAL_SITE_DIR,
    FigureFill,
    Overlay,
    OverlayFigure,
    OverlayFile,
    OverlayName,
    internal_book,
    load_overlay,
)
from casebook.overlay import public_book as disclosed_book
from casebook.present import EDITIONS, STATES, figure_html, number
from casebook.render import cluster_charts
from casebook.search import query_terms
from casebook.validate import display_path, load_casebook

from sitebuild import make_project, tree_digest

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
FIXTURE = Path(__file__).parent / "fixtures" / "overlay-fictional"
INTERNAL = EDITIONS["internal"]
MARK = INTERNAL.mark  # 内部资料
HAN = re.compile(r"[\u4e00-\u9fff]")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "虚构", "GIT_AUTHOR_EMAIL": "x@example.invalid",
                "GIT_COMMITTER_NAME": "虚构", "GIT_COMMITTER_EMAIL": "x@example.invalid"}
LEAKS_MISSING = find_spec("casebook.leaks") is None
NEEDS_LEAKS = pytest.mark.skipif(LEAKS_MISSING, reason="casebook.leaks (the scanner behind --leak-check) is not "
                                                       "written yet; these run once generator/casebook/leaks.py exists")


# --------------------------------------------------------------------------- the project and the CLI


def run(cwd: Path, *args: object, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`casebook ARGS` as the owner types it, in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "casebook", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def git_project(tmp: Path) -> Path:
    """A copy of the project around the real casebook, committed to git like the public repository."""
    project = make_project(tmp, CASES)
    env = {**os.environ, **GIT_IDENTITY}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "虚构：公开仓库的测试副本"]):
        subprocess.run(["git", *cmd], cwd=project, env=env, check=True, capture_output=True)
    return project


def overlay_copy(target: Path) -> Path:
    """The fictional overlay, copied out of the repository (inside it, an overlay is refused)."""
    shutil.copytree(FIXTURE, target)
    return target


# --------------------------------------------------------------------------- what the casebook masks


@functools.cache
def real_book() -> Casebook:
    book, errors = load_casebook(CASES)
    assert not errors, errors[:3]
    return book


def case_models(book: Casebook) -> dict[str, tuple[str, BaseModel]]:
    """Every public case file an overlay file can stand beside: rel path → (owner, model)."""
    out: dict[str, tuple[str, BaseModel]] = {f"clusters/{cid}.yaml": (f"cluster:{cid}", c)
                                             for cid, c in book.clusters.items()}
    out.update({f"lessons/{lid}.yaml": (f"lesson:{lid}", lesson) for lid, lesson in book.lessons.items()})
    if book.alliance is not None:
        out["alliance.yaml"] = ("alliance", book.alliance)
    return out


def observations(model: BaseModel) -> list[Observation]:
    return list(getattr(model, "observations", []))


def value_masked(obs: Observation) -> bool:
    return obs.value is not None and obs.value.value == DESENSITISED


def is_masked(obs: Observation) -> bool:
    return value_masked(obs) or obs.year == DESENSITISED


def masked_figures(book: Casebook) -> set[tuple[str, int]]:
    """(owner, index) of every desensitised figure: its value or its year is '*'."""
    return {(owner, i) for owner, model in case_models(book).values()
            for i, obs in enumerate(observations(model)) if is_masked(obs)}


def masked_texts(book: Casebook) -> set[tuple[str, str]]:
    """(owner, text) of every masked verbatim text outside the figures (their quotes are the figures')."""
    return {(owner, text) for owner, model in case_models(book).values()
            for loc, text, _ in iter_verbatim(model) if DESENSITISED in text and loc[0] != "observations"}


def owner_model(book: Casebook, owner: str) -> BaseModel:
    kind, _, ident = owner.partition(":")
    if kind == "cluster":
        return book.clusters[ident]
    if kind == "lesson":
        return book.lessons[ident]
    assert book.alliance is not None
    return book.alliance


def owner_obs(book: Casebook, fill: FigureFill) -> Observation:
    return observations(owner_model(book, fill.owner))[fill.index]


def owner_id(book: Casebook, owner: str) -> str:
    return str(owner_model(book, owner).id)  # type: ignore[attr-defined]


def owner_page(site: Path, owner: str) -> Path:
    kind, _, ident = owner.partition(":")
    path = present.cluster_path(ident) if kind == "cluster" else present.PAGE_PATHS["alliance"]
    return site / present.page_url(path) / "index.html"


def shown(obs: Observation, page: str) -> str | None:
    """The figure as the page shows it (present.figure_html: a card or text with its unit, a table
    cell without), or None when the page shows it neither way."""
    forms = (str(figure_html(obs)), str(figure_html(obs, with_unit=False)))
    return next((f for f in forms if f in page), None)


def distinctive(value: Decimal) -> bool:
    """A number no page holds by chance: four or more significant digits."""
    return len(format(strip_zeros(value), "f").replace(".", "").lstrip("0")) >= 4


# --------------------------------------------------------------------------- reading pages


class PageFacts(HTMLParser):
    """What a built page says about its edition: robots metas, the banner's text (and whether it sits
    in Material's announce bar), and the marks its charts draw (bars and points)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                      "track", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.robots: list[str] = []
        self.banners: list[str] = []
        self.banner_in_announce = False
        self.marks = 0
        self._announce = 0
        self._banner = 0
        self._groups: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "meta" and a.get("name", "").lower() == "robots":
            self.robots.append(a.get("content", ""))
        if tag not in self.VOID:
            if self._announce or a.get("data-md-component") == "announce":
                self._announce += 1
            if self._banner:
                self._banner += 1
            elif "cb-edition" in classes:
                self._banner = 1
                self.banners.append("")
                self.banner_in_announce = self.banner_in_announce or self._announce > 0
        if tag == "g":
            self._groups.append(a.get("class", ""))
        elif (tag == "rect" and "mark-rect" in self._groups[-1:]) or (tag == "circle" and "mark-symbol" in self._groups[-1:]):
            self.marks += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self._groups:
            self._groups.pop()
        if tag in self.VOID:
            return
        if self._announce:
            self._announce -= 1
        if self._banner:
            self._banner -= 1

    def handle_data(self, data: str) -> None:
        if self._banner:
            self.banners[-1] += data


def facts(page: Path) -> PageFacts:
    return PageFacts(page.read_text(encoding="utf-8"))


def html_pages(site: Path) -> list[Path]:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20, site  # the guard: a site was read, not an empty folder
    return pages


def _script(path: Path, call: str) -> Any:
    body = path.read_text(encoding="utf-8").lstrip("\ufeff")
    assert body.startswith(call) and body.endswith(");"), path
    return json.loads(body[len(call):-2])


@dataclass
class SearchIndex:
    """The built search index read back as its worker reads it (search.py's files)."""

    pages: list[list[str]]
    docs: list[list[Any]]
    texts: dict[str, str]  # page URL → the text of all its documents
    shards: list[dict[str, list[int]]]

    @classmethod
    def read(cls, site: Path) -> SearchIndex:
        manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["config"]["casebook"]
        counts = _script(site / "search" / "pages.js", "__cbPages(")
        titles = [entry for n in range(-(-len(counts) // manifest["titles"]))
                  for entry in _script(site / "search" / "titles" / f"{n}.js", f"__cbTitles({n},")]
        assert [len(docs) for _, _, docs in titles] == counts and sum(counts) == manifest["docs"]
        pages = [[url, title] for url, title, _ in titles]
        docs = [[p, anchor, title] for p, (_, _, sections) in enumerate(titles) for anchor, title in sections]
        texts = {url: "\n".join(_script(site / "search" / "text" / f"{n}.js", f"__cbText({n},").values())
                 for n, (url, _title) in enumerate(pages)}
        shards = [_script(site / "search" / "shards" / f"{n}.js", f"__cbShard({n},") for n in range(manifest["shards"])]
        return cls(pages, docs, texts, shards)

    def found(self, query: str) -> set[str]:
        """The URLs of the pages whose documents hold every index term of ``query`` (the worker's lookup)."""
        from casebook.search import term_hash

        docs: set[int] | None = None
        for term in (t for word in query_terms(query) for t in word):
            total, hits = 0, set()
            for delta in self.shards[term_hash(term) % len(self.shards)].get(term, []):
                total += delta
                hits.add(total >> 1)
            docs = hits if docs is None else docs & hits
        return {self.pages[self.docs[d][0]][0] for d in docs or set()}


def all_text(site: Path) -> Iterator[tuple[str, str]]:
    """Every published file's text that comes from the casebook (zip members of workbooks and
    documents included), by path: the packaged assets hold none, except the generated colophon.css
    (and their minified code would match short numbers by chance)."""
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if rel.startswith("assets/") and rel != STYLESHEET:
            continue
        if path.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{rel}!{name}", z.read(name).decode("utf-8", "replace")
        elif path.suffix not in (".gz", ".png", ".woff", ".woff2", ".ico", ".jpg"):
            yield rel, path.read_bytes().decode("utf-8", "replace")


def state(row: dict[str, str], name: str) -> bool:
    """Whether a download row's 公开状态 is ``name`` ("disclosed", "desensitised"), in either
    edition's words (present.STATES, Edition.states())."""
    return row["公开状态"] in (STATES[name].label, INTERNAL.states()[name].label)  # type: ignore[index]


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def marks_expected(book: Casebook, page: str) -> int:
    """The bars and points the charts of a page draw: one per disclosed point (a '*' is a gap)."""
    if page.startswith("indicators/"):
        ind = book.indicators[page.split("/", 1)[1]]
        d = derive(book)
        series = [(f.owner.name, f.observation) for f in d.figures_by_indicator.get(ind.id, [])]
        charts = compare_charts(ind, series)
    else:
        charts = cluster_charts(book, book.clusters[page.split("/", 1)[1]])
    return sum(sum(p.disclosed for p in c.points) for c in charts)


# --------------------------------------------------------------------------- the module's builds


def unfill(overlay: Path, book: Casebook) -> None:
    """Put figures of the fictional overlay back to '*', in every file: the value of one figure that
    has a year (so a chart holds its '*'), and the year of another — what an owner does not know yet."""
    models = case_models(book)
    for path in sorted(overlay.rglob("*.yaml")):
        rel = path.relative_to(overlay).as_posix()
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _owner, model = models[rel]
        obs_years = {(o.indicator, o.quote): o.year for o in observations(model)}
        entries = [e for e in data["figures"] if e.get("disclosure", "masked") == "masked" and "value" in e]
        dated = [e for e in entries if isinstance(e.get("year", obs_years.get((e["indicator"], e.get("quote")))), int)]
        first = (dated or entries)[0]
        first["value"] = DESENSITISED
        rest = [e for e in data["figures"] if e is not first and isinstance(e.get("year"), int)]
        if rest:
            rest[0]["year"] = DESENSITISED
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Editions:
    project: Path
    overlay: Path
    public: Path  # `casebook build`
    internal: Path  # `casebook build --overlay`
    disclosed: Path  # the public edition with the overlay's disclosures applied
    public_before: dict[str, str]  # the public site's files before the internal build
    public_after: dict[str, str]
    internal_said: str
    book: Casebook  # the public casebook
    read: Overlay
    inside: Casebook  # the internal edition's casebook
    outside: Casebook  # the public edition's, disclosures applied
    tmp: Path = field(default_factory=Path)


@pytest.fixture(scope="module")
def ed(tmp_path_factory) -> Editions:
    tmp = tmp_path_factory.mktemp("editions")
    project = git_project(tmp)
    overlay = overlay_copy(tmp / "内部数据")
    book, errors = load_casebook(project / "cases")
    assert not errors
    unfill(overlay, book)
    read, errors = load_overlay(overlay, book)
    assert not errors, [e.text() for e in errors]
    assert 0 < len(read.filled_figures()) < len(read.figures)  # both kinds are present
    ok(run(project, "build"))
    before = tree_digest(project / "site")
    said = ok(run(project, "build", "--overlay", overlay)).stdout
    after = tree_digest(project / "site")
    # The public edition with the overlay's disclosures, as `build --leak-check` makes it, through
    # the library's own session (the scan aside: it has tests of its own below).
    session = open_session(project / "mkdocs.yml")
    session.use_overlay(overlay, internal=False)
    session.settings = replace(session.settings, leak_check=False)
    disclosed = build(project / "mkdocs.yml", tmp / "public-disclosed", session=session)
    return Editions(project, overlay, project / "site", project / INTERNAL_SITE_DIR, disclosed, before, after, said,
                    book, read, internal_book(book, read), disclosed_book(book, read), tmp)


# =========================================================================== 1. overlay init


def test_init_lists_every_desensitised_figure_and_masked_text(tmp_path):
    project = git_project(tmp_path)
    target = tmp_path / "内部数据"
    said = ok(run(project, "overlay", "init", target)).stdout
    book = real_book()
    figures, texts = masked_figures(book), masked_texts(book)
    assert figures and texts  # 69 of the 71 figures today (the count is the casebook's, not this file's)
    read, errors = load_overlay(target, book)
    assert errors == []
    assert {(f.owner, f.index) for f in read.figures} == figures
    assert {(n.owner, n.masked) for n in read.names} == texts
    assert read.counts() == {"figures": len(figures), "figures_filled": 0, "names": len(texts), "names_filled": 0}
    assert f"脱敏数据 {len(figures)} 项" in said and f"脱敏名称 {len(texts)} 个" in said
    # One file per case file with masked content, and nothing else beside the README.
    owners = {owner for owner, _ in figures | texts}
    expected = {rel for rel, (owner, _) in case_models(book).items() if owner in owners}
    assert {p.relative_to(target).as_posix() for p in target.rglob("*.yaml")} == expected
    assert HAN.search((target / "README.md").read_text(encoding="utf-8"))
    for rel in expected:
        text = (target / rel).read_text(encoding="utf-8")
        # Chinese comments, every one (but the editors' schema modeline, which is for the editor).
        comments = [line for line in text.splitlines() if line.lstrip().startswith("#")
                    and not line.startswith("# yaml-language-server:")]
        assert comments and all(HAN.search(c) for c in comments), rel
        assert MARK in comments[0]
        data = yaml.safe_load(text)
        owner, model = case_models(book)[rel]
        fills = [f for f in read.figures if f.owner == owner]
        assert len(fills) == len(data["figures"])
        lines = text.splitlines()
        for entry, fill in zip(data["figures"], fills, strict=True):
            obs = observations(model)[fill.index]
            # '*' exactly where the public figure is masked, for the owner to replace; the public
            # entry's identifying fields copied as they are.
            assert ("value" in entry) == value_masked(obs) and entry.get("value", DESENSITISED) == DESENSITISED
            assert ("year" in entry) == (obs.year == DESENSITISED) and entry.get("year", DESENSITISED) == DESENSITISED
            assert (entry["indicator"], entry.get("quote"), entry.get("period")) == (obs.indicator, obs.quote, obs.period)
            assert entry["disclosure"] == "masked"
        # Each figure is introduced by a comment naming its indicator and unit, in Chinese.
        for n, line in enumerate(lines):
            if line.startswith("  - indicator: "):
                ind = book.indicators[line.split(": ", 1)[1]]
                assert lines[n - 1].startswith("  # ") and ind.name in lines[n - 1] and "单位" in lines[n - 1], (rel, n)
    # Checked as the owner will check it: valid, nothing filled in yet.
    said = ok(run(project, "check", "--overlay", target)).stdout
    assert f"脱敏数据 {len(figures)} 项，已填写真实数值 0 项" in said


def test_init_never_overwrites(tmp_path):
    project = git_project(tmp_path)
    target = tmp_path / "内部数据"
    ok(run(project, "overlay", "init", target))
    first = tree_digest(target)
    times = {p: p.stat().st_mtime_ns for p in target.rglob("*") if p.is_file()}
    said = ok(run(project, "overlay", "init", target)).stdout
    assert tree_digest(target) == first and {p: p.stat().st_mtime_ns for p in times} == times
    assert "已写入 0 个文件" in said and "从不覆盖" in said
    # The owner fills one file in and removes another: the filled one is kept byte for byte, the
    # removed one comes back as the skeleton wrote it, the rest are left alone.
    files = sorted(p for p in target.rglob("*.yaml"))
    edited, removed = files[0], files[1]
    text = edited.read_text(encoding="utf-8")
    assert "value: '*'" in text
    mine = text.replace("value: '*'", "value: 4271  # 虚构", 1)
    edited.write_text(mine, encoding="utf-8")
    original = removed.read_bytes()
    removed.unlink()
    said = ok(run(project, "overlay", "init", target)).stdout
    assert edited.read_text(encoding="utf-8") == mine
    assert removed.read_bytes() == original
    now = tree_digest(target)
    assert {k: v for k, v in now.items() if k != edited.relative_to(target).as_posix()} == {
        k: v for k, v in first.items() if k != edited.relative_to(target).as_posix()}
    assert "已写入 1 个文件" in said


@pytest.fixture(scope="module")
def refusal_project(tmp_path_factory) -> Path:
    return git_project(tmp_path_factory.mktemp("refusals"))


INSIDE: dict[str, Callable[[Path], Path]] = {
    "a folder in the repository": lambda p: p / "内部数据",
    "the repository itself": lambda p: p,
    "inside cases": lambda p: p / "cases" / "内部数据",
    "deep inside": lambda p: p / "a" / "b" / "内部数据",
    "spelt with ..": lambda p: p / "cases" / ".." / "内部数据",
    "relative": lambda p: Path("内部数据"),
}


@pytest.mark.parametrize("where", list(INSIDE), ids=list(INSIDE))
def test_init_refuses_a_folder_inside_the_public_repository(refusal_project, where):
    target = INSIDE[where](refusal_project)
    absolute = (refusal_project / target).resolve()
    existed = absolute.exists()
    before = tree_digest(refusal_project) if existed else None
    result = run(refusal_project, "overlay", "init", target)
    assert result.returncode == 2, result.stdout + result.stderr
    assert HAN.search(result.stderr) and "公开仓库" in result.stderr and "提示：" in result.stderr
    assert absolute.exists() == existed and (not existed or tree_digest(refusal_project) == before)


def test_init_refuses_a_link_that_leads_into_the_public_repository(refusal_project, tmp_path):
    link = tmp_path / "看似在外"
    link.symlink_to(refusal_project / "虚构链接目标", target_is_directory=True)
    result = run(refusal_project, "overlay", "init", link)
    assert result.returncode == 2 and "提示：" in result.stderr, result.stdout + result.stderr
    assert not (refusal_project / "虚构链接目标").exists()


@pytest.mark.parametrize("command", [["check"], ["build"], ["writeup", "--out", "{tmp}/x.docx"]])
def test_an_overlay_inside_the_public_repository_is_never_used(refusal_project, tmp_path, command):
    inside = refusal_project / "内部数据-虚构"
    if not inside.exists():
        overlay_copy(inside)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = run(refusal_project, *args, "--overlay", inside)
    assert result.returncode == 1, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "在公开仓库" in said and "提示：" in said
    assert not (refusal_project / INTERNAL_SITE_DIR).exists() and not (tmp_path / "x.docx").exists()


# =========================================================================== 2. located errors

Files = dict[str, dict[str, Any]]  # overlay file (rel path) → its data
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Expect:
    rel: str
    loc: Loc  # () for the file as a whole
    says: str  # what the message must hold
    key: bool = False  # at the key (an unknown field), not the value


@dataclass
class Plant:
    """One planted mistake: what it changes (no two plants change one entry) and where its error must be."""

    kind: str
    claims: tuple[Any, ...]  # (rel, section, index) of the entry it changes or copies; (rel,) a whole file
    apply: Callable[[Files], list[Expect]]


def fixture_files() -> Files:
    return {p.relative_to(FIXTURE).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(FIXTURE.rglob("*.yaml"))}


@functools.cache
def fixture_fills() -> dict[str, list[FigureFill]]:
    """The fixture's figure entries matched to the public observations, by overlay file, in order."""
    book = real_book()
    read, errors = load_overlay(FIXTURE, book)
    assert not errors
    owners = {owner: rel for rel, (owner, _) in case_models(book).items()}
    out: dict[str, list[FigureFill]] = {}
    for fill in read.figures:
        out.setdefault(owners[fill.owner], []).append(fill)
    return out


def literal_changed(masked: str) -> str | None:
    """A text that fills every '*' of ``masked`` but changes all the rest (None: it has no rest)."""
    if not "".join(masked.split()).replace(DESENSITISED, ""):
        return None
    return "".join("虚构" if ch == DESENSITISED else "乂" for ch in masked)


def other_unit(unit: str) -> str:
    return next(u for u in UNITS if unit_family(u) != unit_family(unit))


def _entry(kind: str, rel: str, section: str, i: int, change: Callable[[dict[str, Any]], None], loc: Loc,
           says: str, key: bool = False) -> Plant:
    def apply(files: Files) -> list[Expect]:
        change(files[rel][section][i])
        return [Expect(rel, (section, i, *loc), says, key)]
    return Plant(kind, (rel, section, i), apply)


def _append(kind: str, rel: str, section: str, make: Callable[[Files], dict[str, Any]], says: str,
            claim: int | str) -> Plant:
    """A plant that adds an entry: ``claim`` is the entry it copies, or a name of its own."""
    def apply(files: Files) -> list[Expect]:
        files[rel].setdefault(section, []).append(make(files))
        return [Expect(rel, (section, len(files[rel][section]) - 1), says)]
    return Plant(kind, (rel, section, claim), apply)


def plants(kind: str) -> list[Plant]:
    """Every instance of one kind of mistake the overlay can hold, generated from the casebook and the
    fixture: every entry it applies to, every public figure, every field of the models."""
    book, files = real_book(), fixture_files()
    models = case_models(book)
    out: list[Plant] = []

    def figures() -> Iterator[tuple[str, int, dict[str, Any], Observation]]:
        for rel, fills in fixture_fills().items():
            for i, (entry, fill) in enumerate(zip(files[rel]["figures"], fills, strict=True)):
                yield rel, i, entry, owner_obs(book, fill)

    def names() -> Iterator[tuple[str, int, dict[str, Any]]]:
        for rel, data in files.items():
            for i, entry in enumerate(data.get("names", [])):
                yield rel, i, entry

    if kind == "no public counterpart":
        # Public files that hold nothing to fill, owners' files misspelt or in the wrong folder.
        strays = ["indicators.yaml", "sources.yaml",
                  *(rel.replace(".yaml", "-虚构.yaml") for rel in models),
                  *(f"lessons/{cid}.yaml" for cid in book.clusters if cid not in book.lessons)]
        for stray in strays:
            def apply(files: Files, stray: str = stray) -> list[Expect]:
                files[stray] = {"figures": [], "names": []}
                return [Expect(stray, (), "没有与")]
            out.append(Plant(kind, (stray,), apply))
        # A file spelt .yml is named for what it is (not a case file's spelling), not matched.
        def misspelt(files: Files) -> list[Expect]:
            files["alliance.yml"] = {"figures": [], "names": []}
            return [Expect("alliance.yml", (), "扩展名应为 .yaml")]
        out.append(Plant(kind, ("alliance.yml",), misspelt))
    elif kind == "matches none":
        for rel, i, entry, _obs in figures():
            change = (lambda e: e.__setitem__("quote", e["quote"] + "（虚构）")) if "quote" in entry else (
                lambda e: e.__setitem__("quote", "虚构*"))
            out.append(_entry(kind, rel, "figures", i, change, (), "找不到对应的数据"))
    elif kind == "matches several":
        for rel, i, entry, _obs in figures():
            same = sum(o.indicator == entry["indicator"] for o in observations(models[rel][1]))
            if same > 1:
                def drop(e: dict[str, Any]) -> None:
                    for name in ("quote", "scope", "period"):
                        e.pop(name, None)
                out.append(_entry(kind, rel, "figures", i, drop, (), f"对上了公开案例文件 cases/{rel} 中的 {same} 条数据"))
    elif kind == "two for one":
        for rel, i, _e, _obs in figures():
            out.append(_append(kind, rel, "figures", lambda f, rel=rel, i=i: copy.deepcopy(f[rel]["figures"][i]),
                               "对应同一条公开数据", claim=i))
    elif kind == "not masked":
        for rel, (_owner, model) in models.items():
            for j, obs in enumerate(observations(model)):
                if not is_masked(obs) and rel in files:
                    entry = {"indicator": obs.indicator, "value": 5, "note": "虚构"}
                    entry.update({k: getattr(obs, k) for k in ("quote", "scope", "period") if getattr(obs, k)})
                    out.append(_append(kind, rel, "figures", lambda f, entry=entry: dict(entry), "没有脱敏",
                                       claim=f"public figure {j}"))
    elif kind == "unit cannot convert":
        for rel, i, entry, _obs in figures():
            if entry.get("value", DESENSITISED) != DESENSITISED:
                unit = other_unit(book.indicators[entry["indicator"]].unit)
                out.append(_entry(kind, rel, "figures", i, lambda e, unit=unit: e.__setitem__("unit", unit),
                                  ("unit",), "不能换算"))  # where the unit was written
    elif kind == "out of bounds":
        for rel, i, entry, _obs in figures():
            ind = book.indicators[entry["indicator"]]
            if entry.get("value", DESENSITISED) == DESENSITISED:
                continue
            if ind.max is not None:
                value, says = ind.max + 1, "上限"
            elif ind.min is not None:
                value, says = ind.min - 1, "下限"
            elif non_negative(ind.unit):
                value, says = -1, "负数"
            else:
                continue
            out.append(_entry(kind, rel, "figures", i, lambda e, v=value, u=ind.unit: e.update(value=v, unit=u),
                              ("value",), says))
    elif kind == "year not masked":
        for rel, i, _e, obs in figures():
            if obs.year != DESENSITISED:
                out.append(_entry(kind, rel, "figures", i, lambda e: e.__setitem__("year", 2020), ("year",), "不是 *"))
    elif kind in ("disclosed without a value", "indexed without a value"):
        how = "public" if kind.startswith("disclosed") else "index"
        for rel, i, _e, _obs in figures():
            out.append(_entry(kind, rel, "figures", i, lambda e, how=how: e.update(value=DESENSITISED, disclosure=how),
                              ("disclosure",), "还没有填写真实数值"))
    elif kind == "real quote differs":
        for rel, i, entry, _obs in figures():
            changed = literal_changed(entry.get("quote", ""))
            if changed:
                out.append(_entry(kind, rel, "figures", i, lambda e, c=changed: e.__setitem__("real_quote", c),
                                  ("real_quote",), "对不上"))
    elif kind == "name without *":
        for rel, i, _e in names():
            out.append(_entry(kind, rel, "names", i, lambda e: e.__setitem__("masked", e["masked"].replace("*", "")),
                              ("masked",), "中没有 *"))
    elif kind == "name not in the case file":
        for rel, i, _e in names():
            out.append(_entry(kind, rel, "names", i, lambda e: e.__setitem__("masked", e["masked"] + "虚构"),
                              ("masked",), "这个写法"))
    elif kind == "real name changes the rest":
        for rel, i, e in names():
            changed = literal_changed(e["masked"])
            if changed:
                out.append(_entry(kind, rel, "names", i, lambda e, c=changed: e.__setitem__("real", c),
                                  ("real",), "对不上"))
    elif kind == "real name keeps a *":
        for rel, i, _e in names():
            out.append(_entry(kind, rel, "names", i,
                              lambda e: e.__setitem__("real", e["masked"].replace("*", "虚构*", 1)), ("real",), "还有 *"))
    elif kind == "two names for one":
        for rel, i, _e in names():
            out.append(_append(kind, rel, "names", lambda f, rel=rel, i=i: copy.deepcopy(f[rel]["names"][i]),
                               "同一个公开写法", claim=i))
    elif kind == "misspelt key":
        out += misspelt_plants(files)
    else:
        raise AssertionError(kind)
    return out


def misspelt_plants(files: Files) -> list[Plant]:
    """Every field of every overlay model misspelt, each in an entry of its own, in every file with
    room for them all: one unknown field is refused for the whole file, so this kind keeps a file."""
    fields = [("figures", name, OverlayFigure) for name in OverlayFigure.model_fields]
    fields += [("names", name, OverlayName) for name in OverlayName.model_fields]
    room = [rel for rel in files if all(sum(s == section for s, _, _ in fields) <= len(files[rel][section])
                                        for section in ("figures", "names"))]
    assert room

    def apply(files: Files, rel: str) -> list[Expect]:
        expects: list[Expect] = []
        used = {"figures": 0, "names": 0}
        for section, name, model in fields:
            i = used[section]
            used[section] += 1
            entry = files[rel][section][i]
            wrong = f"{name}x"
            # The misspelling stands where the field was (or is added): its key is where the error is.
            files[rel][section][i] = {(wrong if k == name else k): v for k, v in entry.items()}
            if wrong not in files[rel][section][i]:
                files[rel][section][i][wrong] = "虚构"
            expects.append(Expect(rel, (section, i, wrong), f"未知字段“{wrong}”", key=True))
            if model.model_fields[name].is_required():
                expects.append(Expect(rel, (section, i), f"缺少必填字段“{name}”"))
        for name in OverlayFile.model_fields:
            files[rel][f"{name}x"] = []
            expects.append(Expect(rel, (f"{name}x",), f"未知字段“{name}x”", key=True))
        return expects

    return [Plant("misspelt key", (rel,), functools.partial(apply, rel=rel)) for rel in room]


KINDS = ["no public counterpart", "matches none", "matches several", "two for one", "not masked",
         "unit cannot convert", "out of bounds", "year not masked", "disclosed without a value",
         "indexed without a value", "real quote differs", "name without *", "name not in the case file",
         "real name changes the rest", "real name keeps a *", "two names for one", "misspelt key"]


def write_overlay(target: Path, files: Files) -> None:
    if target.exists():
        shutil.rmtree(target)
    for rel, data in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def position(path: Path, loc: Loc, key: bool) -> tuple[int, int]:
    """Where YAML itself puts ``loc`` in the written file (1-based line and column)."""
    if not loc:
        return 1, 1
    node: Any = yaml.compose(path.read_text(encoding="utf-8"))
    key_node = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            key_node, node = next((k, v) for k, v in node.value if k.value == part)
        else:
            key_node, node = None, node.value[part]
    mark = (key_node if key else node).start_mark
    return mark.line + 1, mark.column + 1


def planted(target: Path, chosen: list[Plant]) -> set[tuple[str, int, int, str]]:
    """Write the fixture with ``chosen`` applied to ``target``: the errors it must give, as
    (file, line, column, what the message says)."""
    files = fixture_files()
    expects = [e for plant in chosen for e in plant.apply(files)]
    write_overlay(target, files)
    return {(display_path(target / e.rel), *position(target / e.rel, e.loc, e.key), e.says) for e in expects}


def assert_errors(errors: list[Any], expected: set[tuple[str, int, int, str]]) -> None:
    got = {(e.file, e.line, e.column) for e in errors}
    assert got == {x[:3] for x in expected}, (sorted(got - {x[:3] for x in expected}),
                                               sorted({x[:3] for x in expected} - got))
    for file, line, column, says in expected:
        here = [e for e in errors if (e.file, e.line, e.column) == (file, line, column)]
        assert any(says in e.message for e in here), (file, line, column, says, [e.message for e in here])
    for e in errors:
        assert HAN.search(e.message) and "提示：" in e.message, e.text()


@pytest.mark.parametrize("kind", KINDS)
def test_every_mistake_of_a_kind_is_located_in_the_overlay_all_at_once(tmp_path, kind):
    chosen = plants(kind)
    assert chosen, kind  # the casebook and the fixture hold instances of every kind
    target = tmp_path / "内部数据"
    expected = planted(target, chosen)
    _read, errors = load_overlay(target, real_book())
    assert_errors(errors, expected)


def one_of_each() -> list[Plant]:
    """One instance of every kind, none touching another's entry; the misspelt key has a file to itself."""
    by_kind = {kind: plants(kind) for kind in KINDS}
    for misspelt in by_kind["misspelt key"]:
        chosen, claimed = [misspelt], {misspelt.claims}
        for kind in KINDS[:-1]:
            plant = next((p for p in by_kind[kind] if p.claims[:1] not in claimed and p.claims not in claimed), None)
            if plant is None:
                break
            claimed.add(plant.claims)
            chosen.append(plant)
        else:
            return chosen
    raise AssertionError("no file can take the misspelt keys and leave every other kind a place")


def test_check_prints_every_overlay_error_at_once_and_fails(tmp_path):
    project = git_project(tmp_path)
    target = tmp_path / "内部数据"
    chosen = one_of_each()
    assert {p.kind for p in chosen} == set(KINDS)
    files = fixture_files()
    expects = [e for plant in chosen for e in plant.apply(files)]
    write_overlay(target, files)
    # The CLI runs in the project: overlay files outside it are shown by their absolute paths.
    expected = {(str(target / e.rel), *position(target / e.rel, e.loc, e.key), e.says) for e in expects}
    result = run(project, "check", "--overlay", target, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [CaseError(e["file"], e["line"], e["column"], e["field"], e["message"])
              for e in json.loads(result.stdout)["errors"]]
    assert_errors(errors, expected)
    text = run(project, "check", "--overlay", target)
    assert text.returncode == 1
    lines = [line for line in text.stdout.splitlines() if line.strip()]
    where = {tuple(m.groups()) for line in lines if (m := re.match(r"(.+?):(\d+):(\d+): ", line))}
    assert where == {(f, str(line), str(col)) for f, line, col, _ in expected}
    assert all("提示：" in line for line in lines)
    assert f"共 {len(errors)} 个问题" in text.stderr


def test_no_overlay_message_shows_a_python_value(tmp_path):
    errors: list[CaseError] = []
    for n, kind in enumerate(KINDS):
        target = tmp_path / str(n)
        planted(target, plants(kind))
        errors += load_overlay(target, real_book())[1]
    assert len(errors) > 100
    assert not [e.text() for e in errors if re.search(r"\b(?:None|True|False)\b|Decimal\(|\[\]", e.message)]


@pytest.mark.parametrize("suffix", [".YAML", ".Yaml", ".YML"])
def test_no_overlay_file_is_skipped_silently(tmp_path, suffix):
    target = tmp_path / "内部数据"
    overlay_copy(target)
    grain = target / "clusters" / "grain-store.yaml"
    grain.rename(grain.with_suffix(suffix))
    read, errors = load_overlay(target, real_book())
    assert errors or any(f.owner == "cluster:grain-store" for f in read.figures), "the file was read by no one"


def test_a_unit_that_cannot_convert_is_reported_where_it_was_written(tmp_path):
    files = fixture_files()
    expects: list[Expect] = []
    for rel, fills in fixture_fills().items():
        for i, entry in enumerate(files[rel]["figures"][:len(fills)]):
            if entry.get("value", DESENSITISED) != DESENSITISED:
                entry["unit"] = other_unit(real_book().indicators[entry["indicator"]].unit)
                expects.append(Expect(rel, ("figures", i, "unit"), "不能换算"))
    target = tmp_path / "内部数据"
    write_overlay(target, files)
    expected = {(display_path(target / e.rel), *position(target / e.rel, e.loc, e.key), e.says) for e in expects}
    _read, errors = load_overlay(target, real_book())
    assert_errors(errors, expected)


# =========================================================================== 3. build --overlay


def test_the_internal_edition_has_its_own_folder_and_leaves_the_public_site_alone(ed):
    assert (ed.internal / "index.html").is_file()
    assert ed.public_before and ed.public_after == ed.public_before
    assert "内部版网站已生成" in ed.internal_said and INTERNAL_SITE_DIR in ed.internal_said
    assert {p.relative_to(ed.internal).as_posix() for p in html_pages(ed.internal)} == {
        p.relative_to(ed.public).as_posix() for p in html_pages(ed.public)}  # the same pages, another edition


def test_every_internal_page_carries_the_banner_and_noindex(ed):
    for page in html_pages(ed.internal):
        f = facts(page)
        assert len(f.banners) == 1 and MARK in f.banners[0] and INTERNAL.notice in f.banners[0], page
        assert f.banner_in_announce, page
        assert f.robots and all(r.replace(" ", "").startswith("noindex") for r in f.robots), page


def test_no_public_page_carries_either(ed):
    for site in (ed.public, ed.disclosed):
        for page in html_pages(site):
            f = facts(page)
            assert not f.banners and not f.robots, page
            assert INTERNAL.notice not in page.read_text(encoding="utf-8"), page


def test_every_filled_figure_shows_its_real_value_on_its_page(ed):
    filled = ed.read.filled_figures()
    assert len(filled) > 60
    for fill in filled:
        obs = owner_obs(ed.inside, fill)
        assert isinstance(obs.value.value, Decimal) and obs.value.value == fill.value.value  # type: ignore[union-attr]
        internal = owner_page(ed.internal, fill.owner).read_text(encoding="utf-8")
        public = owner_page(ed.public, fill.owner).read_text(encoding="utf-8")
        here = shown(obs, internal)
        assert here is not None and number(fill.value.value) in here, (fill.label, figure_html(obs))  # type: ignore[union-attr]
        assert shown(obs, public) is None, fill.label
        if fill.year is not None:
            assert present.year_text(fill.year) in internal, fill.label


def test_every_filled_name_replaces_its_masked_text(ed):
    names = [n for n in ed.read.names if n.filled]
    assert names
    for name in names:
        # Each real text is on its owner's page and on no public page.
        kind = name.owner.partition(":")[0]
        if kind not in ("cluster", "alliance"):
            continue
        page = owner_page(ed.internal, name.owner).read_text(encoding="utf-8")
        assert any(piece in page for piece in name.pieces), name.masked
    for rel, text in all_text(ed.public):
        assert "虚构" not in text, rel  # the real casebook holds no 虚构; the overlay's names all do


def chart_pages(book: Casebook) -> list[str]:
    return [f"indicators/{i}" for i in book.indicators] + [f"cases/{c}" for c in book.clusters]


def test_charts_draw_the_real_figures(ed):
    """The real casebook's charts draw nothing (its figures are '*'); the internal edition's draw a
    mark for every real figure they plot — page by page, as many as its data holds."""
    totals = {"public": 0, "internal": 0}
    for page in chart_pages(ed.book):
        for name, site, book in (("public", ed.public, ed.book), ("internal", ed.internal, ed.inside)):
            drawn = facts(site / page / "index.html").marks
            assert drawn == marks_expected(book, page), (name, page)
            totals[name] += drawn
    assert totals["public"] == 0 and totals["internal"] > 0, totals


def test_the_search_index_holds_the_real_values(ed):
    index = SearchIndex.read(ed.internal)
    public = SearchIndex.read(ed.public)
    for fill in ed.read.filled_figures():
        url = present.page_url(present.cluster_path(fill.owner.split(":")[1])) if fill.owner.startswith("cluster:") \
            else present.URLS.alliance
        text = number(fill.value.value)  # type: ignore[union-attr]
        assert text in index.texts[url], (fill.label, text)
        assert url in index.found(text), (fill.label, text)
        if distinctive(fill.value.value):  # type: ignore[union-attr]
            assert text not in public.texts[url], fill.label
    names = [n for n in ed.read.names if n.filled and n.owner.startswith("cluster:")]
    for name in names:
        url = present.page_url(present.cluster_path(name.owner.split(":")[1]))
        assert all(url in index.found(piece) for piece in name.pieces if HAN.search(piece)), name.real
        assert not any(url in public.found(piece) for piece in name.pieces if len(piece) >= 3), name.real


def downloads(site: Path) -> list[Path]:
    return sorted(p for p in (site / "downloads").rglob("*") if p.is_file())


def test_every_data_download_and_write_up_is_named_internal(ed):
    tables = [p for p in downloads(ed.internal) if "charts" not in p.relative_to(ed.internal).parts
              and p.name != "datapackage.json"]
    assert len(tables) >= 3 * (len(ed.book.indicators) + 1) + len(ed.book.clusters) + 1  # csv/json/xlsx, write-ups
    assert all(MARK in p.name for p in tables), [p.name for p in tables if MARK not in p.name]
    assert not [p for p in downloads(ed.public) if MARK in p.name]
    package = json.loads((ed.internal / "downloads" / "datapackage.json").read_text(encoding="utf-8"))
    assert MARK in package["title"] and all(MARK in r["path"] and MARK in r["title"] for r in package["resources"])


def test_every_chart_download_is_named_internal(ed):
    charts = [p for p in downloads(ed.internal) if "charts" in p.relative_to(ed.internal).parts]
    assert charts
    assert all(MARK in p.name for p in charts), [p.name for p in charts if MARK not in p.name]


def test_every_workbook_names_its_data_sheet_internal(ed):
    books = sorted((ed.internal / "downloads").rglob("*.xlsx"))
    assert len(books) == len(ed.book.indicators) + 1
    for path in books:
        sheets = load_workbook(path, read_only=True).sheetnames
        assert MARK in sheets[0] and NOTES_SHEET in sheets, (path.name, sheets)
    for path in sorted((ed.public / "downloads").rglob("*.xlsx")):
        assert not any(MARK in s for s in load_workbook(path, read_only=True).sheetnames), path.name


def test_a_long_indicator_name_keeps_the_mark_on_its_sheet(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    catalogue = cases / "indicators.yaml"
    data = yaml.safe_load(catalogue.read_text(encoding="utf-8"))
    for n, ind in enumerate(data["indicators"]):  # every length from 1 to past the sheet limit
        ind["name"] = ("虚构指标名" * 8)[: 1 + n % 40] + str(n)
    catalogue.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    book, errors = load_casebook(cases)
    assert not errors
    tables, titles = download_tables(book, derive(book), INTERNAL)
    files, _ = write_downloads(tables, titles)
    short = []
    for f in files:
        if f.path.endswith(".xlsx"):
            sheet = load_workbook(io.BytesIO(f.content), read_only=True).sheetnames[0]
            if MARK not in sheet:
                short.append((f.path, sheet))
    assert not short, short


def test_the_print_stylesheet_carries_the_edition_mark(ed):
    internal = (ed.internal / STYLESHEET).read_text(encoding="utf-8")
    assert f"--cb-edition: {css_string(MARK)};" in internal
    for site in (ed.public, ed.disclosed):
        assert "--cb-edition: \"\";" in (site / STYLESHEET).read_text(encoding="utf-8")


SITE_DIRS = ["site", "./site", "site/", "{project}/site", "cases/../site"]


@pytest.mark.parametrize("spelling", SITE_DIRS)
def test_the_internal_edition_is_never_written_over_the_public_site(ed, spelling):
    result = run(ed.project, "build", "--overlay", ed.overlay, "--site-dir", spelling.format(project=ed.project))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "公开版网站的目录" in result.stderr and "提示：" in result.stderr
    assert tree_digest(ed.public) == ed.public_before


@pytest.mark.parametrize("inside", ["site/内部", "site/a/b"])
def test_the_internal_edition_is_never_written_inside_the_public_site(ed, inside):
    result = run(ed.project, "build", "--overlay", ed.overlay, "--site-dir", inside)
    leaked = (ed.project / inside).exists()
    if leaked:
        shutil.rmtree(ed.project / inside)
        for parent in (ed.project / inside).parents:
            if parent == ed.public:
                break
            if parent.exists() and not any(parent.iterdir()):
                parent.rmdir()
    assert result.returncode == 2 and not leaked, result.stdout + result.stderr


def test_the_internal_edition_never_calls_a_masked_figure_public(ed):
    tables = [ed.internal / present.download_path(present.download_stem(prefix=INTERNAL.prefix), "csv"),
              *sorted((ed.internal / "downloads" / "charts").glob("*.csv"))]
    called = [(path.name, row) for path in tables for row in csv_rows(path)
              if row["公开状态"] == STATES["disclosed"].label]
    # The real casebook discloses two figures itself; every other 已公开 is a figure the source masks.
    assert len(called) <= sum(1 for _, m in case_models(ed.book).values() for o in observations(m)
                              if o.value is not None and not value_masked(o)), called[:3]


def test_the_print_of_an_internal_page_is_marked_on_every_sheet(ed, browser, tmp_path):
    from test_print import print_page, require_poppler

    from browser_support import serve_directory

    require_poppler()
    rel = present.URLS.alliance
    for site, marked in ((ed.internal, True), (ed.public, False)):
        with serve_directory(site) as base:
            printed = print_page(browser, base, rel, tmp_path / ("internal" if marked else "public"))
        text = subprocess.run(["pdftotext", "-layout", str(printed.pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        sheets = [s for s in text.split("\f") if s.strip()]
        assert len(sheets) >= 2
        assert all((MARK in s.split("\n", 3)[0] + s.split("\n", 3)[1]) == marked for s in sheets), sheets[0][:200]


# =========================================================================== 4. the public edition with an overlay


def test_the_public_edition_shows_what_is_disclosed_and_masks_the_rest(ed):
    disclosed = [f for f in ed.read.figures if f.disclosure == "public"]
    assert [(f.owner, f.indicator) for f in disclosed] == [("cluster:grain-store", "paddy-area")]
    for fill in ed.read.figures:
        page = owner_page(ed.disclosed, fill.owner).read_text(encoding="utf-8")
        obs = owner_obs(ed.outside, fill)
        here = shown(obs, page)
        assert here is not None, (fill.label, figure_html(obs))
        if fill.disclosure == "public":
            assert number(fill.value.value) in here  # type: ignore[union-attr]
        else:
            assert value_masked(obs) == value_masked(owner_obs(ed.book, fill)), fill.label
            if value_masked(obs):
                assert f">{DESENSITISED}<" in here, fill.label
    # Nothing else of the overlay reaches it: no name, no note, no other distinctive value.
    secret = {number(f.value.value) for f in ed.read.filled_figures()  # type: ignore[union-attr]
              if f.disclosure != "public" and distinctive(f.value.value)}  # type: ignore[union-attr]
    for rel, text in all_text(ed.disclosed):
        assert "虚构" not in text, rel
        assert not [s for s in secret if re.search(rf"(?<![\d,.]){re.escape(s)}(?![\d,])", text)], rel


@NEEDS_LEAKS
def test_leak_check_passes_on_the_clean_casebook_and_publishes_the_disclosed_figure(ed):
    target = ed.tmp / "public-checked"
    said = ok(run(ed.project, "build", "--leak-check", ed.overlay, "--site-dir", target)).stdout
    assert "泄密检查通过" in said
    grain = owner_page(target, "cluster:grain-store").read_text(encoding="utf-8")
    fill = next(f for f in ed.read.figures if f.disclosure == "public")
    assert shown(owner_obs(ed.outside, fill), grain) is not None
    assert not facts(owner_page(target, "cluster:grain-store")).banners


@NEEDS_LEAKS
def test_a_planted_leak_fails_the_build_names_where_and_keeps_the_site(tmp_path):
    project = git_project(tmp_path)
    overlay = overlay_copy(tmp_path / "内部数据")
    ok(run(project, "build"))
    before = tree_digest(project / "site")
    book = real_book()
    read, _ = load_overlay(overlay, book)
    figure = next(f for f in read.filled_figures() if f.owner == "cluster:grain-store" and f.disclosure == "masked"
                  and distinctive(f.value.value))  # type: ignore[union-attr]
    name = next(n for n in read.names if n.filled and n.owner == "cluster:mountain-road")
    plants_ = {"clusters/grain-store.yaml": f"（虚构泄密：{number(figure.value.value)}{figure.value.unit}）",  # type: ignore[union-attr]
               "clusters/mountain-road.yaml": f"（虚构泄密：{name.real}）"}
    for rel, leak in plants_.items():
        path = project / "cases" / rel
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data.get("summary"), rel
        data["summary"] = data["summary"] + leak
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run(project, "build", "--leak-check", overlay)
    assert result.returncode == 1, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert tree_digest(project / "site") == before  # nothing published
    assert "cases/grain-store/index.html" in said and "cases/mountain-road/index.html" in said
    assert "cases/clusters/grain-store.yaml" in said and "cases/clusters/mountain-road.yaml" in said  # the origins
    assert figure.entry in said and name.entry in said  # the overlay entries
    assert "提示：" in said


# =========================================================================== 5. write-ups


@pytest.fixture(scope="module")
def writeups(ed) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for edition in ("internal", "public"):
        for kind in ("docx", "pdf"):
            path = ed.tmp / "writeups" / f"{edition}.{kind}"
            path.parent.mkdir(exist_ok=True)
            extra = ["--overlay", ed.overlay] if edition == "internal" else []
            said = ok(run(ed.project, "writeup", *extra, "--out", path)).stdout
            assert ("内部资料" in said) == (edition == "internal")
            out[f"{edition}.{kind}"] = path
    return out


def docx_text(path: Path) -> tuple[list[str], str]:
    """A Word document's header paragraphs (every section, every kind of header) and its body text."""
    doc = Document(str(path))
    headers = []
    for s in doc.sections:
        for header in (s.header, s.even_page_header, s.first_page_header):
            headers += [p.text for p in header.paragraphs]
    body = "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    return headers, body


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_the_internal_word_write_up_is_marked_and_holds_the_real_figures_and_names(ed, writeups):
    headers, body = docx_text(writeups["internal.docx"])
    doc = Document(str(writeups["internal.docx"]))
    for s in doc.sections:  # the header every page uses carries the mark
        assert MARK in "".join(p.text for p in s.header.paragraphs)
        if doc.settings.odd_and_even_pages_header_footer:
            assert MARK in "".join(p.text for p in s.even_page_header.paragraphs)
        if s.different_first_page_header_footer:
            assert MARK in "".join(p.text for p in s.first_page_header.paragraphs)
    flat = "".join(body.split())
    for fill in ed.read.filled_figures():
        assert number(fill.value.value) in flat, fill.label  # type: ignore[union-attr]
    for name in (n for n in ed.read.names if n.filled):
        assert "".join(name.real.split()) in flat, name.real
    headers, body = docx_text(writeups["public.docx"])
    assert not any(MARK in h for h in headers) and MARK not in body and "虚构" not in body


def test_the_internal_pdf_write_up_is_marked_on_every_page(ed, writeups):
    pages = pdf_pages(writeups["internal.pdf"])
    assert len(pages) >= 2 and MARK in pages[0].split("\n", 2)[0] + pages[0].split("\n", 2)[1]
    assert all(MARK in p for p in pages)
    flat = "".join("".join(pages).split())
    assert all(number(f.value.value) in flat for f in ed.read.filled_figures())  # type: ignore[union-attr]
    public = pdf_pages(writeups["public.pdf"])
    assert public and not any(MARK in p for p in public) and not any("虚构" in p for p in public)


# =========================================================================== 6. honest figures in both editions


def test_a_figure_the_overlay_leaves_masked_stays_masked_in_the_internal_edition(ed):
    left = [f for f in ed.read.figures if f.value is None and value_masked(owner_obs(ed.book, f))]
    assert len(left) >= len(list(ed.overlay.rglob("*.yaml")))  # one per file at least (unfill)
    rows = csv_rows(ed.internal / present.download_path(present.download_stem(prefix=INTERNAL.prefix), "csv"))
    for fill in left:
        obs = owner_obs(ed.inside, fill)
        assert value_masked(obs), fill.label
        page = owner_page(ed.internal, fill.owner).read_text(encoding="utf-8")
        here = shown(obs, page)
        assert here is not None and f">{DESENSITISED}<" in here, (fill.label, figure_html(obs))
        mine = [r for r in rows if r["组团标识"] == owner_id(ed.book, fill.owner) and r["指标标识"] == fill.indicator
                and r["原文"] == (obs.quote or "")]
        assert mine and all(r["数值"] == DESENSITISED for r in mine), (fill.label, mine)
    # In the charts, a '*' is a '*' (never 0, never blank, never a number), and a chart that would
    # hold nothing but '*' is not drawn at all: nothing is plotted in a value's place. (In the real
    # casebook every indicator has one dated figure, so an unfilled dated one is such a chart.)
    charts = ed.internal / "downloads" / "charts"
    model = {c.id: c for c in internal_charts(ed.inside)}
    files = sorted(charts.glob("*.csv"))
    # The internal edition's chart files carry its mark before the chart's id (present.Edition.file_mark).
    assert {p.name.removesuffix(".csv").removeprefix(EDITIONS["internal"].file_mark) for p in files} == set(model)
    for path in files:
        rows, chart = csv_rows(path), model[path.name.removesuffix(".csv").removeprefix(EDITIONS["internal"].file_mark)]
        numbers = [Decimal(r["数值"]) for r in rows if state(r, "disclosed")]
        assert sorted(numbers) == sorted(strip_zeros(p.amount) for p in chart.points if p.disclosed), path.name
        stars = [r["数值"] for r in rows if state(r, "desensitised")]
        assert stars == [DESENSITISED] * sum(not p.disclosed for p in chart.points), path.name
    dated = [f for f in left if isinstance(owner_obs(ed.inside, f).year, int)]
    assert dated  # unfill left one such figure
    for fill in dated:
        if not any(c.id.startswith(f"compare-{fill.indicator}-") for c in model.values()):
            assert not list(charts.glob(f"compare-{fill.indicator}-*")), fill.label


def internal_charts(book: Casebook) -> list[Any]:
    """Every chart of a casebook's indicator pages, from the models (charts.compare_charts)."""
    d = derive(book)
    return [c for ind in book.indicators.values()
            for c in compare_charts(ind, [(f.owner.name, f.observation) for f in d.figures_by_indicator.get(ind.id, [])])]


def test_a_year_the_overlay_leaves_masked_stays_masked(ed):
    left = [f for f in ed.read.figures if f.year is None and owner_obs(ed.book, f).year == DESENSITISED]
    assert left
    rows = csv_rows(ed.internal / present.download_path(present.download_stem(prefix=INTERNAL.prefix), "csv"))
    for fill in left:
        obs = owner_obs(ed.inside, fill)
        assert obs.year == DESENSITISED
        mine = [r for r in rows if r["组团标识"] == owner_id(ed.book, fill.owner) and r["指标标识"] == fill.indicator
                and r["原文"] == (obs.quote or "")]
        assert mine and all(r["年份"] == DESENSITISED for r in mine), (fill.label, mine)


# =========================================================================== 7. serve --overlay


def test_serve_previews_the_internal_edition_and_follows_the_overlay(ed, tmp_path):
    from test_serve import free_port, stop, wait_for

    overlay = overlay_copy(tmp_path / "内部数据")
    read, _ = load_overlay(overlay, ed.book)
    fill = next(f for f in read.filled_figures() if f.owner == "cluster:grain-store" and distinctive(f.value.value))  # type: ignore[union-attr]
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "casebook", "serve", "--overlay", str(overlay),
                             "--dev-addr", f"127.0.0.1:{port}"], cwd=ed.project, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}/cases/grain-store/"
    try:
        html = wait_for(url, number(fill.value.value), 90, "the preview of the internal edition")  # type: ignore[union-attr]
        page = PageFacts(html)
        assert page.banners and MARK in page.banners[0] and page.robots
        # The preview watches the overlay: a real value changed there is shown without a restart.
        path = overlay / "clusters" / "grain-store.yaml"
        text = path.read_text(encoding="utf-8")
        old = f"value: {fill.value.value}"  # type: ignore[union-attr]
        assert old in text
        path.write_text(text.replace(old, "value: 97531", 1), encoding="utf-8")
        wait_for(url, "97,531", 60, "the preview to follow the overlay")
    finally:
        stop(proc)
