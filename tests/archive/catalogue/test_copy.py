"""`newsarchive db copy`: a crawled SQLite catalogue moved to PostgreSQL answers as before; a killed copy resumes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, func, insert, select, update
from sqlalchemy.exc import ProgrammingError

from archive.catalogue.copy import CopyProgress, copy_catalogue
from archive.catalogue.models import (
    JOBS_TABLE,
    Article,
    ArticleUrl,
    ArticleVersion,
    Capture,
    CrawlRun,
    NotArticle,
    SourceRow,
)
from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.query.articles import get_article
from archive.query.facets import facet_counts
from archive.query.runs import list_runs, list_sources
from archive.query.search import ArticleQuery, iter_articles
from archive.warc.index import CaptureIndex
from tests.command import run_cli, start_cli
from tests.query_catalogue import QueryCatalogue

TABLES = (SourceRow, CrawlRun, Capture, Article, ArticleVersion, ArticleUrl)


def snapshot(source: QueryCatalogue, copy_to: Path) -> str:
    """A copy of the session's SQLite query catalogue that a test may write to (SQLite's backup API)."""
    database = source.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as original, sqlite3.connect(copy_to) as copy:
        original.backup(copy)
    return f"sqlite:///{copy_to}"


def add_schedule(url: str) -> None:
    """A scheduled job in the catalogue's job store, as `schedule run` keeps its crawls there."""
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url, tablename=JOBS_TABLE)})
    scheduler.start(paused=True)
    scheduler.add_job("time:sleep", "cron", args=[1], id="maghreb-courier",
                      minute="*/30", next_run_time=datetime(2030, 1, 1, 6, 30).astimezone())
    scheduler.shutdown()


def rows(url: str, model: type) -> dict[tuple, tuple]:
    """Every row of a table, by its key (the databases sort text keys by different collations)."""
    table = model.__table__
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {tuple(row[c.name] for c in table.primary_key.columns): tuple(row.values())
                    for row in connection.execute(select(table)).mappings()}
    finally:
        engine.dispose()


def test_a_copied_catalogue_answers_searches_facets_and_replay_lookups_as_the_original(
        sqlite_qc: QueryCatalogue, postgres_url: str, tmp_path: Path) -> None:
    source_url = snapshot(sqlite_qc, tmp_path / "catalogue.sqlite")
    add_schedule(source_url)

    result = run_cli("--db", source_url, "db", "copy", "--to", postgres_url)

    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    for model in TABLES:
        count = len(rows(source_url, model))
        assert count and lines[model.__tablename__] == f"{count:,} rows, {count:,} in the copy"
    assert lines[JOBS_TABLE] == "1 rows, 1 in the copy"

    before, after = Catalogue(source_url, read_only=True), Catalogue(postgres_url, read_only=True)
    try:
        assert after.engine.dialect.name == "postgresql"
        everything = ArticleQuery(limit=None)
        articles = list(iter_articles(before, everything))
        assert list(iter_articles(after, everything)) == articles
        for words in ("interpol", "harbour", '"conseil de sécurité"', "اتفاقية"):
            found = {a["id"] for a in iter_articles(before, ArticleQuery(text=words, limit=None))}
            assert found and {a["id"] for a in iter_articles(after, ArticleQuery(text=words, limit=None))} == found
        for query in (everything, ArticleQuery(language="fr", limit=None), ArticleQuery(text="harbour", limit=None)):
            assert facet_counts(after, query) == facet_counts(before, query)
        assert list_runs(after) == list_runs(before) and list_sources(after) == list_sources(before)
        for article in articles:
            assert get_article(after, article["id"]) == get_article(before, article["id"])
        old_index, new_index = CaptureIndex(before), CaptureIndex(after)
        for article in articles:
            for moment in (datetime(2000, 1, 1), datetime(9999, 12, 31)):
                was, now = old_index.closest(article["url"], moment), new_index.closest(article["url"], moment)
                assert (now and now.capture.id) == (was and was.capture.id)
        assert new_index.nearby(articles[0]["url"]) == old_index.nearby(articles[0]["url"])
    finally:
        before.close()
        after.close()

    jobs = SQLAlchemyJobStore(url=postgres_url, tablename=JOBS_TABLE)
    job = jobs.lookup_job("maghreb-courier")
    assert job.args == (1,) and job.next_run_time == datetime(2030, 1, 1, 6, 30).astimezone()
    jobs.engine.dispose()

    writer = Catalogue(postgres_url)  # the sequences are past the copied ids: a new crawl's rows fit
    try:
        outcome = writer.record_article("partner-wire", "https://wire.example/after-the-move.html", Extracted(
            text="Written after the move to PostgreSQL.", title="After the move", authors=[], published=None,
            language="en", sitename=None, canonical_url=None, description=None))
        assert outcome.status == "new" and outcome.article_id > max(a["id"] for a in articles)
    finally:
        writer.close()


