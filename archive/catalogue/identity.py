"""Article identity: which article a page is, and whether it is new, a new version or a copy.

A page is the article of its canonical URL (or of a URL it was seen at before); a changed
text is a new version of it; a new article whose text equals (exactly, or by SimHash) an
earlier original is linked to it with ``duplicate_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
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
from archive.urls import article_url_key, foreign_canonical, normalise_url, same_site

if TYPE_CHECKING:  # only a type here: read commands need not import trafilatura
    from archive.extract.article import Extracted


@dataclass(frozen=True)
class ArticleOutcome:
    """What recording an extracted page did: new, updated, unchanged or duplicate.

    ``duplicate``: its text was already catalogued (exactly or nearly), whichever copy is the
    original; a page more original than the copy already there takes its copies over and is
    counted a duplicate all the same (``duplicate_of`` None), so that a run's figures (one new,
    the others duplicates) do not depend on which copy the crawl met first.
    """

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
                       fingerprint: Fingerprint | None = None, home_hosts: Iterable[str] = (),
                       linked_url: str | None = None, session: Session | None = None) -> ArticleOutcome:
        """Catalogue an extracted page under its canonical identity, with the dedup rules.

        ``home_hosts``: the source's own hosts, whose canonical URLs the page may take and on
        which a page is at home (see :func:`archive.urls.article_url_key`). ``linked_url``: the
        URL as a page linked it, when the crawl fetched it under another (trackers removed).
        ``session``: write in the caller's transaction (the crawl's batches,
        ``archive/catalogue/writer.py``), which commits it and runs it again if it loses a
        race; without one, a transaction of its own, run once more if it lost a race.
        """
        page = _Page(self.source_id(source), url, extracted, fingerprint or Fingerprint.of(extracted.text),
                     capture_id, naive_utc(seen) if seen else utcnow(), tuple(home_hosts), linked_url)
        if session is not None:
            return self._record_article(session, page)
        try:
            with self.session() as session:
                return self._record_article(session, page)
        except DBAPIError as exc:
            if not lost_a_race(exc):
                raise
            with self.session() as session:
                return self._record_article(session, page)

    def _record_article(self, session: Session, page: _Page) -> ArticleOutcome:
        extracted, fingerprint = page.extracted, page.fingerprint
        key = article_url_key(page.url, extracted.canonical_url, page.home_hosts)
        page_url = normalise_url(page.url)
        urls = {page.url, page_url, key, *([page.linked_url] if page.linked_url else [])}
        # FOR UPDATE (PostgreSQL; SQLite has one writer anyway): workers recording the same article
        # take turns, each reading the row (versions_count) as the previous one left it.
        article = _article_at(session, key, page_url, lock=True)
        if article is not None:
            self._add_urls(session, article.id, urls)
            article.last_seen = max(article.last_seen, page.seen)
            if article.content_hash == fingerprint.content_hash:
                return ArticleOutcome("unchanged", article.id, article.duplicate_of)
            article.versions_count += 1
            self._set_content(article, page)
            session.add(ArticleVersion(article_id=article.id, version=article.versions_count,
                                       title=extracted.title, text=extracted.text,
                                       content_hash=fingerprint.content_hash, capture_id=page.capture_id,
                                       fetched=page.seen))
            return ArticleOutcome("updated", article.id, article.duplicate_of)

        claimed = foreign_canonical(page.url, extracted.canonical_url, page.home_hosts)
        original, kind = self._find_original(session, fingerprint, claimed)
        article = Article(source_id=page.source_id, canonical_url=key, url=page.url, first_seen=page.seen,
                          last_seen=page.seen, versions_count=1, duplicate_of=original.id if original else None,
                          duplicate_kind=kind,
                          at_home=claimed is None and (not page.home_hosts or same_site(page.url, page.home_hosts)))
        self._set_content(article, page)
        session.add(article)
        session.flush()
        article.story_id = original.story_id if original else article.id
        session.add(ArticleVersion(article_id=article.id, version=1, title=extracted.title,
                                   text=extracted.text, content_hash=fingerprint.content_hash,
                                   capture_id=page.capture_id, fetched=page.seen))
        self._add_urls(session, article.id, urls)
        if original is not None and _more_original(article, original):
            _take_over(session, article, original)
            return ArticleOutcome("duplicate", article.id, None)
        return ArticleOutcome("duplicate" if original else "new", article.id, article.duplicate_of)

    @staticmethod
    def _set_content(article: Article, page: _Page) -> None:
        extracted, fingerprint = page.extracted, page.fingerprint
        article.title = extracted.title
        article.authors = list(extracted.authors)
        article.published = _parse_date(extracted.published)
        article.published_at = extracted.published if article.published else None
        article.published_order = published_order(article.published_at)
        article.language = extracted.language
        article.sitename = extracted.sitename
        article.description = extracted.description
        article.text = extracted.text
        article.content_hash = fingerprint.content_hash
        article.simhash = fingerprint.simhash
        article.sim_band0, article.sim_band1, article.sim_band2, article.sim_band3 = simhash_bands(
            fingerprint.simhash)
        article.capture_id = page.capture_id

    @staticmethod
    def _find_original(session: Session, fingerprint: Fingerprint,
                       claimed: str | None) -> tuple[Article | None, str | None]:
        """The original this text copies: the article another site's canonical names if the text
        matches it, else the first with the same text (exact) or a SimHash neighbour (near)."""
        if claimed is not None:
            named = _article_at(session, claimed, claimed)
            if named is not None:
                root = session.get(Article, named.duplicate_of) if named.duplicate_of else named
                if root.content_hash == fingerprint.content_hash:
                    return root, "exact"
                if (fingerprint.words >= MIN_NEAR_DUPLICATE_TOKENS and root.simhash is not None
                        and is_near_duplicate(fingerprint.simhash, root.simhash)):
                    return root, "near"
        exact = session.scalar(
            select(Article).where(Article.content_hash == fingerprint.content_hash,
                                  Article.duplicate_of.is_(None))
            .order_by(Article.id).limit(1)
        )
        if exact is not None:
            return exact, "exact"
        if fingerprint.words < MIN_NEAR_DUPLICATE_TOKENS:
            return None, None
        probes = dict(zip(_BAND_PROBES, band_probes(fingerprint.simhash), strict=True))
        for candidate in session.scalars(_NEAR_CANDIDATES, probes):
            if candidate.simhash is not None and is_near_duplicate(fingerprint.simhash, candidate.simhash):
                return candidate, "near"
        return None, None

    @staticmethod
    def _add_urls(session: Session, article_id: int, urls: set[str]) -> None:
        existing = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(urls))))
        session.add_all(ArticleUrl(url=u, article_id=article_id) for u in urls - existing)


@dataclass(frozen=True)
class _Page:
    """An extracted page on its way into the catalogue."""

    source_id: int
    url: str
    extracted: Extracted
    fingerprint: Fingerprint
    capture_id: int | None
    seen: datetime
    home_hosts: tuple[str, ...]
    linked_url: str | None = None


# The articles sharing a SimHash band with a text, oldest first. One statement made once, its
# probe lists bound at each call: built per call, its 548 probe values were each made a bound
# parameter and hashed into the cache key. Whole rows: the one that matches is the original,
# needed whole, and reading only ids would cost a second round trip for it.
_BAND_PROBES = tuple(f"band{number}_probes" for number in range(4))
_NEAR_CANDIDATES = select(Article).where(
    Article.duplicate_of.is_(None),
    or_(*(column.in_(bindparam(name, expanding=True)) for column, name in zip(
        (Article.sim_band0, Article.sim_band1, Article.sim_band2, Article.sim_band3), _BAND_PROBES, strict=True))),
).order_by(Article.id)


def _article_at(session: Session, key: str, url: str, *, lock: bool = False) -> Article | None:
    """The article whose canonical URL is ``key``, else the one seen at ``url``; ``lock``: FOR UPDATE."""
    by_key = select(Article).where(Article.canonical_url == key)
    article = session.scalar(by_key.with_for_update() if lock else by_key)
    if article is None:
        article_id = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == url))
        article = session.get(Article, article_id, with_for_update=lock) if article_id else None
    return article


# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def lost_a_race(error: DBAPIError) -> bool:
    """Whether a concurrent worker's write made this one fail, so that it succeeds run again: it
    inserted the same canonical_url (unique), or it held the facet count rows (article_counts,
    kept by triggers) this one needed in the other order, and PostgreSQL chose this one to abort."""
    return isinstance(error, IntegrityError) or getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _more_original(new: Article, old: Article) -> bool:
    """Whether ``new`` is the original of the two copies rather than ``old``.

    The earlier stated publication (to the minute where both state a time, else by day),
    then the page at home on its source's hosts, then the first seen: so which copy is the
    original does not depend on which a crawl happened to fetch first.
    """
    new_moment, old_moment = _moment(new.published_at), _moment(old.published_at)
    if new_moment and old_moment:
        new_time, old_time = new_moment[1], old_moment[1]
        if new_time and old_time and new_time != old_time:
            return new_time < old_time
        if new_moment[0] != old_moment[0]:
            return new_moment[0] < old_moment[0]
    if new.at_home != old.at_home:
        return new.at_home
    return False  # first seen: the old one


def _take_over(session: Session, new: Article, old: Article) -> None:
    """Make ``new`` the original of ``old``'s copies and of ``old`` itself (same story)."""
    session.execute(update(Article).where(Article.duplicate_of == old.id, Article.id != new.id)
                    .values(duplicate_of=new.id))
    old.duplicate_of, old.duplicate_kind = new.id, new.duplicate_kind
    new.duplicate_of = new.duplicate_kind = None


