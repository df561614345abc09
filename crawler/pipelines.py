"""Item pipeline: article pages to extracted, deduplicated catalogue entries.

trafilatura is CPU-bound, so extraction (and the text fingerprints dedup needs) runs in a
process pool, one worker per core by default, while the reactor keeps downloading; the
catalogue write that follows is a short transaction on the reactor thread.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from archive.catalogue.store import Catalogue
from archive.catalogue.dedup import Fingerprint
from archive.extract.article import Extracted, extract_article
from crawler.context import crawl_context


WARM_UP_PAGE = (b"<html lang=en><body><article><p>" + b"A short warm-up paragraph for the extractor. " * 8
                + b"</p></article></body></html>")


def _warm_up() -> None:
    """Load trafilatura and the language model once per worker, not on the first article."""
    extract_article(WARM_UP_PAGE, "http://localhost/warm-up", "text/html; charset=utf-8")


def extract_with_fingerprint(body: bytes, url: str, content_type: str | None) -> tuple[Extracted, Fingerprint] | None:
    """Runs in a worker: the CPU-heavy part of cataloguing, extraction and text fingerprints."""
    extracted = extract_article(body, url, content_type)
    if extracted is None or not extracted.text:
        return None
    return extracted, Fingerprint.of(extracted.text)


class ArticlePipeline:
    def __init__(self, catalogue: Catalogue, source: str, stats: StatsCollector, workers: int) -> None:
        self.catalogue = catalogue
        self.source = source
        self.stats = stats
        # spawn, not fork: forking a process that runs a reactor and threads is unsafe.
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_warm_up)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        context = crawl_context(crawler)
        workers = crawler.settings.getint("NEWSARCHIVE_EXTRACT_WORKERS") or os.cpu_count() or 1
        pipeline = cls(context.catalogue, context.source.name, crawler.stats, workers)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        future = self.pool.submit(extract_with_fingerprint, item["body"], item["url"], item["content_type"])
        result = await asyncio.wrap_future(future)
        if result is None:
            self.stats.inc_value("newsarchive/articles_not_extracted")
            return {"url": item["url"], "status": "not-article"}
        extracted, fingerprint = result
        outcome = self.catalogue.record_article(
            self.source, item["url"], extracted, capture_id=item["capture_id"], seen=item["fetched"],
            fingerprint=fingerprint,
        )
        self.stats.inc_value(f"newsarchive/articles_{outcome.status}")
        return {"url": item["url"], "status": outcome.status, "article_id": outcome.article_id}

    def spider_closed(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
