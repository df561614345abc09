"""Facet counts of a query: how many matching articles per source, language and day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, func, select, type_coerce
from sqlalchemy.orm import Session

from archive.catalogue.models import (
    Article,
    SourceRow,
    article_counts,
    article_day_language_counts,
    article_day_source_counts,
)
from archive.catalogue.store import Catalogue
from archive.query.search import ArticleQuery, group_conditions, query_plan

COUNT_TABLES = (article_day_language_counts, article_day_source_counts, article_counts)  # fewest rows first


def counted(query: ArticleQuery) -> bool:
    """Whether the count tables can answer the query: it filters by nothing but sources, languages,
    published dates and duplicates hidden or not (no search text, author, first seen, story...)."""
    return not (query.search or query.author or query.seen_since or query.seen_until or query.story is not None
                or query.has_duplicates is not None)


def facet_counts(catalogue: Catalogue, query: ArticleQuery) -> dict[str, Any]:
    """Counts of the matching articles per source, language and day, and per day and source.

    A query the count tables can answer (kept by triggers: migration 0008) reads their rows,
    a few per group; any other is one grouped scan of the matches (an index-only scan
    without a search text).
    """
    with catalogue.session() as session:
        day_source, languages = (_counted if counted(query) else _scanned)(session, query)
        names = dict(session.execute(select(SourceRow.id, SourceRow.name)).all())
    sources, days, by_day_source = Counter(), Counter(), []  # days as ISO text: in date order as text
    for published, source_id, count in day_source:
        sources[names[source_id]] += count
        if published is not None:
            days[published] += count
            by_day_source.append((published, names[source_id], count))
    by_language = Counter()
    for language, count in languages:
        by_language[language or "unknown"] += count
    return {
        "total": sum(sources.values()),
        "undated": sum(sources.values()) - sum(days.values()),
        "sources": [{"value": k, "count": v} for k, v in sorted(sources.items(), key=lambda i: (-i[1], i[0]))],
        "languages": [{"value": k, "count": v}
                      for k, v in sorted(by_language.items(), key=lambda i: (-i[1], i[0]))],
        "days": [{"day": d, "count": n} for d, n in sorted(days.items())],
        "by_day_source": [{"day": d, "source": s, "count": n} for d, s, n in sorted(by_day_source)],
    }


Groups = tuple[Iterable[tuple[str | None, int, int]], Iterable[tuple[str | None, int]]]


def _day(session: Session, column: Any) -> ColumnElement:
    """A date column as ISO text (YYYY-MM-DD), which the facets print: thousands of rows not parsed
    into dates only to be written out again (SQLite stores that text already)."""
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce(column, String)
    return func.to_char(column, "YYYY-MM-DD")


def _counted(session: Session, query: ArticleQuery) -> Groups:
    """(count per day and source, count per language) from the narrowest count tables that hold the filters."""
    filtered = {name for name, used in (("source_id", query.source), ("language", query.language),
                                        ("published", query.since or query.until)) if used}

    def grouped(by: Sequence[str]) -> list:
        table: Table = next(t for t in COUNT_TABLES if {*by, *filtered} <= set(t.c.keys()))
        count = table.c.unique_articles if query.unique else table.c.articles
        columns = [_day(session, table.c[name]) if name == "published" else table.c[name] for name in by]
        statement = select(*columns, count) if len(table.c) == len(by) + 2 else \
            select(*columns, func.sum(count)).group_by(*columns)  # summed over the table's other groupings
        return _rows(session, statement.where(count > 0, *group_conditions(session, query, table.c)))

    return grouped(("published", "source_id")), grouped(("language",))


def _scanned(session: Session, query: ArticleQuery) -> Groups:
    """(count per day and source, count per language) from one grouped scan of the matching articles."""
    groups = (_day(session, Article.published), Article.source_id, Article.language)
    statement = query_plan(session, query).select(*groups, func.count()).group_by(*groups)
    day_source, languages = Counter(), Counter()
    for published, source_id, language, count in _rows(session, statement):
        day_source[published, source_id] += count
        languages[language] += count
    return [(*key, count) for key, count in day_source.items()], languages.items()


def _rows(session: Session, statement: Any) -> list[tuple]:
    """The driver's own rows: thousands of groups, without a SQLAlchemy Row each (half the time of
    20,000 rows; what they hold, text and integers, needs no conversion)."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()
