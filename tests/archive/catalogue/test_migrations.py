"""The migrations: what they froze still agrees with the code that queries what they made; what they fill."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from archive.catalogue.database import MIGRATIONS, upgrade_schema
from archive.catalogue.store import Catalogue
from archive.query import fulltext
from archive.query.facets import counted, facet_counts
from archive.query.search import ArticleQuery

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


def test_the_counts_per_group_start_from_the_articles_already_catalogued(catalogue_url: str) -> None:
    """0008 backfills article_counts: facets of a catalogue upgraded to it count every article there was."""
    old = Catalogue(catalogue_url, migrate=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:  # the schema as the release before this migration left it
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
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
