"""Downloader middleware that archives every HTTP exchange of a crawl in WARC files.

It sits nearest the network (see ``DOWNLOADER_MIDDLEWARES``), so it sees robots.txt,
feeds, sitemaps, redirects, retries, error statuses and page requisites, each as the
server sent it: body still content-encoded, before Scrapy decompresses it. Each
exchange is also indexed in the catalogue's captures table, through the crawl's catalogue
writer (``archive/catalogue/writer.py``: queued, written in batches off the reactor), and
the capture is put on ``request.meta["capture"]`` for the spider and pipelines.

It writes through the crawl's WARC writer (``CrawlContext.warc``); the run recorder
finishes the file when the spider closes, before it records the run. Archiving that fails
(a full disk or quota, under the WARC files or the catalogue; a read-only or vanished file
system) stops the crawl at once: what cannot be archived is not worth fetching; so does a
capture row that cannot be written. The WARC writer has cut its file back to the last
whole exchange; no new request is sent, responses to those already handed to the
downloader are dropped unarchived (``IgnoreRequest``), and the run is recorded ``failed``
with a message naming the condition and the file.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor

from archive.catalogue.database import is_disk_full
from archive.catalogue.writer import CatalogueWriter
from archive.warc.records import CaptureInfo
from archive.warc.writer import WarcWriter
from crawler.context import crawl_context
from crawler.run_record import FAILURE
from crawler.size_limit import is_truncated

logger = logging.getLogger(__name__)

CLOSE_REASON = "archive-write-failed"  # the spider's close reason when archiving fails
_FULL = (errno.ENOSPC, errno.EDQUOT)


def _header_pairs(headers) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Scrapy's bytes headers as (name, value) text pairs, repeated headers kept."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


class WarcCaptureMiddleware:
    def __init__(self, writer: WarcWriter, catalogue: CatalogueWriter, run_id: int, stats: StatsCollector,
                 stop_crawl: Callable[[str], object]) -> None:
        self.writer = writer
        self.catalogue = catalogue
        catalogue.on_failure = self._capture_failed
        self.run_id = run_id
        self.stats = stats
        self.stop_crawl = stop_crawl  # called once, with the close reason, when archiving fails
        self.failure: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        context = crawl_context(crawler)

        def stop_crawl(reason: str) -> object:
            assert crawler.engine is not None
            return deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

        return cls(context.warc, context.writer, context.run_id, crawler.stats, stop_crawl)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if self.failure:
            raise IgnoreRequest(f"not archived, the crawl is stopping: {self.failure}")
        try:
            info = self._write(request, response)
        except OSError as exc:
            self._stop(_warc_failure(exc))
            raise IgnoreRequest(f"not archived: {self.failure}") from exc
        capture = self.catalogue.add_capture(
            self.run_id, info,
            etag=_text(response.headers.get("ETag")),
            last_modified=_text(response.headers.get("Last-Modified")),
        )
        request.meta["capture"] = {"row": capture, "warc_file": info.warc_file,
                                   "offset": info.offset, "timestamp": info.timestamp}
        self.stats.inc_value("newsarchive/responses")
        self.stats.inc_value("newsarchive/bytes", len(response.body))
        self.stats.inc_value(f"newsarchive/warc_records/{info.record_type}")
        self.stats.set_value("newsarchive/warc_files", self.writer.files)
        return response

    def _write(self, request: Request, response: Response) -> CaptureInfo:
        request_headers = _header_pairs(request.headers)
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", urlsplit(request.url).netloc))
        return self.writer.write_exchange(
            url=request.url,
            method=request.method,
            request_headers=request_headers,
            request_body=request.body,
            protocol=response.protocol or "HTTP/1.1",
            status=response.status,
            reason="",  # Scrapy does not keep the server's phrase: the writer puts the standard one
            response_headers=_header_pairs(response.headers),
            payload=response.body,
            ip=str(response.ip_address) if response.ip_address else None,
            truncated="length" if is_truncated(response) else None,
        )

    def _capture_failed(self, error: BaseException) -> None:
        """On the catalogue writer's thread: a capture row could not be written."""
        where = self.catalogue.location
        if is_disk_full(error):
            failure = (f"disk full writing the catalogue {where}: crawl stopped, its WARC files kept whole; "
                       "free space, then crawl again")
        else:
            failure = f"cannot write the catalogue {where} ({error}): crawl stopped"
        self.stats.set_value(FAILURE, self.stats.get_value(FAILURE) or failure)  # the run's record says so
        reactor.callFromThread(self._stop, failure)

    def _stop(self, failure: str) -> None:
        """Archiving failed: say why, once, and close the spider."""
        if self.failure:
            return
        self.failure = failure
        self.stats.set_value(FAILURE, self.stats.get_value(FAILURE) or failure)
        logger.error("%s", failure)
        self.stop_crawl(CLOSE_REASON)


def _warc_failure(error: OSError) -> str:
    """What a failed WARC write means for the crawl, naming the file (the writer sets ``filename``)."""
    path = Path(error.filename).absolute() if error.filename else None
    where = f" {path}" if path else ""
    if error.errno in _FULL:
        return (f"disk full writing{where} ({error.strerror}): crawl stopped, every record before kept whole; "
                f"free space{f' in {path.parent}' if path else ''}, then crawl again")
    return f"cannot write WARC file{where} ({error.strerror or error}): crawl stopped"


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None
