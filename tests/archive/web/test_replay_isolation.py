"""A hostile archived page, replayed in Chromium, gets nothing of the app's and goes nowhere.

The page is written into a WARC file with the project's writer; its script tries what a
malicious archived page would: read the API (relatively, and at the app's own address),
the app's cookies and localStorage, the frame's document, and send the reader's window to
a live site (``top.location``, ``window.open``). The "live site" is a loopback listener on
127.0.0.2 that records every request it gets. Both servers run with an access token, as
they must off loopback, so the token's cookie is there to be stolen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from archive.catalogue.store import Catalogue
from archive.config import ConfigError, Settings
from archive.wayback import timestamp14
from archive.web.app import create_app
from archive.web.isolation import TOKEN_NAME, Origins
from archive.web.replay import create_replay_app
from archive.web.serving import bind, bound_port
from tests.command import run_cli
from tests.replay_archive import TEST_ORIGINS, Page, running_origins, write_archive

HOSTILE_URL = "http://news.example/2026/12/hostile.html"
CAPTURED = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
TOKEN = "s3cret-token-for-tests"
APP_SECRET = "app-only-secret"

# Each attempt's outcome goes into a data- attribute of the body; "done" is set last.
HOSTILE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Hostile</title></head>
<body><p id="marker">an archived page with a hostile script</p>
<script>
var body = document.body;
function note(name, value) { body.setAttribute("data-" + name, String(value)); }
function attempt(name, action) { try { note(name, action()); } catch (e) { note(name, "threw " + e.name); } }
attempt("cookie", function () { return "[" + document.cookie + "]"; });
attempt("storage", function () { return JSON.stringify(Object.assign({}, localStorage)); });
attempt("topdoc", function () { return top.document.documentElement.outerHTML.length; });
attempt("open", function () { var w = window.open("TRAP/popup"); return w === null ? "null" : "a window"; });
attempt("top", function () { top.location = "TRAP/top"; return "assigned"; });
function read(url, options) {
  return fetch(url, options).then(function (r) { return r.text().then(function (t) { return r.status + " " + t; }); },
                                  function (e) { return "failed " + e.name; });
}
Promise.all([read("/api/articles"), read("APP/api/articles", {credentials: "include"}),
             read("APP/api/articles", {mode: "no-cors", credentials: "include"})]).then(function (results) {
  note("api", results[0]); note("appapi", results[1]); note("appnocors", results[2]); note("done", "yes");
});
</script></body></html>
"""


