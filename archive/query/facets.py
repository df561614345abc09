"""Facet counts of a query: how many matching articles per source, language and day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Table, func, select
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
DAYS_CACHED = 16_384  # days whose ISO text is kept: some 45 years of them


def counted(query: ArticleQuery) -> bool:
    """Whether the count tables can answer the query: it filters by nothing but sources, languages,
    published dates and duplicates hidden or not (no search text, author, first seen, story...)."""
    return not (query.search or query.author or query.seen_since or query.seen_until or query.story is not None
                or query.has_duplicates is not None)


def facet_counts(catalogue: Catalogue, query: ArticleQuery) -> dict[str, Any]:
    """Counts of the matching articles per source, language and day, and per day and source.

    A query the count tables can answer (kept by triggers: migration 0008) reads their rows,
    a statement per grouping, summed by the database; any other is one grouped scan of the
    matches (an index-only scan without a search text). A whole catalogue's chart is some
    20,000 day-and-source entries: they come in day order and are only put in source-name
    order within each day here (summing and sorting them in Python took most of the time).
    """
    with catalogue.session() as session:
        groups = (_counted if counted(query) else _scanned)(session, query)
        names = dict(session.execute(select(SourceRow.id, SourceRow.name)).all())
    rank = {source_id: n for n, source_id in enumerate(sorted(names, key=names.__getitem__))}
    by_day_source = sorted(groups.by_day_source, key=lambda row: (row[0], rank[row[1]]))
    sources = sorted(((names[source_id], count) for source_id, count in groups.sources),
                     key=lambda item: (-item[1], item[0]))
    by_language = Counter()
    for language, count in groups.languages:
        by_language[language or "unknown"] += count
    total = sum(count for _, count in sources)
    return {
        "total": total,
        "undated": total - sum(count for _, count in groups.days),
        "sources": [{"value": k, "count": v} for k, v in sources],
        "languages": [{"value": k, "count": v}
                      for k, v in sorted(by_language.items(), key=lambda i: (-i[1], i[0]))],
        "days": [{"day": _day_text(d), "count": n} for d, n in sorted(groups.days)],
        "by_day_source": [{"day": _day_text(d), "source": names[s], "count": n} for d, s, n in by_day_source],
    }


class Groups(NamedTuple):
    """The matches counted per group, as the driver gives them: days as dates (PostgreSQL) or ISO
    text (SQLite), dated groups only; sources by id."""

    by_day_source: list[tuple[date | str, int, int]]
    sources: Iterable[tuple[int, int]]
    days: Iterable[tuple[date | str, int]]
    languages: Iterable[tuple[str | None, int]]


@lru_cache(maxsize=DAYS_CACHED)
def _day_text(day: date | str) -> str:
    """A published day as the facets print it, ISO text: SQLite's rows hold that text already,
    PostgreSQL's dates are written out once each (its ``to_char`` of the chart's 22,000 rows cost
    twice their reading)."""
    return day if isinstance(day, str) else day.isoformat()


def _counted(session: Session, query: ArticleQuery) -> Groups:
    """The groups from the narrowest count tables that hold the filters, a statement each."""
    filtered = {name for name, used in (("source_id", query.source), ("language", query.language),
                                        ("published", query.since or query.until)) if used}

    def grouped(*by: str) -> list:
        table: Table = next(t for t in COUNT_TABLES if {*by, *filtered} <= set(t.c.keys()))
        count = table.c.unique_articles if query.unique else table.c.articles
        keys = [table.c[name] for name in by]
        if len(table.c) == len(by) + 2:  # the table's own groups, in its index's order
            statement = select(*keys, count).order_by(*keys)
        else:  # summed over the table's other groupings
            statement = select(*keys, func.sum(count)).group_by(*keys)
        if "published" in by:
            statement = statement.where(table.c.published.is_not(None))
        return _rows(session, statement.where(count > 0, *group_conditions(session, query, table.c)))

    return Groups(grouped("published", "source_id"), grouped("source_id"), grouped("published"),
                  grouped("language"))


def _scanned(session: Session, query: ArticleQuery) -> Groups:
    """The groups from one grouped scan of the matching articles."""
    groups = (Article.published, Article.source_id, Article.language)
    statement = query_plan(session, query).select(*groups, func.count()).group_by(*groups)
    day_source, sources, days, languages = Counter(), Counter(), Counter(), Counter()
    for published, source_id, language, count in _rows(session, statement):
        sources[source_id] += count
        languages[language] += count
        if published is not None:
            day_source[published, source_id] += count
            days[published] += count
    return Groups([(*key, count) for key, count in day_source.items()], sources.items(), days.items(),
                  languages.items())


def _rows(session: Session, statement: Any) -> list[tuple]:
    """The driver's own rows: thousands of groups, without a SQLAlchemy Row each (half the time of
    20,000 rows; what they hold, days, text and integers, needs no conversion)."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()
