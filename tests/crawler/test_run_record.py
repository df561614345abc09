"""Closing a crawl: its WARC file is finished before its run is recorded, and a file that
cannot be finished makes the run ``failed``.

The run recorder and the WARC capture middleware are built from a real Scrapy crawler on a
real SQLite catalogue and WARC directory; one exchange goes through the middleware, then the
crawler sends ``spider_closed`` as its engine does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from archive.catalogue.store import Catalogue
from archive.config import Settings, Source
from archive.catalogue.models import CrawlRun
from crawler.context import crawl_context
from crawler.run import scrapy_settings
from crawler.run_record import RunRecorder
from crawler.spiders.news import NewsSpider
from crawler.warc_capture import WarcCaptureMiddleware

SOURCE = Source(name="news", start_urls=("http://127.0.0.1:9/",), delay=0)
PAGE = b"<html><body><h1>Harbour budget</h1></body></html>"


def crawl_with_one_exchange(tmp_path: Path) -> tuple[Crawler, Path]:
    """A crawler whose recorder and WARC capture are set up and which archived one page; its .open file."""
    settings = Settings(data_dir=tmp_path / "data", host="crawler-1")
    ours = {key: value for key, value in scrapy_settings(settings).copy_to_dict().items()
            if key.startswith("NEWSARCHIVE_")}  # Scrapy's test crawler picks the reactor settings
    crawler = get_crawler(NewsSpider, ours)
    crawler.spider = NewsSpider(source=SOURCE)
    recorder = RunRecorder.from_crawler(crawler)
    capture = WarcCaptureMiddleware.from_crawler(crawler)
    crawler.components = [recorder, capture]  # type: ignore[attr-defined]  # signals hold weak references
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    request = Request("http://127.0.0.1:9/")
    capture.process_response(request, HtmlResponse(request.url, body=PAGE, request=request))
    (open_file,) = (tmp_path / "data" / "warcs").glob("news-*.warc.gz.open")
    return crawler, open_file


def close(crawler: Crawler) -> CrawlRun:
    """The spider closes as the engine closes it; the run as recorded."""
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")
    context = crawl_context(crawler)
    run = Catalogue(context.settings.database_url).get_run(context.run_id)
    assert run is not None
    return run


def test_the_run_is_ok_once_its_warc_file_is_finished(tmp_path: Path) -> None:
    crawler, open_file = crawl_with_one_exchange(tmp_path)
    assert crawl_context(crawler).catalogue.get_run(crawl_context(crawler).run_id).status == "running"
    run = close(crawler)
    finished = open_file.with_name(open_file.name.removesuffix(".open"))
    assert (run.status, run.pages, run.message) == ("ok", 1, None)
    assert run.warc_files == [finished.name]
    assert finished.exists() and not open_file.exists()
    check = subprocess.run([Path(sys.executable).with_name("warcio"), "check", finished], capture_output=True)
    assert check.returncode == 0, check.stdout


def test_a_warc_file_that_cannot_be_finished_fails_the_run(tmp_path: Path) -> None:
    crawler, open_file = crawl_with_one_exchange(tmp_path)
    open_file.unlink()  # gone from under the writer: the rename that finishes it fails
    run = close(crawler)
    assert run.status == "failed"
    assert run.message.startswith(f"could not finish the WARC file ([Errno 2] No such file or directory: "
                                  f"'{open_file}'")
