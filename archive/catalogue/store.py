"""The deduplicated article catalogue: sources, crawl runs, captures and articles.

One ``Catalogue`` per process, built from a SQLAlchemy URL (SQLite by default,
PostgreSQL at scale). Its parts, one module each: the database and its schema
(``database``), crawl runs (``runs``), captures (``captures``) and article identity
with the dedup rules (``identity``).
"""

from __future__ import annotations

from archive.catalogue.captures import CaptureLog
from archive.catalogue.identity import ArticleRegistry
from archive.catalogue.runs import RunLog


class Catalogue(RunLog, CaptureLog, ArticleRegistry):
    """Entry point to the catalogue for crawls, queries and tools (``read_only`` for readers)."""
