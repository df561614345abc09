"""Our WACZ export in the client people open WACZ files with: ReplayWeb.page, in headless Chromium.

scripts/test unpacks the npm package ``replaywebpage`` (pinned) into ``.node/``; its
``ui.js`` and ``sw.js`` are served from 127.0.0.1 beside the WACZ, which ReplayWeb.page
reads by HTTP range requests, as it reads one on any static web host.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page

from tests.command import run_cli_in
from tests.replay_archive import PROJECT, ReplayArchive
from tests.replay_site import STORY, STORY_MARKER

REPLAYWEBPAGE = PROJECT / ".node" / "replaywebpage"  # scripts/test unpacks the pinned package here
FRAME_WAIT_MS = 45_000  # the service worker installs, reads the zip's directory and index, then the page
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single byte-range requests (206, suffix ranges too), which http.server ignores."""

    def send_head(self):  # type: ignore[no-untyped-def]
        wanted = RANGE.match(self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if not wanted or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        if wanted[1]:
            start, end = int(wanted[1]), min(int(wanted[2]) if wanted[2] else size - 1, size - 1)
        else:  # bytes=-N: the last N bytes (the zip's directory)
            start, end = max(size - int(wanted[2] or 0), 0), size - 1
        if start >= size or start > end:
            self.send_error(416)
            return None
        source = open(path, "rb")  # noqa: SIM115 - closed by the base class after copyfile
        source.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.range_left = end - start + 1
        return source

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        left = getattr(self, "range_left", None)
        if left is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(left))
        return None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def viewer(replay_archive: ReplayArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A static site with ReplayWeb.page and our export of the replay archive; yields the viewer's URL."""
    if not (REPLAYWEBPAGE / "ui.js").is_file():
        pytest.fail(f"{REPLAYWEBPAGE} is missing: scripts/test unpacks the replaywebpage npm package there")
    root = tmp_path_factory.mktemp("replaywebpage")
    exported = run_cli_in(replay_archive.workdir, "export", "--wacz", str(root / "archive.wacz"))
    assert exported.returncode == 0, exported.stderr
    (root / "replay").mkdir()
    # the page loads ui.js, which registers replay/sw.js; its replay frame loads replay/ui.js
    for name in ("ui.js", "replay/ui.js", "replay/sw.js"):
        (root / name).write_bytes((REPLAYWEBPAGE / Path(name).name).read_bytes())
    # what the service worker serves at replay/, for a first load that comes before it took control
    (root / "replay" / "index.html").write_text(
        '<!DOCTYPE html><html><head><script src="./ui.js"></script></head><body>'
        "<replay-app-main></replay-app-main></body></html>")
    (root / "index.html").write_text(
        '<!DOCTYPE html><html><head><script src="ui.js"></script></head><body>'
        f'<replay-web-page source="archive.wacz" url="{replay_archive.url(STORY)}" embed="replayonly">'
        "</replay-web-page></body></html>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="replaywebpage-site", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def article_frame(page: Page, url: str) -> Frame:
    """The frame ReplayWeb.page shows the archived page in: nested in its shadow DOM, found by URL."""
    for _ in range(FRAME_WAIT_MS // 250):
        for frame in page.frames:
            if "mp_/" in frame.url and frame.url.endswith(url):
                return frame
        page.wait_for_timeout(250)
    pytest.fail(f"ReplayWeb.page opened no frame for {url}; frames: {[f.url for f in page.frames]}")


def test_replaywebpage_replays_an_article_with_its_image_and_stylesheet(
        browser: Browser, viewer: str, replay_archive: ReplayArchive) -> None:
    page = browser.new_page()
    page.goto(viewer)
    frame = article_frame(page, replay_archive.url(STORY))
    frame.wait_for_selector("#marker", timeout=FRAME_WAIT_MS)
    assert STORY_MARKER in frame.inner_text("#marker")
    frame.wait_for_function("document.getElementById('lead').complete", timeout=FRAME_WAIT_MS)
    assert frame.eval_on_selector("#lead", "img => img.naturalWidth") == 64  # /media/lead.png, 64 px wide
    background = frame.evaluate("getComputedStyle(document.body).backgroundImage")  # set by main.css
    assert "bg.png" in background
    page.close()
