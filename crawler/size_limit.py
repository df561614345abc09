"""Extension that cuts an over-long response at ``DOWNLOAD_MAXSIZE`` instead of dropping it.

Scrapy cancels a download whose body passes ``DOWNLOAD_MAXSIZE`` (before the body when
Content-Length announces it) and the spider sees an error: nothing is archived. An
archive wants what it received, marked as incomplete. So this extension stops the
download at the limit itself (``StopDownload(fail=False)`` from ``bytes_received``): the
response goes on with the bytes received so far and Scrapy's ``download_stopped`` flag,
the WARC capture writes it with ``WARC-Truncated: length`` and the spider archives it but
neither parses nor catalogues it (:func:`is_truncated`). Each cut counts as the error kind
``truncated``.

For a body announced longer than the limit, Scrapy's own check is lifted for that request
(``meta["download_maxsize"] = 0``) and put back when it leaves the downloader, before
decompression (and before a retry copies its meta):
HttpCompressionMiddleware applies the same limit to the decoded body (gzip and brotli
bombs), and that limit still drops the response.
"""

from __future__ import annotations

import logging
from weakref import WeakKeyDictionary

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Headers, Response
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

STOPPED_FLAG = "download_stopped"  # Scrapy's flag; this extension is the crawler's only StopDownload


def is_truncated(response: Response) -> bool:
    """Whether the response's body was cut at the size limit."""
    return STOPPED_FLAG in response.flags


class DownloadSizeLimit:
    def __init__(self, limit: int, stats: StatsCollector) -> None:
        self.limit = limit
        self.stats = stats
        self.received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        self.lifted: WeakKeyDictionary[Request, object] = WeakKeyDictionary()  # request -> its own meta value

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadSizeLimit:
        limit = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if not limit:
            raise NotConfigured("DOWNLOAD_MAXSIZE is 0: no size limit to apply")
        extension = cls(limit, crawler.stats)
        crawler.signals.connect(extension.headers_received, signal=signals.headers_received)
        crawler.signals.connect(extension.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(extension.request_left_downloader, signal=signals.request_left_downloader)
        return extension

    def headers_received(self, headers: Headers, body_length: object, request: Request, spider: Spider) -> None:
        if isinstance(body_length, int) and body_length > self.limit:
            self.lifted[request] = request.meta.get("download_maxsize")
            request.meta["download_maxsize"] = 0  # the body is cut in bytes_received instead

    def bytes_received(self, data: bytes, request: Request, spider: Spider) -> None:
        received = self.received.get(request, 0) + len(data)
        self.received[request] = received
        if received > self.limit:
            self._restore(request)
            self.stats.inc_value("newsarchive/errors/truncated")
            logger.warning("Cut at %d bytes (DOWNLOAD_MAXSIZE), archived as truncated: %s",
                           received, request.url)
            raise StopDownload(fail=False)

    def request_left_downloader(self, request: Request, spider: Spider) -> None:
        """Downloaded or failed: the limit is back before decompression, or a retry's copy of the meta."""
        self.received.pop(request, None)
        self._restore(request)

    def _restore(self, request: Request) -> None:
        if request in self.lifted:
            own = self.lifted.pop(request)
            if own is None:
                request.meta.pop("download_maxsize", None)
            else:
                request.meta["download_maxsize"] = own
