"""A bulk load indexes and counts its articles as row-by-row inserts do, on SQLite and on the real local PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import delete, insert

from archive.catalogue.bulk import bulk_load
from archive.catalogue.models import Article
from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.query.facets import facet_counts
from archive.query.search import ArticleQuery, iter_articles

TEXTS = (  # (language, title, text): French accents and Arabic harakat, hamza and tatweel to fold
    ("fr", "Le Conseil de sécurité se réunit", "Le conseil de sécurité de l'ONU a voté à l'unanimité hier soir."),
    ("fr", "Interpol à Lyon", "Interpol a présenté à Lyon son rapport annuel sur la sécurité des ports."),
    ("ar", "أوّل اجتماع للمجلس", "عقد مجلس الأمن أوَّل اجتماع له هذا الأسبوع في نيويــورك."),
    ("ar", "اتفاقية الميناء", "وقّعت الحكومة اتفاقية جديدة لتطوير الميناء وإصلاح الأرصفة."),
    ("en", "Harbour budget", "The regional council voted on the harbour budget after a long debate."),
    (None, "Ferry timetable", "The winter ferry timetable for the harbour was published today."),
)
SEARCHES = ("securite", '"conseil de sécurité"', "interpol", "اول", "اتفاقية", "نيويورك", "harbour -ferry", "ferry OR interpol")
QUERIES = (ArticleQuery(limit=None), ArticleQuery(unique=True, limit=None), ArticleQuery(language="ar", limit=None),
           ArticleQuery(source="wire", since=date(2026, 1, 2), until=date(2026, 3, 1), limit=None),
           ArticleQuery(text="harbour", limit=None))


def article_rows(catalogue: Catalogue) -> list[dict]:
    """Two dozen articles over two sources and a few days, one undated, two of them copies of earlier ones."""
    sources = [catalogue.source_id(name) for name in ("wire", "courier")]
    rows = []
    for number in range(1, 25):
        language, title, text = TEXTS[number % len(TEXTS)]
        seen = datetime(2026, 1, 1 + number % 5, 8)
        rows.append({
            "id": number, "source_id": sources[number % 2], "canonical_url": f"https://news.example/{number}.html",
            "url": f"https://news.example/{number}.html", "title": title, "authors": ["A. Writer"],
            "published": None if number == 7 else date(2026, 1 + number % 3, 1 + number % 4),
            "language": language, "description": f"Article {number}.", "text": f"{text} ({number})",
            "content_hash": f"{number:040d}", "duplicate_of": number - 6 if number in (8, 15) else None,
            "first_seen": seen, "last_seen": seen, "versions_count": 1,
        })
    return rows


def answers(catalogue: Catalogue) -> tuple[dict, list]:
    """What a user would see: the ids each search finds, and the facets of some queries."""
    found = {words: sorted(a["id"] for a in iter_articles(catalogue, ArticleQuery(text=words, limit=None)))
             for words in SEARCHES}
    return found, [facet_counts(catalogue, query) for query in QUERIES]


def schema_definitions(catalogue: Catalogue) -> list[tuple]:
    """The triggers and indexes of the catalogue, as the database tells them (a bulk load suspends some),
    and on SQLite the FTS index's settings (a bulk load changes one)."""
    with catalogue.engine.connect() as connection:
        if catalogue.engine.dialect.name == "postgresql":
            sql = ("SELECT tgname, tgenabled::text, pg_get_triggerdef(oid) FROM pg_trigger "
                   "WHERE tgrelid = 'articles'::regclass AND NOT tgisinternal "
                   "UNION ALL SELECT indexname, '', indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
        else:
            sql = ("SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') "
                   "UNION ALL SELECT k, v FROM articles_fts_config ORDER BY 1")
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def record_one(catalogue: Catalogue) -> int:
    """An article recorded as a crawl records it, after the load (the rows above had their ids given)."""
    if catalogue.engine.dialect.name == "postgresql":
        with catalogue.engine.begin() as connection:
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('articles', 'id'), max(id)) FROM articles")
    return catalogue.record_article("wire", "https://wire.example/later.html", Extracted(
        text="A lighthouse keeper retired after forty years.", title="Lighthouse", authors=[], published=None,
        language="en", sitename=None, canonical_url=None, description=None)).article_id


@pytest.fixture
def catalogue(catalogue_url: str) -> Catalogue:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


@pytest.mark.parametrize("before", [0, 5], ids=["into-empty", "after-others"])
def test_a_bulk_load_is_searched_and_counted_as_rows_inserted_one_by_one(catalogue: Catalogue, before: int) -> None:
    rows = article_rows(catalogue)
    schema = schema_definitions(catalogue)
    with catalogue.engine.begin() as connection:
        for row in rows:
            connection.execute(insert(Article.__table__), row)
    expected = answers(catalogue)
    assert all(expected[0].values()) and expected[1][0]["total"] == len(rows)
    with catalogue.engine.begin() as connection:
        connection.execute(delete(Article.__table__))
    assert answers(catalogue)[1][0]["total"] == 0

    if before:
        with catalogue.engine.begin() as connection:
            connection.execute(insert(Article.__table__), rows[:before])
    with bulk_load(catalogue.engine) as connection:
        connection.execute(insert(Article.__table__), rows[before:])

    assert answers(catalogue) == expected
    assert schema_definitions(catalogue) == schema
    later = record_one(catalogue)
    assert [a["id"] for a in iter_articles(catalogue, ArticleQuery(text="lighthouse", limit=None))] == [later]
    assert facet_counts(catalogue, ArticleQuery())["total"] == len(rows) + 1


def test_a_bulk_load_that_fails_midway_leaves_the_catalogue_as_it_was(catalogue: Catalogue) -> None:
    rows = article_rows(catalogue)
    with catalogue.engine.begin() as connection:
        connection.execute(insert(Article.__table__), rows[:10])
    expected, schema = answers(catalogue), schema_definitions(catalogue)

    with pytest.raises(RuntimeError, match="midway"), bulk_load(catalogue.engine) as connection:
        connection.execute(insert(Article.__table__), rows[10:])
        raise RuntimeError("the load failed midway")

    assert answers(catalogue) == expected
    assert schema_definitions(catalogue) == schema
    later = record_one(catalogue)
    assert [a["id"] for a in iter_articles(catalogue, ArticleQuery(text="lighthouse", limit=None))] == [later]
    assert facet_counts(catalogue, ArticleQuery())["total"] == 11
