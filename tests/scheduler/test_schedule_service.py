"""The scheduler as a service: real `newsarchive schedule run`, real crawl processes, a local site.

Schedules are second-level crons (six fields), so each test sees several slots in seconds.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from archive.catalogue.database import utcnow
from archive.config import load_sources
from archive.catalogue.models import Article, Capture
from archive.query.articles import get_article
from archive.warc.verify import VerifyReport, verify_warcs
from archive.warc.files import OPEN_SUFFIX
from benchmarks.bench_site import bench_article, build_bench_site
from cli.article_view import print_article
from tests.site_server import SiteServer
from scheduler.service import crawl_job_store, schedule_table
from tests.scheduler.conftest import (
    ARTICLES,
    NO_ARTICLES,
    ScheduledService,
    source_toml,
)

EVERY_SECOND = "* * * * * *"
EVERY_2S = "*/2 * * * * *"


def assert_warcs_whole(warc_dir: Path) -> None:
    """Finished WARC files are whole, record by record; a killed crawl's file may only be *.open."""
    report = VerifyReport()
    verify_warcs(warc_dir, report)
    assert report.ok, report.problems


def test_recrawl_fetches_only_what_is_new_or_due_and_versions_a_corrected_article(
    site: SiteServer, scheduler: Callable[..., ScheduledService], tmp_path: Path
) -> None:
    service = scheduler(source_toml("bench", site.base_url, EVERY_SECOND, refresh_hours=1))
    first = service.wait_for(service.finished_runs, "the first run")[0]

    # Between the runs: article 3 is published, article 0 corrected, article 1 is older than
    # the refresh window (1 hour) and article 2 is within it.
    grown = tmp_path / "grown"
    build_bench_site(grown, 4)
    new_path = bench_article(3)[0].path
    for path in ("/index.html", "/news/index.html", "/rss.xml", "/sitemap.xml", new_path):
        shutil.copy(grown / path.lstrip("/"), site.root / path.lstrip("/"))
    corrected, paragraphs = bench_article(0)
    page = site.root / corrected.path.lstrip("/")
    page.write_text(page.read_text().replace(html.escape(paragraphs[0]), "Correction: the vote was postponed."))
    aged = bench_article(1)[0].path
    assert service.catalogue is not None
    with service.catalogue.session() as session:
        session.execute(update(Article).where(Article.url.endswith(aged))
                        .values(first_seen=utcnow() - timedelta(days=2)))

    second = service.wait_for(lambda: service.finished_runs()[1:], "the second run")[0]
    assert service.stop() == 0

    assert (first["status"], first["articles_new"], first["errors"]) == ("ok", 3, 0)
    assert (second["status"], second["articles_new"], second["articles_updated"], second["errors"]) == ("ok", 1, 1, 0)
    with service.catalogue.session() as session:
        captures = [(url.removeprefix(site.base_url), status) for url, status in session.execute(
            select(Capture.url, Capture.status).where(Capture.run_id == second["id"]))]
    articles = {path for path, _ in captures if re.search(ARTICLES, path)}
    # new; due and changed; due and unchanged. Not article 1: known, and past the refresh window.
    assert articles == {new_path, corrected.path, bench_article(2)[0].path}
    assert aged not in articles
    assert ("/robots.txt", 304) in captures  # the conditional GET of an unchanged robots.txt
    assert second["not_modified"] == sum(status == 304 for _, status in captures) >= 1
    assert second["pages"] == len(captures)
    assert all((service.data_dir / "warcs" / name).is_file() for name in first["warc_files"] + second["warc_files"])
    assert_warcs_whole(service.data_dir / "warcs")

    history = {run["id"]: run for run in map(json.loads, service.cli("runs", "--format", "jsonl").splitlines())}
    assert (history[first["id"]], history[second["id"]]) == (first, second)
    table = service.cli("runs")
    assert all(f"│ {run['id']} " in table for run in (first, second))
    end = next(line for line in service.events("crawl-end") if f"run={second['id']} " in line)
    assert "status=ok" in end and "articles_new=1 articles_updated=1" in end
    shown = io.StringIO()
    print_article(get_article(service.catalogue, _article_id(service, corrected.path)), shown)  # `show ID`
    assert "Versions (2)" in shown.getvalue()
    assert "+Correction: the vote was postponed." in shown.getvalue()


def _article_id(service: ScheduledService, path: str) -> int | None:
    assert service.catalogue is not None
    with service.catalogue.session() as session:
        return session.scalar(select(Article.id).where(Article.url.endswith(path)))


