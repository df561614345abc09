"""The crawl runs and the sources, as `newsarchive runs`, the API and the runs page list them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from archive.catalogue.models import Article, CrawlRun, SourceRow
from archive.catalogue.store import Catalogue
from archive.query.search import iso_utc


def run_dict(run: CrawlRun, source: str) -> dict[str, Any]:
    """A crawl run as `newsarchive runs --format jsonl` spells it."""
    return {
        "id": run.id,
        "source": source,
        "status": run.status,
        "started": iso_utc(run.started),
        "finished": iso_utc(run.finished),
        "pages": run.pages,
        "not_modified": run.not_modified,
        "not_articles": run.not_articles,
        "bytes": run.bytes,
        "articles_new": run.articles_new,
        "articles_updated": run.articles_updated,
        "articles_duplicate": run.articles_duplicate,
        "errors": run.errors,
        "error_kinds": run.error_kinds or {},
        "warc_files": list(run.warc_files or []),
        "message": run.message,
    }


def list_runs(catalogue: Catalogue, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Crawl runs, newest first."""
    statement = select(CrawlRun, SourceRow.name).join(SourceRow, SourceRow.id == CrawlRun.source_id)
    if source:
        statement = statement.where(SourceRow.name == source)
    statement = statement.order_by(CrawlRun.started.desc(), CrawlRun.id.desc()).limit(limit)
    with catalogue.session() as session:
        return [run_dict(run, name) for run, name in session.execute(statement)]


def list_sources(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every source with its article count, first and last article seen, and latest run."""
    articles = (select(Article.source_id, func.count().label("articles"),
                       func.min(Article.first_seen).label("first_seen"),
                       func.max(Article.last_seen).label("last_seen"))
                .group_by(Article.source_id).subquery())
    latest = (select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
              .group_by(CrawlRun.source_id).subquery())
    statement = (select(SourceRow.name, articles.c.articles, articles.c.first_seen, articles.c.last_seen,
                        CrawlRun)
                 .outerjoin(articles, articles.c.source_id == SourceRow.id)
                 .outerjoin(latest, latest.c.source_id == SourceRow.id)
                 .outerjoin(CrawlRun, CrawlRun.id == latest.c.run_id)
                 .order_by(SourceRow.name))
    with catalogue.session() as session:
        return [
            {"name": name, "articles": count or 0, "first_seen": iso_utc(first), "last_seen": iso_utc(last),
             "last_run": run_dict(run, name) if run else None}
            for name, count, first, last, run in session.execute(statement)
        ]
