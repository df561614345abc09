"""A real browser (Debian's headless Chromium, driven by Playwright) replays an archived article.

The article must look as it was — text, images from the site and its CDN, styles through
an @import chain, its script run — in the app's frame, with every request the browser makes
going to the app (the frame) or the replay origin (the page): the original site is no
longer running, and nothing may reach for it.
"""

from __future__ import annotations

import re
from playwright.sync_api import Browser

from archive.web.isolation import Origins
from tests.replay_archive import ReplayArchive
from tests.replay_site import CHANGING, FIRST_VERSION, STORY, STORY_MARKER

def test_a_replayed_article_displays_from_the_archive_alone(
        browser: Browser, servers: Origins, replay_archive: ReplayArchive) -> None:
    page = browser.new_page()
    requested: list[str] = []
    refused: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(f"{servers.app}/web/{replay_archive.first}/{replay_archive.url(STORY)}", wait_until="networkidle")

    assert "Archived" in page.inner_text("#newsarchive-banner")  # the app's frame...
    capture = page.frame_locator("#replay")  # ...around the page from the replay origin
    assert STORY_MARKER in capture.locator("#marker").inner_text()
    for image in ("#lead", "#pic", "#cdn"):  # decoded and shown, from the site, a revisit and the CDN host
        assert capture.locator(image).evaluate("img => img.complete && img.naturalWidth > 0"), image
    body = capture.locator("body")
    background = body.evaluate("b => getComputedStyle(b).backgroundImage")  # main.css
    heading = capture.locator("h1").evaluate("h => getComputedStyle(h).backgroundImage")  # via 2 @imports
    assert f"/web/{replay_archive.first}" in background and "deep.png" in heading
    assert body.get_attribute("data-script-ran") == "yes"

    assert len(requested) > 10
    outside = [url for url in requested if not url.startswith((servers.app + "/", servers.replay + "/", "data:"))]
    assert outside == [], f"requests that left the two origins: {outside}"
    from_app = [url for url in requested if url.startswith(servers.app + "/")]
    assert all(url.startswith((f"{servers.app}/web/", f"{servers.app}/assets/")) for url in from_app), from_app
    assert refused == [], f"the page tried to load something the CSP refused: {refused}"

    capture.locator("#next").click()  # a link in the archived page: the frame follows, with its banner
    page.wait_for_url(re.compile(rf"^{re.escape(servers.app)}/web/\d{{14}}/.*{re.escape(CHANGING)}$"))
    page.wait_for_load_state("networkidle")
    assert FIRST_VERSION in page.frame_locator("#replay").locator("#version").inner_text()
    assert CHANGING in page.inner_text("#newsarchive-banner")
    page.close()
