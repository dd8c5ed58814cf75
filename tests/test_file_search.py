"""Opened from a folder (file://), a search result leads to the page, never a folder listing —
followed by a click or by the keyboard (Enter on the result, as Material lets readers do)."""

from __future__ import annotations

import pytest

from browser_support import SEARCH_QUERY as Q
from browser_support import wait_for_search, watch_search


@pytest.mark.parametrize("follow", ["click", "enter"])
def test_a_search_result_opens_its_page_from_disk(browser, real_site, follow):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    watch_search(page)
    page.goto((real_site / "index.html").as_uri())
    page.click(Q)
    page.wait_for_function("() => !/初始化/.test(document.querySelector('.md-search-result__meta').textContent)",
                           timeout=20_000)
    page.focus(Q)
    page.keyboard.type("粮仓", delay=15)
    wait_for_search(page, "粮仓")
    link = page.locator(".md-search-result__item a").first
    assert link.get_attribute("href").startswith("file:")  # Material's results are absolute on disk
    with page.expect_navigation():
        if follow == "click":
            link.click()
        else:
            link.focus()
            page.keyboard.press("Enter")
    from urllib.parse import urlsplit

    assert urlsplit(page.url).path.endswith("/cases/grain-store/index.html"), page.url
    assert "粮仓" in page.title(), page.title()
    assert errors == []
    page.close()
