"""A larger (FICTIONAL, synthetic) casebook: the site keeps its shape as the number of clusters grows."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from sitebuild import build_project, make_project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic import write_casebook

CLUSTERS = 40  # above the navigation limit (30)


@pytest.fixture(scope="module")
def big_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("scale")
    cases = write_casebook(tmp / "cases-src", CLUSTERS)
    return build_project(make_project(tmp, cases))


def nav_links(html: str) -> list[str]:
    nav = html[html.index('<nav class="md-nav md-nav--primary"'):html.index("</nav>", html.index('class="md-nav md-nav--primary"'))]
    return re.findall(r'href="([^"]+)"', nav)


def test_clusters_leave_the_navigation_for_an_index_page(big_site):
    html = (big_site / "cases" / "fictional-0007" / "index.html").read_text(encoding="utf-8")
    links = nav_links(html)
    assert not [h for h in links if "fictional-" in h], "each page must not carry every cluster in its navigation"
    assert "../" in links  # the 组团 entry: the index page, one level up
    index = (big_site / "cases" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<th scope="row"><a href="(fictional-\d{4}/)">“虚构组团\d{4}”组团</a></th>', index)
    assert len(rows) == CLUSTERS and len(set(rows)) == CLUSTERS
    assert "共 40 个组团" in index


def test_home_page_links_to_the_index_instead_of_a_card_per_cluster(big_site):
    home = (big_site / "index.html").read_text(encoding="utf-8")
    assert 'class="cb-card"' not in home
    assert '<a href="cases/">全部 40 个组团</a>' in home
