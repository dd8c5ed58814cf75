"""A cluster page opens with the model at a glance, and draws the industry chains the data has (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casebook.diagram import chain_svg, chain_text
from casebook.models import Chain
from casebook.sanitize import sanitize_svg
from casebook.validate import load_casebook

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ['</svg><script>alert(1)</script>', '" onload="alert(2)', "<img src=x onerror=alert(3)>", "&amp;", "挖竹笋"]


@pytest.mark.parametrize("steps", [HOSTILE[:2], HOSTILE, ["一", "二"], ["很长很长很长的一个环节名称", "短"]])
def test_a_chain_is_one_box_per_step_in_order_and_stays_text(steps):
    chain = Chain(name="虚构产业链<b>", steps=steps)
    drawn = chain_svg(chain)
    svg = sanitize_svg(drawn)  # as it reaches the page: the sanitiser keeps every part of it
    for part in ("<rect", "<text", "<path", 'class="cb-diagram-box"', 'aria-hidden="true"'):
        assert svg.count(part) == drawn.count(part), part
    unescape = __import__("html").unescape
    texts = [unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]
    assert texts == steps  # the same text, still text (no tag or attribute came out of it)
    labels = [re.sub("&lt;|&gt;|&quot;|&#x27;|&amp;", "?", t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]
    assert len(labels) == len(steps) and svg.count("<rect") == len(steps) and svg.count("<path") == len(steps) - 1
    tags: list[tuple[str, list[str]]] = []
    parser = __import__("html.parser").parser.HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append((tag, [a for a, _ in attrs]))  # type: ignore[method-assign]
    parser.feed(svg)
    assert {t for t, _ in tags} == {"svg", "rect", "text", "path"}
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on") or a in ("href", "style")]
    widths = {int(w) for w in re.findall(r'<rect[^>]*width="(\d+)"', svg)}
    assert len(widths) == 1  # every box fits the longest step
    assert chain_text(chain) == "虚构产业链<b>：" + " → ".join(steps)


def _overview(html: str) -> str:
    return html[html.index('id="overview"'):html.index("<h2", html.index('id="overview"') + 10)]


def test_every_chain_of_the_casebook_is_drawn_on_its_page_in_the_sources_order(real_site: Path):
    book, errors = load_casebook(ROOT / "cases")
    assert errors == []
    chains = [(c, ch) for c in book.clusters.values() for ch in c.chains]
    assert {c.id for c, _ in chains} >= {"source-prosperity", "grain-store"}
    for cluster, chain in chains:
        overview = _overview((real_site / "cases" / cluster.id / "index.html").read_text(encoding="utf-8"))
        figure = overview[overview.index('<figure class="cb-chain"'):overview.index("</figure>") + 9]
        assert re.findall(r"<text[^>]*>(.*?)</text>", figure)[:len(chain.steps)] == chain.steps
        assert 'aria-hidden="true"' in figure  # the caption is the text alternative
        assert f"<figcaption>{chain.name}：{' → '.join(chain.steps)}</figcaption>" in figure


def test_each_cluster_page_opens_with_model_parties_results_and_figures(real_site: Path):
    book, _ = load_casebook(ROOT / "cases")
    for cluster in book.clusters.values():
        overview = _overview((real_site / "cases" / cluster.id / "index.html").read_text(encoding="utf-8"))
        terms = re.findall(r"<dt>(.*?)</dt>", overview)
        assert terms[0] == "位置" and "发展模式" in terms[:4], terms
        if cluster.partners:
            assert "参与各方" in terms
        if cluster.outcomes:
            assert "主要成效" in terms
        model_row = overview[overview.index("<dt>发展模式</dt>"):]
        model_row = model_row[:model_row.index("</dd>")]
        if cluster.models:
            for mo in cluster.models:
                assert mo.name in model_row and (mo.formula is None or mo.formula in model_row)
                if mo.basis == "editorial":
                    assert "编者拟定" in model_row
        else:
            assert "原文没有为本组团命名发展模式" in model_row
    # A scoped headline figure says whose it is: 区域总面积（*镇）, never a bare 区域总面积 for the town's area.
    sp = _overview((real_site / "cases" / "source-prosperity" / "index.html").read_text(encoding="utf-8"))
    scoped = [o for o in book.clusters["source-prosperity"].observations if o.scope]
    assert any(f"（{o.scope}）" in sp for o in scoped) or not scoped


def test_the_alliance_page_draws_its_framework_with_the_partners_around_it(real_site: Path):
    from casebook.diagram import framework_rows

    book, _ = load_casebook(ROOT / "cases")
    assert book.alliance is not None
    rows = framework_rows(book.alliance)
    assert [r for r, _ in rows] == [*dict.fromkeys(m.role for m in book.alliance.framework.members), "合作方"]
    html = (real_site / "alliance" / "index.html").read_text(encoding="utf-8")
    figure = html[html.index('<figure class="cb-chain cb-framework-diagram"'):]
    figure = figure[:figure.index("</figure>")]
    texts = [__import__("html").unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", figure)]
    assert texts == [x for role, names in rows for x in (role, *names)]  # every tier, every member, in order
    assert figure.count('stroke-dasharray="4 3"') == len(book.alliance.partners) + 1  # partners: dashed, not below
    caption = __import__("html").unescape(re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S).group(1))
    assert all(name in caption for _, names in rows for name in names)
