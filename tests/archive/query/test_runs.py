"""archive.query.runs: the sources listing, on SQLite and PostgreSQL."""

from __future__ import annotations

from archive.query.facets import facet_counts
from archive.query.runs import list_sources
from archive.query.search import ArticleQuery
from tests.query_catalogue import DEMO_SOURCE, WIRE, QueryCatalogue


def test_catalogue_has_the_crawled_and_recorded_articles(qc: QueryCatalogue) -> None:
    sources = {row["name"]: row["articles"] for row in list_sources(qc.catalogue)}
    assert sources[DEMO_SOURCE] >= 6 and sources[WIRE] == 5
    assert len(qc.articles) == facet_counts(qc.catalogue, ArticleQuery())["total"]
    assert {a["language"] for a in qc.articles} >= {"fr", "ar", "en"}
