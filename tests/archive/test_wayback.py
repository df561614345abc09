"""The wayback scheme's timestamps, as pywb reads them."""

from __future__ import annotations

from datetime import datetime

import pytest

from archive.wayback import WaybackError, parse_timestamp


def test_timestamp_prefixes_are_padded_and_clamped_like_pywbs() -> None:
    assert parse_timestamp("2026") == datetime(2026, 1, 1)
    assert parse_timestamp("202611") == datetime(2026, 11, 1)
    assert parse_timestamp("20261105081503") == datetime(2026, 11, 5, 8, 15, 3)
    assert parse_timestamp("20260231") == datetime(2026, 2, 28)  # no 31 February
    assert parse_timestamp("20261399999999") == datetime(2026, 12, 31, 23, 59, 59)
    assert parse_timestamp("2026", pad_up=True) == datetime(2026, 12, 31, 23, 59, 59, 999999)
    assert parse_timestamp("20260211", pad_up=True) == datetime(2026, 2, 11, 23, 59, 59, 999999)
    for bad in ("", "2026-11-05", "202611050815031"):
        with pytest.raises(WaybackError, match="1 to 14 digits"):
            parse_timestamp(bad)
