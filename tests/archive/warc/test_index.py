"""CDX key ranges, as pywb computes them."""

from __future__ import annotations

import pytest

from archive.warc.index import CaptureQueryError, search_range


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
