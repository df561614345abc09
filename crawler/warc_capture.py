"""Downloader middleware that archives every HTTP exchange of a crawl in WARC files.

It sits nearest the network (see ``DOWNLOADER_MIDDLEWARES``), so it sees robots.txt,
feeds, sitemaps, redirects, retries, error statuses and page requisites, each as the
server sent it: body still content-encoded, before Scrapy decompresses it. Each
exchange is also indexed in the catalogue's captures table, and the capture is put on
``request.meta["capture"]`` for the spider and pipelines.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from archive.catalogue import Catalogue
from archive.warc import WarcWriter
from crawler.context import crawl_context
from crawler.size_limit import is_truncated


def _header_pairs(headers) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Scrapy's bytes headers as (name, value) text pairs, repeated headers kept."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


class WarcCaptureMiddleware:
    def __init__(self, writer: WarcWriter, catalogue: Catalogue, run_id: int, stats: StatsCollector) -> None:
        self.writer = writer
        self.catalogue = catalogue
        self.run_id = run_id
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        context = crawl_context(crawler)
        writer = WarcWriter(
            context.settings.warc_dir,
            prefix=context.source.name,
            max_size=context.settings.warc_max_size,
            software=crawler.settings.get("USER_AGENT"),
            revisit_lookup=context.catalogue.revisit_target,
        )
        middleware = cls(writer, context.catalogue, context.run_id, crawler.stats)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        request_headers = _header_pairs(request.headers)
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", urlsplit(request.url).netloc))
        info = self.writer.write_exchange(
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
        capture_id = self.catalogue.add_capture(
            self.run_id, info,
            etag=_text(response.headers.get("ETag")),
            last_modified=_text(response.headers.get("Last-Modified")),
        )
        request.meta["capture"] = {"id": capture_id, "warc_file": info.warc_file,
                                   "offset": info.offset, "timestamp": info.timestamp}
        self.stats.inc_value("newsarchive/responses")
        self.stats.inc_value("newsarchive/bytes", len(response.body))
        self.stats.inc_value(f"newsarchive/warc_records/{info.record_type}")
        self.stats.set_value("newsarchive/warc_files", self.writer.files)
        return response

    def spider_closed(self) -> None:
        self.writer.close()
        self.stats.set_value("newsarchive/warc_files", self.writer.files)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None
