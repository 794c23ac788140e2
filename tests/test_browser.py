"""Every HTML report opened in headless Chromium, as a person would: no console errors, the key
elements visible, nothing loaded from elsewhere, and the page fits a 1280 px and a 390 px wide
window without the body scrolling sideways.

Chromium and playwright are required, not optional: a missing browser fails here with the
command that installs it (.ci/run installs it on a fresh machine).
"""

import re

import pytest

from .browser import REPORTS, WIDTHS, chromium, render


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    return {name: render(name, folder) for name in REPORTS}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_is_self_contained(pages, name):
    html = pages[name].read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert '<meta name="viewport"' in html and "<thead>" in html and "<caption>" in html
    assert "<script" not in html and "<link" not in html and "@import" not in html and "@font-face" not in html
    # nothing fetched: no src= at all, and href only on links a reader follows
    assert not re.search(r"\ssrc=", html)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_in_chromium(browser, pages, name):
    _, selectors = REPORTS[name]
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m, p=problems: p.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, p=problems: p.append(str(e)))
        page.on("request", lambda r, p=problems: None if r.url.startswith("file:") else p.append(f"fetch {r.url}"))
        page.goto(pages[name].as_uri())
        assert problems == [], (name, width, problems)
        for sel in selectors:
            assert page.locator(sel).first.is_visible(), (name, width, sel)
        sizes = page.evaluate(
            "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
            " win: window.innerWidth})"
        )
        assert sizes["doc"] <= sizes["win"] and sizes["body"] <= sizes["win"], (name, width, sizes)
        page.close()