def test_a_hung_crawl_is_stopped_recorded_failed_and_the_next_run_proceeds(
    site: SiteServer, silent_url: str, scheduler: Callable[..., ScheduledService]
) -> None:
    hung = source_toml("stuck", site.base_url, EVERY_2S, feeds=[f"{silent_url}/rss.xml"], allow=[NO_ARTICLES])
    service = scheduler(hung, "--time-limit", "6", "--stop-grace", "2")
    service.wait_for(service.runs, "the crawl to start")
    # The next runs leave the hung feed out; the running crawl keeps the source it started with.
    service.sources_file.write_text(source_toml("stuck", site.base_url, EVERY_2S, allow=[NO_ARTICLES]))
    service.wait_for(lambda: service.events("sources-reloaded"), "the sources file to be re-read")
    first = service.wait_for(service.finished_runs, "the hung run to be stopped", timeout=30)[0]
    assert first["status"] == "failed"
    assert first["message"] == "time limit (6 s) reached: stopped"
    # Killed before it saved its last figures: they are counted from what it archived and catalogued.
    assert service.catalogue is not None
    with service.catalogue.session() as session:
        captures = session.scalar(select(func.count(Capture.id)).where(Capture.run_id == first["id"]))
    assert first["pages"] == captures > 0
    warcs = service.data_dir / "warcs"
    assert first["warc_files"] and all((warcs / name).is_file() for name in first["warc_files"])
    assert all(name.endswith((".warc.gz", OPEN_SUFFIX)) for name in first["warc_files"])
    assert_warcs_whole(warcs)

    after = service.wait_for(lambda: service.finished_runs()[1:], "the next run")[0]
    assert service.stop() == 0
    assert (after["status"], after["errors"], after["message"]) == ("ok", 0, None)
    assert after["started"] > first["finished"]
    assert_warcs_whole(warcs)


def test_a_slow_source_is_not_started_twice_and_a_stop_interrupts_its_crawl_cleanly(
    site: SiteServer, scheduler: Callable[..., ScheduledService]
) -> None:
    service = scheduler(source_toml("slow", site.base_url, EVERY_SECOND, delay=0.4, allow=[NO_ARTICLES]))
    first = service.wait_for(service.finished_runs, "the first run")[0]
    service.wait_for(lambda: len(service.runs()) == 2, "the second run to start")  # mid-crawl: stop now
    assert service.stop() == 0

    runs = service.runs()
    assert [run["status"] for run in runs] == ["ok", "interrupted"]
    assert runs[1]["started"] > first["finished"]  # never two at once
    skipped = service.events("crawl-skipped")
    assert len(skipped) >= 3 and all("source=slow" in line for line in skipped)
    assert len(service.events("crawl-start")) == 2
    # SIGTERM let the crawl close its WARC file: no *.open, every file whole
    warcs = service.data_dir / "warcs"
    assert not list(warcs.glob(f"*{OPEN_SUFFIX}"))
    assert_warcs_whole(warcs)
    assert "stopped with the scheduler" in (runs[1]["message"] or "")


def test_a_broken_sources_file_is_reported_and_the_old_schedule_kept(
    site: SiteServer, scheduler: Callable[..., ScheduledService]
) -> None:
    first = source_toml("first", site.base_url, EVERY_2S, allow=[NO_ARTICLES])
    service = scheduler(first)

    service.sources_file.write_text(first + 'max_pages = "many"\n')
    error = service.wait_for(lambda: service.events("sources-error"), "the error to be reported")[0]
    assert f"{service.sources_file}: source 'first': field 'max_pages'" in error
    starts = len(service.events("crawl-start"))
    service.wait_for(lambda: len(service.events("crawl-start")) > starts, "'first' to run on the kept schedule")

    service.sources_file.write_text(first + source_toml("second", site.base_url, "*/3 * * * * *",
                                                        allow=[NO_ARTICLES]))
    service.wait_for(lambda: service.finished_runs("second"), "the added source to run")
    reloads = len(service.events("sources-reloaded"))
    service.signal(signal.SIGHUP)
    service.wait_for(lambda: len(service.events("sources-reloaded")) > reloads, "SIGHUP to re-read the file")

    table = [json.loads(line) for line in service.cli("schedule", "list", "--format", "jsonl").splitlines()]
    assert service.stop() == 0
    assert [(row["source"], row["schedule"], row["scheduled"]) for row in table] == [
        ("first", EVERY_2S, True), ("second", "*/3 * * * * *", True)]
    assert all(row["next_run"] and row["last_status"] for row in table)


def test_a_restart_keeps_due_times_and_runs_a_slot_missed_while_down_once(
    site: SiteServer, scheduler: Callable[..., ScheduledService]
) -> None:
    yearly = source_toml("yearly", site.base_url, "0 0 1 1 *", allow=[NO_ARTICLES])
    service = scheduler(yearly)
    assert service.stop() == 0
    assert service.catalogue is not None
    store = crawl_job_store(service.catalogue)
    job = store.lookup_job("yearly")
    assert job is not None
    due = job.next_run_time  # local midnight, 1 January
    assert (due.month, due.day, due.hour) == (1, 1, 0)
    job.next_run_time = datetime.now(UTC) - timedelta(minutes=5)  # its slot came while the service was down
    store.update_job(job)

    restarted = scheduler(yearly)
    run = restarted.wait_for(restarted.finished_runs, "the missed slot to run")[0]
    assert restarted.stop() == 0
    [table] = schedule_table(restarted.catalogue, load_sources(restarted.sources_file))
    assert run["status"] == "ok"
    assert len(restarted.events("crawl-start")) == 1  # once, however many slots were missed
    assert not restarted.events("source-scheduled")  # the stored job was kept as it was
    assert table["scheduled"] and table["next_run"] == due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
