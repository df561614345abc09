"""Item pipeline: extracted article pages to deduplicated catalogue entries.

The spider hands over each article page already extracted (in the process's extraction
pool, ``crawler/extraction.py``); what is left for the pipeline is the catalogue write, and
the counting of pages that were not extracted (not an article, a timeout, a failure). A page
that is not an article is remembered as such, so the next crawl does not fetch it again; one
remembered so that now is an article is forgotten. The writes go through the crawl's
catalogue writer (``archive/catalogue/writer.py``), in the transaction of a batch, after the
capture they point at; the pipeline awaits each one, so the run's figures count what was
committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from sqlalchemy.orm import Session

from archive.catalogue.identity import ArticleOutcome
from archive.catalogue.writer import CatalogueWriter, PendingCapture
from archive.config import Source
from crawler.context import crawl_context
from crawler.extraction import PageExtraction

logger = logging.getLogger(__name__)


class ArticlePipeline:
    def __init__(self, writer: CatalogueWriter, source: Source, stats: StatsCollector) -> None:
        self.writer = writer
        self.catalogue = writer.catalogue
        self.source = source.name
        self.home_hosts = tuple(source.domains)  # whose canonical URLs an article may take
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePipeline:
        context = crawl_context(crawler)
        return cls(context.writer, context.source, crawler.stats)

    async def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        if item["capped"]:
            self.stats.inc_value("newsarchive/extract_capped")
        if item["error"]:
            kind, exc = item["error"]
            self.stats.inc_value(f"newsarchive/errors/{kind}")
            logger.warning("%s: %s (%s)", kind, item["url"], exc)
            return {"url": item["url"], "status": kind}
        page: PageExtraction = item["extraction"]
        capture: PendingCapture | None = item["capture"]
        if page.article is None or page.fingerprint is None:
            self.stats.inc_value("newsarchive/articles_not_extracted")

            def remember(session: Session) -> None:
                self.catalogue.record_not_article(
                    self.source, item["article_key"], reason=page.not_article or "too_short",
                    capture_id=capture.id if capture else None, seen=item["fetched"], session=session)

            await asyncio.wrap_future(self.writer.submit(remember))
            return {"url": item["url"], "status": "not-article"}

        def record(session: Session) -> ArticleOutcome:
            outcome = self.catalogue.record_article(
                self.source, item["url"], page.article, capture_id=capture.id if capture else None,
                seen=item["fetched"], fingerprint=page.fingerprint, home_hosts=self.home_hosts,
                linked_url=item.get("linked_url"), session=session)
            if item["was_not_article"]:
                self.catalogue.forget_not_article(self.source, item["article_key"], session=session)
            return outcome

        outcome = await asyncio.wrap_future(self.writer.submit(record))
        self.stats.inc_value(f"newsarchive/articles_{outcome.status}")
        return {"url": item["url"], "status": outcome.status, "article_id": outcome.article_id}
