"""The web page in headless Chromium: search, filters, chart, article view and its replay link.

Chromium is Debian's (scripts/test installs it); Playwright only drives it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from archive.config import Settings
from archive.web.isolation import Origins
from tests.query_catalogue import QueryCatalogue
from tests.replay_archive import running_origins

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extras)")
if not shutil.which("chromium"):
    pytest.skip("Chromium is not installed: apt-get install -y chromium (scripts/test does)", allow_module_level=True)


@pytest.fixture(scope="module")
def origins(sqlite_qc: QueryCatalogue) -> Iterator[Origins]:
    """The app and its replay origin served by uvicorn on 127.0.0.1, as ``newsarchive serve`` runs them."""
    with running_origins(Settings(data_dir=sqlite_qc.data_dir, db_url=sqlite_qc.url)) as served:
        yield served


@pytest.fixture(scope="module")
def base_url(origins: Origins) -> str:
    return origins.app


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, origins: Origins):  # type: ignore[no-untyped-def]
    """A page that records every URL it asks for: nothing may come from elsewhere than the two origins."""
    context = browser.new_context()
    page = context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    yield page
    assert all(url.startswith((origins.app + "/", origins.replay + "/")) for url in page.requested), page.requested
    context.close()


def hits(page) -> list:  # type: ignore[no-untyped-def]
    return page.locator("ol.hits > li").all()


def test_a_search_returns_highlighted_results(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    page.fill("input[name=q]", "bahria")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=bahria"))
    assert len(hits(page)) >= 2
    assert page.locator("ol.hits mark").first.inner_text().lower() == "bahria"
    assert page.title().startswith("bahria")


def test_a_filter_narrows_the_results(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    everything = len(hits(page))
    page.select_option("select[name=lang]", "fr")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"lang=fr"))
    french = hits(page)
    assert 0 < len(french) < everything
    assert all(hit.get_attribute("lang") == "fr" for hit in french)
    assert page.locator("#facet-lang li").count() == 1
    page.click("#facet-source a >> nth=0")  # a facet link adds its filter to the search
    page.wait_for_url(re.compile(r"source="))
    assert "lang=fr" in page.url and 0 < len(hits(page)) <= len(french)


def test_the_chart_renders(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    chart = page.locator("svg#chart")
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 50
    bars = page.locator("svg#chart rect")
    assert bars.count() >= 3
    assert all((bars.nth(i).bounding_box() or {}).get("height", 0) > 0 for i in range(bars.count()))
    assert page.locator("figure.chart .key").count() >= 2  # a colour per source


def test_the_article_view_links_to_its_replay(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/?source=maghreb-courier")
    first = page.locator("ol.hits > li a.title").first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/articles/\d+$"))
    assert page.locator("h1").inner_text() == title
    replay = page.locator("#replay").get_attribute("href")
    assert re.fullmatch(r"/web/\d{14}/http://127\.0\.0\.1:\d+/\S+\.html", replay), replay
    assert page.locator("#captures a").first.get_attribute("href").startswith("/web/")
    assert page.locator("#versions li").count() >= 1
    framed = page.goto(base_url + replay)  # the app's frame, the archived page in it from the replay origin
    assert framed.status == 200
    page.frame_locator("#replay").locator("body").wait_for()
    assert title.split()[0] in page.frame_locator("#replay").locator("body").inner_text()


def test_the_runs_page_shows_each_run(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/runs")
    rows = page.locator("#runs tbody tr")
    assert rows.count() >= 1
    assert "ok" in rows.first.inner_text()


def test_bad_parameters_are_shown_not_crashed(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(base_url + "/?since=tomorrow")
    assert response.status == 400
    assert "since must be a date" in page.locator(".error").inner_text()
