"""The catalogue's tables (SQLAlchemy 2 declarative models).

Schema changes go through Alembic (``archive/migrations``); these classes are the
source the migrations are written from. Times are stored as naive UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


JOBS_TABLE = "apscheduler_jobs"  # APScheduler's job store (scheduler/service.py), in the catalogue database too


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """A configured source, kept so runs and articles survive edits of sources.toml."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime)


class CrawlRun(Base):
    """One crawl of one source, with the figures `newsarchive runs` shows."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running ok failed interrupted
    started: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    # Liveness of a running run: the crawl writes ``heartbeat`` every few seconds; a run whose
    # heartbeat is older than the timeout is dead, and so is one of this host whose pid is gone.
    host: Mapped[str | None] = mapped_column(String(255))  # Settings.host of the crawl process
    pid: Mapped[int | None] = mapped_column(Integer)  # on ``host``
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime)  # the database's clock where it has one
    pages: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)  # 304s to conditional GETs
    not_articles: Mapped[int] = mapped_column(Integer, default=0)  # article URLs fetched that held no article
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    articles_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_kinds: Mapped[dict] = mapped_column(JSON, default=dict)
    warc_files: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)

    source: Mapped[SourceRow] = relationship()


class Capture(Base):
    """One archived HTTP exchange: where its response (or revisit) record lies in which WARC."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    # SURT, as pywb's CDX index sorts by it; compared byte-wise, as CDX ranges are (PostgreSQL: "C")
    urlkey: Mapped[str] = mapped_column(Text().with_variant(Text(collation="C"), "postgresql"))
    timestamp: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str | None] = mapped_column(String(200))
    record_type: Mapped[str] = mapped_column(String(10))  # response | revisit
    warc_file: Mapped[str] = mapped_column(String(255))
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)
    payload_digest: Mapped[str] = mapped_column(String(64), index=True)
    refers_to_url: Mapped[str | None] = mapped_column(Text)
    refers_to_date: Mapped[str | None] = mapped_column(String(40))
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_captures_urlkey_timestamp", "urlkey", "timestamp"),)


class Article(Base):
    """One article, identified by its canonical URL; its latest version's text and metadata."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    url: Mapped[str] = mapped_column(Text)  # the URL it was first fetched at
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list] = mapped_column(JSON, default=list)
    published: Mapped[date | None] = mapped_column(Date, index=True)  # the day of published_at, for filters
    # ISO 8601 as the page states it, with time and zone where known ("2024-05-14T08:30:00+02:00").
    published_at: Mapped[str | None] = mapped_column(String(40))
    # What "newest first" sorts by: published_at's day, then its UTC instant where a time and zone
    # are stated (identity.published_order); byte-wise, as its digits are laid out to sort (PostgreSQL: "C").
    published_order: Mapped[str | None] = mapped_column(
        String(40).with_variant(String(40, collation="C"), "postgresql"))
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    sitename: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(40), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    # The four 16-bit bands of simhash: a near-duplicate is within a few bits of one of
    # them (pigeonhole), so indexed IN lookups (dedup.band_probes) find candidates
    # without scanning every article.
    sim_band0: Mapped[int | None] = mapped_column(Integer, index=True)
    sim_band1: Mapped[int | None] = mapped_column(Integer, index=True)
    sim_band2: Mapped[int | None] = mapped_column(Integer, index=True)
    sim_band3: Mapped[int | None] = mapped_column(Integer, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    duplicate_kind: Mapped[str | None] = mapped_column(String(10))  # exact | near
    # The story: an original and its copies share it (the first original's id, kept when a
    # more original copy takes over). at_home: on its source's hosts, naming no other site.
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at_home: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    first_seen: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))  # latest version's capture
    versions_count: Mapped[int] = mapped_column(Integer, default=1)

    source: Mapped[SourceRow] = relationship()
    capture: Mapped[Capture | None] = relationship()


def _counts_table(name: str, *group: Column) -> Table:
    return Table(name, Base.metadata, *group,
                 Column("articles", Integer, nullable=False),  # all of the group's articles
                 Column("unique_articles", Integer, nullable=False),  # those that are not duplicates
                 Index(f"ix_{name}_published", *(column.name for column in group), "articles", "unique_articles"))


# SQLite's FTS5 index of the articles (migration 0002, kept by triggers; a virtual table, so not
# mapped here): queried by archive.query.search, filled in bulk by archive.catalogue.bulk.
FTS_TABLE = "articles_fts"

# The articles per published day, source and language, and per day and source, per day and
# language, kept by triggers on articles (migration 0008, which also makes their unique
# indexes on each group): facets read these few rows instead of every article. No model writes them.
article_counts = _counts_table("article_counts", Column("published", Date),
                               Column("source_id", ForeignKey("sources.id"), nullable=False),
                               Column("language", String(16)))
article_day_source_counts = _counts_table("article_day_source_counts", Column("published", Date),
                                          Column("source_id", ForeignKey("sources.id"), nullable=False))
article_day_language_counts = _counts_table("article_day_language_counts", Column("published", Date),
                                            Column("language", String(16)))


class ArticleVersion(Base):
    """Every distinct body an article has had; the newest is also on the article row."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(40))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    fetched: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("article_id", "version"),)


class ArticleUrl(Base):
    """Every URL an article was fetched at (tracking and AMP variants, redirects)."""

    __tablename__ = "article_urls"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)


class NotArticle(Base):
    """A URL of a source that matched its article rule but held no article: not fetched again.

    ``url_key`` is the URL as the spider identifies article URLs (``NewsSpider.article_key``);
    a URL whose page later turns out to be an article is removed.
    """

    __tablename__ = "not_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url_key: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(20))  # not_html | too_short (archive.extract's verdict)
    first_seen: Mapped[datetime] = mapped_column(DateTime)  # refresh_hours counts from it, as for articles
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))  # the latest fetch's

    __table_args__ = (UniqueConstraint("source_id", "url_key"),)
