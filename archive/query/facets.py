"""Facet counts of a query: how many matching articles per source, language and day."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from archive.catalogue.models import Article, SourceRow, article_counts
from archive.catalogue.store import Catalogue
from archive.query.search import ArticleQuery, group_conditions, query_plan


def counted(query: ArticleQuery) -> bool:
    """Whether article_counts can answer the query: it filters by nothing but sources, languages,
    published dates and duplicates hidden or not (no search text, author, first seen, story...)."""
    return not (query.search or query.author or query.seen_since or query.seen_until or query.story is not None
                or query.has_duplicates is not None)


def facet_counts(catalogue: Catalogue, query: ArticleQuery) -> dict[str, Any]:
    """Counts of the matching articles per source, language and day, and per day and source.

    A query article_counts can answer reads its rows, one per group (kept by triggers:
    migration 0008); any other is one grouped scan of the matches (an index-only scan
    without a search text). Either way a page's facets and chart cost one query.
    """
    groups = (Article.published, Article.source_id, Article.language)
    with catalogue.session() as session:
        if counted(query):
            count = article_counts.c.unique_articles if query.unique else article_counts.c.articles
            statement = select(article_counts.c.published, article_counts.c.source_id, article_counts.c.language,
                               count).where(count > 0, *group_conditions(session, query, article_counts.c))
        else:
            statement = query_plan(session, query).select(*groups, func.count()).group_by(*groups)
        rows = session.connection().execute(statement).all()  # Core rows: thousands of groups
        names = dict(session.execute(select(SourceRow.id, SourceRow.name)).all())
    sources, languages, days, by_day_source = Counter(), Counter(), Counter(), Counter()
    for published, source_id, language, count in rows:
        sources[names[source_id]] += count
        languages[language or "unknown"] += count
        if published is not None:
            days[published] += count
            by_day_source[published, names[source_id]] += count
    return {
        "total": sum(sources.values()),
        "undated": sum(sources.values()) - sum(days.values()),
        "sources": [{"value": k, "count": v} for k, v in sorted(sources.items(), key=lambda i: (-i[1], i[0]))],
        "languages": [{"value": k, "count": v} for k, v in sorted(languages.items(), key=lambda i: (-i[1], i[0]))],
        "days": [{"day": d.isoformat(), "count": n} for d, n in sorted(days.items())],
        "by_day_source": [{"day": d.isoformat(), "source": s, "count": n}
                          for (d, s), n in sorted(by_day_source.items())],
    }
