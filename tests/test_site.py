"""End-to-end builds of the real and fictional casebooks: pages, links, offline, atomicity."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from casebook.site import BuildFailed

from sitebuild import ROOT, build_project, make_project, tree_digest

CASES = ROOT / "cases"
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
CLUSTER_IDS = ["source-prosperity", "grain-store", "mountain-road", "farming-weaving", "cloud-ecommerce"]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "srcset", "action", "data", "poster") and value:
                self.refs.append((tag, name, value))
            if name == "id" and value:
                self.ids.add(value)
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_page_kind_exists(real_site):
    expected = ["index.html", "alliance/index.html", "models/index.html", "lessons/index.html",
                "indicators/index.html", "tags/index.html", "sources/index.html", "about/index.html"]
    expected += [f"cases/{cid}/index.html" for cid in CLUSTER_IDS]
    for rel in expected:
        assert (real_site / rel).is_file(), rel
    indicators = json.loads(json.dumps([p.parent.name for p in (real_site / "indicators").glob("*/index.html")]))
    assert len(indicators) > 10
    assert parse(real_site / "cases" / "grain-store" / "index.html").title.startswith("“*粮仓”组团")


def test_cluster_page_content(real_site):
    html = (real_site / "cases" / "source-prosperity" / "index.html").read_text(encoding="utf-8")
    for text in ["四带共富", "党建带领、政府带动、企业带路、农民带地", "发展模式", "数据", "经验启示", "来源",
                 'class="cb-star"', "原文已脱敏"]:
        assert text in html, text
    # A desensitised figure is never printed as a number: its cell holds the marked star.
    assert re.search(r'<span class="cb-fig cb-desensitised"><abbr class="cb-star"[^>]*>\*</abbr></span>', html)


def test_internal_links_resolve(real_site):
    """Every local href/src on every page points at a file (and anchor) that exists."""
    # 404.html is served at any depth, so MkDocs gives it root-absolute links; it is checked by the browser tests.
    pages = sorted(p for p in real_site.rglob("*.html") if p.name != "404.html")
    ids = {p: parse(p).ids for p in pages}
    broken = []
    for page in pages:
        for _tag, _attr, value in parse(page).refs:
            if value.startswith(("http://", "https://", "mailto:", "data:", "javascript:")):
                continue
            path, _, frag = value.partition("#")
            target = (page.parent / path).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(real_site)}: {value}")
            elif frag and target.suffix == ".html" and frag not in ids.get(target, parse(target).ids):
                broken.append(f"{page.relative_to(real_site)}: {value} (anchor)")
    assert broken == []


def test_no_request_can_leave_the_site(real_site):
    """Static proof of offline: no absolute URL in anything the browser loads by itself."""
    offenders = []
    for page in real_site.rglob("*.html"):
        for tag, attr, value in parse(page).refs:
            loads = (tag in ("script", "img", "iframe", "source", "video", "audio", "embed", "object")
                     or (tag == "link" and attr == "href"))
            if loads and re.match(r"^(https?:)?//", value):
                offenders.append(f"{page.relative_to(real_site)}: <{tag} {attr}={value}>")
    for css in real_site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if re.match(r"^(https?:)?//", url):
                offenders.append(f"{css.relative_to(real_site)}: url({url})")
        assert "@import" not in css.read_text(encoding="utf-8") or "fonts.googleapis" not in css.read_text()
    assert offenders == []
    home = (real_site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in home and "unpkg.com" not in home
    assert "assets/casebook/vendor/iframe-worker-shim.js" in home
    assert (real_site / "search" / "search_index.js").is_file()


def test_sixth_cluster_appears_everywhere(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(FICTIONAL, cases)
    extra = (cases / "clusters" / "fictional-a.yaml").read_text(encoding="utf-8")
    extra = extra.replace("id: fictional-a", "id: fictional-b").replace("fictional-three-belts", "fictional-b-belts")
    extra = extra.replace("id: fictional-mechanism", "id: fictional-b-mechanism")
    (cases / "clusters" / "fictional-b.yaml").write_text(extra, encoding="utf-8")
    site = build_project(make_project(tmp_path, cases))
    assert (site / "cases" / "fictional-b" / "index.html").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "cases/fictional-b/" in home and "2 个组团" in home
    assert "fictional-b" in (site / "models" / "index.html").read_text(encoding="utf-8")
    assert "cases/fictional-b/" in (site / "tags" / "index.html").read_text(encoding="utf-8")
    assert "fictional-b" in (site / "indicators" / "collective-income" / "index.html").read_text(encoding="utf-8")
    pages = []
    for path in sorted((site / "search" / "titles").glob("*.js")):
        body = path.read_text(encoding="utf-8").lstrip("\ufeff")
        pages += json.loads(body[len(f"__cbTitles({path.stem},"):-2])
    assert ["cases/fictional-b/", "“虚构甲组团”组团"] in [entry[:2] for entry in pages]


def test_failed_build_leaves_previous_site_intact(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    site = build_project(project)
    before = tree_digest(site)
    assert "index.html" in before
    cluster = project / "cases" / "clusters" / "fictional-a.yaml"
    cluster.write_text(cluster.read_text(encoding="utf-8").replace("value: 52", "value: 五十二"), encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_project(project)
    assert tree_digest(site) == before
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site") and p.name != ".site.lock"] == []


def test_template_error_and_strict_warning_leave_site_intact(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    site = build_project(project)
    before = tree_digest(site)
    (project / "content" / "broken.md").write_text("# 坏链接\n\n[不存在](nowhere.md)\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as exc:
        build_project(project, strict=True)
    assert "严格模式" in str(exc.value)
    assert tree_digest(site) == before
    (project / "content" / "broken.md").unlink()
    (project / "theme_overrides" / "main.html").write_text("{% extends 'base.html' %}{% block content %}{{ x(",
                                                            encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_project(project)
    assert tree_digest(site) == before
    leftovers = list(project.glob(".site*downloads-*")) + list((project / ".cache" / "casebook").glob("downloads-*"))
    assert leftovers == [], "a failed build leaves no half-written downloads behind"


def test_successful_build_replaces_site_whole(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    site = build_project(project)
    (site / "stale.html").write_text("old", encoding="utf-8")
    build_project(project)
    assert not (site / "stale.html").exists()
    assert (site / "index.html").is_file()
    assert site.stat().st_mode & 0o005, "the published site must be world-readable"


def test_cli_build_exit_codes(tmp_path, capsys):
    from casebook.cli import main

    project = make_project(tmp_path, FICTIONAL)
    assert main(["build", "--config", str(project / "mkdocs.yml"), "--site-dir", str(tmp_path / "out")]) == 0
    bad = tmp_path / "bad"
    shutil.copytree(FICTIONAL, bad)
    (bad / "indicators.yaml").write_text("indicators: []\n", encoding="utf-8")
    assert main(["build", "--config", str(project / "mkdocs.yml"), "--site-dir", str(tmp_path / "out"),
                 "--cases", str(bad)]) == 1
    assert "原有网站保持不变" in capsys.readouterr().err
    assert main(["build", "--config", str(tmp_path / "nope.yml")]) == 2


def test_mkdocs_build_gives_the_same_site(tmp_path, real_site):
    """`mkdocs build` with the project's mkdocs.yml and `casebook build` publish the same files."""
    project = make_project(tmp_path, CASES)
    out = tmp_path / "by-mkdocs"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(out)], cwd=project,
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr
    ours, theirs = tree_digest(real_site), tree_digest(out)
    # sitemap.xml.gz embeds its own timestamp; everything else must be byte-identical.
    ours.pop("sitemap.xml.gz"), theirs.pop("sitemap.xml.gz")
    assert ours == theirs


def test_theme_overrides_can_replace_a_page_template(tmp_path):
    project = make_project(tmp_path, FICTIONAL)
    custom = project / "theme_overrides" / "casebook"
    custom.mkdir()
    (custom / "cluster.md.j2").write_text("# {{ title|md }}\n\n<p class=\"custom\">{{ cluster.summary }}</p>\n",
                                          encoding="utf-8")
    site = build_project(project)
    html = (site / "cases" / "fictional-a" / "index.html").read_text(encoding="utf-8")
    assert '<p class="custom">虚构的测试组团' in html
    assert "cb-figures" not in html  # the packaged template was not used
