"""Loading many new articles into a catalogue at once (`db copy`, the query benchmark).

A catalogue keeps its full-text index (SQLite's FTS5 table) and its counts per group
(``article_counts`` and the two narrower tables) in step by triggers that run for every
article inserted, which is most of the cost of a big load. Inside ``bulk_load`` those
triggers are suspended; at its end the FTS index is filled and the counts are added for
the articles inserted, one statement each, and the triggers are put back from their own
definitions, read from the database before they were suspended (so nothing here repeats
the migrations' SQL). On PostgreSQL the generated ``search_vector`` column cannot be
suspended: each row still computes its ``tsvector`` as it arrives (most of a load's time
there); into an empty table, its GIN index is dropped and built once at the end instead of
being maintained row by row, again from the definition the database gives.

All of it is one transaction (SQLite and PostgreSQL both roll DDL back): an error inside,
a kill or a crash leaves the catalogue as it was before, triggers, index and counts included.
Other writers of articles wait for it to end (SQLite's write lock; PostgreSQL's lock of
``ALTER TABLE ... DISABLE TRIGGER``), as they would for any long write; readers do not,
but on PostgreSQL during a load into an empty catalogue (``DROP INDEX`` locks the table).

What a bulk load may do: insert articles whose ids are above every id already there (as
an autoincrement or a copy in key order gives them). It must not update or delete
articles: with the triggers off, no index entry or count would follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection, Engine

from archive.catalogue.models import (
    FTS_TABLE,
    Article,
    article_counts,
    article_day_language_counts,
    article_day_source_counts,
)

COUNT_TABLES = (article_counts, article_day_source_counts, article_day_language_counts)
COUNTED = ("articles", "unique_articles")  # a count table's columns that are not its group
INDEX_BUILD_MEMORY = "1GB"  # PostgreSQL's GIN build: a million articles' entries sorted in memory, not spilled
# SQLite's page cache while loading (default 2 MB): at a million articles the 16 indexes of
# articles outgrow it many times, and each row inserted would read pages of each back.
SQLITE_CACHE_KIB = 1024 * 1024
# FTS5 writes its pending terms out as a new segment each time they fill this much memory, and
# merges those segments as they pile up. Its default (1 MiB: fts5Int.h's FTS5_DEFAULT_HASHSIZE)
# makes a segment every few hundred articles of a load; a load sets this, then puts back what was.
FTS_HASH_BYTES = 64 * 1024 * 1024
FTS_DEFAULT_HASH_BYTES = 1024 * 1024


@dataclass
class _Suspended:
    """What ``bulk_load`` turned off, and what it needs to do their work in bulk at the end."""

    connection: Connection
    last_id: int  # articles above it are the load's
    was_empty: bool
    triggers: list[str] = field(default_factory=list)  # names of the triggers turned off
    trigger_sql: list[str] = field(default_factory=list)  # SQLite: what made them (dropped, then made again)
    deferred_indexes: list[str] = field(default_factory=list)  # CREATE INDEX statements, as the database gives them

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def suspend(self) -> None:
        """Turn the per-row triggers on ``articles`` off, keeping what puts them back."""
        if self.dialect == "postgresql":  # disabled within the transaction: other sessions wait on its lock
            self.triggers = list(self.connection.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'articles'::regclass AND NOT tgisinternal "
                "AND tgenabled = 'O' ORDER BY oid").scalars())
            for name in self.triggers:
                self.connection.exec_driver_sql(f'ALTER TABLE articles DISABLE TRIGGER "{name}"')
            if self.was_empty:
                self._defer_gin_indexes()
        else:
            rows = list(self.connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles' ORDER BY rowid"))
            self.triggers, self.trigger_sql = [name for name, _ in rows], [sql for _, sql in rows]
            for name in self.triggers:
                self.connection.exec_driver_sql(f'DROP TRIGGER "{name}"')

    def finish(self) -> None:
        """Index and count the articles loaded, then put the triggers back as they were."""
        if self.dialect == "sqlite":
            self._fill_fts()
        for table in COUNT_TABLES:
            self._add_counts(table)
        if self.deferred_indexes:
            self.connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            for definition in self.deferred_indexes:
                self.connection.exec_driver_sql(definition)
        if self.dialect == "postgresql":
            for name in self.triggers:
                self.connection.exec_driver_sql(f'ALTER TABLE articles ENABLE TRIGGER "{name}"')
        for sql in self.trigger_sql:  # SQLite's, dropped
            self.connection.exec_driver_sql(sql)

    def _defer_gin_indexes(self) -> None:
        """Drop the GIN indexes of an empty ``articles`` (the ``search_vector`` one), to build them once at the end.

        Built from the whole table at once it costs less than maintained row by row. Their
        definitions are PostgreSQL's own (``pg_get_indexdef``), so they come back the same.
        """
        self.deferred_indexes = list(self.connection.exec_driver_sql(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'articles'::regclass AND a.amname = 'gin' "
            "ORDER BY c.relname").scalars())
        for definition in self.deferred_indexes:
            name = re.match(r"CREATE INDEX (\S+) ON", definition).group(1)
            self.connection.exec_driver_sql(f"DROP INDEX {name}")

    def _fill_fts(self) -> None:
        """The loaded articles into the FTS5 index, read through its content view (which folds Arabic)."""
        definition = self.connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).scalar_one()
        content = re.search(r"content\s*=\s*'([^']+)'", definition).group(1)
        columns = ", ".join(row[1] for row in self.connection.exec_driver_sql(f"PRAGMA table_info({FTS_TABLE})"))
        previous = self.connection.exec_driver_sql(f"SELECT v FROM {FTS_TABLE}_config WHERE k = 'hashsize'").scalar()
        self._set_fts_hash_bytes(FTS_HASH_BYTES)
        # FTS5's 'rebuild' of an empty index costs the same (20,000 articles: 6.3 s either way): one way for both
        self.connection.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE}(rowid, {columns}) SELECT id, {columns} FROM {content} WHERE id > ?",
            (self.last_id,))
        self._set_fts_hash_bytes(int(previous or FTS_DEFAULT_HASH_BYTES))
        if previous is None:  # as it was: no setting of its own (the value just set is the default)
            self.connection.exec_driver_sql(f"DELETE FROM {FTS_TABLE}_config WHERE k = 'hashsize'")

    def _set_fts_hash_bytes(self, size: int) -> None:
        """FTS5's ``hashsize`` (stored with the index, in its ``_config`` table)."""
        self.connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('hashsize', {int(size)})")

    def _add_counts(self, table: Table) -> None:
        """Add the loaded articles to ``table``'s groups: one grouped upsert on the table's unique group index."""
        group = ", ".join(column.name for column in table.columns if column.name not in COUNTED)
        name = table.name
        self.connection.exec_driver_sql(
            f"INSERT INTO {name} ({group}, articles, unique_articles) "
            f"SELECT {group}, count(*), count(*) - count(duplicate_of) FROM articles WHERE id > {int(self.last_id)} "
            f"GROUP BY {group} ON CONFLICT {self._group_index_key(name)} DO UPDATE SET "
            f"articles = {name}.articles + excluded.articles, "
            f"unique_articles = {name}.unique_articles + excluded.unique_articles")

    def _group_index_key(self, table: str) -> str:
        """The expressions of ``table``'s unique group index, ``(...)``, as the database has them."""
        if self.dialect == "postgresql":
            definition = self.connection.exec_driver_sql(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %(t)s::regclass AND indisunique",
                {"t": table}).scalar_one()
        else:
            definition = self.connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE 'CREATE UNIQUE%'",
                (table,)).scalar_one()
        return definition[definition.index("(", definition.index(" ON ")):].strip()


@contextmanager
def _sqlite_cache(connection: Connection) -> Iterator[None]:
    """SQLite's page cache made big enough for the articles' indexes while loading, then as it was."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for inserting many new articles, their triggers' work done in bulk at the end.

    Committed when the block ends, rolled back (triggers back too) when it raises.
    """
    with engine.connect() as connection, _sqlite_cache(connection):
        if engine.dialect.name == "sqlite":
            # pysqlite would begin the transaction at the first INSERT, after the triggers were dropped
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            last_id = connection.scalar(select(func.max(Article.id)))
            suspended = _Suspended(connection, last_id or 0, last_id is None)
            suspended.suspend()
            yield connection
            suspended.finish()
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
