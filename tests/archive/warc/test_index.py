"""CDX key ranges, as pywb computes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from archive.catalogue.models import Capture
from archive.catalogue.store import Catalogue
from archive.warc.index import MATCH_TYPES, CaptureIndex, CaptureQueryError, search_range
from archive.warc.records import CaptureInfo


@pytest.mark.parametrize(("url", "match_type", "expected"), [
    # pywb's own doctests of calc_search_range
    ("http://example.com/path/file.html", "exact", ("com,example)/path/file.html", "com,example)/path/file.html!")),
    ("http://example.com/path/file.html", "prefix", ("com,example)/path/file.html", "com,example)/path/file.htmm")),
    ("http://example.com/path/", "prefix", ("com,example)/path/", "com,example)/path0")),
    ("http://example.com/path?", "prefix", ("com,example)/path?", "com,example)/path@")),
    ("http://example.com/path/file.html", "host", ("com,example)/", "com,example*")),
    ("http://example.com/path/file.html", "domain", ("com,example)/", "com,example-")),
])
def test_cdx_ranges_are_pywbs(url: str, match_type: str, expected: tuple[str, str]) -> None:
    assert search_range(url, match_type) == expected


def test_unknown_match_type_names_the_known_ones() -> None:
    with pytest.raises(CaptureQueryError, match="exact, prefix, host, domain"):
        search_range("http://example.com/", "everything")


@pytest.mark.parametrize("match_type", MATCH_TYPES)
def test_every_match_type_is_read_from_the_urlkey_index(catalogue_url: str, match_type: str) -> None:
    # A CDX query is a range of urlkeys in byte order. On PostgreSQL the column is in the "C"
    # collation (migration 0006), whatever the database's locale, so the (urlkey, timestamp)
    # index is in byte order and answers the range; before, the range had to be compared
    # COLLATE "C", which an index in the locale's collation cannot answer.
    catalogue = Catalogue(catalogue_url)
    query = CaptureIndex.matching("http://www.example.com/news/", match_type).order_by(Capture.urlkey,
                                                                                       Capture.timestamp)
    try:
        with catalogue.engine.connect() as connection:
            sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
            if connection.dialect.name == "postgresql":
                assert connection.execute(text(
                    "SELECT collation_name FROM information_schema.columns "
                    "WHERE table_name = 'captures' AND column_name = 'urlkey'")).scalar() == "C"
                connection.execute(text("SET enable_seqscan = off"))  # an empty table: would a scan be needed?
                plan = "\n".join(connection.execute(text("EXPLAIN " + sql)).scalars())
            else:
                plan = "\n".join(str(row[-1]) for row in connection.execute(text("EXPLAIN QUERY PLAN " + sql)))
    finally:
        catalogue.close()
    assert "ix_captures_urlkey_timestamp" in plan, plan


def _capture(url: str, when: datetime, offset: int) -> CaptureInfo:
    return CaptureInfo(url=url, timestamp=when, status=200, mime="text/html", record_type="response",
                       warc_file="news-20260101000000-00000.warc.gz", offset=offset, length=100,
                       payload_digest=f"sha1:{offset:032d}", refers_to_url=None, refers_to_date=None)


def test_a_url_with_or_without_trackers_finds_the_same_capture(catalogue_url: str) -> None:
    """pywb-style fuzzy matching: tracking parameters do not make another page."""
    catalogue = Catalogue(catalogue_url)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    tracked = "http://news.example/2026/story.html?id=7&utm_source=rss&utm_medium=feed"
    catalogue.add_capture(None, _capture(tracked, when, 1))  # archived by an older crawl, trackers and all
    catalogue.add_capture(None, _capture("http://news.example/2026/story.html?id=8", when, 2))  # another page
    catalogue.add_capture(None, _capture("http://news.example/2026/clean.html", when, 3))
    index = CaptureIndex(catalogue)
    try:
        def found(url: str) -> int | None:
            closest = index.closest(url, when.replace(tzinfo=None))
            return closest.capture.warc_offset if closest else None

        assert found("http://news.example/2026/story.html?id=7") == 1
        assert found("http://news.example/2026/story.html?fbclid=abc&id=7") == 1
        assert found("http://news.example/2026/story.html?id=8&utm_campaign=x") == 2
        assert found("http://news.example/2026/clean.html?utm_source=home") == 3
        assert found("http://news.example/2026/story.html?id=9") is None  # another id is another page
    finally:
        catalogue.close()
