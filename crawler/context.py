"""The per-crawl objects every crawler component shares: catalogue, source, run and WARC writer.

Built once per Scrapy crawler, on first use, and kept on the crawler object, so a
middleware, a pipeline and an extension of one crawl see the same run, database and WARC
files without module-level state. The WARC capture middleware writes through ``warc``, and
it and the article pipeline write the catalogue through ``writer``; the run recorder closes
both before it records how the run ended (``crawler/run_record.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from scrapy.crawler import Crawler

from archive.catalogue.store import Catalogue
from archive.catalogue.writer import CatalogueWriter
from archive.config import Settings, Source
from archive.warc.writer import WarcWriter


@dataclass
class CrawlContext:
    settings: Settings
    catalogue: Catalogue
    source: Source
    run_id: int
    warc: WarcWriter  # the crawl's WARC files: opened lazily, so a crawl that archived nothing leaves none
    writer: CatalogueWriter  # the crawl's catalogue writes, batched on a thread of their own


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


def warc_prefix(crawler: Crawler, settings: Settings, source: Source) -> str:
    """The source's name; with the host and pid too when workers share a frontier (crawler/frontier.py).

    Workers of one crawl open their files in the same second, and capture rows name a file
    by its name alone: without the worker in it, recovering one worker's file would take the
    other workers' captures of the same name for its own, and their files could not be
    gathered in one directory for replay.
    """
    if crawler.settings.get("REDIS_URL"):
        return f"{source.name}-{settings.host}-{os.getpid()}"
    return source.name


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The crawl's context; the first call opens the catalogue and starts the run record."""
    context = getattr(crawler, "newsarchive_context", None)
    if context is None:
        settings = newsarchive_settings(crawler)
        catalogue = Catalogue(settings.database_url)
        source = crawler.spider.source
        warc = WarcWriter(settings.warc_dir, prefix=warc_prefix(crawler, settings, source),
                          max_size=settings.warc_max_size, software=crawler.settings.get("USER_AGENT"),
                          revisit_lookup=catalogue.revisit_index())
        run_id = catalogue.start_run(source.name, host=settings.host)
        context = CrawlContext(settings, catalogue, source, run_id, warc, CatalogueWriter(catalogue))
        crawler.newsarchive_context = context  # type: ignore[attr-defined]
    return context
