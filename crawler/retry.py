"""Retries with exponential backoff: a struggling news server gets time to recover.

Scrapy's RetryMiddleware re-queues a failed request at once; this one waits first,
``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds before the n-th retry (capped at
``RETRY_BACKOFF_MAX``), or as long as the server's ``Retry-After`` asks when that is
longer.

The wait holds nothing: the failed request ends (with :class:`RetryLater`, which the
spider's errback ignores), and its retry is handed to the engine's scheduler by a timer
when the wait is over. Waiting inside the middleware instead (a sleep in
``process_response``) keeps the request among the downloader's active ones, so a host
answering 503 to many requests at once fills ``CONCURRENT_REQUESTS`` and stalls every
other host of the crawl. While retries wait, the spider is kept open (``spider_idle``);
retries still waiting when the crawl closes for another reason (``max_pages`` reached,
a signal) are counted as ``newsarchive/dropped/retry_pending_at_close``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.internet.base import DelayedCall

logger = logging.getLogger(__name__)


def backoff_delay(retry: int, base: float, cap: float, retry_after: str | None = None) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first)."""
    delay = base * 2 ** (retry - 1)
    if retry_after:
        delay = max(delay, _retry_after_seconds(retry_after))
    return min(delay, cap)


def _retry_after_seconds(value: str) -> float:
    """Retry-After is delta-seconds or an HTTP date; unparseable means no opinion."""
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class RetryLater(IgnoreRequest):
    """This attempt is over; its retry is scheduled after ``delay`` seconds."""

    def __init__(self, url: str, delay: float) -> None:
        super().__init__(f"retrying {url} in {delay:.1f} s")
        self.delay = delay


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")
        self.waiting: dict[int, DelayedCall] = {}  # id of the retry request -> its timer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        crawler.signals.connect(middleware.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            retry_after = response.headers.get("Retry-After")
            raise self._later(result, retry_after.decode("latin-1") if retry_after else None)
        return result

    def process_exception(self, request: Request, exception: Exception,
                          spider: Spider | None = None) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            raise self._later(result, None)
        return result

    def _later(self, retry: Request, retry_after: str | None) -> RetryLater:
        """Schedule ``retry`` after its backoff; what ends this attempt."""
        from twisted.internet import reactor  # the running one

        delay = backoff_delay(retry.meta["retry_times"], self.base, self.cap, retry_after)
        self.waiting[id(retry)] = reactor.callLater(delay, self._release, retry)  # type: ignore[attr-defined]
        return RetryLater(retry.url, delay)

    def _release(self, retry: Request) -> None:
        self.waiting.pop(id(retry), None)
        self.crawler.engine.crawl(retry)

    def spider_idle(self) -> None:
        if self.waiting:
            raise DontCloseSpider

    def spider_closed(self) -> None:
        for call in self.waiting.values():
            if call.active():
                call.cancel()
        if self.waiting:
            self.crawler.stats.inc_value("newsarchive/dropped/retry_pending_at_close", len(self.waiting))
            logger.info("%d retries were still waiting when the crawl closed", len(self.waiting))
        self.waiting.clear()
