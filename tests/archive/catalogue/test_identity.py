"""Which article a page is: trusted canonicals, syndicated copies, the original of a story, its time."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from archive.catalogue.store import Catalogue
from archive.extract.article import Extracted
from archive.query.articles import get_article
from archive.query.search import ArticleQuery, search_page
from tests.archive.catalogue.test_store import BODY, OTHER

PUBLISHER = "https://www.courier.example/2026/11/02/harbour-budget.html"
PARTNER = "https://wire.partner.example/world/harbour-budget-123"
AGGREGATOR = "https://news.aggregator.example/item/9876"


def page(published: str, canonical: str | None = None, text: str = BODY, title: str = "Harbour budget") -> Extracted:
    return Extracted(text=text, title=title, authors=["A. Writer"], published=published, language="en",
                     sitename="Courier", canonical_url=canonical, description=None)


@pytest.fixture
def catalogue(catalogue_url: str) -> Catalogue:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


def articles(catalogue: Catalogue, **query) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {a["url"]: a for a in search_page(catalogue, ArticleQuery(sort="first_seen", **query)).articles}


def test_a_partner_page_naming_the_publisher_is_a_copy_not_a_new_version(catalogue: Catalogue) -> None:
    original = catalogue.record_article("courier", PUBLISHER, page("2026-11-02T08:30:00+01:00", PUBLISHER),
                                        home_hosts=["www.courier.example"])
    # The partner reworded the title and names the publisher's article as its canonical.
    copy = catalogue.record_article("wire", PARTNER, page("2026-11-02T11:00:00+01:00", PUBLISHER,
                                                          title="Harbour budget voted (wire)"),
                                    home_hosts=["wire.partner.example"])
    assert copy.status == "duplicate" and copy.duplicate_of == original.article_id != copy.article_id
    found = articles(catalogue)
    assert found[PUBLISHER]["title"] == "Harbour budget" and found[PUBLISHER]["versions"] == 1
    assert found[PARTNER]["canonical_url"] == PARTNER  # its own identity, not the publisher's
    assert found[PARTNER]["story_id"] == found[PUBLISHER]["story_id"] == original.article_id


def test_another_sites_canonical_over_a_different_text_is_its_own_article(catalogue: Catalogue) -> None:
    catalogue.record_article("courier", PUBLISHER, page("2026-11-02", PUBLISHER))
    other = catalogue.record_article("wire", PARTNER, page("2026-11-02", PUBLISHER, text=OTHER))
    assert other.status == "new" and other.duplicate_of is None


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_original_is_the_earliest_published_whatever_the_crawl_order(catalogue: Catalogue, order) -> None:  # type: ignore[no-untyped-def]
    pages = [  # the publisher's own page, published first; a partner's and an aggregator's copies
        ("courier", PUBLISHER, page("2026-11-02T08:30:00+01:00", PUBLISHER), ["www.courier.example"]),
        ("wire", PARTNER, page("2026-11-02T09:05:00+01:00", PUBLISHER), ["wire.partner.example"]),
        ("aggregator", AGGREGATOR, page("2026-11-02T08:00:00Z"), ["news.aggregator.example"]),
    ]
    outcomes = []
    for index in order:
        source, url, extracted, hosts = pages[index]
        outcomes.append(catalogue.record_article(source, url, extracted, home_hosts=hosts).status)
    assert sorted(outcomes) == ["duplicate", "duplicate", "new"]  # a run's figures, whatever the order
    found = articles(catalogue)
    # 08:00Z is 09:00+01:00: later than the publisher's 08:30+01:00, earlier than the wire's 09:05.
    assert found[PUBLISHER]["duplicate_of"] is None
    assert found[PARTNER]["duplicate_of"] == found[AGGREGATOR]["duplicate_of"] == found[PUBLISHER]["id"]
    assert len({a["story_id"] for a in found.values()}) == 1
    story = articles(catalogue, story=found[PUBLISHER]["story_id"])
    assert set(story) == {PUBLISHER, PARTNER, AGGREGATOR}
    detail = get_article(catalogue, found[PARTNER]["id"])
    # earliest published first, by the instant (published_at strings in other zones sort otherwise)
    assert [(m["url"], m["original"]) for m in detail["story"]] == [(PUBLISHER, True), (AGGREGATOR, False)]


def test_at_the_same_time_the_page_at_home_is_the_original(catalogue: Catalogue) -> None:
    catalogue.record_article("wire", PARTNER, page("2026-11-02", PUBLISHER), home_hosts=["wire.partner.example"])
    catalogue.record_article("courier", PUBLISHER, page("2026-11-02", PUBLISHER), home_hosts=["www.courier.example"])
    found = articles(catalogue)
    assert found[PUBLISHER]["duplicate_of"] is None
    assert found[PARTNER]["duplicate_of"] == found[PUBLISHER]["id"]


def test_published_keeps_the_time_and_zone_the_page_states(catalogue: Catalogue) -> None:
    catalogue.record_article("courier", PUBLISHER, page("2026-11-02T23:30:00-05:00"))
    catalogue.record_article("courier", PUBLISHER.replace("harbour", "ferry"), page("2026-11-01", text=OTHER))
    found = articles(catalogue)
    assert found[PUBLISHER]["published"] == "2026-11-02T23:30:00-05:00"
    assert found[PUBLISHER.replace("harbour", "ferry")]["published"] == "2026-11-01"
    # Filters go by the day the page states (its own calendar), not the UTC one.
    assert list(articles(catalogue, since=date(2026, 11, 2))) == [PUBLISHER]



def test_the_migration_gives_existing_articles_their_story_and_day(catalogue_url: str) -> None:
    """Articles catalogued before published_at and story_id existed keep their day and copies."""
    from sqlalchemy import text

    from archive.catalogue.database import upgrade_schema
    from tests.conftest import schema_at

    old = Catalogue(catalogue_url, migrate=False)
    with schema_at(old.engine, "0004") as connection:  # as the release before this migration left it
        connection.execute(text("INSERT INTO sources (id, name, created) VALUES (1, 'courier', '2026-11-02')"))
        for id_, original in ((1, None), (2, 1)):
            connection.execute(text(
                "INSERT INTO articles (id, source_id, canonical_url, url, authors, published, text, content_hash,"
                " duplicate_of, first_seen, last_seen, versions_count) VALUES (:id, 1, :url, :url, '[]',"
                " '2026-11-02', 'text', 'h', :original, '2026-11-02', '2026-11-02', 1)"),
                {"id": id_, "url": f"https://courier.example/{id_}", "original": original})
    upgrade_schema(old.engine)
    old.close()
    catalogue = Catalogue(catalogue_url, read_only=True)
    found = articles(catalogue)
    assert [(a["published"], a["story_id"]) for a in found.values()] == [("2026-11-02", 1), ("2026-11-02", 1)]
    catalogue.close()
