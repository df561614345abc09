"""The replay app in-process, over the WARC files and catalogue of two real crawls of the replay site."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from lxml import html as lxml_html
from starlette.testclient import TestClient

from archive.warc.index import capture_info, cdxj_line
from archive.wayback import parse_timestamp, timestamp14
from archive.web.replay import CONTENT_SECURITY_POLICY
from archive.web.rewrite import css_urls, embedded_urls
from archive.warc.reader import read_capture
from tests.replay_archive import ReplayArchive
from tests.replay_site import (
    CHANGING,
    COPY_OF_LEAD,
    FIRST_VERSION,
    IMAGES,
    LATIN1,
    REDIRECT,
    REFRESH,
    SECOND_VERSION,
    STORY,
    STORY_MARKER,
    png,
)

URL_ATTRIBUTES = ("href", "src", "srcset", "poster", "data-src", "action", "content")


def web(archive: ReplayArchive, timestamp: str, path: str, modifier: str = "") -> str:
    return f"/web/{timestamp}{modifier}/{archive.url(path) if path.startswith('/') else path}"


def raw_body(client: TestClient, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """A response and its body exactly as sent, Content-Encoding not undone."""
    with client.stream("GET", url, headers={k.replace("_", "-"): v for k, v in headers.items()}) as response:
        return response, b"".join(response.iter_raw())


def stored_payload(archive: ReplayArchive, url: str, index: int = 0) -> bytes:
    """The payload of a URL's index-th response record, as the WARC file holds it."""
    responses = [c for c in archive.captures(url) if c.record_type == "response"]
    capture = responses[index]
    return read_capture(archive.warc_dir / capture.warc_file, capture.warc_offset).payload


