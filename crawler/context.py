"""The per-crawl objects every crawler component shares: catalogue, source and run.

Built once per Scrapy crawler, on first use, and kept on the crawler object, so a
middleware, a pipeline and an extension of one crawl see the same run and database
without module-level state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scrapy.crawler import Crawler

from archive.catalogue import Catalogue
from archive.config import Settings, Source


@dataclass
class CrawlContext:
    settings: Settings
    catalogue: Catalogue
    source: Source
    run_id: int


def newsarchive_settings(crawler: Crawler) -> Settings:
    """newsarchive's settings as carried in the Scrapy settings."""
    s = crawler.settings
    return Settings(
        data_dir=Path(s.get("NEWSARCHIVE_DATA_DIR")),
        db_url=s.get("NEWSARCHIVE_DB") or None,
        sources_file=Path(s.get("NEWSARCHIVE_SOURCES")),
        warc_max_size=s.getint("NEWSARCHIVE_WARC_MAX_SIZE"),
        host=s.get("NEWSARCHIVE_HOST"),
        heartbeat_interval=s.getfloat("NEWSARCHIVE_HEARTBEAT_INTERVAL"),
        heartbeat_timeout=s.getfloat("NEWSARCHIVE_HEARTBEAT_TIMEOUT"),
    )


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The crawl's context; the first call opens the catalogue and starts the run record."""
    context = getattr(crawler, "newsarchive_context", None)
    if context is None:
        settings = newsarchive_settings(crawler)
        catalogue = Catalogue(settings.database_url)
        source = crawler.spider.source
        context = CrawlContext(settings, catalogue, source, catalogue.start_run(source.name, host=settings.host))
        crawler.newsarchive_context = context  # type: ignore[attr-defined]
    return context
