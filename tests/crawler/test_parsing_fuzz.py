"""Fuzzing the spider's feed and sitemap parsing (crawler/feeds.py, crawler/sitemaps.py).

Whatever bytes a server sends as a feed or a sitemap, parsing returns links, never an
exception, and every link is an absolute http(s) URL. Generated documents are real
feeds and sitemaps with hostile fields; random bytes stand for everything else.
"""

from __future__ import annotations

import gzip
import json
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.feeds import feed_entries, newest_first
from crawler.sitemaps import sitemap_links

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = "http://news.example/feed"
CONTENT_TYPES = st.sampled_from([None, "application/rss+xml", "application/atom+xml", "application/feed+json",
                                 "application/json", "text/xml; charset=utf-8", "text/html"])

link = st.one_of(
    st.sampled_from(["http://news.example/a", "/relative/b", "https://other.example/c?x=1", "javascript:alert(1)",
                     "ftp://news.example/d", "mailto:a@b", "http://[::1", "http://news.example:99999/", "", "  ",
                     "tag:news.example,2026:1", "urn:uuid:1234", "48213", "//news.example/e"]),
    st.text(max_size=30),
)
date = st.one_of(st.none(), st.text(max_size=25),
                 st.sampled_from(["Fri, 20 Nov 2026 09:00:00 GMT", "2026-11-20T08:00:00Z", "2026-11-20",
                                  "2026-11-20T08:00:00+25:00", "Mon, 99 Foo 2026", "0000-00-00T00:00:00",
                                  "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]))


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check(entries: list) -> None:  # type: ignore[type-arg]
    assert all(_is_http(e.url) for e in entries)
    assert len({e.url for e in entries}) == len(entries)
    newest_first(entries)  # dates of any zone compare


@st.composite
def rss(draw: st.DrawFn) -> bytes:
    items = []
    for _ in range(draw(st.integers(0, 4))):
        parts = [f"<link>{escape(draw(link))}</link>"] if draw(st.booleans()) else []
        if draw(st.booleans()):
            flag = draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"', ' isPermaLink="FALSE"']))
            parts.append(f"<guid{flag}>{escape(draw(link))}</guid>")
        if (d := draw(date)) is not None:
            parts.append(f"<pubDate>{escape(d)}</pubDate>")
        items.append("<item>" + "".join(parts) + "</item>")
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{"".join(items)}</channel></rss>'.encode()


@st.composite
def atom(draw: st.DrawFn) -> bytes:
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        rel = draw(st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="enclosure"']))
        published = draw(date)
        entries.append(f"<entry><link{rel} href={quoteattr(draw(link))}/>"
                       + (f"<updated>{escape(published)}</updated>" if published is not None else "") + "</entry>")
    return f'<feed xmlns="http://www.w3.org/2005/Atom">{"".join(entries)}</feed>'.encode()


json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), link),
                          lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                  st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                          max_leaves=10)


@st.composite
def json_feed(draw: st.DrawFn) -> bytes:
    items = draw(st.one_of(
        st.lists(st.fixed_dictionaries({}, optional={"url": st.one_of(link, json_value),
                                                      "date_published": st.one_of(date, json_value),
                                                      "external_url": link}), max_size=4),
        json_value))
    version = draw(st.sampled_from(["https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1", "2"]))
    return json.dumps({"version": version, "items": items}).encode()


@FUZZ
@given(st.one_of(rss(), atom(), json_feed()), CONTENT_TYPES)
def test_generated_feeds_give_only_http_links(body: bytes, content_type: str | None) -> None:
    _check(feed_entries(body, BASE, content_type))


@FUZZ
@given(st.binary(max_size=2000), CONTENT_TYPES)
def test_any_bytes_as_a_feed_give_only_http_links(body: bytes, content_type: str | None) -> None:
    _check(feed_entries(body, BASE, content_type))


def test_rss_guid_is_a_link_only_when_a_permalink_url() -> None:
    body = (b'<rss><channel><item><guid isPermaLink="false">http://news.example/opaque</guid></item>'
            b"<item><guid>48213</guid></item><item><guid>http://news.example/permalink</guid></item>"
            b'<item><guid isPermaLink="true">/relative-is-not-a-permalink</guid></item></channel></rss>')
    assert [e.url for e in feed_entries(body, BASE)] == ["http://news.example/permalink"]


def test_json_feed_items_by_url_with_their_dates_newest_first() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "url": "http://news.example/old", "date_published": "2026-11-01T08:00:00+01:00"},
        {"id": "2", "external_url": "http://elsewhere.example/commented"},
        {"id": "3", "url": "http://news.example/undated"},
        {"id": "4", "url": "http://news.example/new", "date_published": "2026-11-20T08:00:00Z"},
    ]}).encode()
    entries = newest_first(feed_entries(body, BASE, "application/feed+json"))
    assert [e.url for e in entries] == ["http://news.example/new", "http://news.example/old",
                                        "http://news.example/undated"]


@st.composite
def sitemap(draw: st.DrawFn) -> bytes:
    kind, child = draw(st.sampled_from([("urlset", "url"), ("sitemapindex", "sitemap")]))
    entries = "".join(f"<{child}><loc>{escape(draw(link))}</loc></{child}>" for _ in range(draw(st.integers(0, 5))))
    document = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<{kind} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{kind}>').encode()
    cut = draw(st.one_of(st.none(), st.integers(0, len(document))))  # broken off mid-way, like a reset
    document = document if cut is None else document[:cut]
    return gzip.compress(document) if draw(st.booleans()) else document


@FUZZ
@given(st.one_of(sitemap(), st.binary(max_size=2000)))
def test_sitemaps_give_only_http_links_whatever_the_bytes(body: bytes) -> None:
    links = sitemap_links(body, "http://news.example/sitemap.xml", max_size=1_000_000)
    assert links.kind in ("", "urlset", "sitemapindex")
    assert all(_is_http(url) for url in links.urls)
    assert links.kind or not links.urls


def test_sitemap_gzip_bomb_is_refused_at_max_size() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    assert sitemap_links(bomb, "http://news.example/sitemap.xml.gz", max_size=1_000_000).urls == []
