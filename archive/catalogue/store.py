"""The deduplicated article catalogue: sources, crawl runs, captures and articles.

One ``Catalogue`` per process, built from a SQLAlchemy URL (SQLite by default,
PostgreSQL at scale). Writers are the crawl (captures, articles, run figures): opening it
for them brings the schema to the newest Alembic revision. Readers (the query layer,
replay, the CLI's read commands) open it ``read_only``: nothing is created, migrated,
locked or written, so an archive on a read-only file system can be searched and replayed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, create_engine, event, func, or_, select, update
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from archive.catalogue.dedup import (
    MIN_NEAR_DUPLICATE_TOKENS,
    Fingerprint,
    band_probes,
    is_near_duplicate,
    simhash_bands,
)
from archive.catalogue.models import Article, ArticleUrl, ArticleVersion, Capture, CrawlRun, SourceRow
from archive.urls import article_url_key, normalise_url, surt
from archive.warc.records import CaptureInfo

if TYPE_CHECKING:  # only a type here: read commands need not import trafilatura
    from archive.extract.article import Extracted

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    """Naive UTC, as every time column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def is_disk_full(error: BaseException) -> bool:
    """Whether a database error says the catalogue's disk (or quota) is full.

    SQLite's SQLITE_FULL, PostgreSQL's ``disk_full`` (SQLSTATE 53100); ``error`` may be
    SQLAlchemy's wrapper or the driver's own exception.
    """
    original = getattr(error, "orig", None) or error
    return (getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(original, "sqlstate", None) == "53100")


@dataclass(frozen=True)
class Validators:
    """What a conditional GET of a URL sends, and where the body it would get again is archived."""

    etag: str | None
    last_modified: str | None
    warc_file: str  # the response record holding the payload (a revisit's original)
    warc_offset: int


@dataclass(frozen=True)
class ArticleOutcome:
    """What recording an extracted page did: new, updated, unchanged or duplicate."""

    status: str
    article_id: int
    duplicate_of: int | None = None


class CatalogueError(Exception):
    """A catalogue that a reader cannot use: missing, unreadable, or not at this code's schema."""


def create_catalogue_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine with SQLite tuned for one writer and concurrent readers (WAL).

    ``read_only``: an engine that creates and writes nothing (see ``_read_only_engine``).
    """
    if read_only:
        return _read_only_engine(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the crawl
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WARCs are the truth
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")  # a second process waits, not fails
            cursor.close()

    return engine


def _read_only_engine(url: str) -> Engine:
    """An engine on an existing catalogue that writes nothing, not even on a read-only file system.

    SQLite: the file must exist (a reader never creates one) and every connection is
    ``query_only``. PostgreSQL: every transaction is read-only.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    path = Path(parsed.database or "")
    if not parsed.database or parsed.database == ":memory:" or not path.is_file():
        raise CatalogueError(f"{path}: no catalogue there yet (`newsarchive crawl` or `newsarchive db upgrade` "
                             "makes one; --data-dir or --db names another)")
    engine = create_engine(URL.create("sqlite", database=f"file:{quote(str(path.resolve()))}",
                                      query={**_sqlite_read_mode(path), "uri": "true"}))

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")  # a reader's bug cannot write the archive
        cursor.execute("PRAGMA busy_timeout=30000")  # a crawl's checkpoint makes us wait, not fail
        cursor.close()

    return engine


def _sqlite_read_mode(path: Path) -> dict[str, str]:
    """How to open a WAL-mode SQLite file for reading, as the file system allows.

    A WAL reader needs the ``-shm`` index. In a writable directory: an ordinary read-write
    connection (``query_only``), which removes ``-wal`` and ``-shm`` again on close (a
    ``mode=ro`` one would leave them behind). In a read-only one, ``mode=ro`` works while a
    writer elsewhere keeps those files; otherwise, with no ``-shm`` and no way to create it,
    only ``immutable=1``: nobody can be writing through a read-only file system, so the file
    is read as it is.
    """
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return {"mode": "rw"}  # rw, not rwc: never creates a file
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.OperationalError:
        return {"immutable": "1"}
    return {"mode": "ro"}


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None when it has no catalogue schema."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Raise CatalogueError unless the database is at this code's newest revision (readers never migrate)."""
    where = describe_url(engine.url)
    script = ScriptDirectory.from_config(_alembic_config())
    try:
        current = schema_revision(engine)
    except DatabaseError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CatalogueError(f"{where}: cannot be read: {reason}") from None
    head = script.get_current_head()
    if current == head:
        return
    if current is None:
        raise CatalogueError(f"{where}: no catalogue schema yet: run `newsarchive db upgrade`")
    if current not in {revision.revision for revision in script.walk_revisions()}:
        raise CatalogueError(f"{where}: schema revision {current} is newer than this newsarchive knows: "
                             "upgrade newsarchive")
    raise CatalogueError(f"{where}: schema revision {current} is older than this newsarchive's ({head}): "
                         "run `newsarchive db upgrade`")


