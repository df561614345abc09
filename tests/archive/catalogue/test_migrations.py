"""The migrations: what they froze still agrees with the code that queries what they made; what they fill."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy import text

from archive.catalogue.database import upgrade_schema
from archive.catalogue.identity import published_order
from archive.catalogue.store import Catalogue
from archive.query import fulltext
from archive.query.facets import counted, facet_counts
from archive.query.runs import list_runs
from archive.query.search import ArticleQuery, iter_articles
from tests.conftest import schema_at

VERSIONS = Path(__file__).resolve().parents[3] / "archive" / "catalogue" / "migrations" / "versions"


def migration(name: str) -> ModuleType:
    """A migration script as a module (its file name starts with a digit: no import statement reaches it)."""
    spec = importlib.util.spec_from_file_location(f"migration_{name}", VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_indexes_fold_arabic_as_searches_do() -> None:
    # 0002 indexes text folded with its frozen copy; searches fold with the live one. A new
    # fold needs a migration that re-indexes with it, and this test pointed at that migration.
    indexed = migration("0002_fulltext")
    assert indexed.ARABIC_FOLDS == fulltext.ARABIC_FOLDS
    assert indexed.pg_translate_args() == fulltext.pg_translate_args()


def test_the_published_order_backfill_computes_what_new_articles_get() -> None:
    # 0007 fills published_order of existing articles with its frozen copy of the live function.
    backfill = migration("0007_not_articles_published_order")
    for published in (None, "", "2026-11-02", "2026-11-02T08:30:00+01:00", "2026-11-02T23:30:00-05:00",
                      "2026-11-02T08:00:00Z", "2026-11-02T08:00:00", "2026-11-02T08:00:00.250+00:00",
                      "2026-02-30", "2026-11-02Tlate"):
        assert backfill.published_order(published) == published_order(published), published


def test_an_older_catalogue_gets_its_sort_key_and_not_article_memory(catalogue_url: str) -> None:
    """Articles catalogued before 0007 sort by their instant; old runs count no not-articles; the memory works."""
    old = Catalogue(catalogue_url, migrate=False)
    with schema_at(old.engine, "0006") as connection:  # as the release before this migration left it
        connection.execute(text("INSERT INTO sources (id, name, created) VALUES (1, 'courier', '2026-11-02')"))
        connection.execute(text("INSERT INTO crawl_runs (id, source_id, status, started, pages, not_modified, bytes,"
                                " articles_new, articles_updated, articles_duplicate, errors, error_kinds, warc_files)"
                                " VALUES (1, 1, 'ok', '2026-11-02', 3, 0, 10, 2, 0, 0, 0, '{}', '[]')"))
        for id_, published in ((1, "2026-11-02T08:30:00+01:00"), (2, "2026-11-02T08:00:00Z"), (3, None)):
            connection.execute(text(
                "INSERT INTO articles (id, source_id, canonical_url, url, authors, published, published_at, text,"
                " content_hash, first_seen, last_seen, versions_count, story_id, at_home) VALUES (:id, 1, :url,"
                " :url, '[]', :day, :published, 'text', :hash, '2026-11-02', '2026-11-02', 1, :id, :home)"),
                {"id": id_, "url": f"https://courier.example/{id_}", "published": published, "hash": f"h{id_}",
                 "day": published and published[:10], "home": True})
    upgrade_schema(old.engine)
    old.record_not_article("courier", "https://courier.example/gallery", reason="too_short")
    old.close()
    catalogue = Catalogue(catalogue_url, read_only=True)
    try:
        newest_first = [a["id"] for a in iter_articles(catalogue, ArticleQuery(sort="published", limit=None))]
        assert newest_first == [2, 1, 3]  # 08:00 UTC after 07:30 UTC; the undated one last
        assert [run["not_articles"] for run in list_runs(catalogue)] == [0]
        assert catalogue.known_not_article_urls("courier") == {"https://courier.example/gallery"}
    finally:
        catalogue.close()


def test_the_counts_per_group_start_from_the_articles_already_catalogued(catalogue_url: str) -> None:
    """0008 backfills article_counts: facets of a catalogue upgraded to it count every article there was."""
    old = Catalogue(catalogue_url, migrate=False)
    with schema_at(old.engine, "0006") as connection:  # as the release before this migration left it
        connection.execute(text("INSERT INTO sources (id, name, created) VALUES (1, 'courier', '2026-11-02'), "
                                "(2, 'wire', '2026-11-02')"))
        for id_, source, day, language, original in (
                (1, 1, "2026-11-02", "fr", None), (2, 2, "2026-11-02", "fr", 1), (3, 1, "2026-11-02", "fr", None),
                (4, 1, None, "ar", None), (5, 2, "2026-11-03", None, None)):
            connection.execute(text(
                "INSERT INTO articles (id, source_id, canonical_url, url, authors, published, language, text,"
                " content_hash, duplicate_of, first_seen, last_seen, versions_count) VALUES (:id, :source, :url,"
                " :url, '[]', :day, :language, 'text', 'h', :original, '2026-11-02', '2026-11-02', 1)"),
                {"id": id_, "source": source, "url": f"https://news.example/{id_}", "day": day,
                 "language": language, "original": original})
    upgrade_schema(old.engine)
    old.close()
    catalogue = Catalogue(catalogue_url, read_only=True)
    everything, unique = ArticleQuery(limit=None), ArticleQuery(unique=True, limit=None)
    assert counted(everything) and counted(unique)
    facets = facet_counts(catalogue, everything)
    assert facets["sources"] == [{"value": "courier", "count": 3}, {"value": "wire", "count": 2}]
    assert facets["languages"] == [{"value": "fr", "count": 3}, {"value": "ar", "count": 1},
                                   {"value": "unknown", "count": 1}]
    assert facets["days"] == [{"day": "2026-11-02", "count": 3}, {"day": "2026-11-03", "count": 1}]
    assert facets["undated"] == 1
    assert facet_counts(catalogue, unique)["by_day_source"] == [
        {"day": "2026-11-02", "source": "courier", "count": 2}, {"day": "2026-11-03", "source": "wire", "count": 1}]
    catalogue.close()
