"""Facet counts of a query: how many matching articles per source, language and day."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from archive.catalogue.models import Article, SourceRow
from archive.catalogue.store import Catalogue
from archive.query.search import ArticleQuery, query_plan


def facet_counts(catalogue: Catalogue, query: ArticleQuery) -> dict[str, Any]:
    """Counts of the matching articles per source, language and day, and per day and source.

    One grouped scan of the matches (an index-only scan without a search text) gives all
    of them, so a page's facets and chart cost one query.
    """
    groups = (Article.published, Article.source_id, Article.language)
    with catalogue.session() as session:
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
