"""``run_crawl``: crawl sources in this process and return their run records.

The entry point the CLI, the demo and the scheduler's crawl processes share. All the
given sources are crawled at once in one Twisted reactor, which can run only once per
process: a second crawl needs a new process.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from archive.catalogue.store import Catalogue
from archive.config import ConfigError, Settings, Source, load_sources
from archive.catalogue.models import CrawlRun
from archive.warc.recovery import recover_warcs
from crawler.frontier import frontier_settings
from crawler.progress import CrawlProgress
from crawler.spiders.news import NewsSpider


def scrapy_settings(settings: Settings, overrides: dict[str, Any] | None = None) -> ScrapySettings:
    """The project's Scrapy settings carrying newsarchive's, whatever the working directory."""
    scrapy = ScrapySettings()
    scrapy.setmodule("crawler.settings", priority="project")
    scrapy.update({
        "NEWSARCHIVE_DATA_DIR": str(settings.data_dir),
        "NEWSARCHIVE_DB": settings.db_url,
        "NEWSARCHIVE_SOURCES": str(settings.sources_file),
        "NEWSARCHIVE_WARC_MAX_SIZE": settings.warc_max_size,
        "NEWSARCHIVE_HOST": settings.host,
        "NEWSARCHIVE_HEARTBEAT_INTERVAL": settings.heartbeat_interval,
        "NEWSARCHIVE_HEARTBEAT_TIMEOUT": settings.heartbeat_timeout,
    }, priority="cmdline")
    scrapy.update(frontier_settings(settings.redis_url), priority="cmdline")
    scrapy.update(overrides or {}, priority="cmdline")
    return scrapy


def _rules_for_recovery(settings: Settings, sources: list[Source]) -> list[Source]:
    """The crawled sources, and the sources file's others: a dead crawl's file may be of any source."""
    rules = {source.name: source for source in sources}
    if settings.sources_file.exists():
        with contextlib.suppress(ConfigError):  # changed or broken since: the crawled sources are enough
            rules = {source.name: source for source in load_sources(settings.sources_file)} | rules
    return list(rules.values())


def run_crawl(settings: Settings, sources: list[Source], *, progress: bool = False,
              overrides: dict[str, Any] | None = None) -> list[CrawlRun]:
    """Crawl ``sources`` to completion; the finished run of each, in order."""
    catalogue = Catalogue(settings.database_url)  # migrate once, before crawlers open it
    catalogue.mark_dead_runs(settings.host, settings.heartbeat_timeout)  # crashed crawls, of any host
    extra = dict(overrides or {})
    # Scrapy's full log goes to a file under the data dir; the terminal gets the
    # progress table and the summary.
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    extra.setdefault("LOG_FILE", str(log_dir / f"crawl-{stamp}-{os.getpid()}.log"))
    process = CrawlerProcess(scrapy_settings(settings, extra))  # logging to LOG_FILE from here on
    recover_warcs(catalogue, settings.warc_dir, _rules_for_recovery(settings, sources))  # before any writer
    crawlers = []
    for source in sources:
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, source=source)
        crawlers.append((source.name, crawler))
    display = CrawlProgress(crawlers) if progress else None
    if display:
        display.start()
    try:
        process.start()
    finally:
        if display:
            display.stop()
    runs = []
    for _name, crawler in crawlers:
        run_id = crawler.stats.get_value("newsarchive/run_id")
        run = catalogue.get_run(run_id) if run_id else None
        if run is not None:
            runs.append(run)
    catalogue.close()
    return runs