def published_order(published: str | None) -> str | None:
    """The sort key of "newest first": the stated day, then the UTC instant within it where known.

    ``published_at`` strings do not sort as instants once their zones differ
    (``09:00+02:00`` is before ``08:00+00:00``): the key is ``"2024-05-14 2024-05-14T07:00:00"``,
    fixed-width digits that sort byte-wise. The day stays first, so the order agrees with the
    ``published`` day filters and facets; a day alone (or a time with no zone, which is no
    instant) is ``"2024-05-14"``, before that day's timed articles.
    """
    moment = _moment(published, to_minute=False)
    if moment is None:
        return None
    day, instant = moment
    return f"{day.isoformat()} {instant:%Y-%m-%dT%H:%M:%S}" if instant else day.isoformat()


def _moment(published: str | None, *, to_minute: bool = True) -> tuple[date, datetime | None] | None:
    """The day of an ISO 8601 publication, and its UTC instant (naive) when it states a time and zone."""
    day = _parse_date(published)
    if day is None or published is None or len(published) <= 10:
        return (day, None) if day else None
    try:
        stated = datetime.fromisoformat(published.replace("Z", "+00:00"))
    except ValueError:
        return day, None
    if stated.tzinfo is None:
        return day, None
    instant = stated.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    return day, (instant.replace(second=0) if to_minute else instant)


def _parse_date(value: str | None) -> date | None:
    """The date part of an ISO date or datetime string; None when unparseable."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None

