"""The deduplicated article catalogue: sources, crawl runs, captures and articles.

One ``Catalogue`` per process, built from a SQLAlchemy URL (SQLite by default,
PostgreSQL at scale). Its parts, one module each: the database and its schema
(``database``), crawl runs (``runs``), captures (``captures``), article identity
with the dedup rules (``identity``) and the URLs found to hold no article (``not_articles``).
"""

from __future__ import annotations

from archive.catalogue.captures import CaptureLog
from archive.catalogue.identity import ArticleRegistry
from archive.catalogue.not_articles import NotArticleLog
from archive.catalogue.runs import RunLog


class Catalogue(RunLog, CaptureLog, ArticleRegistry, NotArticleLog):
    """Entry point to the catalogue for crawls, queries and tools (``read_only`` for readers)."""
