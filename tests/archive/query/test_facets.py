"""archive.query.facets: counts of the matching articles, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

from sqlalchemy import delete, update

from archive.catalogue.models import Article, ArticleUrl, ArticleVersion
from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.query.facets import counted, facet_counts
from archive.query.search import ArticleQuery, iter_articles
from tests.query_catalogue import QueryCatalogue


def test_facets_count_the_matches(qc: QueryCatalogue) -> None:
    facets = facet_counts(qc.catalogue, ArticleQuery(limit=None))
    assert facets["total"] == len(qc.articles)
    assert {f["value"]: f["count"] for f in facets["sources"]} == {
        s: sum(a["source"] == s for a in qc.articles) for s in {a["source"] for a in qc.articles}}
    assert sum(d["count"] for d in facets["days"]) + facets["undated"] == facets["total"]
    assert facets["undated"] == sum(a["published"] is None for a in qc.articles)
    french = facet_counts(qc.catalogue, ArticleQuery(language="fr", limit=None))
    assert french["languages"] == [{"value": "fr", "count": sum(a["language"] == "fr" for a in qc.articles)}]


def both_ways(catalogue: Catalogue, query: ArticleQuery) -> dict:
    """The facets from article_counts, checked against the grouped scan of the same articles."""
    assert counted(query)
    facets = facet_counts(catalogue, query)
    scanned = replace(query, seen_since=date(2000, 1, 1))  # a filter the counts cannot answer: every article
    assert not counted(scanned) and facet_counts(catalogue, scanned) == facets
    listed = list(iter_articles(catalogue, query))
    assert facets["total"] == len(listed)
    assert {f["value"]: f["count"] for f in facets["sources"]} == Counter(a["source"] for a in listed)
    return facets


def check_counts(catalogue: Catalogue) -> None:
    """Whole-catalogue facets, and of what article_counts can filter by, equal a count of the articles."""
    for query in (ArticleQuery(limit=None), ArticleQuery(unique=True, limit=None),
                  ArticleQuery(source="courier", language=["fr", "ar"], limit=None),
                  ArticleQuery(since=date(2026, 3, 2), until=date(2026, 3, 3), unique=True, limit=None)):
        both_ways(catalogue, query)


def test_counts_kept_by_the_triggers_follow_inserts_updates_and_deletes(catalogue_url: str) -> None:
    catalogue = Catalogue(catalogue_url)
    ids = {}
    for n, (source, day, language) in enumerate([
            ("courier", "2026-03-01", "fr"), ("courier", "2026-03-01", "fr"), ("courier", "2026-03-02", "ar"),
            ("wire", "2026-03-02", "en"), ("wire", None, "en"), ("wire", "2026-03-03", None)]):
        ids[n] = catalogue.record_article(source, f"https://{source}.example/{n}.html", Extracted(
            text=f"Article {n}: " + " ".join(f"w{n}x{i}" for i in range(60)), title=f"Title {n}", authors=[],
            published=day, language=language, sitename=None, canonical_url=None, description=None)).article_id
    copy = catalogue.record_article("wire", "https://wire.example/copy.html", Extracted(  # of article 2, same day
        text="Article 2: " + " ".join(f"w2x{i}" for i in range(60)), title="Copy", authors=[],
        published="2026-03-02", language="ar", sitename=None, canonical_url=None, description=None))
    assert copy.status == "duplicate"
    facets = both_ways(catalogue, ArticleQuery(limit=None))
    assert facets["total"] == 7 and facets["undated"] == 1
    assert both_ways(catalogue, ArticleQuery(unique=True, limit=None))["total"] == 6
    check_counts(catalogue)

    changes = [  # each an update a writer may make: a group, or the duplicate state, changes
        (ids[0], {"language": "ar"}), (ids[1], {"published": date(2026, 3, 3)}), (ids[4], {"published": date(2026, 3, 2)}),
        (ids[5], {"language": "fr", "published": None}), (ids[3], {"duplicate_of": ids[2]}),
        (copy.article_id, {"duplicate_of": None}), (ids[2], {"source_id": catalogue.source_id("wire")}),
        (ids[0], {"title": "Only the title"})]
    for article_id, values in changes:
        with catalogue.session() as session:
            session.execute(update(Article).where(Article.id == article_id).values(**values))
        check_counts(catalogue)

    for article_id in (ids[3], ids[2], ids[5]):  # ids[3] was a copy of ids[2]
        with catalogue.session() as session:
            for table, column in ((ArticleUrl, ArticleUrl.article_id), (ArticleVersion, ArticleVersion.article_id)):
                session.execute(delete(table).where(column == article_id))
            session.execute(delete(Article).where(Article.id == article_id))
        check_counts(catalogue)
    facets = facet_counts(catalogue, ArticleQuery(limit=None))
    assert facets["total"] == 4 and {f["value"] for f in facets["languages"]} == {"ar", "fr", "en"}
    catalogue.close()
