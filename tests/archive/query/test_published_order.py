"""Newest first by ``published``: by the day the page states, then by the instant within it where known.

``published_at`` strings in different zones do not sort as instants ("08:00Z" is after
"08:30+01:00"); the CLI and the API, page by page, list the articles of one day in the
order they were published, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archive.catalogue.store import Catalogue
from archive.config import Settings
from archive.extract.article import Extracted
from archive.web.app import create_app
from tests.command import run_cli

# (URL path, published as stated), recorded in this order: ids that say nothing of the time.
PAGES = (
    ("/morning", "2026-11-02T08:30:00+01:00"),  # 07:30 UTC
    ("/evening", "2026-11-02T23:30:00-05:00"),  # 04:30 UTC on the 3rd, still the 2nd where stated
    ("/later-morning", "2026-11-02T08:00:00Z"),  # after /morning, though it sorts before it as text
    ("/some-time", "2026-11-02"),  # a day alone: after the day's timed articles, oldest first
    ("/next-day", "2026-11-03T00:10:00+02:00"),  # the 3rd, though 22:10 UTC on the 2nd
)
NEWEST_FIRST = ["/next-day", "/evening", "/later-morning", "/morning", "/some-time"]
WORDS = ("harbour", "ferry", "regatta", "council", "quota")


@pytest.fixture
def catalogue(catalogue_url: str) -> str:
    catalogue = Catalogue(catalogue_url)
    for (path, published), word in zip(PAGES, WORDS, strict=True):
        catalogue.record_article("courier", f"https://courier.example{path}", Extracted(
            text=f"A story about the {word}, told at length. " * 5, title=word, authors=[], published=published,
            language="en", sitename=None, canonical_url=None, description=None))
    catalogue.close()
    return catalogue_url


def paths(urls: list[str]) -> list[str]:
    return [url.removeprefix("https://courier.example") for url in urls]


def test_the_cli_lists_a_days_articles_newest_first_by_their_time(catalogue: str) -> None:
    for order, expected in (("desc", NEWEST_FIRST), ("asc", NEWEST_FIRST[::-1])):
        listing = run_cli("--db", catalogue, "articles", "--sort", "published", "--order", order,
                          "--format", "csv", "--fields", "url")
        assert listing.returncode == 0, listing.stderr
        assert paths(listing.stdout.split()[1:]) == expected


def test_the_api_pages_through_them_in_that_order(catalogue: str, tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, db_url=catalogue))) as client:
        for order, expected in (("desc", NEWEST_FIRST), ("asc", NEWEST_FIRST[::-1])):
            seen, cursor = [], None
            while True:  # one article a page: every step goes through a cursor
                params = {"sort": "published", "order": order, "limit": 1, "fields": "url,published"}
                answer = client.get("/api/articles", params={**params, **({"cursor": cursor} if cursor else {})})
                assert answer.status_code == 200, answer.text
                body = answer.json()
                seen += [article["url"] for article in body["articles"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert paths(seen) == expected
