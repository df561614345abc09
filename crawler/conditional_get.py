"""Downloader middleware: conditional GET of feeds, sitemaps, section pages and robots.txt.

A recrawl asks the server whether those pages changed since the last capture
(``If-None-Match`` / ``If-Modified-Since``, from the ETag and Last-Modified the catalogue
kept), so an unchanged feed costs a 304 instead of its body. The WARC capture middleware,
nearer the network, archives the 304 exchange as it is; this middleware then hands the
spider the page as last archived, read back from its WARC record, so links that only an
unchanged page carries (a sitemap index's sitemaps, a home page's sections, robots.txt's
``Sitemap:`` lines) are still followed. When that record cannot be read, the page is
fetched again without validators.

Only requests whose ``meta["conditional"]`` is true take part: the spider marks its
navigation requests; articles and page requisites are fetched in full. robots.txt, which
Scrapy's RobotsTxtMiddleware requests, takes part unless marked false.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.statscollectors import StatsCollector

from archive.catalogue.captures import Validators
from archive.catalogue.store import Catalogue
from archive.warc.reader import read_capture
from archive.warc.records import WarcFormatError
from archive.warc.files import resolve
from crawler.context import crawl_context

logger = logging.getLogger(__name__)

VALIDATOR_HEADERS = (b"If-None-Match", b"If-Modified-Since")


class ConditionalGetMiddleware:
    def __init__(self, catalogue: Catalogue, warc_dir: Path, stats: StatsCollector) -> None:
        self.catalogue = catalogue
        self.warc_dir = Path(warc_dir)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        context = crawl_context(crawler)
        return cls(context.catalogue, context.settings.warc_dir, crawler.stats)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not request.meta.get("conditional", urlsplit(request.url).path == "/robots.txt"):
            return
        _drop_validators(request)  # a redirect's or retry's copy carries the first URL's
        previous = self.catalogue.latest_validators(request.url)
        if previous is None or self._warc_path(previous) is None:
            return
        if previous.etag:
            request.headers[b"If-None-Match"] = previous.etag
        if previous.last_modified:
            request.headers[b"If-Modified-Since"] = previous.last_modified
        request.meta["previous_capture"] = previous
        allowed = request.meta.get("handle_httpstatus_list", [])
        if 304 not in allowed:  # past HttpErrorMiddleware, to the callback
            request.meta["handle_httpstatus_list"] = [*allowed, 304]

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        previous: Validators | None = request.meta.get("previous_capture")
        if response.status != 304 or previous is None:
            return response
        self.stats.inc_value("newsarchive/not_modified")
        path = self._warc_path(previous)
        try:
            if path is None:
                raise FileNotFoundError(previous.warc_file)
            stored = read_capture(path, previous.warc_offset)
        except (OSError, WarcFormatError) as exc:
            logger.warning("Not modified, but its last capture cannot be read (%s): fetching %s again",
                           exc, request.url)
            again = request.replace(meta={**request.meta, "conditional": False}, dont_filter=True)
            _drop_validators(again)
            return again
        headers = Headers()
        for name, value in stored.http_headers:
            headers.appendlist(name, value)
        # Still 304, so nobody takes it for a new copy; the body is the archived one, content-encoded
        # as the server sent it: the decompression middleware, farther from the network, decodes it.
        cls = responsetypes.from_args(headers=headers, url=response.url, body=stored.payload)
        return cls(url=response.url, status=304, headers=headers, body=stored.payload, request=request,
                   flags=[*response.flags, "not_modified"], protocol=response.protocol,
                   ip_address=response.ip_address)

    def _warc_path(self, previous: Validators) -> Path | None:
        """The file holding the stored body: finished, or still being written (this very crawl's)."""
        return resolve(self.warc_dir, previous.warc_file)


def _drop_validators(request: Request) -> None:
    for name in VALIDATOR_HEADERS:
        request.headers.pop(name, None)
    request.meta.pop("previous_capture", None)
