"""Scheduled crawls without a running scheduler: how each way a crawl process can end is
recorded, the log lines, cron expressions and the timetable of `schedule list`.

The job functions here stand in for ``crawl_source``: they crash, ignore SIGTERM or die of
SIGKILL, in a real spawned process.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.catalogue.store import Catalogue
from archive.config import SchedulerSettings, Settings, Source, cron_trigger
from scheduler.crawl_job import CrawlExecutor, log_event
from scheduler.service import schedule_table


def crash(settings: Settings, source: Source, log_file: Path) -> None:
    raise RuntimeError("the crawl process fails before it opens its run")


def hang(settings: Settings, source: Source, log_file: Path) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # deaf to the polite stop
    Catalogue(settings.database_url).start_run(source.name, host=settings.host)
    time.sleep(60)


def killed(settings: Settings, source: Source, log_file: Path) -> None:
    Catalogue(settings.database_url).start_run(source.name, host=settings.host)
    os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer, or an operator


NEWS = Source(name="news", start_urls=("http://127.0.0.1:9/",))  # its crawls are the stand-ins above


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def executor(settings: Settings, sources: tuple[Source, ...] = (NEWS,), **options: float) -> CrawlExecutor:
    return CrawlExecutor(Catalogue(settings.database_url), SchedulerSettings(**options), settings, lambda: sources)


def test_a_process_that_crashes_before_opening_its_run_still_gets_one(settings: Settings) -> None:
    run = executor(settings).crawl(crash, "news")
    assert (run["source"], run["status"]) == ("news", "failed")
    assert run["message"] == "crawl process exited with status 1"
    assert run["started"] < run["finished"]


def test_a_crawl_deaf_to_sigterm_is_killed_after_the_grace(settings: Settings) -> None:
    started = time.monotonic()
    run = executor(settings, crawl_time_limit=1.5, stop_grace=0.5).crawl(hang, "news")
    assert time.monotonic() - started < 10
    assert (run["id"], run["status"]) == (1, "failed")  # its own record, closed for it
    assert run["message"] == "time limit (1.5 s) reached: stopped"


def test_a_crawl_killed_from_outside_is_interrupted(settings: Settings) -> None:
    run = executor(settings).crawl(killed, "news")
    assert (run["status"], run["message"]) == ("interrupted", "crawl process killed by SIGKILL")


def test_a_slot_of_a_source_the_service_no_longer_has_is_logged_and_skipped(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    renamed = Source(name="renamed", start_urls=NEWS.start_urls)
    with caplog.at_level(logging.INFO, logger="newsarchive.scheduler"):
        assert executor(settings, (renamed,)).crawl(crash, "news") is None
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("event=crawl-error source=news ")
    assert f"no source 'news' in {settings.sources_file} (renamed or removed?)" in line
    assert Catalogue(settings.database_url).get_run(1) is None  # no crawl process, no run


def test_log_lines_are_logfmt(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="newsarchive.scheduler"):
        log_event("crawl-end", source="news", status="ok", message="stopped with the scheduler",
                  warc_files=["a.warc.gz", "b.warc.gz"], error_kinds={"http_404": 2}, exit=None)
    assert caplog.messages == [('event=crawl-end source=news status=ok message="stopped with the scheduler" '
                                'warc_files=a.warc.gz,b.warc.gz error_kinds=http_404:2 exit=""')]


def test_schedules_are_crontab_or_six_fields_with_seconds_first() -> None:
    now = datetime(2026, 11, 29, 13, 14, 7).astimezone()  # cron times are the host's local time
    assert cron_trigger("*/30 * * * *").get_next_fire_time(None, now) == now.replace(minute=30, second=0)
    assert cron_trigger("0 */30 * * * *").get_next_fire_time(None, now) == now.replace(minute=30, second=0)
    assert cron_trigger("*/5 * * * * *").get_next_fire_time(None, now) == now.replace(second=10)
    with pytest.raises(ValueError):
        cron_trigger("61 * * * * *")


def test_schedule_list_before_the_service_ever_ran_shows_the_cron_next_time(settings: Settings) -> None:
    sources = [Source(name="hourly", start_urls=("http://127.0.0.1:9/",), schedule="0 * * * *"),
               Source(name="by-hand", start_urls=("http://127.0.0.1:9/",))]
    now = datetime(2026, 11, 29, 13, 14, 7).astimezone()
    rows = schedule_table(Catalogue(settings.database_url), sources, now)
    assert [(row["source"], row["scheduled"], row["last_run"]) for row in rows] == [
        ("hourly", False, None), ("by-hand", False, None)]
    expected = now.replace(hour=14, minute=0, second=0).astimezone(UTC)
    assert rows[0]["next_run"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows[1]["next_run"] is None
