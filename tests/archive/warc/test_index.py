"""Timestamps and CDX key ranges, as pywb reads and computes them."""

from __future__ import annotations

from datetime import datetime

import pytest

from archive.warc.index import CaptureQueryError, parse_timestamp, search_range


def test_timestamp_prefixes_are_padded_and_clamped_like_pywbs() -> None:
    assert parse_timestamp("2026") == datetime(2026, 1, 1)
    assert parse_timestamp("202611") == datetime(2026, 11, 1)
    assert parse_timestamp("20261105081503") == datetime(2026, 11, 5, 8, 15, 3)
    assert parse_timestamp("20260231") == datetime(2026, 2, 28)  # no 31 February
    assert parse_timestamp("20261399999999") == datetime(2026, 12, 31, 23, 59, 59)
    assert parse_timestamp("2026", pad_up=True) == datetime(2026, 12, 31, 23, 59, 59, 999999)
    assert parse_timestamp("20260211", pad_up=True) == datetime(2026, 2, 11, 23, 59, 59, 999999)
    for bad in ("", "2026-11-05", "202611050815031"):
        with pytest.raises(CaptureQueryError, match="1 to 14 digits"):
            parse_timestamp(bad)


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