def describe_url(url: str | URL) -> str:
    """A catalogue as a user named it: the SQLite file, or the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return unquote(parsed.database.removeprefix("file:")) if parsed.query.get("uri") else parsed.database
    return parsed.render_as_string(hide_password=True)


MIGRATION_LOCK_ID = 0x6E657773  # PostgreSQL advisory lock key ("news"): one migrator at a time


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise schema upgrades of processes that open a new catalogue at the same moment."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})")
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})")
                connection.commit()
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with open(f"{engine.url.database}.migrate-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
    else:
        yield


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest Alembic revision (idempotent, safe to race)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # no banner on every open
    config = _alembic_config()
    with _migration_lock(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def upgrade_catalogue(url: str) -> tuple[str | None, str | None]:
    """Create or upgrade the catalogue at ``url`` (`newsarchive db upgrade`): its revision before and after."""
    engine = create_catalogue_engine(url)
    try:
        before = schema_revision(engine)
        upgrade_schema(engine)
        return before, schema_revision(engine)
    finally:
        engine.dispose()


class Catalogue:
    """Entry point to the catalogue for crawls, queries and tools.

    ``read_only``: for readers; the catalogue must exist at this code's schema (else
    CatalogueError, saying what to do) and is neither migrated nor written.
    """

    def __init__(self, url: str, *, migrate: bool = True, read_only: bool = False) -> None:
        self.url = url
        self.engine = create_catalogue_engine(url, read_only=read_only)
        if read_only:
            check_schema(self.engine)
        elif migrate:
            upgrade_schema(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._source_ids: dict[str, int] = {}  # sources are never renamed or deleted

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    @property
    def location(self) -> str:
        """Where the catalogue is, for messages: the SQLite file, or the URL without its password."""
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            return self.engine.url.database
        return self.engine.url.render_as_string(hide_password=True)

    # --- sources and runs --------------------------------------------------------------
    def source_id(self, name: str) -> int:
        """The id of a source, created on first use."""
        if name in self._source_ids:
            return self._source_ids[name]
        self._source_ids[name] = self._find_or_create_source(name)
        return self._source_ids[name]

    def _find_or_create_source(self, name: str) -> int:
        with self.session() as session:
            found = session.scalar(select(SourceRow.id).where(SourceRow.name == name))
            if found is not None:
                return found
        try:
            with self.session() as session:
                row = SourceRow(name=name, created=utcnow())
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:  # another worker created it first
            return self._find_or_create_source(name)

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
                       CrawlRun.started >= _naive_utc(since))
                .order_by(CrawlRun.id.desc()).limit(1)
            )

    def recount_run(self, run_id: int) -> dict[str, int]:
        """A run's figures counted from its captures and article versions.

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
        return {
            "pages": pages,
            "not_modified": not_modified,
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

    # --- captures ----------------------------------------------------------------------
    def add_capture(self, run_id: int | None, info: CaptureInfo, *, etag: str | None = None,
                    last_modified: str | None = None) -> int:
        """Index one archived exchange (its response or revisit record)."""
        with self.session() as session:
            capture = Capture(
                run_id=run_id, url=info.url, urlkey=surt(info.url), timestamp=_naive_utc(info.timestamp),
                status=info.status, mime=info.mime, record_type=info.record_type,
                warc_file=info.warc_file, warc_offset=info.offset, warc_length=info.length,
                payload_digest=info.payload_digest, refers_to_url=info.refers_to_url,
                refers_to_date=info.refers_to_date, etag=etag, last_modified=last_modified,
            )
            session.add(capture)
            session.flush()
            return capture.id

    def revisit_target(self, payload_digest: str) -> tuple[str, str] | None:
        """(url, WARC-Date) of the first response record with this payload, from any crawl."""
        with self.session() as session:
            row = session.execute(
                select(Capture.url, Capture.timestamp)
                .where(Capture.payload_digest == payload_digest, Capture.record_type == "response")
                .order_by(Capture.id).limit(1)
            ).first()
        if row is None:
            return None
        return row.url, row.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def latest_validators(self, url: str) -> Validators | None:
        """ETag / Last-Modified of the latest 200 capture of ``url``, with where its body lies.

        None when there is none, or the server sent neither validator.
        """
        with self.session() as session:
            latest = session.scalar(
                select(Capture).where(Capture.urlkey == surt(url), Capture.url == url, Capture.status == 200)
                .order_by(Capture.timestamp.desc(), Capture.id.desc()).limit(1)
            )
            if latest is None or not (latest.etag or latest.last_modified):
                return None
            holder = latest if latest.record_type == "response" else session.scalar(
                select(Capture).where(Capture.payload_digest == latest.payload_digest,
                                      Capture.record_type == "response")
                .order_by(Capture.id).limit(1)
            )
            if holder is None:
                return None
            return Validators(latest.etag, latest.last_modified, holder.warc_file, holder.warc_offset)

    # --- articles ----------------------------------------------------------------------
    def known_article_urls(self, source: str) -> set[str]:
        """Normalised URLs already catalogued for a source: an incremental crawl skips them."""
        with self.session() as session:
            rows = session.scalars(
                select(ArticleUrl.url).join(Article, Article.id == ArticleUrl.article_id)
                .join(SourceRow, SourceRow.id == Article.source_id).where(SourceRow.name == source)
            )
            return set(rows)

    def recent_article_urls(self, source: str, since: datetime) -> set[str]:
        """Normalised URLs of a source's articles first seen after ``since`` (the refresh window)."""
        with self.session() as session:
            rows = session.scalars(
                select(ArticleUrl.url).join(Article, Article.id == ArticleUrl.article_id)
                .join(SourceRow, SourceRow.id == Article.source_id)
                .where(SourceRow.name == source, Article.first_seen >= since)
            )
            return set(rows)

    def record_article(self, source: str, url: str, extracted: Extracted, *,
                       capture_id: int | None = None, seen: datetime | None = None,
                       fingerprint: Fingerprint | None = None) -> ArticleOutcome:
        """Catalogue an extracted page under its canonical identity, with the dedup rules."""
        source_id = self.source_id(source)
        seen = _naive_utc(seen) if seen else utcnow()
        fingerprint = fingerprint or Fingerprint.of(extracted.text)
        try:
            with self.session() as session:
                return self._record_article(session, source_id, url, extracted, fingerprint, capture_id, seen)
        except IntegrityError:  # a concurrent worker inserted the same article: now it exists
            with self.session() as session:
                return self._record_article(session, source_id, url, extracted, fingerprint, capture_id, seen)

    def _record_article(self, session: Session, source_id: int, url: str, extracted: Extracted,
                        fingerprint: Fingerprint, capture_id: int | None, seen: datetime) -> ArticleOutcome:
        key = article_url_key(url, extracted.canonical_url)
        page_url = normalise_url(url)
        article = session.scalar(select(Article).where(Article.canonical_url == key))
        if article is None:
            article_id = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == page_url))
            article = session.get(Article, article_id) if article_id else None
        if article is not None:
            self._add_urls(session, article.id, {url, page_url, key})
            article.last_seen = max(article.last_seen, seen)
            if article.content_hash == fingerprint.content_hash:
                return ArticleOutcome("unchanged", article.id, article.duplicate_of)
            article.versions_count += 1
            self._set_content(article, extracted, fingerprint, capture_id)
            session.add(ArticleVersion(article_id=article.id, version=article.versions_count,
                                       title=extracted.title, text=extracted.text,
                                       content_hash=fingerprint.content_hash, capture_id=capture_id,
                                       fetched=seen))
            return ArticleOutcome("updated", article.id, article.duplicate_of)

        original, kind = self._find_original(session, fingerprint)
        article = Article(source_id=source_id, canonical_url=key, url=url, first_seen=seen,
                          last_seen=seen, versions_count=1,
                          duplicate_of=original, duplicate_kind=kind)
        self._set_content(article, extracted, fingerprint, capture_id)
        session.add(article)
        session.flush()
        session.add(ArticleVersion(article_id=article.id, version=1, title=extracted.title,
                                   text=extracted.text, content_hash=fingerprint.content_hash,
                                   capture_id=capture_id, fetched=seen))
        self._add_urls(session, article.id, {url, page_url, key})
        return ArticleOutcome("duplicate" if original else "new", article.id, original)

    @staticmethod
    def _set_content(article: Article, extracted: Extracted, fingerprint: Fingerprint,
                     capture_id: int | None) -> None:
        article.title = extracted.title
        article.authors = list(extracted.authors)
        article.published = _parse_date(extracted.published)
        article.language = extracted.language
        article.sitename = extracted.sitename
        article.description = extracted.description
        article.text = extracted.text
        article.content_hash = fingerprint.content_hash
        article.simhash = fingerprint.simhash
        article.sim_band0, article.sim_band1, article.sim_band2, article.sim_band3 = simhash_bands(
            fingerprint.simhash)
        article.capture_id = capture_id

    @staticmethod
    def _find_original(session: Session, fingerprint: Fingerprint) -> tuple[int | None, str | None]:
        """The first article with the same text (exact) or a SimHash neighbour (near)."""
        exact = session.scalar(
            select(Article.id).where(Article.content_hash == fingerprint.content_hash,
                                     Article.duplicate_of.is_(None))
            .order_by(Article.id).limit(1)
        )
        if exact is not None:
            return exact, "exact"
        if fingerprint.words < MIN_NEAR_DUPLICATE_TOKENS:
            return None, None
        probes = band_probes(fingerprint.simhash)
        candidates = session.execute(
            select(Article.id, Article.simhash).where(
                Article.duplicate_of.is_(None),
                or_(Article.sim_band0.in_(probes[0]), Article.sim_band1.in_(probes[1]),
                    Article.sim_band2.in_(probes[2]), Article.sim_band3.in_(probes[3])),
            ).order_by(Article.id)
        )
        for article_id, other in candidates:
            if other is not None and is_near_duplicate(fingerprint.simhash, other):
                return article_id, "near"
        return None, None

    @staticmethod
    def _add_urls(session: Session, article_id: int, urls: set[str]) -> None:
        existing = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(urls))))
        session.add_all(ArticleUrl(url=u, article_id=article_id) for u in urls - existing)



def _parse_date(value: str | None) -> date | None:
    """The date part of an ISO date or datetime string; None when unparseable."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
