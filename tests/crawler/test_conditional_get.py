"""Conditional GET: validators from the catalogue, a 304 answered with the page as archived.

The middleware is built directly on a real catalogue (SQLite and PostgreSQL) and real WARC
files; no request leaves the process.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import Response, TextResponse
from scrapy.utils.test import get_crawler

from archive.catalogue.captures import Validators
from archive.catalogue.store import Catalogue
from archive.warc.reader import read_capture
from archive.warc.writer import WarcWriter
from crawler.conditional_get import ConditionalGetMiddleware

FEED = "http://127.0.0.1:9/rss.xml"
FEED_XML = b'<?xml version="1.0"?><rss version="2.0"><channel><item><link>http://127.0.0.1:9/a.html</link></item></channel></rss>'
ETAG = '"feed-v1-gzip"'
LAST_MODIFIED = "Sat, 28 Nov 2026 10:00:00 GMT"


@pytest.fixture
def catalogue(catalogue_url: str) -> Iterator[Catalogue]:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


def archive_feed(catalogue: Catalogue, warc_dir: Path, times: int = 1) -> None:
    """The feed fetched ``times`` times, gzip-encoded as servers send it: a response, then revisits."""
    run_id = catalogue.start_run("news", host="crawler-1")
    headers = [("Content-Type", "application/rss+xml"), ("Content-Encoding", "gzip"), ("ETag", ETAG),
               ("Last-Modified", LAST_MODIFIED)]
    with WarcWriter(warc_dir, "news", revisit_lookup=catalogue.revisit_target) as writer:
        for _ in range(times):
            info = writer.write_exchange(url=FEED, method="GET", request_headers=[("Host", "127.0.0.1:9")],
                                         request_body=b"", protocol="HTTP/1.1", status=200, reason="",
                                         response_headers=headers, payload=gzip.compress(FEED_XML, mtime=0))
            catalogue.add_capture(run_id, info, etag=ETAG, last_modified=LAST_MODIFIED)


def test_latest_validators_point_at_the_stored_body_even_through_a_revisit(catalogue: Catalogue,
                                                                          tmp_path: Path) -> None:
    assert catalogue.latest_validators(FEED) is None
    archive_feed(catalogue, tmp_path, times=2)  # the second capture is a revisit of the first
    validators = catalogue.latest_validators(FEED)
    assert validators is not None
    assert (validators.etag, validators.last_modified) == (ETAG, LAST_MODIFIED)
    stored = read_capture(tmp_path / validators.warc_file, validators.warc_offset)
    assert (stored.record_type, gzip.decompress(stored.payload)) == ("response", FEED_XML)
    assert catalogue.latest_validators(FEED + "?page=2") is None


def middleware(catalogue: Catalogue, warc_dir: Path) -> tuple[ConditionalGetMiddleware, Crawler]:
    crawler = get_crawler()
    crawler.stats.open_spider()
    return ConditionalGetMiddleware(catalogue, warc_dir, crawler.stats), crawler


def test_a_navigation_request_is_made_conditional(catalogue: Catalogue, tmp_path: Path) -> None:
    archive_feed(catalogue, tmp_path)
    conditional_get, _ = middleware(catalogue, tmp_path)
    request = Request(FEED, meta={"conditional": True})
    conditional_get.process_request(request)
    assert request.headers[b"If-None-Match"] == ETAG.encode()
    assert request.headers[b"If-Modified-Since"] == LAST_MODIFIED.encode()
    assert request.meta["handle_httpstatus_list"] == [304]  # the 304 reaches the spider

    article = Request(FEED)  # not marked: fetched in full
    conditional_get.process_request(article)
    assert b"If-None-Match" not in article.headers


def test_a_304_comes_back_with_the_archived_page(catalogue: Catalogue, tmp_path: Path) -> None:
    archive_feed(catalogue, tmp_path)
    conditional_get, crawler = middleware(catalogue, tmp_path)
    request = Request(FEED, meta={"conditional": True})
    conditional_get.process_request(request)
    not_modified = Response(FEED, status=304, headers={"ETag": ETAG}, request=request)

    response = conditional_get.process_response(request, not_modified)
    assert response.status == 304 and "not_modified" in response.flags
    assert response.headers[b"Content-Encoding"] == b"gzip"  # as archived: decompression comes next
    decoded = HttpCompressionMiddleware.from_crawler(crawler).process_response(request, response)
    assert isinstance(decoded, TextResponse) and decoded.body == FEED_XML
    assert decoded.xpath("//item/link/text()").get() == "http://127.0.0.1:9/a.html"
    assert crawler.stats.get_value("newsarchive/not_modified") == 1


def test_an_unreadable_archived_page_is_fetched_again_in_full(catalogue: Catalogue, tmp_path: Path) -> None:
    archive_feed(catalogue, tmp_path)
    conditional_get, _ = middleware(catalogue, tmp_path)
    request = Request(FEED, meta={"conditional": True})
    conditional_get.process_request(request)
    validators: Validators = request.meta["previous_capture"]
    (tmp_path / validators.warc_file).unlink()  # moved away since the request went out

    again = conditional_get.process_response(request, Response(FEED, status=304, request=request))
    assert isinstance(again, Request) and again.dont_filter and not again.meta["conditional"]
    conditional_get.process_request(again)
    assert b"If-None-Match" not in again.headers
