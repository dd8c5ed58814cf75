"""Hostile case text (it arrives by pull request) is shown as text and never runs or links out."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitebuild import build_project, make_project

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"

PAYLOADS = [
    '<script>alert("x1")</script>',
    '<img src=x onerror=alert("x2")>',
    "<a href=\"javascript:alert('x3')\">点我</a>",
    "<a href=\"JaVaScRiPt:alert('x4')\">点我</a>",
    "<a href=\"&#106;avascript:alert('x5')\">点我</a>",
    '[点我](javascript:alert("x6"))',
    '<iframe src="https://evil.example/x7"></iframe>',
    "<style>body{display:none}</style>",
    "{{ 7*7 }}{% if true %}x8{% endif %}",
    '</div>\n\n<script>alert("x9")</script>\n\n<div>',
    '<svg onload=alert("x10")>',
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    '<a href="data:text/html,<script>alert(11)</script>">x</a>',
    "# 伪标题 {#overview}",
    "</title><script>alert('x12')</script>",
    "`code` *强调* _下划线_ [链接](http://example.org) <http://example.org>",
]
HOSTILE = " ".join(PAYLOADS)
ONE_LINE = " ".join(p.replace("\n", " ") for p in PAYLOADS)


def yq(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    cases = tmp / "cases"
    shutil.copytree(FICTIONAL, cases)
    source = cases / "sources" / "fictional.txt"
    source.write_text(source.read_text(encoding="utf-8") + ONE_LINE + "\n", encoding="utf-8")
    path = cases / "clusters" / "fictional-a.yaml"
    text = path.read_text(encoding="utf-8")
    singles = [p.replace("\n", " ") for p in PAYLOADS]
    text = text.replace("name: 虚构甲组团", f"name: {yq(singles[14])}", 1)
    text = text.replace("theme: 虚构甲组团", f"theme: {yq(singles[0])}")
    text = text.replace("summary: 虚构的测试组团，数据均为编造，仅供测试。", f"summary: {yq(HOSTILE)}")
    text = text.replace("  - 虚构茶叶", "\n".join(f"  - {yq(p)}" for p in singles))
    text = text.replace("    description: 虚构的测试模式。", f"    description: {yq(HOSTILE)}")
    text = text.replace("    quote: 2023年达到138万元", f"    quote: 2023年达到138万元\n    note: {yq(HOSTILE)}\n    scope: {yq(singles[2])}")
    text += f"partners:\n  - name: {yq(singles[1])}\n    kind: company\n    role: {yq(HOSTILE)}\n"
    path.write_text(text, encoding="utf-8")
    lesson = cases / "lessons" / "fictional-lesson.yaml"
    lesson.write_text(lesson.read_text(encoding="utf-8") + f"basis: editorial\nreason: {yq(HOSTILE)}\n", encoding="utf-8")
    return build_project(make_project(tmp, cases))


@pytest.fixture(scope="module")
def clean_site(tmp_path_factory) -> Path:
    return build_project(make_project(tmp_path_factory.mktemp("clean"), FICTIONAL))


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.script_text: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.script_text if self._in_script else self.text).append(data)


def audit(path: Path) -> Audit:
    a = Audit()
    a.feed(path.read_text(encoding="utf-8"))
    return a


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


@pytest.fixture(scope="module")
def hostile_internal_site(tmp_path_factory) -> Path:
    """The internal edition of the real casebook with a hostile overlay: every real name is its
    masked text with each '*' replaced by a payload, every figure's note is all of them (the overlay
    is the data owner's, but its text reaches every context case text does)."""
    import yaml

    from sitebuild import CASES_DIR, build_edition, fictional_overlay

    tmp = tmp_path_factory.mktemp("hostile-internal")
    overlay = fictional_overlay(tmp)
    singles = [p.replace("\n", " ") for p in PAYLOADS if "*" not in p]  # a '*' in a real name is refused
    n = 0
    for path in sorted(overlay.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name in data.get("names") or []:
            parts = name["masked"].split("*")
            name["real"] = parts[0] + "".join(singles[(n + i) % len(singles)] + part for i, part in enumerate(parts[1:]))
            n += 1
        for fig in data.get("figures") or []:
            fig["note"] = ONE_LINE
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return build_edition(make_project(tmp, CASES_DIR), overlay)


def assert_inert(site: Path) -> None:
    for page in pages(site):
        a = audit(page)
        for tag, attrs in a.tags:
            assert tag not in ("iframe", "style", "object", "embed"), (page, tag)
            for name, value in attrs.items():
                assert not name.startswith("on"), (page, tag, name)
                v = re.sub(r"\s", "", value).lower()
                assert not v.startswith(("javascript:", "data:", "vbscript:")), (page, tag, name, value)
                # A chart's Vega-Lite spec (casebook.charts) holds case text as JSON strings, escaped as any attribute.
                spec = (tag, name) == ("figure", "data-cb-spec") and isinstance(json.loads(value), dict)
                assert "alert(" not in value or spec or name in ("title", "alt", "aria-label", "content"), (page, tag, name)
        assert not any("alert(" in s for s in a.script_text), page


def test_nothing_hostile_survives_in_markup(hostile_site):
    assert_inert(hostile_site)


def test_nothing_hostile_survives_in_the_internal_edition(hostile_internal_site, clean_internal_site):
    assert_inert(hostile_internal_site)
    page = hostile_internal_site / "cases" / "grain-store" / "index.html"
    text = "".join(audit(page).text)
    assert '<script>alert("x1")</script>' in text or "<img src=x onerror=alert(\"x2\")>" in text  # shown as text
    for rel in ["index.html", "cases/grain-store/index.html", "alliance/index.html", "indicators/investment/index.html"]:
        scripts = [[a.get("src", "inline") for t, a in audit(site / rel).tags if t == "script"]
                   for site in (hostile_internal_site, clean_internal_site)]
        assert scripts[0] == scripts[1], rel


@pytest.fixture(scope="module")
def clean_internal_site(internal_site) -> Path:
    return internal_site


def test_scripts_are_only_the_sites_own(hostile_site, clean_site):
    def scripts(site: Path, rel: str) -> list[str]:
        return [attrs.get("src", "inline") for tag, attrs in audit(site / rel).tags if tag == "script"]

    for rel in ["index.html", "cases/fictional-a/index.html", "lessons/index.html", "tags/index.html",
                "indicators/collective-income/index.html"]:
        assert scripts(hostile_site, rel) == scripts(clean_site, rel), rel


def test_hostile_text_is_shown_as_text(hostile_site):
    page = hostile_site / "cases" / "fictional-a" / "index.html"
    text = "".join(audit(page).text)
    assert '<script>alert("x1")</script>' in text
    assert "{{ 7*7 }}{% if true %}x8{% endif %}" in text  # never evaluated as a template
    assert "[点我](javascript:alert(\"x6\"))" in text  # never turned into a Markdown link
    html = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html


def test_titles_and_navigation_are_escaped(hostile_site):
    page = hostile_site / "index.html"
    a = audit(page)
    titles = [t for t in a.text if "x12" in t]
    assert titles, "the hostile cluster name should appear as text in the navigation"
    html = page.read_text(encoding="utf-8")
    assert "</title><script>" not in html
    head = html.split("</head>")[0]
    assert "<script>alert" not in head


def test_search_index_holds_case_text_only_as_data(hostile_site):
    """The index files are scripts; case text may only ever be inside their JSON strings."""
    for path in sorted((hostile_site / "search").rglob("*.js")):
        body = path.read_text(encoding="utf-8").lstrip("\ufeff")
        call, _, rest = body.partition("(")
        assert call in {"__cbShard", "__cbPages", "__cbTitles", "__cbText"} or body.startswith("var __index = "), path
        if body.startswith("var __index = "):
            json.loads(body[len("var __index = "):-1])
            continue
        payload = rest[:-2]  # "…);"
        if call != "__cbPages":
            payload = payload.split(",", 1)[1]
        json.loads(payload)  # the whole argument parses as JSON: nothing escapes the string


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "&#106;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "//evil.example/x", "/relative/path", "ftp://example.org/x",
    'https://example.org/" onmouseover="alert(1)', "https://exa mple.org/", "vbscript:msgbox(1)",
])
def test_links_are_http_or_https_only(check, book, url):
    path = book / "sources.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    date: 2024-05-01",
                                                             f"    date: 2024-05-01\n    url: {yq(url)}"),
                    encoding="utf-8")
    rc, payload = check.json(book)
    assert rc == 1
    assert [e["field"] for e in payload["errors"]] == ["sources[0].url"]
    assert "http:// 或 https://" in payload["errors"][0]["message"]


