"""Extension that keeps the crawl-run record in the catalogue in step with the crawl.

The run is opened with the crawl. While it runs, its heartbeat is written every
``Settings.heartbeat_interval`` seconds with the figures so far, so a killed crawl still
shows how far it got and other processes, of any host, can tell it is alive
(``Catalogue.mark_dead_runs``). When the spider closes the recorder does two things, in
this order, in one handler: it finishes the crawl's WARC file (flushed, fsynced, renamed
from ``*.warc.gz.open``), then it closes the run with a status: ``ok``; ``interrupted``
when stopped by a signal; ``failed`` when nothing at all could be fetched, when archiving
failed (a full disk: the WARC capture stopped the crawl, ``message`` says why) or when the
WARC file could not be finished; ``message`` says why
(``run_message``). So a run is never ``ok`` before its WARC file is whole.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from crawler.context import crawl_context

logger = logging.getLogger(__name__)

FAILURE = "newsarchive/failure"  # stats key: why the crawl stopped itself (a component that cannot go on)
FIRST_ERROR = "newsarchive/first_error/"  # + kind: (reason, URL) of the first failure of that kind


def run_figures(stats: dict[str, Any]) -> dict[str, Any]:
    """The crawl_runs columns from a crawler's stats."""
    prefix = "newsarchive/errors/"
    error_kinds = {key.removeprefix(prefix): value for key, value in stats.items() if key.startswith(prefix)}
    return {
        "pages": stats.get("newsarchive/responses", 0),  # every archived response, robots.txt included
        "not_modified": stats.get("newsarchive/not_modified", 0),  # of those, 304s to conditional GETs
        "not_articles": stats.get("newsarchive/articles_not_extracted", 0),  # article URLs with no article
        "bytes": stats.get("newsarchive/bytes", 0),
        "articles_new": stats.get("newsarchive/articles_new", 0),
        "articles_updated": stats.get("newsarchive/articles_updated", 0),
        "articles_duplicate": stats.get("newsarchive/articles_duplicate", 0),
        "errors": sum(error_kinds.values()),
        "error_kinds": error_kinds,
        "warc_files": list(stats.get("newsarchive/warc_files", [])),
    }


def run_status(close_reason: str, figures: dict[str, Any], failure: str | None = None) -> str:
    """ok, interrupted or failed, from why the spider closed, what it did and what went wrong."""
    if failure:
        return "failed"
    if close_reason == "shutdown":
        return "interrupted"
    if figures["pages"] == 0 and figures["errors"]:
        return "failed"
    return "ok"


MESSAGE_KINDS = 3  # error kinds a failed run's message names, the most frequent first


def run_message(status: str, figures: dict[str, Any], stats: dict[str, Any]) -> str | None:
    """Why a run failed, in words: how many requests failed, of which kinds, first at which URL.

    e.g. ``nothing fetched: 3 requests failed: ConnectionRefusedError (connection refused) at
    http://127.0.0.1:9/``. None for a run that did not fail.
    """
    if status != "failed":
        return None
    errors = figures["errors"]
    kinds = sorted(figures["error_kinds"].items(), key=lambda item: -item[1])[:MESSAGE_KINDS]
    causes = []
    for kind, _count in kinds:
        reason, url = stats.get(FIRST_ERROR + kind, ("", ""))
        causes.append(f"{kind} ({reason}) at {url}" if url else kind)
    return f"nothing fetched: {errors} request{'s' if errors != 1 else ''} failed: {', '.join(causes)}"


class RunRecorder:
    def __init__(self, crawler: Crawler, stats: StatsCollector) -> None:
        self.crawler = crawler
        self.stats = stats
        self.heart = LoopingCall(self.beat)
        self.taken_for_dead = False  # another process closed the run while this crawl went on

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        recorder = cls(crawler, crawler.stats)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        context = crawl_context(self.crawler)  # starts the run, with its first heartbeat
        self.stats.set_value("newsarchive/run_id", context.run_id)
        self.heart.start(context.settings.heartbeat_interval, now=False)

    def beat(self) -> None:
        """The run's heartbeat and figures; a failed write is logged and the next beat tried."""
        context = crawl_context(self.crawler)
        try:
            running = context.catalogue.beat(context.run_id, **run_figures(self.stats.get_stats()))
        except SQLAlchemyError as exc:  # a LoopingCall that raises stops: the run would look dead
            logger.warning("crawl run %s: heartbeat not written (%s); trying again in %g s",
                           context.run_id, exc, context.settings.heartbeat_interval)
            return
        if not running and not self.taken_for_dead:
            self.taken_for_dead = True
            logger.error("crawl run %s was closed by another process: no heartbeat of it for more than %g s",
                         context.run_id, context.settings.heartbeat_timeout)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Finish the WARC file, then the run: its status depends on the file being whole."""
        if self.heart.running:
            self.heart.stop()
        context = crawl_context(self.crawler)
        context.writer.close()  # what is still queued, first: a write that fails there fails the run
        failure = self.stats.get_value(FAILURE)
        try:
            context.warc.close()
        except OSError as exc:
            failure = failure or (f"could not finish the WARC file ({exc}): it stays *.warc.gz.open, "
                                  "to be recovered by the next crawl or `newsarchive verify --repair`")
        self.stats.set_value("newsarchive/warc_files", context.warc.files)
        figures = run_figures(self.stats.get_stats())
        status = run_status(reason, figures, failure)
        message = failure or run_message(status, figures, self.stats.get_stats())
        if self.taken_for_dead and not message:
            message = (f"taken for dead by another process (heartbeats more than "
                       f"{context.settings.heartbeat_timeout:g} s apart), yet the crawl went on to the end")
        context.catalogue.finish_run(context.run_id, status, message=message, **figures)
