"""Opening the catalogue database and keeping its schema current.

Writers (the crawl, ``newsarchive db upgrade``) bring the schema to the newest Alembic
revision when they open it; readers (the query layer, replay, the CLI's read commands)
open it read-only: nothing is created, migrated, locked or written, so an archive on a
read-only file system can be searched and replayed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.catalogue.models import SourceRow

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    """Naive UTC, as every time column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(moment: datetime) -> datetime:
    """Naive UTC of an aware or naive (taken as UTC) datetime."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def is_disk_full(error: BaseException) -> bool:
    """Whether a database error says the catalogue's disk (or quota) is full.

    SQLite's SQLITE_FULL, PostgreSQL's ``disk_full`` (SQLSTATE 53100); ``error`` may be
    SQLAlchemy's wrapper or the driver's own exception.
    """
    original = getattr(error, "orig", None) or error
    return (getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(original, "sqlstate", None) == "53100")


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



class CatalogueDatabase:
    """The catalogue's engine and sessions, the base of ``Catalogue``'s parts.

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
        return describe_url(self.engine.url)

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