def test_an_interrupted_copy_run_again_finishes_without_duplicates(
        sqlite_qc: QueryCatalogue, postgres_url: str, tmp_path: Path) -> None:
    source_url = snapshot(sqlite_qc, tmp_path / "catalogue.sqlite")
    engine = create_engine(source_url)
    with engine.begin() as connection:  # enough captures for a copy in batches of 10 to be caught halfway
        template = dict(connection.execute(select(Capture.__table__).limit(1)).one()._mapping)
        connection.execute(insert(Capture.__table__), [
            {**template, "id": None, "url": f"{template['url']}?page={n}", "warc_offset": n} for n in range(3000)])
    engine.dispose()
    total = len(rows(source_url, Capture))
    target = create_engine(postgres_url)

    copying = start_cli("--db", source_url, "db", "copy", "--to", postgres_url, "--batch-rows", "10",
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while copying.poll() is None and time.monotonic() < deadline:
        try:
            with target.connect() as connection:
                if (connection.scalar(select(func.count()).select_from(Capture.__table__)) or 0) > 500:
                    break
        except ProgrammingError:  # the copy has not made the schema yet
            pass
        time.sleep(0.02)
    copying.send_signal(signal.SIGKILL)
    copying.wait()
    with target.connect() as connection:
        copied = connection.scalar(select(func.count()).select_from(Capture.__table__))
        assert connection.scalar(select(func.count()).select_from(Article.__table__)) == 0
    target.dispose()
    assert 500 < copied < total, "the copy was not stopped halfway"

    result = run_cli("--db", source_url, "db", "copy", "--to", postgres_url, "--batch-rows", "10")

    assert result.returncode == 0, result.stderr
    assert f"captures: {total:,} rows, {total:,} in the copy" in result.stdout
    for model in TABLES:
        assert rows(postgres_url, model) == rows(source_url, model), model.__tablename__


def test_a_copy_keeps_a_link_to_a_later_article_and_reports_each_table(tmp_path: Path, postgres_url: str) -> None:
    source_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    catalogue = Catalogue(source_url)
    first, later = (catalogue.record_article("wire", f"https://wire.example/{n}.html", Extracted(
        text=f"Story number {n} about the harbour.", title=f"Story {n}", authors=[], published=None, language="en",
        sitename=None, canonical_url=None, description=None)).article_id for n in (1, 2))
    with catalogue.session() as session:  # as a copy recognised after its original was catalogued would be
        session.execute(update(Article).where(Article.id == first).values(duplicate_of=later, duplicate_kind="exact"))
    for page in ("gallery", "live"):  # pages of the wire that are no article: not to be fetched again
        catalogue.record_not_article("wire", f"https://wire.example/{page}.html", reason="too_short")
    catalogue.close()
    seen: list[CopyProgress] = []

    report = copy_catalogue(source_url, postgres_url, batch_rows=1, progress=seen.append)

    assert report.ok and {count.table: count.target for count in report.tables}["articles"] == 2
    assert {count.table: count.target for count in report.tables}["not_articles"] == 2
    assert rows(postgres_url, Article) == rows(source_url, Article)
    assert rows(postgres_url, NotArticle) == rows(source_url, NotArticle)
    assert CopyProgress("articles", 2, 2) in seen
    # The target's counts per group come from its own triggers: the forward link moved the first
    # article out of the originals, and a copy run again (every row skipped) counts nothing twice.
    copy_catalogue(source_url, postgres_url)
    for url in (source_url, postgres_url):
        catalogue = Catalogue(url, read_only=True)
        assert [facet_counts(catalogue, ArticleQuery(unique=unique))["total"] for unique in (False, True)] == [2, 1]
        catalogue.close()
    copied = Catalogue(postgres_url)
    try:  # and the copy's id sequence is past them: the next crawl remembers more
        copied.record_not_article("wire", "https://wire.example/index.html", reason="too_short")
        assert len(copied.known_not_article_urls("wire")) == 3
    finally:
        copied.close()


def test_copying_a_catalogue_that_is_not_there_is_one_line_and_status_2(tmp_path: Path, postgres_url: str) -> None:
    result = run_cli("--data-dir", str(tmp_path / "nothing"), "db", "copy", "--to", postgres_url)

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def test_a_copy_into_another_catalogue_is_refused(tmp_path: Path, postgres_url: str) -> None:
    for url, title in ((f"sqlite:///{tmp_path / 'catalogue.sqlite'}", "Ours"), (postgres_url, "Theirs")):
        catalogue = Catalogue(url)
        catalogue.record_article("wire", "https://wire.example/1.html", Extracted(
            text=f"{title}: a story.", title=title, authors=[], published=None, language="en", sitename=None,
            canonical_url=None, description=None))
        catalogue.close()

    result = run_cli("--data-dir", str(tmp_path), "db", "copy", "--to", postgres_url)

    assert result.returncode == 2
    assert "row 1 is not this catalogue's: it holds another catalogue" in result.stderr
    assert [row[4] for row in rows(postgres_url, Article).values()] == ["Theirs"]  # the title: left alone