def test_http_link_is_accepted_and_rendered(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FICTIONAL, cases)
    path = cases / "sources.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    date: 2024-05-01", "    date: 2024-05-01\n    url: https://example.org/a?b=1&c=2"), encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    html = (site / "sources" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html


@pytest.mark.parametrize("file_value, message", [
    ("../../etc/passwd", "案例库之外"), ("/etc/passwd", "案例库之外"), ("C:/Windows/win.ini", "案例库之外"),
    ("sources/missing.txt", "找不到文件"), ("sources/link.txt", "符号链接"),
])
def test_source_files_must_stay_inside_the_casebook(check, book, file_value, message):
    (book / "sources" / "link.txt").symlink_to(book / "sources" / "fictional.txt")
    path = book / "sources.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("file: sources/fictional.txt", f"file: {file_value}"),
                    encoding="utf-8")
    rc, payload = check.json(book)
    assert rc == 1
    assert any(e["field"] == "sources[0].file" and message in e["message"] for e in payload["errors"]), payload


def test_hand_written_pages_are_sanitised_too(tmp_path):
    """content/ also arrives by pull request: raw HTML and javascript: links in Markdown are removed."""
    project = make_project(tmp_path, FICTIONAL)
    (project / "content" / "extra.md").write_text(
        "# 附加页\n\n<script>alert('c1')</script>\n\n[点我](javascript:alert('c2'))\n\n"
        "<a href=\"JAVASCRIPT:alert('c3')\" onclick=\"alert('c4')\">链接</a>\n\n<iframe src=\"https://evil.example\"></iframe>\n",
        encoding="utf-8")
    site = build_project(project)
    a = audit(site / "extra" / "index.html")
    assert not any("alert(" in s for s in a.script_text)
    for tag, attrs in a.tags:
        assert tag != "iframe"
        assert not any(name.startswith("on") for name in attrs)
        assert not attrs.get("href", "").lower().startswith("javascript:")


def test_blank_lines_in_case_text_do_not_become_markdown(tmp_path):
    """A summary with blank lines must stay one paragraph of text: no heading, link or remote image."""
    cases = tmp_path / "cases"
    shutil.copytree(FICTIONAL, cases)
    path = cases / "clusters" / "fictional-a.yaml"
    text = path.read_text(encoding="utf-8")
    sneaky = "虚构的说明。\\n\\n## 伪造标题\\n\\n[点我](https://evil.example/) **粗体** ![x](https://evil.example/t.png)"
    path.write_text(text.replace("summary: 虚构的测试组团，数据均为编造，仅供测试。", f'summary: "{sneaky}"'), encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    html = (site / "cases" / "fictional-a" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://evil.example' not in html and 'src="https://evil.example' not in html
    assert not re.search(r"<h2[^>]*>\s*伪造标题", html)
    assert "## 伪造标题" in html  # shown as the text it is
