"""A real browser (Debian's headless Chromium, driven by Playwright) replays an archived article.

The article must look as it was — text, images from the site and its CDN, styles through
an @import chain, its script run — with every request the browser makes going to the
replay server: the original site is no longer running, and nothing may reach for it.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.replay_archive import ReplayArchive
from tests.replay_site import CHANGING, FIRST_VERSION, STORY, STORY_MARKER


def test_a_replayed_article_displays_from_the_archive_alone(
        browser: Browser, replay_server: str, replay_archive: ReplayArchive) -> None:
    page = browser.new_page()
    requested: list[str] = []
    refused: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(f"{replay_server}/web/{replay_archive.first}/{replay_archive.url(STORY)}", wait_until="networkidle")

    assert STORY_MARKER in page.inner_text("#marker")
    assert "Archived" in page.inner_text("#newsarchive-banner")
    for image in ("#lead", "#pic", "#cdn"):  # decoded and shown, from the site, a revisit and the CDN host
        assert page.eval_on_selector(image, "img => img.complete && img.naturalWidth > 0"), image
    background = page.evaluate("getComputedStyle(document.body).backgroundImage")  # main.css
    heading = page.evaluate("getComputedStyle(document.querySelector('h1')).backgroundImage")  # via 2 @imports
    assert f"/web/{replay_archive.first}" in background and "deep.png" in heading
    assert page.get_attribute("body", "data-script-ran") == "yes"

    assert len(requested) > 10
    outside = [url for url in requested if not url.startswith((replay_server + "/", "data:"))]
    assert outside == [], f"requests that left the replay server: {outside}"
    assert refused == [], f"the page tried to load something the CSP refused: {refused}"

    page.click("#next")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{replay_server}/web/") and page.url.endswith(CHANGING)
    assert FIRST_VERSION in page.inner_text("#version")
    page.close()
