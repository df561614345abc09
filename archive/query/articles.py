"""One article in full, as ``newsarchive show`` and the article page present it.

Found by id or by any URL it was seen at; with its URLs, versions, captures (each with its
replay address) and the copies that point at it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.catalogue.models import Article, ArticleUrl, ArticleVersion, Capture, SourceRow
from archive.catalogue.store import Catalogue
from archive.query.search import MAX_ID, ArticleQuery, article_dict, article_select, iso_utc, query_plan
from archive.urls import normalise_url, surt
from archive.wayback import replay_url


def get_article(catalogue: Catalogue, ref: str | int) -> dict[str, Any] | None:
    """One article by id or by any URL it was seen at, with its URLs, versions, duplicates, captures."""
    with catalogue.session() as session:
        article_id = _resolve(session, ref)
        if article_id is None:
            return None
        plan = query_plan(session, ArticleQuery())
        result = article_dict(session.execute(article_select(plan).where(Article.id == article_id))
                              .mappings().one())
        result["urls"] = sorted(session.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == article_id)))
        result["versions"] = [
            {"version": v.version, "title": v.title, "fetched": iso_utc(v.fetched),
             "content_hash": v.content_hash, "text": v.text, "capture_id": v.capture_id}
            for v in session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                                     .order_by(ArticleVersion.version))
        ]
        # Every fetch of the article, unchanged re-fetches too: captures of any URL it was
        # seen at (matched by SURT key, as replay looks them up), and those of its versions.
        urlkeys = {surt(url) for url in (result["url"], result["canonical_url"], *result["urls"])}
        version_captures = [v["capture_id"] for v in result["versions"] if v["capture_id"]]
        captures = session.scalars(
            select(Capture).where(or_(Capture.urlkey.in_(urlkeys), Capture.id.in_(version_captures)))
            .order_by(Capture.timestamp, Capture.id)
        )
        result["captures"] = [
            {"id": c.id, "url": c.url, "timestamp": iso_utc(c.timestamp), "status": c.status,
             "record_type": c.record_type, "warc_file": c.warc_file, "warc_offset": c.warc_offset,
             "warc_length": c.warc_length, "payload_digest": c.payload_digest,
             "replay_url": replay_url(c.timestamp, c.url)}
            for c in captures
        ]
        copies = session.execute(
            select(Article.id, Article.url, SourceRow.name, Article.title, Article.duplicate_kind)
            .join(SourceRow, SourceRow.id == Article.source_id)
            .where(Article.duplicate_of == article_id).order_by(Article.id)
        )
        result["duplicates"] = [{"id": i, "url": u, "source": s, "title": t, "kind": k} for i, u, s, t, k in copies]
        story = session.execute(
            select(Article.id, Article.url, SourceRow.name, Article.published_at, Article.first_seen,
                   Article.duplicate_of)
            .join(SourceRow, SourceRow.id == Article.source_id)
            .where(Article.story_id == result["story_id"], Article.id != article_id)
            .order_by(Article.published_order.is_(None), Article.published_order, Article.first_seen)
        ) if result["story_id"] is not None else []
        result["story"] = [  # the story's other articles, in other sources or not, earliest first
            {"id": i, "url": u, "source": s, "published": p, "first_seen": iso_utc(f), "original": d is None}
            for i, u, s, p, f, d in story
        ]
        return result


def _resolve(session: Session, ref: str | int) -> int | None:
    """The id of the article ``ref`` names: an id, its canonical URL or any URL it was seen at."""
    if isinstance(ref, int) or str(ref).isdigit():
        number = int(ref)
        return session.scalar(select(Article.id).where(Article.id == number)) if number <= MAX_ID else None
    found = session.scalar(select(Article.id).where(Article.canonical_url == ref))
    if found is None:
        found = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == normalise_url(str(ref))))
    return found
