"""CDX key ranges, as pywb computes them."""

from __future__ import annotations

import pytest

from sqlalchemy import text

from archive.catalogue.models import Capture
from archive.catalogue.store import Catalogue
from archive.warc.index import MATCH_TYPES, CaptureIndex, CaptureQueryError, search_range


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
