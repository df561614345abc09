"""The catalogue's dedup and versioning rules, on SQLite and on the real local PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.query.facets import facet_counts
from archive.query.search import ArticleQuery
from archive.warc.records import CaptureInfo

BODY = "\n\n".join(
    f"Paragraph {n}: the regional council voted on the harbour budget after a long debate "
    f"about dredging, fishing quotas and the ferry timetable for the winter season {n}."
    for n in range(12)
)
OTHER = "\n\n".join(
    f"Part {n}: the orchestra rehearsed a new symphony in the old theatre while students "
    f"painted the stage sets and sold tickets to families from the villages nearby {n}."
    for n in range(12)
)


def extracted(text: str = BODY, canonical: str | None = None, title: str = "Harbour budget") -> Extracted:
    return Extracted(text=text, title=title, authors=["A. Writer"], published="2026-11-02",
                     language="en", sitename="Courier", canonical_url=canonical, description=None)


@pytest.fixture
def catalogue(catalogue_url: str) -> Catalogue:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


def test_schema_is_created_by_the_alembic_migration(catalogue: Catalogue) -> None:
    tables = set(inspect(catalogue.engine).get_table_names())
    assert {"sources", "crawl_runs", "captures", "articles", "article_versions", "article_urls",
            "alembic_version"} <= tables


def test_url_variants_of_one_article_are_one_article(catalogue: Catalogue) -> None:
    first = catalogue.record_article("news", "https://news.example/2026/11/02/harbour.html", extracted())
    again = catalogue.record_article(
        "news", "https://news.example/2026/11/02/harbour.html?utm_source=feed#top", extracted())
    amp = catalogue.record_article(
        "news", "https://news.example/2026/11/02/harbour.amp.html",
        extracted(canonical="https://news.example/2026/11/02/harbour.html"))
    assert first.status == "new"
    assert again.status == amp.status == "unchanged"
    assert again.article_id == amp.article_id == first.article_id
    assert facet_counts(catalogue, ArticleQuery())["total"] == 1


def test_same_text_at_another_canonical_url_is_an_exact_duplicate(catalogue: Catalogue) -> None:
    original = catalogue.record_article("news", "https://news.example/a.html", extracted())
    copy = catalogue.record_article("partner", "https://partner.example/b.html", extracted())
    assert copy.status == "duplicate"
    assert copy.duplicate_of == original.article_id


def test_lightly_edited_copy_is_a_near_duplicate(catalogue: Catalogue) -> None:
    original = catalogue.record_article("news", "https://news.example/a.html", extracted())
    edited = BODY + "\n\nShare this article with your friends. © Courier 2026."
    copy = catalogue.record_article("partner", "https://partner.example/b.html", extracted(edited))
    unrelated = catalogue.record_article("news", "https://news.example/c.html", extracted(OTHER))
    assert copy.status == "duplicate" and copy.duplicate_of == original.article_id
    assert unrelated.status == "new"


def test_changed_body_is_a_new_version_and_old_one_is_kept(catalogue: Catalogue) -> None:
    url = "https://news.example/2026/11/02/harbour.html"
    seen = datetime(2026, 11, 2, 8, tzinfo=UTC)
    first = catalogue.record_article("news", url, extracted(), seen=seen)
    unchanged = catalogue.record_article("news", url, extracted(), seen=seen + timedelta(hours=1))
    corrected = catalogue.record_article("news", url, extracted(BODY + "\n\nCorrection: the vote was 12-3."),
                                         seen=seen + timedelta(hours=2))
    assert (first.status, unchanged.status, corrected.status) == ("new", "unchanged", "updated")
    from archive.query.articles import get_article

    article = get_article(catalogue, first.article_id)
    assert [v["version"] for v in article["versions"]] == [1, 2]
    assert article["text"].endswith("the vote was 12-3.")
    assert article["last_seen"].startswith("2026-11-02T10:00")
    assert article["first_seen"].startswith("2026-11-02T08:00")


def capture_of(run_id: int, n: int, status: int = 200) -> CaptureInfo:
    return CaptureInfo(url=f"https://news.example/{n}.html", timestamp=datetime(2026, 11, 2, 8, n, tzinfo=UTC),
                       status=status, mime="text/html", record_type="response", warc_file="a.warc.gz",
                       offset=n * 100, length=100, payload_digest=f"sha1:{run_id}-{n}", refers_to_url=None,
                       refers_to_date=None)


def test_runs_are_recorded_with_their_host_and_a_first_heartbeat(catalogue: Catalogue) -> None:
    run_id = catalogue.start_run("news", host="crawler-1")
    run = catalogue.get_run(run_id)
    assert (run.status, run.host, run.pid) == ("running", "crawler-1", os.getpid())
    assert abs((catalogue.clock() - run.heartbeat).total_seconds()) < 5
    assert catalogue.beat(run_id, pages=3) is True
    catalogue.finish_run(run_id, "ok", pages=3, errors=0)
    assert catalogue.get_run(run_id).status == "ok"
    assert catalogue.beat(run_id, pages=4) is False  # closed: a late beat changes nothing
    assert catalogue.get_run(run_id).pages == 3


def test_a_run_of_this_host_whose_process_is_gone_is_closed_at_once(catalogue: Catalogue) -> None:
    dead = catalogue.start_run("news", host="crawler-1")
    catalogue.update_run(dead, pid=2**22 + 12345, pages=0)  # no such process; figures never saved
    captures = [catalogue.add_capture(dead, capture_of(dead, n, status=304 if n == 2 else 200)) for n in range(3)]
    catalogue.record_not_article("news", "https://news.example/gallery", reason="too_short", capture_id=captures[1])
    alive = catalogue.start_run("news", host="crawler-1")  # this very process
    assert catalogue.mark_dead_runs("crawler-1", timeout=60) == [dead]
    run = catalogue.get_run(dead)
    # recounted from its captures, and the page it found to be no article
    assert (run.status, run.pages, run.not_modified, run.not_articles) == ("interrupted", 3, 1, 1)
    assert run.message.startswith("no heartbeat since ") and "from host crawler-1" in run.message
    assert f"({2**22 + 12345}) is gone" in run.message
    assert run.finished == run.heartbeat  # its last sign of life
    assert catalogue.get_run(alive).status == "running"


def test_a_live_run_of_another_host_is_never_touched(catalogue: Catalogue) -> None:
    theirs = catalogue.start_run("news", host="crawler-2")
    catalogue.update_run(theirs, pid=2**22 + 12345)  # no such process here, which says nothing of crawler-2
    assert catalogue.mark_dead_runs("crawler-1", timeout=60) == []
    assert catalogue.get_run(theirs).status == "running"


def test_a_run_without_a_heartbeat_for_the_timeout_is_interrupted_whatever_its_host(catalogue: Catalogue) -> None:
    stale = catalogue.start_run("news", host="crawler-2")
    catalogue.add_capture(stale, capture_of(stale, 1))
    last_beat = catalogue.clock() - timedelta(seconds=90)
    catalogue.update_run(stale, heartbeat=last_beat)
    fresh = catalogue.start_run("news", host="crawler-3")
    assert catalogue.mark_dead_runs("crawler-1", timeout=60) == [stale]
    run = catalogue.get_run(stale)
    assert (run.status, run.pages) == ("interrupted", 1)
    assert run.message == (f"no heartbeat since {last_beat:%Y-%m-%d %H:%M:%S} UTC from host crawler-2 "
                           "(timeout 60 s): its crawl process is gone")
    assert catalogue.get_run(fresh).status == "running"
    assert catalogue.beat(stale) is False  # were it only held up, the crawl learns it was closed


def test_article_lists_every_capture_of_its_urls_unchanged_refetches_included(catalogue: Catalogue) -> None:
    from archive.query.articles import get_article

    url = "https://news.example/2026/11/02/harbour.html"

    def capture(hour: int, query: str = "") -> int:
        info = CaptureInfo(url=url + query, timestamp=datetime(2026, 11, 2, hour, tzinfo=UTC), status=200,
                           mime="text/html", record_type="response", warc_file="a.warc.gz", offset=hour,
                           length=10, payload_digest=f"sha1:{hour}", refers_to_url=None, refers_to_date=None)
        return catalogue.add_capture(None, info)

    first = catalogue.record_article("news", url, extracted(), capture_id=capture(8))
    catalogue.record_article("news", url + "?utm_source=feed", extracted(), capture_id=capture(9, "?utm_source=feed"))
    capture(10)  # a capture of the page that was not (re)catalogued, e.g. a 304 re-check
    article = get_article(catalogue, first.article_id)
    assert [c["timestamp"][11:13] for c in article["captures"]] == ["08", "09", "10"]
