"""archive.query.facets: counts of the matching articles, on SQLite and PostgreSQL."""

from __future__ import annotations

from archive.query.facets import facet_counts
from archive.query.search import ArticleQuery
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
