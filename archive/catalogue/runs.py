"""Crawl runs and their liveness: started, beating, finished, or closed as dead.

A crawl process beats (its figures so far, and the time) every few seconds; a run whose
process is gone is closed by whoever looks next (a crawl's start, `verify --repair`), with
its figures recounted from what it archived.
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import joinedload

from archive.catalogue.database import CatalogueDatabase, naive_utc, utcnow
from archive.catalogue.models import (
    Article,
    ArticleVersion,
    Capture,
    CrawlRun,
    NotArticle,
    SourceRow,
)


class RunLog(CatalogueDatabase):
    """The ``crawl_runs`` table: one row per crawl of a source."""

    def start_run(self, source: str, *, host: str) -> int:
        """Record a crawl run as running, owned by this process on ``host``, with its first heartbeat."""
        source_id = self.source_id(source)
        with self.session() as session:
            run = CrawlRun(source_id=source_id, status="running", started=utcnow(), host=host, pid=os.getpid(),
                           heartbeat=self._now(), error_kinds={}, warc_files=[])
            session.add(run)
            session.flush()
            return run.id

    def beat(self, run_id: int, **figures: object) -> bool:
        """A running run's heartbeat, with its figures so far; False when the run is no longer running.

        False means another process took the run for dead (no heartbeat within the timeout)
        and closed it: its record no longer follows the crawl.
        """
        with self.session() as session:
            result = session.execute(
                update(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.status == "running")
                .values(heartbeat=self._now(), **figures)
            )
            return result.rowcount == 1

    def update_run(self, run_id: int, **figures: object) -> None:
        """Set figures (pages, bytes, errors, warc_files...) of a run."""
        with self.session() as session:
            session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**figures))

    def finish_run(self, run_id: int, status: str, **figures: object) -> None:
        """Close a run with its final status: ok, failed or interrupted."""
        self.update_run(run_id, status=status, finished=utcnow(), **figures)

    def get_run(self, run_id: int) -> CrawlRun | None:
        """A run with its source loaded, usable after the session is gone."""
        with self.session() as session:
            return session.get(CrawlRun, run_id, options=[joinedload(CrawlRun.source)])

    def find_run(self, source: str, host: str, pid: int, since: datetime) -> CrawlRun | None:
        """The run a crawl process started (host and pid, not before ``since``): how a supervisor finds it."""
        with self.session() as session:
            return session.scalar(
                select(CrawlRun).join(SourceRow, SourceRow.id == CrawlRun.source_id)
                .where(SourceRow.name == source, CrawlRun.host == host, CrawlRun.pid == pid,
                       CrawlRun.started >= naive_utc(since))
                .order_by(CrawlRun.id.desc()).limit(1)
            )

    def recount_run(self, run_id: int) -> dict[str, int]:
        """A run's figures counted from its captures, article versions and the not-articles it fetched last.

        For a run whose process was killed before it saved them; ``bytes`` is not kept per
        capture and is left as last saved.
        """
        with self.session() as session:
            pages, not_modified = session.execute(
                select(func.count(Capture.id), func.count(Capture.id).filter(Capture.status == 304))
                .where(Capture.run_id == run_id)
            ).one()
            versions = session.execute(
                select(ArticleVersion.version, Article.duplicate_of)
                .join(Capture, Capture.id == ArticleVersion.capture_id)
                .join(Article, Article.id == ArticleVersion.article_id)
                .where(Capture.run_id == run_id)
            ).all()
            not_articles = session.scalar(
                select(func.count(NotArticle.id)).join(Capture, Capture.id == NotArticle.capture_id)
                .where(Capture.run_id == run_id)
            )
        return {
            "pages": pages,
            "not_modified": not_modified,
            "not_articles": not_articles,
            "articles_new": sum(1 for version, original in versions if version == 1 and original is None),
            "articles_updated": sum(1 for version, _ in versions if version > 1),
            "articles_duplicate": sum(1 for version, original in versions if version == 1 and original is not None),
        }

    def mark_dead_runs(self, host: str, timeout: float, status: str = "interrupted") -> list[int]:
        """Close as ``status`` the runs left ``running`` by crawl processes that are gone; their ids.

        A run is dead when its heartbeat is older than ``timeout`` seconds, whichever host
        ran it, or at once when it ran on ``host`` (this machine) and its pid is gone (a pid
        reused since only delays that to the timeout). A fresh run of another host is never
        touched: its pid means nothing here. A dead
        run's figures are recounted from its captures (it saved them only every few
        seconds), ``finished`` is its last heartbeat and ``message`` says why it was closed.
        """
        now = self.clock()
        closed = []
        with self.session() as session:
            runs = session.execute(
                select(CrawlRun.id, CrawlRun.host, CrawlRun.pid, CrawlRun.heartbeat, CrawlRun.started)
                .where(CrawlRun.status == "running")
            ).all()
        for run_id, run_host, pid, heartbeat, started in runs:
            last_sign = heartbeat or started
            since = f"no heartbeat since {last_sign:%Y-%m-%d %H:%M:%S} UTC from host {run_host or '(unknown)'}"
            if run_host == host and pid is not None and not _pid_alive(pid):
                message = f"{since}: its crawl process ({pid}) is gone"
            elif (now - last_sign).total_seconds() > timeout:
                message = f"{since} (timeout {timeout:g} s): its crawl process is gone"
            else:
                continue
            figures = self.recount_run(run_id)
            # Only if it did not beat meanwhile: a crawl held up past the timeout may be back.
            unchanged = CrawlRun.heartbeat.is_(None) if heartbeat is None else CrawlRun.heartbeat == heartbeat
            with self.session() as session:
                result = session.execute(
                    update(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.status == "running", unchanged)
                    .values(status=status, finished=last_sign, message=message, **figures)
                )
            if result.rowcount == 1:
                closed.append(run_id)
        return closed

    def clock(self) -> datetime:
        """Now, naive UTC, by the clock heartbeats are written with (see ``_now``)."""
        now = self._now()
        if isinstance(now, datetime):
            return now
        with self.session() as session:
            return session.scalar(select(now))

    def _now(self) -> datetime | ColumnElement[datetime]:
        """Now for a heartbeat: PostgreSQL's own clock, the one clock of every host sharing it.

        So a host whose clock is off can neither take the live runs of others for dead nor
        make its own look fresher than they are. SQLite is opened by one machine only: its clock.
        """
        if self.engine.dialect.name == "postgresql":
            return func.timezone("UTC", func.clock_timestamp())
        return utcnow()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
