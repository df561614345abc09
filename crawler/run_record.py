"""Extension that keeps the crawl-run record in the catalogue in step with the crawl.

The run is opened with the crawl, its figures are saved every few seconds (so a killed
crawl still shows how far it got) and it is closed with a status when the spider
closes: ``ok``; ``interrupted`` when stopped by a signal; ``failed`` when nothing at all
could be fetched, with a ``message`` saying why (``run_message``).
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from twisted.internet.task import LoopingCall

from crawler.context import crawl_context

SAVE_INTERVAL = 5.0  # seconds between saves of the running figures
FIRST_ERROR = "newsarchive/first_error/"  # + kind: (reason, URL) of the first failure of that kind


def run_figures(stats: dict[str, Any]) -> dict[str, Any]:
    """The crawl_runs columns from a crawler's stats."""
    prefix = "newsarchive/errors/"
    error_kinds = {key.removeprefix(prefix): value for key, value in stats.items() if key.startswith(prefix)}
    return {
        "pages": stats.get("newsarchive/responses", 0),  # every archived response, robots.txt included
        "not_modified": stats.get("newsarchive/not_modified", 0),  # of those, 304s to conditional GETs
        "bytes": stats.get("newsarchive/bytes", 0),
        "articles_new": stats.get("newsarchive/articles_new", 0),
        "articles_updated": stats.get("newsarchive/articles_updated", 0),
        "articles_duplicate": stats.get("newsarchive/articles_duplicate", 0),
        "errors": sum(error_kinds.values()),
        "error_kinds": error_kinds,
        "warc_files": list(stats.get("newsarchive/warc_files", [])),
    }


def run_status(close_reason: str, figures: dict[str, Any]) -> str:
    """ok, interrupted or failed, from why the spider closed and what it did."""
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
        self.saver = LoopingCall(self.save)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        recorder = cls(crawler, crawler.stats)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        self.stats.set_value("newsarchive/run_id", crawl_context(self.crawler).run_id)
        self.saver.start(SAVE_INTERVAL, now=False)

    def save(self) -> None:
        context = crawl_context(self.crawler)
        context.catalogue.update_run(context.run_id, **run_figures(self.stats.get_stats()))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.saver.running:
            self.saver.stop()
        context = crawl_context(self.crawler)
        stats = self.stats.get_stats()
        figures = run_figures(stats)
        status = run_status(reason, figures)
        context.catalogue.finish_run(context.run_id, status, message=run_message(status, figures, stats),
                                     **figures)
