"""Retries with exponential backoff: a struggling news server gets time to recover.

Scrapy's RetryMiddleware re-queues a failed request at once; this one waits first,
``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds before the n-th retry (capped at
``RETRY_BACKOFF_MAX``), or as long as the server's ``Retry-After`` asks when that is
longer. The wait is asynchronous: other requests go on meanwhile.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import BaseSettings


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
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")

    async def process_response(self, request: Request, response: Response,
                               spider: Spider | None = None) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            retry_after = response.headers.get("Retry-After")
            await asyncio.sleep(backoff_delay(result.meta["retry_times"], self.base, self.cap,
                                              retry_after.decode("latin-1") if retry_after else None))
        return result

    async def process_exception(self, request: Request, exception: Exception,
                                spider: Spider | None = None) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(backoff_delay(result.meta["retry_times"], self.base, self.cap))
        return result