class Trap(BaseHTTPRequestHandler):
    """The live web: every request it gets is recorded."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Trap.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p id=live>the live web</p>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def trap() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.2", 0), Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, trap: str) -> Iterator[tuple[Settings, Origins]]:
    """Both servers, token required, over an archive of the hostile page that names their real addresses."""
    app_socket, replay_socket = bind("127.0.0.1", 0), bind("127.0.0.1", 0)
    app = f"http://127.0.0.1:{bound_port(app_socket)}"
    page = HOSTILE_PAGE.replace("TRAP", trap).replace("APP", app)
    settings = write_archive(tmp_path_factory.mktemp("hostile") / "data", [Page(HOSTILE_URL, CAPTURED, page.encode())])
    settings = Settings(data_dir=settings.data_dir, access_token=TOKEN)
    with running_origins(settings, app_socket, replay_socket) as origins:
        yield settings, origins


def test_a_hostile_replayed_page_gets_nothing_of_the_apps_and_goes_nowhere(
        browser: Browser, hostile: tuple[Settings, Origins], trap: str) -> None:
    _, origins = hostile
    context = browser.new_context()
    page = context.new_page()
    popups: list[str] = []
    context.on("page", lambda opened: popups.append(opened.url))  # any window opened from now on
    page.goto(f"{origins.app}/?{TOKEN_NAME}={TOKEN}")  # the reader signs in: an HttpOnly cookie
    assert page.url == f"{origins.app}/" and "newsarchive" in page.title()
    page.evaluate(f"localStorage.setItem('secret', '{APP_SECRET}')")
    frame_url = f"{origins.app}/web/{timestamp14(CAPTURED)}/{HOSTILE_URL}"

    page.goto(frame_url, wait_until="networkidle")
    capture = page.frame_locator("#replay").locator("body")
    page.frame_locator("#replay").locator("body[data-done=yes]").wait_for()
    page.wait_for_timeout(500)  # let any navigation or window the page asked for begin
    outcome = {name: capture.get_attribute(f"data-{name}")
               for name in ("cookie", "storage", "topdoc", "open", "top", "api", "appapi", "appnocors")}

    assert "an archived page with a hostile script" in capture.inner_text()  # it did run, in the frame
    assert outcome["cookie"] == "[]"  # the token cookie is HttpOnly; the app sets no other
    assert APP_SECRET not in outcome["storage"]  # localStorage is the replay origin's own
    assert outcome["topdoc"] == "threw SecurityError"  # the frame is another origin
    assert outcome["api"].startswith("404 ") and "articles" not in outcome["api"][4:].lower()
    assert outcome["appapi"] == "failed TypeError"  # refused by the replay CSP, and no CORS either
    assert outcome["appnocors"] == "failed TypeError"
    assert outcome["open"] == "null" and popups == []  # no popups from the sandbox
    assert page.url == frame_url  # the top window stayed where the reader put it
    assert Trap.hits == []  # and nothing reached the live web
    context.close()


def test_every_request_needs_the_token_when_one_is_set(hostile: tuple[Settings, Origins]) -> None:
    _, origins = hostile
    capture = f"/web/{timestamp14(CAPTURED)}mp_/{HOSTILE_URL}"
    for url in (f"{origins.app}/", f"{origins.app}/api/articles", f"{origins.replay}{capture}",
                f"{origins.replay}/cdx?url={HOSTILE_URL}"):
        refused = httpx.get(url, params={TOKEN_NAME: "wrong"} if "cdx" in url else None)
        assert refused.status_code == 401 and "access token" in refused.text, url
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200, url
    with httpx.Client() as client:  # the query parameter is traded for a cookie and dropped from the address
        signed = client.get(f"{origins.replay}{capture}?{TOKEN_NAME}={TOKEN}")
        assert signed.status_code == 303 and signed.headers["location"] == capture
        cookie = signed.headers["set-cookie"]
        assert f"{TOKEN_NAME}={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert client.get(f"{origins.replay}{capture}").status_code == 200  # with the cookie
    sideways = httpx.get(f"{origins.app}//elsewhere.example/?{TOKEN_NAME}={TOKEN}")
    assert sideways.status_code == 303 and sideways.headers["location"] == "/elsewhere.example/"  # not //host


def test_app_responses_are_never_framed_nor_sniffed(tmp_path: Path) -> None:
    settings = write_archive(tmp_path / "data", [Page(HOSTILE_URL, CAPTURED, b"<p>x</p>")])
    with TestClient(create_app(settings, TEST_ORIGINS), base_url=TEST_ORIGINS.app) as app:
        for path in ("/", "/runs", "/api/articles", "/api/openapi.json", "/assets/style.css", "/articles/999"):
            response = app.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
    catalogue = Catalogue(settings.database_url, read_only=True)
    with TestClient(create_replay_app(catalogue, settings.warc_dir, TEST_ORIGINS)) as replay:
        for path in (f"/web/{timestamp14(CAPTURED)}/{HOSTILE_URL}", f"/web/{timestamp14(CAPTURED)}id_/{HOSTILE_URL}",
                     "/web/2026/http://unknown.example/", "/nothing-here"):
            response = replay.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert f"frame-ancestors 'self' {TEST_ORIGINS.app}" in response.headers["content-security-policy"], path
    catalogue.close()


@pytest.mark.parametrize("command", ["serve", "replay"])
def test_a_server_off_loopback_refuses_to_start_without_a_token(tmp_path: Path, command: str) -> None:
    settings = write_archive(tmp_path / "data", [Page(HOSTILE_URL, CAPTURED, b"<p>x</p>")])
    for host in ("0.0.0.0", "192.0.2.1", "news.example.org"):
        result = run_cli("--data-dir", str(settings.data_dir), command, "--host", host, "--port", "0",
                         timeout=60)
        assert result.returncode == 2, (host, result.stderr)
        assert f"--host {host} is not a loopback address" in result.stderr and "--token" in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unusable_port_is_one_line(tmp_path: Path) -> None:
    settings = write_archive(tmp_path / "data", [Page(HOSTILE_URL, CAPTURED, b"<p>x</p>")])
    taken = bind("127.0.0.1", 0)
    port = bound_port(taken)
    try:
        result = run_cli("--data-dir", str(settings.data_dir), "replay", "--port", str(port), timeout=60)
    finally:
        taken.close()
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_app_and_replay_cannot_share_an_origin() -> None:
    with pytest.raises(ConfigError, match="different origins"):
        Origins.of("http://127.0.0.1:8000", "http://127.0.0.1:8000/")


def test_a_loopback_app_may_be_reached_as_127_0_0_1_or_localhost() -> None:
    for typed in ("http://127.0.0.1:8000", "http://localhost:8000"):
        csp = Origins.of(typed, "http://127.0.0.1:8080").replay_csp()
        assert csp.endswith("frame-ancestors 'self' " + " ".join(sorted(
            ("http://127.0.0.1:8000", "http://localhost:8000"), key=lambda origin: origin != typed)))
    assert Origins.of("https://news.example.org", "https://replay.example.org").replay_csp().endswith(
        "frame-ancestors 'self' https://news.example.org")
