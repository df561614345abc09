"""The one query layer over the catalogue: the CLI, the JSON API and the web page call it.

``search_articles`` returns plain dicts (the JSON-lines contract of DESIGN.md), so every
front end prints the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, aliased

from archive.catalogue import Catalogue
from archive.models import Article, ArticleUrl, ArticleVersion, Capture, CrawlRun, SourceRow
from archive.urls import normalise_url

ARTICLE_FIELDS = (
    "id", "url", "canonical_url", "source", "title", "authors", "published", "language", "sitename",
    "text", "first_seen", "last_seen", "warc_file", "warc_offset", "content_hash", "duplicate_of",
)


@dataclass(frozen=True)
class ArticleQuery:
    """What to look for; every field optional."""

    text: str | None = None
    source: str | None = None
    since: date | None = None
    until: date | None = None
    language: str | None = None
    unique: bool = False
    limit: int = 50


def _article_select() -> Select:
    return (
        select(Article, SourceRow.name, Capture.warc_file, Capture.warc_offset)
        .join(SourceRow, SourceRow.id == Article.source_id)
        .outerjoin(Capture, Capture.id == Article.capture_id)
    )


def article_dict(article: Article, source: str, warc_file: str | None, warc_offset: int | None) -> dict[str, Any]:
    """An article as the JSON-lines contract spells it."""
    return {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "source": source,
        "title": article.title,
        "authors": list(article.authors or []),
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "sitename": article.sitename,
        "description": article.description,
        "text": article.text,
        "first_seen": article.first_seen.isoformat() + "Z",
        "last_seen": article.last_seen.isoformat() + "Z",
        "warc_file": warc_file,
        "warc_offset": warc_offset,
        "content_hash": article.content_hash,
        "duplicate_of": article.duplicate_of,
        "duplicate_kind": article.duplicate_kind,
        "versions": article.versions_count,
    }


def search_articles(catalogue: Catalogue, query: ArticleQuery) -> list[dict[str, Any]]:
    """Articles matching the query, newest first."""
    statement = _article_select()
    if query.text:
        pattern = f"%{query.text}%"
        statement = statement.where(or_(Article.title.ilike(pattern), Article.text.ilike(pattern)))
    if query.source:
        statement = statement.where(SourceRow.name == query.source)
    if query.language:
        statement = statement.where(Article.language == query.language)
    if query.since:
        statement = statement.where(Article.published >= query.since)
    if query.until:
        statement = statement.where(Article.published <= query.until)
    if query.unique:
        statement = statement.where(Article.duplicate_of.is_(None))
    statement = statement.order_by(Article.published.desc().nulls_last(), Article.id.desc()).limit(query.limit)
    with catalogue.session() as session:
        return [article_dict(*row) for row in session.execute(statement)]


def get_article(catalogue: Catalogue, ref: str | int) -> dict[str, Any] | None:
    """One article by id or by any URL it was seen at, with its versions, URLs and captures."""
    with catalogue.session() as session:
        article_id = _resolve(session, ref)
        if article_id is None:
            return None
        row = session.execute(_article_select().where(Article.id == article_id)).one()
        result = article_dict(*row)
        result["urls"] = sorted(session.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == article_id)))
        result["versions"] = [
            {"version": v.version, "title": v.title, "fetched": v.fetched.isoformat() + "Z",
             "content_hash": v.content_hash, "text": v.text, "capture_id": v.capture_id}
            for v in session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                                     .order_by(ArticleVersion.version))
        ]
        version_capture = aliased(ArticleVersion)
        captures = session.scalars(
            select(Capture).join(version_capture, version_capture.capture_id == Capture.id)
            .where(version_capture.article_id == article_id).order_by(Capture.timestamp)
        )
        result["captures"] = [
            {"id": c.id, "url": c.url, "timestamp": c.timestamp.isoformat() + "Z", "status": c.status,
             "record_type": c.record_type, "warc_file": c.warc_file, "warc_offset": c.warc_offset,
             "warc_length": c.warc_length, "payload_digest": c.payload_digest}
            for c in captures
        ]
        result["duplicates"] = list(session.scalars(select(Article.id).where(Article.duplicate_of == article_id)))
        return result


def _resolve(session: Session, ref: str | int) -> int | None:
    if isinstance(ref, int) or str(ref).isdigit():
        return session.scalar(select(Article.id).where(Article.id == int(ref)))
    found = session.scalar(select(Article.id).where(Article.canonical_url == ref))
    if found is None:
        found = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == normalise_url(str(ref))))
    return found


def run_dict(run: CrawlRun, source: str) -> dict[str, Any]:
    """A crawl run as `newsarchive runs --format jsonl` spells it."""
    return {
        "id": run.id,
        "source": source,
        "status": run.status,
        "started": run.started.isoformat() + "Z",
        "finished": run.finished.isoformat() + "Z" if run.finished else None,
        "pages": run.pages,
        "bytes": run.bytes,
        "articles_new": run.articles_new,
        "articles_updated": run.articles_updated,
        "articles_duplicate": run.articles_duplicate,
        "errors": run.errors,
        "error_kinds": run.error_kinds or {},
        "warc_files": list(run.warc_files or []),
    }


def list_runs(catalogue: Catalogue, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Crawl runs, newest first."""
    statement = select(CrawlRun, SourceRow.name).join(SourceRow, SourceRow.id == CrawlRun.source_id)
    if source:
        statement = statement.where(SourceRow.name == source)
    statement = statement.order_by(CrawlRun.started.desc(), CrawlRun.id.desc()).limit(limit)
    with catalogue.session() as session:
        return [run_dict(run, name) for run, name in session.execute(statement)]
