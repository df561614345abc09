"""Article identity: which article a page is, and whether it is new, a new version or a copy.

A page is the article of its canonical URL (or of a URL it was seen at before); a changed
text is a new version of it; a new article whose text equals (exactly, or by SimHash) an
earlier original is linked to it with ``duplicate_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.catalogue.database import CatalogueDatabase, naive_utc, utcnow
from archive.catalogue.dedup import (
    MIN_NEAR_DUPLICATE_TOKENS,
    Fingerprint,
    band_probes,
    is_near_duplicate,
    simhash_bands,
)
from archive.catalogue.models import Article, ArticleUrl, ArticleVersion, SourceRow
from archive.urls import article_url_key, normalise_url

if TYPE_CHECKING:  # only a type here: read commands need not import trafilatura
    from archive.extract.article import Extracted


@dataclass(frozen=True)
class ArticleOutcome:
    """What recording an extracted page did: new, updated, unchanged or duplicate."""

    status: str
    article_id: int
    duplicate_of: int | None = None



class ArticleRegistry(CatalogueDatabase):
    """The ``articles``, ``article_urls`` and ``article_versions`` tables, written by the dedup rules."""

    def known_article_urls(self, source: str) -> set[str]:
        """Normalised URLs already catalogued for a source: an incremental crawl skips them."""
        with self.session() as session:
            rows = session.scalars(
                select(ArticleUrl.url).join(Article, Article.id == ArticleUrl.article_id)
                .join(SourceRow, SourceRow.id == Article.source_id).where(SourceRow.name == source)
            )
            return set(rows)

    def recent_article_urls(self, source: str, since: datetime) -> set[str]:
        """Normalised URLs of a source's articles first seen after ``since`` (the refresh window)."""
        with self.session() as session:
            rows = session.scalars(
                select(ArticleUrl.url).join(Article, Article.id == ArticleUrl.article_id)
                .join(SourceRow, SourceRow.id == Article.source_id)
                .where(SourceRow.name == source, Article.first_seen >= since)
            )
            return set(rows)

    def record_article(self, source: str, url: str, extracted: Extracted, *,
                       capture_id: int | None = None, seen: datetime | None = None,
                       fingerprint: Fingerprint | None = None) -> ArticleOutcome:
        """Catalogue an extracted page under its canonical identity, with the dedup rules."""
        source_id = self.source_id(source)
        seen = naive_utc(seen) if seen else utcnow()
        fingerprint = fingerprint or Fingerprint.of(extracted.text)
        try:
            with self.session() as session:
                return self._record_article(session, source_id, url, extracted, fingerprint, capture_id, seen)
        except IntegrityError:  # a concurrent worker inserted the same article: now it exists
            with self.session() as session:
                return self._record_article(session, source_id, url, extracted, fingerprint, capture_id, seen)

    def _record_article(self, session: Session, source_id: int, url: str, extracted: Extracted,
                        fingerprint: Fingerprint, capture_id: int | None, seen: datetime) -> ArticleOutcome:
        key = article_url_key(url, extracted.canonical_url)
        page_url = normalise_url(url)
        article = session.scalar(select(Article).where(Article.canonical_url == key))
        if article is None:
            article_id = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == page_url))
            article = session.get(Article, article_id) if article_id else None
        if article is not None:
            self._add_urls(session, article.id, {url, page_url, key})
            article.last_seen = max(article.last_seen, seen)
            if article.content_hash == fingerprint.content_hash:
                return ArticleOutcome("unchanged", article.id, article.duplicate_of)
            article.versions_count += 1
            self._set_content(article, extracted, fingerprint, capture_id)
            session.add(ArticleVersion(article_id=article.id, version=article.versions_count,
                                       title=extracted.title, text=extracted.text,
                                       content_hash=fingerprint.content_hash, capture_id=capture_id,
                                       fetched=seen))
            return ArticleOutcome("updated", article.id, article.duplicate_of)

        original, kind = self._find_original(session, fingerprint)
        article = Article(source_id=source_id, canonical_url=key, url=url, first_seen=seen,
                          last_seen=seen, versions_count=1,
                          duplicate_of=original, duplicate_kind=kind)
        self._set_content(article, extracted, fingerprint, capture_id)
        session.add(article)
        session.flush()
        session.add(ArticleVersion(article_id=article.id, version=1, title=extracted.title,
                                   text=extracted.text, content_hash=fingerprint.content_hash,
                                   capture_id=capture_id, fetched=seen))
        self._add_urls(session, article.id, {url, page_url, key})
        return ArticleOutcome("duplicate" if original else "new", article.id, original)

    @staticmethod
    def _set_content(article: Article, extracted: Extracted, fingerprint: Fingerprint,
                     capture_id: int | None) -> None:
        article.title = extracted.title
        article.authors = list(extracted.authors)
        article.published = _parse_date(extracted.published)
        article.language = extracted.language
        article.sitename = extracted.sitename
        article.description = extracted.description
        article.text = extracted.text
        article.content_hash = fingerprint.content_hash
        article.simhash = fingerprint.simhash
        article.sim_band0, article.sim_band1, article.sim_band2, article.sim_band3 = simhash_bands(
            fingerprint.simhash)
        article.capture_id = capture_id

    @staticmethod
    def _find_original(session: Session, fingerprint: Fingerprint) -> tuple[int | None, str | None]:
        """The first article with the same text (exact) or a SimHash neighbour (near)."""
        exact = session.scalar(
            select(Article.id).where(Article.content_hash == fingerprint.content_hash,
                                     Article.duplicate_of.is_(None))
            .order_by(Article.id).limit(1)
        )
        if exact is not None:
            return exact, "exact"
        if fingerprint.words < MIN_NEAR_DUPLICATE_TOKENS:
            return None, None
        probes = band_probes(fingerprint.simhash)
        candidates = session.execute(
            select(Article.id, Article.simhash).where(
                Article.duplicate_of.is_(None),
                or_(Article.sim_band0.in_(probes[0]), Article.sim_band1.in_(probes[1]),
                    Article.sim_band2.in_(probes[2]), Article.sim_band3.in_(probes[3])),
            ).order_by(Article.id)
        )
        for article_id, other in candidates:
            if other is not None and is_near_duplicate(fingerprint.simhash, other):
                return article_id, "near"
        return None, None

    @staticmethod
    def _add_urls(session: Session, article_id: int, urls: set[str]) -> None:
        existing = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(urls))))
        session.add_all(ArticleUrl(url=u, article_id=article_id) for u in urls - existing)



def _parse_date(value: str | None) -> date | None:
    """The date part of an ISO date or datetime string; None when unparseable."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None