# --- choosing the capture --------------------------------------------------------------
def test_closest_capture_among_several(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    first, second = (c.timestamp for c in replay_archive.captures(CHANGING))
    for moment, expected, other in (
        (first, FIRST_VERSION, SECOND_VERSION),
        (second, SECOND_VERSION, FIRST_VERSION),
        (first + (second - first) / 3, FIRST_VERSION, SECOND_VERSION),
        (second - (second - first) / 3, SECOND_VERSION, FIRST_VERSION),
        (first - timedelta(days=400), FIRST_VERSION, SECOND_VERSION),
        (second + timedelta(days=400), SECOND_VERSION, FIRST_VERSION),
    ):
        response = replay_client.get(web(replay_archive, timestamp14(moment), CHANGING), follow_redirects=True)
        assert response.status_code == 200
        assert expected in response.text and other not in response.text


def test_a_page_asked_at_another_time_redirects_to_the_captures_own_timestamp(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    for asked in (replay_archive.first[:4], replay_archive.first[:10], "1999"):
        response = replay_client.get(web(replay_archive, asked, STORY))
        assert response.status_code == 302
        assert response.headers["location"] == web(replay_archive, replay_archive.first, STORY)
    latest = replay_client.get(f"/web/{replay_archive.url(STORY)}")
    assert latest.headers["location"] == web(replay_archive, replay_archive.second, STORY)
    # embedded resources are served at once, whatever their own timestamp
    image = replay_client.get(web(replay_archive, replay_archive.first[:8], "/media/lead.png", "im_"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_a_304_capture_is_skipped_for_the_body_it_confirmed(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    home = replay_archive.captures("/")
    not_modified = [c for c in home if c.status == 304]
    if not not_modified:
        pytest.skip("the second crawl fetched the home page in full (no conditional GET)")
    response = replay_client.get(web(replay_archive, timestamp14(not_modified[0].timestamp), "/"),
                                 follow_redirects=True)
    assert response.status_code == 200
    assert STORY in response.text


# --- rewriting ---------------------------------------------------------------------------
def test_every_reference_of_the_page_points_into_the_archive(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    response = replay_client.get(web(replay_archive, replay_archive.first, STORY))
    assert response.status_code == 200
    page = re.sub(r'<div id="newsarchive-banner".*?</script>', "", response.text, flags=re.DOTALL)
    values = [value for attribute in URL_ATTRIBUTES for value in lxml_html.fromstring(page).xpath(f"//@{attribute}")]
    values += re.findall(r"url\(\s*(?:&quot;|['\"])?([^'\")&]+)", page)
    urls = [part.split()[0] for value in values for part in value.split(", ")
            if part.strip() and not part.startswith(("#", "data:")) and ("/" in part or "." in part)]
    assert len(urls) > 15
    assert all(url.startswith(f"/web/{replay_archive.first}") for url in urls), urls
    # no original URL left outside a replay path, on the site's host or the CDN's
    for origin in (replay_archive.site.base_url, replay_archive.site.cdn_url, "https://elsewhere.example"):
        for match in re.finditer(re.escape(origin), page):
            assert re.search(rf"/web/{replay_archive.first}([a-z]{{2}}_)?/$", page[:match.start()]), (
                page[match.start() - 40: match.end() + 20])


def test_references_carry_what_they_are_loaded_as(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    text = replay_client.get(web(replay_archive, replay_archive.first, STORY)).text
    for path, modifier in (("/static/main.css", "cs_"), ("/static/app.js", "js_"), ("/media/lead.png", "im_"),
                           ("/media/lead-2x.png", "im_"), ("/static/fonts/body.woff2", "oe_"),
                           ("/media/poster.png", "im_"), ("/media/lazy.png", "im_"),
                           ("/media/inline-style.png", "oe_"), (CHANGING, "")):
        assert web(replay_archive, replay_archive.first, path, modifier) in text
    assert web(replay_archive, replay_archive.first, replay_archive.site.cdn_url + "/cdn/photo.png", "im_") in text
    assert web(replay_archive, replay_archive.first, "https://elsewhere.example/news") in text
    assert '_crossorigin' in text and " crossorigin" not in text


def test_stylesheets_and_their_imports_are_rewritten(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    ts = replay_archive.first
    main = replay_client.get(web(replay_archive, ts, "/static/main.css", "cs_"))
    assert main.headers["content-type"].startswith("text/css")
    assert "content-encoding" not in main.headers  # decoded to be rewritten
    assert f'@import url("{web(replay_archive, ts, "/static/base.css", "cs_")}")' in main.text
    assert f'url("{web(replay_archive, ts, "/static/fonts/body.woff2", "oe_")}")' in main.text
    assert f"url({web(replay_archive, ts, '/media/bg.png', 'oe_')})" in main.text
    base = replay_client.get(web(replay_archive, ts, "/static/base.css", "cs_"))
    assert f"@import '{web(replay_archive, ts, '/static/deep.css', 'cs_')}'" in base.text


def test_meta_refresh_is_rewritten(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    response = replay_client.get(web(replay_archive, replay_archive.first, REFRESH), follow_redirects=True)
    assert re.search(rf'content="0; url=/web/\d{{14}}/{re.escape(replay_archive.url(STORY))}"', response.text)


def test_everything_the_page_and_its_stylesheets_load_is_archived(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    """Crawl and replay agree on the page requisites: each one replays from the archive."""
    ts = replay_archive.first
    page = replay_client.get(web(replay_archive, ts, STORY, "id_")).content.decode("utf-8")
    pending, seen = embedded_urls(page, replay_archive.url(STORY)), set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = replay_client.get(web(replay_archive, ts, url, "id_"))
        assert response.status_code == 200, url
        if response.headers["content-type"].startswith("text/css"):
            pending += css_urls(response.text, url)
    expected = {replay_archive.url(path) for path in IMAGES if not path.startswith("/cdn/")}
    expected |= {replay_archive.site.cdn_url + "/cdn/photo.png", replay_archive.url(COPY_OF_LEAD)}
    expected -= {replay_archive.url("/media/lead-2x.png")} - seen  # only through srcset
    assert expected <= seen
    assert {replay_archive.url(f"/static/{name}.css") for name in ("main", "base", "deep")} <= seen


def test_a_page_in_another_charset_keeps_its_bytes(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    response = replay_client.get(web(replay_archive, replay_archive.first, LATIN1), follow_redirects=True)
    assert response.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert "Le caf\xe9 du port".encode("latin-1") in response.content
    assert f'src="/web/{replay_archive.first}im_/'.encode() in response.content


# --- raw mode, redirects, revisits ------------------------------------------------------
def test_id_mode_is_the_archived_payload_byte_for_byte(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    for path, encoding in ((STORY, "gzip"), ("/media/pic-wide.png", None)):
        response, body = raw_body(replay_client, web(replay_archive, replay_archive.first, path, "id_"),
                                  accept_encoding="gzip, deflate")
        assert response.status_code == 200
        assert body == stored_payload(replay_archive, path)
        assert response.headers.get("content-encoding") == encoding
    # a client that does not take gzip gets it decoded, otherwise unchanged
    response, body = raw_body(replay_client, web(replay_archive, replay_archive.first, STORY, "id_"),
                              accept_encoding="identity")
    assert "content-encoding" not in response.headers
    assert STORY_MARKER.encode() in body and b"/web/" not in body


def test_redirects_are_replayed_within_the_archive(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    first_redirect = replay_archive.captures(REDIRECT)[0]
    ts = timestamp14(first_redirect.timestamp)
    response = replay_client.get(web(replay_archive, ts, REDIRECT))
    assert response.status_code == 301
    assert response.headers["location"] == web(replay_archive, ts, STORY)
    followed = replay_client.get(response.headers["location"], follow_redirects=True)
    assert followed.status_code == 200 and STORY_MARKER in followed.text


def test_a_revisit_is_served_with_its_originals_payload(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    first, second = replay_archive.captures(STORY)
    assert (first.record_type, second.record_type) == ("response", "revisit")
    response, body = raw_body(replay_client, web(replay_archive, replay_archive.second, STORY, "id_"),
                              accept_encoding="gzip")
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert body == stored_payload(replay_archive, STORY)
    page = replay_client.get(web(replay_archive, replay_archive.second, STORY))
    assert page.status_code == 200 and STORY_MARKER in page.text
    # two URLs with the same image: the first crawl archived it once, the other URL as a revisit of it
    copies = [replay_archive.captures(path)[0] for path in ("/media/lead.png", COPY_OF_LEAD)]
    original, revisit = sorted(copies, key=lambda c: c.record_type != "response")
    assert (original.record_type, revisit.record_type) == ("response", "revisit")
    assert revisit.refers_to_url == original.url != revisit.url
    image = replay_client.get(web(replay_archive, replay_archive.first, revisit.url, "im_"))
    assert image.content == png(*IMAGES["/media/lead.png"])


# --- banner, headers, pages of the replay server ------------------------------------------
def test_the_banner_shows_the_capture_time_and_its_neighbours(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    first = replay_client.get(web(replay_archive, replay_archive.first, STORY)).text
    second = replay_client.get(web(replay_archive, replay_archive.second, STORY)).text
    when = parse_timestamp(replay_archive.first).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert first.count('id="newsarchive-banner"') == 1 and when in first
    assert f'href="{web(replay_archive, replay_archive.second, STORY)}"' in first and "next (" in first
    assert f'href="{web(replay_archive, replay_archive.first, STORY)}"' in second and "previous (" in second
    assert first.index('id="newsarchive-banner"') > first.index("<body>")
    for modifier in ("mp_", "id_"):
        assert "newsarchive-banner" not in replay_client.get(
            web(replay_archive, replay_archive.first, STORY, modifier)).text


def test_archived_headers_cannot_act_and_every_response_is_confined(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    ts = replay_archive.first
    responses = [replay_client.get(url) for url in (
        web(replay_archive, ts, STORY), web(replay_archive, ts, "/static/main.css", "cs_"),
        web(replay_archive, ts, "/media/bg.png", "im_"), web(replay_archive, ts, STORY, "id_"),
        web(replay_archive, "2026", STORY), web(replay_archive, ts, "/no/such/page.html"),
        f"/web/*/{replay_archive.url(STORY)}")]
    for response in responses:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page = responses[0]
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["memento-datetime"].endswith("GMT")
    assert page.headers["link"] == f'<{replay_archive.url(STORY)}>; rel="original"'
    assert "etag" not in page.headers and "x-archive-orig-etag" in page.headers
    assert "last-modified" not in page.headers and "vary" not in page.headers


def test_an_unknown_url_is_a_404_that_offers_the_nearest_captures(
        replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    response = replay_client.get(web(replay_archive, replay_archive.first, "/news/2026/missing.html"))
    assert response.status_code == 404
    assert "not in the archive" in response.text
    assert re.search(rf'href="/web/\d{{14}}/{re.escape(replay_archive.url(STORY))}"', response.text)
    assert f'href="/web/*/{replay_archive.site.base_url}/*"' in response.text
    elsewhere = replay_client.get(web(replay_archive, replay_archive.first, "https://unknown.example/"))
    assert elsewhere.status_code == 404 and "Nothing of this site is archived" in elsewhere.text


def test_malformed_replay_paths_are_400s(replay_client: TestClient) -> None:
    for path in ("/web/2026zz_/http://example.com/", "/web/", "/web/2026/"):
        response = replay_client.get(path)
        assert response.status_code == 400, path
        assert "/web/" in response.text


def test_head_requests(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    response = replay_client.head(web(replay_archive, replay_archive.first, STORY))
    assert response.status_code == 200 and response.content == b""


def test_list_of_captures(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    response = replay_client.get(f"/web/*/{replay_archive.url(STORY)}")
    assert response.status_code == 200
    for ts in (replay_archive.first, replay_archive.second):
        assert f'href="{web(replay_archive, ts, STORY)}"' in response.text
    assert "(revisit)" in response.text
    under = replay_client.get(f"/web/*/{replay_archive.url('/static/')}*")
    assert all(replay_archive.url(f"/static/{name}") in under.text for name in ("main.css", "base.css", "app.js"))
    assert replay_archive.url(STORY) not in under.text


# --- CDX API -------------------------------------------------------------------------------
def cdx(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/cdx", params={"output": "json", **params})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_cdx_api_speaks_pywbs_json_lines(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    rows = cdx(replay_client, url=replay_archive.url(STORY))
    assert [r["timestamp"] for r in rows] == [replay_archive.first, replay_archive.second]
    assert list(rows[0]) == ["urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset",
                             "filename"]
    assert rows[0]["mime"] == "text/html" and rows[1]["mime"] == "warc/revisit"
    assert rows[0]["digest"] == rows[1]["digest"] and rows[0]["status"] == "200"
    capture = replay_archive.captures(STORY)[0]
    assert (rows[0]["offset"], rows[0]["length"], rows[0]["filename"]) == (
        str(capture.warc_offset), str(capture.warc_length), capture.warc_file)
    plain = replay_client.get("/cdx", params={"url": replay_archive.url(STORY)})
    assert plain.text == "".join(cdxj_line(capture_info(c)) for c in replay_archive.captures(STORY))


def test_cdx_match_types_and_filters(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    static = cdx(replay_client, url=replay_archive.url("/static/"), matchType="prefix")
    assert {Path(r["url"]).name for r in static} == {"main.css", "base.css", "deep.css", "app.js", "body.woff2"}
    assert cdx(replay_client, url=replay_archive.url("/static/*")) == static
    keys = [(r["urlkey"], r["timestamp"]) for r in static]
    assert keys == sorted(keys)
    host = cdx(replay_client, url=replay_archive.site.base_url, matchType="host")
    assert replay_archive.url(STORY) in {r["url"] for r in host}
    assert not any(r["url"].startswith(replay_archive.site.cdn_url) for r in host)
    assert len(cdx(replay_client, url=replay_archive.url("/static/"), matchType="prefix", limit="3")) == 3
    newest = cdx(replay_client, url=replay_archive.url(STORY), sort="reverse")
    assert [r["timestamp"] for r in newest] == [replay_archive.second, replay_archive.first]
    assert [r["timestamp"] for r in cdx(replay_client, url=replay_archive.url(STORY), **{"from": replay_archive.second})] == [
        replay_archive.second]
    assert [r["timestamp"] for r in cdx(replay_client, url=replay_archive.url(STORY), to=replay_archive.first)] == [
        replay_archive.first]
    assert cdx(replay_client, url=replay_archive.url(STORY), fl="timestamp,status")[0] == {
        "timestamp": replay_archive.first, "status": "200"}


def test_cdx_bad_parameters_are_400s(replay_client: TestClient, replay_archive: ReplayArchive) -> None:
    for params in ({}, {"url": replay_archive.url(STORY), "matchType": "everything"},
                   {"url": replay_archive.url(STORY), "limit": "many"},
                   {"url": replay_archive.url(STORY), "from": "yesterday"}):
        response = replay_client.get("/cdx", params=params)
        assert response.status_code == 400
        assert response.text.strip()
