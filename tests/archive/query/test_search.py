"""archive.query.search: query semantics on a crawled catalogue, the same on SQLite and PostgreSQL.

Filters are checked against the article list itself (every article, filtered in Python),
searches against words the demo site's pages really contain.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, text

from archive.catalogue.models import Article
from archive.catalogue.store import Catalogue
from archive.query.articles import get_article
from archive.query.facets import facet_counts
from archive.query.search import ArticleQuery, QueryError, iter_articles, search_page
from tests.query_catalogue import DEMO_SOURCE, WIRE, QueryCatalogue


def ids(catalogue: Catalogue, **query: object) -> list[int]:
    return [a["id"] for a in search_page(catalogue, ArticleQuery(limit=1000, **query)).articles]


def all_pages(catalogue: Catalogue, **query: object) -> list[int]:
    """Every id, following next_cursor two articles at a time."""
    seen, cursor = [], None
    for _ in range(100):
        page = search_page(catalogue, ArticleQuery(limit=2, cursor=cursor, **query))
        seen += [a["id"] for a in page.articles]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
    raise AssertionError("pagination does not end")


def published_instant(published: str) -> datetime | None:
    """The UTC instant of a published time with a zone; None for a day alone or a time without one."""
    stated = datetime.fromisoformat(published.replace("Z", "+00:00")) if "T" in published else None
    return stated.astimezone(UTC) if stated and stated.tzinfo else None


def newest_first(articles: list[dict]) -> list[int]:
    # by the day published (the page's own, as it states it), then the instant where stated
    # (before those of the day without one), then the newest catalogued
    def key(article: dict) -> tuple:
        instant = published_instant(article["published"])
        return article["published"][:10], instant is not None, instant or datetime.min.replace(tzinfo=UTC), article["id"]

    dated = sorted((a for a in articles if a["published"]), key=key, reverse=True)
    return [a["id"] for a in dated] + sorted((a["id"] for a in articles if not a["published"]), reverse=True)


# --- full-text search ---------------------------------------------------------------------------
def test_search_ignores_accents_and_case(qc: QueryCatalogue) -> None:
    accented = next(a for a in qc.articles if a["language"] == "fr" and a["source"] == DEMO_SOURCE
                    and re.search(r"\b\w*[éèà]\w{3,}", a["text"]))
    word = re.search(r"\b\w*[éèà]\w{3,}", accented["text"]).group()
    folded = word.translate(str.maketrans("éèà", "eea"))
    assert accented["id"] in ids(qc.catalogue, text=folded)
    assert accented["id"] in ids(qc.catalogue, text=folded.upper())
    assert qc.recorded.undated in ids(qc.catalogue, text="SECURITE")


def test_arabic_search_finds_arabic_articles(qc: QueryCatalogue) -> None:
    arabic = [a for a in qc.articles if a["language"] == "ar" and a["source"] == DEMO_SOURCE]
    assert arabic
    for article in arabic:
        word = max(re.findall(r"[\u0621-\u064a]{5,}", article["title"]), key=len)
        found = search_page(qc.catalogue, ArticleQuery(text=word, limit=50)).articles
        assert article["id"] in [a["id"] for a in found], word
        assert all(a["language"] == "ar" for a in found)


def test_arabic_search_ignores_harakat_and_hamza(qc: QueryCatalogue) -> None:
    assert ids(qc.catalogue, text="وقعت الجامعة", source=WIRE) == [qc.recorded.harakat]  # written with harakat
    assert ids(qc.catalogue, text="ادارة", source=WIRE) == [qc.recorded.harakat]  # written إدارة
    hamza = next(a for a in qc.articles if a["source"] == DEMO_SOURCE and "أ" in a["title"])
    word = next(w for w in hamza["title"].split() if "أ" in w)
    assert hamza["id"] in ids(qc.catalogue, text=word.replace("أ", "ا"))


def test_phrase_or_exclusion_and_prefix(qc: QueryCatalogue) -> None:
    assert ids(qc.catalogue, text='"harbour traffic"') == [qc.recorded.title_match]
    assert ids(qc.catalogue, text='"traffic harbour"') == []
    wire = {"source": WIRE}
    assert set(ids(qc.catalogue, text="ferry OR gantries", **wire)) == {qc.recorded.title_match, qc.recorded.text_match}
    assert ids(qc.catalogue, text="cranes -ferry", **wire) == [qc.recorded.title_match]
    assert ids(qc.catalogue, text="secur*", **wire) == [qc.recorded.undated]
    assert ids(qc.catalogue, text="interpol zzzznotaword") == []


def test_a_search_in_a_language_matches_inflections_on_postgresql(qc: QueryCatalogue) -> None:
    """PostgreSQL stems with the language's configuration; SQLite's FTS5 matches words as written."""
    inflected = ids(qc.catalogue, text="gantry", language="en", source=WIRE)
    assert inflected == ([qc.recorded.title_match] if qc.backend == "postgresql" else [])
    assert ids(qc.catalogue, text="gantries", language=["en", "fr"]) == [qc.recorded.title_match]


def test_relevance_ranks_a_title_match_first(qc: QueryCatalogue) -> None:
    found = ids(qc.catalogue, text="harbour", source=WIRE)
    assert found[0] == qc.recorded.title_match
    assert set(found) == {qc.recorded.title_match, qc.recorded.text_match, qc.recorded.undated}


def test_snippets_mark_the_words_and_escape_the_text(qc: QueryCatalogue) -> None:
    [hit] = search_page(qc.catalogue, ArticleQuery(text="interpol securite", source=WIRE)).articles
    assert hit["title_snippet"] == "<mark>Interpol</mark> meets the council"
    assert "<mark>sécurité</mark>" in hit["snippet"]
    assert "&lt;script&gt;" in hit["snippet"] and "<script>" not in hit["snippet"]
    listing = search_page(qc.catalogue, ArticleQuery(source=WIRE, limit=50)).articles
    assert all("<mark>" not in a["snippet"] for a in listing)


@pytest.mark.parametrize("attempt", [
    "'; DROP TABLE articles; --", '" OR 1=1 --', "NEAR(port bahria)", "title:port", "^port", "port AND",
    ")(", "\\", "'", ":*", "!!port", "port & | !", "*", "-", "OR", "a OR OR b", "-\"x\"", "%_%", "\ufeff",
    "' || pg_sleep(5) || '", "port:* & bahria", "'port':*", "x" * 900,
])
def test_search_syntax_cannot_be_injected(qc: QueryCatalogue, attempt: str) -> None:
    try:
        search_page(qc.catalogue, ArticleQuery(text=attempt))
    except QueryError as exc:
        assert exc.field == "text"
    assert facet_counts(qc.catalogue, ArticleQuery())["total"] == len(qc.articles)


# --- filters (the oracle: the article list itself) --------------------------------------------------
@pytest.mark.parametrize("query, keep", [
    ({"source": WIRE}, lambda a: a["source"] == WIRE),
    ({"source": [WIRE, DEMO_SOURCE]}, lambda a: True),
    ({"language": "ar"}, lambda a: a["language"] == "ar"),
    ({"language": ["fr", "en"]}, lambda a: a["language"] in ("fr", "en")),
    # published is ISO 8601, a time and zone after its day where the page states them
    ({"since": date(2026, 11, 4)}, lambda a: a["published"] and a["published"][:10] >= "2026-11-04"),
    ({"until": date(2026, 11, 4)}, lambda a: a["published"] and a["published"][:10] <= "2026-11-04"),
    ({"since": date(2026, 11, 3), "until": date(2026, 11, 5)},
     lambda a: a["published"] and "2026-11-03" <= a["published"][:10] <= "2026-11-05"),
    ({"seen_since": date(2025, 6, 2)}, lambda a: a["first_seen"] >= "2025-06-02"),
    ({"seen_until": date(2025, 6, 1)}, lambda a: a["first_seen"] < "2025-06-02"),
    ({"author": "o'neil"}, lambda a: any("o'neil" in n.lower() for n in a["authors"])),
    ({"author": "ZOË"}, lambda a: any("zoë" in n.lower() for n in a["authors"])),
    ({"has_duplicates": True}, lambda a: False),  # replaced below: originals of a copy
    ({"has_duplicates": False}, lambda a: True),
    ({"unique": True}, lambda a: a["duplicate_of"] is None),
])
def test_every_filter(qc: QueryCatalogue, query: dict, keep) -> None:  # type: ignore[no-untyped-def]
    originals = {a["duplicate_of"] for a in qc.articles if a["duplicate_of"]}
    if "has_duplicates" in query:
        wanted = query["has_duplicates"]
        keep = (lambda a: a["id"] in originals) if wanted else (lambda a: a["id"] not in originals)
    expected = [a for a in qc.articles if keep(a)]
    assert ids(qc.catalogue, **query) == newest_first(expected)
    assert expected, "a filter the catalogue cannot exercise"
    assert facet_counts(qc.catalogue, ArticleQuery(limit=None, **query))["total"] == len(expected)


def test_author_wildcards_are_literal(qc: QueryCatalogue) -> None:
    assert ids(qc.catalogue, author="%") == ids(qc.catalogue, author="_") == []


def test_duplicates_are_listed_with_duplicate_of_and_hidden_by_unique(qc: QueryCatalogue) -> None:
    everything = search_page(qc.catalogue, ArticleQuery(limit=1000)).articles
    copy = next(a for a in everything if a["id"] == qc.recorded.copy)
    assert copy["duplicate_of"] == qc.recorded.original and copy["duplicate_kind"] == "exact"
    assert qc.recorded.copy not in ids(qc.catalogue, unique=True)
    assert qc.recorded.original in ids(qc.catalogue, unique=True)
    original = get_article(qc.catalogue, qc.recorded.original)
    assert [d["id"] for d in original["duplicates"]] == [qc.recorded.copy]
    assert original["duplicates"][0]["source"] == WIRE


def test_filters_combine_with_search(qc: QueryCatalogue) -> None:
    assert ids(qc.catalogue, text="harbour", source=DEMO_SOURCE) == []
    assert ids(qc.catalogue, text="harbour", author="ali ben", since=date(2026, 9, 2)) == [qc.recorded.text_match]


# --- sorting and pagination -------------------------------------------------------------------
def test_sorts(qc: QueryCatalogue) -> None:
    assert ids(qc.catalogue) == newest_first(qc.articles)
    assert ids(qc.catalogue, order="asc") == newest_first(qc.articles)[::-1]  # undated counts as oldest
    assert ids(qc.catalogue)[-1] == ids(qc.catalogue, order="asc")[0] == qc.recorded.undated
    by_seen = ids(qc.catalogue, sort="first_seen")
    assert by_seen == [a["id"] for a in sorted(qc.articles, key=lambda a: (a["first_seen"], a["id"]), reverse=True)]


@pytest.mark.parametrize("query", [
    {}, {"order": "asc"}, {"sort": "first_seen"}, {"sort": "first_seen", "order": "asc"},
    {"text": "the OR le OR al OR harbour OR في"}, {"text": "bahria", "sort": "published"},
    {"language": "fr", "unique": True},
])
def test_keyset_pagination_loses_and_repeats_nothing(qc: QueryCatalogue, query: dict) -> None:
    paged = all_pages(qc.catalogue, **query)
    assert len(paged) == len(set(paged))
    assert paged == ids(qc.catalogue, **query)
    assert len(paged) == facet_counts(qc.catalogue, ArticleQuery(limit=None, **query))["total"] > 2


def test_cursor_survives_new_articles(qc: QueryCatalogue) -> None:
    """A cursor is a position (key, id), not an offset: earlier rows cannot shift the next page."""
    first = search_page(qc.catalogue, ArticleQuery(limit=3))
    rest = search_page(qc.catalogue, ArticleQuery(limit=1000, cursor=first.next_cursor))
    assert [a["id"] for a in first.articles + rest.articles] == ids(qc.catalogue)


# --- invalid queries --------------------------------------------------------------------------
@pytest.mark.parametrize("arguments, field", [
    ({"sort": "relevance"}, "sort"), ({"sort": "random"}, "sort"), ({"order": "sideways"}, "order"),
    ({"limit": 0}, "limit"), ({"limit": 100_000}, "limit"),
    ({"since": date(2026, 2, 1), "until": date(2026, 1, 1)}, "since"),
    ({"text": '" "'}, "text"), ({"text": "-only -excluded"}, "text"), ({"text": "a\x00b"}, "text"),
    ({"author": "\x00"}, "author"), ({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": "W10"}, "cursor"),
])
def test_invalid_queries_say_which_field(qc: QueryCatalogue, arguments: dict, field: str) -> None:
    with pytest.raises(QueryError) as raised:
        search_page(qc.catalogue, ArticleQuery(**arguments))
    assert raised.value.field == field


def test_a_cursor_of_another_sort_is_refused(qc: QueryCatalogue) -> None:
    cursor = search_page(qc.catalogue, ArticleQuery(limit=1)).next_cursor
    with pytest.raises(QueryError, match="another sort order"):
        search_page(qc.catalogue, ArticleQuery(limit=1, sort="first_seen", cursor=cursor))


def test_a_common_word_in_date_order_pages_exactly_as_the_full_sort(catalogue_url: str) -> None:
    """A word in most articles is found reading the newest first; a rare one from its matches,
    and so is a common one the newest articles lack (the reading gives up): every page, followed
    by its cursor, is the full sort's next rows."""
    catalogue = Catalogue(catalogue_url)
    sources = [catalogue.source_id(name) for name in ("courier", "wire")]
    rows = []
    for n in range(400):
        words = ["harbour"] * (n % 10 != 0 and n % 28 < 24) + ["lighthouse"] * (n % 97 == 0) + [f"w{n}x{i}" for i in range(20)]
        rows.append({"source_id": sources[n % 3 == 0], "canonical_url": f"https://news.example/{n}",
                     "url": f"https://news.example/{n}", "authors": [], "text": " ".join(words),
                     "published": None if n % 50 == 7 else date(2026, 1, 1 + n % 28),  # ties, and undated
                     "language": "en", "content_hash": f"{n}", "first_seen": datetime(2026, 2, 1, n % 24),
                     "last_seen": datetime(2026, 2, 1), "versions_count": 1})
    with catalogue.engine.begin() as connection:
        connection.execute(insert(Article.__table__), rows)
        connection.execute(text("ANALYZE"))  # as autovacuum would, after a load
    for words in ("harbour", "lighthouse", "harbour -lighthouse"):
        for query in ({"sort": "published"}, {"sort": "published", "order": "asc"}, {"sort": "first_seen"},
                      {"sort": "published", "source": "wire"}):
            everything = [a["id"] for a in iter_articles(catalogue, ArticleQuery(text=words, limit=None, **query))]
            seen, cursor = [], None
            while True:
                page = search_page(catalogue, ArticleQuery(text=words, limit=7, cursor=cursor, **query))
                seen += [a["id"] for a in page.articles]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert seen == everything and everything, (words, query)
    catalogue.close()
