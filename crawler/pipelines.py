"""Item pipeline: article pages to extracted, deduplicated catalogue entries.

trafilatura is CPU-bound, so extraction runs in a process pool (one worker per core by
default) while the reactor keeps downloading; the catalogue write that follows is a
short transaction on the reactor thread.
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

from archive.catalogue import Catalogue
from archive.extract import extract_article
from crawler.context import crawl_context


def _warm_up() -> None:
    """Import trafilatura once per worker, not on the first article."""
    import trafilatura  # noqa: F401


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
        future = self.pool.submit(extract_article, item["body"], item["url"], item["content_type"])
        extracted = await asyncio.wrap_future(future)
        if extracted is None or not extracted.text:
            self.stats.inc_value("newsarchive/articles_not_extracted")
            return {"url": item["url"], "status": "not-article"}
        outcome = self.catalogue.record_article(
            self.source, item["url"], extracted, capture_id=item["capture_id"], seen=item["fetched"]
        )
        self.stats.inc_value(f"newsarchive/articles_{outcome.status}")
        return {"url": item["url"], "status": outcome.status, "article_id": outcome.article_id}

    def spider_closed(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
