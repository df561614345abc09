"""Not-article memory: URLs of a source that matched its article rule but held no article.

A gallery, a live page or an index under an article-like path yields no article when
extracted; remembered here, it is not fetched again on the next crawl (unless it is younger
than the source's ``refresh_hours``, like an article), and a page that later turns out to be
an article is forgotten. URLs are kept as the spider identifies article URLs
(``NewsSpider.article_key``), so the crawl's skip test is a set lookup.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.catalogue.database import CatalogueDatabase, naive_utc, utcnow
from archive.catalogue.models import NotArticle, SourceRow


class NotArticleLog(CatalogueDatabase):
    """The ``not_articles`` table: one row per source and URL key found to hold no article."""

    def known_not_article_urls(self, source: str) -> set[str]:
        """URL keys of a source's pages found to be no article: an incremental crawl skips them."""
        with self.session() as session:
            return set(session.scalars(
                select(NotArticle.url_key).join(SourceRow, SourceRow.id == NotArticle.source_id)
                .where(SourceRow.name == source)
            ))

    def recent_not_article_urls(self, source: str, since: datetime) -> set[str]:
        """URL keys of a source's not-articles first seen after ``since`` (the refresh window)."""
        with self.session() as session:
            return set(session.scalars(
                select(NotArticle.url_key).join(SourceRow, SourceRow.id == NotArticle.source_id)
                .where(SourceRow.name == source, NotArticle.first_seen >= since)
            ))

    def record_not_article(self, source: str, url_key: str, *, reason: str, capture_id: int | None = None,
                           seen: datetime | None = None, session: Session | None = None) -> None:
        """Remember that the page at ``url_key`` held no article; a refetch moves ``last_seen`` only.

        ``session``: in the caller's transaction (see ``record_article``), whose commit fails
        if another worker remembered the page first.
        """
        if session is None:
            try:
                with self.session() as session:
                    return self.record_not_article(source, url_key, reason=reason, capture_id=capture_id,
                                                   seen=seen, session=session)
            except IntegrityError:  # another worker remembered it first: it is remembered
                return
        source_id = self.source_id(source)
        seen = naive_utc(seen) if seen else utcnow()
        moved = session.execute(update(NotArticle).where(NotArticle.source_id == source_id,
                                                         NotArticle.url_key == url_key)
                                .values(last_seen=seen, reason=reason, capture_id=capture_id))
        if not moved.rowcount:
            session.add(NotArticle(source_id=source_id, url_key=url_key, reason=reason, first_seen=seen,
                                   last_seen=seen, capture_id=capture_id))

    def forget_not_article(self, source: str, url_key: str, *, session: Session | None = None) -> None:
        """The page at ``url_key`` is an article now: no longer skipped as none."""
        if session is None:
            with self.session() as session:
                return self.forget_not_article(source, url_key, session=session)
        session.execute(delete(NotArticle).where(NotArticle.source_id == self.source_id(source),
                                                 NotArticle.url_key == url_key))


def forget_not_articles_of(session: Session, capture_ids: Collection[int]) -> None:
    """Forget the not-articles whose capture is leaving the index (its WARC record is gone): with
    no archived page to show for it, such a URL is fetched again by the next crawl."""
    session.execute(delete(NotArticle).where(NotArticle.capture_id.in_(capture_ids)))
