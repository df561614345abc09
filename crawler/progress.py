"""Live progress of the crawls of one ``newsarchive crawl``: a row of figures per source.

One display for all crawlers of the process (rich allows a single live display), fed by
each crawler's stats every half second on the reactor.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy.crawler import Crawler
from twisted.internet.task import LoopingCall

from crawler.run_record import run_figures

REFRESH_INTERVAL = 0.5  # seconds; fast enough to look live, cheap enough not to matter
COLUMNS = ("source", "pages", "new", "duplicate", "updated", "skipped", "errors", "MB")


def progress_table(rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """The figures of each (source, stats) pair."""
    table = Table(box=None, header_style="bold")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "source" else "right")
    for source, stats in rows:
        figures = run_figures(stats)
        table.add_row(
            source, str(figures["pages"]), str(figures["articles_new"]), str(figures["articles_duplicate"]),
            str(figures["articles_updated"]), str(stats.get("newsarchive/articles_skipped_known", 0)),
            str(figures["errors"]), f"{figures['bytes'] / 1e6:.1f}",
        )
    return table


class CrawlProgress:
    def __init__(self, crawlers: list[tuple[str, Crawler]], console: Console | None = None) -> None:
        self.crawlers = crawlers
        self.live = Live(console=console or Console(stderr=True), transient=False, auto_refresh=False)
        self.refresher = LoopingCall(self.refresh)

    def start(self) -> None:
        self.live.start()
        self.refresher.start(REFRESH_INTERVAL)

    def refresh(self) -> None:
        rows = [(name, crawler.stats.get_stats()) for name, crawler in self.crawlers]
        self.live.update(progress_table(rows), refresh=True)

    def stop(self) -> None:
        if self.refresher.running:
            self.refresher.stop()
        self.refresh()
        self.live.stop()
